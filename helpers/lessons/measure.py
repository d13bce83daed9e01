"""Small measurements the notebooks make: how long a call takes, how late a thread wakes.

Plain ``time.perf_counter`` arithmetic, kept out of the notebooks so that their
cells show the concept, not the bookkeeping:

    >>> import time
    >>> from helpers.lessons import measure
    >>> measure.best_seconds(time.sleep, 0.02, repeat=3) >= 0.02   # a sleep is never shorter
    True
    >>> measure.seconds_in_threads(time.sleep, (0.05,), threads=2) >= 0.05  # waits for both
    True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..states import BLOCKED, RUNNING
from ..timeline import Timeline

__all__ = ["JOIN_TIMEOUT", "best_seconds", "seconds_in_threads", "wake_lateness_ms"]

JOIN_TIMEOUT = 60.0  # s: no measurement waits forever


def best_seconds(func: Callable, *args, repeat: int = 3) -> float:
    """The shortest wall time (s) of ``func(*args)`` over ``repeat`` calls.

    The best of a few, because other programs can only ever make a call slower.

        >>> best_seconds(sum, range(10), repeat=2) < 1
        True
    """
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def seconds_in_threads(func: Callable, args: tuple = (), threads: int = 2) -> float:
    """Wall time (s) for ``threads`` threads, each calling ``func(*args)``, started together.

        >>> seconds_in_threads(sum, (range(10),), threads=3) < 1
        True
    """
    workers = [threading.Thread(target=func, args=args) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join(JOIN_TIMEOUT)
    if any(t.is_alive() for t in workers):
        raise TimeoutError(f"threads still running after {JOIN_TIMEOUT:g} s")
    return time.perf_counter() - t0


def wake_lateness_ms(timeline: Timeline, lane: str) -> list[float]:
    """For each blocked span of ``lane``: ms from its end to the lane's next running span.

    How late the thread ran again after its wait was over: the time it spent
    getting the GIL (and a core) back.

        >>> tl = helpers.run_threads([helpers.workloads.io(0.05, requests=3)])
        >>> len(wake_lateness_ms(tl, "io-1"))
        3
    """
    spans = timeline.spans(lane=lane)
    late = []
    for i, s in enumerate(spans):
        if s.state == BLOCKED:
            nxt = next((x for x in spans[i + 1 :] if x.state == RUNNING), None)
            if nxt is not None:
                late.append((nxt.start - s.end) / 1e6)
    return late
