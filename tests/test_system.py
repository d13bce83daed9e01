"""Usable cores (affinity and the cgroup quota) and the GIL's state."""

from __future__ import annotations

import os
import sys

import pytest

import helpers
from helpers import system


@pytest.mark.parametrize(
    "files, quota",
    [
        ({"cpu.max": "max 100000\n"}, None),  # cgroup v2, no limit
        ({"cpu.max": "100000 100000\n"}, 1.0),  # one core's worth (Binder)
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({}, None),  # no cgroup files at all
    ],
)
def test_cgroup_quota(tmp_path, files, quota):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    c = system.cores(tmp_path)
    assert c["cgroup_quota"] == quota
    if quota is not None:
        assert c["usable"] == max(1, min(c["affinity"], int(quota)))
    else:
        assert c["usable"] == c["affinity"]
    assert c["usable"] >= 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_usable_cores_follows_the_affinity():
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert helpers.usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
    assert helpers.usable_cores() == min(len(before), helpers.cores()["usable"])


def test_gil_state(monkeypatch):
    # Before 3.13 there is no free-threaded build: the GIL is always on.
    if sys.version_info < (3, 13):
        assert helpers.gil_enabled() and not helpers.free_threaded_build()
    # gil_enabled() asks the interpreter at run time (a free-threaded build can turn the
    # GIL back on), not the build: checked with a stand-in for sys._is_gil_enabled.
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert helpers.gil_enabled() is False and helpers.python_info()["gil_enabled"] is False
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    assert helpers.gil_enabled() is True
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert helpers.gil_enabled() is True  # before 3.13: no way to turn it off
