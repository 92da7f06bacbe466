"""Chapter 02 -- removing noise: the db6 wavelet denoiser and a band-pass alternative.

The discrete wavelet transform (DWT) splits a signal sampled at ``fs`` Hz into
detail bands cD1 (fs/4 .. fs/2), cD2 (fs/8 .. fs/4), ... cDL and one approximation
cAL (0 .. fs/2**(L+1)). Denoising = set some bands to zero and reconstruct. With
``db6`` and 9 levels at 360 Hz (SPEC section 3) the method drops cD1 (90-180 Hz)
and cD2 (45-90 Hz): muscle noise and mains hum (attenuated, not removed: 60 Hz
by about 15 dB, as cD3's edge is soft); and cA9 (0-0.35 Hz): baseline wander.

To judge a denoiser: :func:`frequency_response` (any method) and
:func:`wavelet_band_responses` (each DWT band) measure gains with pure tones;
:func:`clean_beat_train`, :func:`add_noise` and :func:`snr_db` make a test
signal whose clean version is known, and score the result;
:func:`score_denoisers` runs that test for several noises and denoisers.

pywt and scipy.signal are imported by the functions that use them, so importing
this module (and ``ecgtut``) stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WAVELET_FS = 360  # Hz: the rate at which the paper's 9-level db6 bands are defined

__all__ = [
    "WaveletBand",
    "add_noise",
    "clean_beat_train",
    "denoise_signal",
    "denoise_bandpass",
    "denoise_wavelet",
    "frequency_response",
    "score_denoisers",
    "snr_db",
    "wavelet_band_ranges",
    "wavelet_band_responses",
    "wavelet_bands",
]


def _band_names(level):
    """Names of the DWT bands in pywt's order: ``["cA9", "cD9", ..., "cD1"]``."""
    return [f"cA{level}"] + [f"cD{k}" for k in range(level, 0, -1)]


def wavelet_band_ranges(fs, level=9):
    """Nominal frequency range of each DWT band.

    Parameters
    ----------
    fs : float
        Sampling frequency in Hz.
    level : int
        Number of decomposition levels.

    Returns
    -------
    dict
        ``{band name: (low Hz, high Hz)}`` from ``cA{level}`` to ``cD1``.

    Examples
    --------
    >>> wavelet_band_ranges(360)["cD1"], wavelet_band_ranges(360)["cA9"]
    ((90.0, 180.0), (0.0, 0.3515625))
    """
    ranges = {f"cA{level}": (0.0, fs / 2 ** (level + 1))}
    for k in range(level, 0, -1):
        ranges[f"cD{k}"] = (fs / 2 ** (k + 1), fs / 2**k)
    return ranges


def _check_level(n_samples, wavelet, level):
    import pywt

    max_level = pywt.dwt_max_level(n_samples, pywt.Wavelet(wavelet).dec_len)
    if level > max_level:
        raise ValueError(
            f"a {level}-level {wavelet} transform needs a longer signal: "
            f"{n_samples} samples allow at most {max_level} levels"
        )


def denoise_wavelet(signal, wavelet="db6", level=9, drop=None):
    """Wavelet denoising: zero some DWT bands and reconstruct.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,) or (..., n_samples)
        ECG in any unit; the transform runs along the last axis.
    wavelet : str
        pywt wavelet name.
    level : int
        Decomposition levels (9 at 360 Hz puts cA9 below 0.35 Hz).
    drop : iterable of str, optional
        Bands to set to zero, named as in :func:`wavelet_band_ranges`.
        Default ``("cA{level}", "cD1", "cD2")``: baseline wander and the
        high-frequency noise above fs/8.

    Returns
    -------
    np.ndarray
        Same shape as ``signal``.

    Examples
    --------
    >>> t = np.arange(7200) / 360                  # 20 s: 9 levels need 5632 samples
    >>> x = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 0.1 * t)   # 10 Hz + drift
    >>> y = denoise_wavelet(x)
    >>> y.shape
    (7200,)
    """
    import pywt

    signal = np.asarray(signal, dtype=float)
    _check_level(signal.shape[-1], wavelet, level)
    names = _band_names(level)
    drop = set(drop if drop is not None else (f"cA{level}", "cD1", "cD2"))
    unknown = drop - set(names)
    if unknown:
        raise ValueError(f"unknown band(s) {sorted(unknown)}; choose from {names}")
    # the finest bands dropped (cD1, cD2, ... in a row) need not be computed at all
    finest = next((k for k in range(level) if f"cD{k + 1}" not in drop), level)
    if finest and signal.ndim == 1:
        return _denoise_without_finest(signal, wavelet, level, drop, finest)
    coeffs = pywt.wavedec(signal, wavelet, level=level, axis=-1)
    coeffs = [np.zeros_like(c) if name in drop else c for name, c in zip(names, coeffs)]
    return pywt.waverec(coeffs, wavelet, axis=-1)[..., : signal.shape[-1]]


def _denoise_without_finest(signal, wavelet, level, drop, finest):
    """:func:`denoise_wavelet` of a 1-D signal when cD1 ... cD{finest} are all dropped.

    The same numbers as ``wavedec`` / ``waverec`` with those bands set to zero,
    with less work: the approximations of the first ``finest`` levels are
    computed alone (``pywt.downcoef``, the same filter as ``dwt``), and those
    levels are rebuilt from the approximation alone (``idwt`` with no detail,
    which pywt fills with zeros), cut to the lengths ``waverec`` cuts them to.
    For the default bands this skips half of the first two levels, the two
    longest, of both transforms.
    """
    import pywt

    filter_len = pywt.Wavelet(wavelet).dec_len
    lengths = [signal.shape[-1]]  # signal, cA1, cA2, ...: cAk as long as cDk
    for _ in range(finest):
        lengths.append(pywt.dwt_coeff_len(lengths[-1], filter_len, "symmetric"))
    approx = pywt.downcoef("a", signal, wavelet, mode="symmetric", level=finest)
    coeffs = pywt.wavedec(approx, wavelet, level=level - finest)  # cA{level}, ..., cD{finest+1}
    names = _band_names(level)[: len(coeffs)]
    coeffs = [np.zeros_like(c) if name in drop else c for name, c in zip(names, coeffs)]
    out = pywt.waverec(coeffs, wavelet)
    for k in range(finest, 0, -1):  # waverec's cut: to the length of the detail band beside
        out = pywt.idwt(out[: lengths[k]], None, wavelet, mode="symmetric")
    return out[: lengths[0]]


