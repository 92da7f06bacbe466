"""The ``ecgtut`` command: verify, download (wfdb faked), prepare, error reporting,
both entry points, and that the data commands never import torch.

Most tests call :func:`ecgtut.cli.main` in-process (fast, output via capsys); a
few run real processes to prove the entry points and the lazy imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest.mock import ANY

import pytest

import ecgtut
from ecgtut.cli import main

COUNTS_44 = {"N": 90081, "S": 2781, "V": 7008, "F": 802, "Q": 15}


def run_cli(capsys, *argv):
    """Run ``ecgtut ARGV...`` in-process; return (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, command, *fragments):
    """Exit status 2 and exactly one line on stderr, naming ``fragments``, no traceback."""
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ecgtut {command}: error: "), lines[0]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


# ----------------------------------------------------------------------------- verify


def test_verify_intact(capsys, mitdb_links):
    status, out, err = run_cli(capsys, "verify", "--data", mitdb_links)
    assert status == 0, err
    assert "all 144 files" in out and str(mitdb_links) in out
    assert err == ""


def test_verify_names_the_damaged_and_the_missing_file(capsys, mitdb_links, replace_file):
    dat = mitdb_links / "203.dat"
    data = bytearray(dat.read_bytes())
    data[123456] ^= 0x40  # one bit of one sample
    replace_file(dat, bytes(data))
    (mitdb_links / "117.hea").unlink()
    status, out, err = run_cli(capsys, "verify", "--data", mitdb_links)
    assert status == 1
    lines = err.strip().splitlines()
    assert f"mismatch: {mitdb_links / '203.dat'}" in lines
    assert f"missing: {mitdb_links / '117.hea'}" in lines
    assert "2 file(s) do not match" in lines[-1]
    assert len(lines) == 3 and out == ""


def test_verify_one_truncated_file(capsys, mitdb_links, replace_file):
    atr = mitdb_links / "100.atr"
    replace_file(atr, atr.read_bytes()[:-2])
    status, _, err = run_cli(capsys, "verify", "--data", mitdb_links)
    assert status == 1 and f"mismatch: {atr}" in err


# ----------------------------------------------------------------------------- download


def test_download_then_verify(capsys, fake_physionet, tmp_path):
    dest = tmp_path / "downloaded"
    status, out, err = run_cli(capsys, "download", "--data", dest, "--quiet")
    assert status == 0, err
    assert f"export ECGTUT_DATA={dest}" in out
    assert len(list(dest.glob("*.dat"))) == 48 and (dest / "SHA256SUMS.txt").is_file()
    status, out, _ = run_cli(capsys, "verify", "--data", dest)
    assert status == 0 and "all 144 files" in out


def test_download_corrupted_file(capsys, fake_physionet, tmp_path):
    fake_physionet["corrupt"] = "228.atr"
    status, _, err = run_cli(capsys, "download", "--data", tmp_path, "--quiet")
    assert_one_line_error(status, err, "download", "228.atr (mismatch)", "checksums")


def test_download_network_error(capsys, fake_physionet, tmp_path):
    fake_physionet["error"] = ConnectionError("Failed to resolve 'physionet.org'")
    status, out, err = run_cli(capsys, "download", "--data", tmp_path, "--quiet")
    assert_one_line_error(status, err, "download", "download from PhysioNet failed",
                          "physionet.org")
    assert out == ""


def test_download_error_with_progress_bar_ends_on_its_own_line(capsys, fake_physionet, tmp_path):
    fake_physionet["error"] = ConnectionError("Failed to resolve 'physionet.org'")
    status, _, err = run_cli(capsys, "download", "--data", tmp_path)
    assert status == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("ecgtut download: error: download from PhysioNet")


def test_download_folder_cannot_be_created(capsys, fake_physionet, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    status, out, err = run_cli(capsys, "download", "--data", blocker / "mitdb", "--quiet")
    assert_one_line_error(status, err, "download", "cannot create the download folder",
                          str(blocker / "mitdb"))
    assert out == ""


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("command", ["verify", "prepare"])
def test_database_folder_missing(capsys, tmp_path, command):
    status, _, err = run_cli(capsys, command, "--data", tmp_path / "no-such-folder")
    assert_one_line_error(status, err, command, "no-such-folder", "ecgtut download", "ECGTUT_DATA")


def test_database_folder_missing_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ECGTUT_DATA", str(tmp_path / "gone"))
    status, _, err = run_cli(capsys, "prepare", "--quiet")
    assert_one_line_error(status, err, "prepare", "gone (ECGTUT_DATA)", "ecgtut download")


def test_no_database_anywhere(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ECGTUT_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # not the user's own download
    status, _, err = run_cli(capsys, "verify")
    assert_one_line_error(status, err, "verify", "ecgtut download", "ECGTUT_DATA")


def test_signal_file_missing(capsys, mitdb_links):
    (mitdb_links / "101.dat").unlink()
    status, _, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100,101",
                             "--quiet")
    assert_one_line_error(status, err, "prepare", "record 101", "101.dat is missing")


def test_signal_file_truncated(capsys, mitdb_links, replace_file):
    dat = mitdb_links / "100.dat"
    replace_file(dat, dat.read_bytes()[:1_000_000])
    status, _, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100",
                             "--quiet")
    assert_one_line_error(status, err, "prepare", "record 100", "truncated",
                          "1000000 bytes, header needs 1950000")


