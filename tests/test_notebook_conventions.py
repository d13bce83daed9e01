"""What every lesson notebook must keep (notebooks/CONVENTIONS.md), checked for each one.

Part 2 copies part 1: these checks make sure what is copied is right.
- a code cell a learner reads (not hidden) has at most 20 lines;
- every "Predict, then run" question has its answer folded in a <details> block;
- a hidden cell starts with a comment line saying what it does;
- the standard library is in view: the notebooks where a concept is taught show the
  standard-library code a learner would write, in a cell that is not hidden (12: both
  queue.Queue and threading.Condition; 16: both asyncio.Queue and asyncio.Semaphore).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 20

# Where the course promises to show a standard-library API in code a learner reads.
STDLIB_IN_VIEW = {
    "01_": ["threading.Thread("],
    "05_": ["multiprocessing.Process(", "Process("],  # any of these
    "06_": ["ThreadPoolExecutor("],
    "13_": ["ProcessPoolExecutor("],
    "14_": [".send("],
    "15_": ["asyncio.gather("],
}
# Where every one of several APIs must be in view (above: any one of them).
STDLIB_ALL_IN_VIEW = {
    "12_": ["queue.Queue(", "threading.Condition("],
    "16_": ["asyncio.Queue(", "asyncio.Semaphore("],
}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def hidden(cell: dict) -> bool:
    return bool((cell.get("metadata", {}).get("jupyter") or {}).get("source_hidden"))


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_visible_code_cells_are_short(path):
    long = []
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code" and not hidden(cell):
            n = len([ln for ln in source(cell).splitlines() if ln.strip()])
            if n > MAX_LINES:
                long.append(f"cell {i}: {n} lines")
    assert not long, f"move plumbing into helpers or a hidden cell: {long}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_hidden_cells_say_what_they_do(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code" and hidden(cell):
            first = source(cell).lstrip().splitlines()[0] if source(cell).strip() else ""
            assert first.startswith("#"), f"cell {i} is hidden: say what it does in a # line"


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_every_prediction_has_its_answer_folded(path):
    cs = cells(path)
    for i, cell in enumerate(cs):
        if cell["cell_type"] != "markdown":
            continue
        if not re.search(r"predict,? then run", source(cell), re.IGNORECASE):
            continue
        # The answer is the first markdown cell after the code cell(s) that follow.
        rest = cs[i + 1:]
        code_seen = False
        answer = None
        for later in rest:
            if later["cell_type"] == "code":
                code_seen = True
            elif code_seen:
                answer = source(later)
                break
        assert answer is not None, f"cell {i}: a prediction with no explanation after its run"
        assert "<details" in answer, f"cell {i}: fold the explanation after the run in <details>"
        assert "<details" not in source(cell), f"cell {i}: the question itself gives nothing away"


@pytest.mark.parametrize("prefix", sorted(STDLIB_IN_VIEW))
def test_the_standard_library_is_in_view(prefix):
    (path,) = [p for p in LESSONS if p.name.startswith(prefix)]
    code = [c for c in cells(path) if c["cell_type"] == "code" and not hidden(c)]
    visible = "\n".join(source(c) for c in code)
    wanted = STDLIB_IN_VIEW[prefix]
    assert any(w in visible for w in wanted), f"{path.name}: show {wanted[0]} in a visible cell"


@pytest.mark.parametrize("prefix", sorted(STDLIB_ALL_IN_VIEW))
def test_every_standard_library_api_promised_is_in_view(prefix):
    (path,) = [p for p in LESSONS if p.name.startswith(prefix)]
    code = [c for c in cells(path) if c["cell_type"] == "code" and not hidden(c)]
    visible = "\n".join(source(c) for c in code)
    missing = [w for w in STDLIB_ALL_IN_VIEW[prefix] if w not in visible]
    assert not missing, f"{path.name}: show {missing} in a visible cell"
