"""What this machine and this Python give us: usable cores, the GIL, the switch interval.

Three numbers, three questions (``cores()`` gives them all): ``os.cpu_count()`` is how
many *logical CPUs* the machine has, not how many this program may use; *usable cores*
is on how many of them this process can run at the same instant (CPU affinity and a
cgroup cpuset limit that); a cgroup CPU *quota* (``cpu.max``, e.g. "1 core's worth" on
Binder) limits CPU time per period, not simultaneity: it caps the speed-up, not the
parallelism.

    >>> import helpers
    >>> 1 <= helpers.usable_cores() <= os.cpu_count()
    True
    >>> sorted(helpers.cores())
    ['affinity', 'at_once', 'cgroup_quota', 'cpu_count', 'cpuset', 'usable']
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PRESSURE = Path("/proc/pressure/cpu")  # Linux 4.20+: pressure stall information


__all__ = ["cores", "cpu_wait_us", "free_threaded_build", "gil_enabled", "parse_cpu_list",
           "python_info", "usable_cores"]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _own_cgroups(root: Path, controller: str, proc_cgroup: str | None = None) -> list[Path]:
    """The cgroup folders that can limit this process's ``controller``: its own and those above.

    A container sees its own cgroup as the root; on a shared machine (The Littlest
    JupyterHub, systemd) the limit sits on the process's own cgroup, further down:
    /proc/self/cgroup says where ("0::/path" for cgroup v2, "4:cpu,cpuacct:/path" for v1).
    """
    text = proc_cgroup if proc_cgroup is not None else _read(Path("/proc/self/cgroup")) or ""
    folders = [root, root / controller]  # a container's own cgroup, v2 and v1
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: one tree for every controller
            base = root
        elif controller in controllers.split(","):  # cgroup v1: a tree per controller
            base = root / controller
        else:
            continue
        parts = [p for p in path.strip("/").split("/") if p]
        folders += [base.joinpath(*parts[:n]) for n in range(len(parts), 0, -1)]
    return [f for f in dict.fromkeys(folders) if f.is_dir()]


def _quota_in(folder: Path) -> float | None:
    try:  # cgroup v2: "max 100000" (no limit) or "100000 100000" (one core's worth)
        quota, period = (_read(folder / "cpu.max") or "").split()
        return None if quota == "max" else int(quota) / int(period)
    except ValueError:
        pass
    try:  # cgroup v1: a quota of -1 means no limit
        quota = int(_read(folder / "cpu.cfs_quota_us") or "")
        period = int(_read(folder / "cpu.cfs_period_us") or "")
        return None if quota <= 0 else quota / period
    except ValueError:
        return None


def _cgroup_quota(root: Path = CGROUP, proc_cgroup: str | None = None) -> float | None:
    """The cgroup CPU quota in cores' worth of CPU time (e.g. 1.0), or None where there is none.

    The smallest quota on the way from this process's own cgroup up to the root.
    """
    quotas = [q for d in _own_cgroups(root, "cpu", proc_cgroup)
              if (q := _quota_in(d)) is not None]  # fmt: skip
    return min(quotas, default=None)


def parse_cpu_list(text: str) -> set[int]:
    """The CPUs of a Linux CPU list such as ``"0-3,8"``.

    >>> sorted(parse_cpu_list("0-2,5"))
    [0, 1, 2, 5]
    """
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _cgroup_cpuset(root: Path = CGROUP) -> set[int] | None:
    """The CPUs the cgroup cpuset lets this container run on, or None where there is none."""
    for path in (root / "cpuset.cpus.effective",  # cgroup v2
                 root / "cpuset" / "cpuset.effective_cpus",  # cgroup v1
                 root / "cpuset" / "cpuset.cpus"):  # fmt: skip
        text = _read(path)
        if text:
            try:
                return parse_cpu_list(text) or None
            except ValueError:
                return None
    return None


def cores(root: Path = CGROUP) -> dict:
    """How many CPUs there are, on how many this process can run at once, and its CPU quota.

    Returns a dict:
    ``cpu_count``    -- logical CPUs in the machine (``os.cpu_count()``);
    ``affinity``     -- CPUs the OS lets this process run on (``os.sched_getaffinity``);
    ``cpuset``       -- CPUs the cgroup cpuset allows, or None where there is none;
    ``usable``       -- CPUs this process can run on at the same instant: the smallest
                        of affinity and cpuset, at least 1 (what ``usable_cores()`` returns);
    ``cgroup_quota`` -- cores' worth of CPU *time* per period the cgroup allows, or None.
                        It does not lower ``usable``: it throttles, it does not serialize.
    ``at_once``      -- cores' worth of CPU time this process can use at once, over a
                        period: ``usable``, or the quota where that is smaller (a float).
                        What a speed-up from processes is bounded by: 1.0 under a quota of
                        one core, however many cores are usable.

    ``cpu_count`` counts hardware threads (with hyper-threading, two per physical core).
    ``os.process_cpu_count()`` (Python 3.13+) gives the affinity count; the cpuset is
    read here too. Under a quota two processes may run at the same instant on two cores,
    use up the quota together, then both wait (throttled) until the next period (100 ms
    usually).
    """
    cpu_count = os.cpu_count() or 1
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpu_count
    cpuset = _cgroup_cpuset(root)
    usable = max(1, min(affinity, len(cpuset) if cpuset else affinity))
    quota = _cgroup_quota(root)
    return {"cpu_count": cpu_count, "affinity": affinity,
            "cpuset": len(cpuset) if cpuset else None, "usable": usable,
            "cgroup_quota": quota, "at_once": float(min(usable, quota or usable))}  # fmt: skip


def cpu_wait_us(path: Path = PRESSURE) -> int | None:
    """Microseconds, since the machine started, during which some program on it was ready
    to run and waited for a CPU (Linux's pressure stall information, the "some" line);
    None where the OS does not say (macOS, Windows, older kernels).

    Read it before and after a run: the difference over the run's wall time is the share
    of the run in which programs queued for the cores (a busy machine)."""
    try:
        some = path.read_text().splitlines()[0]  # "some avg10=0.00 avg60=0.00 ... total=N"
        return int(some.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        return None


def usable_cores() -> int:
    """On how many cores this process can run at the same instant (affinity and cpuset).

    A CPU quota does not lower it: see ``cores()["cgroup_quota"]``.
    """
    return cores()["usable"]


def free_threaded_build() -> bool:
    """True for a free-threaded CPython build (3.13t, 3.14t), which can run without the GIL."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Is the GIL on right now? This, not the build, is what counts.

    Always True before 3.13. A free-threaded build (3.13t, 3.14t) starts without
    it, but turns it back on when it imports an extension module that does not
    declare it can run without the GIL (or when PYTHON_GIL=1 is set).
    """
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
