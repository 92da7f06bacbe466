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
    "plot_beat_matrix",
    "plot_beat_versions",
    "plot_beat_windows",
    "plot_beats",
    "plot_class_by_record",
    "plot_class_counts",
    "plot_class_means",
    "plot_denoising",
    "plot_frequency_response",
    "plot_record",
    "plot_spectrum",
    "plot_wavelet",
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

    Examples
    --------
    >>> from ecgtut.data import Annotations
    >>> ann = Annotations(np.array([100, 400]), np.array(["N", "V"]), 360.0)
    >>> ax = plot_record(np.sin(np.arange(3600) / 50), 360, ann, duration=2, title="100")
    >>> [t.get_text() for t in ax.texts], ax.get_title()
    (['N', 'V'], '100')
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
            c = aami_class(sym)
            ax.text(s / fs, top + 0.08 * span, sym, ha="center", fontsize=9,
                    color=CLASS_COLORS.get(c, "k"), fontweight="bold")
        ax.set_ylim(top=top + 0.25 * span)
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

    Examples
    --------
    >>> from ecgtut.denoise import wavelet_bands
    >>> bands = wavelet_bands(np.random.default_rng(0).normal(size=4000), fs=360, level=3)
    >>> axes = plot_wavelet_bands(bands, 360, dropped=["cD1"])
    >>> len(axes), axes[-1].lines[0].get_color()
    (4, 'tab:red')
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

    Examples
    --------
    >>> x = np.sin(np.arange(1800) / 50)
    >>> ax = plot_denoising(x + 0.1, x, fs=360)
    >>> ax.get_legend_handles_labels()[1]
    ['raw', 'denoised']
    """
    ax = _ax(ax)
    win = _window(fs, len(raw), start, duration)
    t = np.arange(win.start, win.stop) / fs
    ax.plot(t, raw[win], lw=0.8, color="0.6", label=labels[0])
    ax.plot(t, clean[win], lw=1.0, color="tab:blue", label=labels[1])
    ax.set(xlabel="time (s)", ylabel="mV")
    ax.legend(loc="upper right")
    return ax


def plot_spectrum(signals, fs, ax=None, fmax=None, seconds=8.0):
    """Power spectral density (Welch) of one or more signals, log scale.

    Parameters
    ----------
    signals : dict
        ``{label: np.ndarray of shape (n_samples,)}``.
    fs : float
        Sampling frequency in Hz.
    fmax : float, optional
        Upper frequency limit of the plot, in Hz (default fs/2).
    seconds : float
        Length of Welch's segments in seconds; the frequency resolution is
        ``1 / seconds`` Hz (longer segments resolve lower frequencies, but
        average fewer pieces, so the curve is noisier).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 10 * np.arange(3600) / 360)
    >>> ax = plot_spectrum({"10 Hz sine": x}, fs=360, fmax=50)
    >>> f, pxx = ax.lines[0].get_data()
    >>> float(f[np.argmax(pxx)])  # the peak, in Hz
    10.0
    """
    ax = _ax(ax)
    for label, x in signals.items():
        f, pxx = sps.welch(x, fs=fs, nperseg=min(len(x), int(fs * seconds)))
        ax.semilogy(f, pxx, lw=1, label=label)
    ax.set(xlabel="frequency (Hz)", ylabel="PSD (mV²/Hz)", xlim=(0, fmax or fs / 2))
    ax.legend()
    return ax


def plot_wavelet(wavelet="db6", level=10, axes=None):
    """The shape of a wavelet: its scaling function (phi) and wavelet function (psi).

    Parameters
    ----------
    wavelet : str
        pywt name of an orthogonal wavelet, e.g. ``"db6"``.
    level : int
        Refinement level of the cascade algorithm (more = smoother curves).
    axes : sequence of two Axes, optional

    Returns
    -------
    np.ndarray of Axes
        phi, then psi.

    Examples
    --------
    >>> axes = plot_wavelet("db6")
    >>> [ax.get_title() for ax in axes]
    ['db6 scaling function φ (low-pass)', 'db6 wavelet ψ (high-pass)']
    """
    import pywt

    phi, psi, x = pywt.Wavelet(wavelet).wavefun(level=level)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 2.8), sharey=True, layout="constrained")
    for ax, y, title, color in [(axes[0], phi, "scaling function φ (low-pass)", "tab:green"),
                                (axes[1], psi, "wavelet ψ (high-pass)", "tab:purple")]:
        ax.plot(x, y, color=color, lw=1.2)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set(xlabel="samples (at level 1)", title=f"{wavelet} {title}")
    return np.asarray(axes)


def plot_frequency_response(freqs, responses, ax=None, dropped=(), floor_db=-60.0):
    """Gain in dB against frequency (log axis), one curve per denoiser or band.

    Parameters
    ----------
    freqs : np.ndarray, shape (n_freqs,)
        Frequencies in Hz.
    responses : dict
        ``{label: gains of shape (n_freqs,)}``, from :func:`ecgtut.frequency_response`
        or :func:`ecgtut.wavelet_band_responses`.
    dropped : iterable of str
        When given, the curves are DWT bands: those named here are drawn in red
        (the bands the denoiser removes), the others in blue, each labelled at its
        peak instead of in a legend.
    floor_db : float
        Bottom of the y axis; lower gains are drawn at the floor.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> f = np.array([1.0, 10.0, 100.0])
    >>> ax = plot_frequency_response(f, {"ideal": np.ones(3)})
    >>> ax.get_ylabel()
    'gain (dB)'
    """
    ax = _ax(ax)
    dropped = set(dropped)
    for label, gain in responses.items():
        db = 20 * np.log10(np.maximum(gain, 10 ** (floor_db / 20)))
        if dropped:
            color = "tab:red" if label in dropped else "tab:blue"
            ax.semilogx(freqs, db, color=color, lw=1.2, ls="--" if label in dropped else "-")
            top = np.flatnonzero(db > db.max() - 3)  # label the middle of the pass band
            ax.text(np.sqrt(freqs[top[0]] * freqs[top[-1]]), db.max() + 1, label, color=color,
                    ha="center", va="bottom", fontsize=8)
        else:
            ax.semilogx(freqs, db, lw=1.4, label=label)
    if not dropped:
        ax.legend(loc="lower center")
    ax.set(xlabel="frequency (Hz)", ylabel="gain (dB)", xlim=(freqs[0], freqs[-1]),
           ylim=(floor_db, 8))
    ax.grid(True, which="major", alpha=0.3)
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

    Examples
    --------
    >>> ax = plot_class_counts({"N": 900, "S": 30, "V": 70})
    >>> [t.get_text() for t in ax.texts]
    ['900', '30', '70']
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

    Examples
    --------
    >>> X = np.tile(np.sin(np.linspace(0, 3, 251)), (3, 1))
    >>> ax = plot_beats(X)
    >>> ax.get_title(), len(ax.lines)  # 3 beats, their mean, the R-peak line
    ('3 beats', 5)
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

    Examples
    --------
    >>> X, aami = np.zeros((6, 251)), np.array(["N", "N", "N", "S", "V", "V"])
    >>> axes = plot_class_means(X, aami, classes=("N", "S", "V"))
    >>> [ax.get_title() for ax in axes]
    ['N (3 beats)', 'S (1 beat)', 'V (2 beats)']
    """
    if axes is None:
        _, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 3), sharey=True,
                                 layout="constrained")
    for ax, c in zip(np.atleast_1d(axes), classes):
        Xc = X[aami == c]
        plot_beats(Xc, before, after, n=n, ax=ax, color=CLASS_COLORS[c],
                   title=f"{c} ({len(Xc)} beat{'' if len(Xc) == 1 else 's'})")
    return axes


