"""Records, for each thread, the instants at which it ran Python code.

Under the GIL only the thread that holds it executes Python bytecode, so a timestamp that
a thread took by running Python code proves that it held the GIL then. A thread records
such timestamps ("heartbeats") while it works, and marks the regions where it blocked
(sleep, I/O, a lock) or sat in one long C call. Recording must be cheap, or it changes
what it measures: a heartbeat is one ``time.perf_counter_ns()`` appended to the thread's
own ``array('q')``, with no lock and no object per event. Built-in workloads
(helpers.workloads) beat themselves; any other code is recorded by helpers.automatic.

    >>> lane = LaneRecorder("worker")
    >>> lane.begin(); lane.beat(); lane.end()
    >>> len(lane.beats)
    3
    >>> lane.to_record("this process").name     # plain data, for the rules (helpers.rules)
    'worker'
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from .states import BLOCKED, C_CALL, C_CALL_NO_GIL

__all__ = ["C_CALL_AUTO", "COMPUTED_SHARE", "MERGE_GAP_NS", "REGION_KINDS", "WAITS", "Control",
           "LaneRecord", "LaneRecorder", "Mark", "Stopped", "current_lane", "cut_short_note", "now"]

now = time.perf_counter_ns  # CLOCK_MONOTONIC on Linux: the same clock in every process

# The recorder's words (not states: none of them is drawn as such).
# What a marked region may be: a built-in workload knows what its region is, so it names
# the state itself.
REGION_KINDS = (BLOCKED, C_CALL, C_CALL_NO_GIL)
# The kind automatic recording gives a long C call of learner code: whether it kept the
# GIL, and whether it computed or waited, is decided afterwards from evidence (rule 6).
C_CALL_AUTO = "C call, to be decided"
# Heartbeats closer than this belong to one running span: the resolution of the picture.
# 200 us is far below what a timeline of a run shows (a 1,000-px picture of 100 ms draws
# 100 us a pixel) and far above a heartbeat's own cost (about 0.1 us).
MERGE_GAP_NS = 200_000
# A C call that used at least this share of a core over its length computed; one that
# used less waited. Waits (sleep, I/O, a lock) use almost none (0.2-2% measured here). A
# computation got 46% of a core at load 3.5 on 2 cores, but 5-18% on a crowded core (load
# 18, or five processes pinned to its core): so where Linux says how long a call waited
# for a core, its CPU share is taken over the rest of its length (helpers.automatic).
COMPUTED_SHARE = 0.2
# Automatic C calls that let the GIL go whenever they wait (CPython's time.sleep, a lock's
# acquire, a thread's join, select's polls), by label, as automatic names them: one that
# did not compute waited, known from CPython's source, not inferred (rule 6).
WAITS = frozenset({
    "time.sleep", "thread.lock.acquire", "thread.RLock.acquire", "thread._ThreadHandle.join",
    "select.poll.poll", "select.epoll.poll", "select.select", "Queue.get", "Queue.put",
    "Queue.join", "Condition.wait", "Condition.wait_for", "Event.wait", "Semaphore.acquire",
    "Barrier.wait", "Thread.join", "Future.result", "Process.join",
})  # fmt: skip


def cut_short_note(at_ms: float, names: list[str]) -> str:
    """What a timeline says when lanes reached the cap on heartbeats kept in memory."""
    return (f"Recording stopped at {at_ms:.0f} ms: {', '.join(names)} reached the cap on "
            "heartbeats kept in memory. The timeline shows what came before.")


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


class Mark(NamedTuple):
    """A marked region of one thread: a sleep, a lock, one long C call.

    A tuple, so that marks sort by start time. ``cpu_ns`` is the CPU time the thread
    used inside it, or -1 where it was not measured. Where the OS says how long the
    thread waited for a core meanwhile (Linux), automatic recording scales it up to the
    time it did not (helpers.automatic): the share of a core it used when not queued.
    """

    start: int  # perf_counter ns
    end: int
    kind: str  # one of REGION_KINDS, or C_CALL_AUTO
    label: str  # what it was, e.g. "sleep", "lock 'a'", "hashlib.HASH.update"
    cpu_ns: int = -1


@dataclass
class LaneRecord:
    """Everything recorded about one thread, as plain data (it pickles: processes send it).

    The runner builds it complete; the rules read it; nobody edits it after.
    """

    name: str  # the lane's name on the picture, e.g. "cpu-1" or "Thread-3 (download)"
    process_name: str  # the group it is drawn in, e.g. "this process (pid 812)"
    pid: int
    native_id: int  # the operating system's thread id, as perf, top and py-spy show it
    auto: bool  # recorded automatically (any code) rather than by a built-in workload
    cpu_ns: int  # CPU time the thread used, measured by the OS (time.thread_time)
    beats: array  # heartbeats, perf_counter nanoseconds, in time order
    marks: list[Mark] = field(default_factory=list)
    requested_ns: int = 0  # a process: when the parent asked for it (0 for a thread)
    ready_ns: int = 0  # a thread: when it could have started running (0: at its first beat)
    # "thread", or "task": a generator or coroutine stepped on a thread (helpers.steps);
    # a task's beats are the start and end of each step.
    kind: str = "thread"
    open_until: int = 0  # a task still suspended when recording ended: awaiting until then
    truncated_at: int = 0  # when recording stopped at the memory cap (0: it did not)

    def __post_init__(self) -> None:
        self.marks = [Mark(*m) for m in self.marks]  # (start, end, kind, label, cpu) is a Mark


def _open_schedstat() -> int | None:
    """The calling thread's scheduler statistics (Linux): CPU time, run-queue wait, slices."""
    try:
        return os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except (OSError, AttributeError):  # not Linux (or /proc not mounted)
        return None


