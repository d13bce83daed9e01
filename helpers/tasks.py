"""What a task is, checked at the door, and what a worker does with it (threads and processes).

A task is a built-in workload (helpers.workloads) or any callable that takes no
arguments (use functools.partial to give it some). helpers.threads runs tasks
in threads, helpers.processes in processes; both check their input here first,
so a mistake gets the same clear error either way.

    >>> check_switch_interval(0.005)
    >>> check_switch_interval(0)
    Traceback (most recent call last):
    ...
    ValueError: switch_interval is in seconds, more than 0 and at most 1; got 0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import automatic, system
from .recorder import LaneRecorder
from .timeline import RunInfo
from .workloads import Workload

__all__ = ["MAX_PROCESSES", "MAX_THREADS", "STOP_GRACE", "Task", "TaskError", "check_names",
           "check_switch_interval", "check_tasks", "check_timeout", "run_info", "task_name",
           "work"]

# Caps on one run, so that a slip (a 0 too many) does not freeze a learner's laptop: more
# lanes than this no longer fit a picture, and more processes than cores only queue.
MAX_THREADS = 32
MAX_PROCESSES = 16
STOP_GRACE = 5.0  # seconds a stopped worker gets to finish before we give up on it

Task = Workload | Callable[[], object]


class TaskError(RuntimeError):
    """A task raised an exception. ``task_name`` says which; the cause is chained."""

    def __init__(self, task_name: str, message: str) -> None:
        super().__init__(message)
        self.task_name = task_name


def task_name(task: Task, index: int) -> str:
    """``cpu-1``, ``download-2``: the task's name and its place in the list."""
    if isinstance(task, Workload):
        base = task.name
    else:  # a function, a functools.partial of one, or any callable object
        func = getattr(task, "func", task)
        base = getattr(func, "__name__", None) or type(task).__name__
    return f"{base}-{index + 1}"


def check_tasks(tasks: Sequence[Task], names: Sequence[str] | None, cap: int,
                what: str) -> list[str]:  # fmt: skip
    """Check the task list; return one name per task."""
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence):
        kind = type(tasks).__name__
        raise TypeError(f"tasks must be a list of workloads or functions, not {kind}")
    if len(tasks) == 0:
        raise ValueError("no tasks: give at least one, e.g. [helpers.workloads.cpu(0.2)]")
    if len(tasks) > cap:
        raise ValueError(f"{len(tasks)} {what} is more than the cap of {cap}; use fewer tasks")
    for i, task in enumerate(tasks):
        if not isinstance(task, Workload) and not callable(task):
            raise TypeError(
                f"task {i} is a {type(task).__name__}, which cannot be run: give a workload "
                "(e.g. helpers.workloads.cpu(0.2)) or a function that takes no arguments"
            )
    if names is None:
        return [task_name(t, i) for i, t in enumerate(tasks)]
    return check_names(names, len(tasks), "task")


def check_names(names: Sequence[str], count: int, what: str) -> list[str]:
    """Lane names: one string per ``what`` ("task"), each its own (a lane is found by name)."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a list of strings, one per {what}, e.g. "
                        f"names=['A', 'B']; got a {type(names).__name__}")
    if len(names) != count:
        raise ValueError(f"{len(names)} names for {count} {what}s: give one name per {what}")
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"name {i} is {name!r}, not a string: write each name in quotes, "
                            "e.g. names=['A', 'B']")
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"names {list(names)}: give each {what} a name of its own "
                         f"({', '.join(map(repr, twice))} is given more than once)")
    return list(names)


def check_timeout(timeout: float) -> None:
    """A timeout is a number of seconds, more than 0."""
    if not timeout > 0:
        raise ValueError(f"timeout must be more than 0 seconds, got {timeout}")


def check_switch_interval(switch_interval: float | None) -> None:
    """None keeps Python's own (0.005 s); anything else must be in (0, 1] seconds."""
    if switch_interval is None:
        return
    if isinstance(switch_interval, bool) or not isinstance(switch_interval, (int, float)) \
            or not 0 < switch_interval <= 1:
        raise ValueError("switch_interval is in seconds, more than 0 and at most 1; "
                         f"got {switch_interval!r}")  # fmt: skip


def run_info(kind: str, start_method: str | None = None,
             switch_interval: float | None = None) -> RunInfo:  # fmt: skip
    py = system.python_info()
    cores = system.cores()
    return RunInfo(
        kind=kind, python=py["python"], gil_enabled=py["gil_enabled"],
        free_threaded_build=py["free_threaded_build"],
        switch_interval=switch_interval or py["switch_interval"],
        usable_cores=cores["usable"], cpu_count=cores["cpu_count"], start_method=start_method,
        cgroup_quota=cores["cgroup_quota"],
    )  # fmt: skip


def work(task: Task, lane: LaneRecorder) -> None:
    """What every worker does once the others are ready: run the task, recorded."""
    lane.begin()
    if lane.auto:  # attached after begin() and detached before end(): record only the task
        automatic.attach(lane)
    try:
        if isinstance(task, Workload):
            task.run(lane)
        else:
            task()
    finally:
        if lane.auto:
            automatic.detach()
        lane.end()  # also when the task raised: its CPU time, and no stale current lane
