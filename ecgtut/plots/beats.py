"""Figures of chapter 03 (:mod:`ecgtut.beats`): a beat's anatomy, windows, beats by class."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.data import AAMI_CLASSES
from ecgtut.plots._common import CLASS_COLORS, _ax, _axes, _suptitle, _title, _window

__all__ = ["plot_beat_anatomy", "plot_beats", "plot_class_means", "plot_beat_windows",
           "plot_beat_versions", "plot_beat_matrix", "plot_class_by_record"]


def plot_beat_anatomy(signal, fs, waves, *, ax=None, title=None):
    """One beat with its P, Q, R, S, T points and the RR, PR and QT intervals.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        A stretch of ECG holding two consecutive beats, in mV.
    fs : float
        Sampling frequency in Hz.
    waves : dict
        Sample index of each point, from :func:`ecgtut.delineate_beat`
        (keys ``P Q R S T P_on T_off R_next``).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Anatomy of a heartbeat").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> waves = dict(P_on=100, P=140, Q=260, R=300, S=340, T=550, T_off=700, R_next=1100)
    >>> ax = plot_beat_anatomy(np.sin(np.arange(1200) / 100), 1000, waves)
    >>> [t.get_text() for t in ax.texts if t.get_text().endswith("ms")]
    ['RR 800 ms', 'PR 160 ms', 'QT 440 ms']
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
        ax.annotate(f"{label} {ms:.0f} ms", ((t[i0] + t[i1]) / 2, y), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", color="tab:blue",
                    fontsize=10)  # above its arrow, so a short interval's arrow stays visible
    ax.set_ylim(low - 0.5 * span, high + 0.35 * span)
    ax.set(xlabel="time (s)", ylabel="mV")
    return _title(ax, title, "Anatomy of a heartbeat")


def plot_beats(X, *, window=DEFAULT_WINDOW, n=50, color="tab:blue", seed=0, ax=None, title=None):
    """Overlay up to ``n`` beats (chosen at random) and their mean.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beats in mV.
    window : ecgtut.BeatWindow
        The window the beats were cut with (for the time axis).
    n : int
        Number of beats drawn.
    color : str
        Colour of the beats (the mean is black).
    seed : int
        Seed of the random choice of beats.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "<n_beats> beats").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> X = np.tile(np.sin(np.linspace(0, 3, 251)), (3, 1))
    >>> ax = plot_beats(X)
    >>> ax.get_title(), len(ax.lines)  # 3 beats, their mean, the R-peak line
    ('3 beats', 5)
    """
    ax = _ax(ax, figsize=(5, 3.5))
    t = window.times(np.shape(X)[1])
    pick = np.random.default_rng(seed).permutation(len(X))[:n]
    ax.plot(t, X[pick].T, color=color, alpha=0.15, lw=0.7)
    if len(X):
        ax.plot(t, X.mean(axis=0), color="k", lw=2, label="mean")
    ax.axvline(0, color="0.5", ls=":", lw=1)
    ax.set(xlabel="time from R peak (s)", ylabel="mV")
    return _title(ax, title, f"{len(X)} beats")


def plot_class_means(X, aami, *, classes=AAMI_CLASSES, window=DEFAULT_WINDOW, n=50, axes=None,
                     title=None):
    """One panel per class: ``n`` beats overlaid and the class mean.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beats in mV.
    aami : np.ndarray of str, shape (n_beats,)
        Class of each beat.
    classes : sequence of str
        Classes to draw, one panel each.
    window : ecgtut.BeatWindow
        The window the beats were cut with (for the time axis).
    n : int
        Beats drawn per panel.
    axes : Axes or array of Axes, optional
        One per class (default: a new figure, one row).
    title : str, optional
        Figure title (default: none; each panel is titled with its class).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (len(classes),)

    Examples
    --------
    >>> X, aami = np.zeros((6, 251)), np.array(["N", "N", "N", "S", "V", "V"])
    >>> axes = plot_class_means(X, aami, classes=("N", "S", "V"))
    >>> [ax.get_title() for ax in axes]
    ['N (3 beats)', 'S (1 beat)', 'V (2 beats)']
    """
    axes = _axes(axes, len(classes), figsize=(3.2 * len(classes), 3), sharey=True)
    for ax, c in zip(axes, classes):
        Xc = X[aami == c]
        plot_beats(Xc, window=window, n=n, ax=ax, color=CLASS_COLORS.get(c, "0.5"),
                   title=f"{c} ({len(Xc)} beat{'' if len(Xc) == 1 else 's'})")
    return _suptitle(axes, title)


