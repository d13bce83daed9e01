"""The project's frame holds together: dependencies agree, Binder builds, notebooks are clean."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from checks import missing

try:
    import tomllib
except ImportError:  # Python 3.10: pip vendors the same parser
    try:
        import tomli as tomllib
    except ImportError:
        from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import pins  # noqa: E402  (tools/pins.py: the lock)

NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
NB_IDS = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS]


def _name(requirement: str) -> str:
    """'NumPy>=1.23' -> 'numpy' (PEP 503 normalized), for pip and conda specs alike."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"cannot read a package name in {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _conda_names(path: Path) -> set[str]:
    """Names in an environment.yml's dependencies, without python, pip and the pip: section."""
    import yaml  # PyYAML comes with jupyterlab (jupyter-events)

    env = yaml.safe_load(path.read_text())
    names = {_name(dep) for dep in env["dependencies"] if isinstance(dep, str)}
    return names - {"python", "pip"}


def test_environment_files_name_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = {_name(dep) for dep in pyproject["project"]["dependencies"]}
    assert runtime, "pyproject.toml lists no runtime dependencies"
    assert _conda_names(ROOT / "environment.yml") == runtime
    _, binder = pins.read_environment()
    assert runtime <= set(binder), "binder/environment.yml lacks some: run `make refresh-pins`"


def test_binder_pins_are_exact_and_the_same_as_the_constraints_make_uses():
    python, binder = pins.read_environment()
    assert (python, binder) == pins.read_constraints(), "run `make refresh-pins`"
    assert re.fullmatch(r"3\.\d+", python)
    assert all(re.fullmatch(r"[\w.+!-]+", v) for v in binder.values()), "exact versions only"


def test_the_pins_are_what_make_test_installed():
    python, _ = pins.read_constraints()
    if python != pins.python_xy():
        pytest.skip(f"the pins are for Python {python}; `make` installs them only there")
    diff = pins.differences()
    assert not diff, "the pins differ from this environment (make refresh-pins, then make " \
        "test):\n" + "\n".join(diff)


def _imported_modules() -> dict[str, str]:
    """{top-level module: where} for every import in the notebooks, solutions, notebook modules."""
    import ast

    sources = {}
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                for c in cells if c["cell_type"] == "code"]  # fmt: skip
        sources[nb.name] = "\n".join(line for line in "\n".join(code).splitlines()
                                     if not line.lstrip().startswith(("%", "!")))  # fmt: skip
    for py in (ROOT / "notebooks").rglob("*.py"):
        if py.name != "conftest.py":  # pytest's, for nbval: not something a learner runs
            sources[py.name] = py.read_text(encoding="utf-8")
    found = {}
    for where, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], where)
    return found


def test_every_module_the_notebooks_import_is_installed_by_the_binder_environment():
    from importlib.metadata import packages_distributions

    _, binder = pins.read_environment()
    local = {p.stem for p in (ROOT / "notebooks").glob("*.py")} | {"helpers"}
    providers = packages_distributions()
    missing = {}
    for module, where in _imported_modules().items():
        if module in sys.stdlib_module_names or module in local:
            continue
        # Python 3.10 maps a module to its distribution only from top_level.txt, which
        # wheels built with meson (numpy, matplotlib) lack: then try the module's own name.
        dists = {_name(d) for d in providers.get(module, [module])}
        if not dists & set(binder):
            missing[module] = where
    assert not missing, f"imported but not in binder/environment.yml: {missing}"


def test_binder_postbuild_installs_the_package():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_repo2docker_renders_the_binder_dockerfile(tmp_path):
    try:
        import repo2docker  # noqa: F401
    except ImportError:
        missing("jupyter-repo2docker is not installed: it is in the [test] extra")
    # --no-build renders the Dockerfile without Docker; --debug prints it.
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    dockerfile, log = result.stdout, result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "FROM " in dockerfile
    # binder/ wins over the root environment.yml, and Binder gets the pinned Python.
    assert "src/binder/environment.yml" in dockerfile
    assert "src/environment.yml" not in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    # the pins are installed: the environment file is applied to the notebook's environment
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"' in dockerfile
    assert f"python={pins.read_environment()[0]}" in log


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NB_IDS)
def test_notebook_is_committed_clean(notebook: Path):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", (
        "use the python3 kernel, not a custom kernel name"
    )
    dirty = [
        i
        for i, cell in enumerate(nb["cells"], 1)
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"cells {dirty} have outputs or execution counts: clear them before commit"


# [text](target "title"), <a href="target">, <img src="target">
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*)?\)|(?:href|src)=[\"']([^\"']+)[\"']")
CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NB_IDS)
def test_notebook_relative_links_resolve(notebook: Path):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    broken = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = CODE.sub("", "".join(cell["source"]))
        for groups in LINK.findall(text):
            target = next(g for g in groups if g)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:  # URLs, mailto:, #anchors
                continue
            if not (notebook.parent / unquote(parts.path)).exists():
                broken.append(target)
    assert not broken, f"links to missing files: {broken}"


def test_the_binder_badge_follows_the_one_setting():
    import links  # tools/links.py

    url = links.repository()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert links.badge(url) in readme, "run `make links` after changing [project.urls] Repository"
    assert len(links.BADGE.findall(readme)) == 1
    assert (ROOT / links.START).exists()
    assert links.binder_url("https://github.com/a/b.git").startswith("https://mybinder.org/v2/gh/a/b/")
    with pytest.raises(ValueError, match="not a GitHub repository"):
        links.github_path("https://gitlab.com/a/b")


def _fenced_blocks(text: str) -> list[str]:
    return re.findall(r"```\w*\n(.*?)```", text, re.S)


def test_the_readme_conda_and_windows_commands_fit_the_files_they_name():
    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    blocks = _fenced_blocks(readme)
    conda = next(b for b in blocks if "conda env create" in b)
    assert "conda env create -f environment.yml" in conda
    assert f"conda activate {env['name']}" in conda, "the activate name is environment.yml's"
    start = "notebooks/00_start_here.ipynb"
    assert f"jupyter lab {start}" in conda and (ROOT / start).exists()
    windows = next(b for b in blocks if "py -m venv" in b)
    assert "py -m venv .venv" in windows
    assert r".venv\Scripts\python -m pip install -e ." in windows
    assert r".venv\Scripts\jupyter lab notebooks\00_start_here.ipynb" in windows


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NB_IDS)
def test_notebook_is_valid_nbformat(notebook: Path):
    import nbformat

    text = notebook.read_text(encoding="utf-8")
    # From the file itself: nbformat.reads quietly renames a repeated id (a warning only).
    ids = [c.get("id") for c in json.loads(text)["cells"]]
    assert len(set(ids)) == len(ids), "two cells share an id: give one a new id"
    nbformat.validate(nbformat.reads(text, as_version=4))  # e.g. 4.5 needs an id on every cell
