"""The figures of ``ecgtut.plots``, checked by structure on small synthetic inputs.

No database: every input is built here. Each test looks at what was drawn
(panels, lines, patches, texts, titles, labels), then the figures are closed.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

import ecgtut as et  # noqa: E402
import ecgtut.plots as plots  # noqa: E402
from ecgtut.beats import DEFAULT_WINDOW, BeatWindow  # noqa: E402
from ecgtut.data import Annotations  # noqa: E402
from ecgtut.denoise import power_spectrum, wavelet_bands  # noqa: E402

FS = 360
PLOTTERS = [name for name in plots.__all__ if name.startswith("plot_")]
LAYOUT = {
    "data": ["plot_record", "plot_class_counts"],
    "denoise": ["plot_wavelet_bands", "plot_denoising", "plot_spectrum", "plot_wavelet",
                "plot_frequency_response"],
    "beats": ["plot_beat_anatomy", "plot_beats", "plot_class_means", "plot_beat_windows",
              "plot_beat_versions", "plot_beat_matrix", "plot_class_by_record"],
    "model": ["plot_model_diagram", "plot_receptive_fields", "plot_normalized_beats",
              "plot_augmented_beats"],
    "train": ["plot_split_counts", "plot_lr_schedule", "plot_learning_curves"],
    "metrics": ["plot_confusion", "plot_misclassified", "plot_confidence"],
    "crossval": ["plot_kfold_scheme", "plot_fold_class_shares", "plot_fold_scores"],
    "pitfalls": ["plot_selection_pitfall", "plot_selection_optimism",
                 "plot_same_record_neighbours"],
    "patients": ["plot_ds1_settings", "plot_s_threshold", "plot_intra_vs_inter",
                 "plot_per_record", "plot_anchor_comparison", "plot_decision_grid",
                 "plot_bootstrap", "plot_relative_beats"],
    "features": ["plot_rr_tachogram", "plot_rr_scatter"],
    "detect": ["plot_detector_stages", "plot_detection_errors"],
    "classify": ["plot_classified"],
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rgb(color):
    return tuple(np.round(to_rgb(color), 3))


def _beat(n=251, window=DEFAULT_WINDOW):
    t = window.times(n)
    return np.exp(-(t / 0.02) ** 2) - 0.2 * np.exp(-((t - 0.25) / 0.05) ** 2)


def _fold(acc, f1, se_n, ppv_n, se_s, ppv_s):
    return {"accuracy": acc, "macro_f1": f1,
            "per_class": {"N": {"se": se_n, "ppv": ppv_n}, "S": {"se": se_s, "ppv": ppv_s}}}


def _cv():
    """A cross_validate-like dict of three folds; S's +P is undefined in all of them."""
    return {"classes": ["N", "S"], "folds": [_fold(1.0, 1.0, 1.0, 1.0, 1.0, None),
                                             _fold(0.75, 0.7, 1.0, 0.7, 0.5, np.nan),
                                             _fold(0.8, 0.6, None, 0.8, 0.4, None)]}


def _stages(x):
    from ecgtut.detect import pan_tompkins_stages

    return pan_tompkins_stages(x, FS)


def _ip(x):
    """An interpatient-like result: every score ``x``, 3 beats of each class."""
    return {"accuracy": x, "score": x,
            "per_class": {c: {"se": x, "ppv": x, "f1": x, "support": 3} for c in "NSVF"}}


