"""Figures of chapter 07 about RR intervals (:mod:`ecgtut.features`)."""

from __future__ import annotations

import numpy as np

from ecgtut.plots._common import CLASS_COLORS, _ax, _title

__all__ = ["plot_rr_tachogram", "plot_rr_scatter"]


def plot_rr_tachogram(r_peaks, fs, labels, *, start=0.0, duration=120.0, ax=None, title=None):
    """RR interval of every beat against time, coloured by class: prematurity made visible.

    Parameters
    ----------
    r_peaks : array of int, shape (n_beats,)
        R-peak sample indices of one record.
    fs : float
        Sampling frequency in Hz.
    labels : array of str, shape (n_beats,)
        AAMI class of each beat.
    start, duration : float
        The stretch shown, in seconds.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "RR interval before each beat".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = plot_rr_tachogram(np.array([0, 360, 600, 1080]), 360, np.array(list("NNSN")))
    >>> ax.get_ylabel()
    'RR before the beat (s)'
    """
    ax = _ax(ax, figsize=(10, 3))
    t = np.asarray(r_peaks) / fs
    rr = np.r_[np.nan, np.diff(t)]
    labels = np.asarray(labels)
    shown = (t >= start) & (t <= start + duration)
    ax.plot(t[shown], rr[shown], color="0.75", lw=0.8, zorder=1)
    for c in dict.fromkeys(labels[shown].tolist()):
        k = shown & (labels == c)
        ax.scatter(t[k], rr[k], s=14 if c == "N" else 30, color=CLASS_COLORS.get(c, "k"),
                   label=f"{c} ({int(k.sum())})", zorder=2)
    ax.set(xlabel="time (s)", ylabel="RR before the beat (s)")
    ax.legend(fontsize=8, loc="lower right", ncol=4)
    return _title(ax, title, "RR interval before each beat")


def plot_rr_scatter(features, labels, *, x="pre_ratio", y="post_ratio", classes=("N", "S", "V"),
                    max_per_class=1500, seed=0, ax=None, title=None):
    """Two RR features of many beats against each other, one colour per class.

    Parameters
    ----------
    features : array, shape (n_beats, 5)
        :func:`ecgtut.beat_rr_features` (columns :data:`ecgtut.RR_FEATURES`).
    labels : array of str, shape (n_beats,)
        AAMI class of each beat.
    x, y : str
        Names of the two columns drawn.
    classes : sequence of str
        Classes drawn (N first, so the rarer ones are drawn on top).
    max_per_class : int
        At most this many beats of a class (a random sample), so N does not
        hide everything.
    seed : int
        Seed of that sample.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "<y> against <x>".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> F = np.abs(np.random.default_rng(0).normal(1, 0.2, (6, 5)))
    >>> ax = plot_rr_scatter(F, np.array(list("NNNSSV")))
    >>> ax.get_xlabel()
    'pre_ratio'
    """
    from ecgtut.features import RR_FEATURES

    ax = _ax(ax, figsize=(5, 4.5))
    features, labels = np.asarray(features), np.asarray(labels)
    ix, iy = RR_FEATURES.index(x), RR_FEATURES.index(y)
    rng = np.random.default_rng(seed)
    for c in classes:
        rows = np.flatnonzero(labels == c)
        if len(rows) > max_per_class:
            rows = rng.choice(rows, max_per_class, replace=False)
        ax.scatter(features[rows, ix], features[rows, iy], s=5, alpha=0.5,
                   color=CLASS_COLORS.get(c, "k"), label=f"{c} ({int(np.sum(labels == c))})")
    ax.axvline(1, color="0.5", lw=0.8, ls="--")
    ax.axhline(1, color="0.5", lw=0.8, ls="--")
    ax.set(xlabel=x, ylabel=y)
    ax.legend(fontsize=8, markerscale=3)
    return _title(ax, title, f"{y} against {x}")