def plot_beat_windows(signal, fs, r_peaks, before=0.4, after=0.5, start=0.0, duration=5.0,
                      highlight=(), ax=None, title=None):
    """A stretch of ECG with its R peaks marked and the window of some beats shaded.

    A window is shaded green when it lies inside the record and red when it
    crosses either end of ``signal`` (such beats are dropped by
    :func:`ecgtut.segment_beats`); the record's ends are drawn as dashed lines.
    The first highlighted window gets arrows with its extent in seconds and samples.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        One lead of the whole record (times are seconds from its first sample).
    fs : float
        Sampling frequency in Hz.
    r_peaks : np.ndarray of int, shape (n_beats,)
        Sample index of each R peak; those inside the stretch get a red dot.
    before, after : float
        Window extent around the R peak, in seconds.
    start, duration : float
        Stretch of the record to draw, in seconds.
    highlight : sequence of int
        Indices into ``r_peaks`` whose windows are shaded (the x axis widens to
        show them whole, even beyond the record's ends).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> x = np.sin(np.arange(3600) / 50)
    >>> ax = plot_beat_windows(x, 360, np.array([100, 500]), duration=2, highlight=[1])
    """
    ax = _ax(ax)
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
            for a, b, text in [(t0, t_r, f"{before} s\n{round(before * fs)} samples"),
                               (t_r, t1, f"{after} s\n{round(after * fs)} samples")]:
                ax.annotate("", (a, y), (b, y), arrowprops=dict(arrowstyle="<->", color="k"))
                ax.text((a + b) / 2, y, text, ha="center", va="bottom", fontsize=8)
    for t in (0.0, end):
        if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]:
            ax.axvline(t, color="0.3", ls="--", lw=1)
    ax.locator_params(axis="x", nbins=6)
    ax.set(xlabel="time (s)", ylabel="mV", title=title or "")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8,
              frameon=False, handlelength=1.2, columnspacing=1.0)
    return ax


def plot_beat_versions(beats, before=None, after=None, ax=None, title=None):
    """Several versions of one beat on one axis (e.g. before and after resampling).

    Parameters
    ----------
    beats : dict
        ``{label: np.ndarray of shape (n_samples,)}``; the lengths may differ.
    before, after : float, optional
        Window extent in seconds: each version is then drawn on its own time
        axis from ``-before`` to ``+after`` (so versions of different lengths
        line up in time). Without them the x axis is the sample index, i.e.
        what a network sees.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> x = np.sin(np.linspace(0, 3, 324))
    >>> ax = plot_beat_versions({"324": x, "251": x[::2]}, before=0.4, after=0.5)
    """
    ax = _ax(ax, figsize=(8, 3.5))
    for label, x in beats.items():
        t = np.arange(len(x)) if before is None else _beat_time(len(x), before, after)
        ax.plot(t, x, marker=".", ms=4, lw=1, label=f"{label} ({len(x)} samples)")
    if before is not None:
        ax.axvline(0, color="0.5", ls=":", lw=1)
    xlabel = "sample of the input" if before is None else "time from R peak (s)"
    ax.set(xlabel=xlabel, ylabel="mV", title=title or "")
    ax.legend(fontsize=8)
    return ax


