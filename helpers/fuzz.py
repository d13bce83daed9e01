"""Fuzzing for races: random pauses at marked points make rare interleavings common.

Mark the places in your code where a thread switch would hurt (between a read and the
write that depends on it, between a check and the act) with ``fuzz.point("name")``.
Outside fuzzing a point does nothing (one check of a global). Inside ``fuzz.run(test)``
each point may pause the thread that reaches it for a random moment, so that the other
threads run in between: exactly where you suspected trouble. ``run`` calls ``test`` many
times and reports how often it failed (raised) and, for the first failure, which thread
paused where (see ``run`` for an example).

Fuzzing amplifies races; it proves nothing about their absence: a report with no failure
says only that these runs, with these pauses, did not fail.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Failure", "Pause", "Report", "fuzzing", "point", "run"]

MAX_RUNS = 100_000
MAX_DELAY_S = 1.0


@dataclass(frozen=True)
class Pause:
    """One thread reaching one point: ``delay_s`` is 0.0 where it did not pause."""

    thread: str
    point: str
    delay_s: float


@dataclass(frozen=True)
class Failure:
    """The first run that failed: its index, what it raised, and the pauses in order."""

    run: int
    error: BaseException
    pauses: tuple[Pause, ...]

    def __str__(self) -> str:
        width = max((len(p.thread) for p in self.pauses), default=0)
        lines = [f"First failure, run {self.run}: {type(self.error).__name__}: {self.error}"]
        for p in self.pauses:
            what = f"paused {p.delay_s * 1000:.2f} ms" if p.delay_s else "went straight on"
            lines.append(f"  {p.thread:<{width}} {what} at {p.point!r}")
        return "\n".join(lines)


@dataclass
class Report:
    """What ``run`` found: ``runs`` done, ``failures``, the first ``failure`` (or None)."""

    runs: int
    failures: int
    seed: int
    failure: Failure | None = None
    errors: dict[str, int] = field(default_factory=dict)  # "AssertionError" -> count

    @property
    def rate(self) -> float:
        """The fraction of runs that failed."""
        return self.failures / self.runs if self.runs else 0.0

    def __str__(self) -> str:
        head = f"{self.runs} runs (seed {self.seed}): {self.failures} failed ({self.rate:.0%})."
        if self.failure is None:
            return head + " None failed; that proves nothing about the runs not tried."
        return f"{head}\n{self.failure}"


class _Fuzzer:
    """The state of one run: its random numbers, and the pauses taken so far."""

    def __init__(self, seed: int, run: int, max_delay: float, chance: float) -> None:
        self.rng = random.Random(f"{seed}:{run}")  # a string seed: the same on every Python
        self.max_delay = max_delay
        self.chance = chance
        self.lock = threading.Lock()  # held only to draw a number, never across a pause
        self.pauses: list[Pause] = []

    def pause(self, name: str) -> None:
        thread = threading.current_thread().name
        with self.lock:
            delay = self.rng.uniform(0, self.max_delay) if self.rng.random() < self.chance else 0
            self.pauses.append(Pause(thread, name, delay))
        if delay:
            _sleep(delay, name)


_active: _Fuzzer | None = None  # set only while run() runs the test


def _sleep(delay: float, name: str) -> None:
    """Sleep; on a recorded timeline the pause is a blocked span named for its point."""
    from .recorder import current_lane  # imported here: fuzz.point costs nothing otherwise

    lane = current_lane()
    if lane is None:
        time.sleep(delay)
        return
    from .states import BLOCKED

    # No expected length: a sleep overruns it, and the region must hold the whole sleep
    # for its label to win over the automatic recording's "time.sleep".
    with lane.region(BLOCKED, f"fuzz pause at {name!r}"):
        time.sleep(delay)


def point(name: str = "point") -> None:
    """A place where a thread switch could hurt. Does nothing unless ``run`` is fuzzing."""
    fuzzer = _active
    if fuzzer is not None:
        fuzzer.pause(name)


def fuzzing() -> bool:
    """True while ``run`` is calling a test (points may pause)."""
    return _active is not None


_run_lock = threading.Lock()  # one fuzz run at a time: the points are global


def run(
    test: Callable[[], object],
    *,
    runs: int = 100,
    seed: int = 0,
    max_delay: float = 0.001,
    chance: float = 0.5,
    start: int = 0,
    timeout: float = 10.0,
) -> Report:
    """Call ``test()`` ``runs`` times with pauses at its points; count the runs that raised.

    seed      -- fixes the pauses: run ``i`` draws from a generator seeded by (seed, i).
    max_delay -- the longest pause, in seconds (each pause is uniform in 0..max_delay).
    chance    -- how likely a thread is to pause at a point it reaches (0..1).
    start     -- the index of the first run (``start=report.failure.run``, ``runs=1``
                 draws the same pauses again).
    timeout   -- seconds one run may take; a run that takes longer (a deadlock?)
                 raises TimeoutError. Give every join and acquire in the test a timeout
                 shorter than this, so that its threads end too.

    >>> import threading
    >>> from helpers import fuzz
    >>> balance = []
    >>> def withdraw(amount):
    ...     if balance[0] >= amount:        # check ...
    ...         fuzz.point("checked")
    ...         balance[0] -= amount        # ... then act
    >>> def two_withdrawals():
    ...     balance[:] = [100]
    ...     threads = [threading.Thread(target=withdraw, args=(60,), name=name)
    ...                for name in ("alice", "bob")]
    ...     for t in threads: t.start()
    ...     for t in threads: t.join(timeout=5)
    ...     assert balance[0] >= 0, f"balance {balance[0]}"
    >>> report = fuzz.run(two_withdrawals, runs=30, seed=1)
    >>> report.failures > 0                 # the race is found
    True
    >>> print(report)                       # doctest: +SKIP
    30 runs (seed 1): 17 failed (57%).
    First failure, run 0: AssertionError: balance -20
      alice paused 0.64 ms at 'checked'
      bob   paused 0.13 ms at 'checked'

    A pause can only make threads switch at the points you marked; the operating system
    still decides the rest. The seed fixes the pauses drawn (the same seed gives the same
    sequence of delays, run by run), not the scheduling, so counts vary a little between
    calls; a planted race with a point in its window is found in practice every time, and
    a correct (locked) version never fails, whatever the pauses.

    The blunt version needs no marks: ``sys.setswitchinterval(1e-6)`` asks the GIL to
    change hands as often as it can. It changes how often threads switch, not where: the
    interpreter switches only where it checks for a pending switch (function entry,
    backward jumps, after calls; where exactly depends on the version), so a window
    without such a check in it stays closed.
    """
    global _active
    if not callable(test):
        raise TypeError("test must be a function that takes no arguments")
    if not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be an integer from 1 to {MAX_RUNS}, got {runs!r}")
    if not 0 <= max_delay <= MAX_DELAY_S:
        raise ValueError(f"max_delay must be from 0 to {MAX_DELAY_S} seconds, got {max_delay!r}")
    if not 0 <= chance <= 1:
        raise ValueError(f"chance must be from 0 to 1, got {chance!r}")
    if not isinstance(start, int) or start < 0:
        raise ValueError(f"start must be an integer >= 0, got {start!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if not _run_lock.acquire(blocking=False):
        raise RuntimeError("a fuzz run is already going on: fuzz runs do not nest")
    report = Report(runs=0, failures=0, seed=seed)
    try:
        for i in range(start, start + runs):
            _active = _Fuzzer(seed, i, max_delay, chance)
            error = _call(test, timeout, i)
            report.runs += 1
            if error is not None:
                report.failures += 1
                name = type(error).__name__
                report.errors[name] = report.errors.get(name, 0) + 1
                if report.failure is None:
                    report.failure = Failure(i, error, tuple(_active.pauses))
    finally:
        _active = None
        _run_lock.release()
    return report


def _call(test: Callable[[], object], timeout: float, i: int) -> BaseException | None:
    """Run the test once in a thread of its own, so that a hanging test cannot hang us."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            test()
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - a failing run is what we count
            outcome.append(exc)

    worker = threading.Thread(target=target, name=f"fuzz run {i}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(
            f"run {i} took longer than timeout={timeout:g} s (a deadlock?). Its threads may "
            "still be waiting: give every join() and acquire() in the test a timeout."
        )
    return outcome[0] if outcome else None
