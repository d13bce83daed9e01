"""Who gets a released threading.Lock when several threads wait for it? (quiz 11, question 3)

    python tools/lock_handoff.py        # with each Python to compare (3.10-3.15 in the guide)

Per trial the releaser holds the lock; N waiters (2, then 3) start 2 ms apart and block in
acquire() once each (w1 waits longest); after 20 ms the releaser loops `release(); acquire()`
until every waiter has had the lock (at most 0.5 s). Each waiter notes, while it holds the lock,
how many times the releaser had taken it back. Printed: in how many trials a waiter got the lock
at the first release, the median and largest number of times the releaser took it back first,
how long until every waiter had been served, and the order of ownership. Then one waiter that
has only just asked: how long it waits in acquire() while the releaser loops.

The GIL cannot decide who owns the lock: the releaser keeps the GIL through release() and
acquire() and lets it go only when its acquire() blocks, that is when a waiter already owns the
lock; the waiter needs the GIL only to return from acquire(). Up to 3.13 a release only wakes a
waiter, and the releaser usually takes the lock back first; from 3.14 the lock is a PyMutex,
whose release hands it straight to a waiter that has waited over 1 ms. The threading
documentation promises no order ("which one of the waiting threads proceeds is not defined").
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections import Counter

__all__ = ["trial"]

TRIALS = 30


def trial(n: int) -> tuple[int, float | None, tuple[str, ...]]:
    """One trial with ``n`` waiters: (times the releaser took the lock back before the first
    waiter got it, ms until all were served or None, the order in which the waiters got it)."""
    lock = threading.Lock()
    lock.acquire()
    loops = 0
    owned = []  # (waiter, the releaser's loops so far, time)

    def waiter(name):
        with lock:
            owned.append((name, loops, time.perf_counter()))

    threads = []
    for i in range(n):
        t = threading.Thread(target=waiter, args=(f"w{i + 1}",), daemon=True)
        t.start()
        threads.append(t)
        time.sleep(0.002)
    time.sleep(0.02)  # every waiter is blocked in acquire() by now
    start = time.perf_counter()
    end = start + 0.5
    try:
        while len(owned) < n and time.perf_counter() < end:
            lock.release()
            lock.acquire()
            loops += 1
    finally:
        lock.release()
        for t in threads:
            t.join(5)
    served = (owned[-1][2] - start) * 1000 if len(owned) == n else None
    return owned[0][1], served, tuple(o[0] for o in owned)


def fresh_waiter() -> float | None:
    """ms one waiter spends in acquire(), from the moment it asks, while the releaser loops
    `release(); acquire()` (at most 0.5 s; None if it never got the lock)."""
    lock = threading.Lock()
    lock.acquire()
    asked, got = [], []

    def waiter():
        asked.append(time.perf_counter())
        with lock:
            got.append(time.perf_counter())

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    end = time.perf_counter() + 0.5
    try:
        while not got and time.perf_counter() < end:
            lock.release()
            lock.acquire()
    finally:
        lock.release()
        t.join(5)
    return (got[0] - asked[0]) * 1000 if got and asked else None


def main() -> None:
    print(f"Python {sys.version.split()[0]}")
    for n in (2, 3):
        results = [trial(n) for _ in range(TRIALS)]
        first = [r[0] for r in results]
        served = [r[1] for r in results if r[1] is not None]
        print(f"  {n} waiters, {TRIALS} trials: a waiter got the lock at the first release in "
              f"{first.count(0)}; the releaser took it back first {statistics.median(first):g} "
              f"times (median), {max(first)} (most); all served within "
              f"{statistics.median(served):.2f} ms (median), {max(served):.2f} ms (most)")
        print(f"    order of ownership: {dict(Counter(r[2] for r in results).most_common())}")
    waits = [fresh_waiter() for _ in range(TRIALS)]
    done = sorted(w for w in waits if w is not None)
    print(f"  1 waiter that has just asked, {TRIALS} trials: got the lock in {len(done)}, after "
          f"{done[0]:.2f} ms (least), {statistics.median(done):.2f} ms (median), {done[-1]:.2f} ms"
          f" (most)" if done else "  1 waiter that has just asked: never got it within 0.5 s")


if __name__ == "__main__":
    main()
