"""Break the code on purpose, one way at a time, and see which checks notice (not run in CI).

Each mutation is applied to a temporary copy of the repository (this checkout is never
touched); the tests and notebooks that speak of it run there, and the script prints which
checks failed. A mutation that nothing catches is a hole in the suite: add the check.

    .venv/bin/python tools/mutations.py            # all three (a few minutes)
    .venv/bin/python tools/mutations.py cores      # one of them
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("02_concurrency_and_parallelism", "03_processes_threads_cores", "04_the_gil")
NOTEBOOKS = [f"notebooks/{n}.ipynb" for n in NAMES]

# name: (what it breaks, file, text, replacement, tests to run)
MUTATIONS = {
    "interleave": (
        "the recorder lets two threads' heartbeats interleave, as a free-threaded build would:"
        " each thread's heartbeats come every microsecond from its first one",
        "helpers/recorder.py",
        'beats=array("q", self.beats),',
        'beats=array("q", [self.beats[0] + k * 1_000 for k in range(len(self.beats))]),',
        [
            "tests/test_witness.py",
            "tests/test_gil_invariants.py",
            "tests/test_recorder.py",
            "tests/test_runner.py",
        ],
    ),  # fmt: skip
    "fast_tidy": (
        "the fast inference joins touching spans that differ only in being inferred"
        " (the plain rules' merge_adjacent keeps them apart)",
        "helpers/rules_fast.py",
        "alike = (prev.state, prev.label, prev.inferred) == (s.state, s.label, s.inferred)",
        "alike = (prev.state, prev.label) == (s.state, s.label)",
        ["tests/test_rule_parts.py", "tests/test_inference.py"],
    ),
    "cores": (
        "cores() says one usable core more than there is",
        "helpers/system.py",
        "usable = max(1, min(affinity, len(cpuset) if cpuset else affinity))",
        "usable = max(1, min(affinity, len(cpuset) if cpuset else affinity)) + 1",
        ["tests/test_system.py", "tests/test_witness.py"],
    ),
}


def copy_repo(dest: Path) -> None:
    """The checkout without its venv, caches and git objects (the venv is shared, read-only)."""
    skip = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", "*.egg-info",
                                  ".ruff_cache", "node_modules")  # fmt: skip
    shutil.copytree(ROOT, dest, ignore=skip)


def failures(cwd: Path, targets: list[str], nbval: bool) -> tuple[list[str], str]:
    """Run pytest on ``targets`` in ``cwd``: the ids of the checks that failed, and the tail."""
    args = [str(ROOT / ".venv/bin/python"), "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
            "--timeout=600", *(["--nbval-lax"] if nbval else []), *targets]  # fmt: skip
    # The venv's editable install points at this checkout: PYTHONPATH puts the copy first
    # (for pytest, the notebooks' kernels and the processes they start).
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    where = subprocess.run([args[0], "-c", "import helpers; print(helpers.__file__)"], cwd=cwd,
                           env=env, capture_output=True, text=True).stdout  # fmt: skip
    if not where.startswith(str(cwd)):
        raise SystemExit(f"the copy's helpers is not the one imported ({where.strip()})")
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    out = out.stdout
    failed = re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", out, re.M)
    return failed, out.strip().splitlines()[-1] if out.strip() else "(no output)"


def run(name: str) -> bool:
    what, path, old, new, tests = MUTATIONS[name]
    with tempfile.TemporaryDirectory(prefix=f"mutation-{name}-") as tmp:
        repo = Path(tmp) / "repo"
        copy_repo(repo)
        source = (repo / path).read_text()
        if source.count(old) != 1:
            raise SystemExit(
                f"{name}: the text to mutate is not in {path} once; update this script"
            )
        (repo / path).write_text(source.replace(old, new))
        print(f"\n== {name}: {what}\n   ({path})")
        caught = []
        for targets, nbval in ((tests, False), (NOTEBOOKS, True)):
            failed, last = failures(repo, targets, nbval)
            print(f"   {'notebooks' if nbval else 'tests'}: {last}")
            checks = Counter(re.sub(r"\[.*\]$", "", f) for f in failed)  # one line a test
            for check, times in checks.items():
                print(f"     caught by {check}" + (f" ({times} cases)" if times > 1 else ""))
            caught += failed
        print(f"   -> {'CAUGHT' if caught else 'NOT CAUGHT: add a check'} ({len(caught)} checks)")
        return bool(caught)


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in MUTATIONS]
    if unknown:
        raise SystemExit(f"unknown mutation {unknown}; choose from {sorted(MUTATIONS)}")
    results = {n: run(n) for n in names or MUTATIONS}
    print(
        "\nsummary:",
        ", ".join(f"{n} {'caught' if c else 'NOT caught'}" for n, c in results.items()),
    )
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
