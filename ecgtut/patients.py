"""Chapter 07 -- the inter-patient protocol: train on DS1, test on DS2, never mix them.

de Chazal et al. (2004) split the 44 records into two sets of 22 patients,
DS1 and DS2, with similar class mixes (:data:`ecgtut.DS1`, :data:`ecgtut.DS2`).
Everything is learnt and tuned on DS1 alone; DS2 is looked at once, to score.
:func:`split_patients` makes the two parts of a beat set, and
:func:`check_training_records` is the guard every training step of the chapter
goes through: a single DS2 beat in a training set stops the run.

Example
-------
>>> check_training_records(["101", "106"])          # DS1 records: fine
>>> check_training_records(["101", "100"])          # 100 is a DS2 patient
Traceback (most recent call last):
...
ecgtut.patients.PatientLeakError: 1 training beat(s) come from DS2 (record 100): ...
"""

from __future__ import annotations

import numpy as np

from ecgtut.database import DS1, DS2

__all__ = ["PatientLeakError", "check_training_records", "split_patients", "ANCHORS",
           "F1_ANCHORS", "TARGETS", "CLASSES", "class_indices", "validation_records",
           "interpatient_result", "bootstrap_records", "comparison_table",
           "format_interpatient_report"]


class PatientLeakError(AssertionError):
    """A beat of a test patient (DS2) was about to be used for training or tuning."""


def check_training_records(records, test_records=DS2):
    """Refuse any beat of a test patient in a training (or validation) set.

    Parameters
    ----------
    records : array of str, shape (n_beats,)
        Record (patient) of each beat about to be trained or tuned on.
    test_records : sequence of str
        The patients kept for testing (default :data:`ecgtut.DS2`).

    Raises
    ------
    PatientLeakError
        Naming how many beats and which records leak.
    """
    records = np.asarray(records).astype(str)
    leak = np.isin(records, list(test_records))
    if leak.any():
        names = ", ".join(sorted(set(records[leak].tolist())))
        raise PatientLeakError(f"{int(leak.sum())} training beat(s) come from DS2 (record "
                               f"{names}): the inter-patient protocol never trains or tunes "
                               "on a test patient")


def split_patients(beats, classes=("N", "S", "V", "F"), train_records=DS1, test_records=DS2):
    """Row indices of the training (DS1) and test (DS2) beats of a beat set.

    Parameters
    ----------
    beats : BeatSet
        E.g. ``et.load_beats()`` (the 44 records).
    classes : sequence of str
        Classes kept (the default leaves out Q: 8 beats in DS1, 7 in DS2).
    train_records, test_records : sequences of str
        The two groups of patients (default: de Chazal's DS1 and DS2).

    Returns
    -------
    train, test : np.ndarray of int
        Indices into the rows of ``beats``; no record is in both.

    Raises
    ------
    ValueError
        If the two groups of records overlap.
    """
    overlap = set(train_records) & set(test_records)
    if overlap:
        raise ValueError(f"records {sorted(overlap)} are in both groups")
    keep = np.isin(beats.aami, list(classes))
    train = np.flatnonzero(keep & np.isin(beats.record, list(train_records)))
    test = np.flatnonzero(keep & np.isin(beats.record, list(test_records)))
    check_training_records(beats.record[train], test_records)
    return train, test


#: Published pure inter-patient results on DS2 (SPEC section 7), Se and +P in %.
ANCHORS = {
    "de Chazal et al. 2004": {"S": (75.9, 38.5), "V": (77.7, 81.9)},
    "Llamedo & Martinez 2011": {"S": (77.0, 39.0), "V": (81.0, 87.0)},
    "Mar et al. 2011": {"S": (83.2, 33.5), "V": (86.8, 75.9)},
    "Zhang et al. 2014": {"S": (79.1, 36.0), "V": (85.5, 92.7)},
    "Garcia et al. 2017": {"S": (62.0, 53.0), "V": (87.3, 59.4)},
}

#: Niu et al. 2020 report F1 (%) and accuracy (%), not Se and +P.
F1_ANCHORS = {"Niu et al. 2020": {"S": 76.6, "V": 89.7, "accuracy": 96.4}}

#: What chapter 07 aims at on DS2 (Se, +P in %); no published pure inter-patient
#: method gets there for S.
TARGETS = {"S": (80.0, 50.0), "V": (90.0, 90.0)}

CLASSES = ("N", "S", "V", "F")
FEATURE_SETS = ("beat", "beat+rr")


def class_indices(aami):
    """Class index of each beat in :data:`CLASSES` (-1 for Q).

    Example
    -------
    >>> class_indices(np.array(["N", "V", "Q"])).tolist()
    [0, 2, -1]
    """
    index = {c: i for i, c in enumerate(CLASSES)}
    return np.array([index.get(c, -1) for c in aami.tolist()], dtype=np.int64)


