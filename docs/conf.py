"""Sphinx configuration of the course site: the executed notebooks, shown as they are.

Build it with ``python .ci/build_site.py [OUTDIR]`` (default ``_build/site``), which runs::

    sphinx-build -b html -c docs -W --keep-going . OUTDIR

**Layout: the repository root is the source folder, this folder only holds the
configuration and the front-matter pages.** Sphinx documents must live under the
source folder; taking the root (with ``-c docs``) lets the chapters
(``notebooks/0*.ipynb``) and the solutions (``solutions/*_solutions.ipynb``) be
read where they are, with no copies and no symbolic links, and every relative
link keeps working: ``notebooks/05_multiscale_cnn.ipynb`` in README,
``(06_cross_validation.ipynb)`` in a chapter, ``(../notebooks/05_...ipynb)`` in a
solution. ``include_patterns`` picks the documents (whatever chapters and
solutions exist at build time); ``exclude_patterns`` keeps Sphinx from walking
the virtual environments, caches and build output. The pages of ``docs/`` take
their text from README.md with MyST ``{include}`` between ``<!-- site:NAME -->``
and ``<!-- site:end-NAME -->`` markers, so nothing is written twice. The built
site has its home page at ``docs/index.html``; a one-line ``index.html`` at the top
of the output redirects there.

**Nothing is executed** (``nb_execution_mode = "off"``): the pages show the
outputs stored in the notebooks (PNG figures, tables, text), which come from the
full-mode runs of ``.ci/execute_notebooks.py``.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

project = "ecgtut"
author = "ecgtut contributors"
copyright = "2026, ecgtut contributors (code: MIT; MIT-BIH: ODC-By, PhysioNet)"
version = release = re.search(r'^version = "([^"]+)"', PYPROJECT, re.M).group(1)
# the repository the GitHub, Binder and Colab buttons point to: [project.urls] Repository
_url = re.search(r'^Repository = "([^"]+)"', PYPROJECT, re.M)
REPOSITORY = (_url.group(1) if _url else "https://github.com/ecgtut/ecgtut").removesuffix("/")

extensions = ["myst_nb"]

# ------------------------------------------------------------------ what is a document
root_doc = "docs/index"
include_patterns = ["docs/*.md", "notebooks/0*.ipynb", "solutions/*_solutions.ipynb"]
# folders Sphinx need not walk (include_patterns alone would still look inside them)
exclude_patterns = ["_build", ".git", ".venv", ".venv-*", ".ci", "ecgtut", "tests", "build",
                    "dist", "*.egg-info", ".pytest_cache", ".ruff_cache", "data", "cache",
                    "**/.ipynb_checkpoints", "notebooks/results", "docs/_build"]

# ------------------------------------------------------------------ notebooks and MyST
nb_execution_mode = "off"           # never re-run: show the stored outputs
nb_merge_streams = True             # one block per cell for stdout/stderr
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3            # links like (06_cross_validation.ipynb#summary) resolve

# ------------------------------------------------------------------ HTML
html_theme = "sphinx_book_theme"
html_title = "ecgtut · heartbeat classification from ECG"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = True              # the download button offers the .ipynb from _sources/
html_show_sourcelink = False
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "",              # the source folder is the repository root
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {              # run a chapter on Binder or Colab, from its page
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
    "home_page_in_toc": False,      # the site title above the navigation leads home
}

# ------------------------------------------------------------------ warnings
# The build fails on any warning (-W --keep-going), except these:
suppress_warnings = [
    # the solutions are written one by one: an empty "Solutions" glob is not an error
    "toc.empty_glob",
]


def _redirect_to_home(app, exception):
    """``index.html`` at the top of the output: the home page is ``docs/index.html``."""
    if exception is None and app.builder.format == "html":
        home = "docs/index.html"
        (Path(app.outdir) / "index.html").write_text(
            f'<!DOCTYPE html><meta charset="utf-8"><title>{html_title}</title>'
            f'<meta http-equiv="refresh" content="0; url={home}">'
            f'<link rel="canonical" href="{home}"><a href="{home}">{html_title}</a>\n')


def setup(app):
    app.connect("build-finished", _redirect_to_home)
