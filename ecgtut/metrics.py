"""Chapters 05-06 -- scoring a classifier: Se, +P, F1, confusion matrices and their tables.

Built on scikit-learn. Per class, with TP, FN, FP counted one class against
the rest (SPEC section 6):

- sensitivity ``Se = TP / (TP + FN)``: of the true beats of the class, the
  share found; undefined (``None``) when the class has no true beat;
- positive predictivity ``+P = TP / (TP + FP)``: of the beats predicted as the
  class, the share that are right; undefined (``None``) when the class is
  never predicted -- reported as such, never as a crash or a silent 0.

Over several folds, a value is averaged only when it is defined in every
fold (:func:`mean_over_folds`); tables show it as an em dash with the number
of folds it is defined in.

Example
-------
>>> m = classification_metrics([0, 0, 1, 1], [0, 0, 0, 1], classes=("N", "S"))
>>> m["accuracy"], m["per_class"]["S"]["se"], m["per_class"]["N"]["ppv"]
(0.75, 0.5, 0.6666666666666666)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

__all__ = [
    "REFERENCE", "classification_metrics", "format_metrics_table", "compare_with_reference",
    "mean_over_folds", "format_fold_table", "pick_misclassified", "prediction_confidence",
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
    if isinstance(x, str):  # already written out, e.g. a dash with a count
        return x
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
        From :func:`classification_metrics` or :func:`ecgtut.reproduce` (mean over folds).
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
    """Mean and std (``ddof=1``) over folds, and in how many folds the value is defined.

    ``None`` (undefined) is never averaged away: with any fold undefined, the
    mean and std are None too.
    """
    defined = [v for v in values if v is not None]
    if len(defined) < len(values) or not defined:
        return None, None, len(defined)
    return (float(np.mean(defined)),
            float(np.std(defined, ddof=1)) if len(defined) > 1 else None, len(defined))


def mean_over_folds(fold_metrics: list[dict]) -> dict:
    """Mean of accuracy, macro F1, Se and +P over folds.

    A value undefined in some fold (e.g. +P of a class one fold never
    predicts) has no mean: it is ``None``, and ``per_class[c]["folds_defined"]``
    says in how many folds Se and +P are defined (the key is there only
    when one of them is not defined in every fold).

    Parameters
    ----------
    fold_metrics : list of dict
        One :func:`classification_metrics` dict per fold.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``per_class`` ``{c: {"se", "ppv"}}``.

    Example
    -------
    >>> f1 = classification_metrics([0, 1], [0, 1], ("N", "S"))
    >>> f2 = classification_metrics([0, 1], [0, 0], ("N", "S"))   # S never predicted
    >>> mean_over_folds([f1, f2])["per_class"]["S"]
    {'se': 0.5, 'ppv': None, 'folds_defined': {'se': 2, 'ppv': 1}}
    """
    n = len(fold_metrics)
    per_class = {}
    for c in fold_metrics[0]["per_class"]:
        stats = {k: _mean_std([m["per_class"][c][k] for m in fold_metrics]) for k in ("se", "ppv")}
        per_class[c] = {k: s[0] for k, s in stats.items()}
        if any(s[2] < n for s in stats.values()):
            per_class[c]["folds_defined"] = {k: s[2] for k, s in stats.items()}
    return {
        "accuracy": _mean_std([m["accuracy"] for m in fold_metrics])[0],
        "macro_f1": _mean_std([m["macro_f1"] for m in fold_metrics])[0],
        "per_class": per_class,
    }


def format_fold_table(cv: dict) -> str:
    """Per-fold accuracy, macro F1 and Se/+P of :func:`ecgtut.cross_validate`, then mean and std.

    The std row (over folds, ``ddof=1``) shows how much one split alone can
    move a number. Undefined values are shown as an em dash; a value undefined
    in some fold has no mean or std either: they show an em dash and, in
    brackets, the number of folds it is defined in (e.g. ``—(1/5)``).

    Parameters
    ----------
    cv : dict
        What :func:`ecgtut.cross_validate` or :func:`ecgtut.reproduce` returns: ``classes``
        and ``folds`` (metrics per fold, with ``fold`` and ``best_epoch``).

    Returns
    -------
    str

    Example
    -------
    >>> f1 = classification_metrics([0, 1, 1], [0, 1, 1], ("N", "S"))
    >>> f2 = classification_metrics([0, 1, 1], [0, 0, 0], ("N", "S"))
    >>> cv = {"classes": ["N", "S"], "folds": [dict(f1, fold=1), dict(f2, fold=2)]}
    >>> print(format_fold_table(cv))  # doctest: +NORMALIZE_WHITESPACE
    fold     accuracy macro F1        N Se/+P        S Se/+P  epoch
    1        100.00 %    1.000    1.000/1.000    1.000/1.000
    2         33.33 %    0.250    1.000/0.333        0.000/—
    mean      66.67 %    0.625    1.000/0.667   0.500/—(1/2)
    std       47.14 %    0.530    0.000/0.471   0.707/—(1/2)
    """
    classes, rows = cv["classes"], cv["folds"]
    getters = [lambda r: r["accuracy"], lambda r: r["macro_f1"]]
    getters += [lambda r, c=c, k=k: r["per_class"][c][k] for c in classes for k in ("se", "ppv")]
    stats = [_mean_std([g(r) for r in rows]) for g in getters]

    def cell(s, i):  # the mean (i=0) or std (i=1), or a dash and the folds it is defined in
        if s[i] is not None or s[2] in (0, len(rows)):
            return s[i]
        return f"{_DASH}({s[2]}/{len(rows)})"

    lines = [f"{'fold':<6}{'accuracy':>11}{'macro F1':>9}"
             + "".join(f"{c + ' Se/+P':>15}" for c in classes) + f"{'epoch':>7}"]
    table = [(str(r["fold"]), [g(r) for g in getters], r.get("best_epoch", "")) for r in rows]
    table += [("mean", [cell(s, 0) for s in stats], ""), ("std", [cell(s, 1) for s in stats], "")]
    for name, v, epoch in table:
        pcs = "".join(f"{_fmt(v[i]) + '/' + _fmt(v[i + 1]):>15}" for i in range(2, len(v), 2))
        lines.append(f"{name:<6}{_fmt(v[0], percent=True):>11}{_fmt(v[1]):>9}{pcs}{epoch!s:>7}")
    return "\n".join(lines)


def pick_misclassified(y_true, y_pred, n=8):
    """Up to ``n`` misclassified beats, taken in turn from each kind of error.

    Beats are picked from each (true, predicted) pair in turn, most frequent
    errors first, so that a figure of them shows several kinds of mistakes.

    Parameters
    ----------
    y_true, y_pred : arrays of int, shape (n_beats,)
        True and predicted class indices.
    n : int
        Most beats to pick.

    Returns
    -------
    np.ndarray of int, shape (at most n,)
        Indices into ``y_true``.

    Example
    -------
    >>> pick_misclassified([0, 0, 0, 1, 1], [1, 1, 0, 0, 1], n=3)   # 0->1 twice, 1->0 once
    array([0, 3, 1])
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    pairs, counts = np.unique(np.stack([y_true[wrong], y_pred[wrong]], axis=1), axis=0,
                              return_counts=True)
    groups = [wrong[(y_true[wrong] == t) & (y_pred[wrong] == p)]
              for t, p in pairs[np.argsort(-counts, kind="stable")]]
    picked = [g[i] for i in range(max(map(len, groups), default=0)) for g in groups
              if i < len(g)][:n]
    return np.array(picked, dtype=np.int64)


def prediction_confidence(proba, y_true):
    """Probability of the predicted class of each beat, and whether it is right.

    Parameters
    ----------
    proba : array, shape (n_beats, n_classes)
        Class probabilities (rows sum to 1), from :func:`ecgtut.predict`.
    y_true : array of int, shape (n_beats,)
        True class indices.

    Returns
    -------
    confidence : np.ndarray of float, shape (n_beats,)
        The largest probability of each row (from ``1 / n_classes`` to 1).
    right : np.ndarray of bool, shape (n_beats,)
        Whether the predicted class (the most probable) is the true one.

    Example
    -------
    >>> prediction_confidence(np.array([[0.9, 0.1], [0.4, 0.6]]), np.array([0, 0]))
    (array([0.9, 0.6]), array([ True, False]))
    """
    proba = np.asarray(proba)
    return proba.max(axis=1), proba.argmax(axis=1) == np.asarray(y_true)