def _inputs():
    """One small call per plotter: name -> (args, kwargs, number of panels or None)."""
    rng = np.random.default_rng(0)
    x = np.sin(np.arange(3600) / 50)
    X = _beat() + 0.05 * rng.normal(size=(6, 251))
    bands = wavelet_bands(rng.normal(size=2000), fs=FS, level=3)
    waves = dict(P_on=100, P=140, Q=260, R=300, S=340, T=550, T_off=700, R_next=1100)
    rf = [{"kernels": (4, 6), "samples": 17, "ms": 61.0}]
    history = {"train_loss": [0.5, 0.3], "val_loss": [0.4, 0.35], "train_acc": [0.8, 0.9],
               "val_acc": [0.85, 0.88], "best_epoch": 2}
    y_true, y_pred = np.array([0, 0, 1, 1, 2, 2]), np.array([1, 0, 0, 1, 2, 0])
    return {
        "plot_record": ((x, FS), {"duration": 2}, None),
        "plot_class_counts": (({"N": 90, "V": 7},), {}, None),
        "plot_wavelet_bands": ((bands, FS), {}, 4),
        "plot_denoising": ((x + 0.1, x, FS), {}, None),
        "plot_spectrum": (({"x": x},), {"fs": FS}, None),
        "plot_wavelet": (("db4",), {}, 2),
        "plot_frequency_response": ((np.array([1.0, 10, 100]), {"a": np.ones(3)}), {}, None),
        "plot_beat_anatomy": ((np.sin(np.arange(1200) / 100), 1000, waves), {}, None),
        "plot_beats": ((X,), {}, None),
        "plot_class_means": ((X, np.array(list("NNNVVS"))), {"classes": ("N", "S", "V")}, 3),
        "plot_beat_windows": ((x, np.array([100, 500]), FS), {"duration": 2}, None),
        "plot_beat_versions": (({"a": X[0]},), {}, None),
        "plot_beat_matrix": ((X,), {}, None),
        "plot_class_by_record": ((np.array(["100", "101"]), np.array(["S", "V"])), {}, 2),
        "plot_model_diagram": ((), {}, None),
        "plot_receptive_fields": ((X[0], rf), {}, None),
        "plot_normalized_beats": ((X[:2], {"zscore": X[:2] / 2}), {}, 2),
        "plot_augmented_beats": ((X[0], X[1:3]), {}, 2),
        "plot_split_counts": (({"train": np.array([0, 0, 1])}, "NS"), {}, None),
        "plot_lr_schedule": ((np.array([1.0, 0.5]), 1), {}, None),
        "plot_learning_curves": ((history,), {}, 2),
        "plot_confusion": ((np.array([[8, 2], [1, 9]]), ["N", "V"]), {}, None),
        "plot_misclassified": ((X, y_true, y_pred, "NSV"), {"n": 3}, 3),
        "plot_confidence": ((np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 0])), {}, None),
        "plot_kfold_scheme": ((3,), {}, None),
        "plot_fold_class_shares": (([[9, 1], [8, 2]], "NV"), {}, None),
        "plot_fold_scores": ((_cv(),), {}, None),
        "plot_selection_pitfall": (({"val_selected": [0.9], "test_selected": [0.95]},), {}, None),
        "plot_selection_optimism": (({"a": [0.0, 0.01]},), {}, None),
        "plot_same_record_neighbours": ((np.array([True, False]), np.full(2, 0.5),
                                         np.array(["N", "V"])), {}, None),
        "plot_ds1_settings": (({"a": _ip(0.5), "b": _ip(0.7)},), {}, None),
        "plot_s_threshold": (({0.1: 0.2, 0.5: 0.4},), {"chosen": 0.5}, None),
        "plot_intra_vs_inter": ((_ip(0.9), _ip(0.4)), {}, None),
        "plot_per_record": (({"100": _ip(0.5), "101": _ip(0.8)},), {}, 2),
        "plot_anchor_comparison": (({"a": _ip(0.6)}, {"x": {"S": (70, 40), "V": (80, 80)}}),
                                   {"targets": {"S": (80, 50), "V": (90, 90)}}, 2),
        "plot_decision_grid": (({(0.0, 1.0): 0.4, (0.5, 1.0): 0.6},), {"chosen": (0.5, 1.0)},
                               None),
        "plot_bootstrap": (({"a": {**_ip(0.6), "bootstrap": {c: {"se": (0.5, 0.7),
                                                                 "ppv": (0.4, 0.8)}
                                                             for c in "SV"}}},), {}, 2),
        "plot_relative_beats": ((X, X - X.mean(0), np.array(list("NNNSVV"))), {}, 2),
        "plot_rr_tachogram": ((np.array([0, 360, 600, 1080]), FS, np.array(list("NNSN"))), {},
                              None),
        "plot_rr_scatter": ((np.abs(np.random.default_rng(0).normal(1, 0.2, (6, 5))),
                             np.array(list("NNNSSV"))), {}, None),
        "plot_detector_stages": ((x, _stages(x), np.array([100, 500])),
                                 {"reference": np.array([101]), "duration": 2}, 5),
        "plot_detection_errors": (({"100": {"fn": 0, "fp": 1}, "203": {"fn": 5, "fp": 2}},), {},
                                  None),
        "plot_classified": ((x, FS, np.array([100, 500]), np.array(["N", "V"])), {}, None),
    }


PANELS = {name: panels for name, (_, _, panels) in _inputs().items()}


# ----------------------------------------------------------------------------- the convention


def test_all_re_exports_every_plotter_once_by_stage():
    assert plots.__all__[0] == "CLASS_COLORS" and len(set(plots.__all__)) == len(plots.__all__)
    assert sorted(PLOTTERS) == sorted(n for names in LAYOUT.values() for n in names)
    assert PLOTTERS == [n for names in LAYOUT.values() for n in names]  # in course order
    assert set(PANELS) == set(PLOTTERS)
    for stage, names in LAYOUT.items():
        module = __import__(f"ecgtut.plots.{stage}", fromlist=["__all__"])
        assert module.__all__ == names
        for name in names:
            assert getattr(plots, name) is getattr(module, name)
            assert getattr(module, name).__module__ == f"ecgtut.plots.{stage}"


def test_top_level_package_finds_the_plotters():
    import ecgtut

    assert ecgtut.plot_record is plots.plot_record and ecgtut.CLASS_COLORS is plots.CLASS_COLORS


def test_importing_plots_pulls_neither_torch_nor_seaborn():
    code = ("import sys, ecgtut.plots; "
            "print([m for m in ('torch', 'seaborn', 'pandas', 'sklearn') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", PLOTTERS)
def test_options_are_keyword_only_and_title_is_accepted(name):
    params = inspect.signature(getattr(plots, name)).parameters
    assert "title" in params
    assert ("ax" in params) != ("axes" in params)  # one panel or several, never both
    for p in params.values():
        if p.name in ("ax", "axes", "title", "window"):
            assert p.kind is inspect.Parameter.KEYWORD_ONLY, p.name
            if p.name != "window":
                assert p.default is None, p.name
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values())