def plot_beat_windows(signal, r_peaks, fs, *, window=DEFAULT_WINDOW, start=0.0, duration=5.0,
                      highlight=(), ax=None, title=None):
    """A stretch of ECG with its R peaks marked and the window of some beats shaded.

    A window is shaded green when it lies inside the record and red when it
    crosses either end of ``signal`` (such beats are dropped by
    :func:`ecgtut.segment_beats`); the record's ends are drawn as dashed lines.
    The first highlighted window gets arrows with its extent in seconds and samples.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        One lead of the whole record, in mV (times are seconds from its first sample).
    r_peaks : np.ndarray of int, shape (n_beats,)
        Sample index of each R peak; those inside the stretch get a red dot.
    fs : float
        Sampling frequency in Hz.
    window : ecgtut.BeatWindow
        Extent of the window around the R peak (``before`` and ``after``, in seconds).
    start, duration : float
        Stretch of the record to draw, in seconds.
    highlight : sequence of int
        Indices into ``r_peaks`` whose windows are shaded (the x axis widens to
        show them whole, even beyond the record's ends).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> x = np.sin(np.arange(3600) / 50)
    >>> ax = plot_beat_windows(x, np.array([100, 500]), 360, duration=2, highlight=[1])
    >>> ax.get_legend_handles_labels()[1], [t.get_text() for t in ax.texts if t.get_text()]
    (['R peak', 'window kept'], ['0.4 s\\n144 samples', '0.5 s\\n180 samples'])
    """
    ax = _ax(ax)
    before, after = window.before, window.after
    win = _window(fs, len(signal), start, duration)
    ax.plot(np.arange(win.start, win.stop) / fs, signal[win], color="k", lw=0.8)
    low, high = np.min(signal[win]), np.max(signal[win])
    span = high - low or 1.0
    ax.set_ylim(low - 0.1 * span, high + 0.45 * span)
    r_peaks = np.asarray(r_peaks)
    shown = r_peaks[(r_peaks >= win.start) & (r_peaks < win.stop)]
    ax.plot(shown / fs, signal[shown], "o", color="tab:red", ms=5, label="R peak")
    end = len(signal) / fs
    labelled = set()
    for k, i in enumerate(highlight):
        t0, t1 = r_peaks[i] / fs - before, r_peaks[i] / fs + after
        inside = t0 >= 0 and t1 <= end
        label = "window kept" if inside else "window past the record end: dropped"
        ax.axvspan(t0, t1, color="tab:green" if inside else "tab:red", alpha=0.15,
                   label=None if label in labelled else label)
        labelled.add(label)
        if k == 0:
            t_r, y = r_peaks[i] / fs, high + 0.12 * span
            n_before, n_after = window.samples_at(fs)
            for a, b, text in [(t0, t_r, f"{before} s\n{n_before} samples"),
                               (t_r, t1, f"{after} s\n{n_after} samples")]:
                ax.annotate("", (a, y), (b, y), arrowprops=dict(arrowstyle="<->", color="k"))
                ax.text((a + b) / 2, y, text, ha="center", va="bottom", fontsize=8)
    for t in (0.0, end):
        if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]:
            ax.axvline(t, color="0.3", ls="--", lw=1)
    ax.locator_params(axis="x", nbins=6)
    ax.set(xlabel="time (s)", ylabel="mV")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8,
              frameon=False, handlelength=1.2, columnspacing=1.0)
    return _title(ax, title)


def plot_beat_versions(beats, *, window=None, ax=None, title=None):
    """Several versions of one beat on one axis (e.g. before and after resampling).

    Parameters
    ----------
    beats : dict
        ``{label: np.ndarray of shape (n_samples,)}`` in mV; the lengths may differ.
    window : ecgtut.BeatWindow, optional
        The window the beat was cut with: each version is then drawn on its
        own time axis, ``window.times(len(version))`` (so versions of different
        lengths line up in time). Without it the x axis is the sample index,
        i.e. what a network sees.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from ecgtut.beats import DEFAULT_WINDOW
    >>> x = np.sin(np.linspace(0, 3, 324))
    >>> ax = plot_beat_versions({"324": x, "162": x[::2]}, window=DEFAULT_WINDOW)
    >>> ax.get_legend_handles_labels()[1], ax.get_xlabel()
    (['324 (324 samples)', '162 (162 samples)'], 'time from R peak (s)')
    """
    ax = _ax(ax, figsize=(8, 3.5))
    for label, x in beats.items():
        t = np.arange(len(x)) if window is None else window.times(len(x))
        ax.plot(t, x, marker=".", ms=4, lw=1, label=f"{label} ({len(x)} samples)")
    if window is not None:
        ax.axvline(0, color="0.5", ls=":", lw=1)
    xlabel = "sample of the input" if window is None else "time from R peak (s)"
    ax.set(xlabel=xlabel, ylabel="mV")
    ax.legend(fontsize=8)
    return _title(ax, title)


