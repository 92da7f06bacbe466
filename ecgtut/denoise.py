"""Chapter 02 -- removing noise: the db6 wavelet denoiser and a band-pass alternative.

The discrete wavelet transform (DWT) splits a signal sampled at ``fs`` Hz into
detail bands cD1 (fs/4 .. fs/2), cD2 (fs/8 .. fs/4), ... cDL and one approximation
cAL (0 .. fs/2**(L+1)). Denoising = set some bands to zero and reconstruct. With
``db6`` and 9 levels at 360 Hz (SPEC section 3) the method drops cD1 (90-180 Hz)
and cD2 (45-90 Hz): muscle noise and mains; and cA9 (0-0.35 Hz): baseline wander.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pywt
from scipy import signal as sps

__all__ = [
    "WaveletBand",
    "denoise_signal",
    "denoise_bandpass",
    "denoise_wavelet",
    "wavelet_band_ranges",
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
    >>> t = np.arange(3600) / 360
    >>> x = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 0.1 * t)   # 10 Hz + drift
    >>> y = denoise_wavelet(x)
    >>> y.shape
    (3600,)
    """
    signal = np.asarray(signal, dtype=float)
    _check_level(signal.shape[-1], wavelet, level)
    names = _band_names(level)
    drop = set(drop if drop is not None else (f"cA{level}", "cD1", "cD2"))
    unknown = drop - set(names)
    if unknown:
        raise ValueError(f"unknown band(s) {sorted(unknown)}; choose from {names}")
    coeffs = pywt.wavedec(signal, wavelet, level=level, axis=-1)
    coeffs = [np.zeros_like(c) if name in drop else c for name, c in zip(names, coeffs)]
    return pywt.waverec(coeffs, wavelet, axis=-1)[..., : signal.shape[-1]]


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
    names = _band_names(level)
    ranges = wavelet_band_ranges(fs, level)
    return [
        WaveletBand(
            name, *ranges[name], denoise_wavelet(signal, wavelet, level, drop=set(names) - {name})
        )
        for name in names
    ]


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
    sos = sps.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, np.asarray(signal, dtype=float), axis=-1)


_METHODS = {"wavelet": denoise_wavelet, "bandpass": denoise_bandpass, "none": None}


def denoise_signal(signal, fs, method="wavelet"):
    """Denoise an ECG with the named method (``"wavelet"``, ``"bandpass"`` or ``"none"``).

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz.
    method : str
        Case-insensitive; ``"db6"`` and ``"dwt"`` are aliases of ``"wavelet"``.

    Returns
    -------
    np.ndarray, shape (n_samples,)

    Raises
    ------
    ValueError
        For an unknown method, naming the choices.
    """
    key = str(method).lower()
    key = {"db6": "wavelet", "dwt": "wavelet", "butterworth": "bandpass"}.get(key, key)
    if key not in _METHODS:
        raise ValueError(f"unknown denoising method {method!r}; choose from {sorted(_METHODS)}")
    if key == "wavelet":
        return denoise_wavelet(signal)
    if key == "bandpass":
        return denoise_bandpass(signal, fs)
    return np.asarray(signal, dtype=float)
