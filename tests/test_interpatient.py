"""Chapter 06 foundations: the DS1/DS2 lists and their class counts, the guard against
test patients in training, and RR-interval features on hand-made beat sequences."""

from __future__ import annotations

import numpy as np
import pytest

import ecgtut as et
from ecgtut.interpatient import PatientLeakError

# SPEC section 6: beats per class from the annotations (no edge trimming)
DS1_COUNTS = {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8}
DS2_COUNTS = {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7}


def test_ds1_and_ds2_are_de_chazals_22_plus_22_records():
    assert len(et.DS1) == len(et.DS2) == 22
    assert not set(et.DS1) & set(et.DS2)
    assert sorted(et.DS1 + et.DS2) == sorted(et.RECORDS)  # the 44 non-paced records
    assert et.DS1[:3] == ["101", "106", "108"] and et.DS2[-3:] == ["232", "233", "234"]


@pytest.mark.parametrize(("records", "expected"), [("DS1", DS1_COUNTS), ("DS2", DS2_COUNTS)])
def test_class_counts_of_ds1_and_ds2_from_the_annotations(data_dir, records, expected):
    counts = et.count_symbols(data_dir, getattr(et, records))
    by_class = {c: 0 for c in et.AAMI_CLASSES}
    for symbol, n in counts.items():
        if et.aami_class(symbol):
            by_class[et.aami_class(symbol)] += n
    assert by_class == expected


def test_split_patients_keeps_the_patients_apart(beats):
    train, test = et.split_patients(beats)
    assert set(beats.record[train]) == set(et.DS1) and set(beats.record[test]) == set(et.DS2)
    assert not set(beats.aami[train]) & {"Q"}
    # the beat set drops one or two beats at each record's ends: a handful fewer than SPEC's
    for rows, counts in ((train, DS1_COUNTS), (test, DS2_COUNTS)):
        got = {c: int(np.sum(beats.aami[rows] == c)) for c in "NSVF"}
        assert all(0 <= counts[c] - got[c] <= 44 for c in "NSVF"), got
    with pytest.raises(ValueError, match="in both groups"):
        et.split_patients(beats, train_records=["100", "101"], test_records=["101"])


def test_the_guard_refuses_a_single_test_patient_beat():
    et.check_training_records(np.array(et.DS1 * 3))  # DS1 only: silent
    records = np.array(["101"] * 50 + ["232"] + ["106"] * 10)
    with pytest.raises(PatientLeakError, match=r"1 training beat\(s\) come from DS2 \(record 232"):
        et.check_training_records(records)
    assert issubclass(PatientLeakError, AssertionError)


# ----------------------------------------------------------------------------- RR features


def test_rr_features_of_a_premature_beat():
    fs = 360
    r = np.array([0, 360, 720, 1080, 1260, 1800, 2160])  # beat 4 comes 0.5 s early, then a pause
    F = et.rr_features(r, fs, normalize=None, local_beats=3)
    assert F.shape == (7, 5) and F.dtype == np.float32
    pre, post, local, pre_ratio, post_ratio = F.T
    np.testing.assert_allclose(pre, [1.0, 1.0, 1.0, 1.0, 0.5, 1.5, 1.0])  # first: the median RR
    np.testing.assert_allclose(post, [1.0, 1.0, 1.0, 0.5, 1.5, 1.0, 1.0])  # last: the median RR
    np.testing.assert_allclose(local[4], (1.0 + 1.0 + 0.5) / 3)  # this beat and the 2 before
    np.testing.assert_allclose(local[0], 1.0)  # the first beat averages what there is
    assert pre_ratio[4] == pytest.approx(0.5 / (2.5 / 3)) and pre_ratio[4] < 0.7
    assert post_ratio[4] == pytest.approx(3.0)  # the compensatory pause after it
    assert np.all(pre_ratio[[1, 2, 3, 6]] > 0.95)


def test_rr_features_normalised_per_record_do_not_depend_on_the_heart_rate():
    r = np.array([0, 360, 720, 900, 1620, 1980])  # RR 1, 1, 0.5, 2, 1 s: mean 1.1 s
    slow = et.rr_features(2 * r, fs=360)  # the same rhythm, half as fast
    fast = et.rr_features(r, fs=360)
    np.testing.assert_allclose(slow, fast, rtol=1e-6)
    seconds = et.rr_features(2 * r, fs=360, normalize=None)
    assert seconds[1, 0] == pytest.approx(2.0) and fast[1, 0] == pytest.approx(1 / 1.1)
    np.testing.assert_allclose(fast[:, 3:], seconds[:, 3:], rtol=1e-6)  # ratios: unchanged


def test_rr_features_say_what_is_wrong():
    with pytest.raises(ValueError, match="at least 2 beats"):
        et.rr_features(np.array([100]), fs=360)
    with pytest.raises(ValueError, match="increasing order"):
        et.rr_features(np.array([100, 50, 300]), fs=360)
    with pytest.raises(ValueError, match="normalize"):
        et.rr_features(np.array([0, 360]), fs=360, normalize="zscore")


def test_beat_rr_features_record_by_record(beats):
    F = et.beat_rr_features(beats)
    assert F.shape == (len(beats), 5) and np.isfinite(F).all()
    rows = np.flatnonzero(beats.record == "232")  # the record with most S beats
    np.testing.assert_array_equal(F[rows], et.rr_features(beats.r_peak[rows], beats.fs))
    # S beats are premature: their RR before, relative to the recent rhythm, is shorter than N's
    s, n = beats.aami == "S", beats.aami == "N"
    assert np.median(F[s, 3]) < 0.85 < np.median(F[n, 3])
