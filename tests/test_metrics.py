"""Tests of ecgtut.metrics: Se, +P and F1 by hand, undefined values, tables, the reference."""

import json

import numpy as np
import pytest

import ecgtut as et
from ecgtut.metrics import (
    REFERENCE,
    classification_metrics,
    compare_with_reference,
    format_fold_table,
    format_metrics_table,
    mean_over_folds,
    pick_misclassified,
    prediction_confidence,
)

CLASSES4 = ("N", "S", "V", "F")


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


def fold(y_true, y_pred, k, classes=("N", "S", "Q")):
    return {**classification_metrics(y_true, y_pred, classes), "fold": k}


def test_a_value_undefined_in_some_fold_is_never_averaged():
    # Q is predicted in fold 1 only: its +P exists there and nowhere else
    folds = [fold([0, 1, 2], [0, 1, 2], 1), fold([0, 1, 2], [0, 1, 1], 2),
             fold([0, 1, 2], [0, 1, 0], 3)]
    mean = mean_over_folds(folds)
    assert mean["per_class"]["Q"] == {"se": 1 / 3, "ppv": None,
                                      "folds_defined": {"se": 3, "ppv": 1}}
    assert mean["per_class"]["N"] == {"se": 1.0, "ppv": pytest.approx(2.5 / 3)}  # all defined
    table = format_fold_table({"classes": ["N", "S", "Q"], "folds": folds}).splitlines()
    mean_row = next(line for line in table if line.startswith("mean"))
    std_row = next(line for line in table if line.startswith("std"))
    assert mean_row.split()[-1] == "0.333/\u2014(1/3)"  # a dash and how many folds define it
    assert std_row.split()[-1] == "0.577/\u2014(1/3)"
    # defined in no fold at all: a plain dash
    never = mean_over_folds([fold([0, 1], [0, 0], 1, ("N", "S"))] * 2)
    assert never["per_class"]["S"] == {"se": 0.0, "ppv": None,
                                       "folds_defined": {"se": 2, "ppv": 0}}


def test_pick_misclassified_varies_the_kind_of_error():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([1, 1, 1, 0, 0, 1, 0, 2])  # 0->1 three times, 1->0 once, 2->0 once
    picks = pick_misclassified(y_true, y_pred, n=4)
    assert picks.tolist() == [0, 4, 6, 1]  # one of each kind first, the commonest kind first
    assert np.all(y_true[picks] != y_pred[picks])
    assert pick_misclassified(y_true, y_true, n=4).tolist() == []


def test_prediction_confidence():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.5, 0.0]])
    confidence, right = prediction_confidence(proba, [0, 1, 1])
    assert confidence.tolist() == [0.7, 0.6, 0.5]
    assert right.tolist() == [True, False, False]  # a tie goes to the first class, as argmax


def _fake_cv(classes=("N", "S")):
    """A cross_validate-like dict of two folds, without training anything."""
    f1 = et.classification_metrics([0, 1, 1, 0], [0, 1, 1, 0], classes)
    f2 = et.classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], classes)
    return {"classes": list(classes), "folds": [dict(f1, fold=1, best_epoch=3),
                                                dict(f2, fold=2, best_epoch=1)]}


def test_format_fold_table_rows_mean_std_and_undefined():
    lines = et.format_fold_table(_fake_cv()).splitlines()
    assert [ln.split()[0] for ln in lines] == ["fold", "1", "2", "mean", "std"]
    assert lines[1].split() == ["1", "100.00", "%", "1.000", "1.000/1.000", "1.000/1.000", "3"]
    assert lines[3].split()[1:3] == ["87.50", "%"] and lines[4].split()[1] == "17.68"
    cv = {"classes": ["N", "S"], "folds": [
        dict(et.classification_metrics([0, 1], [0, 0], ("N", "S")), fold=1)]}
    assert "0.000/—" in et.format_fold_table(cv).splitlines()[1]  # S never predicted
