"""Figures of chapter 08: the beats of a recording, labelled (:mod:`ecgtut.classify`)."""

from __future__ import annotations

import numpy as np

from ecgtut.plots._common import CLASS_COLORS, _ax, _title, _window

__all__ = ["plot_classified"]


def plot_classified(signal, fs, samples, labels, *, reference=None, start=None, duration=10.0,
                    ax=None, title=None):
    """An ECG stretch with each detected beat's label above it, the reference's below.

    Parameters
    ----------
    signal : array, shape (n_samples,)
        One lead in mV.
    fs : float
        Sampling frequency in Hz.
    samples : array of int, shape (n_beats,)
        Detected R peaks (samples at ``fs``).
    labels : array of str, shape (n_beats,)
        Class given to each.
    reference : Annotations, optional
        Reference annotations at ``fs``: their beats' classes are written under the trace.
    start : float, optional
        First second shown (default: 2 s before the first beat not labelled N, or 0).
    duration : float
        Seconds shown.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Detected beats and their labels (reference below)".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> x = np.zeros(3600)
    >>> ax = plot_classified(x, 360, np.array([360, 720]), np.array(["N", "V"]))
    >>> ax.get_ylabel()
    'mV'
    """
    ax = _ax(ax, figsize=(11, 3.2))
    signal, samples, labels = np.asarray(signal), np.asarray(samples), np.asarray(labels)
    if start is None:
        abnormal = np.flatnonzero(labels != "N")
        start = max(0.0, samples[abnormal[0]] / fs - 2) if len(abnormal) else 0.0
    span = _window(fs, len(signal), start, duration)
    t = np.arange(span.start, span.stop) / fs
    ax.plot(t, signal[span], color="0.3", lw=0.8)
    top = np.nanmax(signal[span]) if span.stop > span.start else 1.0
    low = np.nanmin(signal[span]) if span.stop > span.start else 0.0
    shown = (samples >= span.start) & (samples < span.stop)
    for s, c in zip(samples[shown], labels[shown]):
        ax.text(s / fs, top + 0.15, c, ha="center", color=CLASS_COLORS.get(c, "k"),
                fontweight="bold")
    if reference is not None:
        ref = reference.beats()
        inside = (ref.sample >= span.start) & (ref.sample < span.stop)
        for s, c in zip(ref.sample[inside], ref.aami[inside]):
            ax.text(s / fs, low - 0.3, c, ha="center", color=CLASS_COLORS.get(c, "k"))
    ax.set(xlabel="time (s)", ylabel="mV", ylim=(low - 0.5, top + 0.45))
    return _title(ax, title, "Detected beats and their labels" +
                  (" (reference below)" if reference is not None else ""))
