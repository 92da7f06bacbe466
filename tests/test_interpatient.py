"""Chapter 07 foundations: the DS1/DS2 lists and their class counts, the guard against
test patients in training, and RR-interval features on hand-made beat sequences."""

from __future__ import annotations

import numpy as np
import pytest

import ecgtut as et
from ecgtut.patients import PatientLeakError

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


# ----------------------------------------------------------------------------- the experiment


def test_validation_records_keep_every_class_in_training(beats):
    train, _ = et.split_patients(beats)
    val = et.validation_records(beats, train, seed=0)
    assert 3 <= len(val) <= 6 and set(val) <= set(et.DS1)
    in_val = np.isin(beats.record[train], val)
    for c in "NSVF":  # at least half of every class stays for training (F lives in 208)
        is_c = beats.aami[train] == c
        assert (is_c & ~in_val).sum() >= 0.5 * is_c.sum(), c


def test_the_guard_fires_inside_the_training_path(beats, monkeypatch):
    import ecgtut.patients as ip

    real = ip.validation_records
    monkeypatch.setattr(ip, "validation_records",  # a careless change that validates on DS2
                        lambda b, rows, seed=0: real(b, rows, seed) + ["100"])
    real_split = ip.split_patients

    def leaky_split(b, classes, *a, **kw):
        ds1, ds2 = real_split(b, classes)
        return np.r_[ds1, ds2[:5]], ds2  # five DS2 beats slipped into DS1
    monkeypatch.setattr(ip, "split_patients", leaky_split)
    monkeypatch.setattr("ecgtut.train.fit", lambda *a, **kw: pytest.fail("trained on DS2"))
    with pytest.raises(PatientLeakError, match="come from DS2"):
        et.interpatient(beats=beats, progress=False)  # stops before any training
    with pytest.raises(PatientLeakError, match="come from DS2"):
        et.adaptive_interpatient(beats=beats, progress=False)  # chapter 07's recipe too
    with pytest.raises(PatientLeakError, match="come from DS2"):
        et.ds1_study(beats=beats, progress=False)


def test_the_guard_fires_in_the_ds1_cross_validation(beats, monkeypatch):
    import ecgtut.patients as ip
    import ecgtut.tuning as tu

    real_split = ip.split_patients
    monkeypatch.setattr(ip, "split_patients",
                        lambda b, classes: (np.r_[real_split(b, classes)[0], real_split(
                            b, classes)[1][:3]], real_split(b, classes)[1]))
    monkeypatch.setattr("ecgtut.train.fit", lambda *a, **kw: pytest.fail("trained on DS2"))
    with pytest.raises(PatientLeakError, match="come from DS2"):
        tu.ds1_cross_validate(beats=beats, progress=False)


class _Net:
    """Stands in for a trained network: remembers the records it was trained on."""

    def __init__(self, records):
        self.records = set(records)


def test_ds1_cross_validation_holds_out_whole_patients(beats, monkeypatch):
    import ecgtut.tuning as ip

    seen = []

    def fake_fit_nets(b, y_all, F, train_rows, val_rows, **kw):
        assert val_rows is None and kw["select"] == "last"  # nothing chosen on held-out patients
        seen.append(_Net(b.record[train_rows]))
        return [seen[-1]], [{}]

    def fake_proba(nets, b, F, rows):
        assert not nets[0].records & set(b.record[rows])  # never a patient it trained on
        return np.tile([0.1, 0.6, 0.2, 0.1], (len(rows), 1))

    monkeypatch.setattr(ip, "fit_networks", fake_fit_nets)
    monkeypatch.setattr(ip, "ensemble_proba", fake_proba)
    r = ip.ds1_cross_validate(beats=beats, folds=3, progress=False)
    assert len(seen) == 3 and all(n.records <= set(et.DS1) for n in seen)
    assert set.union(*(set(et.DS1) - n.records for n in seen)) == set(et.DS1)
    assert r["per_class"]["S"]["se"] == 1.0 and r["per_class"]["N"]["se"] == 0.0
    assert len(r["y"]) == len(r["proba"]) == sum(np.isin(beats.record, et.DS1)
                                                 & np.isin(beats.aami, list("NSVF")))


