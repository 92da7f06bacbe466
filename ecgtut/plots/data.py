"""Figures of chapter 01 (:mod:`ecgtut.data`): a stretch of a record, beats per class."""

from __future__ import annotations

import numpy as np

from ecgtut.data import aami_class
from ecgtut.plots._common import CLASS_COLORS, _ax, _title, _window

__all__ = ["plot_record", "plot_class_counts"]


def plot_record(signal, fs, annotations=None, *, start=0.0, duration=10.0, units="mV", ax=None,
                title=None):
    """Draw a stretch of one ECG lead, with annotation symbols above the beats.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        One lead, in ``units`` (mV for MIT-BIH).
    fs : float
        Sampling frequency in Hz.
    annotations : ecgtut.Annotations, optional
        Symbols are written at their sample, coloured by AAMI class (black for non-beats).
    start, duration : float
        The stretch to draw, in seconds.
    units : str
        Label of the y axis.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from ecgtut.data import Annotations
    >>> ann = Annotations(np.array([100, 400]), np.array(["N", "V"]), 360.0)
    >>> ax = plot_record(np.sin(np.arange(3600) / 50), 360, ann, duration=2, title="100")
    >>> [t.get_text() for t in ax.texts], ax.get_title(), ax.get_ylabel()
    (['N', 'V'], '100', 'mV')
    """
    ax = _ax(ax)
    win = _window(fs, len(signal), start, duration)
    t = np.arange(win.start, win.stop) / fs
    ax.plot(t, signal[win], lw=0.8, color="k")
    if annotations is not None:
        low, top = np.min(signal[win]), np.max(signal[win])
        span = top - low or 1.0  # labels sit above the highest point, whatever its sign
        inside = (annotations.sample >= win.start) & (annotations.sample < win.stop)
        for s, sym in zip(annotations.sample[inside], annotations.symbol[inside]):
            ax.text(s / fs, top + 0.08 * span, sym, ha="center", fontsize=9,
                    color=CLASS_COLORS.get(aami_class(sym), "k"), fontweight="bold")
        ax.set_ylim(top=top + 0.25 * span)
    ax.set(xlabel="time (s)", ylabel=units)
    return _title(ax, title)


def plot_class_counts(counts, *, log=True, ax=None, title=None):
    """Bar chart of beats per class (log scale shows the imbalance best).

    Parameters
    ----------
    counts : dict
        ``{class: number of beats}``, e.g. ``BeatSet.counts()``; one bar per
        key, in the dict's order, coloured by :data:`CLASS_COLORS`.
    log : bool
        Log scale on the counts.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Beats per class").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_class_counts({"N": 900, "S": 30, "V": 70})
    >>> [t.get_text() for t in ax.texts], ax.get_title()
    (['900', '30', '70'], 'Beats per class')
    """
    import pandas as pd
    import seaborn as sns

    ax = _ax(ax, figsize=(6, 3.5))
    names = [str(c) for c in counts]
    data = pd.DataFrame({"class": names, "beats": [counts[c] for c in counts]})
    sns.barplot(data, x="class", y="beats", hue="class", order=names, hue_order=names,
                palette={c: CLASS_COLORS.get(c, "0.5") for c in names}, saturation=1,
                legend=False, ax=ax)
    for bars in ax.containers[-len(names):]:  # one per class
        ax.bar_label(bars, fmt="%d", fontsize=9)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="AAMI class", ylabel="beats")
    return _title(ax, title, "Beats per class")
