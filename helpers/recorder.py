"""Records, for each thread, the instants at which it ran Python code.

The principle: under the GIL only the thread that holds it executes Python
bytecode. So a timestamp that a thread took by running Python code proves that
the thread held the GIL at that instant. A thread records such timestamps
("heartbeats") while it works, and marks the regions where it blocked (sleep,
I/O, a lock) or sat in one long C call. The timeline module turns these
records into spans of time with a state.

Recording has to be cheap, or it changes what it measures: a heartbeat is one
``time.perf_counter_ns()`` appended to an ``array('q')`` that belongs to the
thread, with no lock and no object allocated per event.

Two ways to record:

* Built-in workloads (helpers.workloads) call ``lane.beat()`` themselves and
  mark their blocking regions with ``lane.region(...)``.
* Any other function is recorded automatically (helpers.auto): ``sys.monitoring``
  on Python 3.12+, ``sys.setprofile`` on 3.10 and 3.11.

Example::

    >>> lane = LaneRecorder("worker")
    >>> lane.begin(); lane.beat(); lane.end()
    >>> len(lane.beats)
    3
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from contextlib import contextmanager

now = time.perf_counter_ns  # CLOCK_MONOTONIC on Linux: the same clock in every process

# Kinds of marked region. What each means for the GIL:
BLOCKED = "blocked"  # the thread released the GIL (sleep, I/O, waiting on a lock)
C_CALL = "c_call"  # one long C call that keeps the GIL (e.g. sum(range(10**8)))
C_CALL_UNKNOWN = "c_call?"  # a C call seen by automatic recording: it may or may not release it


class Stopped(Exception):
    """Raised inside a worker to stop it because the run is being stopped."""


class Control:
    """Shared by the workers of one run (in one process): asks them to stop.

    Threads cannot be killed from outside, so stopping is cooperative: built-in
    workloads check ``stop`` between chunks of work, and automatic recording
    raises Stopped at the next recorded event.
    """

    def __init__(self) -> None:
        self.stop = False  # a plain attribute: the cheapest thing to check in a hot loop
        self.event = threading.Event()  # wakes workers that sleep or wait

    def request_stop(self) -> None:
        self.stop = True
        self.event.set()


class LaneRecorder:
    """What one thread records while it runs one task.

    ``beats``  -- array of perf_counter_ns timestamps, each taken while running Python
    ``marks``  -- list of (start_ns, end_ns, kind, label, cpu_ns): blocking and C-call
                  regions; cpu_ns is the thread's CPU time during the region, -1 if not measured
    ``truncated_at`` -- 0, or when automatic recording of this lane stopped because it
                  reached its cap (helpers.auto.MAX_BEATS)
    """

    def __init__(self, name: str, control: Control | None = None, auto: bool = False,
                 stoppable: bool = True) -> None:
        self.name = name
        self.control = control or Control()
        self.auto = auto  # recorded automatically rather than by a built-in workload
        # False for a thread we only watch (the notebook's own): when the run is
        # stopped, recording of it ends, but nothing is raised in it.
        self.stoppable = stoppable
        self.beats = array("q")
        self.marks: list[tuple[int, int, str, str, int]] = []
        self.truncated_at: int = 0
        self.pid = os.getpid()
        self.native_id = 0
        self.cpu_ns = 0  # CPU time the thread used for the task (time.thread_time_ns)
        self._cpu_start = 0

    def begin(self) -> None:
        """Called by the runner in the worker thread, just before the task."""
        self.pid = os.getpid()
        self.native_id = threading.get_native_id()
        self._cpu_start = time.thread_time_ns()
        self.beats.append(now())

    def end(self) -> None:
        """Called by the runner in the worker thread, just after the task."""
        if threading.get_native_id() != self.native_id:
            return  # only the thread itself can prove it ran, and measure its CPU time
        self.beats.append(now())
        self.cpu_ns = time.thread_time_ns() - self._cpu_start

    def beat(self) -> None:
        """Record that this thread is running Python code right now."""
        self.beats.append(now())

    @contextmanager
    def region(self, kind: str, label: str, expected_s: float | None = None):
        """Mark a region: ``with lane.region(BLOCKED, "sleep", 1.0): time.sleep(1)``.

        The timestamps at both ends are heartbeats too: the thread ran Python
        code to take them. A thread that wakes up must get the GIL back before
        it can take the end timestamp; where the wait's length is known
        (``expected_s``, a sleep or a timeout), the region ends when the wait
        did, and the time after it shows as what it was: waiting for the GIL.
        """
        start = now()
        self.beats.append(start)
        try:
            yield
        finally:
            end = now()
            self.beats.append(end)
            if expected_s is not None:
                end = min(end, start + int(expected_s * 1e9))
            self.marks.append((start, end, kind, label, -1))

    def check_stop(self) -> None:
        if self.control.stop and self.stoppable:
            raise Stopped(self.name)

    def to_record(self) -> dict:
        """Plain data, cheap to pickle, to send from a child process to the parent."""
        return {
            "name": self.name,
            "auto": self.auto,
            "pid": self.pid,
            "native_id": self.native_id,
            "cpu_ns": self.cpu_ns,
            "beats": self.beats.tobytes(),
            "marks": list(self.marks),
        }
