"""Tests of ecgtut.evaluate: metrics by hand, folds, reproduce's JSON, the CLI and plots."""

import json
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from ecgtut.evaluate import (
    REFERENCE,
    classification_metrics,
    compare_with_reference,
    cross_validate,
    epoch_selection_pitfall,
    fold_seed,
    format_metrics_table,
    format_reproduce_report,
    kfold_splits,
    max_seed,
    reproduce,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CLASSES4 = ("N", "S", "V", "F")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def synthetic_beats(n=400, seed=0):
    """4 classes in MIT-BIH-like proportions; class = position and width of a bump."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, n, p=[0.7, 0.1, 0.15, 0.05])
    t = np.linspace(0, 1, 251)
    centre, width = 0.3 + 0.1 * y, 0.02 + 0.02 * y
    X = 3 * np.exp(-(((t - centre[:, None]) / width[:, None]) ** 2))
    return (X + rng.normal(0, 0.3, X.shape)).astype(np.float32), y


class FakeBeatSet:
    """Just enough of ecgtut.BeatSet for reproduce(): xy(classes)."""

    def __init__(self, n=400):
        self.X, self.y = synthetic_beats(n)

    def xy(self, classes=CLASSES4):
        keep = self.y < len(classes)
        return self.X[keep], self.y[keep]


# ----------------------------------------------------------------------------- metrics


def test_metrics_by_hand():
    y_true = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 0, 1, 0, 1, 1, 2, 0]
    m = classification_metrics(y_true, y_pred, CLASSES4)
    # rows = true, columns = predicted
    assert m["confusion"] == [[4, 1, 0, 0], [1, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert m["accuracy"] == pytest.approx(7 / 10)
    pc = m["per_class"]
    assert pc["N"]["se"] == pytest.approx(4 / 5) and pc["N"]["ppv"] == pytest.approx(4 / 6)
    assert pc["S"]["se"] == pytest.approx(2 / 3) and pc["S"]["ppv"] == pytest.approx(2 / 3)
    assert pc["V"]["se"] == pytest.approx(1 / 2) and pc["V"]["ppv"] == pytest.approx(1.0)
    # F: no true beat and never predicted -> both undefined, left out of macro F1
    assert pc["F"]["se"] is None and pc["F"]["ppv"] is None and pc["F"]["f1"] is None
    # F1 = 2TP / (2TP + FP + FN): N 8/11, S 4/6, V 2/3
    assert m["macro_f1"] == pytest.approx((8 / 11 + 4 / 6 + 2 / 3) / 3)
    assert m["confusion_normalized"][0] == pytest.approx([0.8, 0.2, 0, 0])
    assert all(np.isnan(m["confusion_normalized"][3]))


def test_undefined_ppv_when_never_predicted():
    m = classification_metrics([0, 1, 1], [0, 0, 0], ("N", "S"))
    assert m["per_class"]["S"]["ppv"] is None  # never predicted: undefined, not 0
    assert m["per_class"]["S"]["se"] == 0.0
    assert m["per_class"]["N"]["ppv"] == pytest.approx(1 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 0.0) / 2)  # N: 2/(2+2+0); S: 0
    json.dumps(m)  # plain types only
    table = format_metrics_table(m)
    assert "\u2014" in table.splitlines()[3] and "accuracy 33.33 %" in table


def test_metrics_of_no_beats_are_undefined_not_a_crash():
    m = classification_metrics([], [], ("N", "S"))
    assert m["accuracy"] is None and m["macro_f1"] is None
    assert m["confusion"] == [[0, 0], [0, 0]]
    assert m["per_class"]["S"] == {"se": None, "ppv": None, "f1": None, "support": 0,
                                   "predicted": 0}
    assert "accuracy —" in format_metrics_table(m)


def test_metrics_want_class_indices():
    with pytest.raises(ValueError, match=r"y_true must hold class indices 0 to 1"):
        classification_metrics(["N", "V"], [0, 0], ("N", "V"))
    with pytest.raises(ValueError, match=r"y_pred must hold class indices 0 to 1 .* got \[0, 2\]$"):
        classification_metrics([0, 1], [0, 2], ("N", "V"))


def test_reference_and_comparison():
    assert REFERENCE[4]["accuracy"] == 0.990 and REFERENCE[5]["accuracy"] == 0.9907
    assert REFERENCE[4]["per_class"]["S"] == {"se": 0.803, "ppv": 0.886}
    assert REFERENCE[5]["per_class"]["Q"]["se"] == 0.0
    m = classification_metrics([0, 1, 2, 3], [0, 1, 2, 2], CLASSES4)
    text = compare_with_reference(m, 4)
    assert "write-up" in text and "99.00 %" in text and "0.886" in text
    assert "\u2014" in text.splitlines()[-1]  # F +P of ours: F never predicted
    with pytest.raises(ValueError):
        compare_with_reference(m, 3)


# ----------------------------------------------------------------------------- cross-validation


@pytest.fixture(scope="module")
def cv():
    X, y = synthetic_beats(400)
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
    with pytest.raises(ValueError, match="round k=5"):
        fold_seed(0, 5, 5)


def test_a_seed_too_large_fails_before_any_training():
    X, y = synthetic_beats(60)
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
        assert set(pc) == {"se", "ppv"}
    assert np.shape(result["confusion"]) == (len(classes), len(classes))
    assert len(result["folds"]) == folds
    for f in result["folds"]:
        assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(f)
    assert 0 <= result["accuracy"] <= 1 and result["seconds"] > 0


def test_reproduce_fast_on_synthetic_beats():
    result = reproduce(FakeBeatSet(), classes=list(CLASSES4), fast=True, epochs=1, progress=False)
    check_reproduce_schema(result, CLASSES4, folds=2)
    assert result["settings"]["fast"] and result["n_beats"] == 400
    json.loads(json.dumps(result))
    report = format_reproduce_report(result)
    assert "mean" in report and "write-up" in report and "fold" in report


# ----------------------------------------------------------------------------- plots


def test_plot_confusion_and_misclassified(cv):
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
    assert axes[0].get_title().startswith("true ")
    axes = plot_misclassified(X, y, y, CLASSES4, n=0)  # nothing to show: one readable panel
    assert axes[0].figure.get_figheight() > 1 and "no misclassified" in axes[0].texts[0].get_text()
    plt.close("all")


def test_plot_selection_pitfall(cv):
    from ecgtut.plots import plot_selection_pitfall

    ax = plot_selection_pitfall(epoch_selection_pitfall(cv[2]["histories"]))
    assert len(ax.patches) == 6 and ax.get_xlabel() == "fold"
    plt.close("all")


# ----------------------------------------------------------------------------- end to end


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
