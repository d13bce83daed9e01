"""What this machine and this Python give us: usable cores, the GIL, the switch interval.

``os.cpu_count()`` counts the cores the machine has, not the ones this program
may use. Binder, containers and classroom machines often limit a program to
fewer: by CPU affinity (the cores the OS lets the process run on) or by a
cgroup CPU quota (a share of CPU time, e.g. "1 core's worth" on Binder).

    >>> import helpers
    >>> helpers.usable_cores() >= 1
    True
"""

from __future__ import annotations

import math
import os
import platform
import sys
import sysconfig
from pathlib import Path


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The cgroup CPU quota in cores (e.g. 1.0), or None where there is none."""
    try:  # cgroup v2: "max 100000" (no limit) or "100000 100000" (one core)
        quota, period = (root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1: a quota of -1 means no limit
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cores(root: Path = Path("/sys/fs/cgroup")) -> dict:
    """How many cores there are, and how many this process can really use.

    Returns a dict: ``cpu_count`` (the machine), ``affinity`` (cores the OS lets
    us run on), ``cgroup_quota`` (cores' worth of CPU time allowed, or None) and
    ``usable`` (the smallest of these, at least 1).
    """
    cpu_count = os.cpu_count() or 1
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpu_count
    quota = _cgroup_quota(root)
    usable = affinity if quota is None else min(affinity, max(1, math.floor(quota)))
    return {"cpu_count": cpu_count, "affinity": affinity, "cgroup_quota": quota, "usable": usable}


def usable_cores() -> int:
    """The number of cores this process can run on at the same instant."""
    return cores()["usable"]


def free_threaded_build() -> bool:
    """True for a free-threaded CPython build (3.13t, 3.14t), which can run without the GIL."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Is the GIL on right now? Always True before 3.13; a free-threaded build may turn it on."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def python_info() -> dict:
    """Python version, implementation, GIL state and switch interval, for titles and reports."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "switch_interval": sys.getswitchinterval(),
    }
