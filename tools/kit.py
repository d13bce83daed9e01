"""The instructor's kit on a notebook: slideshow metadata on every cell, and a quiz cell.

    python tools/kit.py notebooks/12_*.ipynb           # add or update both, in place
    python tools/kit.py --check notebooks/*.ipynb      # exit 1 if a notebook would change

Slides (each cell's metadata "slideshow": {"slide_type": ...}, as RISE and
`jupyter nbconvert --to slides` read it): a new slide at the title and at every `##`
heading, a sub-slide at every `###` heading and every "Predict, then run" question, and
"-" (same slide) for the rest. No cell is "skip": hidden plumbing cells draw pictures
and run checks whose output belongs on the slide.

Quiz: write notebooks/quizzes/NN_slug.json first (format: helpers/lessons/quiz.py); the tool
then adds, once, a "## Check yourself" heading and a cell that shows it, just before
the "## Key points" cell (or at the end). tests/test_kit.py checks both for every
notebook.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

QUIZ_HEADING = "## Check yourself"
QUIZ_MARKER = "quiz.show("


def slide_type(cell: dict, first: bool) -> str:
    text = "".join(cell["source"]).lstrip()
    # The heading line: the first line, or the second after an anchor (<a id="..."></a>).
    lines = [line for line in text.splitlines() if line.strip()][:2]
    head = lines[1] if len(lines) > 1 and lines[0].startswith("<a ") else (lines or [""])[0]
    if cell["cell_type"] == "markdown":
        if first or head.startswith(("# ", "## ")):
            return "slide"
        if head.startswith("### ") or "Predict, then run" in text:
            return "subslide"
    return "-"


def quiz_cells(stem: str) -> list[dict]:
    md = {"cell_type": "markdown", "metadata": {}, "source": [
        f"{QUIZ_HEADING}\n", "\n",
        "A few questions on this notebook's idea. Click an answer: each one says why it is "
        "right or wrong.",
    ]}  # fmt: skip
    code = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["# The questions are in quizzes/, so the answers are not visible here\n",
                       "from helpers import quiz\n", "\n",
                       f'quiz.show("quizzes/{stem}.json")']}  # fmt: skip
    return [md, code]


KEY_POINTS = "## Key points"


def _is_quiz_cell(cell: dict) -> bool:
    return cell["cell_type"] == "code" and QUIZ_MARKER in "".join(cell["source"])


def _split_at_key_points(cells: list) -> None:
    """A markdown cell that has "## Key points" after other text becomes two cells."""
    for i, cell in enumerate(cells):
        text = "".join(cell["source"])
        at = text.find("\n" + KEY_POINTS)
        if cell["cell_type"] == "markdown" and at >= 0:
            before, after = text[: at + 1].rstrip("\n"), text[at + 1 :]
            cell["source"] = before.splitlines(keepends=True)
            rest = {"cell_type": "markdown", "metadata": {}, "source":
                    after.splitlines(keepends=True)}  # fmt: skip
            cells.insert(i + 1, rest)
            return


def has_quiz(nb: dict) -> bool:
    return any(c["cell_type"] == "code" and QUIZ_MARKER in "".join(c["source"])
               for c in nb["cells"])  # fmt: skip


def apply(nb: dict, stem: str, quiz: bool = True) -> dict:
    """``nb`` with the quiz cells (if ``quiz`` and not there yet) and slideshow metadata."""
    cells = nb["cells"]
    _split_at_key_points(cells)
    key_points = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                       and "".join(c["source"]).lstrip().startswith(KEY_POINTS)), len(cells))
    if quiz and not has_quiz(nb):
        cells[key_points:key_points] = quiz_cells(stem)
    elif quiz:  # there already: make sure it comes before the key points
        at = [i for i, c in enumerate(cells) if i > key_points and _is_quiz_cell(c)]
        if at:
            moved = [cells[i] for i in range(at[0] - 1, at[-1] + 1)]  # its heading, then it
            del cells[at[0] - 1 : at[-1] + 1]
            cells[key_points:key_points] = moved
    for i, cell in enumerate(cells):
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type(cell, i == 0)}
    if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5:  # cells need an id
        taken = {c["id"] for c in cells if "id" in c}
        for i, cell in enumerate(cells):
            if "id" not in cell:
                n = i
                while f"kit-{stem[:2]}-{n}" in taken:
                    n += 1
                cell["id"] = f"kit-{stem[:2]}-{n}"
                taken.add(cell["id"])
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"  # as JupyterLab saves them


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    parser.add_argument("--no-quiz", action="store_true", help="slides only")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        quiz_file = path.parent / "quizzes" / f"{path.stem}.json"
        want_quiz = not args.no_quiz
        if want_quiz and not quiz_file.is_file():
            print(f"{path}: no {quiz_file} yet: write it first (format: helpers/lessons/quiz.py), "
                  "or pass --no-quiz", file=sys.stderr)  # fmt: skip
            return 2
        before = path.read_text(encoding="utf-8")
        after = dumps(apply(json.loads(before), path.stem, quiz=want_quiz))
        if after != before:
            stale.append(path)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    for path in stale:
        print(f"{'would change' if args.check else 'updated'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
