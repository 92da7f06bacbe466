"""Every exercise of every chapter has a solution, labelled and self-checked.

nbval (the same ``pytest`` command) runs each ``solutions/*.ipynb`` in fast mode
and compares its outputs, as it does for the chapters; these checks make sure
that every exercise is answered, says how hard it is and how long it runs, and
checks its own answer with ``assert``.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(cell):
    return "".join(cell["source"])


def _exercise_count(chapter):
    """Exercises of a chapter: the numbered items of its last '## Exercises' cell."""
    cells = [c for c in _cells(chapter) if c["cell_type"] == "markdown"]
    block = next(_text(c) for c in reversed(cells) if _text(c).lstrip().startswith("## Exercises"))
    return len(re.findall(r"^\d+\. ", block, flags=re.M))


def _solution(chapter):
    return ROOT / "solutions" / f"{chapter.stem}_solutions.ipynb"


def _sections(path):
    """``{k: [cells]}``: the cells of each '## Exercise k' section of a solutions notebook."""
    sections, current = {}, None
    for cell in _cells(path):
        match = re.match(r"## Exercise (\d+)\b", _text(cell).lstrip())
        if cell["cell_type"] == "markdown" and match:
            current = int(match.group(1))
            sections[current] = []
        elif cell["cell_type"] == "markdown" and _text(cell).lstrip().startswith("## "):
            current = None
        if current is not None:
            sections[current].append(cell)
    return sections


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_checked_solution(chapter):
    path = _solution(chapter)
    assert path.is_file(), f"no solutions notebook for {chapter.name}"
    n = _exercise_count(chapter)
    assert n >= 3, "the chapter's exercise list was not found"
    sections = _sections(path)
    assert sorted(sections) == list(range(1, n + 1)), "one '## Exercise k' section per exercise"
    for k, cells in sections.items():
        head = _text(cells[0])
        assert re.search(r"\*\*Difficulty:\*\* ★{1,3}", head), f"exercise {k}: no difficulty"
        assert re.search(r"\*\*CPU:\*\* ", head), f"exercise {k}: no CPU time"
        code = "\n".join(_text(c) for c in cells if c["cell_type"] == "code")
        assert re.search(r"^\s*assert ", code, flags=re.M), f"exercise {k}: no self-check"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_solutions_are_executed_without_errors(chapter):
    cells = [c for c in _cells(_solution(chapter)) if c["cell_type"] == "code"]
    assert cells and all(c.get("execution_count") for c in cells if _text(c).strip())
    errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"stored error: {errors[0].get('ename')}"
    assert not any("NBVAL_" in _text(c) for c in cells), "nbval markers belong in cell tags"


def test_no_solution_without_a_chapter():
    stems = {p.stem for p in CHAPTERS}
    orphans = [p.name for p in (ROOT / "solutions").glob("*.ipynb")
               if p.stem.removesuffix("_solutions") not in stems]
    assert orphans == []
