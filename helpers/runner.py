"""Run tasks in threads or in processes, record them, and return a Timeline.

    >>> import helpers
    >>> from helpers import workloads as w
    >>> tl = helpers.run_threads([w.cpu(0.2), w.cpu(0.2)])
    >>> tl = helpers.run_processes([w.cpu(0.2), w.cpu(0.2)], start_method="spawn")

A task is a built-in workload (helpers.workloads) or any callable that takes no
arguments (use functools.partial to give it some). The workers start together,
behind a barrier, so that the timeline shows them competing from the first
instant.

Shutdown is designed, not hoped for. If a task raises, or the learner
interrupts the kernel, or the run takes longer than ``timeout``, every other
worker is stopped and joined before the error reaches the caller. Processes
can be terminated. Threads cannot be killed (Python has no way to do it
safely), so they are asked to stop: built-in workloads check between chunks,
and automatically recorded code is stopped at its next function call.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext

from . import auto, system
from .recorder import Control, LaneRecorder, Stopped
from .timeline import RunInfo, Timeline
from .workloads import Workload

MAX_THREADS = 32
MAX_PROCESSES = 16
STOP_GRACE = 5.0  # seconds a stopped worker gets to finish before we give up on it
START_METHODS = ("spawn", "forkserver", "fork")

Task = Workload | Callable[[], object]


class TaskError(RuntimeError):
    """A task raised an exception. ``task_name`` says which; the cause is chained."""

    def __init__(self, task_name: str, message: str) -> None:
        super().__init__(message)
        self.task_name = task_name


def _task_name(task: Task, index: int) -> str:
    if isinstance(task, Workload):
        base = task.name
    else:  # a function, a functools.partial of one, or any callable object
        func = getattr(task, "func", task)
        base = getattr(func, "__name__", None) or type(task).__name__
    return f"{base}-{index + 1}"


def _check(tasks: Sequence[Task], names: Sequence[str] | None, cap: int, what: str) -> list[str]:
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
        return [_task_name(t, i) for i, t in enumerate(tasks)]
    if len(names) != len(tasks):
        raise ValueError(f"{len(names)} names for {len(tasks)} tasks")
    return [str(n) for n in names]


def _check_timeout(timeout: float) -> None:
    if not timeout > 0:
        raise ValueError(f"timeout must be more than 0 seconds, got {timeout}")


def _run_info(kind: str, start_method: str | None = None, switch_interval=None) -> RunInfo:
    py = system.python_info()
    cores = system.cores()
    return RunInfo(
        kind=kind,
        python=py["python"],
        gil_enabled=py["gil_enabled"],
        free_threaded_build=py["free_threaded_build"],
        switch_interval=switch_interval or py["switch_interval"],
        usable_cores=cores["usable"],
        cpu_count=cores["cpu_count"],
        start_method=start_method,
    )


def _work(task: Task, lane: LaneRecorder, barrier, timeout: float) -> None:
    """What every worker does: wait for the others, then run the task, recorded."""
    barrier.wait(timeout)
    lane.begin()
    if lane.auto:  # attached after begin() and detached before end(): record only the task
        auto.attach(lane)
    try:
        if isinstance(task, Workload):
            task.run(lane)
        else:
            task()
    finally:
        if lane.auto:
            auto.detach()
    lane.end()


# --- threads -------------------------------------------------------------------------


def run_threads(
    tasks: Sequence[Task],
    *,
    names: Sequence[str] | None = None,
    switch_interval: float | None = None,
    timeout: float = 60.0,
) -> Timeline:
    """Run each task in its own thread, all starting together; return the Timeline.

    ``switch_interval`` (seconds) sets sys.setswitchinterval for the run only:
    how long a thread may keep the GIL while another waits (default 0.005).
    """
    return start_threads(tasks, names=names, switch_interval=switch_interval,
                         timeout=timeout).wait()  # fmt: skip


def start_threads(
    tasks: Sequence[Task],
    *,
    names: Sequence[str] | None = None,
    switch_interval: float | None = None,
    timeout: float = 60.0,
    record_caller: bool = False,
) -> ThreadRun:
    """Start the tasks in threads and return at once, so that the caller stays free.

    ``record_caller=True`` also records the calling thread (in a notebook, the
    kernel's main thread, which handles widget events) until the run is over.
    Call ``.wait()`` on the result to get the Timeline:

        >>> run = helpers.start_threads([w.cpu(1.0)], record_caller=True)
        >>> ...                       # the notebook stays responsive meanwhile
        >>> tl = run.wait()
    """
    return ThreadRun(tasks, names, switch_interval, timeout, record_caller)


class ThreadRun:
    """Threads started by start_threads: ``done()``, ``stop()``, ``wait() -> Timeline``."""

    def __init__(self, tasks, names, switch_interval, timeout, record_caller) -> None:
        names = _check(tasks, names, MAX_THREADS, "threads")
        _check_timeout(timeout)
        if switch_interval is not None and not 0 < switch_interval <= 1:
            raise ValueError(
                f"switch_interval is in seconds, between 0 and 1; got {switch_interval}")
        self.timeout = timeout
        self.switch_interval = switch_interval
        self.control = Control()
        self.lanes = [LaneRecorder(n, self.control, auto=not isinstance(t, Workload))
                      for t, n in zip(tasks, names)]  # fmt: skip
        self.errors: list[tuple[str, BaseException]] = []
        self._barrier = threading.Barrier(len(tasks))
        self._threads = [
            threading.Thread(target=self._worker, args=(t, ln), name=ln.name, daemon=True)
            for t, ln in zip(tasks, self.lanes)
        ]
        self._caller = None
        if record_caller:  # the caller is recorded like any function: automatically
            name = threading.current_thread().name
            self._caller = LaneRecorder(f"{name} (caller)", Control(), auto=True, stoppable=False)
        self._old_interval = sys.getswitchinterval()
        self._finished = False
        self._running = len(tasks)  # workers not yet done
        self._lock = threading.Lock()
        self._recording_done = False
        self._deadline = time.monotonic() + timeout
        recorded = self._caller is not None or any(ln.auto for ln in self.lanes)
        self._recording = auto.automatic_recording() if recorded else nullcontext()
        self._recording.__enter__()
        try:
            if switch_interval is not None:
                sys.setswitchinterval(switch_interval)
            if self._caller is not None:
                auto.attach(self._caller)
                self._caller.begin()
            for th in self._threads:
                th.start()
        except BaseException:
            self._finish()
            raise

    def _worker(self, task, lane) -> None:
        try:
            _work(task, lane, self._barrier, self.timeout)
        except (Stopped, threading.BrokenBarrierError):
            pass  # the run is being stopped
        except BaseException as exc:  # noqa: BLE001 - reported to the caller by wait()
            self.errors.append((lane.name, exc))
            self.control.request_stop()
            self._barrier.abort()
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:  # stop recording the caller now, even if nobody ever calls wait()
                self._stop_recording()

    def _stop_recording(self) -> None:
        """Stop recording the caller and switch automatic recording off. Once."""
        with self._lock:
            if self._recording_done:
                return
            self._recording_done = True
        if self._caller is not None:
            self._caller.end()  # takes its last heartbeat only if run in the caller's thread
            auto.detach_other(self._caller)
        self._recording.__exit__(None, None, None)

    def done(self) -> bool:
        """True when every worker has finished (or the run was stopped)."""
        return self._finished or not any(th.is_alive() for th in self._threads)

    def stop(self) -> None:
        """Ask every worker to stop; ``wait()`` then collects what they did."""
        self.control.request_stop()
        self._barrier.abort()

    def wait(self) -> Timeline:
        """Wait for the workers (at most ``timeout`` from the start); return the Timeline."""
        try:
            for th in self._threads:  # join with a timeout, so that an interrupt gets through
                while th.is_alive() and not self.errors:
                    th.join(0.05)
                    if time.monotonic() > self._deadline:
                        raise TimeoutError(f"the run took longer than timeout={self.timeout} s")
        finally:
            self._finish()
        if self.errors:
            name, exc = self.errors[0]
            raise TaskError(name, f"task {name!r} raised {type(exc).__name__}: {exc}") from exc
        lanes = self.lanes + ([self._caller] if self._caller is not None else [])
        records = [ln.to_record() for ln in lanes]
        for r in records:
            r["process_name"] = f"this process (pid {r['pid']})"
        return Timeline.from_records(records, _run_info("threads", None, self.switch_interval))

    def _finish(self) -> None:
        """Stop and join every worker, stop recording, restore the switch interval. Once."""
        if self._finished:
            return
        self._finished = True
        try:
            self.stop()
            _join_threads(self._threads)
        finally:
            self._stop_recording()
            sys.setswitchinterval(self._old_interval)


def _join_threads(threads: list[threading.Thread]) -> None:
    end = time.monotonic() + STOP_GRACE
    for th in threads:
        th.join(max(0.0, end - time.monotonic()))
    stuck = [th.name for th in threads if th.is_alive()]
    if stuck:
        raise RuntimeError(
            f"thread(s) {stuck} did not stop within {STOP_GRACE:g} s. Threads cannot be "
            "killed from outside: they are daemon threads and will end with the kernel. "
            "Restart the kernel to be rid of them now."
        )


# --- processes -----------------------------------------------------------------------


def default_start_method() -> str:
    return mp.get_start_method(allow_none=True) or mp.get_all_start_methods()[0]


def _check_picklable(task: Task, name: str, start_method: str) -> None:
    main = sys.modules.get("__main__")
    interactive = not hasattr(main, "__file__")  # a notebook or the REPL
    module = getattr(task, "__module__", None)
    if start_method != "fork" and interactive and module == "__main__":
        raise ValueError(
            f"task {name!r} is defined in this notebook (module __main__). A process started "
            f"with {start_method!r} is a fresh Python that imports your task by name, and a "
            "notebook cannot be imported: define the function in a module (a .py file next "
            "to the notebook) and import it from there, or use a built-in workload."
        )
    try:
        pickle.dumps(task)
    except Exception as exc:
        raise ValueError(
            f"task {name!r} cannot be sent to another process ({type(exc).__name__}: {exc}). "
            "Lambdas, nested functions and objects holding locks or open files cannot be "
            "pickled: define the function at the top level of a module and import it."
        ) from exc


def _process_main(task, name, barrier, conn, switch_interval, timeout) -> None:
    """Runs in the child process: record the task and send the record home."""
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    lane = LaneRecorder(name, auto=not isinstance(task, Workload))
    try:
        with auto.automatic_recording() if lane.auto else nullcontext():
            _work(task, lane, barrier, timeout)
        conn.send(("ok", lane.to_record()))
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
    or "fork"; by default, the platform's.
    """
    names = _check(tasks, names, MAX_PROCESSES, "processes")
    _check_timeout(timeout)
    start_method = start_method or default_start_method()
    if start_method not in mp.get_all_start_methods():
        raise ValueError(f"start_method {start_method!r} is not available here; "
                         f"choose one of {mp.get_all_start_methods()}")  # fmt: skip
    for task, name in zip(tasks, names):
        _check_picklable(task, name, start_method)
    ctx = mp.get_context(start_method)
    barrier = ctx.Barrier(len(tasks))
    procs, conns = [], []
    for task, name in zip(tasks, names):
        receive, send = ctx.Pipe(duplex=False)
        args = (task, name, barrier, send, switch_interval, timeout)
        procs.append(ctx.Process(target=_process_main, args=args, name=name, daemon=True))
        conns.append((receive, send))
    results: dict[int, tuple[str, object]] = {}
    try:
        for p in procs:
            p.start()
        for _, send in conns:
            send.close()  # the child holds its own end; ours would hide a child's death
        _collect(procs, [r for r, _ in conns], results, timeout)
    finally:
        _stop_processes(procs, barrier)
        for receive, _ in conns:
            receive.close()
    records = []
    for i, p in enumerate(procs):
        status, payload = results[i]
        records.append({**payload, "process_name": f"process {payload['pid']} ({p.name})"})
    info = _run_info("processes", start_method, switch_interval)
    return Timeline.from_records(records, info)


def _collect(procs, receivers, results, timeout) -> None:
    """Wait for every child's record; stop at the first error, death or timeout."""
    deadline = time.monotonic() + timeout
    waiting = dict(enumerate(receivers))
    while waiting:
        ready = mp.connection.wait(list(waiting.values()), timeout=0.1)
        for i, conn in list(waiting.items()):
            if conn not in ready:
                continue
            try:
                status, payload = conn.recv()
            except EOFError:
                procs[i].join(1)
                raise TaskError(procs[i].name, f"process {procs[i].name!r} died without a "
                                f"result (exit code {procs[i].exitcode})") from None  # fmt: skip
            if status == "error":
                raise TaskError(procs[i].name, f"task {procs[i].name!r} raised {payload}")
            results[i] = (status, payload)
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
