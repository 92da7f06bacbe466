"""Chapter 07 -- choosing settings on DS1 patients only, never on DS2.

Every setting of chapter 07 -- class weights, RR features, epochs,
augmentation, dropout, undersampling N, an ensemble of seeds, a decision
threshold for S -- is scored by :func:`ds1_cross_validate`: a patient-grouped
k-fold over the 22 DS1 records, whose pooled predictions are scored as one set.
:func:`decide` turns probabilities into classes, with an optional S threshold
chosen on those DS1 predictions by :func:`best_s_threshold`. The training
helpers here are shared with :func:`ecgtut.interpatient`, and every one of
them goes through the DS2 guard (:func:`ecgtut.check_training_records`).

Example
-------
>>> decide(np.array([[0.7, 0.3, 0, 0], [0.9, 0.1, 0, 0]]), s_threshold=0.2)
array([1, 0])
"""

from __future__ import annotations

import numpy as np

from ecgtut import patients
from ecgtut.database import DS1, DS2
from ecgtut.patients import CLASSES, FEATURE_SETS, check_training_records, class_indices

__all__ = ["S_THRESHOLDS", "decide", "best_s_threshold", "balanced_weights", "fit_networks",
           "ensemble_proba", "ds1_cross_validate", "interpatient", "intra_patient_baseline"]


def _undersample_normal(rows, y, n_ratio, seed):
    """Keep at most ``n_ratio`` N beats per beat of the other classes (None: all)."""
    if n_ratio is None:
        return rows
    normal = rows[y[rows] == 0]
    keep = int(n_ratio * (len(rows) - len(normal)))
    if keep >= len(normal):
        return rows
    chosen = np.random.default_rng(seed).choice(normal, keep, replace=False)
    return np.sort(np.r_[rows[y[rows] != 0], chosen])


def decide(proba, s_threshold=None):
    """Class of each beat from the probabilities: the most probable, or S from ``s_threshold`` on.

    Parameters
    ----------
    proba : array, shape (n_beats, 4)
        Probabilities of N, S, V, F (e.g. the mean over an ensemble).
    s_threshold : float, optional
        A beat whose S probability reaches it is called S, whatever else is
        more probable; chosen on DS1 (:func:`best_s_threshold`), never on DS2.

    Example
    -------
    >>> decide(np.array([[0.7, 0.3, 0, 0], [0.9, 0.1, 0, 0]]), s_threshold=0.2)
    array([1, 0])
    """
    pred = np.asarray(proba).argmax(1)
    if s_threshold is not None:
        pred[np.asarray(proba)[:, 1] >= s_threshold] = 1
    return pred


#: The S thresholds :func:`best_s_threshold` tries: 0.05, 0.10, ..., 0.95.
S_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 20))


def best_s_threshold(y, proba, grid=S_THRESHOLDS):
    """The S threshold of :func:`decide` with the best S F1 on (DS1) predictions.

    Returns
    -------
    threshold : float
    f1 : dict
        S F1 for every threshold tried.
    """
    from sklearn.metrics import f1_score

    f1 = {float(t): float(f1_score(y, decide(proba, t), labels=[1], average="macro",
                                   zero_division=0)) for t in grid}
    return max(f1, key=f1.get), f1


