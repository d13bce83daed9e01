"""Locks that know their name and their holder, so that waiting and deadlock can be seen.

``Lock(name)`` behaves like ``threading.Lock`` and ``Semaphore(value, name)`` like
``threading.Semaphore``. Inside ``helpers.recording()`` a thread that waits for one shows
a blocked span saying what it waits for and who holds it (``waiting for lock 'fork 2'
(held by philosopher-2)``). They keep a *wait-for graph*; a deadlock is a cycle in it,
and ``find_deadlock()`` names it. Outside a recording they cost a few microseconds more
per acquire than threading's (the bookkeeping) and draw nothing.

    >>> a = Lock("a")
    >>> with a:
    ...     a.holders()
    ['MainThread']
    >>> find_deadlock()       # nobody waits for anybody: no deadlock
    []
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from .recorder import current_lane
from .states import BLOCKED

__all__ = ["Lock", "LockTimeout", "Semaphore", "find_deadlock", "lock_order_problems", "waits"]

# The wait-for graph. Threads are keyed by the Thread object (its name for the
# messages, is_alive() to say that a holder has ended). One plain lock guards it.
_graph = threading.Lock()
_waiting: dict[threading.Thread, _Recorded] = {}  # thread -> what it waits for now
_holding: dict[threading.Thread, list[_Recorded]] = {}  # thread -> what it holds now


class LockTimeout(TimeoutError):
    """A lock with ``patience`` waited that long: probably a deadlock (see the message)."""


class _Recorded:
    """What Lock and Semaphore share: a name, holders, waiters, the picture."""

    kind = "lock"

    def __init__(self, name: str | None, patience: float | None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if patience is not None and not patience > 0:
            raise ValueError(f"patience must be a number of seconds > 0, not {patience!r}")
        self.name = name if name is not None else f"{self.kind}-{id(self):x}"
        self.patience = patience
        self._holders: Counter[threading.Thread] = Counter()  # thread -> times it holds us
        self._after: dict[_Recorded, str] = {}  # locks taken while holding us -> by whom

    # The real primitive, set by the subclass: threading.Lock or threading.Semaphore.
    _prim: threading.Lock | threading.Semaphore

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take it, as threading's acquire: True if taken, False if the timeout passed."""
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout != -1 and timeout < 0:
            raise ValueError("timeout value must be a non-negative number or -1")
        me = threading.current_thread()
        if self._prim.acquire(False):  # free: no wait, nothing to draw
            self._took(me)
            return True
        if not blocking:
            return False
        patient = timeout == -1 and self.patience is not None
        wait = self.patience if patient else timeout
        with _graph:
            _waiting[me] = self
            label = f"waiting for {self.kind} {self.name!r} ({self._held_by()})"
        lane = current_lane()
        cycle: list[str] = []
        try:
            if lane is None:
                got = self._prim.acquire(True, wait)
            else:
                with lane.region(BLOCKED, label):  # only the C call inside: see rules.py, 6
                    got = self._prim.acquire(True, wait)
            if not got and patient:
                cycle = find_deadlock()  # while this thread still counts as waiting
        finally:
            with _graph:
                _waiting.pop(me, None)
        if got:
            self._took(me)
        elif patient:
            with _graph:
                why = "deadlock: " + "; ".join(cycle) if cycle else f"it is {self._held_by()}"
            raise LockTimeout(f"{me.name} waited {wait:g} s for {self.kind} {self.name!r}: {why}")
        return got

    def _took(self, me: threading.Thread) -> None:
        with _graph:
            self._holders[me] += 1
            held = _holding.setdefault(me, [])
            for other in held:  # the lock order this thread uses
                if other is not self:
                    other._after.setdefault(self, me.name)
            held.append(self)

    def _released(self) -> None:
        """Forget one holder: the caller if it holds us, else the one that took us first."""
        with _graph:
            me = threading.current_thread()
            who = me if me in self._holders else next(iter(self._holders), None)
            if who is not None:
                self._holders[who] -= 1
                if self._holders[who] <= 0:
                    del self._holders[who]
                held = _holding.get(who, [])
                if self in held:
                    held.remove(self)
                if not held:
                    _holding.pop(who, None)

    def holders(self) -> list[str]:
        """The names of the threads that hold it now (a Semaphore can have several)."""
        with _graph:
            return [t.name for t in self._holders]

    def _held_by(self) -> str:  # called with _graph held
        if not self._holders:
            return "free"
        names = [t.name if t.is_alive() else f"{t.name}, which has ended" for t in self._holders]
        return "held by " + ", ".join(names)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        with _graph:
            return f"<{type(self).__name__} {self.name!r} {self._held_by()}>"


class Lock(_Recorded):
    """A threading.Lock with a name, drawn on the timeline while threads wait for it.

    ``patience`` (seconds): a blocking acquire() without a timeout raises
    LockTimeout after that long instead of waiting forever.
    """

    kind = "lock"

    def __init__(self, name: str | None = None, *, patience: float | None = None) -> None:
        super().__init__(name, patience)
        self._prim = threading.Lock()

    def release(self) -> None:
        """Release it (from any thread, as threading.Lock allows)."""
        self._prim.release()  # raises RuntimeError if it is not held, as threading's does
        self._released()

    def locked(self) -> bool:
        return self._prim.locked()


