"""Chapter 08: scoring the detector, training a model to deploy, classifying any WFDB record."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import ecgtut as et
from ecgtut import classify as cl
from ecgtut import deploy
from ecgtut.data import Annotations
from ecgtut.detect_scoring import flutter_episodes, score_detections, score_detector


@pytest.fixture(scope="module")
def model(data_dir, tmp_path_factory):
    """A model trained in fast mode (3000 DS1 beats, 2 epochs), saved and loaded back."""
    net, meta = deploy.train_model(data_dir, fast=True, progress=False)
    path = tmp_path_factory.mktemp("model") / "fast.pt"
    deploy.save_model(path, net, meta)
    return path


def _write(tmp_path, name, signal, fs, units="mV"):
    import wfdb

    wfdb.wrsamp(name, fs=fs, units=[units], sig_name=["MLII"], p_signal=signal[:, None],
                fmt=["16"], adc_gain=[400.0], baseline=[0], write_dir=str(tmp_path))
    return str(tmp_path / name)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "ecgtut", *args], capture_output=True,
                          text=True, timeout=600)


# ----------------------------------------------------------------------------- detector scoring


def test_score_detections_counts_and_exclusion():
    s = score_detections([100, 460, 820, 1180], [104, 830, 1000, 1190], fs=360,
                         exclude=np.array([[950, 1200]]))
    assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 1)  # 1000, 1180 and 1190 are left out
    assert score_detections([], [5], 360)["se"] is None


def test_flutter_of_record_207(data_dir):
    episodes = flutter_episodes(et.read_annotations("207", data_dir))
    assert len(episodes) == 6
    assert 130 < (episodes[:, 1] - episodes[:, 0]).sum() / 360 < 160  # about 144 s


def test_score_detector_on_two_records(data_dir):
    r = score_detector(data_dir, ["100", "207"], progress=False)
    assert set(r) >= {"se", "ppv", "records", "per_record", "flutter_included", "seconds"}
    assert r["se"] > 0.99 and r["ppv"] > 0.99
    assert r["flutter_included"]["ppv"] < r["ppv"]  # flutter waves counted as false beats
    assert r["per_record"]["100"]["fp"] + r["per_record"]["100"]["fn"] <= 2


# ----------------------------------------------------------------------------- classify


@pytest.mark.parametrize("fs", [250, 500])
def test_classify_a_record_at_another_rate_gain_and_noise(data_dir, model, tmp_path, fs):
    from scipy.signal import resample_poly

    rec = et.read_record("100", data_dir)
    n = 5 * 60 * 360  # five minutes
    x = resample_poly(rec.signal[:n], fs, 360)
    t = np.arange(len(x)) / fs
    x = 2.5 * x + 0.4 * np.sin(2 * np.pi * 0.2 * t) + 0.05 * np.sin(2 * np.pi * 60 * t)
    stem = _write(tmp_path, f"r{fs}", x, fs)
    net, meta = deploy.load_model(model)
    result = cl.classify_record(stem, net=net, meta=meta)
    assert result["fs"] == fs and result["sample"].max() < len(x)
    ann = et.read_annotations("100", data_dir, fs=fs)
    ann = Annotations(ann.sample[ann.sample < len(x)], ann.symbol[ann.sample < len(x)],
                              fs)
    a = cl.agreement(result, ann)
    assert a["se"] > 0.99 and a["ppv"] > 0.99, a
    assert np.sum(a["confusion"]) >= 0.99 * len(ann.beats().sample)


def test_chunked_detection_matches_the_unsplit_signal(data_dir):
    rec = et.read_record("208", data_dir)  # many V beats: seams fall near abnormal beats too
    x = rec.signal[: 12 * 60 * 360]
    whole = cl.detect_in_chunks(x, 360, chunk_s=1e9)
    chunked = cl.detect_in_chunks(x, 360, chunk_s=90, margin_s=20)  # 8 seams
    assert len(chunked) == len(whole)
    assert np.array_equal(chunked, whole)


def test_classify_cli_json_annotations_and_plot(data_dir, model, tmp_path):
    import wfdb

    out = tmp_path / "r.json"
    png = tmp_path / "r.png"
    proc = _run("classify", "100", "--data", str(data_dir), "--model", str(model), "--json",
                str(out), "--write-ann", "tst", "--ann-dir", str(tmp_path), "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "beats per class" in proc.stdout and "detection Se" in proc.stdout
    r = json.loads(out.read_text())
    assert r["fs"] == 360 and len(r["beats"]) > 2200
    assert set(r["beats"][0]) == {"sample", "time_s", "label", "prob"}
    ann = wfdb.rdann(str(tmp_path / "100"), "tst")
    assert len(ann.sample) == len(r["beats"]) and set(ann.symbol) <= {"N", "A", "V", "F", "Q"}
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("case, message", [
    ("missing", "not found"),
    ("lead", "no lead 'V9'"),
    ("flat", "flat"),
    ("nan", "no valid sample"),
    ("short", "shorter than one beat window"),
])
def test_classify_bad_input_is_one_line(tmp_path, model, case, message):
    fs = 360
    stem = {"missing": str(tmp_path / "nothing"),
            "lead": _write(tmp_path, "lead", np.sin(np.arange(3600) / 50), fs),
            "flat": _write(tmp_path, "flat", np.zeros(20 * fs), fs),
            "nan": _write(tmp_path, "nan", np.full(20 * fs, np.nan), fs),
            "short": _write(tmp_path, "short", np.sin(np.arange(200) / 10), fs)}[case]
    extra = ["--lead", "V9"] if case == "lead" else []
    proc = _run("classify", stem, "--model", str(model), *extra)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_load_model_refuses_a_plain_checkpoint(tmp_path):
    path = tmp_path / "plain.pt"
    et.save_checkpoint(path, et.MultiScaleCNN(n_classes=4))
    with pytest.raises(et.DataError, match="not a deployable model"):
        deploy.load_model(path)


def test_detect_and_train_cli(data_dir, tmp_path):
    out = tmp_path / "d.json"
    proc = _run("detect", "--data", str(data_dir), "--records", "100,101", "--quiet", "--json",
                str(out))
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert set(r["per_record"]) == {"100", "101"} and r["se"] > 0.99
    model = tmp_path / "m.pt"
    proc = _run("train", "--data", str(data_dir), "--fast", "--quiet", "--save", str(model))
    assert proc.returncode == 0, proc.stderr
    net, meta = deploy.load_model(model)
    assert meta["features"] == "adaptive" and set(meta["records"]) <= set(et.DS1)
    assert type(net).__name__ == "AdaptiveEnsemble" and meta["recipe_version"] == 2


def test_default_model_is_trained_once_then_cached(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ECGTUT_CACHE", str(tmp_path))
    real = deploy.train_model
    calls, said = [], []

    def fast(data_dir=None, **kw):
        calls.append(kw)
        return real(data_dir, fast=True, progress=False)

    monkeypatch.setattr(deploy, "train_model", fast)
    net, meta, path = deploy.default_model(data_dir, progress=False, say=said.append)
    assert len(calls) == 1 and path.is_file() and path.is_relative_to(tmp_path)
    assert "training the default model on the 22 DS1 records" in said[0]
    net2, meta2, _ = deploy.default_model(data_dir, progress=False, say=said.append)
    assert len(calls) == 1 and len(said) == 1 and meta2 == meta  # loaded, not trained again
    path.write_bytes(b"damaged")
    deploy.default_model(data_dir, progress=False, say=said.append)
    assert len(calls) == 2 and "training it again" in said[1]


def test_a_model_for_all_44_records_passes_the_guard_on_purpose(beats):
    net, meta = deploy.train_model(beats=beats, split="all", fast=True, progress=False)
    assert set(meta["records"]) & set(et.DS2) and set(meta["records"]) & set(et.DS1)
    with pytest.raises(ValueError, match="split must be"):
        deploy.train_model(beats=beats, split="ds2", fast=True, progress=False)