def validation_records(beats, train_rows, seed=0, folds=5):
    """DS1 records held out to choose the epoch: one fold of a patient-grouped split.

    ``StratifiedGroupKFold`` over the DS1 beats, grouped by record, so the
    validation beats come from patients the network does not train on -- as
    DS2's will. A class can live in very few patients (most F beats of DS1 are
    in record 208), so the fold returned is the first that leaves at least
    half of every class's beats for training (else the one that leaves most).

    Returns
    -------
    list of str
        About ``22 / folds`` DS1 records.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = class_indices(beats.aami[train_rows])
    records = beats.record[train_rows]
    totals = np.bincount(y, minlength=len(CLASSES))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    best, best_share = None, -1.0
    for _, val in splitter.split(np.zeros(len(train_rows)), y, records):
        kept = totals - np.bincount(y[val], minlength=len(CLASSES))
        share = float(np.min(kept[totals > 0] / totals[totals > 0]))
        if share > best_share:
            best, best_share = val, share
        if share >= 0.5:
            break
    return sorted(set(records[best].tolist()))


def interpatient_result(beats, train_rows, test_rows, y_test, y_pred, metrics=None):
    """The DS2 scores of a run, overall and record by record, as plain JSON.

    Parameters
    ----------
    beats : BeatSet
    train_rows, test_rows : arrays of int
        DS1 and DS2 rows of ``beats``.
    y_test, y_pred : arrays of int, shape (len(test_rows),)
        True and predicted class indices of the test beats.
    metrics : dict, optional
        :func:`ecgtut.classification_metrics` of them, if already computed.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``per_class`` (``se``, ``ppv``, ``f1``),
        ``confusion``, ``classes``, ``n_beats``, ``per_record`` (each DS2
        record: ``n_beats``, ``accuracy``, per-class ``se``, ``ppv``,
        ``support``, ``predicted``).
    """
    from ecgtut.metrics import classification_metrics

    m = metrics or classification_metrics(y_test, y_pred, CLASSES)
    records = beats.record[test_rows]
    per_record = {}
    for r in sorted(set(records.tolist())):
        rows = records == r
        rm = classification_metrics(y_test[rows], y_pred[rows], CLASSES)
        per_record[r] = {"n_beats": int(rows.sum()), "accuracy": rm["accuracy"],
                         "per_class": {c: {k: rm["per_class"][c][k]
                                           for k in ("se", "ppv", "support", "predicted")}
                                       for c in CLASSES}}
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "per_class": {c: {k: m["per_class"][c][k] for k in ("se", "ppv", "f1")}
                          for c in CLASSES},
            "confusion": m["confusion"], "classes": list(CLASSES),
            "n_beats": int(len(train_rows) + len(test_rows)), "per_record": per_record}


def bootstrap_records(y_true, y_pred, records, *, n_boot=1000, seed=0, classes=("S", "V"),
                      level=0.95):
    """How much the test records decide a score: Se and +P over resampled records.

    The test records are drawn with replacement ``n_boot`` times (a record
    drawn twice counts twice); each draw's beats are scored again. Records
    201 and 202 are one patient, so one patient can count in both sets.

    Parameters
    ----------
    y_true, y_pred : arrays of int, shape (n,)
        Class indices into :data:`CLASSES`.
    records : array of str, shape (n,)
    n_boot : int
    seed : int
    classes : sequence of str
    level : float
        Coverage of the interval (0.95: the 2.5th to the 97.5th percentile).

    Returns
    -------
    dict
        ``{class: {"se": (low, high), "ppv": (low, high)}}`` as fractions
        (None where a draw never has the class), plus ``n_boot``, ``level``.

    Example
    -------
    >>> b = bootstrap_records(np.array([1, 1, 0, 1]), np.array([1, 0, 0, 1]),
    ...                       np.array(["a", "a", "b", "c"]), n_boot=200)
    >>> 0 <= b["S"]["se"][0] <= b["S"]["se"][1] <= 1
    True
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    records = np.asarray(records).astype(str)
    names = sorted(set(records.tolist()))
    index = {c: i for i, c in enumerate(CLASSES)}
    # per record: true positives, true beats and predicted beats of each class
    counts = {c: np.array([[np.sum((y_true == index[c]) & (y_pred == index[c]) & (records == r)),
                            np.sum((y_true == index[c]) & (records == r)),
                            np.sum((y_pred == index[c]) & (records == r))] for r in names])
              for c in classes}
    draws = np.random.default_rng(seed).integers(0, len(names), (n_boot, len(names)))
    tail = 100 * (1 - level) / 2
    out = {"n_boot": n_boot, "level": level}
    for c in classes:
        tp, true, pred = counts[c][draws].sum(axis=1).T.astype(float)
        interval = {}
        for key, den in (("se", true), ("ppv", pred)):
            ok = den > 0
            v = tp[ok] / den[ok]
            interval[key] = (tuple(float(q) for q in np.percentile(v, [tail, 100 - tail]))
                             if ok.any() else None)
        out[c] = interval
    return out


