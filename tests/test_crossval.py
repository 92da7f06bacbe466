"""Tests of ecgtut.crossval, pitfalls and experiment: folds, seeds, pitfalls, reproduce's JSON."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import synthetic_beats

import ecgtut as et
from ecgtut.crossval import (
    check_seed,
    cross_validate,
    fold_class_counts,
    fold_class_shares,
    fold_seed,
    kfold_splits,
    max_seed,
)
from ecgtut.experiment import format_reproduce_report, reproduce
from ecgtut.metrics import classification_metrics
from ecgtut.pitfalls import epoch_selection_pitfall

CLASSES4 = ("N", "S", "V", "F")
P4 = [0.7, 0.1, 0.15, 0.05]  # MIT-BIH-like class proportions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class FakeBeatSet:
    """Just enough of ecgtut.BeatSet for reproduce(): xy(classes) and window."""

    def __init__(self, n=400):
        from ecgtut.beats import DEFAULT_WINDOW

        self.X, self.y = synthetic_beats(n, n_classes=4, p=P4)
        self.window = DEFAULT_WINDOW

    def xy(self, classes=CLASSES4):
        keep = self.y < len(classes)
        return self.X[keep], self.y[keep]


@pytest.fixture(scope="module")
def cv():
    X, y = synthetic_beats(400, n_classes=4, p=P4)
    return X, y, cross_validate(X, y, CLASSES4, folds=3, epochs=2, batch_size=32,
                                progress=False, track_test=True)


def test_stratified_folds_keep_class_ratios(cv):
    X, y, result = cv
    totals = np.bincount(y, minlength=4)
    for fold in result["folds"]:
        support = [fold["per_class"][c]["support"] for c in CLASSES4]
        assert np.all(np.abs(np.array(support) - totals / 3) <= 1)
        assert fold["n_train"] + fold["n_val"] + fold["n_test"] == len(y)
        assert fold["n_val"] == pytest.approx(0.1 * (len(y) - fold["n_test"]), abs=1)
    assert np.all(result["y_pred"] >= 0)  # every beat predicted once, out of fold
    assert np.sum(result["confusion"]) == len(y)
    pooled = classification_metrics(y, result["y_pred"], CLASSES4)["confusion"]
    assert pooled == result["confusion"]
    assert set(result["mean"]) == {"accuracy", "macro_f1", "per_class"}
    assert len(result["histories"]) == 3 and result["seconds"] > 0


def test_runs_with_different_seeds_share_no_round_seed():
    seen = [fold_seed(seed, 5, k) for seed in range(4) for k in range(5)]
    assert len(set(seen)) == len(seen)
    assert [fold_seed(0, 5, k) for k in range(5)] == [0, 1, 2, 3, 4]  # seed 0 as before
    assert fold_seed(max_seed(5), 5, 4) <= 2**32 - 1  # the largest round seed still fits
    for bad in (-1, max_seed(5) + 1):
        with pytest.raises(ValueError, match="seed must be from 0 to 858993458 with 5 folds"):
            fold_seed(bad, 5, 0)
        with pytest.raises(ValueError, match="seed must be from 0 to 858993458 with 5 folds"):
            check_seed(bad, 5)
    with pytest.raises(ValueError, match="round k=5"):
        fold_seed(0, 5, 5)


def test_a_seed_too_large_fails_before_any_training():
    X, y = synthetic_beats(60, n_classes=4, p=P4)
    with pytest.raises(ValueError, match="with 3 folds"):
        next(kfold_splits(y, folds=3, seed=max_seed(3) + 1))
    with pytest.raises(ValueError, match="with 2 folds"):
        cross_validate(X, y, CLASSES4, folds=2, seed=2**31, epochs=1, progress=False)


def test_epoch_selection_pitfall(cv):
    _, _, result = cv
    p = epoch_selection_pitfall(result["histories"])
    assert len(p["val_selected"]) == 3
    assert all(t >= v for t, v in zip(p["test_selected"], p["val_selected"], strict=True))
    for fold, acc in zip(result["folds"], p["val_selected"], strict=True):
        assert fold["accuracy"] == pytest.approx(acc)  # the model kept is the val-chosen one
    with pytest.raises(ValueError, match="track_test"):
        epoch_selection_pitfall([{"best_epoch": 1, "val_acc": [0.5]}])


def check_reproduce_schema(result, classes, folds):
    assert {"accuracy", "macro_f1", "per_class", "confusion", "folds", "seconds"} <= set(result)
    assert list(result["per_class"]) == list(classes)
    for pc in result["per_class"].values():
        assert set(pc) <= {"se", "ppv", "folds_defined"} and {"se", "ppv"} <= set(pc)
    assert np.shape(result["confusion"]) == (len(classes), len(classes))
    assert len(result["folds"]) == folds
    for f in result["folds"]:
        assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(f)
    assert 0 <= result["accuracy"] <= 1 and result["seconds"] > 0


def test_reproduce_fast_on_synthetic_beats():
    result = reproduce(beats=FakeBeatSet(), classes=list(CLASSES4), fast=True, epochs=1,
                       progress=False)
    check_reproduce_schema(result, CLASSES4, folds=2)
    assert result["settings"]["fast"] and result["n_beats"] == 400
    json.loads(json.dumps(result))
    lines = format_reproduce_report(result).splitlines()
    assert lines[0].startswith("4-class, intra-patient stratified k-fold (2 folds, fast smoke run)")
    assert lines[1].startswith("precision: ")
    rows = {line.split()[0]: line for line in lines[3:7]}
    assert set(rows) == {"fold", "1", "2", "mean"}
    assert f"{100 * result['accuracy']:.2f} %" in rows["mean"]  # the mean row shows the mean
    assert lines[-13] == "Mean over folds beside the write-up's (its best fold):"
    assert lines[-1].split()[:2] == ["F", "+P"] and lines[-1].split()[-1] == "0.993"


def test_fold_class_counts_and_shares():
    y = np.array([0] * 80 + [1] * 20)
    strat = fold_class_counts(y, folds=4, seed=0)
    assert strat.tolist() == [[20, 5]] * 4  # stratified: the same in every fold
    assert fold_class_counts(y, folds=4, seed=0, stratified=False).sum(axis=0).tolist() == [80, 20]
    shares = fold_class_shares([[9, 1], [8, 2]])
    np.testing.assert_allclose(shares["overall"], [0.85, 0.15])
    expected = [[0.9 / 0.85, 0.1 / 0.15], [0.8 / 0.85, 0.2 / 0.15]]
    np.testing.assert_allclose(shares["ratio"], expected)


def test_plot_confusion_and_misclassified(cv):
    import matplotlib.pyplot as plt

    from ecgtut.plots import plot_confusion, plot_misclassified

    X, y, result = cv
    ax = plot_confusion(result["confusion"], CLASSES4)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASSES4)
    assert "beats" in ax.get_title()
    ax = plot_confusion(result["confusion"], CLASSES4, normalize=True)
    assert "row-normalised" in ax.get_title()
    y_pred = y.copy()
    y_pred[:5] = (y[:5] + 1) % 4  # five mistakes
    axes = plot_misclassified(X, y, y_pred, CLASSES4, n=8)
    assert len(axes) == 8 and sum(ax.axison for ax in axes) == 5
    assert sum(len(ax.lines) > 0 for ax in axes) == 5
    assert axes[0].get_title().startswith("true ")
    axes = plot_misclassified(X, y, y, CLASSES4, n=0)  # nothing to show: one readable panel
    assert axes[0].figure.get_figheight() > 1 and "no misclassified" in axes[0].texts[0].get_text()
    plt.close("all")


def test_plot_selection_pitfall(cv):
    import matplotlib.pyplot as plt

    from ecgtut.plots import plot_selection_pitfall

    ax = plot_selection_pitfall(epoch_selection_pitfall(cv[2]["histories"]))
    assert len(ax.patches) == 6 and ax.get_xlabel() == "fold"
    plt.close("all")


@pytest.mark.slow
def test_cli_reproduce_fast_json(tmp_path, data_dir):
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "ecgtut", "reproduce", "--fast", "--quiet",
           "--data", str(data_dir), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "write-up" in proc.stdout
    result = json.loads(out.read_text())
    check_reproduce_schema(result, CLASSES4, folds=2)
    assert result["accuracy"] > 0.8  # a smoke run, still far better than chance


def test_fold_class_counts_stratified_vs_plain():
    y = np.repeat(np.arange(3), [500, 50, 7])
    strat = et.fold_class_counts(y, folds=5, seed=0)
    assert strat.shape == (5, 3) and np.array_equal(strat.sum(axis=0), [500, 50, 7])
    assert np.all(strat[:, :2] == [100, 10]) and set(strat[:, 2]) <= {1, 2}
    plain = et.fold_class_counts(y, folds=5, seed=0, stratified=False)
    assert np.array_equal(plain.sum(axis=0), [500, 50, 7]) and np.all(plain.sum(axis=1) >= 111)
    assert et.fold_class_counts(y, folds=5, n_classes=4).shape == (5, 4)


def test_selection_optimism_grows_with_looks_and_shrinks_with_beats():
    gain = et.selection_optimism(0.99, 20000, n_checks=50, n_sim=4000)
    assert gain.shape == (50,) and abs(gain[0]) < 2e-5
    assert np.all(np.diff(gain) >= 0)  # a running maximum never decreases
    sigma = np.sqrt(0.99 * 0.01 / 20000)
    assert gain[1] == pytest.approx(sigma / np.sqrt(np.pi), rel=0.1)  # E max of 2 normals
    assert et.selection_optimism(0.99, 1000, n_checks=50)[-1] > 3 * gain[-1]


def test_same_record_neighbours_finds_the_patient():
    rng = np.random.default_rng(0)
    shapes = {"a": np.sin(np.linspace(0, 6, 251)), "b": np.cos(np.linspace(0, 9, 251))}
    rec = np.array(["a"] * 30 + ["b"] * 10)
    X = np.stack([shapes[r] + rng.normal(0, 0.05, 251) for r in rec])
    same, chance = et.same_record_neighbours(X[::2], rec[::2], X[1::2], rec[1::2])
    assert same.shape == (20,) and same.all()
    assert np.allclose(chance, np.where(rec[1::2] == "a", 0.75, 0.25))
    same, chance = et.same_record_neighbours(X[rec == "a"], rec[rec == "a"],
                                                 X[rec == "b"], rec[rec == "b"])
    assert not same.any() and np.all(chance == 0)  # inter-patient: never the same record
