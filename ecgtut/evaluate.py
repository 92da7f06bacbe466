"""Se, +P, F1, confusion matrices and cross-validation -- chapter 05.

Built on scikit-learn. Per class, with TP, FN, FP counted one class against
the rest (SPEC section 6):

- sensitivity ``Se = TP / (TP + FN)``: of the true beats of the class, the
  share found; undefined (``None``) when the class has no true beat;
- positive predictivity ``+P = TP / (TP + FP)``: of the beats predicted as the
  class, the share that are right; undefined (``None``) when the class is
  never predicted -- reported as such, never as a crash or a silent 0.

:func:`cross_validate` is the paper's Experiment 3 (intra-patient k-fold over
beats, stratified), with the epoch of each fold chosen on a validation split
carved out of the training folds. :func:`reproduce` runs it on MIT-BIH and
returns plain JSON, set beside the write-up's numbers by
:func:`format_reproduce_report`.

Example
-------
>>> m = classification_metrics([0, 0, 1, 1], [0, 0, 0, 1], classes=("N", "S"))
>>> m["accuracy"], m["per_class"]["S"]["se"], m["per_class"]["N"]["ppv"]
(0.75, 0.5, 0.6666666666666666)
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

MAX_SEED = 2**32 - 1  # the largest seed NumPy (and so set_seed) accepts

__all__ = [
    "REFERENCE", "classification_metrics", "format_metrics_table", "compare_with_reference",
    "fold_seed", "max_seed", "kfold_splits", "cross_validate", "epoch_selection_pitfall",
    "reproduce", "default_folds", "format_reproduce_report",
]

#: The write-up's intra-patient 5-fold results (SPEC section 7; the best fold the
#: author showed). Fractions, not percent; ``None`` = not reported / undefined.
REFERENCE = {
    5: {"accuracy": 0.9907, "macro_f1": 0.77, "per_class": {
        "N": {"se": 0.996, "ppv": 0.992}, "S": {"se": 0.815, "ppv": 0.980},
        "V": {"se": 0.970, "ppv": 0.980}, "F": {"se": 1.0, "ppv": 0.979},
        "Q": {"se": 0.0, "ppv": None}}},
    4: {"accuracy": 0.990, "macro_f1": 0.95, "per_class": {
        "N": {"se": 0.996, "ppv": 0.992}, "S": {"se": 0.803, "ppv": 0.886},
        "V": {"se": 0.974, "ppv": 0.982}, "F": {"se": 1.0, "ppv": 0.993}}},
}

_CLASS_SETS = {4: ("N", "S", "V", "F"), 5: ("N", "S", "V", "F", "Q")}
_DASH = "\u2014"  # shown for an undefined value


def _ratio(num, den):
    return float(num / den) if den else None


def classification_metrics(y_true, y_pred, classes) -> dict:
    """Accuracy, macro F1, per-class Se and +P, and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : arrays of int, shape (n_beats,)
        True and predicted class indices into ``classes``.
    classes : sequence of str
        Class names, e.g. ``("N", "S", "V", "F")``.

    Returns
    -------
    dict
        ``accuracy`` (0-1); ``macro_f1``: mean F1 over the classes that
        occur (as truth or prediction), a class with true beats but no
        prediction counting 0; ``per_class``: ``{name: {"se", "ppv", "f1",
        "support", "predicted"}}`` with ``None`` for undefined values;
        ``confusion``: counts, rows = true class, columns = predicted
        (list of lists, shape (k, k)); ``confusion_normalized``: each row
        divided by its total (NaN for a class without true beats). No beats
        at all gives zero counts and ``None`` for every metric.

    Example
    -------
    >>> m = classification_metrics([0, 1, 2], [0, 0, 0], classes=("N", "S", "V"))
    >>> m["per_class"]["S"]["ppv"] is None  # S is never predicted
    True
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, v in (("y_true", y_true), ("y_pred", y_pred)):
        if v.size and not (np.issubdtype(v.dtype, np.integer) and 0 <= v.min()
                           and v.max() < len(classes)):
            raise ValueError(f"{name} must hold class indices 0 to {len(classes) - 1} "
                             f"(positions in classes={tuple(classes)}), got {v[:4].tolist()}"
                             f"{'...' if v.size > 4 else ''}")
    labels = np.arange(len(classes))
    if y_true.size == 0 and y_pred.size == 0:  # e.g. a record without beats of these classes
        cm, f1 = np.zeros((len(labels), len(labels)), dtype=int), np.zeros(len(labels))
    else:
        cm = confusion_matrix(y_true, y_pred, labels=labels)
        f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    present = labels[(support + predicted) > 0]
    per_class = {
        c: {"se": _ratio(tp[i], support[i]), "ppv": _ratio(tp[i], predicted[i]),
            "f1": float(f1[i]) if i in present else None,
            "support": int(support[i]), "predicted": int(predicted[i])}
        for i, c in enumerate(classes)
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        cm_norm = cm / support[:, None]
    return {
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else None,
        "macro_f1": float(np.mean(f1[present])) if len(present) else None,
        "per_class": per_class,
        "confusion": cm.tolist(),
        "confusion_normalized": cm_norm.tolist(),
    }


def _fmt(x, digits=3, percent=False):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return _DASH
    return f"{100 * x:.2f} %" if percent else f"{x:.{digits}f}"


def format_metrics_table(metrics: dict) -> str:
    """A text table of :func:`classification_metrics`: one row per class, then totals.

    Undefined values are shown as an em dash.

    Parameters
    ----------
    metrics : dict
        What :func:`classification_metrics` returns.

    Returns
    -------
    str
        Columns class, support, Se, +P, F1; a last line with accuracy and macro F1.

    Example
    -------
    >>> m = classification_metrics([0, 1, 2], [0, 0, 0], classes=("N", "S", "V"))
    >>> print(format_metrics_table(m).splitlines()[3])
    S            1      0.000          —      0.000
    """
    lines = [f"{'class':<6}{'support':>8}{'Se':>11}{'+P':>11}{'F1':>11}", "-" * 47]
    for c, pc in metrics["per_class"].items():
        lines.append(f"{c:<6}{pc.get('support', ''):>8}{_fmt(pc['se']):>11}"
                     f"{_fmt(pc['ppv']):>11}{_fmt(pc.get('f1')):>11}")
    lines += ["-" * 47, f"accuracy {_fmt(metrics['accuracy'], percent=True)}   "
              f"macro F1 {_fmt(metrics['macro_f1'])}"]
    return "\n".join(lines)


def compare_with_reference(metrics: dict, n_classes: int | None = None) -> str:
    """Our metrics beside the write-up's (:data:`REFERENCE`), as a text table.

    Parameters
    ----------
    metrics : dict
        From :func:`classification_metrics` or :func:`reproduce` (mean over folds).
    n_classes : int, optional
        4 or 5; default: the number of classes in ``metrics``.

    Example
    -------
    >>> m = classification_metrics([0, 1, 2, 3], [0, 1, 2, 3], classes="NSVF")
    >>> print(compare_with_reference(m, 4).splitlines()[2])
    accuracy      100.00 %    99.00 %
    """
    n_classes = n_classes or len(metrics["per_class"])
    if n_classes not in REFERENCE:
        raise ValueError(f"the write-up reports 4 or 5 classes, not {n_classes}")
    ref = REFERENCE[n_classes]
    lines = [f"{'':<12}{'ours':>10}{'write-up':>11}", "-" * 33,
             f"{'accuracy':<12}{_fmt(metrics['accuracy'], percent=True):>10}"
             f"{_fmt(ref['accuracy'], percent=True):>11}",
             f"{'macro F1':<12}{_fmt(metrics['macro_f1']):>10}{_fmt(ref['macro_f1']):>11}"]
    for c, rc in ref["per_class"].items():
        ours = metrics["per_class"].get(c, {})
        for key, label in (("se", "Se"), ("ppv", "+P")):
            lines.append(f"{c + ' ' + label:<12}{_fmt(ours.get(key)):>10}{_fmt(rc[key]):>11}")
    return "\n".join(lines)


def _mean_std(values):
    """Mean and std (``ddof=1``) of the defined values (``None`` is skipped); None if too few."""
    values = [v for v in values if v is not None]
    return (float(np.mean(values)) if values else None,
            float(np.std(values, ddof=1)) if len(values) > 1 else None)


def _mean_metrics(fold_metrics: list[dict]) -> dict:
    """Mean of accuracy, macro F1, Se and +P over folds, skipping undefined values."""
    def mean(values):
        return _mean_std(values)[0]

    classes = fold_metrics[0]["per_class"]
    return {
        "accuracy": mean([m["accuracy"] for m in fold_metrics]),
        "macro_f1": mean([m["macro_f1"] for m in fold_metrics]),
        "per_class": {c: {k: mean([m["per_class"][c][k] for m in fold_metrics])
                          for k in ("se", "ppv")} for c in classes},
    }


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
    if not 0 <= seed <= max_seed(folds):  # every round's seed must fit in 0 .. 2**32 - 1
        raise ValueError(f"seed must be from 0 to {max_seed(folds)} with {folds} folds, got {seed}")
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
    from ecgtut.train import stratified_split

    fold_seed(seed, folds, folds - 1)  # a seed too large fails now, not at the last round
    y = np.asarray(y)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), y)):
        tr, va = stratified_split(y[train_idx], val_fraction, seed=fold_seed(seed, folds, k))
        yield train_idx[tr], train_idx[va], test_idx


