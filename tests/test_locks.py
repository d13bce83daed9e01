"""helpers.locks: recorded locks behave like threading's, draw their waits, name deadlocks.

Every test that can deadlock is bounded by timeouts and joins its threads (no_leftovers).
"""

from __future__ import annotations

import threading
import time

import pytest
from checks import until

import helpers
from helpers import locks
from helpers.lessons.philosophers import Table, eating_spans, most_at_once


def start(target, *args, name):
    th = threading.Thread(target=target, args=args, name=name, daemon=True)
    th.start()
    return th


def crossed(first, second, patience, both, log, name):
    """Take ``first``, wait until the other thread holds its first, then want ``second``."""
    with first:
        both.wait(timeout=5)
        got = second.acquire(timeout=patience)
        log[name] = got
        if got:
            second.release()


def test_lock_is_a_drop_in_for_threading_lock(no_leftovers):
    lock = locks.Lock("a")
    assert lock.acquire() and lock.locked() and lock.holders() == ["MainThread"]
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.01) is False
    lock.release()
    assert not lock.locked() and lock.holders() == []
    with lock:
        assert lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()  # as threading.Lock: releasing an unlocked lock is an error
    with pytest.raises(ValueError):
        lock.acquire(False, 1.0)
    with pytest.raises(ValueError):
        lock.acquire(timeout=-2)


def test_bad_input_is_a_plain_error():
    with pytest.raises(TypeError):
        locks.Lock(3)
    with pytest.raises(ValueError):
        locks.Lock("a", patience=0)
    with pytest.raises(ValueError):
        locks.Semaphore(-1)
    with pytest.raises(ValueError):
        locks.Semaphore(2, "s").release(0)
    with pytest.raises(ValueError):
        locks.find_deadlock(timeout=-1)
    with pytest.raises(ValueError):
        Table(strategy="polite")
    with pytest.raises(ValueError):
        Table(n=1)


def test_semaphore_counts_permits_and_holders(no_leftovers):
    sem = locks.Semaphore(2, "waiter")
    assert sem.acquire() and sem.acquire() and sem.locked()
    assert sem.acquire(timeout=0.01) is False
    got = []
    th = start(lambda: got.append(sem.acquire(timeout=5)), name="third")
    expected = ["third waits for semaphore 'waiter' held by MainThread"]
    assert until(lambda: locks.waits() == expected, timeout=5), locks.waits()
    sem.release()
    th.join(5)
    assert got == [True] and sorted(sem.holders()) == ["MainThread", "third"]
    sem.release(2)
    assert not sem.locked()


def test_a_deadlock_is_found_within_a_timeout_and_named(no_leftovers):
    a, b = locks.Lock("a"), locks.Lock("b")
    both, log = threading.Barrier(2), {}
    t1 = start(crossed, a, b, 0.5, both, log, "t1", name="t1")
    t2 = start(crossed, b, a, 3.0, both, log, "t2", name="t2")
    t0 = time.monotonic()
    cycle = locks.find_deadlock(timeout=5)
    assert time.monotonic() - t0 < 5
    assert cycle == ["t1 waits for 'b' held by t2", "t2 waits for 'a' held by t1"]
    t1.join(5)
    t2.join(5)
    assert log == {"t1": False, "t2": True}  # t1's timeout broke the circle; then t2 went on
    assert locks.find_deadlock() == [] and not a.locked() and not b.locked()


def test_no_deadlock_without_a_cycle(no_leftovers):
    lock = locks.Lock("x")
    lock.acquire()
    th = start(lambda: lock.acquire(timeout=0.3), name="waits")
    assert locks.find_deadlock(timeout=0.1) == []  # waiting, but for a thread that is free
    th.join(5)
    lock.release()


def test_a_lock_held_by_a_thread_that_ended_is_held_for_ever(no_leftovers):
    lock = locks.Lock("config")

    def careless():
        lock.acquire()  # and returns without release()

    th = start(careless, name="careless")
    th.join(5)
    got = []
    waiter = start(lambda: got.append(lock.acquire(timeout=2)), name="waiter")
    expected = ["waiter waits for lock 'config' held by careless, which has ended"]
    assert until(lambda: locks.waits() == expected, timeout=2), locks.waits()
    waiter.join(5)
    assert got == [False]
    lock.release()  # a Lock may be released by another thread: the way out here


