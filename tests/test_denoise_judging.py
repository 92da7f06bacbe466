"""Chapter 02 -- judging a denoiser: frequency responses and the synthetic test.

Covers ``frequency_response``, ``wavelet_band_responses``, ``clean_beat_train``,
``add_noise`` and ``snr_db`` of ecgtut.denoise, and the two figures that draw
them (``plot_wavelet``, ``plot_frequency_response``). Everything runs on
synthetic signals with known answers, except one check on record 100.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import signal as sps

import ecgtut

FS = 360


def _amplitude(x, f, fs=FS):
    """Amplitude of the sinusoid at ``f`` Hz (a whole number of periods in ``x``)."""
    k = round(f * len(x) / fs)
    return 2 * np.abs(np.fft.rfft(x)[k]) / len(x)


# --- frequency_response and wavelet_band_responses ---


def test_frequency_response_of_identity_and_zero():
    f = [0.1, 1.0, 60.0]
    np.testing.assert_allclose(ecgtut.frequency_response(lambda X: X, f, FS), 1.0)
    np.testing.assert_allclose(ecgtut.frequency_response(lambda X: 0.5 * X, f, FS), 0.5)
    np.testing.assert_allclose(ecgtut.frequency_response(np.zeros_like, f, FS), 0.0)


def test_frequency_response_of_bandpass_matches_its_transfer_function():
    """filtfilt applies the filter twice: the gain is |H(f)|**2."""
    f = np.array([0.3, 0.5, 1.0, 10.0, 45.0, 60.0])
    measured = ecgtut.frequency_response(lambda X: ecgtut.denoise_bandpass(X, FS), f, FS)
    sos = sps.butter(4, [0.5, 45.0], btype="bandpass", fs=FS, output="sos")
    _, h = sps.sosfreqz(sos, worN=f, fs=FS)
    np.testing.assert_allclose(measured, np.abs(h) ** 2, rtol=0.02, atol=1e-4)
    assert measured[1] == pytest.approx(0.5, abs=0.01)  # -6 dB at the corner frequencies
    assert measured[4] == pytest.approx(0.5, abs=0.01)


def test_frequency_response_of_the_db6_denoiser():
    f = np.array([0.05, 0.25, 2.0, 10.0, 20.0, 60.0, 150.0])
    g = dict(zip(f, ecgtut.frequency_response(ecgtut.denoise_wavelet, f, FS)))
    assert g[2.0] == pytest.approx(1, abs=0.01)  # the ECG band passes
    assert g[10.0] == pytest.approx(1, abs=0.01)
    assert g[20.0] == pytest.approx(1, abs=0.01)
    assert g[0.05] < 0.001  # slow drift: gone
    assert g[150.0] < 0.02  # cD1: gone
    # Breathing (0.25 Hz) and mains (60 Hz) sit near the soft band edges:
    # reduced but not removed -- what chapter 02 shows against the band-pass.
    assert 0.1 < g[0.25] < 0.5
    assert 0.1 < g[60.0] < 0.3


def test_frequency_response_shape_and_batches_any_length():
    g = ecgtut.frequency_response(ecgtut.denoise_wavelet, np.linspace(1, 100, 7), FS, duration=20)
    assert g.shape == (7,)


def test_band_responses_peak_in_their_own_band():
    ranges = ecgtut.wavelet_band_ranges(FS)
    centres = {name: np.sqrt(low * high) for name, (low, high) in ranges.items() if low > 0}
    f = np.array(list(centres.values()))
    g = ecgtut.wavelet_band_responses(f, FS)
    assert list(g) == list(ranges)
    for i, name in enumerate(centres):
        assert max(g, key=lambda band: g[band][i]) == name
    assert g["cA9"][0] < 0.15  # cD9's centre (0.5 Hz) leaks only a little into cA9


def test_band_responses_share_the_energy_of_a_tone():
    """db6 is orthogonal: the bands split a tone's energy, squared gains add to ~1."""
    f = np.array([0.1, 1.0, 10.0, 60.0, 150.0])
    g = ecgtut.wavelet_band_responses(f, FS)
    np.testing.assert_allclose(sum(v**2 for v in g.values()), 1.0, atol=0.01)
    assert g["cD2"][3] > 0.9  # 60 Hz lies in cD2 (45-90 Hz)