def comparison_table(results, anchors=ANCHORS, f1_anchors=F1_ANCHORS):
    """One row per DS2 result and per published anchor: Se, +P and F1 of S and V, in %.

    Parameters
    ----------
    results : dict
        Name -> an :func:`interpatient` result (or anything with ``per_class``,
        ``accuracy`` and ``macro_f1``).
    anchors : dict
        Name -> ``{"S": (Se, +P), "V": (Se, +P)}`` in %; their F1 is computed.
    f1_anchors : dict
        Name -> ``{"S": F1, "V": F1, "accuracy": ...}`` in %, for papers that give F1 only.

    Returns
    -------
    pandas.DataFrame
        Columns ``S Se``, ``S +P``, ``S F1``, ``V Se``, ``V +P``, ``V F1``,
        ``accuracy``, ``macro F1`` (NaN where a source does not say).

    Example
    -------
    >>> t = comparison_table({}, {"x": {"S": (60.0, 40.0), "V": (80.0, 80.0)}}, {})
    >>> float(t.loc["x", "S F1"])
    48.0
    """
    import pandas as pd

    def f1(se, ppv):
        return 2 * se * ppv / (se + ppv) if se + ppv else 0.0

    def pct(x):
        return np.nan if x is None else 100 * x

    rows = {}
    for name, r in results.items():
        pc = r["per_class"]
        rows[name] = {f"{c} {k}": pct(pc[c][key]) for c in ("S", "V")
                      for k, key in (("Se", "se"), ("+P", "ppv"), ("F1", "f1"))}
        rows[name].update({"accuracy": pct(r["accuracy"]), "macro F1": pct(r["macro_f1"])})
    for name, a in anchors.items():
        rows[name] = {f"{c} {k}": v for c in ("S", "V")
                      for k, v in zip(("Se", "+P", "F1"), (*a[c], f1(*a[c])))}
    for name, a in f1_anchors.items():
        rows[name] = {"S F1": a["S"], "V F1": a["V"], "accuracy": a.get("accuracy", np.nan)}
    columns = ["S Se", "S +P", "S F1", "V Se", "V +P", "V F1", "accuracy", "macro F1"]
    return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns).round(1)


def _pct(x):
    return "—" if x is None else f"{100 * x:.1f}"


def format_interpatient_report(result: dict) -> str:
    """The DS2 scores of :func:`interpatient` beside the published anchors, as text."""
    from ecgtut.metrics import format_metrics_table
    from ecgtut.precision import format_precision

    s = result["settings"]
    chosen = (f"{s['epochs']} epochs on all of DS1" if s.get("select") == "last" else
              f"epoch by {s.get('select', 'accuracy').replace('_', ' ')} on DS1 records "
              f"{', '.join(s['val_records'])}")
    extras = [f"{len(s['seeds'])} seeds averaged" if len(s.get("seeds", [])) > 1 else "",
              f"S from p >= {s['s_threshold']}" if s.get("s_threshold") is not None else "",
              f"N kept <= {s['n_ratio']}x the rest" if s.get("n_ratio") else "",
              f"dropout {s['dropout']}" if s.get("dropout") else "",
              "no augmentation" if s.get("augment") is False else ""]
    lines = [f"inter-patient DS1 -> DS2, features {s['features']}, "
             f"{'class-weighted' if s['weighted'] else 'unweighted'} loss"
             f"{''.join(', ' + e for e in extras if e)}"
             f"{', fast smoke run' if s['fast'] else ''}; {result['n_beats']} beats, "
             f"{result['seconds']:.0f} s; {chosen}",
             format_precision(result["precision"]), "",
             format_metrics_table({**result, "per_class": {
                 c: {**v, "support": result["folds"][0]["per_class"][c]["support"]}
                 for c, v in result["per_class"].items()}}),
             "", f"{'DS2, Se / +P (%)':<26}{'S Se':>7}{'S +P':>7}{'V Se':>7}{'V +P':>7}"]
    pc = result["per_class"]
    lines.append(f"{'ours':<26}{_pct(pc['S']['se']):>7}{_pct(pc['S']['ppv']):>7}"
                 f"{_pct(pc['V']['se']):>7}{_pct(pc['V']['ppv']):>7}")
    for name, a in ANCHORS.items():
        lines.append(f"{name:<26}{a['S'][0]:>7.1f}{a['S'][1]:>7.1f}{a['V'][0]:>7.1f}"
                     f"{a['V'][1]:>7.1f}")
    return "\n".join(lines)
