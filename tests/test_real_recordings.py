"""Issue 26: ``classify`` on the recordings people have, never destroying a file or a number.

One section per part of the issue, each case written first as a failing test:
output targets checked before any work and reference annotations never
replaced; inputs (local paths first, EDF, several records, a folder); honest
output on bad signal (sampling frequencies, stretches without a heartbeat, gaps,
short recordings); one default model per cache and checkpoints checked at load;
the smaller argument slips. Models here are tiny and untrained (their labels
mean nothing, the tests look at what is detected, refused and written), except
where the real MIT-BIH record is needed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import wfdb

import ecgtut as et
from ecgtut import classify as cl
from ecgtut import deploy
from ecgtut.cli import main

FS = 360
RR_META = {"local_beats": 10, "normalize": "record"}


def run_cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, command, *fragments):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ecgtut {command}: error: "), lines[0]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _must_not_run(*args, **kwargs):
    raise AssertionError("the work started although an output or input was refused")


def synthetic_ecg(seconds, fs=FS, rr_s=0.8, seed=0):
    """A clean synthetic ECG in mV: a sharp QRS (1.2 mV) and a T wave every ``rr_s`` s."""
    t = np.arange(int(seconds * fs)) / fs
    x = 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    for r in np.arange(0.5, seconds - 0.5, rr_s):
        x += 1.2 * np.exp(-0.5 * ((t - r) / 0.010) ** 2)
        x += 0.3 * np.exp(-0.5 * ((t - r - 0.25) / 0.040) ** 2)
    return x


def write_wfdb(folder, name, signal, fs=FS):
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=["MLII"], p_signal=np.asarray(signal)[:, None],
                fmt=["16"], adc_gain=[400.0], baseline=[0], write_dir=str(folder))
    return Path(folder) / name


def write_edf(path, signal, fs, label="ECG"):
    """A minimal EDF file (one signal, 1 s data records), as a device would export it."""
    n_rec = len(signal) // int(fs)
    x = np.asarray(signal[: n_rec * int(fs)], dtype=float)
    pmin, pmax = float(x.min()) - 0.1, float(x.max()) + 0.1
    digital = np.round((x - pmin) / (pmax - pmin) * 65535 - 32768).astype("<i2")
    field = lambda value, width: str(value).ljust(width)[:width]  # noqa: E731
    header = (field("0", 8) + field("X X X X", 80) + field("Startdate 01-JAN-2026 X X X", 80)
              + "01.01.26" + "00.00.00" + field(512, 8) + field("", 44) + field(n_rec, 8)
              + field(1, 8) + field(1, 4))
    header += (field(label, 16) + field("", 80) + field("mV", 8) + field(f"{pmin:.4f}", 8)
               + field(f"{pmax:.4f}", 8) + field(-32768, 8) + field(32767, 8) + field("", 80)
               + field(int(fs), 8) + field("", 32))
    Path(path).write_bytes(header.encode("ascii") + digital.tobytes())
    return Path(path)


def tiny_model(folder, n_classes=4, n_features=5, **meta):
    """An untrained network saved as a deployable model; ``meta`` overrides its meta."""
    net = et.MultiScaleCNN(n_classes=n_classes, n_features=n_features)
    meta = {"classes": list("NSVFQ")[:n_classes], "fs": FS,
            "features": "beat+rr" if n_features else "beat", "rr": RR_META, **meta}
    path = Path(folder) / "tiny.pt"
    deploy.save_model(path, net, meta)
    return path


@pytest.fixture
def model(tmp_path):
    return tiny_model(tmp_path)


@pytest.fixture
def synth(tmp_path):
    """A folder holding ``synth`` (60 s of synthetic ECG, WFDB) and its reference ``synth.atr``."""
    folder = tmp_path / "rec"
    folder.mkdir()
    x = synthetic_ecg(60)
    write_wfdb(folder, "synth", x)
    beats = np.round(np.arange(0.5, 59.5, 0.8) * FS).astype(int)
    wfdb.wrann("synth", "atr", beats, ["N"] * len(beats), fs=FS, write_dir=str(folder))
    return folder / "synth"


# ----------------------------------------------------------------------------- 1. outputs


def test_write_ann_never_replaces_the_reference_annotations(capsys, synth, model):
    atr = synth.with_suffix(".atr")
    before = atr.read_bytes()
    for force in ([], ["--force"]):
        status, out, err = run_cli(capsys, "classify", synth, "--model", model, "--write-ann",
                                   "atr", "--ann-dir", synth.parent, *force)
        assert_one_line_error(status, err, "classify", "--write-ann atr", "reference")
        assert out == ""
    assert atr.read_bytes() == before


def test_write_ann_keeps_an_existing_file_unless_forced(capsys, synth, model):
    old = synth.parent / "synth.ecg"
    old.write_bytes(b"someone's annotations")
    argv = ["classify", synth, "--model", model, "--write-ann", "ecg", "--ann-dir", synth.parent]
    status, out, err = run_cli(capsys, *argv)
    assert_one_line_error(status, err, "classify", str(old), "exists", "--force")
    assert old.read_bytes() == b"someone's annotations" and out == ""
    status, out, err = run_cli(capsys, *argv, "--force")
    assert status == 0, err
    assert len(wfdb.rdann(str(synth), "ecg").sample) == 74


@pytest.mark.parametrize("case", ["json-folder-missing", "plot-extension", "plot-read-only",
                                  "ann-dir-missing", "ann-dir-read-only", "ann-ext-path",
                                  "ann-ext-space", "ann-ext-digits", "ann-record-name"])
def test_classify_outputs_are_checked_before_any_work(capsys, monkeypatch, tmp_path, synth,
                                                      model, case):
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == read_only
                        else real_access(p, mode))  # what chmod 555 does to anyone but root
    monkeypatch.setattr("ecgtut.deploy.load_model", _must_not_run)
    monkeypatch.setattr("ecgtut.classify.classify_signal", _must_not_run)
    record = synth
    if case == "ann-record-name":  # WFDB names allow letters, digits, '-' and '_'
        record = write_edf(tmp_path / "my rec.edf", synthetic_ecg(20), FS)
    extra, fragments = {
        "json-folder-missing": (["--json", tmp_path / "nowhere" / "r.json"], ["does not exist"]),
        "plot-extension": (["--plot", tmp_path / "r.xyz"], ["--plot", "'.xyz'", "png"]),
        "plot-read-only": (["--plot", read_only / "r.png"], ["--plot", "not writable"]),
        "ann-dir-missing": (["--write-ann", "ecg", "--ann-dir", tmp_path / "nowhere"],
                            ["--ann-dir", "does not exist"]),
        "ann-dir-read-only": (["--write-ann", "ecg", "--ann-dir", read_only],
                              ["--ann-dir", "not writable"]),
        "ann-ext-path": (["--write-ann", "out/ecg"], ["--write-ann", "letters only"]),
        "ann-ext-space": (["--write-ann", "my ann"], ["--write-ann", "letters only"]),
        "ann-ext-digits": (["--write-ann", "ecg1"], ["--write-ann", "letters only"]),
        "ann-record-name": (["--write-ann", "ecg", "--ann-dir", tmp_path],
                            ["my rec", "letters, digits"]),
    }[case]
    status, out, err = run_cli(capsys, "classify", record, "--model", model, *extra)
    assert_one_line_error(status, err, "classify", *fragments)
    assert out == ""
    assert not list(read_only.iterdir()) and not (tmp_path / "r.xyz").exists()


@pytest.mark.parametrize("case", ["folder-is-a-file", "target-is-a-folder", "read-only"])
def test_train_save_is_checked_before_training(capsys, monkeypatch, tmp_path, case):
    monkeypatch.setattr("ecgtut.deploy.train_model", _must_not_run)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == read_only
                        else real_access(p, mode))
    target, fragment = {"folder-is-a-file": (blocker / "m.pt", "not a folder"),
                        "target-is-a-folder": (tmp_path, "it is a folder"),
                        "read-only": (read_only / "m.pt", "not writable")}[case]
    status, _, err = run_cli(capsys, "train", "--fast", "--quiet", "--save", target)
    assert_one_line_error(status, err, "train", "--save", fragment)


def test_write_ann_with_no_beat_writes_nothing_and_says_so(capsys, tmp_path, model):
    t = np.arange(60 * FS) / FS
    stem = write_wfdb(tmp_path, "sine", 0.5 * np.sin(2 * np.pi * 1.0 * t))
    status, out, err = run_cli(capsys, "classify", stem, "--model", model, "--write-ann", "ecg",
                               "--ann-dir", tmp_path)
    assert status == 0, err
    assert "Traceback" not in err
    assert "0 beats classified" in out and "no annotation file written" in out
    assert not (tmp_path / "sine.ecg").exists()


# ----------------------------------------------------------------------------- 2. inputs


def test_a_local_path_is_that_file_not_the_mitdb_record(capsys, monkeypatch, tmp_path, model,
                                                       data_dir):
    monkeypatch.chdir(tmp_path)
    write_wfdb(tmp_path, "100", synthetic_ecg(30))
    for record in ("./100", "100", "100.hea"):
        status, out, err = run_cli(capsys, "classify", record, "--model", model)
        assert status == 0, err
        assert "0.5 min" in out  # the local 30 s, not MIT-BIH's 30 min
    status, out, err = run_cli(capsys, "classify", "100", "--model", model, "--data", data_dir,
                               "--quiet")
    assert status == 0 and "30.1 min" in out  # --data names the database: its 100


def test_a_missing_local_path_is_not_looked_up_in_mitdb(capsys, monkeypatch, tmp_path, model):
    monkeypatch.chdir(tmp_path)
    for record in ("./synth", "synth.edf", str(tmp_path / "gone.edf")):
        status, _, err = run_cli(capsys, "classify", record, "--model", model)
        assert_one_line_error(status, err, "classify", "not found")
        assert "MIT-BIH" not in err and "100 to 234" not in err


def test_an_edf_recording_is_read(capsys, tmp_path, model):
    x = synthetic_ecg(60, fs=250)
    edf = write_edf(tmp_path / "device.edf", x, 250)
    (tmp_path / "wfdb").mkdir()
    stem = write_wfdb(tmp_path / "wfdb", "device", x, fs=250)
    r_edf = cl.classify_record(str(edf), **_loaded(model))
    r_wfdb = cl.classify_record(str(stem), **_loaded(model))
    assert r_edf["fs"] == 250 and r_edf["lead"] == "ECG"
    assert len(r_edf["sample"]) == 74  # one beat every 0.8 s
    assert np.abs(r_edf["sample"] - r_wfdb["sample"]).max() <= 1
    status, out, err = run_cli(capsys, "classify", edf, "--model", model)
    assert status == 0, err
    assert "record device, lead ECG, 250 Hz" in out


def _loaded(path):
    net, meta = deploy.load_model(path)
    return {"net": net, "meta": meta}


def test_several_records_and_a_folder_give_one_summary(capsys, tmp_path, model):
    folder = tmp_path / "holter"
    folder.mkdir()
    write_wfdb(folder, "a", synthetic_ecg(30, rr_s=0.8))
    write_wfdb(folder, "b", synthetic_ecg(30, rr_s=1.0, seed=1))
    write_edf(folder / "c.edf", synthetic_ecg(30, rr_s=0.6, seed=2), FS)
    csv_path, json_path = tmp_path / "summary.csv", tmp_path / "summary.json"
    status, out, err = run_cli(capsys, "classify", folder / "a", folder / "b", "--model", model,
                               "--summary", csv_path)
    assert status == 0, err
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["record"] for r in rows] == ["a", "b"]
    assert abs(float(rows[0]["heart_rate_bpm"]) - 75) < 1
    assert abs(float(rows[1]["heart_rate_bpm"]) - 60) < 1
    assert "classify" in err  # the progress bar (on stderr)
    status, out, err = run_cli(capsys, "classify", folder, "--model", model, "--quiet",
                               "--summary", json_path)
    assert status == 0, err
    summary = json.loads(json_path.read_text())
    assert [r["record"] for r in summary["records"]] == ["a", "b", "c"]
    assert abs(summary["records"][2]["heart_rate_bpm"] - 100) < 1.5
    assert err == ""
    for name in ("a", "b", "c"):
        assert any(line.startswith(name) for line in out.splitlines())  # the summary table


def test_a_failing_record_among_several_is_named_and_the_others_classified(capsys, tmp_path,
                                                                          model):
    good = write_wfdb(tmp_path, "good", synthetic_ecg(30))
    short = write_wfdb(tmp_path, "short", synthetic_ecg(10))
    out_json, summary = tmp_path / "r.json", tmp_path / "s.csv"
    status, out, err = run_cli(capsys, "classify", good, short, "--model", model, "--quiet",
                               "--json", out_json, "--summary", summary)
    assert status == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [
        "ecgtut classify: error: record short: the recording lasts 10.0 s: the model's "
        "denoising (db6 wavelet, 9 levels) needs at least 15.7 s"]
    assert [r["record"] for r in json.loads(out_json.read_text())["records"]] == ["good"]
    rows = list(csv.DictReader(summary.open()))
    assert [(r["record"], bool(r["error"])) for r in rows] == [("good", False), ("short", True)]


def test_plot_draws_one_record_only(capsys, tmp_path, synth, model, monkeypatch):
    monkeypatch.setattr("ecgtut.classify.classify_signal", _must_not_run)
    status, _, err = run_cli(capsys, "classify", synth, synth, "--model", model, "--plot",
                             tmp_path / "p.png")
    assert_one_line_error(status, err, "classify", "--plot", "one record")


# ----------------------------------------------------------------------------- 3. bad signal


@pytest.mark.parametrize("fs", [0, 1e-3, -360, float("nan"), 20])
def test_classify_signal_refuses_unusable_sampling_frequencies(tmp_path, fs):
    with pytest.raises(ValueError, match=r"100 to 10000 Hz"):
        cl.classify_signal(np.zeros(1000), fs, **_loaded(tiny_model(tmp_path)))


def test_a_header_at_20_hz_is_refused_before_resampling(capsys, monkeypatch, tmp_path, model):
    monkeypatch.setattr("scipy.signal.resample_poly", _must_not_run)
    stem = write_wfdb(tmp_path, "slow", synthetic_ecg(600, fs=20, rr_s=0.8), fs=20)
    status, _, err = run_cli(capsys, "classify", stem, "--model", model)
    assert_one_line_error(status, err, "classify", "20 Hz", "100 to 10000 Hz")


@pytest.mark.parametrize("kind", ["sine", "noise"])
def test_no_heartbeat_gives_no_beat(tmp_path, kind):
    t = np.arange(60 * FS) / FS
    x = {"sine": 0.5 * np.sin(2 * np.pi * 1.0 * t),
         "noise": 0.1 * np.random.default_rng(0).standard_normal(len(t))}[kind]
    result = cl.classify_signal(x, FS, **_loaded(tiny_model(tmp_path)))
    assert len(result["label"]) == 0
    assert result["heart_rate_bpm"] is None
    stretches = result["no_beat_stretches"]
    assert sum(end - start for start, end, _ in stretches) == pytest.approx(60, abs=0.1)
    text = cl.format_classification({**result, "duration_s": 60})
    assert "no heartbeat found" in text and "heart rate" not in text


def test_a_noisy_stretch_is_reported_and_not_labelled(data_dir, tmp_path):
    x = et.read_record("100", data_dir).signal[: 3 * 60 * FS].copy()
    rng = np.random.default_rng(0)
    x[60 * FS: 90 * FS] = 0.3 * rng.standard_normal(30 * FS)  # electrode off: noise
    x[120 * FS: 140 * FS] = x[120 * FS]  # a flat line
    result = cl.classify_signal(x, FS, **_loaded(tiny_model(tmp_path)))
    t = result["time_s"]
    assert not np.any((t > 61) & (t < 89)) and not np.any((t > 121) & (t < 139))
    reported = [(s, e) for s, e, _ in result["no_beat_stretches"]]
    assert any(s <= 61 and e >= 89 for s, e in reported), reported
    assert any(s <= 121 and e >= 139 for s, e in reported), reported
    ref = et.read_annotations("100", data_dir).beats().sample
    true_bpm = 60 / np.mean(np.diff(ref[ref < 3 * 60 * FS])) * FS
    assert abs(result["heart_rate_bpm"] - true_bpm) < 3


def test_heart_rate_does_not_span_gaps_and_refusals_have_reasons(data_dir, tmp_path):
    x = et.read_record("100", data_dir).signal[: 5 * 60 * FS].copy()
    for start in range(10 * FS, len(x) - 3 * FS, 5 * FS):
        x[start: start + 3 * FS] = np.nan  # 3 s invalid of every 5 s
    result = cl.classify_signal(x, FS, **_loaded(tiny_model(tmp_path)))
    ref = et.read_annotations("100", data_dir).beats().sample
    true_bpm = 60 / np.mean(np.diff(ref[ref < len(x)])) * FS
    assert abs(result["heart_rate_bpm"] - true_bpm) < 3, result["heart_rate_bpm"]
    refused = result["refused"]
    assert refused.get("invalid samples in the window", 0) > 50, refused
    assert result["n_detected"] == len(result["label"]) + sum(refused.values())
    text = cl.format_classification({**result, "duration_s": 300})
    assert "refused" in text and "invalid samples in the window" in text


def test_a_recording_shorter_than_the_wavelet_needs_is_refused_with_the_minimum(capsys,
                                                                                tmp_path, model):
    stem = write_wfdb(tmp_path, "short", synthetic_ecg(10))
    status, _, err = run_cli(capsys, "classify", stem, "--model", model)
    assert_one_line_error(status, err, "classify", "10.0 s", "at least 15.7 s")
    with pytest.raises(et.DataError, match=r"at least 15\.7 s"):
        cl.classify_signal(synthetic_ecg(10, fs=128), 128, **_loaded(model))


def test_a_recording_at_100_hz_is_classified(tmp_path):
    from scipy.signal import resample_poly

    x = resample_poly(synthetic_ecg(60), 100, FS)
    result = cl.classify_signal(x, 100, **_loaded(tiny_model(tmp_path)))
    assert len(result["label"]) >= 70 and abs(result["heart_rate_bpm"] - 75) < 1


# ----------------------------------------------------------------------------- 4. models


def test_two_concurrent_runs_train_the_default_model_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGTUT_CACHE", str(tmp_path / "cache"))
    calls = []

    def slow_fake(data_dir=None, **kw):
        calls.append(kw)
        time.sleep(1.0)
        return et.MultiScaleCNN(n_classes=4, n_features=5), {
            "classes": list("NSVF"), "fs": FS, "features": "beat+rr", "rr": RR_META,
            "recipe_version": deploy.DEFAULT_RECIPE_VERSION}

    monkeypatch.setattr(deploy, "train_model", slow_fake)
    said = [[], []]
    results = [None, None]

    def run(i):
        results[i] = deploy.default_model(progress=False, say=said[i].append)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    threads[0].start()
    time.sleep(0.3)
    threads[1].start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(calls) == 1
    assert all(r is not None for r in results)
    assert any("waiting" in line for line in said[1]), said
    assert results[0][2] == results[1][2] and results[1][2].is_file()


def test_a_default_model_path_that_is_a_folder_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECGTUT_CACHE", str(tmp_path))
    monkeypatch.setattr(deploy, "train_model", _must_not_run)
    deploy.default_model_path().mkdir(parents=True)
    with pytest.raises(et.DataError, match="is a folder"):
        deploy.default_model(progress=False, say=lambda m: None)
    stem = write_wfdb(tmp_path, "synth", synthetic_ecg(30))
    status, _, err = run_cli(capsys, "classify", stem, "--quiet")
    assert_one_line_error(status, err, "classify", "is a folder")


@pytest.mark.parametrize("meta, fragment", [
    ({"classes": list("NSVFQ")}, "5 classes"),
    ({"features": "beat"}, "features 'beat'"),
    ({"features": "beat+qrs"}, "features 'beat+qrs'"),
    ({"window": {"before": 0.3, "after": 0.5, "n_samples": 251}}, "window"),
    ({"fs": 0}, "fs"),
])
def test_load_model_checks_its_meta_against_the_network(capsys, tmp_path, synth, meta,
                                                         fragment):
    path = tiny_model(tmp_path, **meta)
    with pytest.raises(et.DataError, match=re.escape(fragment)) as info:
        deploy.load_model(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    status, _, err = run_cli(capsys, "classify", synth, "--model", path)
    assert_one_line_error(status, err, "classify", fragment)


# ----------------------------------------------------------------------------- 5. arguments


def test_an_empty_model_name_is_an_error(capsys, monkeypatch, synth):
    monkeypatch.setattr(deploy, "train_model", _must_not_run)  # not silently the default model
    with pytest.raises(SystemExit) as info:
        main(["classify", str(synth), "--model", ""])
    assert info.value.code == 2 and "--model needs a file name" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_n_ratio_must_be_a_finite_number(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["interpatient", "--n-ratio", value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "argument --n-ratio" in err and "Traceback" not in err


def test_a_detector_that_is_not_installed_is_named_before_the_run(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "neurokit2", None)  # as if not installed
    monkeypatch.setattr("ecgtut.detect_scoring.score_detector", _must_not_run)
    for detector in ("neurokit", "neurokit-pantompkins"):
        status, _, err = run_cli(capsys, "detect", "--detector", detector, "--quiet")
        assert_one_line_error(status, err, "detect", "neurokit2", "pip install neurokit2")
