"""Chapter 06 -- k-fold cross-validation of the multi-scale CNN.

:func:`cross_validate` is the paper's Experiment 3 (intra-patient k-fold over
beats, stratified), with the epoch of each fold chosen on a validation split
carved out of the training folds (:func:`kfold_splits`), never on the test
fold. Every random choice of a run follows from one seed (:func:`fold_seed`).
What the folds hold is counted by :func:`fold_class_counts` and
:func:`fold_class_shares`.

Example
-------
>>> y = np.array([0] * 40 + [1] * 10)
>>> [tuple(map(len, s)) for s in kfold_splits(y, folds=5)][0]
(36, 4, 10)
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.datasets import stratified_split
from ecgtut.metrics import classification_metrics, mean_over_folds

__all__ = [
    "MAX_SEED", "check_seed", "fold_seed", "max_seed", "kfold_splits", "fold_class_counts",
    "fold_class_shares", "cross_validate",
]

MAX_SEED = 2**32 - 1
"""The largest seed NumPy (and so :func:`ecgtut.set_seed`) accepts."""


def check_seed(seed, folds):
    """Raise ValueError unless every round of a ``folds``-fold run seeded ``seed`` has a valid seed.

    The one check of a run's seed, made by :func:`kfold_splits`, by
    :func:`ecgtut.reproduce` before it loads anything and by the CLI.

    Example
    -------
    >>> check_seed(0, 5)
    >>> check_seed(max_seed(5) + 1, 5)
    Traceback (most recent call last):
    ...
    ValueError: seed must be from 0 to 858993458 with 5 folds, got 858993459
    """
    if not 0 <= seed <= max_seed(folds):  # every round's seed must fit in 0 .. 2**32 - 1
        raise ValueError(f"seed must be from 0 to {max_seed(folds)} with {folds} folds, got {seed}")


def fold_seed(seed, folds, k):
    """The seed of round ``k`` (0-based) of a ``folds``-fold run seeded ``seed``.

    ``seed * folds + k``: runs with different seeds never share a round's
    seed, so ``--seed 1`` is a run independent of ``--seed 0`` (with
    ``seed + k``, round 2 of one would repeat round 1 of the other).

    Example
    -------
    >>> [fold_seed(0, 5, k) for k in range(5)], [fold_seed(1, 5, k) for k in range(5)]
    ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    """
    if not 0 <= k < folds:
        raise ValueError(f"round k={k} is not one of the {folds} rounds (0 to {folds - 1})")
    check_seed(seed, folds)
    return seed * folds + k


def max_seed(folds):
    """The largest ``seed`` a ``folds``-fold run accepts (see :func:`fold_seed`).

    Example
    -------
    >>> max_seed(5)
    858993458
    """
    return (MAX_SEED - (folds - 1)) // folds


def kfold_splits(y, folds=5, seed=0, val_fraction=0.1):
    """The training, validation and test beats of each round of a stratified k-fold.

    Test folds come from ``StratifiedKFold(folds, shuffle=True,
    random_state=seed)``; round ``k`` then carves a stratified validation
    split (``val_fraction`` of its training folds, seed
    ``fold_seed(seed, folds, k)``) out of the training folds. These are the
    splits of :func:`cross_validate`.

    Parameters
    ----------
    y : array of int, shape (n_beats,)
        Class of each beat.
    folds : int
        Number of folds (rounds), at least 2.
    seed : int
        Seed of the folds and of the validation splits.
    val_fraction : float
        Share (0-1) of each round's training folds held out for validation.

    Yields
    ------
    train, val, test : arrays of int
        Indices into ``y``, one triple per round.

    Example
    -------
    >>> y = np.array([0] * 40 + [1] * 10)
    >>> [tuple(map(len, s)) for s in kfold_splits(y, folds=5)][0]
    (36, 4, 10)
    """
    check_seed(seed, folds)  # a seed too large fails now, not at the last round
    y = np.asarray(y)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), y)):
        tr, va = stratified_split(y[train_idx], val_fraction, seed=fold_seed(seed, folds, k))
        yield train_idx[tr], train_idx[va], test_idx


def fold_class_counts(y, folds=5, seed=0, stratified=True, n_classes=None):
    """Beats of each class in each test fold of a shuffled k-fold split.

    Parameters
    ----------
    y : array of int, shape (n_beats,)
        Class labels 0 .. n_classes-1.
    folds, seed : int
        Number of folds; seed of the shuffle.
    stratified : bool
        ``True``: ``StratifiedKFold`` (same class ratios in every fold, as
        :func:`cross_validate` does); ``False``: ``KFold`` on the shuffled
        beats, as the write-up did.
    n_classes : int, optional
        Number of columns; default ``y.max() + 1``.

    Returns
    -------
    array of int, shape (folds, n_classes)
        Row k: the beats of each class in test fold k.

    Example
    -------
    >>> fold_class_counts(np.array([0] * 8 + [1] * 2), folds=2)
    array([[4, 1],
           [4, 1]])
    """
    y = np.asarray(y)
    n_classes = n_classes or int(y.max()) + 1
    kind = StratifiedKFold if stratified else KFold
    splitter = kind(n_splits=folds, shuffle=True, random_state=seed)
    return np.array([np.bincount(y[test], minlength=n_classes)
                     for _, test in splitter.split(np.zeros(len(y)), y)])


def fold_class_shares(counts):
    """Share of each class in each test fold, relative to its share in all beats.

    A value of 1 means the fold holds the class in exactly the proportion of
    the whole data set; 0.5 means half as many of its beats as it should.

    Parameters
    ----------
    counts : array of int, shape (folds, n_classes)
        Beats of each class in each test fold (:func:`fold_class_counts`).

    Returns
    -------
    dict
        ``ratio`` (folds, n_classes): share in the fold / share in all beats;
        ``overall`` (n_classes,): each class's share of all beats (0-1).

    Example
    -------
    >>> np.round(fold_class_shares([[9, 1], [8, 2]])["ratio"], 2)
    array([[1.06, 0.67],
           [0.94, 1.33]])
    """
    counts = np.asarray(counts, dtype=float)
    overall = counts.sum(axis=0) / counts.sum()
    return {"ratio": counts / counts.sum(axis=1, keepdims=True) / overall, "overall": overall}


def cross_validate(X, y, classes, *, folds=5, seed=0, recipe="fast", class_weights=None,
                   val_fraction=0.1, features=None, window=DEFAULT_WINDOW, track_test=False,
                   progress=True, device=None, **overrides) -> dict:
    """Stratified k-fold cross-validation of the multi-scale CNN over beats.

    Intra-patient, as the paper's Experiment 3: beats are shuffled and split
    into ``folds`` folds with the same class ratios
    (``StratifiedKFold(shuffle=True, random_state=seed)``), so beats of one
    patient land in training and test alike. For each fold a fresh model is
    trained on the other folds, its epoch chosen on a stratified validation
    split (``val_fraction`` of the training folds), then scored on the fold.

    Parameters
    ----------
    X : array, shape (n_beats, 251)
        Beats (not standardised).
    y : array of int, shape (n_beats,)
        Class indices into ``classes``.
    classes : sequence of str
        Class names, e.g. ``("N", "S", "V", "F")``.
    folds, seed : int
        Number of folds; seed of the folds (``seed``) and of round ``k``'s
        validation split and training (:func:`fold_seed`: ``seed * folds + k``).
    recipe, class_weights
        Passed to :func:`ecgtut.fit`.
    val_fraction : float
        Share (0-1) of the training folds held out to choose the epoch.
    features : array, shape (n_beats, n_features), optional
        Second input of the model (e.g. RR intervals).
    window : BeatWindow
        The window the beats were cut with (the model is built for it).
    track_test : bool
        Also record the test fold's accuracy after every epoch
        (``history["test_acc"]``), only to show what choosing the epoch on
        the test fold would report (see :func:`ecgtut.epoch_selection_pitfall`).
    **overrides
        Settings of the recipe, passed to :func:`ecgtut.fit`: ``epochs``,
        ``batch_size``, ``lr``, ``precision`` (``"auto"``, ``"float32"`` or
        ``"bfloat16"``)...

    Returns
    -------
    dict
        ``classes``; ``folds``: one :func:`classification_metrics` dict per
        fold, plus ``fold``, ``best_epoch``, ``epochs_run``, ``n_train``,
        ``n_val``, ``n_test``, ``seconds``, ``precision`` (what the fold
        trained in, ``"float32"`` or ``"bfloat16"``); ``mean``: accuracy, macro F1 and
        per-class Se/+P averaged over folds; ``confusion``: counts pooled
        over folds (k, k); ``y_pred``: the out-of-fold prediction of every
        beat (n_beats,); ``histories``: one :func:`ecgtut.fit` history per fold;
        ``seconds``: wall time.

    Example
    -------
    Two folds of 60 random "beats", one short epoch each (a few seconds):

    >>> X = np.random.default_rng(0).normal(size=(60, 251)).astype("float32")
    >>> y = np.arange(60) % 2
    >>> cv = cross_validate(X, y, ("N", "V"), folds=2, epochs=1, batch_size=16, progress=False)
    >>> len(cv["folds"]), int(np.sum(cv["confusion"])), cv["y_pred"].shape
    (2, 60, (60,))
    """
    from ecgtut.model import MultiScaleCNN
    from ecgtut.train import fit, predict, set_seed

    X, y = np.asarray(X), np.asarray(y)
    features = None if features is None else np.asarray(features)
    n_features = 0 if features is None else features.shape[1]

    def beats(idx):  # (X, y) or (X, y, features) of some beats, as fit takes them
        return (X[idx], y[idx]) if features is None else (X[idx], y[idx], features[idx])

    start, results, histories = time.perf_counter(), [], []
    y_pred = np.full(len(y), -1)
    for k, (tr, va, test_idx) in enumerate(kfold_splits(y, folds, seed, val_fraction)):
        t0 = time.perf_counter()
        set_seed(fold_seed(seed, folds, k))
        net = MultiScaleCNN(n_classes=len(classes), window=window, n_features=n_features)
        monitor = {"test": beats(test_idx)} if track_test else None
        net, history = fit(net, beats(tr), beats(va), recipe=recipe, class_weights=class_weights,
                           seed=fold_seed(seed, folds, k), device=device, progress=progress,
                           monitor=monitor, desc=f"fold {k + 1}/{folds}", **overrides)
        y_pred[test_idx] = predict(net, X[test_idx], device=device,
                                   features=None if features is None else features[test_idx])[0]
        m = classification_metrics(y[test_idx], y_pred[test_idx], classes)
        results.append({"fold": k + 1, **m, "best_epoch": history["best_epoch"],
                        "epochs_run": len(history["epoch"]), "n_train": len(tr),
                        "n_val": len(va), "n_test": len(test_idx),
                        "seconds": time.perf_counter() - t0,
                        "precision": history["precision"]["train"]})
        histories.append(history)
    return {
        "classes": list(classes), "folds": results, "mean": mean_over_folds(results),
        "confusion": np.sum([r["confusion"] for r in results], axis=0).tolist(),
        "y_pred": y_pred, "histories": histories, "seconds": time.perf_counter() - start,
    }