def balanced_weights(y):
    """sklearn's "balanced" class weights, n / (k * count), and 0 for a class with no beat.

    A patient-grouped fold can hold out the only record rich in a class (most F
    beats of DS1 are in record 208): the other folds then train without it.
    """
    counts = np.bincount(y, minlength=len(CLASSES)).astype(float)
    present = counts > 0
    weights = np.zeros(len(CLASSES))
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def fit_networks(beats, y_all, F, train_rows, val_rows, *, seeds, weighted, select, dropout,
              n_ratio, progress, desc, guard=True, **fit_settings):
    """Train one network per seed on ``train_rows`` (DS1 only: the guard checks)."""
    from ecgtut.model import MultiScaleCNN
    from ecgtut.runtime import set_seed
    from ecgtut.train import fit

    def part(rows):
        return (beats.X[rows], y_all[rows]) + (() if F is None else (F[rows],))

    nets, histories = [], []
    for seed in seeds:
        rows = _undersample_normal(train_rows, y_all, n_ratio, seed)
        seen = rows if val_rows is None else np.r_[rows, val_rows]
        if guard:  # off only for a deployable model trained on all 44 records on purpose
            check_training_records(beats.record[seen])  # the guard: no DS2 beat gets past
        set_seed(seed)
        net = MultiScaleCNN(n_classes=len(CLASSES), window=beats.window, dropout=dropout,
                            n_features=0 if F is None else F.shape[1])
        net, history = fit(net, part(rows), None if val_rows is None else part(val_rows),
                           seed=seed, progress=progress, select=select, desc=desc,
                           class_weights=balanced_weights(y_all[rows]) if weighted else None,
                           **fit_settings)
        nets.append(net)
        histories.append(history)
    return nets, histories


def ensemble_proba(nets, beats, F, rows):
    """Mean class probabilities of an ensemble over some rows of a beat set."""
    from ecgtut.train import predict

    return np.mean([predict(net, beats.X[rows], features=None if F is None else F[rows])[1]
                    for net in nets], axis=0)


def _setup(beats, data_dir, features, fast, seed, progress, recipe, epochs, precision, augment,
           lr):
    """Beats, labels, features, DS1/DS2 rows and the fit settings shared by the two runs."""
    from ecgtut.datasets import stratified_subsample
    from ecgtut.features import beat_rr_features
    from ecgtut.train import recipe_settings

    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS}, got {features!r}")
    batch_size = None
    if fast:
        epochs, batch_size = epochs or 2, 32
    extra = {} if augment else {"shift": 0, "stretch": 0.0}
    fit_settings = dict(recipe=recipe, epochs=epochs, batch_size=batch_size,
                        precision=precision, lr=lr, **extra)
    settings = recipe_settings(**fit_settings)
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    ds1, ds2 = patients.split_patients(beats, CLASSES)  # (a test can replace it)
    y_all = class_indices(beats.aami)
    if fast:
        ds1 = ds1[stratified_subsample(y_all[ds1], 3000, seed)]
        ds2 = ds2[stratified_subsample(y_all[ds2], 3000, seed)]
    F = beat_rr_features(beats) if features == "beat+rr" else None
    return beats, y_all, F, ds1, ds2, fit_settings, settings


