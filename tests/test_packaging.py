"""Packaging: environment.yml agrees with pyproject.toml, and the package ships
what it needs (console script, checksum table, version).

environment.yml is read with a small line-based parser (enough for a conda
environment file: top-level keys, ``- item`` lists, one nested ``- pip:`` list),
so the tests need no YAML library.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import ecgtut

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]

# conda-forge name -> PyPI name, where they differ
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "matplotlib-base": "matplotlib"}
NOT_PACKAGES = {"python", "pip"}


def normalise(spec):
    """Distribution name of a requirement, PEP 503-normalised.

    ``"PyWavelets>=1.4"`` -> ``"pywavelets"``, ``"conda-forge::pytorch =2.1"`` -> ``"torch"``.
    """
    spec = spec.split("::")[-1].strip()
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec).group(0)
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


def _unquote(item):
    """``"numpy>=1.24"`` -> ``numpy>=1.24`` (quotes around the whole item only)."""
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
        return item[1:-1]
    return item


def parse_environment(text):
    """The parts of a conda environment file these tests need.

    Returns
    -------
    dict
        ``{"name": str or None, "channels": [...], "dependencies": [...], "pip": [...]}``,
        items as written (quotes and comments removed).
    """
    env = {"name": None, "channels": [], "dependencies": [], "pip": []}
    key, in_pip, pip_indent = None, False, 0
    for raw in text.splitlines():
        line = re.sub(r"\s+#.*$|^\s*#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0 and not body.startswith("-"):
            key, _, value = body.partition(":")
            key, in_pip = key.strip(), False
            if key == "name":
                env["name"] = _unquote(value.strip())
            continue
        if not body.startswith("-"):
            continue
        item = _unquote(body[1:].strip())
        if in_pip and indent > pip_indent:
            env["pip"].append(item)
            continue
        in_pip = False
        if key == "dependencies" and item.rstrip() == "pip:":
            in_pip, pip_indent = True, indent
        elif key in ("channels", "dependencies"):
            env[key].append(item)
    return env


@pytest.fixture(scope="module")
def pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def environment():
    path = ROOT / "environment.yml"
    assert path.is_file(), (
        f"{path} is missing: the conda environment (conda-forge, plus a pip section "
        "installing -e .[dev]) belongs at the repository root"
    )
    return parse_environment(path.read_text())


# ----------------------------------------------------------------------------- the parser


SAMPLE = """\
# the course's environment
name: ecgtut
channels:
  - conda-forge
dependencies:
  - python>=3.10      # any supported Python
  - pip
  - "numpy>=1.24"
  - pywavelets >=1.4
  - conda-forge::pytorch>=2.1
  - pip:
      - -e ".[dev]"
      - 'wfdb>=4.1'
  - scikit-learn>=1.3
