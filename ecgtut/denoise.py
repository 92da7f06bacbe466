"""Chapter 02 -- removing noise: the db6 wavelet denoiser and a band-pass alternative.

The discrete wavelet transform (DWT) splits a signal sampled at ``fs`` Hz into
detail bands cD1 (fs/4 .. fs/2), cD2 (fs/8 .. fs/4), ... cDL and one approximation
cAL (0 .. fs/2**(L+1)). Denoising = set some bands to zero and reconstruct. With
``db6`` and 9 levels at 360 Hz (SPEC section 3) the method drops cD1 (90-180 Hz)
and cD2 (45-90 Hz): muscle noise and mains hum (attenuated, not removed: 60 Hz
by about 15 dB, as cD3's edge is soft); and cA9 (0-0.35 Hz): baseline wander.

:func:`power_spectrum` shows where a signal's power lies, before and after.
How well a denoiser does is measured in :mod:`ecgtut.denoise_scoring`.

pywt and scipy.signal are imported by the functions that use them, so importing
this module (and ``ecgtut``) stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WAVELET_FS = 360  # Hz: the rate at which the paper's 9-level db6 bands are defined

__all__ = [
    "WaveletBand",
    "interpolate_invalid",
    "denoise_signal",
    "denoise_bandpass",
    "denoise_wavelet",
    "power_spectrum",
    "wavelet_band_ranges",
    "wavelet_bands",
]


def interpolate_invalid(signal):
    """Fill invalid samples (NaN, inf) by straight lines between their valid neighbours.

    WFDB files mark samples the recorder could not measure (a loose electrode,
    a saturated amplifier) with a special value that wfdb reads as NaN. A
    wavelet transform or a filter would spread each of them over the whole
    record, so they are filled before denoising, and the mask says where they
    were: the beats whose window touches them are refused afterwards
    (:func:`ecgtut.beats_from_record`).

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)

    Returns
    -------
    filled : np.ndarray of float, shape (n_samples,)
        A copy, invalid samples replaced (before the first valid sample and
        after the last one: that sample's value).
    invalid : np.ndarray of bool, shape (n_samples,)
        Where the samples were invalid.

    Raises
    ------
    ValueError
        If no sample is valid.

    Example
    -------
    >>> filled, invalid = interpolate_invalid(np.array([0.0, np.nan, np.nan, 3.0, np.nan]))
    >>> filled.tolist(), int(invalid.sum())
    ([0.0, 1.0, 2.0, 3.0, 3.0], 3)
    """
    signal = np.asarray(signal, dtype=float)
    invalid = ~np.isfinite(signal)
    if not invalid.any():
        return signal.copy(), invalid
    valid = np.flatnonzero(~invalid)
    if not len(valid):
        raise ValueError(f"all {len(signal)} samples are invalid: nothing to interpolate from")
    filled = signal.copy()
    filled[invalid] = np.interp(np.flatnonzero(invalid), valid, signal[valid])
    return filled, invalid


def _check_finite(signal):
    """Raise a clear ValueError if the signal holds invalid samples (see interpolate_invalid)."""
    bad = int(np.size(signal) - np.count_nonzero(np.isfinite(signal)))
    if bad:
        raise ValueError(f"the signal holds {bad} invalid samples (NaN or inf), which denoising "
                         "would spread over the whole record: fill them first, e.g. "
                         "filled, invalid = et.interpolate_invalid(signal)")


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


def _min_samples(wavelet, level):
    """The fewest samples a ``level``-level transform with ``wavelet`` accepts (5632 for db6, 9)."""
    import pywt

    return (pywt.Wavelet(wavelet).dec_len - 1) * 2**level


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
    _check_finite(signal)
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

    signal = np.asarray(signal, dtype=float)
    _check_finite(signal)
    sos = sps.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, signal, axis=-1)


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


def power_spectrum(signal, fs, seconds=8.0):
    """Power spectral density of a signal, by Welch's method (scipy).

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        In mV.
    fs : float
        Sampling frequency in Hz.
    seconds : float
        Length of Welch's segments in seconds; the frequency resolution is
        ``1 / seconds`` Hz (longer segments resolve lower frequencies, but
        average fewer pieces, so the curve is noisier).

    Returns
    -------
    f : np.ndarray, shape (n_freqs,)
        Frequencies in Hz, from 0 to ``fs / 2``.
    pxx : np.ndarray, shape (n_freqs,)
        Power per hertz at each frequency, in mV²/Hz.

    Example
    -------
    >>> x = np.sin(2 * np.pi * 10 * np.arange(3600) / 360)   # 10 s of a 10 Hz sine
    >>> f, pxx = power_spectrum(x, fs=360)
    >>> float(f[np.argmax(pxx)])   # the peak, in Hz
    10.0
    """
    from scipy import signal as sps

    x = np.asarray(signal, dtype=float)
    return sps.welch(x, fs=fs, nperseg=min(len(x), int(fs * seconds)))