def cross_validate(X, y, classes, *, folds=5, seed=0, recipe="fast", epochs=None,
                   batch_size=None, lr=None, class_weights=None, val_fraction=0.1,
                   features=None, track_test=False, progress=True, device=None,
                   precision=None) -> dict:
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
    recipe, epochs, batch_size, lr, class_weights, precision
        Passed to :func:`ecgtut.train.fit` (``precision``: ``"auto"``,
        ``"float32"`` or ``"bfloat16"``; default: the recipe's).
    val_fraction : float
        Share (0-1) of the training folds held out to choose the epoch.
    features : array, shape (n_beats, n_features), optional
        Second input of the model (e.g. RR intervals).
    track_test : bool
        Also record the test fold's accuracy after every epoch
        (``history["test_acc"]``), only to show what choosing the epoch on
        the test fold would report (see :func:`epoch_selection_pitfall`).

    Returns
    -------
    dict
        ``classes``; ``folds``: one :func:`classification_metrics` dict per
        fold, plus ``fold``, ``best_epoch``, ``epochs_run``, ``n_train``,
        ``n_val``, ``n_test``, ``seconds``, ``precision`` (what the fold
        trained in, ``"float32"`` or ``"bfloat16"``); ``mean``: accuracy, macro F1 and
        per-class Se/+P averaged over folds; ``confusion``: counts pooled
        over folds (k, k); ``y_pred``: the out-of-fold prediction of every
        beat (n_beats,); ``histories``: one :func:`fit` history per fold;
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
    n_features = 0 if features is None else np.asarray(features).shape[1]
    F = (lambda idx: None) if features is None else (lambda idx: np.asarray(features)[idx])
    start, results, histories = time.perf_counter(), [], []
    y_pred = np.full(len(y), -1)
    for k, (tr, va, test_idx) in enumerate(kfold_splits(y, folds, seed, val_fraction)):
        t0 = time.perf_counter()
        set_seed(fold_seed(seed, folds, k))
        net = MultiScaleCNN(n_classes=len(classes), n_samples=X.shape[1], n_features=n_features)
        test = dict(X_test=X[test_idx], y_test=y[test_idx], features_test=F(test_idx))
        net, history = fit(net, X[tr], y[tr], X[va], y[va], recipe=recipe, epochs=epochs,
                           batch_size=batch_size, lr=lr, class_weights=class_weights,
                           seed=fold_seed(seed, folds, k), device=device, progress=progress,
                           features_train=F(tr), features_val=F(va), precision=precision,
                           desc=f"fold {k + 1}/{folds}", **(test if track_test else {}))
        y_pred[test_idx] = predict(net, X[test_idx], features=F(test_idx), device=device)[0]
        m = classification_metrics(y[test_idx], y_pred[test_idx], classes)
        results.append({"fold": k + 1, **m, "best_epoch": history["best_epoch"],
                        "epochs_run": len(history["epoch"]), "n_train": len(tr),
                        "n_val": len(va), "n_test": len(test_idx),
                        "seconds": time.perf_counter() - t0,
                        "precision": history["precision"]["train"]})
        histories.append(history)
    return {
        "classes": list(classes), "folds": results, "mean": _mean_metrics(results),
        "confusion": np.sum([r["confusion"] for r in results], axis=0).tolist(),
        "y_pred": y_pred, "histories": histories, "seconds": time.perf_counter() - start,
    }


def epoch_selection_pitfall(histories: list[dict]) -> dict:
    """Test accuracy when the epoch is chosen on validation vs on the test fold.

    The write-up kept, for each fold, the epoch with the best *test*
    accuracy: the test fold then takes part in model selection and the
    reported number is biased upwards. Needs histories recorded with
    ``track_test=True``.

    Parameters
    ----------
    histories : list of dict
        One :func:`ecgtut.train.fit` history per fold (``cv["histories"]``),
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
        raise ValueError("these histories have no test_acc: run with track_test=True")
    val_epoch = [h["best_epoch"] for h in histories]
    test_epoch = [int(np.argmax(h["test_acc"])) + 1 for h in histories]
    val_sel = [h["test_acc"][e - 1] for h, e in zip(histories, val_epoch, strict=True)]
    test_sel = [max(h["test_acc"]) for h in histories]
    return {"val_selected": val_sel, "test_selected": test_sel, "val_epoch": val_epoch,
            "test_epoch": test_epoch, "mean_val_selected": float(np.mean(val_sel)),
            "mean_test_selected": float(np.mean(test_sel))}


def reproduce(data=None, classes=4, folds=None, epochs=None, seed=0, fast=False, progress=True,
              recipe="fast", precision=None) -> dict:
    """Reproduce the write-up's intra-patient k-fold experiment on MIT-BIH; plain JSON.

    Parameters
    ----------
    data : BeatSet, str or path, optional
        A beat set from :func:`ecgtut.load_beats`, or the database folder
        (default: ``$ECGTUT_DATA``, see :func:`ecgtut.find_data_dir`).
    classes : 4, 5 or sequence of str
        4: N, S, V, F; 5: with Q.
    folds : int, optional
        Number of folds (default 5, or 2 with ``fast``).
    seed : int
        The seed of everything random (see :func:`cross_validate`), from 0 to
        :func:`max_seed` of the number of folds.
    epochs : int, optional
        Epochs per fold (default: the recipe's).
    fast : bool
        Smoke run: about 3000 beats (stratified, at least 20 per class),
        2 folds, 2 epochs (unless ``epochs`` is given) of batches of 32.
        About 15 s on 2 cores.
    recipe : str
        ``"fast"`` or ``"writeup"`` (see :data:`ecgtut.train.RECIPES`).
    precision : "auto", "float32" or "bfloat16", optional
        Arithmetic of the training passes (default: the recipe's, ``"auto"``
        for ``"fast"``: bfloat16 where the CPU computes it natively and it
        passes :func:`ecgtut.precision.check_bf16`). Evaluation is float32.

    Returns
    -------
    dict (JSON-serialisable)
        ``accuracy``, ``macro_f1``, ``per_class`` ``{"N": {"se", "ppv"}, ...}``
        (means over folds; ``None`` where undefined), ``confusion`` (pooled
        counts), ``folds`` (per-fold metrics), ``seconds`` (wall time), and
        ``classes``, ``n_beats``, ``settings`` (``settings["precision"]``:
        the precision asked for); ``precision``: what the first fold's
        :func:`~ecgtut.precision.resolve_precision` decided (``requested``,
        ``train``, ``native_bf16``, ``guard``, ``fell_back``, ``reason``...),
        ``train_per_fold`` (what each fold trained in) and
        :func:`~ecgtut.precision.runtime_info` (``torch``,
        ``cpu_capability``, ``threads``...).

    Example
    -------
    The smoke run of the command ``ecgtut reproduce --fast`` (needs the database):

    >>> result = reproduce(fast=True, progress=False)   # doctest: +SKIP
    >>> result["settings"]["folds"], sorted(result["per_class"])   # doctest: +SKIP
    (2, ['F', 'N', 'S', 'V'])
    """
    start = time.perf_counter()
    folds = default_folds(folds, fast)
    fold_seed(seed, folds, folds - 1)  # check the seed before loading anything
    batch_size = None  # the recipe's
    if fast:  # smoke run: small batches, so that 2 epochs of 1 350 beats still learn something
        epochs, batch_size = epochs or 2, 32
    from ecgtut.train import _recipe

    # the recipe and the precision are checked before loading anything, too
    settings = _recipe(recipe, epochs=epochs, batch_size=batch_size, precision=precision)
    if isinstance(classes, int):
        if classes not in _CLASS_SETS:
            raise ValueError(f"classes must be 4, 5 or a sequence of class names, got {classes}")
        classes = _CLASS_SETS[classes]
    classes = tuple(classes)
    if data is None or not hasattr(data, "xy"):
        from ecgtut.beats import load_beats

        data = load_beats(data, progress=progress)
    X, y = data.xy(classes)
    if fast:  # smoke run: about 3000 beats
        keep = stratified_subsample(y, 3000, seed)
        X, y = X[keep], y[keep]
    cv = cross_validate(X, y, classes, folds=folds, seed=seed, recipe=recipe, epochs=epochs,
                        batch_size=batch_size, progress=progress, precision=precision)
    fold_keys = ("fold", "accuracy", "macro_f1", "per_class", "confusion", "best_epoch",
                 "epochs_run", "n_train", "n_val", "n_test", "seconds", "precision")
    first = cv["histories"][0]["precision"]  # with the torch version, CPU and threads
    precision_block = {**first, "train_per_fold": [f["precision"] for f in cv["folds"]]}
    return {
        **cv["mean"], "confusion": cv["confusion"],
        "folds": [{k: f[k] for k in fold_keys} for f in cv["folds"]],
        "seconds": time.perf_counter() - start,
        "classes": list(classes), "n_beats": len(y),
        "settings": {"protocol": "intra-patient stratified k-fold", "folds": folds,
                     "seed": seed, "fast": fast, "val_fraction": 0.1,
                     "recipe": recipe if isinstance(recipe, str) else "custom", **settings},
        "precision": precision_block,
    }


def default_folds(folds=None, fast=False):
    """The number of folds :func:`reproduce` runs: ``folds``, else 5 (2 with ``fast``).

    Example
    -------
    >>> default_folds(), default_folds(fast=True), default_folds(10)
    (5, 2, 10)
    """
    return folds or (2 if fast else 5)


def format_reproduce_report(result: dict) -> str:
    """Per-fold metrics of :func:`reproduce` (:func:`format_fold_table`), beside the write-up's.

    Parameters
    ----------
    result : dict
        What :func:`reproduce` returns.

    Returns
    -------
    str
        A title line (classes, protocol, folds, beats, seconds), a line on the
        arithmetic (:func:`format_precision`), the per-fold table, then the
        mean beside the write-up's numbers (4 or 5 classes).
    """
    classes = result["classes"]
    s = result["settings"]
    head = (f"{len(classes)}-class, {s['protocol']} ({s['folds']} folds"
            f"{', fast smoke run' if s['fast'] else ''}), {result['n_beats']} beats, "
            f"{result['seconds']:.0f} s")
    lines = [head]
    if result.get("precision"):  # results saved before it was recorded have none
        lines.append(format_precision(result["precision"]))
    lines += ["", format_fold_table(result)]
    if len(classes) in REFERENCE:
        lines += ["", "Mean over folds beside the write-up's (its best fold):",
                  compare_with_reference(result, len(classes))]
    return "\n".join(lines)


def format_precision(info: dict) -> str:
    """One line on the arithmetic of a run: what it trained in, why, and on what.

    Parameters
    ----------
    info : dict
        ``reproduce(...)["precision"]`` or a :func:`~ecgtut.train.fit`
        history's ``history["precision"]``.

    Returns
    -------
    str
        E.g. ``precision: float32 (requested auto; bfloat16 failed the guard in
        branches.1.3: relative error 0.98); torch 2.13.0+cpu, AVX512, 2 threads``.

    Example
    -------
    >>> info = {"requested": "auto", "train": "float32", "fell_back": False,
    ...         "reason": "no native bfloat16 on this CPU", "guard": None,
    ...         "torch": "2.13.0+cpu", "cpu_capability": "AVX2", "threads": 2}
    >>> print(format_precision(info))   # doctest: +NORMALIZE_WHITESPACE
    precision: float32 (requested auto; no native bfloat16 on this CPU);
    torch 2.13.0+cpu, AVX2, 2 threads
    """
    why = [f"requested {info['requested']}"]
    if info.get("reason"):
        why.append(info["reason"])
    elif info.get("guard"):
        why.append(f"passed the guard: largest layer error {info['guard']['error']:.2g}")
    line = f"precision: {info['train']} ({'; '.join(why)})"
    per_fold = info.get("train_per_fold") or []
    if len(set(per_fold)) > 1:  # the guard's probe differs by fold: say so if the verdict did
        line += " [folds: " + ", ".join(per_fold) + "]"
    return (f"{line}; torch {info['torch']}, {info['cpu_capability']}, "
            f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}")


# --- chapter 05 notebook helpers: subsampling, folds, tables, the selection pitfall ---


def stratified_subsample(y, n=None, seed=0, min_per_class=20):
    """Indices of about ``n`` beats that keep the class ratios (the fast-mode subsample).

    Each class keeps its share of ``n`` beats, but at least ``min_per_class``
    (or all its beats, if it has fewer), so a rare class never vanishes. The
    same rule :func:`reproduce` uses with ``fast=True``.

    Parameters
    ----------
    y : array of int, shape (n_beats,)
        Class labels.
    n : int, optional
        Number of beats wanted; ``None`` keeps every beat.
    seed : int
        Seed of the random choice.
    min_per_class : int
        Floor on the beats kept per class.

    Returns
    -------
    array of int, shape (about n,)
        Sorted indices into ``y``.

    Example
    -------
    >>> y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    >>> np.bincount(y[stratified_subsample(y, 100)])
    array([90, 20, 10])
    """
    y = np.asarray(y)
    if n is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    take = np.maximum(np.round(counts * n / len(y)).astype(int), min_per_class)
    idx = [rng.choice(np.flatnonzero(y == c), min(t, m), replace=False)
           for c, t, m in zip(labels, take, counts, strict=True)]
    return np.sort(np.concatenate(idx))


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
    from sklearn.model_selection import KFold

    y = np.asarray(y)
    n_classes = n_classes or int(y.max()) + 1
    kind = StratifiedKFold if stratified else KFold
    splitter = kind(n_splits=folds, shuffle=True, random_state=seed)
    return np.array([np.bincount(y[test], minlength=n_classes)
                     for _, test in splitter.split(np.zeros(len(y)), y)])


def format_fold_table(cv: dict) -> str:
    """Per-fold accuracy, macro F1 and Se/+P of :func:`cross_validate`, then mean and std.

    The std row (over folds, ``ddof=1``) shows how much one split alone can
    move a number. Undefined values are shown as an em dash and left out of
    the mean and std.

    Parameters
    ----------
    cv : dict
        What :func:`cross_validate` or :func:`reproduce` returns: ``classes``
        and ``folds`` (metrics per fold, with ``fold`` and ``best_epoch``).

    Returns
    -------
    str

    Example
    -------
    >>> f1 = classification_metrics([0, 1, 1], [0, 1, 1], ("N", "S"))
    >>> f2 = classification_metrics([0, 1, 1], [0, 1, 0], ("N", "S"))
    >>> cv = {"classes": ["N", "S"], "folds": [dict(f1, fold=1), dict(f2, fold=2)]}
    >>> print(format_fold_table(cv))  # doctest: +NORMALIZE_WHITESPACE
    fold     accuracy macro F1        N Se/+P        S Se/+P  epoch
    1        100.00 %    1.000    1.000/1.000    1.000/1.000
    2         66.67 %    0.667    1.000/0.500    0.500/1.000
    mean      83.33 %    0.833    1.000/0.750    0.750/1.000
    std       23.57 %    0.236    0.000/0.354    0.354/0.000
    """
    classes, rows = cv["classes"], cv["folds"]
    getters = [lambda r: r["accuracy"], lambda r: r["macro_f1"]]
    getters += [lambda r, c=c, k=k: r["per_class"][c][k] for c in classes for k in ("se", "ppv")]
    stats = [_mean_std([g(r) for r in rows]) for g in getters]
    lines = [f"{'fold':<6}{'accuracy':>11}{'macro F1':>9}"
             + "".join(f"{c + ' Se/+P':>15}" for c in classes) + f"{'epoch':>7}"]
    table = [(str(r["fold"]), [g(r) for g in getters], r.get("best_epoch", "")) for r in rows]
    table += [("mean", [s[0] for s in stats], ""), ("std", [s[1] for s in stats], "")]
    for name, v, epoch in table:
        pcs = "".join(f"{_fmt(v[i]) + '/' + _fmt(v[i + 1]):>15}" for i in range(2, len(v), 2))
        lines.append(f"{name:<6}{_fmt(v[0], percent=True):>11}{_fmt(v[1]):>9}{pcs}{epoch!s:>7}")
    return "\n".join(lines)


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


__all__ += ["format_precision", "stratified_subsample", "fold_class_counts", "format_fold_table",
            "selection_optimism", "same_record_neighbours"]
