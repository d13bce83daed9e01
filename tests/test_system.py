"""Usable cores (affinity and cpuset), the cgroup CPU quota reported apart, and the GIL's state."""

from __future__ import annotations

import dataclasses
import os
import sys

import pytest

import helpers
from helpers import system


def make_cgroup(root, files: dict[str, str]) -> None:
    """Made-up cgroup files under ``root``, as the kernel would show them."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def four_cpus(monkeypatch) -> None:
    """A machine whose OS lets this process run on four CPUs."""
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    else:
        monkeypatch.setattr(os, "cpu_count", lambda: 4)


@pytest.mark.parametrize(
    "files, quota",
    [
        ({"cpu.max": "max 100000\n"}, None),  # cgroup v2, no limit
        ({"cpu.max": "100000 100000\n"}, 1.0),  # one core's worth (Binder)
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "50000 100000\n"}, 0.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({"cpu.max": "garbage\n"}, None),
        ({}, None),  # no cgroup files at all
    ],
)
def test_a_quota_is_reported_but_does_not_lower_the_usable_cores(tmp_path, monkeypatch, files,
                                                                quota):
    """A quota limits CPU time per period, not how many threads run at the same instant."""
    four_cpus(monkeypatch)
    make_cgroup(tmp_path, files)
    c = system.cores(tmp_path)
    assert c["cgroup_quota"] == quota
    assert (c["affinity"], c["cpuset"], c["usable"]) == (4, None, 4)


@pytest.mark.parametrize(
    "files, cpus, usable",  # usable: on a machine whose affinity allows four CPUs
    [
        ({"cpuset.cpus.effective": "0\n"}, 1, 1),  # cgroup v2
        ({"cpuset.cpus.effective": "0-1\n"}, 2, 2),
        ({"cpuset.cpus.effective": "0-3,8,10-11\n"}, 7, 4),  # the affinity is smaller
        ({"cpuset/cpuset.effective_cpus": "0\n"}, 1, 1),  # cgroup v1
        ({"cpuset/cpuset.cpus": "1\n"}, 1, 1),  # v1, older kernels
        ({"cpuset.cpus.effective": "\n"}, None, 4),  # empty: no limit to read
        ({"cpuset.cpus.effective": "zero\n"}, None, 4),
    ],
)
def test_a_cpuset_limits_the_usable_cores(tmp_path, monkeypatch, files, cpus, usable):
    four_cpus(monkeypatch)
    make_cgroup(tmp_path, {**files, "cpu.max": "100000 100000\n"})
    c = system.cores(tmp_path)
    assert (c["affinity"], c["cpuset"], c["usable"]) == (4, cpus, usable)
    assert c["cgroup_quota"] == 1.0  # reported beside it, whatever the cpuset says


def test_parse_cpu_list():
    assert system.parse_cpu_list("0") == {0}
    assert system.parse_cpu_list("0-2,5,7-8\n") == {0, 1, 2, 5, 7, 8}
    with pytest.raises(ValueError):
        system.parse_cpu_list("a-b")


def test_cores_on_this_machine():
    c = helpers.cores()
    assert 1 <= c["usable"] <= c["affinity"] <= c["cpu_count"]
    # Against the OS's own counts, not cores() again: one core too many fails here.
    assert c["cpu_count"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert helpers.usable_cores() <= len(os.sched_getaffinity(0)) == c["affinity"]
    if hasattr(os, "process_cpu_count"):  # 3.13+: the CPUs this process may use (affinity)
        assert os.process_cpu_count() == c["affinity"]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_usable_cores_follows_the_affinity():
    before = os.sched_getaffinity(0)
    was = helpers.usable_cores()
    assert was <= len(before)  # the OS's count bounds it
    try:
        os.sched_setaffinity(0, {min(before)})
        assert helpers.usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
    assert helpers.usable_cores() == was  # the affinity restored, the count comes back


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


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_a_quota_on_the_process_own_cgroup_counts_too(tmp_path, version):
    # The Littlest JupyterHub puts each learner in a systemd unit with its own CPU limit:
    # the root of the tree has none, the learner's cgroup has a quarter of a core.
    if version == "v2":
        own = tmp_path / "system.slice" / "jupyter-ann.service"
        own.mkdir(parents=True)
        (tmp_path / "cpu.max").write_text("max 100000\n")
        (own / "cpu.max").write_text("25000 100000\n")
        proc = "0::/system.slice/jupyter-ann.service\n"
    else:
        own = tmp_path / "cpu" / "system.slice" / "jupyter-ann.service"
        own.mkdir(parents=True)
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
        (own / "cpu.cfs_quota_us").write_text("25000\n")
        (own / "cpu.cfs_period_us").write_text("100000\n")
        proc = "4:cpu,cpuacct:/system.slice/jupyter-ann.service\n1:memory:/elsewhere\n"
    assert system._cgroup_quota(tmp_path, proc) == 0.25
    assert system._cgroup_quota(tmp_path, "0::/\n") is None  # the root alone: no limit


@pytest.mark.parametrize(
    "files, at_once",  # on a machine whose affinity allows four CPUs
    [
        ({"cpu.max": "max 100000\n"}, 4.0),  # no quota: the usable cores
        ({"cpu.max": "100000 100000\n"}, 1.0),  # Binder, a hub's `limits.cpu 1`
        ({"cpu.max": "25000 100000\n"}, 0.25),
        ({"cpu.max": "800000 100000\n"}, 4.0),  # a quota larger than the cores: the cores
        ({"cpu.max": "150000 100000\n", "cpuset.cpus.effective": "0\n"}, 1.0),  # one CPU
    ],
)
def test_at_once_is_the_smaller_of_the_usable_cores_and_the_quota(tmp_path, monkeypatch, files,
                                                                 at_once):
    four_cpus(monkeypatch)
    make_cgroup(tmp_path, files)
    assert system.cores(tmp_path)["at_once"] == at_once


def test_the_title_line_names_a_quota_only_where_there_is_one():
    info = helpers.timeline.RunInfo("threads", "3.13.0", True, False, 0.005, 8, 8)
    assert info.describe().endswith("· 8 usable cores")
    quota = dataclasses.replace(info, cgroup_quota=1.0)
    assert quota.describe().endswith("· 8 usable cores, a CPU quota of 1 core")
    assert "a CPU quota of 0.5 cores" in dataclasses.replace(info, cgroup_quota=0.5).describe()


def test_cpu_wait_is_read_from_the_pressure_file(tmp_path):
    psi = tmp_path / "cpu"
    psi.write_text("some avg10=1.50 avg60=0.80 avg300=0.20 total=123456789\n"
                   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert system.cpu_wait_us(psi) == 123_456_789
    psi.write_text("garbage\n")
    assert system.cpu_wait_us(psi) is None
    assert system.cpu_wait_us(tmp_path / "missing") is None  # macOS, Windows, old kernels
