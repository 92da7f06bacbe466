"""Shared fixtures of the ecgtut test suite.

The data tests run on the real MIT-BIH database, found through ``ECGTUT_DATA``
(e.g. ``ECGTUT_DATA=../shared/mitdb pytest``). Without it they are skipped,
except in CI (``CI=true``) or with ``ECGTUT_REQUIRE_DATA=1``, where a missing
database is an error: a green run there must mean the data tests really ran.

Derived files never go to the user's cache: every session gets its own
``ECGTUT_CACHE`` in a temporary folder.

Synthetic beats for the model tests come from :func:`synthetic_beats`
(``from conftest import synthetic_beats``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

import ecgtut


def _data_required():
    return (
        os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
        or os.environ.get("ECGTUT_REQUIRE_DATA", "").strip() == "1"
    )


def _no_data(reason):
    if _data_required():
        pytest.fail(
            f"MIT-BIH is required here (CI=true or ECGTUT_REQUIRE_DATA=1) but {reason}; "
            "set ECGTUT_DATA to a folder holding the database (e.g. ../shared/mitdb, "
            "or the folder 'ecgtut download' wrote)",
            pytrace=False,
        )
    pytest.skip(f"MIT-BIH not available: {reason} (set ECGTUT_DATA to run the data tests)")


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """Point ``ECGTUT_CACHE`` to a folder of this session, for the whole session."""
    folder = tmp_path_factory.mktemp("ecgtut-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECGTUT_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def data_dir():
    """The MIT-BIH folder from ``ECGTUT_DATA``; skips (or fails in CI) when absent."""
    value = os.environ.get("ECGTUT_DATA")
    if not value:
        _no_data("ECGTUT_DATA is not set")
    path = Path(value)
    if not path.is_dir():
        _no_data(f"ECGTUT_DATA={value} is not a folder")
    if not (path / "100.hea").is_file():
        _no_data(f"ECGTUT_DATA={value} holds no MIT-BIH record (no 100.hea)")
    before = _listing(path)
    yield path
    # The tests damage copies and links, never the database: check it at the end.
    assert _listing(path) == before, f"the test session modified the database in {path}"


def _listing(folder):
    """Name, size and modification time of every entry of ``folder``."""
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


@pytest.fixture(scope="session")
def beats(data_dir, _session_cache):
    """The beat set of the 44 records with the default parameters, built once per session."""
    return ecgtut.load_beats(data_dir, progress=False)


@pytest.fixture
def mitdb_links(data_dir, tmp_path):
    """A writable stand-in for the database folder: one symlink per file of ``data_dir``.

    Cheap to build for every test. To damage a file, first ``unlink()`` its link,
    then write a real file in its place -- never open a link for writing, that
    would write through to the database itself.
    """
    folder = tmp_path / "mitdb"
    folder.mkdir()
    for src in sorted(data_dir.iterdir()):
        if src.is_file():
            (folder / src.name).symlink_to(src.resolve())
    return folder


def replace_link(path, data):
    """Swap the symlink ``path`` for a real file holding ``data`` (bytes)."""
    path = Path(path)
    assert path.is_symlink(), f"{path} is not one of mitdb_links' symlinks"
    path.unlink()
    path.write_bytes(data)


@pytest.fixture
def replace_file():
    """``replace_file(path, data)``: swap a link of :func:`mitdb_links` for a real file."""
    return replace_link


@pytest.fixture
def mitdb_250hz(data_dir, tmp_path):
    """A folder holding record 100 whose header says 250 Hz instead of 360 Hz.

    The signal and annotation files are the real ones (linked); only the
    header's sampling frequency differs, so the record lasts 2600 s at 250 Hz.
    """
    folder = tmp_path / "mitdb250"
    folder.mkdir()
    header = (data_dir / "100.hea").read_bytes()
    first, sep, rest = header.partition(b"\r\n")
    assert first.split() == [b"100", b"2", b"360", b"650000"], first
    (folder / "100.hea").write_bytes(b"100 2 250 650000" + sep + rest)
    for ext in ("dat", "atr"):
        (folder / f"100.{ext}").symlink_to((data_dir / f"100.{ext}").resolve())
    return folder


@pytest.fixture
def fake_physionet(data_dir, monkeypatch):
    """Replace wfdb's download functions with copies from the local mirror.

    Returns a dict of switches: ``corrupt`` (a file name to damage on "download")
    and ``error`` (an exception to raise instead of downloading); ``calls`` lists
    what was requested.
    """
    state = {"corrupt": None, "error": None, "calls": []}

    def fetch(name, dl_dir):
        if state["error"] is not None:
            raise state["error"]
        target = dl_dir / name
        shutil.copyfile(data_dir / name, target)
        if name == state["corrupt"]:
            data = bytearray(target.read_bytes())
            data[len(data) // 2] ^= 0xFF
            target.write_bytes(bytes(data))

    def dl_database(db_dir, dl_dir, records="all", annotators="all", keep_subdirs=True,
                    overwrite=False):
        assert db_dir == "mitdb"
        state["calls"].append(("dl_database", records, annotators))
        records = ecgtut.RECORDS_ALL if records == "all" else records
        annotators = ["atr"] if annotators == "all" else list(annotators or [])
        for r in records:
            for ext in ["hea", "dat", *annotators]:
                fetch(f"{r}.{ext}", Path(dl_dir))

    def dl_files(db, dl_dir, files, keep_subdirs=True, overwrite=False):
        assert db == "mitdb"
        state["calls"].append(("dl_files", list(files)))
        for name in files:
            fetch(name, Path(dl_dir))

    monkeypatch.setattr(wfdb, "dl_database", dl_database)
    monkeypatch.setattr(wfdb, "dl_files", dl_files)
    return state


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a test module's tiny PyTorch models on one thread (fastest, and no oversubscription)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def synthetic_beats(n=600, n_classes=3, seed=0, spacing=0.1, jitter=0.0, noise=0.3, p=None):
    """Beats of ``n_classes`` classes: a Gaussian bump whose position and width give the class.

    Bumps of class ``c`` sit at ``0.3 + spacing * c`` (fraction of the
    251-sample beat), each moved by a random ``N(0, jitter)``; ``noise`` is the
    std of the white noise (mV) on a bump of 3 mV, and every beat gets a random
    offset. ``p``: class proportions (default 0.6 for class 0, the rest shared
    equally; MIT-BIH-like for 4 classes: ``[0.7, 0.1, 0.15, 0.05]``). The
    defaults are an easy task; ``spacing=0.02, jitter=0.03, noise=1.0`` one that
    3 short epochs cannot learn perfectly.

    Returns ``X`` (n, 251) float32 and ``y`` (n,) int.
    """
    rng = np.random.default_rng(seed)
    if p is None:
        p = np.r_[0.6, np.full(n_classes - 1, 0.4 / (n_classes - 1))]
    y = rng.choice(n_classes, n, p=p)
    t = np.linspace(0, 1, 251)
    centre, width = 0.3 + spacing * y, 0.02 + 0.02 * y
    if jitter:
        centre = centre + rng.normal(0, jitter, n)
    X = np.exp(-(((t - centre[:, None]) / width[:, None]) ** 2))
    X = 3 * X + rng.normal(0, noise, X.shape) + rng.normal(0, 1, (n, 1))  # noise and offset
    return X.astype(np.float32), y
