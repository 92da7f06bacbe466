"""The ``ecgtut reproduce`` experiment: the write-up's k-fold run on MIT-BIH, as plain JSON.

:func:`reproduce` loads the beat set, runs :func:`ecgtut.cross_validate` and
returns everything a report needs (means, folds, pooled confusion, settings,
the arithmetic used); :func:`format_reproduce_report` sets it beside the
write-up's numbers.
"""

from __future__ import annotations

import time

from ecgtut.crossval import check_seed, cross_validate
from ecgtut.datasets import stratified_subsample
from ecgtut.metrics import REFERENCE, compare_with_reference, format_fold_table
from ecgtut.precision import format_precision

__all__ = ["CLASS_SETS", "reproduce", "default_folds", "format_reproduce_report"]

CLASS_SETS = {4: ("N", "S", "V", "F"), 5: ("N", "S", "V", "F", "Q")}
"""The classes of ``reproduce(classes=4)`` and ``reproduce(classes=5)``."""


def reproduce(data_dir=None, *, beats=None, classes=4, folds=None, epochs=None, seed=0,
              fast=False, progress=True, recipe="fast", precision=None) -> dict:
    """Reproduce the write-up's intra-patient k-fold experiment on MIT-BIH; plain JSON.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (default: ``$ECGTUT_DATA``, see :func:`ecgtut.find_data_dir`).
    beats : BeatSet, optional
        A beat set already loaded (:func:`ecgtut.load_beats`); then
        ``data_dir`` is not read.
    classes : 4, 5 or sequence of str
        4: N, S, V, F; 5: with Q.
    folds : int, optional
        Number of folds (default 5, or 2 with ``fast``).
    seed : int
        The seed of everything random (see :func:`ecgtut.cross_validate`),
        from 0 to :func:`ecgtut.max_seed` of the number of folds.
    epochs : int, optional
        Epochs per fold (default: the recipe's).
    fast : bool
        Smoke run: about 3000 beats (stratified, at least 20 per class),
        2 folds, 2 epochs (unless ``epochs`` is given) of batches of 32.
        About 15 s on 2 cores.
    recipe : str
        ``"fast"`` or ``"writeup"`` (see :data:`ecgtut.RECIPES`).
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
    check_seed(seed, folds)  # the seed, the recipe and the precision: checked before loading
    batch_size = None  # the recipe's
    if fast:  # smoke run: small batches, so that 2 epochs of 1 350 beats still learn something
        epochs, batch_size = epochs or 2, 32
    from ecgtut.train import recipe_settings

    settings = recipe_settings(recipe, epochs=epochs, batch_size=batch_size, precision=precision)
    if isinstance(classes, int):
        if classes not in CLASS_SETS:
            raise ValueError(f"classes must be 4, 5 or a sequence of class names, got {classes}")
        classes = CLASS_SETS[classes]
    classes = tuple(classes)
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    X, y = beats.xy(classes)
    if fast:  # smoke run: about 3000 beats
        keep = stratified_subsample(y, 3000, seed)
        X, y = X[keep], y[keep]
    cv = cross_validate(X, y, classes, folds=folds, seed=seed, recipe=recipe, window=beats.window,
                        progress=progress, epochs=epochs, batch_size=batch_size,
                        precision=precision)
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
    """The per-fold table of a :func:`reproduce` result, beside the write-up's numbers.

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
