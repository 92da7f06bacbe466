"""Chapter 02 -- ecgtut.denoise on synthetic signals with known answers.

The test signal is 60 s at 360 Hz of a 10 Hz sine (the "ECG"), a 0.1 Hz drift
(baseline wander, in cA9) and a 100 Hz tone (noise, in cD1). 60 s holds a whole
number of periods of each, so each sits in one FFT bin.
"""

from __future__ import annotations

import numpy as np
import pytest

import ecgtut

FS = 360
SECONDS = 60
AMPLITUDES = {10.0: 1.0, 0.1: 2.0, 100.0: 0.5}  # Hz: amplitude


def _tone(f, seconds=SECONDS, fs=FS):
    t = np.arange(seconds * fs) / fs
    return AMPLITUDES[f] * np.sin(2 * np.pi * f * t)


@pytest.fixture(scope="module")
def mixture():
    return sum(_tone(f) for f in AMPLITUDES)


def amplitude(x, f, fs=FS):
    """Amplitude of the sinusoid at ``f`` Hz, from the rfft bin of ``f``."""
    k = round(f * len(x) / fs)
    return 2 * np.abs(np.fft.rfft(x)[k]) / len(x)


def test_amplitude_helper(mixture):
    for f, a in AMPLITUDES.items():
        assert amplitude(mixture, f) == pytest.approx(a, rel=1e-6)


def _assert_denoised(y, x):
    assert y.shape == x.shape
    assert amplitude(y, 10) == pytest.approx(amplitude(x, 10), rel=0.02)  # kept
    assert amplitude(y, 0.1) < 0.05 * amplitude(x, 0.1)  # baseline wander removed
    assert amplitude(y, 100) < 0.05 * amplitude(x, 100)  # high-frequency tone removed


def test_wavelet_removes_drift_and_tone(mixture):
    y = ecgtut.denoise_wavelet(mixture)
    _assert_denoised(y, mixture)
    # What is left is the 10 Hz sine, away from the ends: the level-9 filters span
    # seconds, so the edge effects of removing the drift reach ~4 s into the signal.
    inner = slice(5 * FS, -5 * FS)
    assert np.abs(y - _tone(10))[inner].max() < 0.05


def test_bandpass_removes_drift_and_tone(mixture):
    _assert_denoised(ecgtut.denoise_bandpass(mixture, FS), mixture)


@pytest.mark.parametrize("method", ["wavelet", "Wavelet", "db6", "DWT"])
def test_denoise_signal_wavelet_aliases(mixture, method):
    np.testing.assert_array_equal(
        ecgtut.denoise_signal(mixture, FS, method), ecgtut.denoise_wavelet(mixture)
    )


@pytest.mark.parametrize("method", ["bandpass", "BANDPASS", "butterworth"])
def test_denoise_signal_bandpass_aliases(mixture, method):
    np.testing.assert_array_equal(
        ecgtut.denoise_signal(mixture, FS, method), ecgtut.denoise_bandpass(mixture, FS)
    )


def test_denoise_signal_none(mixture):
    y = ecgtut.denoise_signal(mixture.astype(np.float32), FS, "none")
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, mixture, rtol=1e-6)


def test_unknown_method_names_the_choices(mixture):
    with pytest.raises(ValueError, match="unknown denoising method 'median'") as info:
        ecgtut.denoise_signal(mixture, FS, "median")
    for choice in ("wavelet", "bandpass", "none"):
        assert choice in str(info.value)


def test_wavelet_method_needs_360_hz(mixture):
    # its bands are fixed at 360 Hz; other rates must be resampled (or band-passed)
    with pytest.raises(ValueError, match="fixed at 360 Hz, but fs=250 Hz"):
        ecgtut.denoise_signal(mixture, 250, "wavelet")
    assert ecgtut.denoise_signal(mixture, 250, "bandpass").shape == mixture.shape


def test_wavelet_keeps_shape_odd_length_and_batches():
    x = np.random.default_rng(0).normal(size=(3, 6001))
    y = ecgtut.denoise_wavelet(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y[1], ecgtut.denoise_wavelet(x[1]))


def _wavedec_waverec(x, wavelet, level, drop):
    """The denoiser written plainly: every band computed, the dropped ones set to zero."""
    import pywt

    coeffs = pywt.wavedec(x, wavelet, level=level)
    names = [f"cA{level}"] + [f"cD{k}" for k in range(level, 0, -1)]
    coeffs = [np.zeros_like(c) if n in drop else c for n, c in zip(names, coeffs)]
    return pywt.waverec(coeffs, wavelet)[: len(x)]