def ds1_cross_validate(data_dir=None, *, beats=None, folds=3, features="beat", weighted=True,
                       epochs=6, lr=None, augment=True, dropout=0.0, n_ratio=None, seeds=(0,),
                       seed=0, fast=False, progress=True, recipe="fast", precision=None) -> dict:
    """Score a setting on DS1 alone: patient-grouped k-fold, the only place settings are chosen.

    ``StratifiedGroupKFold`` over the 22 DS1 records: each fold's network
    trains on the other folds' patients for a fixed number of epochs (nothing
    is chosen on the held-out patients) and predicts the held-out ones. The
    predictions of all folds are pooled and scored as one set.

    Parameters
    ----------
    folds : int
        Groups of DS1 patients.
    features, weighted, epochs, lr, augment, dropout, n_ratio, seeds
        The setting (see :func:`interpatient`).
    seed : int
        Seed of the grouping of the patients.
    fast, progress, recipe, precision
        As in :func:`interpatient`.

    Returns
    -------
    dict
        ``score`` (the mean of the S and V F1, what settings are ranked by),
        ``accuracy``, ``macro_f1``, ``per_class``, ``confusion`` of the pooled
        predictions; ``s_threshold`` and ``s_f1_by_threshold``
        (:func:`best_s_threshold` on the pooled probabilities); ``seconds``;
        ``settings``. With ``proba``, ``y`` and ``records`` (numpy arrays) for plots.
    """
    import time

    from sklearn.model_selection import StratifiedGroupKFold

    from ecgtut.metrics import classification_metrics

    start = time.perf_counter()
    beats, y_all, F, ds1, _, fit_settings, settings = _setup(
        beats, data_dir, features, fast, seed, progress, recipe, epochs, precision, augment, lr)
    proba = np.zeros((len(ds1), len(CLASSES)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, va) in enumerate(splitter.split(ds1, y_all[ds1], beats.record[ds1]), 1):
        nets, _ = fit_networks(beats, y_all, F, ds1[tr], None, seeds=seeds, weighted=weighted,
                            select="last", dropout=dropout, n_ratio=n_ratio, progress=progress,
                            desc=f"DS1 fold {k}/{folds}", **fit_settings)
        proba[va] = ensemble_proba(nets, beats, F, ds1[va])
    m = classification_metrics(y_all[ds1], decide(proba), CLASSES)
    threshold, f1s = best_s_threshold(y_all[ds1], proba)
    return {"score": (m["per_class"]["S"]["f1"] + m["per_class"]["V"]["f1"]) / 2,
            **{k: m[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")},
            "s_threshold": threshold, "s_f1_by_threshold": f1s,
            "seconds": time.perf_counter() - start,
            "settings": {"features": features, "weighted": weighted, "dropout": dropout,
                         "n_ratio": n_ratio, "seeds": list(seeds), "augment": augment,
                         "folds": folds, "fast": fast, **settings},
            "proba": proba, "y": y_all[ds1], "records": beats.record[ds1]}


def interpatient(data_dir=None, *, beats=None, features="beat", weighted=True, seed=0,
                 select="accuracy", fast=False, progress=True, recipe="fast", epochs=None,
                 precision=None, lr=None, augment=True, dropout=0.0, n_ratio=None, seeds=None,
                 s_threshold=None) -> dict:
    """Train on DS1, score once on DS2; plain JSON.

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
    select : "accuracy", "balanced_accuracy" or "last"
        How the epoch is chosen. The first two: on held-out DS1 patients
        (:func:`validation_records`; see :func:`ecgtut.fit`). ``"last"``: all of
        DS1 trains for ``epochs`` epochs, a number chosen beforehand with
        :func:`ds1_cross_validate`.
    fast : bool
        Smoke run: about 3000 DS1 and 3000 DS2 beats, 2 epochs of batches of 32.
    recipe, epochs, precision, lr
        As in :func:`ecgtut.fit`.
    augment : bool
        The recipe's random shifts and stretches of the training beats (False: none).
    dropout : float
        Dropout before the classifier (:class:`ecgtut.MultiScaleCNN`).
    n_ratio : float, optional
        Keep at most this many N beats per beat of the other classes in
        training (a random subset: a cheaper way to balance than weights).
    seeds : sequence of int, optional
        One network per seed, their probabilities averaged (default: ``(seed,)``).
    s_threshold : float, optional
        Call a beat S from this S probability on (:func:`decide`); chosen on DS1.

    Returns
    -------
    dict (JSON-serialisable)
        As :func:`ecgtut.reproduce`: ``accuracy``, ``macro_f1``, ``per_class``,
        ``confusion``, ``folds`` (one entry: DS2), ``seconds``, ``classes``,
        ``n_beats``, ``settings`` (with ``features``, ``weighted`` and the DS1
        ``val_records``), ``precision``; plus ``per_record``: the metrics of
        each DS2 record, and ``validation``: the same metrics on the held-out
        DS1 patients (None with ``select="last"``).
    """
    import time

    from ecgtut.metrics import classification_metrics

    start = time.perf_counter()
    seeds = tuple(seeds or (seed,))
    beats, y_all, F, ds1, ds2, fit_settings, settings = _setup(
        beats, data_dir, features, fast, seed, progress, recipe, epochs, precision, augment, lr)
    if select == "last":
        val_recs, tr, va = [], ds1, None
    else:
        val_recs = patients.validation_records(beats, ds1, seed)
        in_val = np.isin(beats.record[ds1], val_recs)
        tr, va = ds1[~in_val], ds1[in_val]
    nets, histories = fit_networks(beats, y_all, F, tr, va, seeds=seeds, weighted=weighted,
                                select=select, dropout=dropout, n_ratio=n_ratio,
                                progress=progress, desc="DS1", **fit_settings)
    val = None
    if va is not None:  # what the settings may be chosen on: held-out DS1 patients, never DS2
        vm = classification_metrics(
            y_all[va], decide(ensemble_proba(nets, beats, F, va), s_threshold), CLASSES)
        val = {k: vm[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")}
    y_pred = decide(ensemble_proba(nets, beats, F, ds2), s_threshold)
    m = classification_metrics(y_all[ds2], y_pred, CLASSES)
    per_record = patients.interpatient_result(beats, ds1, ds2, y_all[ds2], y_pred, m)["per_record"]
    seconds = time.perf_counter() - start
    fold = {"fold": 1, **{k: m[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")},
            "best_epoch": histories[0]["best_epoch"], "epochs_run": len(histories[0]["epoch"]),
            "n_train": len(tr), "n_val": 0 if va is None else len(va), "n_test": len(ds2),
            "seconds": seconds, "precision": histories[0]["precision"]["train"]}
    return {
        "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
        "per_class": {c: {k: m["per_class"][c][k] for k in ("se", "ppv", "f1")}
                      for c in CLASSES},
        "confusion": m["confusion"], "folds": [fold], "seconds": seconds,
        "classes": list(CLASSES), "n_beats": int(len(ds1) + len(ds2)),
        "settings": {"protocol": "inter-patient DS1 -> DS2", "features": features,
                     "weighted": weighted, "select": select, "seed": seed, "fast": fast,
                     "val_records": val_recs, "seeds": list(seeds), "dropout": dropout,
                     "n_ratio": n_ratio, "augment": augment, "s_threshold": s_threshold,
                     "recipe": recipe if isinstance(recipe, str) else "custom", **settings},
        "precision": {**histories[0]["precision"],
                      "train_per_fold": [h["precision"]["train"] for h in histories]},
        "per_record": per_record,
        "validation": val,
    }


def intra_patient_baseline(data_dir=None, *, beats=None, test_fraction=0.2, seed=0,
                           fast=False, progress=True, recipe="fast", epochs=None,
                           precision=None) -> dict:
    """The same network scored chapter 06's way on the same 44 records: beats split, not patients.

    A stratified ``test_fraction`` of the DS1 and DS2 beats (4 classes) is the
    test set; the epoch is chosen on 10 % of the rest; unweighted loss. Beats of
    every patient are on both sides, so the score is intra-patient -- the
    number to hold the inter-patient one against.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``per_class`` (``se``, ``ppv``, ``f1``,
        ``support``), ``confusion``, ``n_train``, ``n_test``, ``seconds``.
    """
    import time

    from ecgtut.datasets import stratified_split, stratified_subsample
    from ecgtut.metrics import classification_metrics
    from ecgtut.model import MultiScaleCNN
    from ecgtut.runtime import set_seed
    from ecgtut.train import fit, predict

    start = time.perf_counter()
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    rows = np.flatnonzero(np.isin(beats.record, DS1 + DS2) & np.isin(beats.aami, CLASSES))
    y_all = class_indices(beats.aami)
    batch_size = None
    if fast:
        rows = rows[stratified_subsample(y_all[rows], 6000, seed)]
        epochs, batch_size = epochs or 2, 32
    tr, te = (rows[i] for i in stratified_split(y_all[rows], test_fraction, seed))
    tr, va = (tr[i] for i in stratified_split(y_all[tr], 0.1, seed))
    set_seed(seed)
    net = MultiScaleCNN(n_classes=len(CLASSES), window=beats.window)
    net, _ = fit(net, (beats.X[tr], y_all[tr]), (beats.X[va], y_all[va]), recipe=recipe,
                 seed=seed, progress=progress, desc="intra", epochs=epochs,
                 batch_size=batch_size, precision=precision)
    m = classification_metrics(y_all[te], predict(net, beats.X[te])[0], CLASSES)
    return {**{k: m[k] for k in ("accuracy", "macro_f1", "per_class", "confusion")},
            "n_train": len(tr) + len(va), "n_test": len(te),
            "seconds": time.perf_counter() - start}