"""


def test_parse_environment():
    env = parse_environment(SAMPLE)
    assert env["name"] == "ecgtut"
    assert env["channels"] == ["conda-forge"]
    assert env["dependencies"] == [
        "python>=3.10", "pip", "numpy>=1.24", "pywavelets >=1.4", "conda-forge::pytorch>=2.1",
        "scikit-learn>=1.3",
    ]
    assert env["pip"] == ['-e ".[dev]"', "wfdb>=4.1"]


@pytest.mark.parametrize("spec, name", [
    ("PyWavelets>=1.4", "pywavelets"), ("pywavelets >=1.4", "pywavelets"),
    ("scikit_learn", "scikit-learn"), ("pytorch=2.1", "torch"), ("torch>=2.1", "torch"),
    ("conda-forge::pytorch", "torch"), ("matplotlib-base>=3.7", "matplotlib"),
    ("tqdm", "tqdm"), ("wfdb [extra] >= 4.1", "wfdb"),
])
def test_normalise(spec, name):
    assert normalise(spec) == name


# ----------------------------------------------------------------------------- environment.yml


def _runtime(pyproject):
    return {normalise(d) for d in pyproject["project"]["dependencies"]}


def _dev(pyproject):
    return {normalise(d) for d in pyproject["project"]["optional-dependencies"]["dev"]}


def _installed_by_env(environment):
    names = {normalise(d) for d in environment["dependencies"]}
    names |= {normalise(p) for p in environment["pip"] if not p.startswith(("-", ".", "/"))}
    return names - NOT_PACKAGES


def test_environment_uses_conda_forge(environment):
    assert "conda-forge" in environment["channels"]


def test_environment_installs_the_package_with_dev_extras(environment):
    assert "pip" in {normalise(d) for d in environment["dependencies"]}
    pip = [re.sub(r"\s+", " ", p).replace('"', "").replace("'", "") for p in environment["pip"]]
    assert "-e .[dev]" in pip, environment["pip"]


def test_environment_lists_the_runtime_dependencies(environment, pyproject):
    listed, runtime = _installed_by_env(environment), _runtime(pyproject)
    assert runtime - listed == set(), "in pyproject.toml but not in environment.yml"
    extra = listed - runtime - _dev(pyproject)
    assert extra == set(), "in environment.yml but in neither [project] dependencies nor [dev]"


def _floors(specs):
    """``{name: minimum version}`` of the specs that give one with ``>=``."""
    floors = {}
    for spec in specs:
        match = re.search(r">=\s*([0-9][0-9.]*)", spec)
        if match:
            floors[normalise(spec)] = match.group(1)
    return floors


def test_environment_minimum_versions_agree(environment, pyproject):
    env = _floors(environment["dependencies"] + environment["pip"])
    project = _floors(pyproject["project"]["dependencies"])
    differ = {n: (env[n], project[n]) for n in env.keys() & project.keys() if env[n] != project[n]}
    assert differ == {}, "minimum versions (environment.yml, pyproject.toml) differ"


def test_environment_python_is_supported(environment, pyproject):
    floor = tuple(int(x) for x in re.findall(r"\d+", pyproject["project"]["requires-python"]))
    for spec in environment["dependencies"]:
        if normalise(spec) == "python":
            version = re.search(r"(\d+)\.(\d+)", spec)
            if version:
                assert tuple(map(int, version.groups())) >= floor[:2], spec


# ----------------------------------------------------------------------------- the package


def test_version_matches(pyproject):
    assert ecgtut.__version__ == pyproject["project"]["version"]


def test_console_script_declared(pyproject):
    assert pyproject["project"]["scripts"] == {"ecgtut": "ecgtut.cli:main"}


def test_checksum_table_is_shipped(pyproject):
    assert "mitdb_SHA256SUMS.txt" in pyproject["tool"]["setuptools"]["package-data"]["ecgtut"]
    table = (Path(ecgtut.__file__).parent / "mitdb_SHA256SUMS.txt").read_text().split("\n")
    entries = [line.split() for line in table if line.strip()]
    assert len(entries) == 144 and all(len(d) == 64 for d, _ in entries)
    names = {n.lstrip("*") for _, n in entries}
    assert names == {f"{r}.{e}" for r in ecgtut.RECORDS_ALL for e in ("hea", "dat", "atr")}


def test_checksum_table_matches_physionets(data_dir):
    published = data_dir / "SHA256SUMS.txt"
    if not published.is_file():
        pytest.skip("no SHA256SUMS.txt in the data folder")

    def pairs(text):
        return {(d, n.lstrip("*")) for d, n in (line.split() for line in text.splitlines()
                                                if line.strip())}

    ours = (Path(ecgtut.__file__).parent / "mitdb_SHA256SUMS.txt").read_text()
    theirs = {p for p in pairs(published.read_text()) if p[1].split(".")[0].isdigit()}
    assert pairs(ours) == theirs


# ----------------------------------------------------------------------------- layout


def _modules():
    """Every module of the package as a path relative to the root: ``ecgtut/data.py``..."""
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "ecgtut").rglob("*.py")
            if p.name not in ("__init__.py", "__main__.py", "_common.py")}


def test_readme_package_map_matches_the_code():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The package", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(ecgtut/[a-z_]+\.py)`", section))
    plots = re.search(r"`ecgtut/plots/` \|(.*)\|", section).group(1)
    listed |= {f"ecgtut/plots/{m}.py" for m in re.findall(r"`([a-z_]+)`", plots)}
    cli = re.search(r"`ecgtut/cli/` \|(.*)\|", section).group(1)
    listed |= {f"ecgtut/cli/{m}.py" for m in re.findall(r"`([a-z_]+)`", cli)}
    assert listed == _modules()


def test_package_map_in_the_docstring_matches_the_code():
    doc = ecgtut.__doc__
    named = set(re.findall(r"^\s+(?:chapter \d\d\s+)?(?!all\b)([a-z_]+)\s{2,}", doc, re.M))
    top = {m.removeprefix("ecgtut/").removesuffix(".py") for m in _modules()
           if m.count("/") == 1} | {"cli"}  # a package, one module per group of commands
    assert named == top


def test_no_package_file_is_too_long():
    lengths = {m: len((ROOT / m).read_text().splitlines()) for m in _modules()}
    assert max(lengths.values()) <= 520, max(lengths.items(), key=lambda kv: kv[1])


def test_subpackages_are_installed(pyproject):
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "ecgtut" in include and "ecgtut.*" in include  # ecgtut.plots ships too


# import name -> distribution, where they differ
IMPORT_TO_PYPI = {"pywt": "pywavelets", "sklearn": "scikit-learn", "ecgtut": None}


def test_every_notebook_import_is_a_declared_dependency(pyproject):
    import json
    import sys

    declared = {normalise(d) for d in pyproject["project"]["dependencies"]}
    imported = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                imported |= set(re.findall(r"^(?:import|from) ([A-Za-z_]\w*)", src, re.M))
    third_party = {IMPORT_TO_PYPI.get(m, m) for m in imported - set(sys.stdlib_module_names)}
    third_party.discard(None)
    assert "pandas" in third_party  # the check really looks at the notebooks
    assert third_party <= declared, third_party - declared


# ----------------------------------------------------------------------------- Binder


def test_binder_environment_is_the_course_environment_without_the_package():
    root = parse_environment((ROOT / "environment.yml").read_text())
    binder = parse_environment((ROOT / "binder" / "environment.yml").read_text())
    assert binder["channels"] == root["channels"]
    assert binder["dependencies"] == root["dependencies"]
    # repo2docker installs these before it copies the repository: no local package here
    assert [p for p in root["pip"] if not p.startswith("-e")] == binder["pip"]


def test_binder_post_build_installs_the_package_and_fetches_the_data():
    script = ROOT / "binder" / "postBuild"
    assert os.access(script, os.X_OK), "repo2docker runs postBuild only if it is executable"
    lines = [line.strip() for line in script.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "set -euo pipefail"
    assert 'python -m pip install --no-cache-dir -e ".[dev]"' in lines
    assert lines[-1] == "ecgtut download"
