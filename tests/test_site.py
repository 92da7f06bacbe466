"""The course site (``.ci/build_site.py``, ``docs/``) shows every chapter and solution as run.

The site is built once for this module, into a temporary folder, exactly as CI and
authors build it (no notebook is executed; any Sphinx warning fails the build).
Every expectation is computed from the notebooks and README.md themselves: a
chapter page must exist for every ``notebooks/0*.ipynb`` and a solution page for
every ``solutions/*.ipynb``, carry the notebook's title, and show at least as many
figures as the notebook holds PNG outputs, each a real PNG file of the site.
"""

import html
import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_book_theme")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site's folder (``index.html`` at its top)."""
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(ROOT / ".ci" / "build_site.py"), str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    assert run.returncode == 0, f"site build failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    print(f"site built in {seconds:.1f} s")
    return out


class _Page(HTMLParser):
    """The parts of a page the tests look at: h1 text, links, output images, text."""

    def __init__(self):
        super().__init__()
        self.divs, self.h1, self.in_h1, self.in_headerlink = [], [], False, False
        self.links, self.output_images, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self.divs.append(attrs.get("class") or "")
        elif tag == "h1":
            self.in_h1 = True
            self.h1.append("")
        elif tag == "a":
            self.in_headerlink = "headerlink" in (attrs.get("class") or "").split()
            if attrs.get("href"):
                self.links.append(attrs["href"])
        elif tag == "img" and any("cell_output" in c.split() for c in self.divs):
            self.output_images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "div" and self.divs:
            self.divs.pop()
        elif tag == "h1":
            self.in_h1 = False
        elif tag == "a":
            self.in_headerlink = False

    def handle_data(self, data):
        if self.in_headerlink:  # the '#' beside a heading
            return
        self.text.append(data)
        if self.in_h1:
            self.h1[-1] += data


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _plain(text):
    """Text as a reader sees it: no markdown emphasis or code marks, single spaces."""
    text = html.unescape(re.sub(r"[*`]", "", text))
    return " ".join(text.split())


def _notebook(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _title(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:]
    raise AssertionError("the notebook has no '# ' title")


def _png_outputs(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb["cells"]
               if cell["cell_type"] == "code" for out in cell.get("outputs", []))


def _page_of(site, notebook):
    return site / notebook.parent.name / f"{notebook.stem}.html"


def test_there_is_something_to_build():
    assert CHAPTERS, "no notebooks/0*.ipynb"


@pytest.mark.parametrize("notebook", CHAPTERS + SOLUTIONS,
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_notebook_has_a_page_with_its_title_and_figures(site, notebook):
    page_path = _page_of(site, notebook)
    assert page_path.is_file(), f"no page {page_path.relative_to(site)}"
    nb, page = _notebook(notebook), _parse(page_path)

    assert page.h1, "the page has no title"
    title, wanted = _plain(page.h1[0]), _plain(_title(nb))
    assert title == wanted, f"page title {title!r}, notebook title {wanted!r}"

    expected = _png_outputs(nb)
    shown = page.output_images
    assert len(shown) >= expected, f"{len(shown)} figures shown, the notebook has {expected}"
    for src in shown:
        assert not re.match(r"^[a-z]+:", src), f"figure not stored in the site: {src[:60]}"
        image = (page_path.parent / src).resolve()
        assert image.is_file(), f"missing figure {src}"
        head = image.read_bytes()[:8]
        assert image.stat().st_size > len(PNG) and head == PNG, f"not a PNG file: {src}"


def _glossary_terms():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- site:glossary -->", 1)[1].split("<!-- site:end-glossary -->")[0]
    table = section.split("**Glossary.**", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]  # no header, rule
    return [_plain(row.split("|")[1]) for row in rows]


def test_glossary_page_holds_the_glossary(site):
    page = site / "docs" / "glossary.html"
    assert page.is_file()
    text = _plain(" ".join(_parse(page).text))
    terms = _glossary_terms()
    assert "positive predictivity" in " ".join(terms) and "DS1" in " ".join(terms), terms
    missing = [t for t in terms if t not in text]
    assert not missing, f"glossary terms missing from the page: {missing}"


def test_home_page_links_every_chapter_and_solution(site):
    assert "docs/index.html" in (site / "index.html").read_text(), "index.html does not forward"
    home = site / "docs" / "index.html"
    links = {(home.parent / href.split("#")[0]).resolve()
             for href in _parse(home).links if not re.match(r"^[a-z]+:", href)}
    missing = [p.stem for p in CHAPTERS + SOLUTIONS if _page_of(site, p).resolve() not in links]
    assert not missing, f"not linked from the home page: {missing}"