def plot_beat_matrix(X, aami=None, before=0.4, after=0.5, ax=None, title=None):
    """Beats as an image: one row per beat, colour = amplitude.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beat windows, e.g. rows of ``BeatSet.X``.
    aami : np.ndarray of str, shape (n_beats,), optional
        Class of each beat, drawn as a coloured strip left of the image.
    before, after : float
        The window the beats were cut with, in seconds (for the time axis).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(20, 251))
    >>> ax = plot_beat_matrix(X, np.array(list("NV") * 10))
    """
    ax = _ax(ax, figsize=(8, 4))
    lim = float(np.percentile(np.abs(X), 99.5)) or 1.0
    im = ax.imshow(X, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest",
                   extent=(-before, after, len(X) - 0.5, -0.5))
    ax.figure.colorbar(im, ax=ax, label="mV", pad=0.01)
    if aami is not None:
        strip = 0.04 * (before + after)
        ax.barh(np.arange(len(X)), strip, left=-before - strip, height=1.0,
                color=[CLASS_COLORS.get(c, "0.5") for c in aami])
        ax.set_xlim(-before - strip, after)
        present = [c for c in CLASS_COLORS if c in set(aami)]
        ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=CLASS_COLORS[c]) for c in present],
                  labels=present, loc="upper right", fontsize=8, ncols=len(present))
    ax.set(xlabel="time from R peak (s)", ylabel="beat (row of X)", title=title or "")
    return ax


def plot_class_by_record(record, aami, classes=("S", "V"), groups=None, axes=None):
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
    axes : array of Axes, optional
        One per class.

    Returns
    -------
    np.ndarray of Axes

    Examples
    --------
    >>> axes = plot_class_by_record(np.array(["100", "100", "101"]), np.array(["S", "V", "S"]))
    """
    if axes is None:
        _, axes = plt.subplots(len(classes), 1, figsize=(11, 2.4 * len(classes)), sharex=True,
                               layout="constrained")
    axes = np.atleast_1d(axes)
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
    axes[-1].set_xticks(x, order, rotation=90, fontsize=8)
    axes[-1].set_xlabel("record (patient)")
    return axes


# --- model, training and evaluation plots (chapter 04-05) ---


def plot_learning_curves(history, axes=None):
    """Loss and accuracy per epoch, training vs validation (and test, if tracked).

    Parameters
    ----------
    history : dict
        From :func:`ecgtut.fit`: lists ``train_loss``, ``val_loss``,
        ``train_acc``, ``val_acc`` (optionally ``test_acc``) and ``best_epoch``.
    axes : two matplotlib Axes, optional
        Loss and accuracy panels.

    Returns
    -------
    array of two matplotlib Axes

    Examples
    --------
    >>> history = {"train_loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.3, 0.35],
    ...            "train_acc": [0.8, 0.9, 0.95], "val_acc": [0.85, 0.9, 0.88], "best_epoch": 2}
    >>> axes = plot_learning_curves(history)
    >>> [ax.get_title() for ax in axes], axes[1].get_legend_handles_labels()[1]
    (['Loss', 'Accuracy'], ['training', 'validation', 'epoch kept'])
    """
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")[1]
    epochs = history.get("epoch") or list(range(1, len(history["train_loss"]) + 1))
    for ax, key, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], "o-", ms=3, label="training")
        ax.plot(epochs, history[f"val_{key}"], "o-", ms=3, label="validation")
        if f"test_{key}" in history:
            ax.plot(epochs, history[f"test_{key}"], "o--", ms=3, color="0.5",
                    label="test fold (not for selection)")
        if history.get("best_epoch"):
            ax.axvline(history["best_epoch"], color="k", ls=":", lw=1, label="epoch kept")
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].legend(fontsize=8)
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy")
    return axes


def plot_confusion(cm, classes, normalize=False, ax=None, title=None):
    """Confusion matrix as a heatmap: rows = true class, columns = predicted.

    Parameters
    ----------
    cm : array of int, shape (k, k)
        Counts, e.g. ``metrics["confusion"]``.
    classes : sequence of str
        Class names in label order.
    normalize : bool
        Write each row divided by its total (the diagonal is then each
        class's Se) instead of the counts. Colours always show the row shares,
        so the rare classes stay visible next to the 90 000 N beats.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_confusion(np.array([[8, 2], [1, 9]]), ["N", "V"])
    >>> [t.get_text() for t in ax.texts], ax.get_title()
    (['8', '2', '1', '9'], 'Confusion matrix (beats)')
    """
    import seaborn as sns

    counts = np.asarray(cm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = counts / counts.sum(axis=1, keepdims=True)  # colour: share of the true class
    ax = _ax(ax, figsize=(4.5, 4))
    sns.heatmap(rates, annot=rates if normalize else counts, fmt=".3f" if normalize else ".0f",
                cmap="Blues", vmin=0, vmax=1, cbar=False, square=True, ax=ax,
                xticklabels=list(classes), yticklabels=list(classes))
    ax.set(xlabel="predicted class", ylabel="true class",
           title=title or ("Confusion matrix (row-normalised)" if normalize
                           else "Confusion matrix (beats)"))
    return ax


def plot_misclassified(X, y_true, y_pred, classes, n=8, axes=None, before=0.4, after=0.5):
    """Draw up to ``n`` misclassified beats, one per panel, varying the kind of error.

    Beats are picked in turn from each (true, predicted) pair, most frequent
    errors first, so the figure shows several kinds of mistakes.

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
        Beats.
    y_true, y_pred : arrays of int, shape (n_beats,)
        True and predicted class indices into ``classes``.
    n : int
        Number of beats to draw.
    axes : array of matplotlib Axes, optional
        At least ``n`` panels.
    before, after : float
        Window around the R peak, in seconds (for the time axis).

    Returns
    -------
    array of matplotlib Axes

    Examples
    --------
    >>> X = np.zeros((4, 251))
    >>> axes = plot_misclassified(X, [0, 0, 1, 1], [0, 1, 0, 1], ["N", "V"], n=2)
    >>> [ax.get_title() for ax in axes]
    ['true N → predicted V', 'true V → predicted N']
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    pairs, counts = np.unique(np.stack([y_true[wrong], y_pred[wrong]], axis=1), axis=0,
                              return_counts=True)
    groups = [wrong[(y_true[wrong] == t) & (y_pred[wrong] == p)]
              for t, p in pairs[np.argsort(-counts, kind="stable")]]
    picked = [g[i] for i in range(max(map(len, groups), default=0)) for g in groups
              if i < len(g)][:n]
    if axes is None:
        cols = min(4, max(n, 1))
        rows = -(-max(n, 1) // cols)
        axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows),
                            sharex=True, layout="constrained", squeeze=False)[1]
    axes = np.ravel(axes)
    t = _beat_time(np.shape(X)[1], before, after)
    for ax, i in zip(axes, picked, strict=False):
        true, pred = classes[y_true[i]], classes[y_pred[i]]
        ax.plot(t, X[i], color=CLASS_COLORS.get(true, "k"), lw=1)
        ax.set_title(f"true {true} \u2192 predicted {pred}", fontsize=9)
        ax.axvline(0, color="0.7", lw=0.8, ls=":")
    for ax in axes[len(picked):]:
        ax.axis("off")
    if not picked:
        axes[0].text(0.5, 0.5, "no misclassified beat", ha="center", transform=axes[0].transAxes)
    for ax in axes[:len(picked)]:
        ax.set_xlabel("time from R peak (s)")
    return axes


