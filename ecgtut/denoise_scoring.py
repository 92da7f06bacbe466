"""Chapter 02 -- judging a denoiser: frequency responses and a test with a known answer.

:func:`frequency_response` (any method) and :func:`wavelet_band_responses`
(each DWT band) measure gains with pure tones; :func:`clean_beat_train`,
:func:`add_noise` and :func:`snr_db` make a test signal whose clean version is
known, and score the result; :func:`score_denoisers` runs that test for
several noises and denoisers.
"""

from __future__ import annotations

import numpy as np

from ecgtut.denoise import _band_components

__all__ = [
    "add_noise",
    "clean_beat_train",
    "frequency_response",
    "score_denoisers",
    "snr_db",
    "wavelet_band_responses",
]


_TONE_PHASES = np.arange(4) * np.pi / 4  # radians: 0, 45, 90 and 135 degrees


def _tones(freqs, fs, duration, phase=0.0):
    """Unit sine waves, one per row: shape (n_freqs, n_samples); ``phase`` in radians."""
    t = np.arange(int(round(duration * fs))) / fs
    return np.sin(2 * np.pi * np.asarray(freqs, dtype=float)[:, None] * t + phase)


def _tone_gains(freqs, fs, duration, outputs):
    """RMS gain of each output of ``outputs(X)`` (a dict of arrays like X), over tone phases.

    The power ratio of output to tone, over the middle half of the samples (away
    from edge effects), is averaged over the four phases of ``_TONE_PHASES``. A
    time-invariant filter does not care about the phase; the DWT does: it keeps
    every 2nd, 4th, ... sample, so a tone near the edge between two bands is
    split between them in a proportion that depends on where its peaks fall on
    that grid. The split varies like cos(2 * phase + c), whose mean over these
    four phases is exactly its average.
    """
    power = {}
    for phase in _TONE_PHASES:
        X = _tones(freqs, fs, duration, phase)
        middle = slice(X.shape[1] // 4, 3 * X.shape[1] // 4)
        tone_power = np.mean(X[:, middle] ** 2, axis=1)
        for name, Y in outputs(X).items():
            ratio = np.mean(np.asarray(Y)[:, middle] ** 2, axis=1) / tone_power
            power[name] = power.get(name, 0.0) + ratio / len(_TONE_PHASES)
    return {name: np.sqrt(p) for name, p in power.items()}


def frequency_response(denoise, freqs, fs, duration=60.0):
    """Gain of any denoiser at each frequency, measured by feeding it pure tones.

    Each tone goes through ``denoise``; the gain is the RMS of the output over
    the RMS of the tone, both over the middle half of the signal (away from the
    edge effects), averaged over four starting phases of the tone. For a linear
    time-invariant filter this is ``|H(f)|``; for the DWT (not time-invariant:
    it downsamples) it also counts the energy that leaks to other frequencies,
    and the phase average removes the dependence on where the tone's peaks fall
    on the downsampling grid.

    Parameters
    ----------
    denoise : callable
        ``denoise(X)`` with ``X`` of shape (n_freqs, n_samples), denoising
        along the last axis, e.g. ``denoise_wavelet`` or
        ``lambda X: denoise_bandpass(X, fs)``.
    freqs : array-like, shape (n_freqs,)
        Tone frequencies in Hz, below ``fs / 2``.
    fs : float
        Sampling frequency in Hz.
    duration : float
        Length of each tone in seconds; long enough for a few periods of the
        lowest frequency and for the 9-level transform (at least 16 s at 360 Hz).

    Returns
    -------
    np.ndarray, shape (n_freqs,)
        Amplitude gain (1 = passed unchanged; ``20 * log10(gain)`` is in dB).

    Examples
    --------
    >>> from ecgtut.denoise import denoise_wavelet
    >>> g = frequency_response(denoise_wavelet, [0.05, 10.0, 150.0], fs=360)
    >>> np.round(g, 2)
    array([0.  , 1.  , 0.01])
    """
    return _tone_gains(freqs, fs, duration, lambda X: {"out": denoise(X)})["out"]


def wavelet_band_responses(freqs, fs, wavelet="db6", level=9, duration=60.0):
    """Frequency response of each DWT band: how much of a tone each band passes.

    Parameters
    ----------
    freqs : array-like, shape (n_freqs,)
        Frequencies in Hz.
    fs : float
        Sampling frequency in Hz.
    wavelet, level
        As in :func:`ecgtut.denoise_wavelet`.
    duration : float
        Tone length in seconds, as in :func:`frequency_response`.

    Returns
    -------
    dict
        ``{band name: gains of shape (n_freqs,)}`` from ``cA{level}`` to ``cD1``.

    Examples
    --------
    >>> g = wavelet_band_responses([100.0], fs=360, level=5)
    >>> max(g, key=lambda name: g[name][0])
    'cD1'
    """
    return _tone_gains(freqs, fs, duration, lambda X: _band_components(X, wavelet, level))


def clean_beat_train(signal, r_peaks, fs, before=0.25, after=0.45):
    """A noise-free ECG-like signal: the median beat of a record at each of its R peaks.

    The median over hundreds of beats averages the noise away without any
    filter, so the result favours neither denoiser: a fair ground truth for
    testing them. The median beat is made to start and end at 0 mV (a straight
    line between its ends is subtracted, and 5 % at each end tapered); where
    two windows overlap they add, and between them the signal is 0.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        One lead of a record, in mV.
    r_peaks : np.ndarray of int, shape (n_beats,)
        Sample index of each R peak (e.g. ``read_annotations(...).beats().sample``).
    fs : float
        Sampling frequency in Hz.
    before, after : float
        Extent of the median beat around its R peak, in seconds.

    Returns
    -------
    np.ndarray, shape (n_samples,)

    Examples
    --------
    >>> x = np.zeros(3600); x[360::360] = 1.0           # a "beat" every second
    >>> y = clean_beat_train(x, np.arange(360, 3600, 360), fs=360)
    >>> y.shape, float(y[720]), float(y[700])
    ((3600,), 1.0, 0.0)
    """
    from scipy.signal.windows import tukey

    signal = np.asarray(signal, dtype=float)
    b, a = int(round(before * fs)), int(round(after * fs))
    r_peaks = np.asarray(r_peaks)
    inside = r_peaks[(r_peaks >= b) & (r_peaks + a <= len(signal))]
    if len(inside) == 0:
        raise ValueError("no R peak with a whole window inside the signal")
    beat = np.median(np.stack([signal[r - b : r + a] for r in inside]), axis=0)
    beat = (beat - np.linspace(beat[0], beat[-1], len(beat))) * tukey(len(beat), 0.1)
    out = np.zeros_like(signal)
    for r in inside:
        out[r - b : r + a] += beat
    return out


def add_noise(signal, fs, drift=0.5, drift_hz=0.25, mains=0.1, mains_hz=60.0, white=0.05,
              seed=0):
    """Add the three classic ECG noises: baseline drift, mains hum and white noise.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        Clean ECG in mV.
    fs : float
        Sampling frequency in Hz.
    drift, drift_hz : float
        Amplitude (mV) and frequency (Hz) of a sinusoidal baseline drift; the
        default 0.25 Hz is breathing at 15 breaths per minute.
    mains, mains_hz : float
        Amplitude (mV) and frequency (Hz) of the power-line hum (60 Hz in the
        USA, where MIT-BIH was recorded; 50 Hz in Europe and most of Asia).
    white : float
        Standard deviation (mV) of white Gaussian noise, a stand-in for muscle
        (EMG) noise, which is broadband too.
    seed : int
        Seed of the random phases and of the white noise.

    Returns
    -------
    np.ndarray, shape (n_samples,)

    Examples
    --------
    >>> x = np.zeros(3600)
    >>> y = add_noise(x, fs=360, drift=0, mains=0, white=0.1)
    >>> round(float(y.std()), 2)
    0.1
    """
    signal = np.asarray(signal, dtype=float)
    rng = np.random.default_rng(seed)
    t = np.arange(signal.shape[-1]) / fs
    phase = rng.uniform(0, 2 * np.pi, size=2)
    return (signal
            + drift * np.sin(2 * np.pi * drift_hz * t + phase[0])
            + mains * np.sin(2 * np.pi * mains_hz * t + phase[1])
            + white * rng.normal(size=signal.shape))


def snr_db(clean, estimate):
    """Signal-to-noise ratio of ``estimate`` against the known ``clean`` signal, in dB.

    ``10 * log10(sum(clean**2) / sum((estimate - clean)**2))``: the noise is
    everything that differs from the clean signal, including what a denoiser
    distorted. A denoiser improves the SNR by as many dB as it gains.

    Parameters
    ----------
    clean, estimate : np.ndarray, shape (n_samples,)

    Returns
    -------
    float
        ``inf`` when ``estimate`` equals ``clean``.

    Examples
    --------
    >>> x = np.ones(100)
    >>> round(snr_db(x, x + 0.1), 6)      # noise power 1 % of the signal's
    20.0
    """
    clean = np.asarray(clean, dtype=float)
    err = np.sum((np.asarray(estimate, dtype=float) - clean) ** 2)
    return float(10 * np.log10(np.sum(clean**2) / err)) if err > 0 else float("inf")


def score_denoisers(clean, fs, denoisers, noises, seed=0):
    """The test with a known answer: SNR of each denoiser on ``clean`` plus each noise.

    Parameters
    ----------
    clean : np.ndarray, shape (n_samples,)
        The noise-free signal in mV, e.g. from :func:`clean_beat_train`.
    fs : float
        Sampling frequency in Hz.
    denoisers : dict
        ``{label: function}``; each function takes a noisy signal of shape
        (n_samples,) and returns its estimate of the clean one.
    noises : dict
        ``{case: keyword arguments of add_noise}``; an amplitude left out takes
        :func:`add_noise`'s default, so ``{}`` adds all three noises.
    seed : int
        Seed of :func:`add_noise`, the same for every case.

    Returns
    -------
    dict
        ``{case: {"SNR in": dB, label: dB, ...}}``: the SNR of the noisy signal,
        then that of each denoiser's output (:func:`snr_db`; ``inf`` = exact).

    Examples
    --------
    >>> clean = np.sin(np.arange(3600) / 10)
    >>> scores = score_denoisers(clean, 360, {"do nothing": lambda y: y},
    ...                          {"white": dict(drift=0, mains=0)})
    >>> {case: {k: round(v, 1) for k, v in row.items()} for case, row in scores.items()}
    {'white': {'SNR in': 23.0, 'do nothing': 23.0}}
    """
    scores = {}
    for case, kwargs in noises.items():
        noisy = add_noise(clean, fs, seed=seed, **kwargs)
        scores[case] = {"SNR in": snr_db(clean, noisy)}
        scores[case].update({label: snr_db(clean, fn(noisy)) for label, fn in denoisers.items()})
    return scores
