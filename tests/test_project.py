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

try:
    import tomllib
except ImportError:  # Python 3.10: pip vendors the same parser
    try:
        import tomli as tomllib
    except ImportError:
        from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
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
    assert _conda_names(ROOT / "binder" / "environment.yml") == runtime


def test_binder_postbuild_installs_the_package():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_repo2docker_renders_the_binder_dockerfile(tmp_path):
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is in the [test] extra")
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
    assert "python=3.12" in log


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