def test_band_responses_at_band_edges_do_not_depend_on_the_tone_phase():
    """Near cA9|cD9 (0.35 Hz) and cD9|cD8 (0.70 Hz) a tone is shared between two
    bands in a proportion set by its phase; averaged over phases, the energy
    still adds up to 1 and at the edge itself each band gets half (-3 dB)."""
    edge9, edge8 = FS / 2**10, FS / 2**9
    f = np.array([0.33, 0.34, edge9, 0.36, edge8, 0.72])
    g = ecgtut.wavelet_band_responses(f, FS)
    np.testing.assert_allclose(sum(v**2 for v in g.values()), 1.0, atol=0.005)
    np.testing.assert_allclose([g["cA9"][2] ** 2, g["cD9"][2] ** 2], 0.5, atol=0.02)
    np.testing.assert_allclose([g["cD9"][4] ** 2, g["cD8"][4] ** 2], 0.5, atol=0.02)
    assert np.all(np.diff(g["cA9"][:4]) < 0)  # falls smoothly across its edge
    assert np.all(np.diff(g["cD9"][:4]) > 0)


def test_wavelet_bands_equal_denoising_all_other_bands():
    x = np.random.default_rng(2).normal(size=8000)
    bands = ecgtut.wavelet_bands(x, FS)
    names = [b.name for b in bands]
    for b in bands[::3]:
        y = ecgtut.denoise_wavelet(x, drop=set(names) - {b.name})
        np.testing.assert_allclose(b.component, y, atol=1e-12)


# --- clean_beat_train ---


def _template(fs=FS, before=0.25, after=0.45):
    """A toy beat: a P bump, a sharp R spike and a T bump, 0 at the ends."""
    t = np.arange(-round(before * fs), round(after * fs)) / fs
    return (0.15 * np.exp(-((t + 0.16) / 0.02) ** 2) + 1.2 * np.exp(-(t / 0.01) ** 2)
            + 0.3 * np.exp(-((t - 0.25) / 0.04) ** 2))


def _train(r_peaks, n, beat, b):
    out = np.zeros(n)
    for r in r_peaks:
        out[r - b : r - b + len(beat)] += beat
    return out


def test_clean_beat_train_recovers_the_beat_from_noisy_copies():
    rng = np.random.default_rng(0)
    beat, b = _template(), round(0.25 * FS)
    r_peaks = np.cumsum(rng.integers(280, 330, size=200)) + 200
    n = r_peaks[-1] + 400
    truth = _train(r_peaks, n, beat, b)
    noisy = truth + 0.1 * rng.normal(size=n) + 0.3  # white noise and an offset
    y = ecgtut.clean_beat_train(noisy, r_peaks, FS)
    assert y.shape == noisy.shape
    inner = slice(r_peaks[0] - b, r_peaks[-1] + 100)
    assert np.abs(y - truth)[inner].max() < 0.05  # noise and offset averaged away
    assert y[: r_peaks[0] - b].max() == 0  # nothing before the first window
    assert y[r_peaks] == pytest.approx(1.2, abs=0.03)


def test_clean_beat_train_skips_peaks_too_close_to_the_ends():
    x = np.zeros(2000)
    x[[50, 1000, 1990]] = 1.0
    y = ecgtut.clean_beat_train(x, [50, 1000, 1990], FS)
    # the median of three windows, of which only the middle one is whole...
    assert y[1000] == 1.0
    assert y[50] == 0.0 and y[1990] == 0.0
    with pytest.raises(ValueError, match="no R peak"):
        ecgtut.clean_beat_train(x, [5, 1995], FS)


def test_clean_beat_train_on_record_100(data_dir):
    rec = ecgtut.read_record("100", data_dir)
    ann = ecgtut.read_annotations("100", data_dir).beats()
    x = rec.signal[: 120 * FS]
    y = ecgtut.clean_beat_train(x, ann.sample[ann.sample < len(x)], FS)
    r = ann.sample[(ann.sample > FS) & (ann.sample < len(x) - FS)]
    # the R peaks tower over a baseline at 0 mV, as in the real (baseline-corrected) record
    assert np.median(y[r]) == pytest.approx(np.median(x[r] - np.median(x)), abs=0.15)
    assert np.median(y) == pytest.approx(0, abs=0.05)


# --- add_noise and snr_db ---


