"""`make lab`, the README's first command, serves the course in JupyterLab."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    Path(sys.prefix).resolve() != (REPO / ".venv").resolve(),
    reason="make lab uses the repository's .venv: this test runs under `make test`",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_make_lab_serves_the_start_notebook():
    port, token = free_port(), "course-make-lab-test"
    args = f"LAB_ARGS=--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    lab = subprocess.Popen(["make", "lab", args], cwd=REPO, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:  # JupyterLab serves the folder of the notebook it was asked to open
                status, body = get(f"{base}/api/contents/00_start_here.ipynb", token)
                break
            except urllib.error.HTTPError:
                raise
            except OSError:  # not listening yet
                if lab.poll() is not None:
                    raise AssertionError(f"make lab stopped: {lab.communicate()[0]}") from None
                if time.monotonic() > deadline:
                    raise AssertionError("make lab did not serve within 120 s") from None
                time.sleep(0.5)
        assert status == 200 and json.loads(body)["type"] == "notebook"
        status, page = get(f"{base}/lab/tree/00_start_here.ipynb", token)
        assert status == 200 and b"JupyterLab" in page
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
