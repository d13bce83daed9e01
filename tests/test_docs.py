"""The examples in the helpers' docstrings run and say what they show.

Learners read helpers/ (helpers/__init__.py is the API on one screen); an example
that no longer runs would teach them something false.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import helpers
from helpers import workloads as w

MODULES = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__) if m.name != "__main__")


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_docstring_examples_run(name, no_leftovers):
    module = helpers if name == "__init__" else importlib.import_module(f"helpers.{name}")
    tl = helpers.run_threads([w.cpu(0.05), w.cpu(0.05)])
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = {**vars(module), "helpers": helpers, "w": w, "tl": tl}
    tests = finder.find(module, module.__name__, globs=globs)
    if name == "__init__":
        tests = [t for t in tests if t.name == "helpers"]  # the package's own docstring
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) in helpers.{name} failed"


def imports_of(path: Path) -> set[str]:
    """The helpers modules a module imports at its top level (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found |= {a.name for a in node.names}
    return found


def test_helpers_has_no_import_cycle():
    """Data flows one way: records -> inference -> timeline -> picture and export."""
    folder = Path(helpers.__file__).parent
    graph = {p.stem: imports_of(p) for p in folder.glob("*.py") if p.stem != "__init__"}

    def reach(start, seen):
        for nxt in graph.get(start, ()):
            if nxt not in seen:
                seen.add(nxt)
                reach(nxt, seen)
        return seen

    cycles = [m for m in graph if m in reach(m, set())]
    assert not cycles, f"modules in an import cycle: {cycles}"
    assert not graph["timeline"] & {"gantt", "export", "inference", "rules"}
