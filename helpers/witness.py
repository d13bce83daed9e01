"""Two witnesses of the GIL that do not use the rules: checks of Python, not of our reading.

The timeline's "two threads never both run" comes from rule 7 (helpers.rules), so checking
it on the timeline checks only our own reading. These two look somewhere else:
(a) the raw heartbeats (``intrusions``): two heartbeats of one thread a few microseconds
    apart were both taken holding the GIL, so no other thread can have one in between.
    A free-threaded Python (or a recorder that muddles its clocks) gives many.
(b) the operating system (``cores_used``): CPU time over wall time (``time.process_time``).
    Pure-Python threads under the GIL use about one core at most; C code that lets the
    GIL go (hashlib) uses more, where two cores are usable. On one core it cannot tell.

    >>> seen = look()        # both, at once: print(seen) says what each saw
    >>> seen.intrusions == 0 if gil_enabled() else seen.intrusions > 0
    True
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import NamedTuple

import numpy as np

from .recorder import LaneRecord, LaneRecorder
from .system import cpu_wait_us, gil_enabled, usable_cores  # noqa: F401 (doctest: gil_enabled)

__all__ = ["ONE_CORE", "CoreWaits", "Seen", "beating_threads", "cores_used", "hashing",
           "intrusions", "look", "python_loop"]  # fmt: skip

CLOSE_NS = 5_000  # "a few microseconds": far below a GIL handoff and a switch interval (5 ms)
# Two pure-Python threads under the GIL: CPU time over wall time measured 1.0-1.05 here
# (a thread waiting for the GIL wakes every switch interval to ask: a little CPU time).
ONE_CORE = 1.1
_DATA = bytes(range(256)) * 16_384  # 4 MiB: hashlib lets the GIL go on data this big


def intrusions(records: list[LaneRecord], within_ns: int = CLOSE_NS) -> int:
    """How many heartbeats of other threads (same process) fall between two heartbeats of
    one thread taken at most ``within_ns`` apart. Zero under the GIL."""
    count = 0
    for r in records:
        beats = np.asarray(r.beats, dtype=np.int64)
        close = np.diff(beats) <= within_ns
        first, second = beats[:-1][close], beats[1:][close]
        for other in records:
            if other is not r and other.pid == r.pid:
                theirs = np.asarray(other.beats, dtype=np.int64)
                inside = np.searchsorted(theirs, second) - np.searchsorted(theirs, first, "right")
                count += int(inside.sum())
    return count


def beating_threads(n: int = 2, seconds: float = 0.1) -> list[LaneRecord]:
    """Run ``n`` threads that only take heartbeats, all at once; return what they recorded."""
    recorders = [LaneRecorder(f"beater-{i + 1}") for i in range(n)]
    go = threading.Barrier(n)

    def beat(lane: LaneRecorder) -> None:
        go.wait()
        lane.begin()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            lane.beat()
        lane.end()

    threads = [threading.Thread(target=beat, args=(lane,)) for lane in recorders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [lane.to_record("this process") for lane in recorders]


def python_loop(seconds: float = 0.2) -> None:
    """Pure Python for ``seconds``: it needs the GIL all along."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sum(i * i for i in range(200))


def hashing(seconds: float = 0.2) -> None:
    """hashlib on 4 MiB at a time for ``seconds``: C code that lets the GIL go while it works."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hashlib.sha256(_DATA)


def cores_used(*tasks, seconds: float = 0.2) -> float:
    """Run each task (called with ``seconds``) in its own thread, all at once: how many
    cores' worth of CPU time the process used meanwhile, as the operating system counts it."""
    threads = [threading.Thread(target=task, args=(seconds,)) for task in tasks]
    cpu, wall = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


class Seen(NamedTuple):
    """What the two witnesses saw in one run (``look``)."""

    intrusions: int  # (a) other threads' heartbeats between two close ones of a thread
    python_cores: float  # (b) cores used by two pure-Python threads
    hash_cores: float  # (b) cores used by two hashlib threads: can the OS count two at all?

    @property
    def os_can_tell(self) -> bool:
        """(b) means something only where the OS was seen counting two cores at work."""
        return usable_cores() >= 2 and self.hash_cores > ONE_CORE

    def __str__(self) -> str:
        b = (f"{self.python_cores:.2f} cores for two Python threads, {self.hash_cores:.2f} "
             f"for two hashlib threads")  # fmt: skip
        if not self.os_can_tell:
            why = "one usable core" if usable_cores() < 2 else "other programs kept the cores busy"
            b += f" (cannot tell this run: {why}; (a) carries the claim)"
        return (f"(a) heartbeats of other threads between two close ones of a thread: "
                f"{self.intrusions}\n(b) CPU time / wall time: {b}")  # fmt: skip


def look(seconds: float = 0.2) -> Seen:
    """Ask both witnesses: two beating threads (a), then two Python and two hashlib threads (b)."""
    found = intrusions(beating_threads(2, seconds=seconds / 2))
    python = cores_used(python_loop, python_loop, seconds=seconds)
    return Seen(found, python, cores_used(hashing, hashing, seconds=seconds))


class CoreWaits:
    """Was the machine busy during a block? ``with CoreWaits() as waits: ...``, then
    ``waits.share``: the share of the block's wall time in which some program waited for a
    CPU, as the OS counts it (``system.cpu_wait_us``); None where the OS does not say.
    Measurements of time (a slice's length) mean something only where it stayed small."""

    QUIET = 0.05  # at most 5% of the time: the machine was quiet

    def __enter__(self) -> CoreWaits:
        self.share: float | None = None
        self._wait, self._wall = cpu_wait_us(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        wait, wall_us = cpu_wait_us(), (time.perf_counter() - self._wall) * 1e6
        if wait is not None and self._wait is not None and wall_us > 0:
            self.share = (wait - self._wait) / wall_us

    @property
    def quiet(self) -> bool | None:
        return None if self.share is None else self.share <= self.QUIET