@pytest.mark.parametrize("name", PLOTTERS)
def test_return_type_and_title(name):
    args, kwargs, panels = _inputs()[name]
    fn = getattr(plots, name)
    out = fn(*args, **kwargs)
    if panels is None:  # one panel: an Axes, title on it
        assert isinstance(out, Axes)
        default = out.get_title()
        assert fn(*args, **kwargs, title="my title").get_title() == "my title" != default
    else:  # several panels: a 1-D array of Axes, title on the figure
        assert isinstance(out, np.ndarray) and out.shape == (panels,)
        assert all(isinstance(a, Axes) for a in out)
        assert out[0].figure.get_suptitle() == ""
        titled = fn(*args, **kwargs, title="my title")
        assert titled[0].figure.get_suptitle() == "my title"
        assert [a.get_title() for a in titled] == [a.get_title() for a in out]  # panels kept


@pytest.mark.parametrize("name", [n for n in PLOTTERS if PANELS[n] is None])
def test_single_panel_plotters_draw_on_the_given_axes(name):
    args, kwargs, _ = _inputs()[name]
    _, ax = plt.subplots()
    assert getattr(plots, name)(*args, **kwargs, ax=ax) is ax
    assert len(plt.get_fignums()) == 1


@pytest.mark.parametrize("name", [n for n in PLOTTERS if PANELS[n] is not None])
@pytest.mark.parametrize("shape", ["list", "2-D", "too few"])
def test_multi_panel_plotters_return_a_flat_array_of_the_given_axes(name, shape):
    args, kwargs, panels = _inputs()[name]
    fn = getattr(plots, name)
    if shape == "too few":
        _, axes = plt.subplots(1, panels - 1, squeeze=False)
        with pytest.raises(ValueError, match=f"needs {panels} panels"):
            fn(*args, **kwargs, axes=axes)
        return
    if shape == "list":
        given = list(plt.subplots(1, panels, squeeze=False)[1].ravel())
    else:  # a grid with one spare panel
        given = plt.subplots(2, (panels + 2) // 2, squeeze=False)[1]
    out = fn(*args, **kwargs, axes=given)
    assert isinstance(out, np.ndarray) and out.ndim == 1
    assert list(out) == list(np.ravel(given)) and len(plt.get_fignums()) == 1


def test_one_given_axes_is_enough_for_a_one_class_figure():
    _, ax = plt.subplots()
    out = plots.plot_class_means(np.zeros((2, 251)), np.array(["N", "N"]), classes=("N",), axes=ax)
    assert isinstance(out, np.ndarray) and out.shape == (1,) and out[0] is ax


# ----------------------------------------------------------------------------- chapter 01


@pytest.mark.parametrize("offset", [0.0, -3.0])
def test_plot_record_labels_sit_above_the_trace_whatever_its_sign(offset):
    x = np.sin(np.arange(720) / 50) + offset  # from offset - 1 to offset + 1 mV
    ann = Annotations(np.array([100, 400, 5000]), np.array(["N", "V", "N"]), 360.0)
    ax = plots.plot_record(x, FS, ann, duration=2)
    assert [t.get_text() for t in ax.texts] == ["N", "V"]  # the third is past the stretch
    assert [_rgb(t.get_color()) for t in ax.texts] == [_rgb("tab:blue"), _rgb("tab:red")]
    heights = [t.get_position()[1] for t in ax.texts]
    assert min(heights) > x.max() and ax.get_ylim()[1] > max(heights)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("time (s)", "mV", "")
    assert plots.plot_record(x, FS, units="a.u.").get_ylabel() == "a.u."


def test_plot_class_counts_bars_colours_and_labels():
    ax = plots.plot_class_counts({"N": 900, "S": 30, "V": 70})
    assert [p.get_height() for p in ax.patches] == [900, 30, 70]
    assert [_rgb(p.get_facecolor()) for p in ax.patches] == [
        _rgb(plots.CLASS_COLORS[c]) for c in "NSV"]
    assert [t.get_text() for t in ax.texts] == ["900", "30", "70"]
    assert ax.get_yscale() == "log" and ax.get_title() == "Beats per class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "S", "V"]
    assert plots.plot_class_counts({"N": 9}, log=False).get_yscale() == "linear"


# ----------------------------------------------------------------------------- chapter 02


def test_plot_wavelet_bands_one_row_per_band_in_mv():
    bands = wavelet_bands(np.random.default_rng(0).normal(size=4000), fs=FS, level=3)
    axes = plots.plot_wavelet_bands(bands, FS, duration=2, dropped=["cD1", "cD2"])
    assert len(axes) == 4 and all(len(ax.lines) == 1 for ax in axes)
    assert [_rgb(ax.lines[0].get_color()) for ax in axes] == [
        _rgb("tab:blue"), _rgb("tab:blue"), _rgb("tab:red"), _rgb("tab:red")]
    assert all("(mV)" in ax.get_ylabel() and "Hz" in ax.get_ylabel() for ax in axes)
    assert axes[0].get_ylabel().startswith(bands[0].name)
    assert axes[-1].get_xlabel() == "time (s)" and len(axes[0].lines[0].get_xdata()) == 2 * FS


def test_plot_denoising_two_curves_in_mv():
    x = np.sin(np.arange(1800) / 50)
    ax = plots.plot_denoising(x + 0.1, x, FS, start=1, duration=2, labels=("noisy", "clean"))
    assert ax.get_legend_handles_labels()[1] == ["noisy", "clean"]
    assert ax.lines[0].get_xdata()[0] == pytest.approx(1.0) and len(ax.lines[1].get_xdata()) == 720
    assert ax.get_ylabel() == "mV"


def test_plot_spectrum_peaks_at_the_tone_and_uses_power_spectrum():
    noise = 0.1 * np.random.default_rng(0).normal(size=20 * FS)
    x = np.sin(2 * np.pi * 25 * np.arange(20 * FS) / FS) + noise
    ax = plots.plot_spectrum({"25 Hz": x, "half": x / 2}, FS, seconds=4, fmax=60)
    f, pxx = ax.lines[0].get_data()
    assert f[np.argmax(pxx)] == pytest.approx(25.0)
    f_ref, p_ref = power_spectrum(x, FS, seconds=4)
    assert np.allclose(f, f_ref) and np.allclose(pxx, p_ref) and f[1] == pytest.approx(0.25)
    assert ax.get_yscale() == "log" and ax.get_xlim() == (0, 60)
    assert ax.get_ylabel() == "PSD (mV²/Hz)" and ax.get_legend_handles_labels()[1] == [
        "25 Hz", "half"]


def test_plot_wavelet_phi_and_psi():
    axes = plots.plot_wavelet("db6", level=6)
    assert [ax.get_title() for ax in axes] == ["db6 scaling function φ (low-pass)",
                                               "db6 wavelet ψ (high-pass)"]
    assert len(axes[0].lines[0].get_xdata()) == len(axes[1].lines[0].get_xdata()) > 100


def test_plot_frequency_response_bands_or_legend():
    f = np.logspace(0, 2, 50)
    gains = {"low": 1 / (1 + f / 10), "high": f / (f + 10)}
    ax = plots.plot_frequency_response(f, gains, dropped=["high"], floor_db=-40)
    assert [_rgb(ln.get_color()) for ln in ax.lines] == [_rgb("tab:blue"), _rgb("tab:red")]
    assert [t.get_text() for t in ax.texts] == ["low", "high"] and ax.get_legend() is None
    assert ax.get_ylim() == (-40, 8) and ax.get_xscale() == "log"
    ax = plots.plot_frequency_response(f, gains)
    assert ax.get_legend_handles_labels()[1] == ["low", "high"] and not ax.texts


# ----------------------------------------------------------------------------- chapter 03


def _spans(ax):
    """(x0, x1, rgb) of each axvspan rectangle of ``ax``."""
    out = []
    for p in ax.patches:
        xy = np.asarray(p.get_xy()) if hasattr(p, "get_xy") else None
        if xy is not None and xy.ndim == 2:  # Polygon (matplotlib < 3.9)
            out.append((xy[:, 0].min(), xy[:, 0].max(), _rgb(p.get_facecolor())))
        else:  # Rectangle
            out.append((p.get_x(), p.get_x() + p.get_width(), _rgb(p.get_facecolor())))
    return out


def test_plot_beat_anatomy_points_and_intervals():
    waves = dict(P_on=100, P=140, Q=260, R=300, S=340, T=550, T_off=700, R_next=1100)
    ax = plots.plot_beat_anatomy(np.sin(np.arange(1200) / 100), 1000, waves)
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert texts == ["P", "Q", "R", "S", "T", "RR 800 ms", "PR 160 ms", "QT 440 ms"]
    assert ax.get_ylabel() == "mV" and ax.get_title() == "Anatomy of a heartbeat"


def test_plot_beats_time_axis_from_the_window():
    window = BeatWindow(0.2, 0.3, 100)
    X = np.tile(_beat(100, window), (5, 1))
    ax = plots.plot_beats(X, window=window, n=3)
    assert len(ax.lines) == 3 + 2  # 3 beats, the mean, the R-peak line
    assert np.allclose(ax.lines[0].get_xdata(), window.times())
    assert ax.get_title() == "5 beats" and ax.get_ylabel() == "mV"


def test_plot_class_means_one_panel_per_class():
    X, aami = np.zeros((6, 251)), np.array(["N", "N", "N", "S", "V", "V"])
    axes = plots.plot_class_means(X, aami, classes=("N", "S", "V"), n=2)
    assert [ax.get_title() for ax in axes] == ["N (3 beats)", "S (1 beat)", "V (2 beats)"]
    assert [len(ax.lines) for ax in axes] == [4, 3, 4]
    assert [_rgb(ax.lines[0].get_color()) for ax in axes] == [
        _rgb(plots.CLASS_COLORS[c]) for c in "NSV"]
    assert all(ax.get_ylabel() == "mV" for ax in axes)


def test_plot_beat_windows_shades_kept_windows_green_and_dropped_ones_red():
    x = np.zeros(3600)  # 10 s
    r = np.array([36, 1800, 3500])  # 0.1 s: crosses the start; 5 s: inside; 9.72 s: the end
    ax = plots.plot_beat_windows(x, r, FS, start=0, duration=10, highlight=[0, 1, 2])
    spans = _spans(ax)
    assert np.allclose([s[:2] for s in spans], [(0.1 - 0.4, 0.6), (4.6, 5.5),
                                                (3500 / FS - 0.4, 3500 / FS + 0.5)])
    assert [s[2] for s in spans] == [_rgb("tab:red"), _rgb("tab:green"), _rgb("tab:red")]
    assert ax.get_legend_handles_labels()[1] == [
        "R peak", "window past the record end: dropped", "window kept"]
    assert ax.get_xlim()[0] <= -0.3 and ax.get_xlim()[1] >= 3500 / FS + 0.5  # windows whole
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert texts == ["0.4 s\n144 samples", "0.5 s\n180 samples"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (s)", "mV")


def test_plot_beat_windows_follows_the_window_and_marks_peaks_in_the_stretch():
    x = np.sin(np.arange(3600) / 50)
    ax = plots.plot_beat_windows(x, np.array([100, 500, 3000]), FS, duration=2,
                                 window=BeatWindow(0.25, 0.5), highlight=[1])
    assert np.allclose(ax.lines[1].get_xdata(), np.array([100, 500]) / FS)
    assert np.allclose(_spans(ax)[0][:2], (500 / FS - 0.25, 500 / FS + 0.5))
    assert _spans(ax)[0][2] == _rgb("tab:green")
    assert "0.25 s\n90 samples" in [t.get_text() for t in ax.texts]
    assert not plots.plot_beat_windows(x, np.array([100]), FS).patches


def test_plot_beat_versions_time_axis_or_sample_axis():
    x324, x251 = np.sin(np.linspace(0, 3, 324)), np.sin(np.linspace(0, 3, 251))
    ax = plots.plot_beat_versions({"a": x324, "b": x251}, window=DEFAULT_WINDOW)
    assert np.allclose(ax.lines[0].get_xdata(), DEFAULT_WINDOW.times(324))
    assert np.allclose(ax.lines[1].get_xdata(), DEFAULT_WINDOW.times(251))
    assert ax.lines[0].get_xdata()[1] == pytest.approx(1 / 360 - 0.4)
    assert ax.get_legend_handles_labels()[1] == ["a (324 samples)", "b (251 samples)"]
    assert ax.get_xlabel() == "time from R peak (s)" and ax.get_ylabel() == "mV"
    ax = plots.plot_beat_versions({"a": x251})
    assert np.array_equal(ax.lines[0].get_xdata(), np.arange(251))
    assert ax.get_xlabel() == "sample of the input"


def test_plot_beat_matrix_rows_strip_and_a_legend_outside_the_image():
    X = np.random.default_rng(0).normal(size=(20, 100))
    window = BeatWindow(0.3, 0.6, 100)
    ax = plots.plot_beat_matrix(X, np.array(list("NV") * 10), window=window, title="beats")
    (im,) = ax.images
    assert im.get_array().shape == (20, 100) and im.get_extent()[:2] == pytest.approx([-0.3, 0.6])
    assert len(ax.patches) == 20  # one strip cell per beat
    assert [_rgb(p.get_facecolor()) for p in ax.patches[:2]] == [_rgb("tab:blue"), _rgb("tab:red")]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["N", "V"]
    assert ax.get_xlim()[1] == pytest.approx(0.6) and ax.get_xlim()[0] < -0.3
    ax.figure.canvas.draw()
    box, leg = ax.get_window_extent(), legend.get_window_extent()
    assert leg.y0 >= box.y1 - 1  # above the image, not on it
    assert ax.title.get_window_extent().y0 >= leg.y1 - 1  # and below the title
    assert ax.figure.axes[1].get_ylabel() == "mV"  # the colour bar
    assert plots.plot_beat_matrix(X).get_legend() is None


def test_plot_class_by_record_counts_and_groups():
    record = np.array(["100", "100", "101", "102", "102", "102"])
    aami = np.array(["S", "V", "S", "S", "S", "N"])
    axes = plots.plot_class_by_record(record, aami, groups={"A": ["101", "102"], "B": ["100"]})
    assert len(axes) == 2
    assert [p.get_height() for p in axes[0].patches] == [1, 2, 1]  # S in 101, 102, 100
    assert [p.get_height() for p in axes[1].patches] == [0, 0, 1]  # V
    assert axes[0].get_title() == "S beats per record (4 in all)"
    assert [t.get_text() for t in axes[0].texts] == ["A: 3", "B: 1"]
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == ["101", "102", "100"]
    axes = plots.plot_class_by_record(record, aami, classes=("N",))
    assert [p.get_height() for p in axes[0].patches] == [0, 0, 1] and not axes[0].texts


# ----------------------------------------------------------------------------- chapter 05


def test_plot_model_diagram_boxes_and_shapes_follow_walk_layers():
    from ecgtut.model import MultiScaleCNN, walk_layers

    for net, n_classes in ((MultiScaleCNN(), 4), (MultiScaleCNN(n_classes=5, n_features=2), 5)):
        ax = plots.plot_model_diagram(net)
        steps = walk_layers(net)
        assert len(ax.patches) == 17  # input, 3 x (conv, pool, conv, pool), concat, 3 FC
        texts = [t.get_text() for t in ax.texts if t.get_text()]  # not the arrows
        boxes = [t for t in texts if not t.startswith("branch")]
        assert len(boxes) == 17 and len(texts) == 20  # and a label per branch
        want = ["input beat\n1 × 251"]
        for s in steps:
            shape = " × ".join(map(str, s["shape"]))
            if s["name"] == "Conv1d":
                want.append(f"conv k={s['module'].kernel_size[0]}\n+ ReLU\n{shape}")
            elif s["name"] == "MaxPool1d":
                want.append(f"max-pool 2\n{shape}")
        want.append("concat +\nflatten\n2768" + ("\n+ 2\nfeatures" if net.n_features else ""))
        want += [f"FC {s['shape'][0]}\n+ ReLU" for s in steps if s["name"] == "Linear"][:-1]
        want.append(f"FC {n_classes}\n(logits)")
        assert boxes == want
        assert [t for t in texts if t.startswith("branch")] == [
            "branch k = 4, 6", "branch k = 6, 8", "branch k = 8, 10"]
        n_params = sum(p.numel() for p in net.parameters())
        assert ax.get_title() == f"The multi-scale CNN: three branches, {n_params:,} parameters"
    assert "conv k=10\n+ ReLU\n16 × 113" in boxes


def test_plot_receptive_fields_bars_centred_on_the_r_peak():
    rf = [{"kernels": k, "samples": n, "ms": 1000 * n * 0.9 / 251}
          for k, n in (((4, 6), 17), ((6, 8), 23), ((8, 10), 29))]
    ax = plots.plot_receptive_fields(np.sin(np.linspace(0, 6, 251)), rf)
    bars = ax.lines[1:4]
    assert [b.get_xdata()[1] - b.get_xdata()[0] for b in bars] == pytest.approx(
        [r["ms"] for r in rf])
    assert all(b.get_xdata()[0] == -b.get_xdata()[1] for b in bars)
    assert np.allclose(ax.lines[0].get_xdata(), 1000 * DEFAULT_WINDOW.times())  # in ms
    assert "k = 4, 6: 17 samples = 61 ms" in [t.get_text() for t in ax.texts]
    assert ax.get_ylabel() == "mV" and ax.get_xlabel() == "time from R peak (ms)"
    ax = plots.plot_receptive_fields(np.zeros(324), rf[:1], window=DEFAULT_WINDOW, ylabel="z")
    assert ax.lines[0].get_xdata()[1] == pytest.approx(1000 / 360 - 400) and ax.get_ylabel() == "z"


def test_plot_normalized_beats_one_panel_per_normalisation():
    X = np.random.default_rng(0).normal(size=(3, 251)) * [[1], [2], [5]]
    Z = {"center": X - np.median(X, axis=1, keepdims=True), "zscore": X / X.std(1, keepdims=True)}
    axes = plots.plot_normalized_beats(X, Z, ["a", "b", "c"])
    assert len(axes) == 3 and [ax.get_ylabel() for ax in axes] == [
        "mV", "mV", "standard deviations"]
    assert axes[0].get_legend_handles_labels()[1] == ["a", "b", "c"]
    beats = [ln for ln in axes[2].lines if len(ln.get_ydata()) == 251]
    assert len(beats) == 3 and np.allclose(beats[2].get_ydata(), Z["zscore"][2])
    assert np.allclose(beats[0].get_xdata(), DEFAULT_WINDOW.times())


def test_plot_augmented_beats_copies_and_zoom():
    x = _beat()
    copies = np.stack([np.roll(x, k) for k in (-2, 1, 3)])
    axes = plots.plot_augmented_beats(x, copies, zoom=0.05)
    for ax in axes:
        beats = [ln for ln in ax.lines if len(ln.get_ydata()) == 251]
        assert len(beats) == 4 and np.array_equal(beats[-1].get_ydata(), x)  # original on top
        assert np.allclose(beats[0].get_ydata(), copies[0]) and ax.get_ylabel() == "mV"
    assert axes[1].get_xlim() == pytest.approx((-0.05, 0.05))
    assert axes[0].get_title() == "One beat and 3 random copies"


def test_plot_split_counts_shares_and_bars():
    splits = {"train": np.array([0] * 9 + [1]), "test": np.array([0, 0, 0, 1, 2])}
    ax = plots.plot_split_counts(splits, ("N", "S", "V"), log=False)
    assert [p.get_height() for p in ax.patches] == [9, 1, 0, 3, 1, 1]
    assert [_rgb(p.get_facecolor()) for p in ax.patches] == [_rgb("C0")] * 3 + [_rgb("C1")] * 3
    assert [t.get_text() for t in ax.texts] == ["90.0 %", "10.0 %", "0.0 %", "60.0 %",
                                                "20.0 %", "20.0 %"]
    assert ax.get_legend_handles_labels()[1] == ["train (10 beats)", "test (5 beats)"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "train (10 beats)", "test (5 beats)"]
    assert ax.get_yscale() == "linear" and ax.get_title() == "Beats per class in each split"
    assert plots.plot_split_counts(splits, "NSV").get_yscale() == "log"


def test_plot_lr_schedule_x_axis_in_epochs():
    lrs = np.linspace(1e-3, 0, 10)
    ax = plots.plot_lr_schedule(lrs, 5, {"epoch": [1, 2], "lr": [lrs[5], 0.0]})
    assert np.allclose(ax.lines[0].get_xdata(), np.arange(10) / 5)
    assert np.allclose(ax.lines[1].get_xdata(), [1, 2]) and ax.lines[1].get_ydata()[0] == lrs[5]
    assert len(plots.plot_lr_schedule(lrs, 5).lines) == 1


def test_plot_learning_curves_panels_and_lines():
    history = {"train_loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.3, 0.35],
               "train_acc": [0.8, 0.9, 0.95], "val_acc": [0.85, 0.9, 0.88],
               "test_acc": [0.8, 0.85, 0.9], "best_epoch": 2}
    axes = plots.plot_learning_curves(history)
    assert [ax.get_title() for ax in axes] == ["Loss", "Accuracy"]
    assert [len(ax.lines) for ax in axes] == [3, 4]  # test loss not tracked
    assert axes[0].get_yscale() == "log" and axes[1].get_ylabel() == "accuracy"


# ----------------------------------------------------------------------------- chapters 05-06


def test_plot_confusion_counts_or_row_shares():
    cm = np.array([[8, 2], [1, 9]])
    ax = plots.plot_confusion(cm, ["N", "V"])
    assert [t.get_text() for t in ax.texts] == ["8", "2", "1", "9"]
    assert ax.get_title() == "Confusion matrix (beats)" and ax.get_ylabel() == "true class"
    ax = plots.plot_confusion(cm, ["N", "V"], normalize=True)
    assert [t.get_text() for t in ax.texts] == ["0.800", "0.200", "0.100", "0.900"]
    assert ax.get_title() == "Confusion matrix (row-normalised)"


def test_plot_misclassified_draws_exactly_the_picked_beats():
    from ecgtut.metrics import pick_misclassified

    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 251))
    y_true, y_pred = np.array([0, 0, 0, 1, 1, 2, 2, 2, 0, 1]), np.array([1, 1, 0, 0, 1, 0, 2, 1,
                                                                         2, 1])
    axes = plots.plot_misclassified(X, y_true, y_pred, "NSV", n=5)
    picks = pick_misclassified(y_true, y_pred, 5)
    drawn = [ax for ax in axes if ax.axison]
    assert len(axes) == 8 and len(drawn) == 5  # 4 panels a row, the 3 left over switched off
    for ax, i in zip(drawn, picks):
        assert np.array_equal(ax.lines[0].get_ydata(), X[i])
        assert ax.get_title() == f"true {'NSV'[y_true[i]]} → predicted {'NSV'[y_pred[i]]}"
        assert ax.get_ylabel() == "mV" and ax.get_xlabel() == "time from R peak (s)"
    assert np.allclose(drawn[0].lines[0].get_xdata(), DEFAULT_WINDOW.times())
    axes = plots.plot_misclassified(X, y_true, y_pred, "NSV", picks=[7, 0])
    assert len(axes) == 2 and [np.array_equal(ax.lines[0].get_ydata(), X[i])
                               for ax, i in zip(axes, (7, 0))] == [True, True]
    _, grid = plt.subplots(2, 2)
    axes = plots.plot_misclassified(X, y_true, y_pred, "NSV", picks=[3], axes=grid)
    assert axes.shape == (4,) and [ax.axison for ax in axes] == [True, False, False, False]


