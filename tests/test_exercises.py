"""Every lesson's exercise is solvable: its solution passes its check.

For each notebook notebooks/NN_*.ipynb, the cell tagged ``exercise`` is replaced by
notebooks/solutions/<notebook name>.py, the notebook is executed from the top (kernel
python3, in notebooks/, as a learner would run it), and the output of the cell tagged
``check`` must have a line starting with "✅" and no "❌" (see notebooks/CONVENTIONS.md).
Nothing is written back: the notebook is executed in memory.

    pytest tests/test_exercises.py -k 07_join      # one notebook
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
SOLUTION_DIR = NOTEBOOK_DIR / "solutions"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 60  # seconds per cell; a notebook takes well under 20 s in all

pytestmark = pytest.mark.timeout(600)


def tagged(nb, tag: str) -> list[int]:
    """Indexes of the cells that carry ``tag``."""
    return [i for i, cell in enumerate(nb.cells) if tag in cell.get("metadata", {}).get("tags", [])]


def output_text(cell) -> str:
    """What a code cell printed or displayed as text (streams, results, errors)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebook matches {NOTEBOOK_DIR}/[0-9][0-9]_*.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solution_passes_the_check(path: Path):
    nb = nbformat.read(path, as_version=4)
    exercises, checks = tagged(nb, "exercise"), tagged(nb, "check")
    assert len(exercises) == 1, (
        f"{path.name}: {len(exercises)} cells tagged 'exercise'; every notebook has exactly one "
        "(see notebooks/CONVENTIONS.md)"
    )
    assert checks, f"{path.name}: no cell tagged 'check' to run after the exercise"
    assert all(i > exercises[0] for i in checks), (
        f"{path.name}: a 'check' cell comes before the exercise"
    )
    solution = SOLUTION_DIR / f"{path.stem}.py"
    assert solution.is_file(), f"{path.name}: notebooks/solutions/{solution.name} is missing"
    assert nb.cells[exercises[0]].cell_type == "code", f"{path.name}: the exercise cell is not code"

    nb.cells[exercises[0]].source = solution.read_text(encoding="utf-8")
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        pytest.fail(f"{path.name} failed with the solution in place of the exercise:\n{exc}")

    for i in checks:
        text = output_text(nb.cells[i])
        lines = [line.strip() for line in text.splitlines()]
        passed = any(line.startswith("✅") for line in lines) and "❌" not in text
        assert passed, (
            f"{path.name}: with {solution.name} in place of the exercise, the check cell "
            f"(cell {i}) printed:\n{text or '(nothing)'}"
        )
