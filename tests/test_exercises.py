"""Every lesson's exercise is solvable, and no notebook leaves a thread or a process behind.

For each notebook notebooks/NN_*.ipynb, the cell tagged ``exercise`` is replaced by
notebooks/solutions/<notebook name>.py, the notebook is executed from the top (kernel
python3, in notebooks/, as a learner would run it), and the output of the cell tagged
``check`` must have a line starting with "✅" and no "❌" (see notebooks/CONVENTIONS.md).
Nothing is written back: the notebook is executed in memory.

    pytest tests/test_exercises.py -k 07_join      # one notebook
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from queue import Empty

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


class Client(NotebookClient):
    """nbclient, reading the kernel's replies in short polls.

    A cell that displays a widget can leave its reply unread until the cell's timeout
    runs out, with the kernel long idle (jupyter/nbclient#312, open; seen here 2 times in
    10 runs of 15 with a 20 s timeout, and under 17's widget): polling every 0.5 s reads it.
    """

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        get = kc.shell_channel.get_msg

        async def get_msg(timeout=None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    return await get(timeout=min(0.5, left))
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        kc.shell_channel.get_msg = get_msg
        return kc


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


# Run before and after the notebook, in its kernel: a notebook leaves nothing running.
SNAPSHOT = """\
import threading as _threading
_course_threads_before = set(_threading.enumerate())
"""
LEFTOVERS = """\
import json as _json, multiprocessing as _mp, os as _os, threading as _threading, time as _time
from multiprocessing import forkserver as _forkserver, resource_tracker as _resource_tracker


def _course_leftovers():
    _mp.active_children()  # reaps finished children
    threads = [t.name for t in _threading.enumerate() if t not in _course_threads_before
               and t.is_alive() and type(t).__module__ == "threading"]  # not the kernel's own
    keep = {getattr(_forkserver._forkserver, "_forkserver_pid", None),
            getattr(_resource_tracker._resource_tracker, "_pid", None)}
    kids = []
    for pid in filter(str.isdigit, _os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(_os.getpid()) and fields[0] != "Z" and int(pid) not in keep:
            kids.append(int(pid))
    return {"threads": threads, "processes": kids}


_deadline = _time.monotonic() + 3
while any(_course_leftovers().values()) and _time.monotonic() < _deadline:
    _time.sleep(0.05)
print("LEFTOVERS", _json.dumps(_course_leftovers()))
"""


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
    nb.cells.insert(0, nbformat.v4.new_code_cell(SNAPSHOT))
    nb.cells.append(nbformat.v4.new_code_cell(LEFTOVERS))
    checks = [i + 1 for i in checks]
    client = Client(
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

    # After the notebook, nothing it started is still running.
    report = output_text(nb.cells[-1]).split("LEFTOVERS", 1)[1]
    assert json.loads(report) == {"threads": [], "processes": []}, (
        f"{path.name} left running: {report}"
    )
