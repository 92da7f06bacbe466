"""Figures of chapter 06 about cross-validation (:mod:`ecgtut.crossval`).

:mod:`ecgtut.crossval` (torch, scikit-learn) is imported when a figure needs it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ecgtut.plots._common import _ax, _title

__all__ = ["plot_kfold_scheme", "plot_fold_class_shares", "plot_fold_scores"]


def plot_kfold_scheme(folds=5, *, val_fraction=0.1, ax=None, title=None):
    """The k rounds of k-fold cross-validation: which part of the beats does what.

    One row per round: the test fold (red), the validation beats carved out of
    the training folds to choose the epoch (orange), and the training beats
    (blue). Drawn to scale: each fold is ``1 / folds`` of the beats. The
    validation beats are a stratified random sample of the training folds, so
    they are drawn as thin slivers scattered over the training part of the row,
    not as one block.

    Parameters
    ----------
    folds : int
        Number of folds.
    val_fraction : float
        Share (0-1) of the training folds used for validation.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "<folds>-fold cross-validation: every beat is tested exactly once").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_kfold_scheme(folds=3)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['round 3', 'round 2', 'round 1']
    """
    ax = _ax(ax, figsize=(8, 0.45 * folds + 1.2))
    w = 1 / folds
    colors = {"training": "tab:blue", "validation": "tab:orange", "test": "tab:red"}
    rng = np.random.default_rng(0)  # where the slivers fall; the picture, not the data
    cells = (np.arange(400) + 0.5) / 400  # a row's beats, as 400 slivers
    for k in range(folds):
        row = folds - 1 - k
        ax.barh(row, 1, color=colors["training"], height=0.7)
        ax.barh(row, w, left=k * w, color=colors["test"], height=0.7)
        train = cells[(cells < k * w) | (cells >= (k + 1) * w)]
        picked = rng.choice(train, size=round(val_fraction * train.size), replace=False)
        ax.barh(np.full(picked.size, row), 1 / 400, left=picked - 1 / 800, height=0.7,
                color=colors["validation"])
        for j in range(1, folds):
            ax.axvline(j * w, color="white", lw=1.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    ax.legend(handles, list(colors), ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25),
              fontsize=9, frameon=False)
    ax.set(yticks=range(folds), yticklabels=[f"round {k}" for k in range(folds, 0, -1)],
           xticks=(np.arange(folds) + 0.5) * w, xticklabels=[f"fold {k + 1}" for k in range(folds)],
           xlim=(0, 1))
    ax.tick_params(length=0)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return _title(ax, title, f"{folds}-fold cross-validation: every beat is tested exactly once")


def plot_fold_class_shares(counts, classes, *, ymax=None, ax=None, title=None):
    """Share of each class in each test fold, relative to its share in all beats.

    The ratios are those of :func:`ecgtut.fold_class_shares`: a bar at 1
    means the fold holds the class in exactly the proportion of the whole
    data set; 0.5 means half as many of its beats as it should.

    Parameters
    ----------
    counts : array of int, shape (folds, n_classes)
        Beats of each class in each test fold, e.g. from
        :func:`ecgtut.fold_class_counts`.
    classes : sequence of str
        Class names, in column order.
    ymax : float, optional
        Top of the y axis (default: 1.5, or more if a bar is taller); give
        the same to two panels to compare them.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Class share per test fold").

    Returns
    -------
    matplotlib.axes.Axes
        One group of bars per class (labelled with its share of all beats),
        one bar per fold (viridis colours), and a dashed line at 1.

    Examples
    --------
    >>> ax = plot_fold_class_shares([[9, 1], [8, 2]], ["N", "V"])
    >>> np.round([bar.get_height() for bar in ax.patches], 2).tolist()  # fold 1, then fold 2
    [1.06, 0.67, 0.94, 1.33]
    """
    import pandas as pd
    import seaborn as sns

    from ecgtut.crossval import fold_class_shares

    shares = fold_class_shares(counts)
    ratio, overall = shares["ratio"], shares["overall"]
    folds = len(ratio)
    ticks = [f"{c}\n{100 * s:.2g} % of all" for c, s in zip(classes, overall)]
    data = pd.DataFrame([{"class": ticks[j], "fold": f"fold {f + 1}", "ratio": ratio[f, j]}
                         for f in range(folds) for j in range(len(ticks))])
    hues = [f"fold {f + 1}" for f in range(folds)]
    ax = _ax(ax, figsize=(6, 3.5))
    sns.barplot(data, x="class", y="ratio", hue="fold", order=ticks, hue_order=hues,
                palette=[plt.cm.viridis(f / max(folds - 1, 1)) for f in range(folds)],
                errorbar=None, legend=False, saturation=1, ax=ax)
    ax.axhline(1, color="k", lw=1, ls="--")
    ax.set(xlabel="", ylabel="share in the test fold\n÷ share in all beats",
           ylim=(0, ymax or max(1.5, 1.1 * np.nanmax(ratio))))
    for bars, hue in zip(ax.containers[-folds:], hues):
        bars.set_label(hue)
    ax.legend(fontsize=8, ncol=folds, loc="upper left")
    return _title(ax, title, "Class share per test fold")


def _score_table(cv):
    """Names of the scores, and every fold's defined scores as a long-form table.

    The table has columns ``score`` (name), ``column`` (its position on the x
    axis), ``fold`` (from 1) and ``value``; undefined values (None, NaN) are left out.
    """
    import pandas as pd

    classes = cv["classes"]
    names = ["accuracy", "macro F1"] + [f"{c} {s}" for s in ("Se", "+P") for c in classes]
    getters = [lambda r: r["accuracy"], lambda r: r["macro_f1"]]
    getters += [lambda r, c=c, k=k: r["per_class"][c][k] for k in ("se", "ppv") for c in classes]
    rows = [{"score": name, "column": i, "fold": f + 1, "value": get(r)}
            for i, (name, get) in enumerate(zip(names, getters))
            for f, r in enumerate(cv["folds"])]
    table = pd.DataFrame(rows, columns=["score", "column", "fold", "value"])
    table["value"] = pd.to_numeric(table["value"], errors="coerce")  # None -> NaN
    return names, table.dropna(subset=["value"])


def plot_fold_scores(cv, *, ax=None, title=None):
    """Accuracy, macro F1 and per-class Se and +P of every fold, with mean and std.

    Parameters
    ----------
    cv : dict
        From :func:`ecgtut.cross_validate` (uses ``classes`` and ``folds``).
        A score that is undefined in a fold (None or NaN, e.g. the +P of a
        class never predicted) is left out of its column; a score undefined
        in every fold leaves its column empty.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "<k> folds: one dot per fold, mean ± std in black").

    Returns
    -------
    matplotlib.axes.Axes
        One column per score: a blue dot per fold (``sns.stripplot``, left of
        the tick), and in black (``sns.pointplot``, right of it) the mean with
        a bar of plus/minus one standard deviation over the folds.

    Examples
    --------
    >>> fold = {"accuracy": 0.9, "macro_f1": 0.8, "per_class": {"N": {"se": 0.95, "ppv": 0.9}}}
    >>> ax = plot_fold_scores({"classes": ["N"], "folds": [fold, fold]})
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['accuracy', 'macro F1', 'N Se', 'N +P']
    """
    import seaborn as sns

    names, table = _score_table(cv)
    ax = _ax(ax, figsize=(8, 3.5))
    if len(table):  # the dots just left of each column's tick, mean ± std just right of it
        sns.stripplot(table, x=table["column"] - 0.12, y="value", native_scale=True,
                      jitter=False, color="tab:blue", alpha=0.6, size=5, ax=ax)
        sns.pointplot(table, x=table["column"] + 0.12, y="value", native_scale=True,
                      errorbar="sd", color="k", markers="_", markersize=14, linestyle="none",
                      capsize=0.1, err_kws={"linewidth": 1.2}, ax=ax)
    handles = [Line2D([], [], ls="none", marker="o", color="tab:blue", alpha=0.6, ms=5),
               Line2D([], [], ls="none", marker="_", color="k", ms=14)]
    ax.legend(handles, ["one fold", "mean ± std"], fontsize=8, loc="lower left")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set(xlabel="", ylabel="score (0-1)", xlim=(-0.6, len(names) - 0.4))
    ax.grid(axis="y", alpha=0.3)
    return _title(ax, title, f"{len(cv['folds'])} folds: one dot per fold, mean ± std in black")
