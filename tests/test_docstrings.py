"""Every example in the package's docstrings runs and shows what it says.

The examples are doctests: ``>>>`` lines with their expected output. The ones
that read MIT-BIH find it through ``ECGTUT_DATA``, like a reader's session
would, so those modules need the database (see ``conftest.data_dir``).
"""

import doctest
import importlib
import pkgutil

import matplotlib
import matplotlib.pyplot as plt
import pytest

matplotlib.use("Agg")

import ecgtut  # noqa: E402

# every module of the package, the plots subpackage's included
MODULES = sorted(m.name.removeprefix("ecgtut.") for m in pkgutil.walk_packages(
    ecgtut.__path__, "ecgtut.") if m.name != "ecgtut.__main__")
NEED_DATA = {"database", "data", "beats", "cache"}


def test_every_module_is_checked():
    assert {"data", "beats", "model", "train", "metrics", "crossval", "plots.beats"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, request, capsys):
    if name in NEED_DATA:
        request.getfixturevalue("data_dir")
    module = importlib.import_module(f"ecgtut.{name}")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    try:  # the plotting examples open some 30 figures: no warning about that
        with matplotlib.rc_context({"figure.max_open_warning": 0}):
            result = doctest.testmod(module, optionflags=flags, report=False)
    finally:
        plt.close("all")
    report = capsys.readouterr().out
    if not name.rpartition(".")[2].startswith("_"):  # private helpers need no example
        assert result.attempted > 0, f"ecgtut.{name} has no docstring example"
    assert result.failed == 0, report