def test_plot_misclassified_without_errors_says_so():
    axes = plots.plot_misclassified(np.zeros((2, 251)), [0, 1], [0, 1], "NV", n=0)
    assert len(axes) == 1 and [t.get_text() for t in axes[0].texts] == ["no misclassified beat"]


def test_plot_confidence_counts_right_and_wrong():
    proba = np.array([[0.9, 0.05, 0.05], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    ax = plots.plot_confidence(proba, np.array([0, 1, 1, 2]), bins=4)
    assert ax.get_legend_handles_labels()[1] == ["right (3 beats)", "wrong (1 beats)"]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [0, 0, 2, 1, 0, 1, 0, 0]  # right: 0.9, 0.7, 0.8; wrong: 0.5
    assert ax.patches[0].get_x() == pytest.approx(1 / 3)  # bins start at 1 / n_classes
    assert ax.get_yscale() == "log" and ax.get_title() == "How sure is the model?"


# ----------------------------------------------------------------------------- chapter 06


def test_plot_kfold_scheme_rows_and_test_folds():
    ax = plots.plot_kfold_scheme(folds=4, val_fraction=0.1)
    tests = [p for p in ax.patches if _rgb(p.get_facecolor()) == _rgb("tab:red")]
    assert sorted(p.get_x() for p in tests) == pytest.approx([0, 0.25, 0.5, 0.75])
    val = [p for p in ax.patches if _rgb(p.get_facecolor()) == _rgb("tab:orange")]
    for row in range(4):  # validation: 10 % of each round's training part, never in its test fold
        slivers = [p for p in val if round(p.get_y() + p.get_height() / 2) == row]
        assert sum(p.get_width() for p in slivers) == pytest.approx(0.1 * 0.75, abs=0.003)
        test_fold = 3 - row
        middles = [p.get_x() + p.get_width() / 2 for p in slivers]
        assert all(not (test_fold * 0.25 < m < (test_fold + 1) * 0.25) for m in middles)
        assert len(slivers) > 10  # scattered over the training folds, not one block
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"round {k}" for k in (4, 3, 2, 1)]
    assert ax.get_title() == "4-fold cross-validation: every beat is tested exactly once"


def test_plot_fold_class_shares_ratio_bars():
    from ecgtut.crossval import fold_class_shares

    counts = np.array([[90, 10], [80, 20], [85, 15]])  # overall shares 85 % and 15 %
    ax = plots.plot_fold_class_shares(counts, ("N", "S"), ymax=2)
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx(fold_class_shares(counts)["ratio"].ravel())  # fold by fold
    assert heights[:2] == pytest.approx([0.9 / 0.85, 0.1 / 0.15])
    colors = [_rgb(p.get_facecolor()) for p in ax.patches]
    assert colors[0] == colors[1] != colors[2] == colors[3] != colors[4]  # one colour per fold
    assert colors[0] == _rgb(plt.cm.viridis(0.0)) and colors[4] == _rgb(plt.cm.viridis(1.0))
    assert ax.get_ylim() == (0, 2) and ax.get_title() == "Class share per test fold"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N\n85 % of all", "S\n15 % of all"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fold 1", "fold 2", "fold 3"]
    assert ax.get_legend_handles_labels()[1] == ["fold 1", "fold 2", "fold 3"]
    assert plots.plot_fold_class_shares([[1, 9], [9, 1]], "NS").get_ylim()[1] > 1.5


