"""The Pan & Tompkins QRS detector: synthetic ECGs with known beats, edge cases, one real record."""

import numpy as np
import pytest

from ecgtut.detect import PanTompkinsStages, detect_qrs, pan_tompkins_stages, snap_to_r_peak

# MIT-BIH annotation symbols that mark a beat
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


def _waves(t, centres, width, amplitude):
    """Sum of Gaussian bumps (mV) of ``width`` seconds at ``centres`` (s), sampled at ``t`` (s)."""
    centres = np.atleast_1d(centres)
    amplitude = np.broadcast_to(amplitude, centres.shape)
    return (amplitude * np.exp(-0.5 * ((t[:, None] - centres) / width) ** 2)).sum(axis=1)


def synthetic_ecg(fs, duration_s=30.0, seed=0, noise=0.02):
    """An ECG-like signal (mV) and its R-peak times (s).

    P, Q, R, S and T waves as Gaussian bumps, RR intervals drawn between 0.55
    and 1.3 s (irregular on purpose), a 0.2 Hz baseline wander and white noise.
    """
    rng = np.random.default_rng(seed)
    beats = 0.4 + np.cumsum(np.r_[0.0, rng.uniform(0.55, 1.3, int(duration_s))])
    beats = beats[beats < duration_s - 0.6]
    t = np.arange(int(duration_s * fs)) / fs
    x = 0.1 * np.sin(2 * np.pi * 0.2 * t)
    x += _waves(t, beats - 0.16, 0.025, 0.15)  # P
    x += _waves(t, beats - 0.02, 0.008, -0.15)  # Q
    x += _waves(t, beats, 0.010, 1.2)  # R
    x += _waves(t, beats + 0.025, 0.008, -0.25)  # S
    x += _waves(t, beats + 0.28, 0.05, 0.35)  # T
    return x + noise * rng.standard_normal(len(t)), beats


def assert_finds(peaks, beats, fs, tolerance_s=0.050):
    """Exactly one detection within ``tolerance_s`` of every beat, and no other."""
    assert peaks.dtype == np.int64
    assert np.all(np.diff(peaks) > 0), "peaks must be increasing"
    assert len(peaks) == len(beats), (len(peaks), len(beats))
    assert np.max(np.abs(peaks / fs - beats)) < tolerance_s


@pytest.mark.parametrize("fs", [250, 360, 500])
def test_finds_every_synthetic_beat_and_nothing_else(fs):
    x, beats = synthetic_ecg(fs)
    assert_finds(detect_qrs(x, fs), beats, fs)


@pytest.mark.parametrize("fs", [250, 500])
def test_negative_polarity_is_found_as_well(fs):
    x, beats = synthetic_ecg(fs, seed=1)
    peaks = detect_qrs(-x, fs)
    assert_finds(peaks, beats, fs)
    np.testing.assert_array_equal(peaks, detect_qrs(x, fs))  # same R peaks, upside down


def test_stages_have_the_signal_length():
    fs = 250
    x, _ = synthetic_ecg(fs, duration_s=10)
    stages = pan_tompkins_stages(x, fs)
    assert isinstance(stages, PanTompkinsStages) and stages.fs == fs
    for name in ("filtered", "derivative", "squared", "integrated"):
        assert getattr(stages, name).shape == x.shape, name
    assert np.all(stages.squared >= 0) and np.all(stages.integrated >= -1e-12)


def test_return_stages_gives_the_stages_used():
    fs = 360
    x, _ = synthetic_ecg(fs, duration_s=10)
    peaks, stages = detect_qrs(x, fs, return_stages=True)
    np.testing.assert_array_equal(peaks, detect_qrs(x, fs))
    np.testing.assert_allclose(stages.integrated, pan_tompkins_stages(x, fs).integrated)


@pytest.mark.parametrize("value", [0.0, 3.5])
def test_flat_signal_has_no_beat(value):
    peaks = detect_qrs(np.full(5 * 360, value), 360)
    assert peaks.dtype == np.int64 and peaks.shape == (0,)


def test_nan_is_refused_with_a_clear_message():
    x, _ = synthetic_ecg(360, duration_s=5)
    x[100] = np.nan
    with pytest.raises(ValueError, match="1 invalid samples"):
        detect_qrs(x, 360)


def test_a_signal_shorter_than_a_second_is_refused():
    with pytest.raises(ValueError, match="at least 1.0 s"):
        detect_qrs(np.zeros(300), 360)
    assert len(detect_qrs(np.zeros(360), 360)) == 0  # 1 s is enough


def test_two_leads_are_refused():
    with pytest.raises(ValueError, match="one lead"):
        detect_qrs(np.zeros((2, 1000)), 360)


def test_search_back_finds_a_small_beat():
    fs = 360
    t = np.arange(20 * fs) / fs
    beats = np.arange(0.5, 19.5, 0.8)
    amplitude = np.ones(len(beats))
    amplitude[12] = 0.45  # a small beat: its hump is far below THRESHOLD_I1
    x = _waves(t, beats, 0.012, amplitude) + 0.005 * np.random.default_rng(0).normal(size=len(t))
    integrated = pan_tompkins_stages(x, fs).integrated
    ratio = integrated[round(beats[12] * fs)] / integrated[round(beats[11] * fs)]
    assert ratio < 0.25  # below the threshold of the first pass: search-back must find it
    assert_finds(detect_qrs(x, fs), beats, fs)


def test_tall_t_waves_are_not_beats():
    fs = 360
    t = np.arange(20 * fs) / fs
    beats = np.arange(0.5, 19.5, 0.8)
    x = _waves(t, beats, 0.012, 1.0) + _waves(t, beats + 0.27, 0.04, 2.0)  # T twice as tall as R
    assert_finds(detect_qrs(x, fs), beats, fs)
    assert len(detect_qrs(x, fs, t_wave_s=0)) > len(beats)  # without the T-wave rule: T waves too


def test_snap_moves_to_the_peak_and_keeps_it_once():
    x = np.zeros(2000)
    x[[400, 1000]] = [1.5, -2.0]
    x += 0.3  # an offset: the deviation is measured from the local median
    np.testing.assert_array_equal(snap_to_r_peak(x, [380, 420, 990], fs=360), [400, 1000])
    assert snap_to_r_peak(x, [], fs=360).shape == (0,)


def test_record_100_first_five_minutes(data_dir):
    from wfdb.processing import compare_annotations

    from ecgtut.data import read_annotations, read_record

    record = read_record("100", data_dir)
    n = 5 * 60 * record.fs
    ann = read_annotations("100", data_dir)
    keep = np.isin(ann.symbol, list(BEAT_SYMBOLS)) & (ann.sample < n)
    peaks = detect_qrs(record.signal[:n], record.fs)
    result = compare_annotations(ann.sample[keep], peaks, int(0.15 * record.fs))
    assert result.sensitivity >= 0.99 and result.positive_predictivity >= 0.99