def test_add_noise_components_have_the_asked_amplitudes():
    x = np.zeros(60 * FS)  # 60 s: whole periods of 0.25 Hz and 60 Hz
    drift = ecgtut.add_noise(x, FS, drift=0.5, mains=0, white=0)
    assert _amplitude(drift, 0.25) == pytest.approx(0.5, rel=1e-6)
    mains = ecgtut.add_noise(x, FS, drift=0, mains=0.1, white=0)
    assert _amplitude(mains, 60) == pytest.approx(0.1, rel=1e-6)
    fifty = ecgtut.add_noise(x, FS, drift=0, mains=0.1, mains_hz=50, white=0)
    assert _amplitude(fifty, 50) == pytest.approx(0.1, rel=1e-6)
    white = ecgtut.add_noise(x, FS, drift=0, mains=0, white=0.05)
    assert white.std() == pytest.approx(0.05, rel=0.02)


def test_add_noise_is_seeded_and_adds():
    x = np.sin(np.arange(7200) / 30)
    a, b = ecgtut.add_noise(x, FS, seed=1), ecgtut.add_noise(x, FS, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ecgtut.add_noise(x, FS, seed=2))
    np.testing.assert_array_equal(ecgtut.add_noise(x, FS, drift=0, mains=0, white=0), x)


def test_snr_db_known_values():
    x = np.ones(1000)
    assert ecgtut.snr_db(x, x + 0.1) == pytest.approx(20.0)
    assert ecgtut.snr_db(x, 2 * x) == pytest.approx(0.0)
    assert ecgtut.snr_db(x, x) == float("inf")
    assert ecgtut.snr_db(3 * x, 3 * x + 0.3) == pytest.approx(20.0)  # scale-free


def test_score_denoisers_scores_each_case_and_denoiser():
    clean = np.sin(np.arange(7200) / 30)
    noises = {"none": dict(drift=0, mains=0, white=0), "white": dict(drift=0, mains=0), "all": {}}
    denoisers = {"identity": lambda y: y, "oracle": lambda y: clean, "zero": np.zeros_like}
    scores = ecgtut.score_denoisers(clean, FS, denoisers, noises, seed=4)
    assert list(scores) == list(noises)
    assert list(scores["all"]) == ["SNR in", "identity", "oracle", "zero"]
    assert scores["none"]["SNR in"] == scores["none"]["identity"] == float("inf")
    noisy = ecgtut.add_noise(clean, FS, seed=4, drift=0, mains=0)  # the same seed is used
    assert scores["white"]["identity"] == pytest.approx(ecgtut.snr_db(clean, noisy))
    assert scores["white"]["SNR in"] < scores["none"]["SNR in"]
    assert scores["all"]["SNR in"] < scores["white"]["SNR in"]
    for row in scores.values():
        assert row["oracle"] == float("inf") and row["zero"] == pytest.approx(0.0)


def test_both_denoisers_improve_a_noisy_beat_train():
    """The chapter's synthetic test in small: the band-pass wins on breathing drift."""
    rng = np.random.default_rng(3)
    r_peaks = np.cumsum(rng.integers(280, 330, size=120)) + 200
    clean = _train(r_peaks, r_peaks[-1] + 400, _template(), round(0.25 * FS))
    noisy = ecgtut.add_noise(clean, FS)
    before = ecgtut.snr_db(clean, noisy)
    wavelet = ecgtut.snr_db(clean, ecgtut.denoise_wavelet(noisy))
    bandpass = ecgtut.snr_db(clean, ecgtut.denoise_bandpass(noisy, FS))
    assert wavelet > before + 5 and bandpass > before + 5
    assert bandpass > wavelet


# --- figures ---


def test_plot_wavelet():
    axes = ecgtut.plot_wavelet("db6")
    assert len(axes) == 2
    assert "φ" in axes[0].get_title() and "ψ" in axes[1].get_title()
    assert all(ax.lines for ax in axes)
    plt.close("all")


def test_plot_frequency_response_modes():
    f = np.logspace(-1, 2, 50)
    ax = ecgtut.plot_frequency_response(f, {"a": np.ones(50), "b": np.full(50, 0.1)})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "gain (dB)"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), -20)
    plt.close("all")

    g = ecgtut.wavelet_band_responses(f, FS, level=5, duration=20)
    ax = ecgtut.plot_frequency_response(f, g, dropped=("cD1",))
    assert ax.get_legend() is None
    assert sorted(t.get_text() for t in ax.texts) == sorted(g)
    red = [t.get_text() for t in ax.texts if t.get_color() == "tab:red"]
    assert red == ["cD1"]
    plt.close("all")
