"""Processes, recorded: each task in its own Python process, all starting together.

    >>> tl = helpers.run_processes([w.cpu(0.05), w.cpu(0.05)], start_method="spawn")
    >>> tl.lanes[0].spans[0].state      # a fresh Python takes a while to start
    'starting'

Each process lane begins with *starting*: from the moment the parent asked for the
process until the new Python ran its first line of our code. Then it waits at the start
line (blocked) until every process is ready, and runs its task. The child sends its
record home through a pipe. The child runs a function of this module, which it can
import, so every start method works: "spawn" (Windows, macOS), "forkserver" (Linux from
3.14) and "fork". No child outlives a run: on an error, an interrupt or a timeout,
children are asked to stop, then terminated, then killed.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import multiprocessing.connection
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from contextlib import nullcontext

from . import automatic
from .recorder import LaneRecorder, now
from .states import BLOCKED
from .tasks import (
    MAX_PROCESSES,
    STOP_GRACE,
    Task,
    TaskError,
    check_switch_interval,
    check_tasks,
    check_timeout,
    run_info,
    work,
)
from .timeline import Timeline
from .workloads import Workload

__all__ = ["START_METHODS", "default_start_method", "run_processes"]

START_METHODS = ("spawn", "forkserver", "fork")


def default_start_method() -> str:
    return mp.get_start_method(allow_none=True) or mp.get_all_start_methods()[0]


def _check_sendable(task: Task, name: str, start_method: str, what: str = "task") -> None:
    """Under spawn and forkserver the task is pickled: sent by name to a fresh Python.

    ``what`` names it in the error: "task" here, "the target of process" for a
    process started inside helpers.recording() (helpers.children).
    """
    if start_method == "fork":
        return  # the child is a copy of this process: it has the task already
    main = sys.modules.get("__main__")
    interactive = not hasattr(main, "__file__")  # a notebook or the REPL
    func = getattr(task, "func", task)  # functools.partial(f, ...) is sent as f, by name
    if interactive and getattr(func, "__module__", None) == "__main__":
        raise ValueError(
            f"{what} {name!r} is defined in this notebook (module __main__). A process started "
            f"with {start_method!r} is a fresh Python that imports your function by name, and a "
            "notebook cannot be imported: define the function in a module (a .py file next "
            "to the notebook) and import it from there, or use a built-in workload."
        )
    try:
        pickle.dumps(task)
    except Exception as exc:
        raise ValueError(
            f"{what} {name!r} cannot be sent to another process ({type(exc).__name__}: {exc}). "
            "Lambdas, nested functions and objects holding locks or open files cannot be "
            "pickled: define the function at the top level of a module and import it."
        ) from exc


def _process_main(task, name, barrier, conn, switch_interval, timeout) -> None:
    """Runs in the child process: record the task and send the record home."""
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    lane = LaneRecorder(name, auto=not isinstance(task, Workload))
    start_line = LaneRecorder(name)  # the first heartbeat and the wait for the others
    try:
        start_line.begin()
        with start_line.region(BLOCKED, "waiting for the others to start"):
            barrier.wait(timeout)
        with automatic.automatic_recording() if lane.auto else nullcontext():
            work(task, lane)
        lane.beats = start_line.beats + lane.beats
        lane.marks = start_line.marks + lane.marks
        record = lane.to_record(f"process {os.getpid()} ({name})")
        conn.send(("ok", record))
    except threading.BrokenBarrierError:
        conn.send(("stopped", None))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
        conn.send(("error", f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"))
    finally:
        conn.close()


def run_processes(
    tasks: Sequence[Task],
    *,
    names: Sequence[str] | None = None,
    start_method: str | None = None,
    switch_interval: float | None = None,
    timeout: float = 60.0,
) -> Timeline:
    """Run each task in its own process, all starting together; return the Timeline.

    ``start_method`` is "spawn" (Windows, macOS), "forkserver" (Linux from 3.14)
    or "fork"; by default, the platform's. A lambda or a function defined in the
    notebook works only with "fork": the others start a fresh Python that must
    import the task from a module.
    """
    names = check_tasks(tasks, names, MAX_PROCESSES, "processes")
    check_timeout(timeout)
    check_switch_interval(switch_interval)
    start_method = start_method or default_start_method()
    if start_method not in mp.get_all_start_methods():
        raise ValueError(f"start_method {start_method!r} is not available here; "
                         f"choose one of {mp.get_all_start_methods()}")  # fmt: skip
    for task, name in zip(tasks, names):
        _check_sendable(task, name, start_method)
    ctx = mp.get_context(start_method)
    barrier = ctx.Barrier(len(tasks))
    procs, conns = [], []
    for task, name in zip(tasks, names):
        receive, send = ctx.Pipe(duplex=False)
        args = (task, name, barrier, send, switch_interval, timeout)
        proc = ctx.Process(target=_process_main, args=args, name=name, daemon=True)
        proc._helpers_worker = True  # a recording() around this run leaves it to us
        procs.append(proc)
        conns.append((receive, send))
    requested = [0] * len(procs)
    results: dict[int, object] = {}
    try:
        for i, p in enumerate(procs):
            requested[i] = now()  # the lane's "starting" begins here
            p.start()
        for _, send in conns:
            send.close()  # the child holds its own end; ours would hide a child's death
        _collect(procs, [r for r, _ in conns], results, timeout)
    finally:
        _stop_processes(procs, barrier)
        for receive, _ in conns:
            receive.close()
    records = [dataclasses.replace(results[i], requested_ns=requested[i])
               for i in range(len(procs))]  # fmt: skip
    from .rules_fast import build_timeline  # here: a spawned child needs no numpy
    return build_timeline(records, run_info("processes", start_method, switch_interval))


def _collect(procs, receivers, results, timeout) -> None:
    """Wait for every child's record; stop at the first error, death or timeout."""
    deadline = time.monotonic() + timeout
    waiting = dict(enumerate(receivers))
    while waiting:
        ready = mp.connection.wait(list(waiting.values()), timeout=0.1)
        for i, conn in list(waiting.items()):
            if conn not in ready:
                continue
            name = procs[i].name
            try:
                status, payload = conn.recv()
            except EOFError:
                procs[i].join(1)
                raise TaskError(name, f"process {name!r} died without a result "
                                f"(exit code {procs[i].exitcode})") from None  # fmt: skip
            if status == "error":
                raise TaskError(name, f"task {name!r} raised {payload}")
            if status == "stopped":
                raise TaskError(name, f"process {name!r} gave up waiting for the other "
                                f"processes to start (timeout={timeout} s): the machine "
                                "may be very busy, or a process failed to start")  # fmt: skip
            results[i] = payload
            del waiting[i]
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"the run took longer than timeout={timeout} s")


def _stop_processes(procs, barrier) -> None:
    """Make sure no child outlives the run: ask, then terminate, then kill."""
    try:
        barrier.abort()  # children still waiting at the barrier give up
    except Exception:  # noqa: BLE001 - the barrier's manager may be gone already
        pass
    for p in procs:
        if p.pid is not None:
            p.join(0.5 if p.is_alive() else 0)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        if p.pid is not None:
            p.join(STOP_GRACE)
            if p.is_alive():
                p.kill()
                p.join()