def test_decide_and_the_s_threshold():
    proba = np.array([[0.6, 0.4, 0, 0], [0.8, 0.2, 0, 0], [0.1, 0.3, 0.6, 0], [0.9, 0.1, 0, 0]])
    assert et.decide(proba).tolist() == [0, 0, 2, 0]
    assert et.decide(proba, s_threshold=0.3).tolist() == [1, 0, 1, 0]
    y = np.array([1, 1, 2, 0])
    t, f1 = et.best_s_threshold(y, proba, grid=[0.15, 0.35, 0.5])
    assert t == 0.15 and f1[0.15] == pytest.approx(0.8) and f1[0.5] == 0.0


def test_balanced_weights_give_an_absent_class_no_weight():
    from sklearn.utils.class_weight import compute_class_weight

    from ecgtut.tuning import balanced_weights

    y = np.array([0] * 8 + [1] * 2 + [2] * 2 + [3] * 4)
    assert np.allclose(balanced_weights(y), compute_class_weight("balanced",
                                                                  classes=np.arange(4), y=y))
    w = balanced_weights(np.array([0, 0, 0, 1, 2, 2]))  # no F beat in training
    assert w[3] == 0 and np.allclose(w[:3], 6 / (3 * np.array([3, 1, 2])))


def test_undersampling_keeps_every_rare_beat():
    from ecgtut.tuning import _undersample_normal

    y = np.array([0] * 100 + [1] * 5 + [2] * 5)
    rows = np.arange(len(y))
    kept = _undersample_normal(rows, y, 3, seed=0)
    assert np.sum(y[kept] == 0) == 30 and np.sum(y[kept] != 0) == 10
    assert np.array_equal(_undersample_normal(rows, y, None, 0), rows)


@pytest.mark.slow
def test_cli_interpatient_fast_json(tmp_path, data_dir):
    import json
    import subprocess
    import sys

    out = tmp_path / "ip.json"
    cmd = [sys.executable, "-m", "ecgtut", "interpatient", "--model", "cnn", "--fast",
           "--features", "beat+rr",
           "--quiet", "--data", str(data_dir), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("inter-patient DS1 -> DS2, features beat+rr, class-weighted")
    assert any(line.startswith("de Chazal et al. 2004") for line in lines)
    r = json.loads(out.read_text())
    assert {"accuracy", "macro_f1", "per_class", "confusion", "folds", "seconds", "classes",
            "n_beats", "settings", "precision", "per_record"} <= set(r)
    assert r["settings"]["features"] == "beat+rr" and r["settings"]["weighted"] is True
    assert set(r["per_record"]) == set(et.DS2) and not set(r["settings"]["val_records"]) & set(
        et.DS2)
    assert sum(p["n_beats"] for p in r["per_record"].values()) == r["folds"][0]["n_test"]
    assert np.sum(r["confusion"]) == r["folds"][0]["n_test"]


def test_cli_interpatient_options_parse_and_refuse_bad_values(capsys):
    from ecgtut.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["interpatient", "--select", "last", "--epochs", "6", "--ensemble",
                              "3", "--s-threshold", "0.3", "--n-ratio", "3", "--no-augment"])
    assert (args.select, args.epochs, args.ensemble, args.s_threshold, args.n_ratio,
            args.augment) == ("last", 6, 3, 0.3, 3.0, False)
    for bad in (["--s-threshold", "1.5"], ["--s-threshold", "x"], ["--ensemble", "0"],
                ["--n-ratio", "-1"], ["--select", "test"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["interpatient", *bad])
        assert "error:" in capsys.readouterr().err


def test_cli_interpatient_default_is_the_recipe_and_refuses_cnn_options(capsys):
    from ecgtut.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["interpatient"])
    assert args.model == "adaptive" and args.features is None and args.weighted is None
    args = parser.parse_args(["interpatient", "--features", "beat+rr"])
    with pytest.raises(SystemExit):
        args.func(args)  # refused before any work: --features belongs to --model cnn
    assert "--features is an option of --model cnn" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_interpatient_recipe_fast_json(tmp_path, data_dir):
    import json
    import subprocess
    import sys

    out = tmp_path / "ip.json"
    cmd = [sys.executable, "-m", "ecgtut", "interpatient", "--fast", "--quiet", "--data",
           str(data_dir), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("inter-patient DS1 -> DS2, chapter 07's recipe")
    assert "de Chazal et al. 2004" in proc.stdout and "linear part alone" in proc.stdout
    r = json.loads(out.read_text())
    assert r["settings"]["model"] == "adaptive" and set(r["per_record"]) <= set(et.DS2)
    assert {"S", "V"} <= set(r["bootstrap"]) and set(r["parts"]) == {"linear", "cnn"}
