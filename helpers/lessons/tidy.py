"""Nothing left running: the last check of every notebook, and "measure again if busy".

A notebook takes a snapshot of the running threads at its top and checks at its end that
every thread and child process it started has ended (a cell must never leave one behind):

    >>> from helpers.lessons import tidy
    >>> before = tidy.snapshot()
    >>> tidy.nothing_left_running(before)  # waits up to 5 s for them, then asserts
    No thread or process left running (... threads in all, the kernel's own included).

A check that measures time retries when another program slowed a run down:

    >>> tidy.again_if_busy(lambda: 3, ok=lambda n: n > 2)
    3
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["again_if_busy", "nothing_left_running", "snapshot", "still_running"]

T = TypeVar("T")


def snapshot() -> frozenset[threading.Thread]:
    """The threads running now (the kernel's own): what a notebook does not have to end."""
    return frozenset(threading.enumerate())


def still_running(before: frozenset[threading.Thread]) -> list[str]:
    """Plain threads started since ``before`` that still run, and child processes.

    Only ``threading.Thread`` itself counts: the kernel starts helper threads of its own
    kinds when it needs them (pyzmq's garbage collector, for one), and they are not ours.
    """
    threads = [t.name for t in threading.enumerate()
               if t not in before and type(t) is threading.Thread and t.is_alive()]  # fmt: skip
    children = [f"process {p.name} (pid {p.pid})" for p in multiprocessing.active_children()]
    return threads + children


def nothing_left_running(before: frozenset[threading.Thread], timeout: float = 5.0) -> None:
    """Wait up to ``timeout`` s for what was started since ``before`` to end; assert it did."""
    deadline = time.monotonic() + timeout
    while still_running(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = still_running(before)
    assert not left, f"still running after {timeout:g} s: {left}"
    print(f"No thread or process left running ({threading.active_count()} threads in all, "
          "the kernel's own included).")


def again_if_busy(measure: Callable[[], T], ok: Callable[[T], bool], tries: int = 3) -> T:
    """Call ``measure()`` up to ``tries`` times, until ``ok(result)``; return the last result.

    Another program can only slow a run down, never speed it up: a run that shows what
    must hold is enough, and a check judges the last run when none did.
    """
    if tries < 1:
        raise ValueError(f"tries must be at least 1, not {tries!r}")
    for _ in range(tries):
        result = measure()
        if ok(result):
            break
    return result
