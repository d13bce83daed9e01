"""The instructor's reference pictures: one command remakes them, and the committed set is whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "reference_pictures.py"
REFERENCE = ROOT / "docs" / "reference"


def pictures() -> list[str]:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import reference_pictures
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return list(reference_pictures.PICTURES)


def test_the_script_makes_a_picture_and_its_trace(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path),
                          "--only", "14_round_robin_generators,04_two_cpu_threads"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    for name in ("14_round_robin_generators", "04_two_cpu_threads"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        trace = json.loads((tmp_path / f"{name}.json").read_text())
        assert trace["otherData"]["recorded_on"]
    bad = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--only", "nope"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "unknown picture" in bad.stderr


@pytest.mark.parametrize("name", pictures())
def test_every_reference_picture_is_committed_and_listed(name):
    index = (REFERENCE / "README.md").read_text(encoding="utf-8")
    assert f"[{name}]({name}.png)" in index, "run `make reference-pictures` and commit the result"
    assert (REFERENCE / f"{name}.png").exists() and (REFERENCE / f"{name}.json").exists()
    notebook = index.split(f"[{name}]({name}.png) | [", 1)[1].split("]", 1)[0]
    assert (ROOT / "notebooks" / f"{notebook}.ipynb").exists()
