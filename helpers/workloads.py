"""Built-in workloads: small, well-understood kinds of work that record themselves.

Each workload records a heartbeat every few microseconds of Python work and
marks the regions where it blocks or sits in a C call, so its timeline is
measured, not guessed. Pass them to helpers.run_threads or helpers.run_processes:

    >>> import helpers
    >>> tl = helpers.run_threads([helpers.workloads.cpu(0.05), helpers.workloads.sleep(0.05)])

A workload's ``seconds`` means "about this long when it runs alone on this
machine": ``cpu(0.2)`` is a fixed amount of work, calibrated once per process,
so two of them in two threads take about 0.4 s under the GIL.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field

from .recorder import LaneRecorder
from .states import BLOCKED, C_CALL, C_CALL_NO_GIL

__all__ = ["MAX_SECONDS", "Workload", "by_name", "c_call_holds_gil", "c_call_releases_gil", "cpu",
           "io", "lock_wait", "sleep"]

MAX_SECONDS = 60.0  # a workload longer than a minute is a slip (a 0 too many), not a lesson
_CHUNK = 400  # loop iterations between two heartbeats: about 10 microseconds of work


def _check_seconds(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"seconds must be a number, not {type(seconds).__name__}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}, got {seconds}")
    return float(seconds)


def _chunk() -> int:
    """One chunk of pure-Python work: the thing the CPU workload repeats."""
    x = 0
    for i in range(_CHUNK):
        x += i * i
    return x


_rates: dict[str, float] = {}  # what this machine does per second, measured once per process


def _rate(name: str, measure) -> float:
    # Measured in CPU time (time.thread_time), which a busy machine cannot stretch.
    if name not in _rates:
        measure()  # warm up: the first run pays for caches and page faults
        best = 0.0
        for _ in range(3):  # best of three: a busy machine only ever makes a run slower
            amount, elapsed = measure()
            best = max(best, amount / elapsed)
        _rates[name] = best
    return _rates[name]


def _measure_chunks() -> tuple[float, float]:
    n = 500
    t0 = time.thread_time()
    for _ in range(n):
        _chunk()
    return n, time.thread_time() - t0


def _measure_sum() -> tuple[float, float]:
    n = 2_000_000
    t0 = time.thread_time()
    sum(range(n))
    return n, time.thread_time() - t0


def _measure_hash() -> tuple[float, float]:
    data = bytes(4 << 20)
    t0 = time.thread_time()
    hashlib.sha256(data).digest()
    return len(data), time.thread_time() - t0


class Workload:
    """Base class: a named piece of work that records itself into a lane."""

    name = "workload"
    seconds: float

    def run(self, lane: LaneRecorder) -> None:  # pragma: no cover - subclasses define it
        raise NotImplementedError


@dataclass
class Cpu(Workload):
    """Pure-Python arithmetic: holds the GIL the whole time it runs."""

    seconds: float
    chunks: int = field(init=False)
    name = "cpu"

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)
        self.chunks = max(1, round(self.seconds * _rate("cpu", _measure_chunks)))

    def run(self, lane: LaneRecorder) -> None:
        beat = lane.beats.append
        clock = time.perf_counter_ns
        control = lane.control
        chunk = _chunk
        for _ in range(self.chunks):
            chunk()
            beat(clock())
            if control.stop:
                lane.check_stop()


@dataclass
class Sleep(Workload):
    """Sleeps: blocked, with the GIL released."""

    seconds: float
    name = "sleep"

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)

    def run(self, lane: LaneRecorder) -> None:
        # Event.wait(seconds) sleeps exactly like time.sleep (the GIL is released)
        # but wakes at once if the run is stopped.
        with lane.region(BLOCKED, "sleep", expected_s=self.seconds):
            lane.control.event.wait(self.seconds)
        lane.check_stop()


@dataclass
class IO(Workload):
    """Waits for data on a local socket, like a download waiting for the network.

    The answer "arrives" after ``seconds`` spread over a few requests; meanwhile
    the thread is blocked in the operating system with the GIL released.
    """

    seconds: float
    requests: int = 4
    name = "io"

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)

    def run(self, lane: LaneRecorder) -> None:
        here, there = socket.socketpair()
        try:
            wait = self.seconds / self.requests
            for _ in range(self.requests):
                lane.check_stop()
                here.settimeout(wait)
                with lane.region(BLOCKED, "I/O: socket recv", expected_s=wait):
                    try:
                        here.recv(1024)  # nothing is sent: the wait is the network's latency
                    except TimeoutError:
                        pass
                _parse_reply(lane)
        finally:
            here.close()
            there.close()


def _parse_reply(lane: LaneRecorder) -> None:
    """A little Python work after each reply, as a real client would do."""
    for _ in range(20):
        _chunk()
        lane.beat()


@dataclass
class CCallHoldsGil(Workload):
    """One long C call that keeps the GIL: ``sum(range(n))``. Other threads must wait."""

    seconds: float
    n: int = field(init=False)
    name = "sum"

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)
        self.n = max(1, round(self.seconds * _rate("sum", _measure_sum)))

    def run(self, lane: LaneRecorder) -> None:
        with lane.region(C_CALL, f"sum(range({self.n:_}))"):
            sum(range(self.n))


@dataclass
class CCallReleasesGil(Workload):
    """Hashing a large buffer with hashlib, which releases the GIL while it hashes.

    The thread computes on a core all along; other threads can run Python meanwhile.
    """

    seconds: float
    nbytes: int = field(init=False)
    name = "hash"
    block = 4 << 20  # bytes hashed per call: hashlib releases the GIL above 2 KiB

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)
        self.nbytes = max(1, round(self.seconds * _rate("hash", _measure_hash)))

    def run(self, lane: LaneRecorder) -> None:
        data = bytes(self.block)
        h = hashlib.sha256()
        left = self.nbytes
        while left > 0:
            view = memoryview(data)[: min(left, self.block)]
            with lane.region(C_CALL_NO_GIL, "hashlib.sha256.update"):
                h.update(view)
            left -= len(view)
            lane.check_stop()


@dataclass
class LockWait(Workload):
    """Waits for a lock that another thread holds, giving up after ``seconds``.

    Pass ``lock`` to share a real lock between tasks; by default the lock is
    one that nobody will release, so the wait ends with the timeout.
    """

    seconds: float
    lock: object = None
    name = "lock"

    def __post_init__(self) -> None:
        self.seconds = _check_seconds(self.seconds)

    def run(self, lane: LaneRecorder) -> None:
        lock = self.lock
        if lock is None:
            lock = threading.Lock()
            lock.acquire()  # held, never released: we wait for the timeout
        with lane.region(BLOCKED, "lock", expected_s=self.seconds):
            got = lock.acquire(timeout=self.seconds)
        if got and self.lock is not None:
            lock.release()


def cpu(seconds: float = 0.2) -> Cpu:
    """Pure-Python work that takes about ``seconds`` alone on this machine."""
    return Cpu(seconds)


def sleep(seconds: float = 0.2) -> Sleep:
    """Sleep for ``seconds`` (GIL released)."""
    return Sleep(seconds)


def io(seconds: float = 0.2, requests: int = 4) -> IO:
    """Blocking socket I/O for about ``seconds`` in ``requests`` waits (GIL released)."""
    return IO(seconds, requests)


def c_call_holds_gil(seconds: float = 0.2) -> CCallHoldsGil:
    """A single C call, sum(range(n)), that keeps the GIL for about ``seconds``."""
    return CCallHoldsGil(seconds)


def c_call_releases_gil(seconds: float = 0.2) -> CCallReleasesGil:
    """hashlib over a large buffer for about ``seconds`` (GIL released while hashing)."""
    return CCallReleasesGil(seconds)


def lock_wait(seconds: float = 0.2, lock=None) -> LockWait:
    """Wait on a lock for at most ``seconds`` (GIL released while waiting)."""
    return LockWait(seconds, lock)


BY_NAME = {
    "cpu": cpu,
    "sleep": sleep,
    "io": io,
    "sum": c_call_holds_gil,
    "hash": c_call_releases_gil,
    "lock": lock_wait,
}


def by_name(name: str, seconds: float = 0.2) -> Workload:
    """``by_name("cpu", 0.5)`` -- the workload with that name (see BY_NAME)."""
    try:
        factory = BY_NAME[name]
    except KeyError:
        known = ", ".join(BY_NAME)
        raise ValueError(f"unknown workload {name!r}; choose one of: {known}") from None
    return factory(seconds)
