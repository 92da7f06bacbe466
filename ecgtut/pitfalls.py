"""Chapter 06 -- the pitfalls of evaluation, measured: test-fold choices, same-patient beats.

:func:`epoch_selection_pitfall` compares the epoch chosen on validation with
the one chosen on the test fold (what the write-up did);
:func:`selection_optimism` simulates how much the best of several looks at a
test set flatters it; :func:`same_record_neighbours` shows why an
intra-patient split is optimistic: a test beat's nearest training beat is
almost always from the same patient.
"""

from __future__ import annotations

import numpy as np

__all__ = ["epoch_selection_pitfall", "selection_optimism", "same_record_neighbours"]


def epoch_selection_pitfall(histories: list[dict]) -> dict:
    """Test accuracy when the epoch is chosen on validation vs on the test fold.

    The write-up kept, for each fold, the epoch with the best *test*
    accuracy: the test fold then takes part in model selection and the
    reported number is biased upwards. Needs histories that monitored the
    test fold: ``cross_validate(..., track_test=True)``, or
    ``fit(..., monitor={"test": (X_test, y_test)})``.

    Parameters
    ----------
    histories : list of dict
        One :func:`ecgtut.fit` history per fold (``cv["histories"]``),
        each with ``best_epoch`` and ``test_acc``.

    Returns
    -------
    dict of lists (one value per fold) and their means
        ``val_selected`` (test accuracy at the epoch chosen on validation:
        the honest number), ``test_selected`` (best test accuracy over
        epochs: the optimistic one), ``val_epoch``, ``test_epoch``,
        ``mean_val_selected``, ``mean_test_selected``.

    Example
    -------
    >>> h = {"best_epoch": 2, "test_acc": [0.95, 0.97, 0.98, 0.96]}
    >>> p = epoch_selection_pitfall([h])
    >>> p["val_selected"], p["test_selected"], p["test_epoch"]
    ([0.97], [0.98], [3])
    """
    if not all("test_acc" in h for h in histories):
        raise ValueError("these histories have no test_acc: run cross_validate with "
                         "track_test=True (fit with monitor={'test': ...})")
    val_epoch = [h["best_epoch"] for h in histories]
    test_epoch = [int(np.argmax(h["test_acc"])) + 1 for h in histories]
    val_sel = [h["test_acc"][e - 1] for h, e in zip(histories, val_epoch, strict=True)]
    test_sel = [max(h["test_acc"]) for h in histories]
    return {"val_selected": val_sel, "test_selected": test_sel, "val_epoch": val_epoch,
            "test_epoch": test_epoch, "mean_val_selected": float(np.mean(val_sel)),
            "mean_test_selected": float(np.mean(test_sel))}


def selection_optimism(accuracy, n_test, n_checks=100, n_sim=2000, seed=0):
    """Expected gain from reporting the best of several looks at one test set.

    A model of true accuracy ``accuracy`` is scored ``n_checks`` times on
    ``n_test`` test beats, each score an independent binomial draw
    (``Binomial(n_test, accuracy) / n_test``); reporting the best score
    instead of any one of them adds, on average, the returned gain. It is
    what choosing the epoch (or any setting) on the test fold does. Real
    epochs are correlated, so the real gain is smaller for the same number of
    checks, but it grows the same way: with every extra look.

    Parameters
    ----------
    accuracy : float
        True accuracy, 0-1.
    n_test : int
        Beats in the test fold.
    n_checks : int
        Largest number of looks (epochs, settings...) to simulate.
    n_sim, seed : int
        Number of simulated runs and their seed.

    Returns
    -------
    array of float, shape (n_checks,)
        Element ``m - 1``: expected ``max(score) - accuracy`` over ``m``
        looks (fraction, 0 for ``m = 1`` up to simulation noise).

    Example
    -------
    >>> gain = selection_optimism(0.99, 20000, n_checks=10)
    >>> gain.shape, bool(gain[9] > gain[1] > abs(gain[0]))
    ((10,), True)
    """
    rng = np.random.default_rng(seed)
    scores = rng.binomial(n_test, accuracy, size=(n_sim, n_checks)) / n_test
    return np.maximum.accumulate(scores, axis=1).mean(axis=0) - accuracy


def same_record_neighbours(X_train, record_train, X_test, record_test, normalize="zscore"):
    """For each test beat: is its nearest training beat from the same record (patient)?

    Beats are normalised one by one as the network sees them (see
    :func:`ecgtut.normalize_beats`); "nearest" is the Euclidean distance.

    Parameters
    ----------
    X_train, X_test : arrays, shape (n_train, n_samples) and (n_test, n_samples)
        Beats.
    record_train, record_test : arrays of str, shape (n_train,) and (n_test,)
        Record of each beat.
    normalize : "zscore", "center" or None
        How beats are normalised before measuring distances.

    Returns
    -------
    same : array of bool, shape (n_test,)
        True where the nearest training beat comes from the test beat's record.
    chance : array of float, shape (n_test,)
        Share of the training beats that come from the test beat's record: the
        probability of ``same`` if the neighbour were drawn at random.

    Example
    -------
    >>> X = np.array([[0, 1, 0], [0, 1, 0.1], [1, 0, 0], [1, 0, 0.1]])
    >>> rec = np.array(["a", "a", "b", "b"])
    >>> same_record_neighbours(X[[0, 2]], rec[[0, 2]], X[[1, 3]], rec[[1, 3]])
    (array([ True,  True]), array([0.5, 0.5]))
    """
    from sklearn.neighbors import NearestNeighbors

    from ecgtut.model import normalize_beats

    record_train, record_test = np.asarray(record_train), np.asarray(record_test)
    nn = NearestNeighbors(n_neighbors=1, algorithm="brute")
    nn.fit(normalize_beats(X_train, normalize))
    nearest = nn.kneighbors(normalize_beats(X_test, normalize), return_distance=False)[:, 0]
    names, counts = np.unique(record_train, return_counts=True)
    share = dict(zip(names.tolist(), (counts / len(record_train)).tolist()))
    chance = np.array([share.get(r, 0.0) for r in record_test.tolist()])
    return record_train[nearest] == record_test, chance