def plot_selection_pitfall(pitfall, ax=None):
    """Per fold, test accuracy with the epoch chosen on validation vs on the test fold.

    Parameters
    ----------
    pitfall : dict
        From :func:`ecgtut.epoch_selection_pitfall` (lists ``val_selected``
        and ``test_selected``, fractions 0-1).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_selection_pitfall({"val_selected": [0.98, 0.97], "test_selected": [0.99, 0.98]})
    >>> ax.get_legend_handles_labels()[1]
    ['chosen on validation (mean 97.50 %)', 'chosen on the test fold (mean 98.50 %)']
    """
    ax = _ax(ax, figsize=(6, 3.5))
    val = 100 * np.asarray(pitfall["val_selected"])
    test = 100 * np.asarray(pitfall["test_selected"])
    folds = np.arange(1, len(val) + 1)
    ax.bar(folds - 0.2, val, 0.4, label=f"chosen on validation (mean {val.mean():.2f} %)")
    ax.bar(folds + 0.2, test, 0.4, color="tab:red",
           label=f"chosen on the test fold (mean {test.mean():.2f} %)")
    low, high = min(val.min(), test.min()), max(val.max(), test.max())
    ax.set_ylim(low - max(0.1, (high - low)), high + max(0.1, (high - low)))
    ax.set(xticks=folds, xlabel="fold", ylabel="test accuracy (%)",
           title="Choosing the epoch on the test fold flatters the result")
    ax.legend(fontsize=8, loc="lower right")
    return ax


__all__ += [
    "plot_confusion",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_selection_pitfall",
]


# --- chapter 04: the multi-scale CNN ---

_BRANCH_COLORS = ("tab:green", "tab:cyan", "tab:pink")


