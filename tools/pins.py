"""The lock: the exact versions `make test` tested, for Binder and for `make test` itself.

    python tools/pins.py write     # from the running environment (make refresh-pins does it)
    python tools/pins.py check     # do the pins match what is installed here? (exit 1 if not)
    python tools/pins.py pip-args  # "-c binder/constraints.txt" on the pinned Python, else ""

Binder builds whatever versions are newest on the day unless told otherwise, and
"Error displaying widget" is what a learner sees when the kernel's ipywidgets and
JupyterLab's widget manager drift apart. So the pins cover every package the
course needs at run time (pyproject's dependencies and everything they need, on
Linux), and are written twice from one list:

- binder/environment.yml: Python X.Y from conda-forge, then the pins for pip;
- binder/constraints.txt: the same pins, which `make` installs with (`pip -c`) when
  its Python is the same X.Y, so that the versions CI tests are the versions Binder gets.

To move to newer versions: `make refresh-pins` (upgrade, write the pins), then
`make test`, then commit both files.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = ROOT / "binder" / "environment.yml"
CONSTRAINTS = ROOT / "binder" / "constraints.txt"


def normalize(name: str) -> str:
    """'Jupyter_Server' -> 'jupyter-server' (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def closure() -> dict[str, str]:
    """{name: installed version} of the runtime dependencies and all they need, here."""
    from packaging.requirements import Requirement  # installed with jupyterlab

    found: dict[str, str] = {}
    todo = [Requirement(r) for r in runtime_requirements()]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue  # another platform's, or an extra's
        name = normalize(req.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing = f"{req.name} is needed but not installed: run `make venv` first"
            raise SystemExit(missing) from None
        found[name] = dist.version
        todo.extend(Requirement(r) for r in dist.requires or [])
    return dict(sorted(found.items()))


def python_xy() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def write() -> None:
    pins = closure()
    lines = [f"{name}=={version}" for name, version in pins.items()]
    ENVIRONMENT.write_text("\n".join([
        "# What Binder (repo2docker) builds; with binder/ present it ignores the root files.",
        "# WRITTEN BY `make refresh-pins` (tools/pins.py) from the environment `make test`",
        "# tested: edit pyproject.toml, then refresh. Python is what repo2docker reads",
        "# (\"python=X.Y\"); pip installs the exact versions, the package itself in postBuild.",
        "name: concurrency-course",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python_xy()}",
        "  - pip",
        "  - pip:",
        *[f"      - {line}" for line in lines],
        "",
    ]), encoding="utf-8")  # fmt: skip
    CONSTRAINTS.write_text("\n".join([
        f"# python={python_xy()}  (the pins apply to this Python only; tools/pins.py)",
        "# WRITTEN BY `make refresh-pins`: the versions `make test` tested; the same as",
        "# binder/environment.yml's.",
        *lines,
        "",
    ]), encoding="utf-8")  # fmt: skip
    print(f"pinned {len(pins)} packages for Python {python_xy()} in {ENVIRONMENT.name} and "
          f"{CONSTRAINTS.name}")  # fmt: skip


def read_constraints() -> tuple[str, dict[str, str]]:
    """(python X.Y, {name: version}) from binder/constraints.txt."""
    text = CONSTRAINTS.read_text(encoding="utf-8")
    python = re.search(r"^# python=(\d+\.\d+)", text, re.M).group(1)
    pins = dict(line.split("==") for line in text.splitlines() if "==" in line)
    return python, pins


def read_environment() -> tuple[str, dict[str, str]]:
    """(python X.Y, {name: version}) from binder/environment.yml."""
    import yaml  # PyYAML comes with jupyterlab (jupyter-events)

    deps = yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    return python.split("=", 1)[1], dict(p.split("==") for p in pip)


def differences() -> list[str]:
    """What differs between the pins and this environment; [] when they agree."""
    python, pins = read_constraints()
    if python != python_xy():
        return [f"the pins are for Python {python}, this is {python_xy()}"]
    here = closure()
    out = [f"{n}: pinned {pins.get(n, '(not pinned)')}, installed {v}"
           for n, v in here.items() if pins.get(n) != v]  # fmt: skip
    out += [f"{n}: pinned {v}, but not needed any more" for n, v in pins.items() if n not in here]
    return out


def pip_args() -> str:
    """What `make` adds to pip install: the constraints, when this is the pinned Python."""
    python, _ = read_constraints()
    return f"-c {CONSTRAINTS.relative_to(ROOT)}" if python == python_xy() else ""


def main(argv: list[str]) -> int:
    if argv == ["pip-args"]:
        print(pip_args())
        return 0
    if argv == ["write"]:
        write()
        return 0
    if argv == ["check"]:
        diff = differences()
        print("\n".join(diff) or "the pins match this environment")
        return 1 if diff else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
