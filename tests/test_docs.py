"""helpers/ as a house a learner can read: examples that run, rooms kept apart, one front door.

Learners read helpers/ (helpers/__init__.py is the map on one screen); an example that no
longer runs would teach them something false, and a tangle of imports would hide the road
records -> rules -> timeline -> picture.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import helpers
import helpers.lessons
from helpers import workloads as w

ROOT = Path(__file__).resolve().parents[1]
HELPERS = Path(helpers.__file__).parent
ENGINE = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__)
                if m.name not in ("__main__", "lessons"))  # fmt: skip
LESSONS = sorted(f"lessons.{m.name}" for m in pkgutil.iter_modules(helpers.lessons.__path__))
MODULES = ENGINE + LESSONS
MAX_DOC_LINES = 18  # "at most about 15": the module's one job and how to start


@pytest.mark.parametrize("name", ["__init__", "lessons", *MODULES])
def test_docstring_examples_run(name, no_leftovers):
    module = {"__init__": helpers, "lessons": helpers.lessons}.get(name) or \
        importlib.import_module(f"helpers.{name}")
    tl = helpers.run_threads([w.cpu(0.05), w.cpu(0.05)])
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = {**vars(module), "helpers": helpers, "w": w, "tl": tl}
    tests = finder.find(module, module.__name__, globs=globs)
    if name in ("__init__", "lessons"):
        tests = [t for t in tests if t.name == module.__name__]  # the package's own docstring
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) in helpers.{name} failed"


def module_path(name: str) -> Path:
    return HELPERS.joinpath(*name.split(".")).with_suffix(".py")


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_its_one_job_briefly_and_has_an_all(name):
    tree = ast.parse(module_path(name).read_text())
    doc = ast.get_docstring(tree)
    assert doc, f"helpers/{name}.py has no docstring"
    lines = doc.splitlines()
    assert len(lines[0]) <= 100 and lines[0].endswith((".", ":")), \
        f"helpers/{name}.py: its first line says its one job, in one sentence"
    assert len(lines) <= MAX_DOC_LINES, (f"helpers/{name}.py: a docstring of {len(lines)} lines; "
                                         "long explanations go to the functions they explain")
    names = [n for n in tree.body if isinstance(n, ast.Assign)
             and any(getattr(t, "id", "") == "__all__" for t in n.targets)]  # fmt: skip
    assert names, f"helpers/{name}.py has no __all__"
    module = importlib.import_module(f"helpers.{name}")
    missing = [x for x in module.__all__ if not hasattr(module, x)]
    assert not missing, f"helpers.{name}.__all__ names what it lacks: {missing}"


def imports_of(path: Path, package: str) -> set[str]:
    """The helpers modules a module imports, anywhere in it (inside functions too), except
    those imported only for type hints (under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text())
    hints = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
             and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in hints:
            continue
        if node.level == 0:
            if node.module and node.module.startswith("helpers"):
                found.add(node.module.removeprefix("helpers").lstrip(".") or "__init__")
            continue
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
        if node.module:
            found.add(target)
        else:
            found |= {".".join(filter(None, [target, a.name])) for a in node.names}
    return {f.removeprefix("helpers").lstrip(".") for f in found} - {""}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name in MODULES:
        package = "helpers.lessons" if name.startswith("lessons.") else "helpers"
        graph[name] = {m for m in imports_of(module_path(name), package) if m in MODULES}
    return graph


def test_helpers_has_no_import_cycle_counting_imports_inside_functions():
    """Data flows one way: records -> rules -> timeline -> picture and export -> lessons."""
    graph = import_graph()

    def reach(start, seen):
        for nxt in graph.get(start, ()):
            if nxt not in seen:
                seen.add(nxt)
                reach(nxt, seen)
        return seen

    cycles = [m for m in graph if m in reach(m, set())]
    assert not cycles, f"modules in an import cycle: {cycles}"
    # Timeline.plot() may import the picture inside the method (the picture imports the
    # timeline for type hints only); the timeline never needs the rules or the export.
    assert not graph["timeline"] & {"chrome_trace", "rules", "rules_fast"}


def test_the_import_graph_reader_sees_imports_inside_functions():
    """The cycle test above can fail: it sees the import inside Timeline.plot."""
    assert "picture" in imports_of(module_path("timeline"), "helpers")
    assert "timeline" not in imports_of(module_path("picture"), "helpers")  # type hints only


def test_the_engine_never_imports_a_lesson():
    graph = import_graph()
    bad = {m: sorted(x for x in deps if x.startswith("lessons."))
           for m, deps in graph.items() if not m.startswith("lessons.")}  # fmt: skip
    assert not any(bad.values()), f"engine modules that import a lesson: {bad}"
    rules = graph["rules"] | graph["rules_fast"]
    assert "rules" not in graph["rules_fast"] and "rules_fast" not in graph["rules"], \
        "the plain and the fast rules are written twice on purpose: neither imports the other"
    assert not rules & {"threads", "processes", "picture"}


def _used_in_notebooks() -> str:
    text = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        text += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    for path in sorted((ROOT / "notebooks").rglob("*.py")):
        text.append(path.read_text(encoding="utf-8"))
    return "\n".join(text)


def test_the_front_door_names_what_the_notebooks_use_or_the_readme_documents():
    assert len(helpers.__all__) <= 30
    assert helpers.__all__ == sorted(helpers.__all__, key=str.lower) or \
        helpers.__all__ == sorted(helpers.__all__), "__all__ is sorted"
    code = _used_in_notebooks()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    api = readme[readme.index("## The helpers' API"):]
    api = api[: api.index("\n## ", 4)] if "\n## " in api[4:] else api
    for name in helpers.__all__:
        used = re.search(rf"\bhelpers\.{name}\b|from helpers import [^\n]*\b{name}\b", code)
        assert used or f"`{name}`" in api or f"{name}(" in api, \
            f"helpers.{name} is in __all__ but no notebook uses it and the README's API omits it"
    public = {n for n in vars(helpers) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(helpers, n)).__name__ == "module"}
    extra = public - modules - set(helpers.__all__)
    assert not extra, f"names at the front door that __all__ does not list: {extra}"


def test_import_helpers_does_not_load_a_lesson_or_matplotlib():
    import subprocess
    import sys

    code = ("import sys, helpers; "
            "print([m for m in sys.modules if m.startswith('helpers.lessons') or m == 'matplotlib'"
            " or m == 'ipywidgets'])")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip()  # fmt: skip
    assert out == "[]", f"import helpers loaded {out}"


def test_every_room_of_helpers_is_installed():
    """A wheel (Binder, a hub) holds only the packages pyproject.toml lists."""
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(helpers(?:\.\w+)*)"', text.split("[tool.setuptools]")[1]
                            .split("\n\n")[0]))  # fmt: skip
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in HELPERS.rglob("__init__.py")}
    assert folders <= listed, f"pyproject.toml's [tool.setuptools] packages lack {folders - listed}"