_current = threading.local()  # the lane the calling thread records into, if any


def current_lane() -> LaneRecorder | None:
    """The lane of the calling thread while it is being recorded, else None.

    For code that wants to mark a region in whatever lane records it, e.g. a
    recorded lock: ``lane = current_lane(); with lane.region(BLOCKED, "lock a"): ...``
    """
    lane = getattr(_current, "lane", None)
    return None if lane is None or lane.control.stop else lane


class LaneRecorder:
    """What one thread records while it runs one task.

    ``beats``  -- array of perf_counter_ns timestamps, each taken while running Python
    ``marks``  -- list of (start_ns, end_ns, kind, label, cpu_ns): blocking and C-call regions
    """

    def __init__(self, name: str, control: Control | None = None, auto: bool = False,
                 stoppable: bool = True) -> None:  # fmt: skip
        self.name = name
        self.control = control or Control()
        self.auto = auto  # recorded automatically rather than by a built-in workload
        # False for a thread we only watch (the notebook's own, or a learner's thread):
        # when the run is stopped, recording of it ends, but nothing is raised in it.
        self.stoppable = stoppable
        self.beats = array("q")
        self.marks: list[Mark] = []
        self.pid = os.getpid()
        self.native_id = 0
        self.cpu_ns = 0  # CPU time the thread used for the task (time.thread_time_ns)
        self.truncated_at = 0  # set by automatic recording when it hits its memory cap
        self.ready_ns = 0  # set by the runner: when the thread was free to run
        self._cpu_start = 0
        self._cpu_clock: int | None = None  # this thread's CPU clock, readable from others
        self.cpu_seen = (0, 0)  # the thread's CPU time at some instant: (perf_counter_ns, ns)
        self._schedstat: int | None = None  # Linux: a file that says the thread's run-queue wait
        self.queue_seen = (0, -1)  # its run-queue wait at some instant: (perf_counter_ns, ns)
        # Automatic recording: (thread ident, the C calls in progress), see helpers.automatic.
        self.open_calls: tuple[int, list] | None = None

    def begin(self) -> None:
        """Called in the recorded thread, just before its work."""
        self.pid = os.getpid()
        self.native_id = threading.get_native_id()
        if hasattr(time, "pthread_getcpuclockid"):  # Unix: lets end() run in another thread
            self._cpu_clock = time.pthread_getcpuclockid(threading.get_ident())
        self._cpu_start = time.thread_time_ns()
        _current.lane = self
        self._schedstat = _open_schedstat()
        self.beats.append(now())
        self.cpu_seen = (self.beats[-1], self._cpu_start)  # (when, CPU time): helpers.automatic
        self.queue_seen = (self.beats[-1], self.run_queue_ns())

    def end(self) -> None:
        """Called just after the work: the last heartbeat, and the CPU time used.

        Called from another thread (to stop recording a thread that runs on),
        it cannot take a heartbeat for it, but it can still read that thread's
        CPU clock (on Unix).
        """
        if threading.get_native_id() == self.native_id:
            self.beats.append(now())
            self.cpu_ns = time.thread_time_ns() - self._cpu_start
            if getattr(_current, "lane", None) is self:
                _current.lane = None
        else:
            try:
                cpu = self.cpu_clock_ns()
            except OSError:  # the thread has ended since: its clock is gone
                cpu = None
            if cpu is not None:
                self.cpu_ns = cpu - self._cpu_start
        if self._schedstat is not None:  # after the last heartbeat: closing may let go of the GIL
            fd, self._schedstat = self._schedstat, None
            os.close(fd)

    def cpu_clock_ns(self) -> int | None:
        """The recorded thread's CPU clock (ns), read from any thread; None where no
        thread's clock can be read from another (not Unix). OSError once it has ended."""
        return None if self._cpu_clock is None else time.clock_gettime_ns(self._cpu_clock)

    def run_queue_ns(self) -> int:
        """How long, in all, this thread has been ready to run but waiting for a core.

        Linux counts it (/proc/thread-self/schedstat); elsewhere -1. Read in the
        recorded thread, between begin() and end().
        """
        if self._schedstat is None:
            return -1
        try:
            return int(os.pread(self._schedstat, 64, 0).split()[1])
        except (OSError, ValueError, IndexError):
            return -1

    def beat(self) -> None:
        """Record that this thread is running Python code right now."""
        self.beats.append(now())

    @contextmanager
    def region(self, kind: str, label: str, expected_s: float | None = None):
        """Mark a region: ``with lane.region(BLOCKED, "sleep", 1.0): time.sleep(1)``.

        ``kind`` is the state the region is in: BLOCKED, C_CALL or C_CALL_NO_GIL.
        The timestamps at both ends are heartbeats too: the thread ran Python
        code to take them. A thread that wakes up must get the GIL back before
        it can take the end timestamp; where the wait's length is known
        (``expected_s``, a sleep or a timeout), the region ends when the wait
        did, and the time after it shows as what it was: waiting for the GIL.
        """
        if kind not in REGION_KINDS:
            raise ValueError(f"a region's kind is one of {REGION_KINDS}, not {kind!r}")
        start = now()
        self.beats.append(start)
        try:
            yield
        finally:
            end = now()
            self.beats.append(end)
            if expected_s is not None:
                end = min(end, start + int(expected_s * 1e9))
            self.marks.append(Mark(start, end, kind, label))

    def check_stop(self) -> None:
        if self.control.stop and self.stoppable:
            raise Stopped(self.name)

    def to_record(self, process_name: str, requested_ns: int = 0) -> LaneRecord:
        """The finished lane as a LaneRecord (plain data)."""
        return LaneRecord(
            name=self.name, process_name=process_name, pid=self.pid,
            native_id=self.native_id, auto=self.auto, cpu_ns=self.cpu_ns,
            beats=array("q", self.beats), marks=list(self.marks), requested_ns=requested_ns,
            ready_ns=self.ready_ns, truncated_at=self.truncated_at,
        )  # fmt: skip
