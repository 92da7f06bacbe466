"""Small helpers that the chapter notebooks call (figures and processing), one section per chapter.

Figures are checked by structure (axes, titles, labels, what was drawn), then closed.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import ecgtut  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- chapter 01


@pytest.mark.parametrize("offset", [0.0, -3.0])
def test_plot_record_labels_sit_above_the_trace_whatever_its_sign(offset):
    from ecgtut.data import Annotations

    x = np.sin(np.arange(720) / 50) + offset  # from offset - 1 to offset + 1 mV
    ann = Annotations(np.array([100, 400]), np.array(["N", "V"]), 360.0)
    ax = ecgtut.plot_record(x, 360, ann, duration=2)
    heights = [t.get_position()[1] for t in ax.texts]
    assert min(heights) > x.max() and ax.get_ylim()[1] > max(heights)


# ----------------------------------------------------------------------------- chapter 03


def _spans(ax):
    """(x0, x1, rgba) of each axvspan rectangle of ``ax``."""
    out = []
    for p in ax.patches:
        xy = np.asarray(p.get_xy()) if hasattr(p, "get_xy") else None
        if xy is not None and xy.ndim == 2:  # Polygon (matplotlib < 3.9)
            out.append((xy[:, 0].min(), xy[:, 0].max(), p.get_facecolor()))
        else:  # Rectangle
            out.append((p.get_x(), p.get_x() + p.get_width(), p.get_facecolor()))
    return out


def test_plot_beat_windows_shades_kept_and_dropped_windows():
    fs, x = 360, np.zeros(3600)  # 10 s
    r = np.array([36, 1800, 3500])  # 0.1 s: crosses the start; 5 s: inside; 9.72 s: crosses the end
    ax = ecgtut.plot_beat_windows(x, fs, r, start=0, duration=10, highlight=[0, 1, 2])
    spans = _spans(ax)
    assert len(spans) == 3
    assert np.allclose([s[:2] for s in spans], [(0.1 - 0.4, 0.6), (4.6, 5.5), (3500 / fs - 0.4,
                                                                            3500 / fs + 0.5)])
    green, red = matplotlib.colors.to_rgb("tab:green"), matplotlib.colors.to_rgb("tab:red")
    assert [tuple(np.round(s[2][:3], 3)) for s in spans] == [
        tuple(np.round(c, 3)) for c in (red, green, red)]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["R peak", "window past the record end: dropped", "window kept"]
    assert ax.get_xlim()[0] <= -0.3 and ax.get_xlim()[1] >= 3500 / fs + 0.5  # windows shown whole
    texts = [t.get_text() for t in ax.texts]
    assert "0.4 s\n144 samples" in texts and "0.5 s\n180 samples" in texts
    assert ax.get_xlabel() == "time (s)"


def test_plot_beat_windows_marks_only_peaks_in_the_stretch():
    x = np.sin(np.arange(3600) / 50)
    ax = ecgtut.plot_beat_windows(x, 360, np.array([100, 500, 3000]), duration=2)
    peaks = ax.lines[1]
    assert np.allclose(peaks.get_xdata(), np.array([100, 500]) / 360)
    assert not ax.patches


def test_plot_beat_versions_time_axis_and_sample_axis():
    x324 = np.sin(np.linspace(0, 3, 324))
    x251 = np.sin(np.linspace(0, 3, 251))
    ax = ecgtut.plot_beat_versions({"a": x324, "b": x251}, before=0.4, after=0.5)
    t_a, t_b = ax.lines[0].get_xdata(), ax.lines[1].get_xdata()
    assert t_a[0] == t_b[0] == pytest.approx(-0.4)
    assert t_a[1] == pytest.approx(1 / 360 - 0.4) and t_b[1] == pytest.approx(0.9 / 251 - 0.4)
    assert ax.get_legend_handles_labels()[1] == ["a (324 samples)", "b (251 samples)"]
    ax = ecgtut.plot_beat_versions({"a": x251})
    assert np.array_equal(ax.lines[0].get_xdata(), np.arange(251))
    assert ax.get_xlabel() == "sample of the input"


def test_plot_beat_matrix_rows_and_class_strip():
    X = np.random.default_rng(0).normal(size=(20, 251))
    aami = np.array(list("NV") * 10)
    ax = ecgtut.plot_beat_matrix(X, aami)
    (im,) = ax.images
    assert im.get_array().shape == (20, 251)
    assert len(ax.patches) == 20  # one strip cell per beat
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["N", "V"]
    assert ax.get_xlim()[1] == pytest.approx(0.5) and ax.get_xlim()[0] < -0.4
    assert ecgtut.plot_beat_matrix(X).get_legend() is None


def test_plot_class_by_record_counts_and_groups():
    record = np.array(["100", "100", "101", "102", "102", "102"])
    aami = np.array(["S", "V", "S", "S", "S", "N"])
    axes = ecgtut.plot_class_by_record(record, aami, groups={"A": ["101", "102"], "B": ["100"]})
    assert len(axes) == 2
    assert [p.get_height() for p in axes[0].patches] == [1, 2, 1]  # S in 101, 102, 100
    assert [p.get_height() for p in axes[1].patches] == [0, 0, 1]  # V
    assert axes[0].get_title() == "S beats per record (4 in all)"
    assert [t.get_text() for t in axes[0].texts] == ["A: 3", "B: 1"]
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == ["101", "102", "100"]
    axes = ecgtut.plot_class_by_record(record, aami, classes=("N",))
    assert [p.get_height() for p in axes[0].patches] == [0, 0, 1] and not axes[0].texts


def test_plot_class_by_record_on_the_beat_set(beats):
    axes = ecgtut.plot_class_by_record(beats.record, beats.aami,
                                       groups={"DS1": ecgtut.DS1, "DS2": ecgtut.DS2})
    heights = [p.get_height() for p in axes[0].patches]
    assert len(heights) == 44 and sum(heights) == beats.counts()["S"]
    assert max(heights) == np.sum((beats.record == "232") & (beats.aami == "S"))


# ----------------------------------------------------------------------------- chapter 04


def test_lr_schedule_matches_what_fit_records():
    lrs = ecgtut.lr_schedule("fast", steps_per_epoch=10)
    assert lrs.shape == (10 * ecgtut.RECIPES["fast"]["epochs"],)  # every step of every epoch
    peak = ecgtut.RECIPES["fast"]["lr"]
    assert lrs.max() == pytest.approx(peak) and lrs[0] == pytest.approx(peak / 25)
    assert 0.25 < np.argmax(lrs) / len(lrs) < 0.35  # one-cycle: warm up over 30 % of the steps
    assert np.all(np.diff(lrs[np.argmax(lrs):]) <= 0) and lrs[-1] < 1e-6
    assert np.allclose(ecgtut.lr_schedule("writeup", steps_per_epoch=3, epochs=2), 1e-3)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 251)).astype("float32"), np.arange(80) % 2
    net = ecgtut.MultiScaleCNN(n_classes=2)
    _, history = ecgtut.fit(net, X[:64], y[:64], X[64:], y[64:], epochs=2, batch_size=16,
                            progress=False)  # 4 steps per epoch
    lrs = ecgtut.lr_schedule("fast", steps_per_epoch=4, epochs=2)
    assert history["lr"][0] == pytest.approx(lrs[4])  # the rate after epoch 1 = that of step 4


def test_plot_model_diagram_follows_the_model():
    ax = ecgtut.plot_model_diagram()
    assert len(ax.patches) == 17  # input, 3 x (conv, pool, conv, pool), concat, 3 FC layers
    texts = [t.get_text() for t in ax.texts]
    assert "concat +\nflatten\n2768" in texts and "max-pool 2\n16 × 59" in texts
    assert "conv k=10\n+ ReLU\n16 × 113" in texts and "FC 4\n(logits)" in texts
    assert "720,508 parameters" in ax.get_title()
    ax = ecgtut.plot_model_diagram(ecgtut.MultiScaleCNN(n_classes=5, n_features=2))
    texts = [t.get_text() for t in ax.texts]
    assert "concat +\nflatten\n2768\n+ 2\nfeatures" in texts and "FC 5\n(logits)" in texts


def test_plot_receptive_fields_bars_centred_on_the_r_peak():
    rf = ecgtut.receptive_fields()
    ax = ecgtut.plot_receptive_fields(np.sin(np.linspace(0, 6, 251)), rf)
    bars = ax.lines[1:4]
    assert [b.get_xdata()[1] - b.get_xdata()[0] for b in bars] == pytest.approx(
        [1000 * n * 0.9 / 251 for n in (17, 23, 29)])
    assert all(b.get_xdata()[0] == -b.get_xdata()[1] for b in bars)
    assert ax.lines[0].get_xdata()[0] == pytest.approx(-400)  # time axis in ms
    assert "k = 4, 6: 17 samples = 61 ms" in [t.get_text() for t in ax.texts]


def test_plot_normalized_beats_one_panel_per_normalisation():
    X = np.random.default_rng(0).normal(size=(3, 251)) * [[1], [2], [5]]
    Z = {how: ecgtut.normalize_beats(X, how) for how in ("center", "zscore")}
    axes = ecgtut.plot_normalized_beats(X, Z, ["a", "b", "c"])
    assert len(axes) == 3 and axes[0].get_ylabel() == "mV"
    assert axes[2].get_ylabel() == "standard deviations"
    beats = [ln for ln in axes[2].lines if len(ln.get_ydata()) == 251]
    assert len(beats) == 3 and np.allclose(beats[2].get_ydata(), Z["zscore"][2])
    assert beats[0].get_xdata()[0] == pytest.approx(-0.4)


def test_plot_augmented_beats_copies_and_zoom():
    x = np.exp(-np.linspace(-20, 30, 251) ** 2).astype(np.float32)
    copies = ecgtut.augment_beats(np.tile(x, (4, 1)), generator=torch.Generator().manual_seed(0))
    axes = ecgtut.plot_augmented_beats(x, copies, zoom=0.05)
    beats = [ln for ln in axes[0].lines if len(ln.get_ydata()) == 251]
    assert len(beats) == 5 and np.array_equal(beats[-1].get_ydata(), x)  # the original on top
    assert np.allclose(beats[0].get_ydata(), copies[0])
    assert axes[1].get_xlim() == pytest.approx((-0.05, 0.05))
    assert beats[0].get_xdata()[0] == pytest.approx(-0.4)


def test_plot_split_counts_shares_and_bars():
    splits = {"train": np.array([0] * 9 + [1]), "test": np.array([0, 0, 0, 1, 2])}
    ax = ecgtut.plot_split_counts(splits, ("N", "S", "V"), log=False)
    assert [p.get_height() for p in ax.patches] == [9, 1, 0, 3, 1, 1]
    assert [t.get_text() for t in ax.texts] == ["90.0 %", "10.0 %", "0.0 %", "60.0 %",
                                                "20.0 %", "20.0 %"]
    assert ax.get_legend_handles_labels()[1] == ["train (10 beats)", "test (5 beats)"]


def test_plot_lr_schedule_x_axis_in_epochs():
    lrs = ecgtut.lr_schedule("fast", steps_per_epoch=5, epochs=2)
    ax = ecgtut.plot_lr_schedule(lrs, 5, {"epoch": [1, 2], "lr": [lrs[5], 0.0]})
    assert np.allclose(ax.lines[0].get_xdata(), np.arange(10) / 5)
    assert np.allclose(ax.lines[1].get_xdata(), [1, 2]) and ax.lines[1].get_ydata()[0] == lrs[5]
    assert len(ecgtut.plot_lr_schedule(lrs, 5).lines) == 1


def test_plot_confidence_counts_right_and_wrong():
    proba = np.array([[0.9, 0.05, 0.05], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    ax = ecgtut.plot_confidence(proba, np.array([0, 1, 1, 2]), bins=4)
    assert ax.get_legend_handles_labels()[1] == ["right (3 beats)", "wrong (1 beats)"]
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == 4 and len(heights) == 8  # 4 bins for right, 4 for wrong
    assert ax.patches[0].get_x() == pytest.approx(1 / 3)  # bins start at 1 / n_classes


# ----------------------------------------------------------------------------- chapter 05


def _fake_cv(classes=("N", "S")):
    """A cross_validate-like dict of two folds, without training anything."""
    f1 = ecgtut.classification_metrics([0, 1, 1, 0], [0, 1, 1, 0], classes)
    f2 = ecgtut.classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], classes)
    return {"classes": list(classes), "folds": [dict(f1, fold=1, best_epoch=3),
                                                dict(f2, fold=2, best_epoch=1)]}


def test_stratified_subsample_keeps_ratios_and_rare_classes():
    y = np.array([0] * 9000 + [1] * 900 + [2] * 90 + [3] * 10)
    assert np.array_equal(ecgtut.stratified_subsample(y), np.arange(len(y)))  # n=None: all
    keep = ecgtut.stratified_subsample(y, 1000, seed=1)
    assert np.all(np.diff(keep) > 0)  # sorted, no repeats
    assert np.bincount(y[keep]).tolist() == [900, 90, 20, 10]  # floor 20, or all of a class
    assert np.array_equal(keep, ecgtut.stratified_subsample(y, 1000, seed=1))


def test_fold_class_counts_stratified_vs_plain():
    y = np.repeat(np.arange(3), [500, 50, 7])
    strat = ecgtut.fold_class_counts(y, folds=5, seed=0)
    assert strat.shape == (5, 3) and np.array_equal(strat.sum(axis=0), [500, 50, 7])
    assert np.all(strat[:, :2] == [100, 10]) and set(strat[:, 2]) <= {1, 2}
    plain = ecgtut.fold_class_counts(y, folds=5, seed=0, stratified=False)
    assert np.array_equal(plain.sum(axis=0), [500, 50, 7]) and np.all(plain.sum(axis=1) >= 111)
    assert ecgtut.fold_class_counts(y, folds=5, n_classes=4).shape == (5, 4)


def test_format_fold_table_rows_mean_std_and_undefined():
    lines = ecgtut.format_fold_table(_fake_cv()).splitlines()
    assert [ln.split()[0] for ln in lines] == ["fold", "1", "2", "mean", "std"]
    assert lines[1].split() == ["1", "100.00", "%", "1.000", "1.000/1.000", "1.000/1.000", "3"]
    assert lines[3].split()[1:3] == ["87.50", "%"] and lines[4].split()[1] == "17.68"
    cv = {"classes": ["N", "S"], "folds": [
        dict(ecgtut.classification_metrics([0, 1], [0, 0], ("N", "S")), fold=1)]}
    assert "0.000/—" in ecgtut.format_fold_table(cv).splitlines()[1]  # S never predicted


def test_selection_optimism_grows_with_looks_and_shrinks_with_beats():
    gain = ecgtut.selection_optimism(0.99, 20000, n_checks=50, n_sim=4000)
    assert gain.shape == (50,) and abs(gain[0]) < 2e-5
    assert np.all(np.diff(gain) >= 0)  # a running maximum never decreases
    sigma = np.sqrt(0.99 * 0.01 / 20000)
    assert gain[1] == pytest.approx(sigma / np.sqrt(np.pi), rel=0.1)  # E max of 2 normals
    assert ecgtut.selection_optimism(0.99, 1000, n_checks=50)[-1] > 3 * gain[-1]


def test_same_record_neighbours_finds_the_patient():
    rng = np.random.default_rng(0)
    shapes = {"a": np.sin(np.linspace(0, 6, 251)), "b": np.cos(np.linspace(0, 9, 251))}
    rec = np.array(["a"] * 30 + ["b"] * 10)
    X = np.stack([shapes[r] + rng.normal(0, 0.05, 251) for r in rec])
    same, chance = ecgtut.same_record_neighbours(X[::2], rec[::2], X[1::2], rec[1::2])
    assert same.shape == (20,) and same.all()
    assert np.allclose(chance, np.where(rec[1::2] == "a", 0.75, 0.25))
    same, chance = ecgtut.same_record_neighbours(X[rec == "a"], rec[rec == "a"],
                                                 X[rec == "b"], rec[rec == "b"])
    assert not same.any() and np.all(chance == 0)  # inter-patient: never the same record


def test_plot_kfold_scheme_rows_and_test_folds():
    ax = ecgtut.plot_kfold_scheme(folds=4, val_fraction=0.1)
    assert len(ax.patches) == 12  # training, test and validation bar per round
    tests = [p for p in ax.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:red")]
    assert sorted(p.get_x() for p in tests) == pytest.approx([0, 0.25, 0.5, 0.75])
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"round {k}" for k in (4, 3, 2, 1)]
    assert "4-fold" in ax.get_title()


def test_plot_fold_class_shares_ratio_bars():
    counts = np.array([[90, 10], [80, 20]])  # overall shares 85 % and 15 %
    ax = ecgtut.plot_fold_class_shares(counts, ("N", "S"), ymax=2)
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.9 / 0.85, 0.1 / 0.15, 0.8 / 0.85, 0.2 / 0.15])
    assert ax.get_ylim() == (0, 2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N\n85 % of all", "S\n15 % of all"]


def test_plot_fold_scores_dots_per_fold():
    cv = _fake_cv()
    ax = ecgtut.plot_fold_scores(cv)
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["accuracy", "macro F1", "N Se", "S Se", "N +P", "S +P"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(dots) == 6 and np.allclose(dots[0].get_ydata(), [1.0, 0.75])
    assert "2 folds" in ax.get_title()


def test_plot_selection_optimism_in_points():
    ax = ecgtut.plot_selection_optimism({"x": np.array([0.0, 0.001, 0.002])})
    assert np.allclose(ax.lines[0].get_ydata(), [0, 0.1, 0.2])
    assert np.allclose(ax.lines[0].get_xdata(), [1, 2, 3]) and ax.get_xscale() == "log"


def test_plot_same_record_neighbours_bars_in_percent():
    same = np.array([True, True, False, True])
    chance = np.array([0.1, 0.1, 0.3, 0.3])
    ax = ecgtut.plot_same_record_neighbours(same, chance, np.array(["N", "N", "V", "V"]))
    assert [p.get_height() for p in ax.patches] == pytest.approx([100, 50, 10, 30])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "V"]
    assert [t.get_text() for t in ax.texts] == ["100 %", "50 %"]