def test_plot_fold_scores_leaves_out_undefined_values():
    ax = plots.plot_fold_scores(_cv())
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["accuracy", "macro F1", "N Se", "S Se", "N +P", "S +P"]
    dots = np.concatenate([c.get_offsets() for c in ax.collections])
    column = np.round(dots[:, 0]).astype(int)
    assert np.bincount(column, minlength=6).tolist() == [3, 3, 2, 3, 3, 0]  # None/NaN left out
    assert sorted(dots[column == 2, 1]) == [1.0, 1.0] and sorted(dots[column == 0, 1]) == [
        0.75, 0.8, 1.0]
    means = [ln for ln in ax.lines if ln.get_marker() == "_"]
    assert len(means) == 1
    x, y = means[0].get_xdata(), means[0].get_ydata()
    assert np.round(x).astype(int).tolist() == [0, 1, 2, 3, 4]  # nothing in the S +P column
    assert y == pytest.approx([0.85, 2.3 / 3, 1.0, 1.9 / 3, 2.5 / 3])
    assert np.all(x > np.round(x)) and np.all(dots[:, 0] < column)  # means right, dots left
    bars = [ln for ln in ax.lines if ln.get_marker() in ("None", "", None)]
    lo, hi = np.nanmin(bars[0].get_ydata()), np.nanmax(bars[0].get_ydata())
    sd = np.std([1.0, 0.75, 0.8], ddof=1)
    assert (lo, hi) == pytest.approx((0.85 - sd, 0.85 + sd))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one fold", "mean ± std"]
    assert ax.get_title() == "3 folds: one dot per fold, mean ± std in black"