@pytest.mark.parametrize("header", [b"", b"garbage\r\n"])
def test_header_unreadable(capsys, mitdb_links, replace_file, header):
    replace_file(mitdb_links / "100.hea", header)
    status, _, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100",
                             "--quiet")
    assert_one_line_error(status, err, "prepare", "record 100: header cannot be read")


def test_annotations_missing(capsys, mitdb_links):
    (mitdb_links / "100.atr").unlink()
    status, _, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100",
                             "--quiet")
    assert_one_line_error(status, err, "prepare", "100.atr is missing")


def test_unknown_record(capsys, data_dir):
    status, _, err = run_cli(capsys, "prepare", "--data", data_dir, "--records", "999", "--quiet")
    assert_one_line_error(status, err, "prepare", "record 999", "100 to 234")


def test_error_after_progress_bar_is_on_its_own_line(capsys, data_dir):
    status, _, err = run_cli(capsys, "prepare", "--data", data_dir, "--records", "999")
    assert status == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("ecgtut prepare: error: record 999")


def test_usage_errors_exit_2(capsys):
    for argv in ([], ["frobnicate"], ["prepare", "--bogus"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert "usage: ecgtut" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["--folds", "1"], "argument --folds: must be at least 2, got 1"),
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--folds", "five"], "argument --folds: expected a whole number, got 'five'"),
    # fold k of seed s uses seed s * folds + k, which NumPy wants below 2**32
    (["--seed", "858993459"],
     "argument --seed: must be from 0 to 858993458 with 5 folds, got 858993459"),
    (["--seed", "2147483648", "--fast"],
     "argument --seed: must be from 0 to 2147483647 with 2 folds, got 2147483648"),
    (["--seed", "429496729", "--folds", "10"],
     "argument --seed: must be from 0 to 429496728 with 10 folds"),
])
def test_reproduce_rejects_bad_numbers_before_running(capsys, monkeypatch, argv, fragment):
    monkeypatch.setattr("ecgtut.experiment.reproduce", _must_not_run)
    with pytest.raises(SystemExit) as info:
        main(["reproduce", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert f"ecgtut reproduce: error: {fragment}" in err


def _must_not_run(*args, **kwargs):
    raise AssertionError("the run started although its arguments were wrong")


@pytest.mark.parametrize("command", ["prepare", "reproduce"])
def test_json_target_checked_before_the_run(capsys, monkeypatch, tmp_path, command):
    monkeypatch.setattr("ecgtut.experiment.reproduce", _must_not_run)
    monkeypatch.setattr("ecgtut.cache.load_beats", _must_not_run)
    missing = tmp_path / "no_such_folder" / "out.json"
    status, _, err = run_cli(capsys, command, "--json", missing)
    assert_one_line_error(status, err, command, "cannot write --json", "does not exist",
                          str(tmp_path / "no_such_folder"))
    status, _, err = run_cli(capsys, command, "--json", tmp_path)
    assert_one_line_error(status, err, command, "it is a folder")


def test_json_target_with_a_tilde_means_the_home_folder(capsys, monkeypatch, tmp_path, data_dir):
    """The shell leaves '~' alone in --json=~/x.json or in quotes: ecgtut expands it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    status, _, err = run_cli(capsys, "prepare", "--data", data_dir, "--records", "100",
                             "--no-cache", "--quiet", "--json=~/counts.json")
    assert status == 0, err
    assert json.loads((tmp_path / "counts.json").read_text())["beats"] == 2271


def test_interrupt(capsys, monkeypatch, data_dir):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("ecgtut.cache.load_beats", interrupted)
    status, _, err = run_cli(capsys, "prepare", "--data", data_dir)
    assert status == 130 and err.strip() == "interrupted"


# ----------------------------------------------------------------------------- prepare


def test_prepare_json(capsys, tmp_path, data_dir, beats):
    # ``beats`` built the cache of these parameters, so this reloads it.
    out_json = tmp_path / "counts.json"
    status, out, err = run_cli(capsys, "prepare", "--data", data_dir, "--json", out_json,
                               "--quiet")
    assert status == 0, err
    report = json.loads(out_json.read_text())
    assert set(report) == {"counts", "records", "beats", "dropped", "skipped", "invalid_samples",
                           "refused", "seconds"}
    assert report["invalid_samples"] == report["refused"] == 0  # MIT-BIH marks no sample invalid
    assert report["counts"] == COUNTS_44 and list(report["counts"]) == list("NSVFQ")
    assert report["records"] == 44
    assert report["beats"] == 100687
    assert report["dropped"] == 46
    assert report["skipped"] == 2991
    assert isinstance(report["seconds"], float) and 0 <= report["seconds"] < 60
    assert "100687 beats from 44 records (cache" in out
    assert "dropped at record ends: 46; non-beat annotations skipped: 2991" in out
    assert "N        90081" in out and "total   100687" in out


def test_prepare_some_records_without_cache(capsys, tmp_path, data_dir):
    out_json = tmp_path / "counts.json"
    argv = ["prepare", "--data", data_dir, "--records", "100, 103", "--json", out_json, "--quiet"]
    sources = []
    for extra in ([], [], ["--no-cache"]):
        status, out, _ = run_cli(capsys, *argv, *extra)
        assert status == 0
        sources.append(out.split("(")[1].split(",")[0])
    assert sources == ["records", "cache", "records"]
    report = json.loads(out_json.read_text())
    assert report["records"] == 2 and report["dropped"] == 3
    # annotated N beats: 2239 in 100 (both end beats dropped), 2082 in 103 (last one dropped)
    assert report["counts"] == {"N": 2237 + 2081, "S": 33 + 2, "V": 1, "F": 0, "Q": 0}
    # a record named twice is used once (same set, so the cached one)
    argv[argv.index("100, 103")] = "100,103,100"
    status, out, _ = run_cli(capsys, *argv)
    assert status == 0 and "(cache," in out
    assert json.loads(out_json.read_text()) == {**report, "seconds": ANY}


def test_prepare_record_without_beats(capsys, mitdb_links, replace_file):
    replace_file(mitdb_links / "100.atr", b"\x00\x00")  # an annotation file with no annotation
    status, out, err = run_cli(capsys, "prepare", "--data", mitdb_links, "--records", "100",
                               "--quiet")
    assert status == 0, err
    assert "0 beats from 1 records" in out and "0.00%" in out


def test_prepare_record_at_250_hz(capsys, mitdb_250hz, tmp_path):
    """Our documented choice: a record at another frequency is resampled to 360 Hz."""
    out_json = tmp_path / "counts.json"
    status, out, err = run_cli(capsys, "prepare", "--data", mitdb_250hz, "--records", "100",
                               "--json", out_json, "--quiet")
    assert status == 0, err
    report = json.loads(out_json.read_text())
    assert report["beats"] == 2271 and report["dropped"] == 2
    bs = ecgtut.load_beats(mitdb_250hz, records=["100"], progress=False)
    assert bs.params["cached"] is True  # the very set ``prepare`` built
    assert bs.fs == 360 and bs.X.shape == (2271, 251)


# ----------------------------------------------------------------------------- processes


def _env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_python_m_ecgtut_help():
    proc = subprocess.run([sys.executable, "-m", "ecgtut", "--help"], capture_output=True,
                          text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ecgtut")
    for command in ("download", "verify", "prepare", "reproduce"):
        assert command in proc.stdout


def test_console_script(tmp_path):
    script = shutil.which("ecgtut", path=str(Path(sys.executable).parent))
    assert script, "the ecgtut console script is not installed (pip install -e .)"
    proc = subprocess.run([script, "verify", "--data", str(tmp_path / "absent")],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ecgtut verify: error: database folder not found")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_data_commands_do_not_import_torch(data_dir):
    code = textwrap.dedent(f"""
        import json, sys
        import ecgtut
        ecgtut.load_beats
        after_import = "torch" in sys.modules
        from ecgtut.cli import main
        status = [main(["verify", "--data", {str(data_dir)!r}]),
                  main(["prepare", "--data", {str(data_dir)!r}, "--records", "100", "--quiet"])]
        print(json.dumps([after_import, status, "torch" in sys.modules]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    after_import, status, after_commands = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status == [0, 0]
    assert after_import is False, "import ecgtut imported torch"
    assert after_commands is False, "ecgtut verify/prepare imported torch"


# Imported by the functions that need them, never at start-up (see bench_startup.py)
HEAVY = ("wfdb", "pandas", "scipy", "pywt", "tqdm", "sklearn", "torch", "matplotlib")


def _modules_after(code):
    """The HEAVY modules imported by ``code``, run in a fresh interpreter."""
    code = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_start_up_imports_nothing_heavy():
    # what ``ecgtut COMMAND --help`` runs; the flat namespace resolves without loading a module
    loaded = _modules_after("""
        import contextlib, io
        import ecgtut
        ecgtut.read_record, ecgtut.denoise_wavelet, ecgtut.load_beats, ecgtut.RECORDS
        from ecgtut.cli import main
        for command in ([], ["download"], ["verify"], ["prepare"], ["reproduce"]):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
                main([*command, "--help"])
    """)
    assert loaded == []


def test_prepare_imports_only_what_it_uses(data_dir):
    # building: wfdb to read, pywt to denoise, scipy.signal to resample
    code = f"""
        from ecgtut.cli import main
        assert main(["prepare", "--data", {str(data_dir)!r}, "--records", "100", "--quiet",
                     "--no-cache"]) == 0
    """
    assert set(_modules_after(code)) <= {"wfdb", "pandas", "scipy", "pywt"}  # pandas: wfdb's
    # from the cache: nothing but numpy
    cached = f"""
        from ecgtut.cli import main
        main(["prepare", "--data", {str(data_dir)!r}, "--records", "100", "--quiet"])
    """
    _modules_after(cached)  # builds the cache
    assert _modules_after(cached) == []
