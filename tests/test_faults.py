"""Faults and bad input: nothing silent, nothing lost, every run recovers by itself.

One section per case of issue 15, each written as the failing case first: a
damaged or unreadable beat cache, leftovers of interrupted cache writes,
invalid (NaN) samples, an unreadable file under ``verify``, output files that
cannot be written, a closed pipe, checkpoints that cannot be read back, and
the smaller argument slips.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch
import wfdb

import ecgtut
from ecgtut.cli import main
from ecgtut.database import DataError, DataWarning


def run_cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECGTUT_CACHE", str(folder))
    return folder


def _only_npz(folder):
    files = sorted(folder.glob("beats-*.npz"))
    assert len(files) == 1, files
    return files[0]


# ----------------------------------------------------------------------------- 1. damaged cache


def _truncate(p):
    p.write_bytes(p.read_bytes()[:1000])


def _zero(p):
    p.write_bytes(bytes(p.stat().st_size))


def _flip(p):
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the X array: the zip's CRC no longer matches
    p.write_bytes(bytes(data))


def _empty(p):
    p.write_bytes(b"")


@pytest.mark.parametrize("damage", [_truncate, _zero, _flip, _empty],
                         ids=["truncated", "zeroed", "bit-flipped", "empty"])
def test_a_damaged_cache_is_reported_and_rebuilt(data_dir, cache, damage):
    first = ecgtut.load_beats(data_dir, records=["100"], progress=False)
    path = _only_npz(cache)
    damage(path)
    with pytest.warns(DataWarning, match=rf"beat cache {path.name} is damaged .*rebuilding"):
        again = ecgtut.load_beats(data_dir, records=["100"], progress=False)
    assert again.params["cached"] is False
    np.testing.assert_array_equal(again.X, first.X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired: the next run reads it without a word
        assert ecgtut.load_beats(data_dir, records=["100"], progress=False).params["cached"]


def test_an_unreadable_cache_is_reported_and_replaced(data_dir, cache, monkeypatch):
    ecgtut.load_beats(data_dir, records=["100"], progress=False)
    path = _only_npz(cache)
    real_load = np.load

    def no_permission(file, *a, **kw):  # chmod 000 stops every user but root
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_load(file, *a, **kw)

    monkeypatch.setattr(np, "load", no_permission)
    with pytest.warns(DataWarning, match="Permission denied"):
        bs = ecgtut.load_beats(data_dir, records=["100"], progress=False)
    assert bs.params["cached"] is False and len(bs) == 2271


def test_prepare_rebuilds_a_damaged_cache_with_one_warning_line(capsys, data_dir, cache):
    assert run_cli(capsys, "prepare", "--data", data_dir, "--records", "100", "--quiet")[0] == 0
    _truncate(_only_npz(cache))
    status, out, err = run_cli(capsys, "prepare", "--data", data_dir, "--records", "100",
                               "--quiet")
    assert status == 0 and "2271 beats from 1 records (records" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecgtut prepare: warning: beat cache ")
    assert "Traceback" not in err
    status, out, err = run_cli(capsys, "prepare", "--data", data_dir, "--records", "100",
                               "--quiet")
    assert status == 0 and "(cache," in out and err == ""


# ----------------------------------------------------------------------------- 6. leftovers


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # finished and reaped: no process has this number now (or soon)


def test_leftovers_of_interrupted_writes_are_cleaned_safely(data_dir, cache):
    cache.mkdir()
    host = socket.gethostname()
    dead = cache / f".tmp-{host}-{_dead_pid()}-abc.npz"        # its writer was killed
    alive = cache / f".tmp-{host}-{os.getpid()}-def.npz"       # a run writing right now
    other_host = cache / ".tmp-elsewhere-1-ghi.npz"            # a run on another machine
    old = cache / ".tmp-jkl.npz"                               # an old-style name, 2 days old
    for p in (dead, alive, other_host, old):
        p.write_bytes(b"x" * 100)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    ecgtut.load_beats(data_dir, records=["100"], progress=False)
    left = {p.name for p in cache.iterdir() if p.name.startswith(".tmp-")}
    assert left == {alive.name, other_host.name}


def test_cache_writes_name_their_writer_and_are_readable_by_the_group(data_dir, cache,
                                                                      monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    old_umask = os.umask(0o022)
    try:
        ecgtut.load_beats(data_dir, records=["100"], progress=False)
    finally:
        os.umask(old_umask)
    assert seen and seen[0].startswith(f".tmp-{socket.gethostname()}-{os.getpid()}-")
    mode = stat.S_IMODE(_only_npz(cache).stat().st_mode)
    assert mode == 0o644  # 0o666 less the umask: group and others may read a shared cache


# ----------------------------------------------------------------------------- 2. invalid samples


@pytest.fixture
def record_with_a_gap(data_dir, tmp_path):
    """Record 100 rewritten with wfdb.wrsamp, its MLII NaN from 60.0 s to 62.0 s."""
    folder = tmp_path / "gap"
    folder.mkdir()
    rec = wfdb.rdrecord(str(data_dir / "100"), physical=False)
    d = rec.d_signal.copy()
    gap = slice(60 * 360, 62 * 360)
    d[gap, 0] = -2048  # fmt 212's invalid-sample marker: read back as NaN
    wfdb.wrsamp("100", fs=360, units=rec.units, sig_name=rec.sig_name, d_signal=d,
                fmt=rec.fmt, adc_gain=rec.adc_gain, baseline=rec.baseline,
                write_dir=str(folder))
    (folder / "100.atr").symlink_to((data_dir / "100.atr").resolve())
    return folder, gap


def test_invalid_samples_are_counted_when_read(record_with_a_gap):
    folder, gap = record_with_a_gap
    rec = ecgtut.read_record("100", folder)
    assert rec.n_invalid == 720 and np.isnan(rec.signal[gap]).all()
    with pytest.raises(ValueError, match="720 invalid samples"):
        ecgtut.denoise_signal(rec.signal, rec.fs)  # never spread over the whole record


def test_beats_over_invalid_samples_are_refused_and_counted(data_dir, record_with_a_gap):
    folder, gap = record_with_a_gap
    clean = ecgtut.beats_from_record("100", data_dir)
    bs = ecgtut.beats_from_record("100", folder)
    assert np.isfinite(bs.X).all()
    assert bs.invalid_samples == {"100": 720}
    before, after = ecgtut.DEFAULT_WINDOW.samples_at(360)
    touching = (clean.r_peak + after > gap.start) & (clean.r_peak - before < gap.stop)
    assert bs.refused == {"100": int(touching.sum())} and touching.sum() >= 2
    assert len(bs) == len(clean) - touching.sum()
    np.testing.assert_array_equal(bs.r_peak, clean.r_peak[~touching])
    far = np.abs(clean.r_peak[~touching] - gap.start) > 30 * 360  # beyond the denoiser's reach
    np.testing.assert_allclose(bs.X[far], clean.X[~touching][far], atol=1e-5)


def test_prepare_reports_invalid_samples(capsys, record_with_a_gap, cache, tmp_path):
    folder, _ = record_with_a_gap
    out_json = tmp_path / "counts.json"
    status, out, err = run_cli(capsys, "prepare", "--data", folder, "--records", "100",
                               "--quiet", "--json", out_json)
    assert status == 0, err
    assert "invalid samples: 720 in 1 record(s)" in out
    counts = json.loads(out_json.read_text())
    assert counts["invalid_samples"] == 720 and counts["refused"] >= 2


def test_the_model_and_predict_refuse_non_finite_beats():
    X = np.zeros((4, 251), dtype=np.float32)
    X[2, 100] = np.nan
    net = ecgtut.MultiScaleCNN(n_classes=4)
    with pytest.raises(ValueError, match=r"1 beat\(s\) hold non-finite values \(first: beat 2\)"):
        ecgtut.predict(net, X)
    with pytest.raises(ValueError, match="non-finite"):
        net(torch.as_tensor(X))
    X[2, 100] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        ecgtut.BeatDataset(X, np.zeros(4, dtype=int))


# ----------------------------------------------------------------------------- 3. verify


def test_verify_names_an_unreadable_file_and_goes_on(capsys, mitdb_links, monkeypatch):
    from pathlib import Path

    target = mitdb_links / "105.dat"
    real = Path.read_bytes

    def read_bytes(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    (mitdb_links / "117.hea").unlink()
    status, out, err = run_cli(capsys, "verify", "--data", mitdb_links)
    assert status == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert f"unreadable (Permission denied): {target}" in lines
    assert f"missing: {mitdb_links / '117.hea'}" in lines  # it went on after the bad file
    problems = ecgtut.verify_mitdb(mitdb_links, ["105"])
    assert problems == {"105.dat": "unreadable (Permission denied)"}


def test_prepare_warns_when_a_file_fails_its_checksum(capsys, mitdb_links, replace_file, cache):
    dat = mitdb_links / "100.dat"
    data = bytearray(dat.read_bytes())
    data[123456] ^= 0x40  # one bit of one sample: still readable, no longer PhysioNet's file
    replace_file(dat, bytes(data))
    status, out, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100",
                               "--quiet")
    assert status == 0 and "2271 beats" in out  # a warning, not a refusal
    assert err == f"ecgtut prepare: warning: {dat} does not match PhysioNet's checksum\n"


# ----------------------------------------------------------------------------- 4., 5. output files


def _fake_reproduce(monkeypatch):
    monkeypatch.setattr("ecgtut.experiment.reproduce", lambda *a, **kw: {"accuracy": 0.99})
    monkeypatch.setattr("ecgtut.experiment.format_reproduce_report", lambda r: "report")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_results_that_cannot_be_written_are_kept_elsewhere(capsys, monkeypatch, cache):
    _fake_reproduce(monkeypatch)
    status, out, err = run_cli(capsys, "reproduce", "--fast", "--json", "/dev/full")
    assert status == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("ecgtut reproduce: error: cannot write --json /dev/full (")
    saved = line.rsplit("the results are in ", 1)[1]
    assert json.loads(open(saved).read()) == {"accuracy": 0.99}
    assert out == "report\n"


def test_a_read_only_json_target_is_refused_before_the_run(capsys, monkeypatch, tmp_path):
    target = tmp_path / "old.json"
    target.write_text("{}")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(target)
                        else real_access(p, mode))  # what chmod 444 does to anyone but root
    monkeypatch.setattr("ecgtut.experiment.reproduce", lambda *a, **kw: pytest.fail("ran"))
    status, _, err = run_cli(capsys, "reproduce", "--fast", "--json", target)
    assert status == 2 and f"cannot write --json {target}: the file is not writable" in err


@pytest.mark.parametrize(("value", "fragment"), [
    ("", "--json needs a file name"),
    ("nodir/", "ends with '/'"),
])
def test_bad_json_names_are_refused(capsys, value, fragment):
    with pytest.raises(SystemExit) as info:
        main(["prepare", "--json", value])
    assert info.value.code == 2 and fragment in capsys.readouterr().err


def test_records_must_name_a_record(capsys):
    with pytest.raises(SystemExit) as info:
        main(["prepare", "--records", ","])
    assert info.value.code == 2 and "--records names no record" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly_with_the_files_written(data_dir, tmp_path):
    out_json = tmp_path / "out.json"
    env = {**os.environ, "ECGTUT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecgtut", "prepare", "--data", str(data_dir), "--records", "100",
         "--quiet", "--json", str(out_json)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # `| head -0`: nobody reads what it prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert json.loads(out_json.read_text())["beats"] == 2271


# ----------------------------------------------------------------------------- 7. checkpoints


def test_save_checkpoint_converts_numpy_scalars_and_paths(tmp_path):
    path = tmp_path / "net.pt"
    meta = {"acc": np.float64(0.99), "fold": np.int64(3), "data": tmp_path,
            "scores": [np.float32(0.5), 1], "nested": {"ok": np.bool_(True)}}
    ecgtut.save_checkpoint(path, ecgtut.MultiScaleCNN(n_classes=4), meta=meta)
    _, loaded = ecgtut.load_checkpoint(path)
    assert loaded == {"acc": 0.99, "fold": 3, "data": str(tmp_path), "scores": [0.5, 1],
                      "nested": {"ok": True}}
    assert type(loaded["acc"]) is float and type(loaded["fold"]) is int


def test_save_checkpoint_refuses_what_cannot_be_loaded(tmp_path):
    path = tmp_path / "net.pt"
    with pytest.raises(TypeError, match=r"meta\['model'\]\[0\]: object"):
        ecgtut.save_checkpoint(path, ecgtut.MultiScaleCNN(), meta={"model": [object()]})
    assert not path.exists()  # refused before anything was written


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 half an archive", b"not a checkpoint"],
                         ids=["empty", "truncated", "garbage"])
def test_a_damaged_checkpoint_is_named_in_one_line(tmp_path, content):
    path = tmp_path / "net.pt"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        ecgtut.load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"checkpoint {path}: ") and "\n" not in message
    assert "cannot be read" in message


def test_a_truncated_real_checkpoint_is_named(tmp_path):
    path = tmp_path / "net.pt"
    ecgtut.save_checkpoint(path, ecgtut.MultiScaleCNN())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=f"checkpoint {path}: cannot be read"):
        ecgtut.load_checkpoint(path)