def test_plot_selection_pitfall_bars_in_percent():
    ax = plots.plot_selection_pitfall({"val_selected": [0.98, 0.97], "test_selected": [0.99, 1]})
    assert [p.get_height() for p in ax.patches] == pytest.approx([98, 97, 99, 100])
    assert ax.get_legend_handles_labels()[1] == ["chosen on validation (mean 97.50 %)",
                                                 "chosen on the test fold (mean 99.50 %)"]
    assert ax.get_ylabel() == "test accuracy (%)"


def test_plot_selection_optimism_in_points():
    ax = plots.plot_selection_optimism({"x": np.array([0.0, 0.001, 0.002])})
    assert np.allclose(ax.lines[0].get_ydata(), [0, 0.1, 0.2])
    assert np.allclose(ax.lines[0].get_xdata(), [1, 2, 3]) and ax.get_xscale() == "log"


def test_plot_same_record_neighbours_bars_in_percent():
    same = np.array([True, True, False, True])
    chance = np.array([0.1, 0.1, 0.3, 0.3])
    ax = plots.plot_same_record_neighbours(same, chance, np.array(["N", "N", "V", "V"]))
    assert [p.get_height() for p in ax.patches] == pytest.approx([100, 50, 10, 30])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["N", "V"]
    assert [t.get_text() for t in ax.texts] == ["100 %", "50 %"]
    ax = plots.plot_same_record_neighbours(same, chance, np.array(["N", "N", "V", "V"]),
                                           classes=["V"])
    assert [p.get_height() for p in ax.patches] == pytest.approx([50, 30])


def test_plot_class_by_record_on_the_beat_set(beats):
    axes = et.plot_class_by_record(beats.record, beats.aami,
                                       groups={"DS1": et.DS1, "DS2": et.DS2})
    heights = [p.get_height() for p in axes[0].patches]
    assert len(heights) == 44 and sum(heights) == beats.counts()["S"]
    assert max(heights) == np.sum((beats.record == "232") & (beats.aami == "S"))


def test_plot_receptive_fields_draws_every_field():
    rf = [{"kernels": (k, k + 2), "samples": 3 * k + 5, "ms": 10.0 * k} for k in (4, 6, 8, 10)]
    ax = plots.plot_receptive_fields(np.zeros(251), rf)
    bars = ax.lines[1:5]  # after the beat: one bar per field, none dropped
    assert [b.get_xdata().tolist()[1] for b in bars] == [20.0, 30.0, 40.0, 50.0]