def _box(ax, x, y, text, color, w=0.9, h=0.6):
    """A rounded box centred on (x, y) with ``text`` inside (for :func:`plot_model_diagram`)."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                facecolor=color, edgecolor="0.3", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end):
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color="0.3", lw=0.8,
                                                shrinkA=0, shrinkB=0))


def plot_model_diagram(model=None, ax=None):
    """Schematic of the three-branch CNN: one box per layer, with its output shape.

    Shapes are (channels x samples) for one beat, computed by running the
    model's layers on a zero beat, so the drawing always matches the model.

    Parameters
    ----------
    model : ecgtut.MultiScaleCNN, optional
        Default: a fresh ``MultiScaleCNN()`` (4 classes, 251 samples).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_model_diagram()
    >>> len(ax.patches)   # input, 3 branches x 4 layers, concat, 3 FC layers
    17
    """
    import torch
    from torch import nn

    from ecgtut.model import BRANCH_KERNELS, MultiScaleCNN

    model = MultiScaleCNN() if model is None else model
    ax = _ax(ax, figsize=(12, 4.2))
    w, h, dx = 1.0, 0.8, 1.2  # box size and distance between columns
    rows, mid = (2.6, 1.3, 0.0), 1.3  # y of each branch (top: short kernels), of the trunk
    _box(ax, 0, mid, f"input beat\n1 × {model.n_samples}", "0.9", w, h)
    x = torch.zeros(1, 1, model.n_samples)
    with torch.no_grad():
        for branch, (k1, k2), y, color in zip(model.branches, BRANCH_KERNELS, rows,
                                              _BRANCH_COLORS):
            ax.text(dx - w / 2, y + h / 2 + 0.06, f"branch k = {k1}, {k2}", fontsize=9,
                    color=color, fontweight="bold", va="bottom")
            _arrow(ax, (w / 2, mid), (dx - w / 2, y))
            hb, col = x, 1
            for layer in branch:
                hb = layer(hb)
                if isinstance(layer, nn.ReLU):
                    continue
                if isinstance(layer, nn.Conv1d):
                    name, fill = f"conv k={layer.kernel_size[0]}\n+ ReLU", "#cfe2f3"
                else:
                    name, fill = "max-pool 2", "#d9ead3"
                _box(ax, col * dx, y, f"{name}\n{hb.shape[1]} × {hb.shape[2]}", fill, w, h)
                if col > 1:
                    _arrow(ax, ((col - 1) * dx + w / 2, y), (col * dx - w / 2, y))
                col += 1
            _arrow(ax, ((col - 1) * dx + w / 2, y), (col * dx - w / 2, mid))
    extra = f"\n+ {model.n_features}\nfeatures" if model.n_features else ""
    _box(ax, col * dx, mid, f"concat +\nflatten\n{model.n_flat}{extra}", "#fff2cc", w, 1.2)
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears, start=1):
        last = i == len(linears)
        text = f"FC {layer.out_features}\n" + ("(logits)" if last else "+ ReLU")
        _box(ax, (col + i) * dx, mid, text, "#f4cccc" if last else "#fce5cd", w, h)
        _arrow(ax, ((col + i - 1) * dx + w / 2, mid), ((col + i) * dx - w / 2, mid))
    n_params = sum(p.numel() for p in model.parameters())
    ax.set(xlim=(-w / 2 - 0.1, (col + len(linears)) * dx + w / 2 + 0.1), ylim=(-0.5, 3.4),
           title=f"The multi-scale CNN: three branches, {n_params:,} parameters")
    ax.axis("off")
    return ax


def plot_receptive_fields(beat, fields, before=0.4, after=0.5, ax=None, ylabel="mV",
                          title=None):
    """A beat with the receptive field of each branch drawn as a bar centred on the R peak.

    Parameters
    ----------
    beat : np.ndarray, shape (n_samples,)
        One beat (time axis from ``-before`` to ``+after`` seconds).
    fields : list of dict
        From :func:`ecgtut.receptive_fields`: ``kernels``, ``samples``, ``ms``.
    before, after : float
        The window the beat was cut with, in seconds.
    ax : matplotlib Axes, optional
    ylabel, title : str, optional

    Returns
    -------
    matplotlib Axes
        The x axis is in milliseconds from the R peak.

    Examples
    --------
    >>> rf = [{"kernels": (4, 6), "samples": 17, "ms": 61.0}]
    >>> ax = plot_receptive_fields(np.zeros(251), rf)
    >>> ax.lines[1].get_xdata().tolist()
    [-30.5, 30.5]
    """
    ax = _ax(ax, figsize=(8, 3.5))
    t = 1000 * _beat_time(len(beat), before, after)
    ax.plot(t, beat, color="k", lw=1)
    low, high = float(np.min(beat)), float(np.max(beat))
    span = high - low or 1.0
    for i, (rf, color) in enumerate(zip(fields, _BRANCH_COLORS)):
        y = high + (0.15 + 0.15 * i) * span
        half = rf["ms"] / 2
        ax.plot([-half, half], [y, y], color=color, lw=5, solid_capstyle="butt")
        k1, k2 = rf["kernels"]
        ax.text(half + 8, y, f"k = {k1}, {k2}: {rf['samples']} samples = {rf['ms']:.0f} ms",
                va="center", fontsize=8, color=color)
    ax.axvline(0, color="0.5", ls=":", lw=1)
    ax.set_ylim(low - 0.05 * span, high + (0.3 + 0.15 * len(fields)) * span)
    ax.set(xlabel="time from R peak (ms)", ylabel=ylabel, title=title or "")
    return ax


def plot_normalized_beats(X, normalized, labels=None, before=0.4, after=0.5, axes=None):
    """A few beats as cut (mV) beside the same beats normalised, one panel per way.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beats in mV.
    normalized : dict of str to np.ndarray (n_beats, n_samples)
        The same beats normalised, e.g. ``{"center": normalize_beats(X, "center"),
        "zscore": normalize_beats(X, "zscore")}`` (see :func:`ecgtut.normalize_beats`).
    labels : list of str, optional
        Legend entry of each beat.
    before, after : float
        The window the beats were cut with, in seconds (for the time axis).
    axes : matplotlib Axes, one per panel (``1 + len(normalized)``), optional

    Returns
    -------
    array of matplotlib Axes

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(3, 251))
    >>> axes = plot_normalized_beats(X, {"zscore": X / X.std(1, keepdims=True)}, ["a", "b", "c"])
    >>> len(axes), axes[0].get_legend_handles_labels()[1]
    (2, ['a', 'b', 'c'])
    """
    panels = {"as cut": X, **normalized}
    if axes is None:
        axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.5), sharex=True,
                            layout="constrained")[1]
    t = _beat_time(np.shape(X)[1], before, after)
    labels = labels if labels is not None else [f"beat {i}" for i in range(len(X))]
    titles = {"as cut": ("As cut", "mV"),
              "center": ("Centred: median to 0, amplitude kept", "mV"),
              "zscore": ("Standardised: mean 0, std 1", "standard deviations")}
    for ax, (name, Z) in zip(axes, panels.items(), strict=True):
        for i, label in enumerate(labels):
            ax.plot(t, Z[i], color=f"C{i % 10}", lw=1, label=label)
        title, ylabel = titles.get(name, (name, ""))
        ax.set(xlabel="time from R peak (s)", ylabel=ylabel, title=title)
        ax.axhline(0, color="0.8", lw=0.8)
    axes[0].legend(fontsize=8)
    return np.asarray(axes)


def plot_augmented_beats(x, augmented, before=0.4, after=0.5, zoom=0.1, axes=None):
    """One beat as cut beside random augmented copies of it, whole and around the R peak.

    Parameters
    ----------
    x : np.ndarray, shape (n_samples,)
        The beat (mV).
    augmented : np.ndarray, shape (n_copies, n_samples)
        Copies of it from :func:`ecgtut.augment_beats`.
    before, after : float
        The window the beat was cut with, in seconds (for the time axis).
    zoom : float
        Half-width of the right panel around the R peak, in seconds.
    axes : two matplotlib Axes, optional

    Returns
    -------
    array of 2 matplotlib Axes

    Examples
    --------
    >>> x = np.exp(-np.linspace(-20, 30, 251) ** 2)
    >>> axes = plot_augmented_beats(x, np.stack([np.roll(x, 2), np.roll(x, -3)]))
    >>> len(axes), len(axes[0].lines)
    (2, 4)
    """
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(12, 3.5), layout="constrained",
                            gridspec_kw={"width_ratios": [2, 1]})[1]
    t = _beat_time(len(x), before, after)
    for ax in axes:
        for i, beat in enumerate(augmented):
            ax.plot(t, beat, lw=1, alpha=0.8, color=f"C{i % 10}",
                    label="augmented copies" if i == 0 else None)
        ax.plot(t, x, color="black", lw=2, label="as cut")
        ax.axvline(0, color="0.5", ls=":", lw=1)
        ax.set(xlabel="time from R peak (s)", ylabel="mV")
    axes[0].set_title(f"One beat and {len(augmented)} random copies")
    axes[0].legend(fontsize=8)
    axes[1].set_xlim(-zoom, zoom)
    axes[1].set_xticks(np.linspace(-zoom, zoom, 5))
    axes[1].set_title("Around the R peak")
    return np.asarray(axes)


def plot_split_counts(splits, classes, ax=None, log=True):
    """Beats per class in each split, with each class's share of its split above the bars.

    With a stratified split the shares are (nearly) the same in every split.

    Parameters
    ----------
    splits : dict
        ``{name: labels of that split}``, labels being int arrays of class indices.
    classes : sequence of str
        Class names in label order.
    log : bool
        Log scale on the counts (to see the rare classes).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_split_counts({"train": np.array([0, 0, 0, 1]), "test": np.array([0, 1])}, "NS")
    >>> [t.get_text() for t in ax.texts]
    ['75.0 %', '25.0 %', '50.0 %', '50.0 %']
    """
    ax = _ax(ax, figsize=(8, 3.5))
    x = np.arange(len(classes))
    width = 0.8 / len(splits)
    for j, (name, y) in enumerate(splits.items()):
        counts = np.bincount(np.asarray(y), minlength=len(classes))
        xs = x - 0.4 + width * (j + 0.5)
        ax.bar(xs, counts, width, label=f"{name} ({len(y)} beats)", color=f"C{j}")
        for xi, c in zip(xs, counts):
            ax.text(xi, c, f"{100 * c / max(len(y), 1):.1f} %", ha="center", va="bottom",
                    fontsize=7)
    if log:
        ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * (3 if log else 1.1))
    ax.set_xticks(x, list(classes))
    ax.set(xlabel="class", ylabel="beats", title="Beats per class in each split")
    ax.legend(fontsize=8)
    return ax


def plot_lr_schedule(lrs, steps_per_epoch, history=None, ax=None, title=None):
    """Learning rate against training progress, with the values recorded by ``fit``.

    Parameters
    ----------
    lrs : array, shape (n_steps,)
        Rate at each optimizer step, from :func:`ecgtut.lr_schedule`.
    steps_per_epoch : int
        Batches per epoch (sets the x axis, in epochs).
    history : dict, optional
        From :func:`ecgtut.fit`: ``history["lr"]`` (rate at the end of each
        epoch) is drawn as dots at ``history["epoch"]``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> history = {"epoch": [1, 2], "lr": [1.0, 0.1]}
    >>> ax = plot_lr_schedule(np.array([1.0, 2.0, 1.0, 0.5]), 2, history)
    >>> ax.lines[0].get_xdata().tolist()
    [0.0, 0.5, 1.0, 1.5]
    """
    ax = _ax(ax, figsize=(7, 3))
    lrs = np.asarray(lrs)
    ax.plot(np.arange(len(lrs)) / steps_per_epoch, lrs, color="tab:blue", lw=1.5,
            label="schedule (one value per batch)")
    if history is not None:
        ax.plot(history["epoch"], history["lr"], "o", color="tab:red", ms=5,
                label="history['lr'] (end of each epoch)")
    ax.set(xlabel="epoch", ylabel="learning rate", title=title or "Learning rate during training")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_confidence(proba, y_true, ax=None, bins=20):
    """Histogram of the probability of the predicted class, for right and wrong predictions.

    Parameters
    ----------
    proba : array, shape (n_beats, n_classes)
        Class probabilities (rows sum to 1), from :func:`ecgtut.predict`.
    y_true : array of int, shape (n_beats,)
        True class indices.
    bins : int
        Bins between ``1 / n_classes`` (the least sure a prediction can be) and 1.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> ax = plot_confidence(p, np.array([0, 1, 1]))
    >>> ax.get_legend_handles_labels()[1]
    ['right (2 beats)', 'wrong (1 beats)']
    """
    ax = _ax(ax, figsize=(7, 3))
    proba, y_true = np.asarray(proba), np.asarray(y_true)
    p_max, right = proba.max(axis=1), proba.argmax(axis=1) == y_true
    edges = np.linspace(1 / proba.shape[1], 1, bins + 1)
    for mask, label, color in ((right, "right", "tab:blue"), (~right, "wrong", "tab:red")):
        ax.hist(p_max[mask], bins=edges, color=color, alpha=0.6,
                label=f"{label} ({int(mask.sum())} beats)")
    ax.set_yscale("log")
    ax.set(xlabel="probability of the predicted class", ylabel="beats",
           title="How sure is the model?")
    ax.legend(fontsize=8, loc="upper left")
    return ax


__all__ += [
    "plot_augmented_beats",
    "plot_confidence",
    "plot_lr_schedule",
    "plot_model_diagram",
    "plot_receptive_fields",
    "plot_split_counts",
    "plot_normalized_beats",
]


# --- chapter 05: cross-validation ---


def plot_kfold_scheme(folds=5, val_fraction=0.1, ax=None):
    """The k rounds of k-fold cross-validation: which part of the beats does what.

    One row per round: the test fold (red), the validation split carved out
    of the training folds to choose the epoch (orange), and the training beats
    (blue). Drawn to scale: each fold is ``1 / folds`` of the beats. The
    validation beats are really a random (stratified) sample of the training
    folds; they are drawn as one block for clarity.

    Parameters
    ----------
    folds : int
        Number of folds.
    val_fraction : float
        Share (0-1) of the training folds used for validation.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_kfold_scheme(folds=3)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['round 3', 'round 2', 'round 1']
    """
    ax = _ax(ax, figsize=(8, 0.45 * folds + 1.2))
    w = 1 / folds
    colors = {"training": "tab:blue", "validation": "tab:orange", "test": "tab:red"}
    for k in range(folds):
        row = folds - 1 - k
        ax.barh(row, 1, color=colors["training"], height=0.7)
        ax.barh(row, w, left=k * w, color=colors["test"], height=0.7)
        val_left = (k + 1) * w if k < folds - 1 else 0  # drawn next to the test fold
        ax.barh(row, val_fraction * (1 - w), left=val_left, color=colors["validation"],
                height=0.7)
        for j in range(1, folds):
            ax.axvline(j * w, color="white", lw=1.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    ax.legend(handles, list(colors), ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25),
              fontsize=9, frameon=False)
    ax.set(yticks=range(folds), yticklabels=[f"round {k}" for k in range(folds, 0, -1)],
           xticks=(np.arange(folds) + 0.5) * w, xticklabels=[f"fold {k + 1}" for k in range(folds)],
           xlim=(0, 1), title=f"{folds}-fold cross-validation: every beat is tested exactly once")
    ax.tick_params(length=0)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def plot_fold_class_shares(counts, classes, ax=None, title=None, ymax=None):
    """Share of each class in each test fold, relative to its share in all beats.

    A bar at 1 means the fold holds the class in exactly the proportion of the
    whole data set; 0.5 means half as many of its beats as it should.

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

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_fold_class_shares([[9, 1], [8, 2]], ["N", "V"])
    >>> np.round([bar.get_height() for bar in ax.patches], 2).tolist()  # fold 1, then fold 2
    [1.06, 0.67, 0.94, 1.33]
    """
    counts = np.asarray(counts, dtype=float)
    folds, k = counts.shape
    overall = counts.sum(axis=0) / counts.sum()
    ratio = counts / counts.sum(axis=1, keepdims=True) / overall
    ax = _ax(ax, figsize=(6, 3.5))
    width = 0.8 / folds
    for f in range(folds):
        ax.bar(np.arange(k) - 0.4 + (f + 0.5) * width, ratio[f], width,
               color=plt.cm.viridis(f / max(folds - 1, 1)), label=f"fold {f + 1}")
    ax.axhline(1, color="k", lw=1, ls="--")
    ax.set_xticks(np.arange(k), [f"{c}\n{100 * s:.2g} % of all" for c, s in zip(classes, overall)])
    ax.set(ylabel="share in the test fold\n÷ share in all beats",
           ylim=(0, ymax or max(1.5, 1.1 * ratio.max())),
           title=title or "Class share per test fold")
    ax.legend(fontsize=8, ncol=folds, loc="upper left")
    return ax


def plot_fold_scores(cv, ax=None, title=None):
    """Accuracy, macro F1 and per-class Se and +P of every fold, with mean and std.

    Parameters
    ----------
    cv : dict
        From :func:`ecgtut.cross_validate` (uses ``classes`` and ``folds``).

    Returns
    -------
    matplotlib Axes
        One column per score: a dot per fold, a black bar at the mean and a
        line of plus/minus one standard deviation (over folds).

    Examples
    --------
    >>> fold = {"accuracy": 0.9, "macro_f1": 0.8, "per_class": {"N": {"se": 0.95, "ppv": 0.9}}}
    >>> ax = plot_fold_scores({"classes": ["N"], "folds": [fold, fold]})
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['accuracy', 'macro F1', 'N Se', 'N +P']
    """
    classes = cv["classes"]
    names = ["accuracy", "macro F1"] + [f"{c} {s}" for s in ("Se", "+P") for c in classes]
    getters = [lambda r: r["accuracy"], lambda r: r["macro_f1"]]
    getters += [lambda r, c=c, k=k: r["per_class"][c][k] for k in ("se", "ppv") for c in classes]
    ax = _ax(ax, figsize=(8, 3.5))
    for i, get in enumerate(getters):
        v = np.array([get(r) for r in cv["folds"]], dtype=float)
        v = v[~np.isnan(v)]
        if not len(v):
            continue
        ax.plot(np.full(len(v), i), v, "o", color="tab:blue", alpha=0.6, ms=5)
        sd = v.std(ddof=1) if len(v) > 1 else 0.0
        ax.errorbar(i + 0.25, v.mean(), yerr=sd, fmt="_", color="k", ms=14, capsize=3)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set(ylabel="score (0-1)", xlim=(-0.6, len(names) - 0.4),
           title=title or f"{len(cv['folds'])} folds: one dot per fold, mean ± std in black")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_selection_optimism(gains, ax=None):
    """Expected optimism of the best of m looks at a test set, against m.

    Parameters
    ----------
    gains : dict of {label: array, shape (n_checks,)}
        Curves from :func:`ecgtut.selection_optimism` (fractions); drawn in
        percentage points.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_selection_optimism({"1000 test beats": np.array([0.0, 0.005, 0.01])})
    >>> ax.lines[0].get_ydata().tolist()  # percentage points
    [0.0, 0.5, 1.0]
    """
    ax = _ax(ax, figsize=(6, 3.5))
    for label, gain in gains.items():
        m = np.arange(1, len(gain) + 1)
        ax.plot(m, 100 * np.asarray(gain), lw=2, label=label)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(xscale="log", xlabel="number of looks at the test fold (epochs, settings...)",
           ylabel="reported − true accuracy\n(percentage points)",
           title="Picking the best of m test scores inflates it")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_same_record_neighbours(same, chance, labels, classes=None, ax=None):
    """Per class: how often a test beat's nearest training beat is from its own patient.

    Parameters
    ----------
    same : array of bool, shape (n_test,)
        From :func:`ecgtut.same_record_neighbours`.
    chance : array of float, shape (n_test,)
        Idem: the share expected if the neighbour were any training beat.
    labels : array of str, shape (n_test,)
        Class name of each test beat.
    classes : sequence of str, optional
        Classes to show, in order (default: those in ``labels``, sorted).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> same, chance = np.array([True, True, False, True]), np.full(4, 0.5)
    >>> ax = plot_same_record_neighbours(same, chance, np.array(["N", "N", "V", "V"]))
    >>> [t.get_text() for t in ax.texts]
    ['100 %', '50 %']
    """
    labels = np.asarray(labels)
    classes = list(classes) if classes is not None else sorted(set(labels.tolist()))
    obs = [100 * np.mean(np.asarray(same)[labels == c]) for c in classes]
    exp = [100 * np.mean(np.asarray(chance)[labels == c]) for c in classes]
    ax = _ax(ax, figsize=(6, 3.5))
    x = np.arange(len(classes))
    bars = ax.bar(x - 0.2, obs, 0.4, color="tab:green", label="the nearest training beat")
    ax.bar(x + 0.2, exp, 0.4, color="0.75", label="a training beat at random")
    ax.bar_label(bars, fmt="%.0f %%", fontsize=9)
    ax.set_xticks(x, classes)
    ax.set(ylim=(0, 125), xlabel="class of the test beat",
           ylabel="from the same patient (%)",
           title="Is the most similar training beat from the same patient?")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    return ax


__all__ += [
    "plot_fold_class_shares",
    "plot_fold_scores",
    "plot_kfold_scheme",
    "plot_same_record_neighbours",
    "plot_selection_optimism",
]
