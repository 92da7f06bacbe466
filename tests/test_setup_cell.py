"""Run anywhere: the set-up cell of every chapter and solution, with and without the data.

``et.get_mitdb`` finds MIT-BIH, downloads it when asked (or on Colab/Binder), and
otherwise stops the notebook with one line that says how to get the data. The
download is faked with copies from the local mirror (``fake_physionet``).
"""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import ecgtut
from ecgtut import DataError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/0*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb"))


def _setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if c.cell_type == "code").source


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No ECGTUT_DATA and an empty default folder: a student's fresh machine."""
    monkeypatch.delenv("ECGTUT_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    for var in ("BINDER_SERVICE_HOST", "BINDER_REQUEST"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "share" / "ecgtut" / "mitdb"


def test_get_mitdb_finds_the_data(data_dir):
    assert ecgtut.get_mitdb(download=False) == data_dir
    assert ecgtut.get_mitdb(download=False, data_dir=data_dir) == data_dir


def test_get_mitdb_without_data_says_how_to_get_it_in_one_line(no_data):
    with pytest.raises(DataError) as err:
        ecgtut.get_mitdb()
    message = str(err.value)
    assert "\n" not in message and str(no_data) in message
    assert "et.get_mitdb(download=True)" in message and "'ecgtut download'" in message
    # a notebook shows the exception as this one line, not a traceback
    assert err.value._render_traceback_() == [f"DataError: {message}"]


def test_get_mitdb_downloads_when_asked(no_data, fake_physionet, capsys):
    assert ecgtut.get_mitdb(download=True) == no_data
    assert "downloading it from PhysioNet" in capsys.readouterr().out
    assert ecgtut.verify_mitdb(no_data) == {}
    assert ecgtut.get_mitdb(download=False) == no_data  # found now, not fetched again
    assert len([c for c in fake_physionet["calls"] if c[0] == "dl_database"]) == 48


def test_get_mitdb_downloads_by_itself_on_colab_only(no_data, fake_physionet, monkeypatch):
    fake_physionet["error"] = ConnectionError("PhysioNet asked")
    with pytest.raises(DataError, match="MIT-BIH is not in"):
        ecgtut.get_mitdb()  # on a laptop: never a surprise download
    monkeypatch.setitem(sys.modules, "google.colab", object())
    with pytest.raises(DataError, match="download from PhysioNet failed: PhysioNet asked"):
        ecgtut.get_mitdb()  # on Colab: it tries


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_setup_cell_gets_the_data_and_installs_on_colab(path):
    cell = _setup_cell(path)
    assert "DATA = et.get_mitdb()" in cell
    assert "except ModuleNotFoundError:" in cell and "%pip install" in cell
    assert "FAST = os.environ.get(\"ECGTUT_FAST\") == \"1\"" in cell


def _run_setup_cells(env):
    """Every notebook's set-up cell, each in turn, in one real kernel with ``env``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_setup_cell(p)) for p in NOTEBOOKS]
    old = dict(os.environ)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb.cells


@pytest.mark.slow
def test_setup_cells_in_a_kernel_with_and_without_data(data_dir, tmp_path):
    empty = {"ECGTUT_DATA": None, "XDG_DATA_HOME": str(tmp_path), "ECGTUT_FAST": "1"}
    found = {"ECGTUT_DATA": str(data_dir), "ECGTUT_FAST": "1"}
    for cell in _run_setup_cells(empty):
        (out,) = cell.outputs  # one output: the error, as one line
        assert out.output_type == "error" and out.ename == "DataError"
        assert len(out.traceback) == 1 and "ecgtut download" in out.traceback[0]
    for cell in _run_setup_cells(found):
        assert cell.outputs == []  # silent when the data is there
