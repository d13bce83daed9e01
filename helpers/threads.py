"""Threads, recorded: your own threading code, or tasks we start for you.

Record code written with the standard library, as you would write it anyway:

    >>> import threading, time
    >>> with helpers.recording() as rec:
    ...     t = threading.Thread(target=time.sleep, args=(0.05,), name="sleeper")
    ...     t.start()
    ...     t.join()
    >>> [lane.name for lane in rec.timeline.lanes]
    ['MainThread', 'sleeper']

Or hand us a list of tasks and get the timeline back (all start together, behind a
barrier, so that the picture shows them competing from the start):
``helpers.run_threads([w.cpu(0.05), w.cpu(0.05)])``; ``start_threads`` returns at once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext

from . import automatic
from .children import ChildProcesses
from .recorder import Control, LaneRecord, LaneRecorder, Stopped, now
from .tasks import (
    MAX_THREADS,
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

__all__ = ["Recording", "ThreadRun", "recording", "run_threads", "start_threads"]

_recording_lock = threading.Lock()  # one recording() at a time: it replaces Thread.start
_active: Recording | None = None  # the recording in progress in this process, if any


def _forget_after_fork() -> None:
    """A forked child is a copy of its parent, recording in progress included: the
    child starts with none (helpers.children records it with one of its own)."""
    global _recording_lock, _active
    if _active is not None:
        threading.Thread.start = _active._original_start
        automatic.detach()  # the forking thread's lane is the parent's, not ours
        _active = None
    _recording_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; spawn children start from nothing anyway
    os.register_at_fork(after_in_child=_forget_after_fork)


def _process_name() -> str:
    return f"this process (pid {os.getpid()})"


class Recording:
    """``with helpers.recording() as rec:`` records the calling thread and every thread
    and process started inside the block; ``rec.timeline`` is the Timeline once the
    block is over. (Processes: helpers.children.)

    How: while the block runs, ``threading.Thread.start`` is replaced by a version
    that wraps the thread's ``run`` so that the new thread records itself (the same
    automatic recording as run_threads uses). On leaving the block, by any path,
    the original ``start`` is put back and recording stops everywhere. Threads that
    are still running then go on, unrecorded; their lanes end where the block did (one
    still waiting, in ``q.get()`` say, shows that wait up to there).

    ``switch_interval`` (seconds) sets sys.setswitchinterval inside the block only.
    """

    def __init__(self, switch_interval: float | None = None) -> None:
        check_switch_interval(switch_interval)
        self.switch_interval = switch_interval
        self.control = Control()
        self.lanes: list[LaneRecorder] = []
        self._timeline: Timeline | None = None

    @property
    def timeline(self) -> Timeline:
        if self._timeline is None:
            raise RuntimeError("the timeline is ready when the `with` block is over")
        return self._timeline

    def __enter__(self) -> Recording:
        if not _recording_lock.acquire(blocking=False):
            raise RuntimeError("a recording is already running: recordings do not nest")
        global _active
        self._old_interval = sys.getswitchinterval()
        self._original_start = threading.Thread.start
        self._children = ChildProcesses(type(self), self.switch_interval)
        self._auto = automatic.automatic_recording()
        self._auto.__enter__()
        self._children.__enter__()
        caller = LaneRecorder(threading.current_thread().name, self.control, auto=True,
                              stoppable=False)  # fmt: skip
        self.lanes.append(caller)
        recording = self

        def start(thread: threading.Thread) -> None:  # Thread.start, recorded
            if getattr(thread, "_helpers_worker", False):  # run_threads records its own
                recording._original_start(thread)
                return
            lane = recording._wrap(thread)
            automatic.starting(lane)
            try:
                recording._original_start(thread)
            except BaseException:
                automatic.not_starting(lane)
                raise

        threading.Thread.start = start
        _active = self
        if self.switch_interval is not None:
            sys.setswitchinterval(self.switch_interval)
        caller.begin()
        automatic.attach(caller)
        return self

    def _wrap(self, thread: threading.Thread) -> LaneRecorder:
        lane = LaneRecorder(thread.name, self.control, auto=True, stoppable=False)
        lane.ready_ns = now()  # start() was called: from here the thread may run
        self.lanes.append(lane)
        run = thread.run

        def recorded_run() -> None:  # runs in the new thread
            lane.begin()
            automatic.attach(lane)
            try:
                run()
            finally:
                automatic.detach()
                lane.end()

        thread.run = recorded_run
        return lane

    def __exit__(self, exc_type, *exc) -> None:
        records = self.stop(failed=exc_type is not None)
        self._timeline = self._children.timeline(records)

    def stop(self, failed: bool = False) -> list[LaneRecord]:
        """Stop recording; return the lanes of this process, then those of its children.

        ``failed``: the block raised, so children still running are stopped too.
        """
        global _active
        caller = self.lanes[0]
        try:
            automatic.detach()
            caller.end()
            threading.Thread.start = self._original_start
            _active = None
            self.control.request_stop()  # recorded threads still running stop recording
            for lane in self.lanes[1:]:
                automatic.detach_other(lane)
                lane.end()  # from here: no heartbeat, but its CPU time so far
        finally:
            try:
                children = self._children.stop(failed)  # Process.start back; their lanes
            finally:
                self._auto.__exit__(None, None, None)
                sys.setswitchinterval(self._old_interval)
                _recording_lock.release()
        name = _process_name()
        return [ln.to_record(name) for ln in self.lanes if len(ln.beats)] + children


def recording(*, switch_interval: float | None = None) -> Recording:
    """Record the calling thread and every thread started in a ``with`` block.

        >>> with helpers.recording() as rec:
        ...     t = threading.Thread(target=sum, args=(range(10**6),))
        ...     t.start(); t.join()
        >>> fig = rec.timeline.plot()
    """
    return Recording(switch_interval)


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
    with ThreadRun(tasks, names, switch_interval, timeout, record_caller=False) as run:
        return run.wait()


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
    Call ``.wait()`` on the result to get the Timeline, or use it in a ``with``
    block, which stops and joins the workers on the way out:

        >>> with start_threads([w.cpu(0.05)], record_caller=True) as run:
        ...     total = sum(range(10**5))   # the caller is free meanwhile
        ...     tl = run.wait()
    """
    return ThreadRun(tasks, names, switch_interval, timeout, record_caller)


