"""Figures of the course, one function per kind of figure.

Processing lives in the other modules; these functions only draw what those
return. Each takes ``ax=None`` (or ``axes=None``), creates a figure when none is
given, and returns the axes so a notebook can add to them or combine several
plots into one dashboard.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import signal as sps

from ecgtut.data import AAMI_CLASSES, aami_class

__all__ = [
    "CLASS_COLORS",
    "plot_beat_anatomy",
    "plot_beats",
    "plot_class_counts",
    "plot_class_means",
    "plot_denoising",
    "plot_record",
    "plot_spectrum",
    "plot_wavelet_bands",
]

CLASS_COLORS = {"N": "tab:blue", "S": "tab:orange", "V": "tab:red", "F": "tab:purple",
                "Q": "tab:gray"}
"""One colour per AAMI class, used by every figure of the course."""


def _ax(ax, figsize=(10, 3)):
    return ax if ax is not None else plt.subplots(figsize=figsize, layout="constrained")[1]


def _window(fs, n, start, duration):
    """Sample slice for ``duration`` seconds from ``start`` seconds."""
    i0 = int(round(start * fs))
    return slice(i0, min(n, i0 + int(round(duration * fs))))


# --- chapter 01: records and annotations ---


def plot_record(signal, fs, annotations=None, start=0.0, duration=10.0, ax=None, title=None,
                units="mV"):
    """Draw a stretch of one ECG lead, with annotation symbols above the beats.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz.
    annotations : ecgtut.Annotations, optional
        Symbols are written at their sample, coloured by AAMI class (black for non-beats).
    start, duration : float
        The stretch to draw, in seconds.
    ax : matplotlib Axes, optional
    title : str, optional
    units : str
        Label of the y axis.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    win = _window(fs, len(signal), start, duration)
    t = np.arange(win.start, win.stop) / fs
    ax.plot(t, signal[win], lw=0.8, color="k")
    if annotations is not None:
        top = np.max(signal[win])
        inside = (annotations.sample >= win.start) & (annotations.sample < win.stop)
        for s, sym in zip(annotations.sample[inside], annotations.symbol[inside]):
            c = aami_class(sym)
            ax.text(s / fs, top * 1.08, sym, ha="center", fontsize=9,
                    color=CLASS_COLORS.get(c, "k"), fontweight="bold")
        ax.set_ylim(top=top * 1.25 if top > 0 else None)
    ax.set(xlabel="time (s)", ylabel=units, title=title or "")
    return ax


def plot_beat_anatomy(signal, fs, waves, ax=None):
    """One beat with its P, Q, R, S, T points and the RR, PR and QT intervals.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        A stretch of ECG holding two consecutive beats.
    fs : float
        Sampling frequency in Hz.
    waves : dict
        Sample index of each point, from :func:`ecgtut.delineate_beat`
        (keys ``P Q R S T P_on T_off R_next``).

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax, figsize=(10, 4))
    t = np.arange(len(signal)) / fs
    ax.plot(t, signal, color="k", lw=1)
    for name in "PQRST":
        i = waves[name]
        ax.plot(t[i], signal[i], "o", color="tab:red")
        ax.annotate(name, (t[i], signal[i]), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=12, fontweight="bold")
    low, high = signal.min(), signal.max()
    span = high - low
    brackets = [("RR", waves["R"], waves["R_next"], high + 0.15 * span),
                ("PR", waves["P_on"], waves["Q"], low - 0.2 * span),
                ("QT", waves["Q"], waves["T_off"], low - 0.36 * span)]
    for label, i0, i1, y in brackets:
        ax.annotate("", (t[i0], y), (t[i1], y), arrowprops=dict(arrowstyle="<->", color="tab:blue"))
        ms = 1000 * (i1 - i0) / fs
        ax.text((t[i0] + t[i1]) / 2, y, f"{label} {ms:.0f} ms", ha="center", va="bottom",
                color="tab:blue", fontsize=10, backgroundcolor="white")
    ax.set_ylim(low - 0.5 * span, high + 0.35 * span)
    ax.set(xlabel="time (s)", ylabel="mV", title="Anatomy of a heartbeat")
    return ax


# --- chapter 02: denoising ---


def plot_wavelet_bands(bands, fs, start=0.0, duration=5.0, dropped=(), axes=None):
    """Each DWT band of a signal on its own row, with its frequency range.

    Parameters
    ----------
    bands : list of ecgtut.WaveletBand
        From :func:`ecgtut.wavelet_bands`.
    fs : float
        Sampling frequency in Hz.
    start, duration : float
        Stretch to draw, in seconds.
    dropped : iterable of str
        Band names drawn in red (the ones the denoiser sets to zero).
    axes : array of Axes, optional
        One per band.

    Returns
    -------
    np.ndarray of Axes
    """
    if axes is None:
        _, axes = plt.subplots(len(bands), 1, figsize=(10, 1.1 * len(bands)), sharex=True,
                                 layout="constrained")
    dropped = set(dropped)
    for ax, band in zip(axes, bands):
        win = _window(fs, len(band.component), start, duration)
        t = np.arange(win.start, win.stop) / fs
        ax.plot(t, band.component[win], lw=0.8,
                color="tab:red" if band.name in dropped else "tab:blue")
        label = f"{band.name}\n{band.low:.2g}-{band.high:.3g} Hz"
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time (s)")
    return axes


def plot_denoising(raw, clean, fs, start=0.0, duration=5.0, ax=None, labels=("raw", "denoised")):
    """A signal before and after denoising, overlaid.

    Parameters
    ----------
    raw, clean : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz.
    start, duration : float
        Stretch to draw, in seconds.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    win = _window(fs, len(raw), start, duration)
    t = np.arange(win.start, win.stop) / fs
    ax.plot(t, raw[win], lw=0.8, color="0.6", label=labels[0])
    ax.plot(t, clean[win], lw=1.0, color="tab:blue", label=labels[1])
    ax.set(xlabel="time (s)", ylabel="mV")
    ax.legend(loc="upper right")
    return ax


