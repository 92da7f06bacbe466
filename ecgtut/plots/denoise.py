"""Figures of chapter 02 (:mod:`ecgtut.denoise`): wavelet bands, spectra, denoisers."""

from __future__ import annotations

import numpy as np

from ecgtut.denoise import power_spectrum
from ecgtut.plots._common import _ax, _axes, _suptitle, _title, _window

__all__ = ["plot_wavelet_bands", "plot_denoising", "plot_spectrum", "plot_wavelet",
           "plot_frequency_response"]


def plot_wavelet_bands(bands, fs, *, start=0.0, duration=5.0, dropped=(), axes=None, title=None):
    """Each DWT band of a signal on its own row, with its frequency range.

    Parameters
    ----------
    bands : list of ecgtut.WaveletBand
        From :func:`ecgtut.wavelet_bands`; each ``component`` in mV.
    fs : float
        Sampling frequency in Hz.
    start, duration : float
        Stretch to draw, in seconds.
    dropped : iterable of str
        Band names drawn in red (the ones the denoiser sets to zero).
    axes : Axes or array of Axes, optional
        One per band (default: a new figure, one row per band).
    title : str, optional
        Figure title (default: none).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (len(bands),)

    Examples
    --------
    >>> from ecgtut.denoise import wavelet_bands
    >>> bands = wavelet_bands(np.random.default_rng(0).normal(size=4000), fs=360, level=3)
    >>> axes = plot_wavelet_bands(bands, 360, dropped=["cD1"])
    >>> len(axes), axes[-1].lines[0].get_color(), axes[-1].get_ylabel()
    (4, 'tab:red', 'cD1 (mV)\\n90-180 Hz')
    """
    axes = _axes(axes, len(bands), nrows=len(bands), ncols=1, figsize=(10, 1.1 * len(bands)),
                 sharex=True)
    dropped = set(dropped)
    for ax, band in zip(axes, bands):
        win = _window(fs, len(band.component), start, duration)
        t = np.arange(win.start, win.stop) / fs
        ax.plot(t, band.component[win], lw=0.8,
                color="tab:red" if band.name in dropped else "tab:blue")
        label = f"{band.name} (mV)\n{band.low:.2g}-{band.high:.3g} Hz"
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[len(bands) - 1].set_xlabel("time (s)")
    return _suptitle(axes, title)


def plot_denoising(raw, clean, fs, *, start=0.0, duration=5.0, labels=("raw", "denoised"),
                   ax=None, title=None):
    """A signal before and after denoising, overlaid.

    Parameters
    ----------
    raw, clean : np.ndarray, shape (n_samples,)
        The signal before and after, in mV.
    fs : float
        Sampling frequency in Hz.
    start, duration : float
        Stretch to draw, in seconds.
    labels : (str, str)
        Legend entries of ``raw`` and ``clean``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

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
    return _title(ax, title)


def plot_spectrum(signals, fs, *, seconds=8.0, fmax=None, ax=None, title=None):
    """Power spectral density of one or more signals (:func:`ecgtut.power_spectrum`), log scale.

    Parameters
    ----------
    signals : dict
        ``{label: np.ndarray of shape (n_samples,)}``, in mV.
    fs : float
        Sampling frequency in Hz.
    seconds : float
        Length of Welch's segments in seconds; the frequency resolution is
        ``1 / seconds`` Hz (longer segments resolve lower frequencies, but
        average fewer pieces, so the curve is noisier).
    fmax : float, optional
        Upper frequency limit of the plot, in Hz (default fs/2).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes
        One curve per signal: frequency in Hz against PSD in mV²/Hz.

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
        f, pxx = power_spectrum(x, fs, seconds=seconds)
        ax.semilogy(f, pxx, lw=1, label=label)
    ax.set(xlabel="frequency (Hz)", ylabel="PSD (mV²/Hz)", xlim=(0, fmax or fs / 2))
    ax.legend()
    return _title(ax, title)


def plot_wavelet(wavelet="db6", *, level=10, axes=None, title=None):
    """The shape of a wavelet: its scaling function (phi) and wavelet function (psi).

    Parameters
    ----------
    wavelet : str
        pywt name of an orthogonal wavelet, e.g. ``"db6"``.
    level : int
        Refinement level of the cascade algorithm (more = smoother curves).
    axes : two Axes, optional
        Where to draw phi and psi (default: a new figure).
    title : str, optional
        Figure title (default: none; each panel names its function).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (2,)
        phi, then psi.

    Examples
    --------
    >>> axes = plot_wavelet("db6")
    >>> [ax.get_title() for ax in axes]
    ['db6 scaling function φ (low-pass)', 'db6 wavelet ψ (high-pass)']
    """
    import pywt

    phi, psi, x = pywt.Wavelet(wavelet).wavefun(level=level)
    axes = _axes(axes, 2, figsize=(10, 2.8), sharey=True)
    for ax, y, name, color in [(axes[0], phi, "scaling function φ (low-pass)", "tab:green"),
                               (axes[1], psi, "wavelet ψ (high-pass)", "tab:purple")]:
        ax.plot(x, y, color=color, lw=1.2)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set(xlabel="samples (at level 1)", title=f"{wavelet} {name}")
    return _suptitle(axes, title)


def plot_frequency_response(freqs, responses, *, dropped=(), floor_db=-60.0, ax=None,
                            title=None):
    """Gain in dB against frequency (log axis), one curve per denoiser or band.

    Parameters
    ----------
    freqs : np.ndarray, shape (n_freqs,)
        Frequencies in Hz.
    responses : dict
        ``{label: gains of shape (n_freqs,)}`` (amplitude ratios, 1 = unchanged),
        from :func:`ecgtut.frequency_response` or :func:`ecgtut.wavelet_band_responses`.
    dropped : iterable of str
        When given, the curves are DWT bands: those named here are drawn in red
        (the bands the denoiser removes), the others in blue, each labelled at its
        peak instead of in a legend.
    floor_db : float
        Bottom of the y axis, in dB; lower gains are drawn at the floor.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes

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
    return _title(ax, title)
