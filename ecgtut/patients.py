"""Chapter 06 -- the inter-patient protocol: train on DS1, test on DS2, never mix them.

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
           "validation_records", "interpatient", "format_interpatient_report"]


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

CLASSES = ("N", "S", "V", "F")
FEATURE_SETS = ("beat", "beat+rr")


def _labels(aami):
    """Class index of each beat in :data:`CLASSES` (-1 for Q)."""
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

    y = _labels(beats.aami[train_rows])
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


def interpatient(data_dir=None, *, beats=None, features="beat", weighted=True, seed=0,
                 select="accuracy", fast=False, progress=True, recipe="fast", epochs=None,
                 precision=None) -> dict:
    """Train on DS1, choose the epoch on held-out DS1 patients, score once on DS2; plain JSON.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    beats : BeatSet, optional
        A beat set already loaded (then ``data_dir`` is not read).
    features : "beat" or "beat+rr"
        The beat alone, or with its RR-interval features
        (:func:`ecgtut.beat_rr_features`) as the model's second input.
    weighted : bool
        Class-weighted cross-entropy (``class_weights="balanced"``).
    seed : int
        Seed of the validation split, the weights, batches and augmentation.
    select : "accuracy" or "balanced_accuracy"
        What the epoch is chosen on, on the held-out DS1 patients (see :func:`ecgtut.fit`).
    fast : bool
        Smoke run: about 3000 DS1 and 3000 DS2 beats, 2 epochs of batches of 32.
    recipe, epochs, precision
        As in :func:`ecgtut.fit`.

    Returns
    -------
    dict (JSON-serialisable)
        As :func:`ecgtut.reproduce`: ``accuracy``, ``macro_f1``, ``per_class``,
        ``confusion``, ``folds`` (one entry: DS2), ``seconds``, ``classes``,
        ``n_beats``, ``settings`` (with ``features``, ``weighted`` and the DS1
        ``val_records``), ``precision``; plus ``per_record``: the metrics of
        each DS2 record, and ``validation``: the same metrics on the held-out
        DS1 patients, the only scores a setting may be chosen on.
    """
    import time

    from ecgtut.datasets import stratified_subsample
    from ecgtut.features import beat_rr_features
    from ecgtut.metrics import classification_metrics
    from ecgtut.model import MultiScaleCNN
    from ecgtut.runtime import set_seed
    from ecgtut.train import fit, predict, recipe_settings

    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS}, got {features!r}")
    start = time.perf_counter()
    batch_size = None
    if fast:
        epochs, batch_size = epochs or 2, 32
    settings = recipe_settings(recipe, epochs=epochs, batch_size=batch_size, precision=precision)
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    ds1, ds2 = split_patients(beats, CLASSES)
    y_all = _labels(beats.aami)
    if fast:
        ds1 = ds1[stratified_subsample(y_all[ds1], 3000, seed)]
        ds2 = ds2[stratified_subsample(y_all[ds2], 3000, seed)]
    val_recs = validation_records(beats, ds1, seed)
    in_val = np.isin(beats.record[ds1], val_recs)
    tr, va = ds1[~in_val], ds1[in_val]
    check_training_records(beats.record[np.r_[tr, va]])  # the guard: no DS2 beat gets past here
    F = beat_rr_features(beats) if features == "beat+rr" else None

    def part(rows):
        return (beats.X[rows], y_all[rows]) + (() if F is None else (F[rows],))

    set_seed(seed)
    net = MultiScaleCNN(n_classes=len(CLASSES), window=beats.window,
                        n_features=0 if F is None else F.shape[1])
    net, history = fit(net, part(tr), part(va), recipe=recipe, seed=seed, progress=progress,
                       class_weights="balanced" if weighted else None, desc="DS1", select=select,
                       epochs=epochs, batch_size=batch_size, precision=precision)
    # what the settings may be chosen on: the held-out DS1 patients, never DS2
    val_pred = predict(net, beats.X[va], features=None if F is None else F[va])[0]
    val = classification_metrics(y_all[va], val_pred, CLASSES)
    y_pred = predict(net, beats.X[ds2], features=None if F is None else F[ds2])[0]
    m = classification_metrics(y_all[ds2], y_pred, CLASSES)
    per_record = {}
    for r in sorted(set(beats.record[ds2].tolist())):
        rows = beats.record[ds2] == r
        rm = classification_metrics(y_all[ds2][rows], y_pred[rows], CLASSES)
        per_record[r] = {"n_beats": int(rows.sum()), "accuracy": rm["accuracy"],
                         "per_class": {c: {k: rm["per_class"][c][k]
                                           for k in ("se", "ppv", "support", "predicted")}
                                       for c in CLASSES}}
    seconds = time.perf_counter() - start
    fold = {"fold": 1, **{k: m[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")},
            "best_epoch": history["best_epoch"], "epochs_run": len(history["epoch"]),
            "n_train": len(tr), "n_val": len(va), "n_test": len(ds2), "seconds": seconds,
            "precision": history["precision"]["train"]}
    return {
        "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
        "per_class": {c: {k: m["per_class"][c][k] for k in ("se", "ppv", "f1")}
                      for c in CLASSES},
        "confusion": m["confusion"], "folds": [fold], "seconds": seconds,
        "classes": list(CLASSES), "n_beats": int(len(tr) + len(va) + len(ds2)),
        "settings": {"protocol": "inter-patient DS1 -> DS2", "features": features,
                     "weighted": weighted, "select": select, "seed": seed, "fast": fast,
                     "val_records": val_recs,
                     "recipe": recipe if isinstance(recipe, str) else "custom", **settings},
        "precision": {**history["precision"], "train_per_fold": [fold["precision"]]},
        "per_record": per_record,
        "validation": {k: val[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")},
    }


def _pct(x):
    return "—" if x is None else f"{100 * x:.1f}"


def format_interpatient_report(result: dict) -> str:
    """The DS2 scores of :func:`interpatient` beside the published anchors, as text."""
    from ecgtut.metrics import format_metrics_table
    from ecgtut.precision import format_precision

    s = result["settings"]
    lines = [f"inter-patient DS1 -> DS2, features {s['features']}, "
             f"{'class-weighted' if s['weighted'] else 'unweighted'} loss, "
             f"epoch by {s.get('select', 'accuracy').replace('_', ' ')}"
             f"{', fast smoke run' if s['fast'] else ''}; {result['n_beats']} beats, "
             f"{result['seconds']:.0f} s; epoch chosen on DS1 records "
             f"{', '.join(s['val_records'])}",
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