def plot_spectrum(signals, fs, ax=None, fmax=None):
    """Power spectral density (Welch) of one or more signals, log scale.

    Parameters
    ----------
    signals : dict
        ``{label: np.ndarray of shape (n_samples,)}``.
    fs : float
        Sampling frequency in Hz.
    fmax : float, optional
        Upper frequency limit of the plot, in Hz (default fs/2).

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    for label, x in signals.items():
        f, pxx = sps.welch(x, fs=fs, nperseg=min(len(x), int(fs * 8)))
        ax.semilogy(f, pxx, lw=1, label=label)
    ax.set(xlabel="frequency (Hz)", ylabel="PSD (mV²/Hz)", xlim=(0, fmax or fs / 2))
    ax.legend()
    return ax


# --- chapter 03: beats ---


def _beat_time(n_samples, before, after):
    """Time of each resampled beat sample relative to the R peak, in seconds."""
    return np.linspace(-before, after, n_samples, endpoint=False)


def plot_class_counts(counts, ax=None, log=True):
    """Bar chart of beats per class (log scale shows the imbalance best).

    Parameters
    ----------
    counts : dict
        ``{class: number of beats}``, e.g. ``BeatSet.counts()``.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax, figsize=(6, 3.5))
    names = list(counts)
    bars = ax.bar(names, [counts[c] for c in names],
                  color=[CLASS_COLORS.get(c, "0.5") for c in names])
    ax.bar_label(bars, fmt="%d", fontsize=9)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="AAMI class", ylabel="beats", title="Beats per class")
    return ax


def plot_beats(X, before=0.4, after=0.5, n=50, ax=None, color="tab:blue", title=None, seed=0):
    """Overlay up to ``n`` beats (chosen at random) and their mean.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
    before, after : float
        The window the beats were cut with, in seconds (for the time axis).
    n : int
        Number of beats drawn.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax, figsize=(5, 3.5))
    t = _beat_time(X.shape[1], before, after)
    pick = np.random.default_rng(seed).permutation(len(X))[:n]
    ax.plot(t, X[pick].T, color=color, alpha=0.15, lw=0.7)
    if len(X):
        ax.plot(t, X.mean(axis=0), color="k", lw=2, label="mean")
    ax.axvline(0, color="0.5", ls=":", lw=1)
    ax.set(xlabel="time from R peak (s)", ylabel="mV", title=title or f"{len(X)} beats")
    return ax


def plot_class_means(X, aami, classes=AAMI_CLASSES, before=0.4, after=0.5, n=50, axes=None):
    """One panel per class: ``n`` beats overlaid and the class mean.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
    aami : np.ndarray of str, shape (n_beats,)
        Class of each beat.
    classes : sequence of str
        Classes to draw, one panel each.

    Returns
    -------
    np.ndarray of Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 3), sharey=True,
                                 layout="constrained")
    for ax, c in zip(np.atleast_1d(axes), classes):
        Xc = X[aami == c]
        plot_beats(Xc, before, after, n=n, ax=ax, color=CLASS_COLORS[c],
                   title=f"{c} ({len(Xc)} beats)")
    return axes


# --- model, training and evaluation plots (chapter 04-05) ---