def plot_beat_matrix(X, aami=None, *, window=DEFAULT_WINDOW, ax=None, title=None):
    """Beats as an image: one row per beat, colour = amplitude.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beat windows in mV, e.g. rows of ``BeatSet.X``.
    aami : np.ndarray of str, shape (n_beats,), optional
        Class of each beat, drawn as a coloured strip left of the image, with
        a legend of the classes above the image.
    window : ecgtut.BeatWindow
        The window the beats were cut with (for the time axis).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure); a colour bar in mV is added beside it.
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(20, 251))
    >>> ax = plot_beat_matrix(X, np.array(list("NV") * 10))
    >>> ax.images[0].get_array().shape, [t.get_text() for t in ax.get_legend().get_texts()]
    ((20, 251), ['N', 'V'])
    """
    ax = _ax(ax, figsize=(8, 4))
    before, after = window.before, window.after
    lim = float(np.percentile(np.abs(X), 99.5)) or 1.0
    im = ax.imshow(X, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest",
                   extent=(-before, after, len(X) - 0.5, -0.5))
    ax.figure.colorbar(im, ax=ax, label="mV", pad=0.01)
    pad = 6.0  # points between the axes and its title
    if aami is not None:
        strip = 0.04 * (before + after)
        ax.barh(np.arange(len(X)), strip, left=-before - strip, height=1.0,
                color=[CLASS_COLORS.get(c, "0.5") for c in aami])
        ax.set_xlim(-before - strip, after)
        present = [c for c in CLASS_COLORS if c in set(aami)]
        ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=CLASS_COLORS[c]) for c in present],
                  labels=present, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8,
                  ncols=max(len(present), 1), frameon=False, borderaxespad=0.2)
        pad = 22.0  # the title goes above the legend
    ax.set(xlabel="time from R peak (s)", ylabel="beat (row of X)")
    ax.set_title("" if title is None else title, pad=pad)
    return ax


def plot_class_by_record(record, aami, *, classes=("S", "V"), groups=None, axes=None, title=None):
    """Beats of each class per record: one panel per class, one bar per record.

    Parameters
    ----------
    record : np.ndarray of str, shape (n_beats,)
        Record of each beat (``BeatSet.record``).
    aami : np.ndarray of str, shape (n_beats,)
        Class of each beat (``BeatSet.aami``).
    classes : sequence of str
        Classes to draw, one panel each.
    groups : dict, optional
        ``{name: list of records}``, e.g. ``{"DS1": ecgtut.DS1, "DS2": ecgtut.DS2}``:
        the records are ordered group by group, with a separator and the
        group's total in each panel. Default: all records of ``record``, sorted.
    axes : Axes or array of Axes, optional
        One per class (default: a new figure, one row per class).
    title : str, optional
        Figure title (default: none; each panel gives its class and total).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (len(classes),)

    Examples
    --------
    >>> axes = plot_class_by_record(np.array(["100", "100", "101"]), np.array(["S", "V", "S"]))
    >>> [ax.get_title() for ax in axes]
    ['S beats per record (2 in all)', 'V beats per record (1 in all)']
    """
    axes = _axes(axes, len(classes), nrows=len(classes), ncols=1,
                 figsize=(11, 2.4 * len(classes)), sharex=True)
    groups = groups or {"": sorted(set(record))}
    order = [str(r) for g in groups.values() for r in g]
    x = np.arange(len(order))
    for ax, c in zip(axes, classes):
        n = np.array([np.sum((record == r) & (aami == c)) for r in order])
        ax.bar(x, n, color=CLASS_COLORS.get(c, "0.5"))
        ax.set_ylabel(f"{c} beats")
        ax.set_title(f"{c} beats per record ({n.sum()} in all)", fontsize=10)
        first = 0
        for name, recs in groups.items():
            if name:
                total = n[first:first + len(recs)].sum()
                ax.text(first + len(recs) / 2 - 0.5, 0.95, f"{name}: {total}", ha="center",
                        va="top", transform=ax.get_xaxis_transform(), fontsize=9)
            first += len(recs)
            if first < len(order):
                ax.axvline(first - 0.5, color="0.3", ls="--", lw=1)
    last = axes[len(classes) - 1]
    last.set_xticks(x, order, rotation=90, fontsize=8)
    last.set_xlabel("record (patient)")
    return _suptitle(axes, title)