@pytest.mark.parametrize("n", [5632, 6001, 7200])
@pytest.mark.parametrize("wavelet, level, drop", [
    ("db6", 9, ("cA9", "cD1", "cD2")),  # the default: cD1 and cD2 are never computed
    ("db6", 9, ("cD1",)),
    ("db6", 9, ("cD2", "cD1", "cD3", "cD4", "cD5", "cD6", "cD7", "cD8", "cD9")),
    ("db6", 9, ("cA9", "cD2")),  # cD1 kept: the plain transform
    ("sym4", 5, ("cA5", "cD1", "cD2", "cD3")),
])
def test_wavelet_skipping_the_dropped_finest_bands_changes_no_number(n, wavelet, level, drop):
    x = np.random.default_rng(n).normal(size=n).cumsum()
    y = ecgtut.denoise_wavelet(x, wavelet, level, drop)
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, _wavedec_waverec(x, wavelet, level, set(drop)))


def test_wavelet_dropping_nothing_is_identity():
    x = np.random.default_rng(1).normal(size=7001)
    np.testing.assert_allclose(ecgtut.denoise_wavelet(x, drop=()), x, atol=1e-10)


def test_unknown_band_names_the_choices():
    x = np.zeros(6000)
    with pytest.raises(ValueError, match=r"unknown band\(s\) \['cD0'\]") as info:
        ecgtut.denoise_wavelet(x, drop=["cD1", "cD0"])
    assert "'cA9'" in str(info.value) and "'cD1'" in str(info.value)


def test_too_short_signal():
    # A 9-level db6 transform needs 11 * 2**9 = 5632 samples.
    ecgtut.denoise_wavelet(np.zeros(5632))
    with pytest.raises(ValueError, match="5631 samples allow at most 8 levels"):
        ecgtut.denoise_wavelet(np.zeros(5631))
    with pytest.raises(ValueError, match="longer signal"):
        ecgtut.wavelet_bands(np.zeros(1000), FS)


def test_band_ranges_at_360_hz():
    ranges = ecgtut.wavelet_band_ranges(360)
    assert list(ranges) == ["cA9", *(f"cD{k}" for k in range(9, 0, -1))]
    assert ranges["cD1"] == (90, 180)
    assert ranges["cD2"] == (45, 90)
    assert ranges["cA9"] == pytest.approx((0, 0.35), abs=0.002)
    edges = list(ranges.values())
    assert all(a[1] == b[0] for a, b in zip(edges, edges[1:]))  # contiguous, 0 .. fs/2
    assert edges[-1][1] == 180


def test_band_ranges_follow_fs_and_level():
    ranges = ecgtut.wavelet_band_ranges(250, level=5)
    assert list(ranges) == ["cA5", "cD5", "cD4", "cD3", "cD2", "cD1"]
    assert ranges["cD1"] == (62.5, 125) and ranges["cA5"] == (0, 250 / 64)


def test_wavelet_bands_sum_back_to_the_signal(mixture):
    bands = ecgtut.wavelet_bands(mixture, FS)
    assert [b.name for b in bands] == list(ecgtut.wavelet_band_ranges(FS))
    for b in bands:
        assert (b.low, b.high) == ecgtut.wavelet_band_ranges(FS)[b.name]
        assert b.component.shape == mixture.shape
    np.testing.assert_allclose(sum(b.component for b in bands), mixture, atol=1e-9)


@pytest.mark.parametrize(
    "f, bands",
    [(0.1, ["cA9"]), (10.0, ["cD5", "cD4"]), (100.0, ["cD1", "cD2"])],
)
def test_wavelet_bands_hold_each_tone(f, bands):
    """Nearly all the energy of a tone lies in its nominal band (first) and a neighbour.

    db6 is no brick-wall filter: 10 Hz sits in cD5 (5.6-11.25 Hz) but near its
    edge, so about a quarter of it leaks into cD4; 100 Hz likewise into cD2.
    """
    energy = {b.name: float(np.sum(b.component**2)) for b in ecgtut.wavelet_bands(_tone(f), FS)}
    share = {name: e / sum(energy.values()) for name, e in energy.items()}
    low, high = ecgtut.wavelet_band_ranges(FS)[bands[0]]
    assert low <= f <= high
    assert max(share, key=share.get) == bands[0]
    assert sum(share[b] for b in bands) > 0.99


def test_denoise_real_ecg_removes_the_baseline(data_dir):
    rec = ecgtut.read_record("100", data_dir)
    x = rec.signal[: 60 * FS]
    y = ecgtut.denoise_wavelet(x)
    assert abs(np.median(x)) > 0.2  # record 100 sits about -0.3 mV below zero
    assert abs(np.median(y)) < 0.05
    # the QRS complexes survive: the peak-to-peak amplitude stays about the same
    assert np.ptp(y) == pytest.approx(np.ptp(x), rel=0.25)