@dataclass
class WaveletBand:
    """One DWT band reconstructed on its own, for plotting.

    Attributes
    ----------
    name : str
        ``"cA9"``, ``"cD9"`` ... ``"cD1"``.
    low, high : float
        Nominal frequency range in Hz.
    component : np.ndarray, shape (n_samples,)
        The part of the signal carried by this band; the components of all
        bands add up to the signal.
    """

    name: str
    low: float
    high: float
    component: np.ndarray


def wavelet_bands(signal, fs, wavelet="db6", level=9):
    """Split a signal into its DWT bands, each reconstructed to full length.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz (only used for the frequency ranges).
    wavelet, level
        As in :func:`denoise_wavelet`.

    Returns
    -------
    list of WaveletBand
        From ``cA{level}`` (lowest frequencies) to ``cD1`` (highest).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=4000)
    >>> bands = wavelet_bands(x, fs=360, level=5)
    >>> [b.name for b in bands][:2], np.allclose(sum(b.component for b in bands), x)
    (['cA5', 'cD5'], True)
    """
    signal = np.asarray(signal, dtype=float)
    ranges = wavelet_band_ranges(fs, level)
    return [WaveletBand(name, *ranges[name], component)
            for name, component in _band_components(signal, wavelet, level).items()]


def _band_components(signal, wavelet, level):
    """Each DWT band reconstructed alone, from one decomposition along the last axis.

    Returns ``{band name: array shaped like signal}``, the same as
    ``denoise_wavelet(signal, drop=<all other bands>)`` for each band.
    """
    import pywt

    _check_level(signal.shape[-1], wavelet, level)
    coeffs = pywt.wavedec(signal, wavelet, level=level, axis=-1)
    out = {}
    for i, name in enumerate(_band_names(level)):
        alone = [c if j == i else np.zeros_like(c) for j, c in enumerate(coeffs)]
        out[name] = pywt.waverec(alone, wavelet, axis=-1)[..., : signal.shape[-1]]
    return out


def denoise_bandpass(signal, fs, low=0.5, high=45.0, order=4):
    """Zero-phase Butterworth band-pass filter, the classic alternative.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,) or (..., n_samples)
    fs : float
        Sampling frequency in Hz.
    low, high : float
        Pass band edges in Hz (defaults keep the same band as the db6 denoiser
        at 360 Hz: 0.35-45 Hz, rounded).
    order : int
        Filter order (applied forwards and backwards, so the effective order doubles).

    Returns
    -------
    np.ndarray
        Same shape as ``signal``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=3600)
    >>> denoise_bandpass(x, fs=360).shape
    (3600,)
    """
    from scipy import signal as sps

    sos = sps.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, np.asarray(signal, dtype=float), axis=-1)


_METHODS = {"wavelet": denoise_wavelet, "bandpass": denoise_bandpass, "none": None}


def denoise_signal(signal, fs, method="wavelet"):
    """Denoise an ECG with the named method (``"wavelet"``, ``"bandpass"`` or ``"none"``).

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz. The paper's wavelet denoiser (9 levels; cD1,
        cD2 and cA9 dropped) fixes its bands at 360 Hz, so ``"wavelet"`` needs
        ``fs=360``: resample other recordings first (``read_record(...,
        fs=360)``; ``load_beats`` does it by default), or use ``"bandpass"``,
        which works at any rate.
    method : str
        Case-insensitive; ``"db6"`` and ``"dwt"`` are aliases of ``"wavelet"``.

    Returns
    -------
    np.ndarray, shape (n_samples,)

    Raises
    ------
    ValueError
        For an unknown method, naming the choices, or ``"wavelet"`` at another
        rate than 360 Hz.

    Example
    -------
    >>> t = np.arange(3600) / 360                            # 10 s at 360 Hz
    >>> x = np.sin(2 * np.pi * 5 * t) + 0.5 * np.sin(2 * np.pi * 0.1 * t)  # 5 Hz + slow drift
    >>> y = denoise_signal(x, 360, method="bandpass")
    >>> bool(np.abs(y[600:-600] - np.sin(2 * np.pi * 5 * t)[600:-600]).max() < 0.05)
    True
    """
    key = str(method).lower()
    key = {"db6": "wavelet", "dwt": "wavelet", "butterworth": "bandpass"}.get(key, key)
    if key not in _METHODS:
        raise ValueError(f"unknown denoising method {method!r}; choose from {sorted(_METHODS)}")
    if key == "wavelet":
        if not np.isclose(fs, WAVELET_FS):
            raise ValueError(
                f"the db6 wavelet denoiser drops bands fixed at {WAVELET_FS:g} Hz, but "
                f"fs={fs:g} Hz: resample to {WAVELET_FS:g} Hz first, or use method='bandpass'")
        return denoise_wavelet(signal)
    if key == "bandpass":
        return denoise_bandpass(signal, fs)
    return np.asarray(signal, dtype=float)


# --- judging a denoiser: frequency response and a synthetic test with known answer ---


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
        As in :func:`denoise_wavelet`.
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
