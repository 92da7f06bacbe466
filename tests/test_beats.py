"""Chapter 03 -- ecgtut.beats: beat windows (synthetic and real), the beat set of
the 44 records with its exact class counts, and the on-disk cache."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from scipy import signal as sps

import ecgtut

# ----------------------------------------------------------------------------- segment_beats


def test_segment_beats_shape_and_window_at_360_hz():
    x = np.random.default_rng(0).normal(size=5000)
    peaks = np.array([500, 1000, 2500, 4000])
    X, kept = ecgtut.segment_beats(x, peaks, fs=360)
    assert X.shape == (4, 251) and X.dtype == np.float32
    assert kept.dtype == bool and kept.all()
    uncut = ecgtut.BeatWindow(n_samples=324)  # 144 + 180 samples at 360 Hz: no resampling
    raw, _ = ecgtut.segment_beats(x, peaks, 360, uncut)
    np.testing.assert_array_equal(raw, np.stack([x[p - 144 : p + 180] for p in peaks]).astype("f4"))
    np.testing.assert_allclose(X, sps.resample(raw.astype(float), 251, axis=1), atol=1e-5)


def test_segment_beats_at_both_ends():
    x = np.arange(1000.0)
    # 144 samples are needed before the peak and 180 after it (the window is [p-144, p+180)).
    peaks = np.array([0, 143, 144, 500, 820, 821, 999])
    X, kept = ecgtut.segment_beats(x, peaks, 360, ecgtut.BeatWindow(n_samples=324))
    assert kept.tolist() == [False, False, True, True, True, False, False]
    np.testing.assert_array_equal(X[0], x[0:324])  # first sample of the record
    np.testing.assert_array_equal(X[-1], x[676:1000])  # last sample of the record
    X251, kept251 = ecgtut.segment_beats(x, peaks, fs=360)
    assert X251.shape == (3, 251) and np.array_equal(kept251, kept)


@pytest.mark.parametrize("fs", [250, 128, 500, 360])
def test_segment_beats_window_length_follows_fs(fs):
    n_before, n_after = round(0.4 * fs), round(0.5 * fs)  # 100 + 125 = 225 at 250 Hz
    x = np.random.default_rng(fs).normal(size=10 * fs)
    peaks = np.array([n_before - 1, n_before, 5 * fs, len(x) - n_after, len(x) - n_after + 1])
    raw, kept = ecgtut.segment_beats(x, peaks, fs, ecgtut.BeatWindow(n_samples=n_before + n_after))
    assert kept.tolist() == [False, True, True, True, False]
    expected = np.stack([x[p - n_before : p + n_after] for p in peaks[kept]])
    np.testing.assert_array_equal(raw, expected.astype(np.float32))
    X, _ = ecgtut.segment_beats(x, peaks, fs=fs)
    assert X.shape == (3, 251)
    np.testing.assert_allclose(X, sps.resample(expected, 251, axis=1), atol=1e-5)


def test_segment_beats_custom_window():
    x = np.arange(2000.0)
    window = ecgtut.BeatWindow(before=0.25, after=0.45, n_samples=252)
    X, kept = ecgtut.segment_beats(x, [1000], fs=360, window=window)
    np.testing.assert_array_equal(X[0], x[910:1162])  # 90 + 162 samples
    assert kept.tolist() == [True]


def test_beat_window_is_one_object_with_its_units():
    w = ecgtut.DEFAULT_WINDOW
    assert (w.before, w.after, w.n_samples) == (0.4, 0.5, 251)
    assert w.samples_at(360) == (144, 180) and w.samples_at(250) == (100, 125)
    assert w.fs == pytest.approx(251 / 0.9) and w.duration == pytest.approx(0.9)
    t = w.times()
    assert t.shape == (251,) and t[0] == -0.4 and t[-1] < 0.5
    assert np.argmin(np.abs(t)) == round(w.r_peak_sample)  # the R peak sits at time 0
    assert w.times(324)[144] == pytest.approx(0.0)  # cut at 360 Hz, not resampled
    assert w.as_dict() == {"before": 0.4, "after": 0.5, "n_samples": 251}
    with pytest.raises(ValueError, match="a beat window needs"):
        ecgtut.BeatWindow(before=0.4, after=0.0)
    with pytest.raises(AttributeError):
        w.before = 0.3  # frozen: one window cannot change under the beats cut with it


@pytest.mark.parametrize("peaks", [[], [10, 990]])
def test_segment_beats_nothing_kept(peaks):
    X, kept = ecgtut.segment_beats(np.zeros(1000), np.array(peaks, dtype=int), fs=360)
    assert X.shape == (0, 251) and X.dtype == np.float32
    assert kept.shape == (len(peaks),) and not kept.any()


# ----------------------------------------------------------------------------- the beat set

# Counts of the 44 records with the 0.4 s + 0.5 s window, beats crossing a record end
# dropped (SPEC section 2 gives them as "about"; these are the exact figures).
COUNTS_44 = {"N": 90081, "S": 2781, "V": 7008, "F": 802, "Q": 15}
BEATS_44 = 100687
DROPPED_44 = 46
SKIPPED_44 = 2991


def test_class_counts_of_the_44_records(beats):
    assert beats.counts() == COUNTS_44
    assert len(beats) == sum(COUNTS_44.values()) == BEATS_44
    assert sum(beats.dropped.values()) == DROPPED_44
    assert sum(beats.skipped.values()) == SKIPPED_44
    assert list(beats.dropped) == list(beats.skipped) == ecgtut.RECORDS
    assert all(0 <= n <= 2 for n in beats.dropped.values())  # at most one beat per end


def test_beat_set_arrays(beats):
    n = len(beats)
    assert beats.X.shape == (n, 251) and beats.X.dtype == np.float32
    assert np.isfinite(beats.X).all()
    assert beats.fs == 360
    for name in ("aami", "symbol", "record", "r_peak"):
        assert getattr(beats, name).shape == (n,), name
    assert set(np.unique(beats.record)) == set(ecgtut.RECORDS)
    assert not set(beats.record) & set(ecgtut.RECORDS_PACED)
    assert beats.r_peak.min() >= 144 and beats.r_peak.max() <= 650000 - 180
    mapped = np.array([ecgtut.aami_class(s) for s in beats.symbol])
    np.testing.assert_array_equal(mapped, beats.aami)
    assert beats.params["denoise_method"] == "wavelet" and beats.params["records"] == ecgtut.RECORDS
    assert "44 records" in repr(beats) and "N 90081" in repr(beats)


def test_xy(beats):
    X, y = beats.xy()
    assert X.shape == (BEATS_44 - COUNTS_44["Q"], 251)
    assert np.bincount(y).tolist() == [COUNTS_44[c] for c in "NSVF"]
    X5, y5 = beats.xy(classes=ecgtut.AAMI_CLASSES)
    assert len(X5) == BEATS_44 and np.bincount(y5).tolist() == list(COUNTS_44.values())
    Xs, ys = beats.xy(classes=("S", "V"))  # label order follows ``classes``
    assert np.bincount(ys).tolist() == [COUNTS_44["S"], COUNTS_44["V"]]
    for bad in (("N", "X"), ("N", "N", "V"), ("n",)):
        with pytest.raises(ValueError, match="distinct AAMI classes"):
            beats.xy(classes=bad)


def test_record_100_ends(data_dir, beats):
    """Record 100: the first beat (R at 77) and the last (R at 649991) are dropped."""
    ann = ecgtut.read_annotations("100", data_dir).beats()
    assert ann.sample[0] == 77 and ann.sample[-1] == 649991  # 77 < 144; 649991 + 180 > 650000
    bs = ecgtut.beats_from_record("100", data_dir)
    assert bs.dropped == {"100": 2} and bs.skipped == {"100": 1}
    assert len(bs) == len(ann.sample) - 2 == 2271
    np.testing.assert_array_equal(bs.r_peak, ann.sample[1:-1])
    clean = ecgtut.denoise_wavelet(ecgtut.read_record("100", data_dir).signal)
    first = sps.resample(clean[370 - 144 : 370 + 180], 251).astype(np.float32)
    np.testing.assert_allclose(bs.X[0], first, atol=1e-6)
    last = sps.resample(clean[649734 - 144 : 649734 + 180], 251).astype(np.float32)
    np.testing.assert_allclose(bs.X[-1], last, atol=1e-6)
    # the same rows, in the same order, in the beat set of the 44 records
    rows = beats.record == "100"
    np.testing.assert_array_equal(beats.X[rows], bs.X)
    np.testing.assert_array_equal(beats.r_peak[rows], bs.r_peak)


def test_record_at_another_frequency_is_resampled_to_360_hz(mitdb_250hz, monkeypatch, tmp_path):
    monkeypatch.setenv("ECGTUT_CACHE", str(tmp_path / "cache"))
    bs = ecgtut.load_beats(mitdb_250hz, records=["100"], progress=False)
    assert bs.fs == 360 and bs.X.shape == (2271, 251)
    assert bs.dropped == {"100": 2}
    assert bs.r_peak[0] == round(370 * 1.44)


# ----------------------------------------------------------------------------- cache


def _npz(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECGTUT_CACHE", str(folder))
    return folder


def _assert_same(a, b):
    for name in ("X", "aami", "symbol", "record", "r_peak"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(a, name).dtype == getattr(b, name).dtype, name
    assert a.fs == b.fs and a.dropped == b.dropped and a.skipped == b.skipped
    assert a.window == b.window


def test_cache_reload_is_identical(beats, data_dir):
    again = ecgtut.load_beats(data_dir, progress=False)
    assert again.params["cached"] is True
    _assert_same(again, beats)
    assert again.fs == beats.fs and type(again.fs) is type(beats.fs)
    assert {k: v for k, v in again.params.items() if k != "cached"} == {
        k: v for k, v in beats.params.items() if k != "cached"
    }


def test_cache_key_follows_records_given_as_paths(data_dir, cache, tmp_path, monkeypatch):
    # "sub/100" is read relative to the working folder: the key must look at those files
    for name, flip in (("a", False), ("b", True)):
        sub = tmp_path / name / "sub"
        sub.mkdir(parents=True)
        for ext in ("hea", "dat", "atr"):
            shutil.copyfile(data_dir / f"100.{ext}", sub / f"100.{ext}")
        if flip:  # same size, other samples (and another modification time)
            dat = bytearray((sub / "100.dat").read_bytes())
            dat[300_000:300_300] = bytes(300)
            (sub / "100.dat").write_bytes(bytes(dat))
            os.utime(sub / "100.dat", ns=(1_000_000_000, 1_000_000_000))
    monkeypatch.chdir(tmp_path / "a")
    a = ecgtut.load_beats(data_dir, records=["sub/100"], progress=False)
    monkeypatch.chdir(tmp_path / "b")
    b = ecgtut.load_beats(data_dir, records=["sub/100"], progress=False)
    assert a.params["cached"] is False and b.params["cached"] is False
    assert len(a) == len(b) and not np.array_equal(a.X, b.X)


def test_cache_is_keyed_by_the_parameters(data_dir, cache):
    first = ecgtut.load_beats(data_dir, records=["100"], progress=False)
    assert first.params["cached"] is False
    files = _npz(cache)
    assert len(files) == 1 and files[0].startswith("beats-") and files[0].endswith(".npz")
    assert ecgtut.load_beats(data_dir, records=["100"], progress=False).params["cached"] is True

    window = ecgtut.BeatWindow(after=0.45)
    later = ecgtut.load_beats(data_dir, records=["100"], window=window, progress=False)
    assert later.params["cached"] is False and later.params["after"] == 0.45
    assert later.window == window
    assert len(_npz(cache)) == 2
    assert later.X.shape == (2271, 251) and not np.allclose(later.X, first.X)

    bandpass = ecgtut.load_beats(data_dir, records=["100"], denoise_method="bandpass",
                                 progress=False)
    assert bandpass.params["cached"] is False
    assert len(_npz(cache)) == 3 and not np.allclose(bandpass.X, first.X)

    two = ecgtut.load_beats(data_dir, records=["100", "101"], progress=False)
    assert two.params["cached"] is False and len(_npz(cache)) == 4


def test_no_cache_writes_nothing(data_dir, cache):
    bs = ecgtut.load_beats(data_dir, records=["100"], cache=False, progress=False)
    assert bs.params["cached"] is False and len(bs) == 2271
    assert _npz(cache) == []


def test_cache_write_is_atomic(data_dir, cache, monkeypatch):
    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")  # something reached the disk...
        raise OSError("No space left on device")  # ...then the write failed

    with monkeypatch.context() as mp:
        mp.setattr(np, "savez", failing_savez)
        with pytest.raises(OSError, match="No space left"):
            ecgtut.load_beats(data_dir, records=["100"], progress=False)
    assert _npz(cache) == []  # neither a cache file nor a temporary one
    # and the next call builds and caches normally
    assert ecgtut.load_beats(data_dir, records=["100"], progress=False).params["cached"] is False
    assert len(_npz(cache)) == 1
    assert ecgtut.load_beats(data_dir, records=["100"], progress=False).params["cached"] is True


def _listing(folder):
    return sorted((p.name, p.is_symlink(), p.lstat().st_size, p.lstat().st_mtime_ns)
                  for p in folder.iterdir())


def test_nothing_is_written_to_the_data_folder(data_dir, mitdb_links, cache):
    before, before_links = _listing(data_dir), _listing(mitdb_links)
    ecgtut.load_beats(data_dir, records=["100"], progress=False)
    ecgtut.load_beats(mitdb_links, records=["100"], progress=False)  # a writable folder
    ecgtut.load_beats(mitdb_links, records=["100"], progress=False)
    assert _listing(data_dir) == before
    assert _listing(mitdb_links) == before_links
    assert len(_npz(cache)) == 2  # the cache key includes the folder


# ----------------------------------------------------------------------------- delineate_beat


def test_delineate_beat_finds_the_waves_of_a_synthetic_beat():
    fs, r = 360, 400
    t = (np.arange(1000) - r) / fs  # seconds from the R peak
    beat = (0.15 * np.exp(-((t + 0.16) / 0.02) ** 2) + 1.2 * np.exp(-(t / 0.01) ** 2)
            - 0.2 * np.exp(-((t + 0.03) / 0.008) ** 2) - 0.3 * np.exp(-((t - 0.03) / 0.008) ** 2)
            + 0.3 * np.exp(-((t - 0.25) / 0.04) ** 2))
    waves = ecgtut.delineate_beat(beat, r, fs, r_next=r + 300)
    expected = {"P": r - round(0.16 * fs), "Q": r - round(0.03 * fs), "R": r,
                "S": r + round(0.03 * fs), "T": r + round(0.25 * fs)}
    for name, sample in expected.items():
        assert abs(waves[name] - sample) <= 1, name
    assert waves["P_on"] == waves["P"] - round(0.04 * fs)
    assert waves["T_off"] == waves["T"] + 36 and waves["R_next"] == r + 300


@pytest.mark.parametrize("r_peak, n, fragment", [
    (100, 1000, "leaves 0.28 s before"),
    (1990, 2000, "5.53 s before and 0.03 s after"),
])
def test_delineate_beat_near_the_ends_of_the_signal(r_peak, n, fragment):
    with pytest.raises(ValueError, match=f"needs 0.34 s of signal before the R peak.*{fragment}"):
        ecgtut.delineate_beat(np.zeros(n), r_peak, 360)