def test_patience_turns_a_deadlock_into_an_error(no_leftovers):
    a, b = locks.Lock("a", patience=0.3), locks.Lock("b", patience=2.0)
    both, errors = threading.Barrier(2), {}

    def take(first, second, name):
        try:
            with first:
                both.wait(timeout=5)
                with second:
                    pass
        except locks.LockTimeout as exc:
            errors[name] = str(exc)

    ts = [start(take, a, b, "t1", name="t1"), start(take, b, a, "t2", name="t2")]
    for th in ts:
        th.join(5)
    # t2 waits for 'a', the lock with little patience: it raises, and says why
    assert errors == {"t2": "t2 waited 0.3 s for lock 'a': deadlock: "
                            "t1 waits for 'b' held by t2; t2 waits for 'a' held by t1"}


def test_lock_order_problems_are_found_without_a_deadlock():
    x, y, z = locks.Lock("x"), locks.Lock("y"), locks.Lock("z")
    with x, y:
        pass
    with x, z:
        pass
    assert locks.lock_order_problems(x, y, z) == []
    with y, x:
        pass
    assert locks.lock_order_problems(x, y, z) == [
        "'x' was taken before 'y' (by MainThread), and 'y' before 'x' (by MainThread)"]


def test_waits_are_labelled_on_the_timeline(no_leftovers):
    a, b = locks.Lock("a"), locks.Lock("b")
    both, log = threading.Barrier(2), {}
    with helpers.recording() as rec:
        t1 = start(crossed, a, b, 0.2, both, log, "t1", name="t1")
        t2 = start(crossed, b, a, 2.0, both, log, "t2", name="t2")
        t1.join(5)
        t2.join(5)
    labels = {ln: {s.label for s in rec.timeline.spans(helpers.BLOCKED, lane=ln)}
              for ln in ("t1", "t2")}
    assert "waiting for lock 'b' (held by t2)" in labels["t1"]
    assert "waiting for lock 'a' (held by t1)" in labels["t2"]
    waited = sum(s.duration for s in rec.timeline.spans(helpers.BLOCKED, lane="t1")
                 if s.label.startswith("waiting for lock 'b'"))
    assert waited > 0.15e9  # most of its 0.2 s timeout


def test_unrecorded_locks_draw_nothing_and_still_work(no_leftovers):
    lock = locks.Lock("plain")
    with lock:
        th = start(lambda: lock.acquire(timeout=0.05), name="plain-waiter")
        th.join(5)
    assert helpers.recorder.current_lane() is None and not lock.locked()


@pytest.mark.parametrize("strategy", ["waiter", "ordered"])
def test_the_fixed_tables_never_deadlock_and_two_eat_at_most(strategy, no_leftovers):
    table = Table(strategy=strategy, think_s=0.005, eat_s=0.005, patience_s=5)
    with helpers.recording() as rec:
        result = table.run(seconds=0.4)
    assert result.deadlock == [] and result.gave_up == []
    assert all(m > 0 for m in result.meals)
    spans = eating_spans(rec.timeline)
    assert len(spans) == sum(result.meals)
    assert 1 <= most_at_once(spans) <= 2 and result.most_eating <= 2


def test_the_naive_table_deadlocks_and_the_timeout_ends_it(no_leftovers):
    table = Table(strategy="naive", pause_s=0.1, patience_s=0.4)
    t0 = time.monotonic()
    result = table.run(seconds=5)
    assert time.monotonic() - t0 < 4
    assert len(result.deadlock) == 5 and result.gave_up
    assert result.deadlock[0] == "philosopher-0 waits for 'fork 1' held by philosopher-1"


def test_a_strategy_can_be_a_fork_order(no_leftovers):
    def left_handed_last(i, n):
        return ((i + 1) % n, i) if i == n - 1 else (i, (i + 1) % n)

    result = Table(strategy=left_handed_last, think_s=0.005, eat_s=0.005, patience_s=5).run(0.3)
    assert result.deadlock == [] and sum(result.meals) > 0
    with pytest.raises(ValueError):
        Table(strategy=lambda i, n: (i, i)).order(0)
