"""Build the course site (Sphinx, myst-nb, sphinx-book-theme) from the executed notebooks.

Usage (from anywhere; needs the ``site`` extra: ``pip install -e ".[dev,site]"``)::

    python .ci/build_site.py                 # into _build/site
    python .ci/build_site.py /tmp/site       # into another folder

Open ``OUTDIR/index.html`` (it forwards to ``docs/index.html``), or serve the folder:
``python -m http.server -d _build/site``. The configuration and the front-matter
pages are in ``docs/`` (``docs/conf.py`` explains the layout). The notebooks are
never executed: their stored outputs are shown. myst-nb keeps the notebook outputs
it extracts, and Sphinx its doctrees, beside OUTDIR (``_build/jupyter_execute``,
``_build/.doctrees``): the site folder holds only the site.

Every build starts afresh: a previous site in OUTDIR (a folder with Sphinx's
``.buildinfo``) is removed first, so no page of a renamed notebook stays behind, and
every source is read again (``-E``). It fails on any warning (``-W --keep-going``: all
warnings listed, then exit status 1), except the few that ``suppress_warnings`` in
``docs/conf.py`` lists with their reason. Prints the build time.
"""

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(outdir, quiet=True):
    """Build the site into ``outdir``; return Sphinx's exit status (0: no warning)."""
    from sphinx.cmd.build import build_main

    outdir = Path(outdir).resolve()
    if (outdir / ".buildinfo").is_file():  # a site built before: never any other folder
        shutil.rmtree(outdir)
    args = ["-b", "html", "-c", str(ROOT / "docs"), "-E", "-W", "--keep-going",
            "-d", str(outdir.parent / ".doctrees")]
    return build_main(args + (["-q"] if quiet else []) + [str(ROOT), str(outdir)])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    outdir = Path(argv[0]) if argv else ROOT / "_build" / "site"
    start = time.perf_counter()
    status = build(outdir)
    seconds = time.perf_counter() - start
    where = outdir.resolve() / "index.html"
    if status:
        print(f"site build FAILED (warnings above) after {seconds:.1f} s", file=sys.stderr)
    else:
        print(f"site built in {seconds:.1f} s: {where}")
    return status


if __name__ == "__main__":
    sys.exit(main())