class Semaphore(_Recorded):
    """A threading.Semaphore with a name: ``value`` threads may hold it at once.

        >>> waiter = Semaphore(2, "waiter")
        >>> waiter.acquire(), waiter.acquire(), waiter.acquire(timeout=0.01)
        (True, True, False)
        >>> waiter.holders()        # one thread can hold several permits
        ['MainThread']
        >>> waiter.release(2)
    """

    kind = "semaphore"

    def __init__(self, value: int = 1, name: str | None = None, *,
                 patience: float | None = None) -> None:  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"a semaphore's value is an int >= 0, not {value!r}")
        super().__init__(name, patience)
        self.value = value
        self._prim = threading.Semaphore(value)

    def release(self, n: int = 1) -> None:
        """Give back ``n`` permits."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, not {n!r}")
        self._prim.release(n)
        for _ in range(n):
            self._released()

    def locked(self) -> bool:
        """True when no permit is left: the next acquire() would wait."""
        if self._prim.acquire(False):
            self._prim.release()
            return False
        return True


def waits() -> list[str]:
    """Every wait going on now, e.g. ``["t2 waits for lock 'a' held by t1"]``."""
    with _graph:
        return [f"{t.name} waits for {lk.kind} {lk.name!r} {lk._held_by()}"
                for t, lk in _waiting.items()]  # fmt: skip


def _stuck() -> dict[threading.Thread, _Recorded]:  # called with _graph held
    """The waiting threads that can never go on: every holder of what each waits for is
    itself stuck (a lock has one holder; a semaphore is stuck only if all its holders are).
    A holder that has ended never releases: waiting for it is stuck too, but not a cycle."""
    stuck = dict(_waiting)
    changed = True
    while changed:
        changed = False
        for t, lk in list(stuck.items()):
            if not lk._holders or any(h not in stuck and h.is_alive() for h in lk._holders):
                del stuck[t]  # somebody who can still release it holds it (or nobody does)
                changed = True
    return stuck


def find_deadlock(timeout: float = 0.0) -> list[str]:
    """Name a deadlock going on now: a cycle of threads, each waiting for a lock that the
    next one holds. Returns one line per thread in the cycle, or [] if there is none.

    ``timeout`` (seconds): keep looking that long (every 10 ms) before answering [].

    Two threads that take two locks in opposite orders, each waiting at most a
    moment (a deadlock that must not hang the notebook):

        >>> import threading
        >>> a, b = Lock("a"), Lock("b")
        >>> both = threading.Barrier(2)
        >>> def take(first, second, patience):
        ...     with first:
        ...         both.wait(timeout=5)                   # both hold their first lock
        ...         if second.acquire(timeout=patience):   # then each wants the other one
        ...             second.release()
        >>> t1 = threading.Thread(target=take, args=(a, b, 0.5), name="t1")
        >>> t2 = threading.Thread(target=take, args=(b, a, 1.0), name="t2")
        >>> t1.start(); t2.start()
        >>> find_deadlock(timeout=5)      # look for up to 5 s
        ["t1 waits for 'b' held by t2", "t2 waits for 'a' held by t1"]
        >>> t1.join(5); t2.join(5)        # t1 gives up after 0.5 s: then t2 gets 'a'
    """
    if not timeout >= 0:
        raise ValueError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
    end = time.monotonic() + timeout
    while True:
        with _graph:
            cycle = _cycle(_stuck())
        if cycle or time.monotonic() >= end:
            return cycle
        time.sleep(0.01)


def _cycle(stuck: dict[threading.Thread, _Recorded]) -> list[str]:
    """Follow waits from a stuck thread until a thread comes back: that loop is the cycle."""
    for start in sorted(stuck, key=lambda t: t.name):
        path: list[threading.Thread] = []
        t = start
        while t in stuck and t not in path:
            path.append(t)
            t = min((h for h in stuck[t]._holders if h in stuck), key=lambda h: h.name,
                    default=None)  # fmt: skip
        if t is not None and t in path:
            loop = path[path.index(t):]
            first = loop.index(min(loop, key=lambda x: x.name))
            loop = loop[first:] + loop[:first]  # start at the first name: a stable answer
            return [f"{a.name} waits for {stuck[a].name!r} held by {b.name}"
                    for a, b in zip(loop, loop[1:] + loop[:1])]  # fmt: skip
    return []


def lock_order_problems(*locks: _Recorded) -> list[str]:
    """Pairs of these locks that have been taken in both orders (while holding the other).

    Two threads that do that at the same moment can deadlock, even if they never did
    so far. This is how tools find deadlocks that did not happen (yet):

        >>> x, y = Lock("x"), Lock("y")
        >>> with x, y: pass
        >>> with y, x: pass
        >>> lock_order_problems(x, y)
        ["'x' was taken before 'y' (by MainThread), and 'y' before 'x' (by MainThread)"]
    """
    out = []
    with _graph:
        for i, a in enumerate(locks):
            for b in locks[i + 1:]:
                if b in a._after and a in b._after:
                    out.append(f"{a.name!r} was taken before {b.name!r} (by {a._after[b]}), "
                               f"and {b.name!r} before {a.name!r} (by {b._after[a]})")
    return out