class ThreadRun:
    """Threads started by start_threads: ``done()``, ``stop()``, ``wait() -> Timeline``.

    Shutdown is designed, not hoped for. Whatever a run changed (recording, the
    switch interval) is put back when its last worker ends, whether or not
    anybody waits for it. If a task raises, the learner interrupts the kernel, or
    the run outlasts ``timeout``, every other worker is stopped and joined before
    the error reaches the caller. Threads cannot be killed (Python has no safe way
    to do it), so they are asked to stop: built-in workloads check between chunks,
    automatically recorded code at its next function call.
    """

    def __init__(self, tasks, names, switch_interval, timeout, record_caller) -> None:
        names = check_tasks(tasks, names, MAX_THREADS, "threads")
        check_timeout(timeout)
        check_switch_interval(switch_interval)
        self.timeout = timeout
        self.switch_interval = switch_interval
        self.control = Control()
        self.lanes = [LaneRecorder(n, self.control, auto=not isinstance(t, Workload))
                      for t, n in zip(tasks, names)]  # fmt: skip
        self.errors: list[tuple[str, BaseException]] = []
        # The barrier's action runs, holding the GIL, the instant all are free to run.
        self._barrier = threading.Barrier(len(tasks), action=self._all_ready)
        self._threads = []
        for task, lane in zip(tasks, self.lanes):
            th = threading.Thread(target=self._worker, args=(task, lane), name=lane.name,
                                  daemon=True)  # fmt: skip
            th._helpers_worker = True  # a recording() around this run leaves it to us
            self._threads.append(th)
        self._caller = None
        if record_caller:  # the caller is recorded like any function: automatically
            name = threading.current_thread().name
            self._caller = LaneRecorder(f"{name} (caller)", Control(), auto=True, stoppable=False)
        self._old_interval = sys.getswitchinterval()
        self._finished = False
        self._running = len(tasks)  # workers not yet done
        self._lock = threading.Lock()
        self._released = False
        self._deadline = time.monotonic() + timeout
        uses_auto = self._caller is not None or any(ln.auto for ln in self.lanes)
        self._recording = automatic.automatic_recording() if uses_auto else nullcontext()
        self._recording.__enter__()
        try:
            if switch_interval is not None:
                sys.setswitchinterval(switch_interval)
            if self._caller is not None:
                self._caller.begin()
                automatic.attach(self._caller)
            for th in self._threads:
                th.start()
        except BaseException:
            self._finish()
            raise

    def __enter__(self) -> ThreadRun:
        return self

    def _all_ready(self) -> None:
        ready = now()
        for lane in self.lanes:
            lane.ready_ns = ready

    def __exit__(self, *exc) -> None:
        self._finish()

    def _worker(self, task, lane) -> None:
        try:
            self._barrier.wait(self.timeout)
            work(task, lane)
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
            if last:  # put everything back now, even if nobody ever calls wait()
                self._release()

    def _release(self) -> None:
        """Stop recording the caller, switch recording off, restore the switch interval. Once."""
        with self._lock:
            if self._released:
                return
            self._released = True
        try:
            if self._caller is not None:
                self._caller.end()  # the last heartbeat only if run in the caller's thread
                automatic.detach_other(self._caller)
        finally:
            self._recording.__exit__(None, None, None)
            sys.setswitchinterval(self._old_interval)

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
        name = _process_name()
        records = [ln.to_record(name) for ln in lanes]
        from .rules_fast import build_timeline  # here: a spawned child needs no numpy
        return build_timeline(records, run_info("threads", None, self.switch_interval))

    def _finish(self) -> None:
        """Stop and join every worker, then put everything back. Once."""
        if self._finished:
            return
        self._finished = True
        try:
            self.stop()
            _join_threads(self._threads)
        finally:
            self._release()


def _join_threads(threads: list[threading.Thread]) -> None:
    end = time.monotonic() + STOP_GRACE
    for th in threads:
        if th.ident is not None:  # started
            th.join(max(0.0, end - time.monotonic()))
    stuck = [th.name for th in threads if th.is_alive()]
    if stuck:
        raise RuntimeError(
            f"thread(s) {stuck} did not stop within {STOP_GRACE:g} s. Threads cannot be "
            "killed from outside: they are daemon threads and will end with the kernel. "
            "Restart the kernel to be rid of them now."
        )
