"""The fuzz harness: finds a planted race, finds nothing in the locked version, is
reproducible with a seed, costs nothing outside a run, and leaves nothing running."""

from __future__ import annotations

import threading
import time

import pytest

from helpers import fuzz


def make_test(locked: bool):
    """Two threads withdraw 60 from 100: check, (point), act. Fails if the balance goes < 0."""
    balance = [0]
    lock = threading.Lock()

    def withdraw(amount):
        with lock if locked else _nothing():
            if balance[0] >= amount:
                fuzz.point("checked")
                balance[0] -= amount

    def two_withdrawals():
        balance[0] = 100
        threads = [threading.Thread(target=withdraw, args=(60,), name=n) for n in ("alice", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=5)
        assert balance[0] >= 0, f"balance {balance[0]}"

    return two_withdrawals


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def test_finds_the_planted_race(no_leftovers):
    report = fuzz.run(make_test(locked=False), runs=40, seed=3)
    assert report.runs == 40
    assert report.failures > 0
    failure = report.failure
    assert failure is not None and isinstance(failure.error, AssertionError)
    assert {p.thread for p in failure.pauses} == {"alice", "bob"}
    assert all(p.point == "checked" for p in failure.pauses)
    assert any(p.delay_s > 0 for p in failure.pauses)
    text = str(report)
    assert "failed" in text and "alice" in text and "'checked'" in text
    assert report.errors == {"AssertionError": report.failures}


def test_the_locked_version_never_fails(no_leftovers):
    report = fuzz.run(make_test(locked=True), runs=60, seed=3)
    assert report.failures == 0 and report.failure is None
    assert "proves nothing" in str(report)


def test_a_seed_fixes_the_pauses(no_leftovers):
    def delays(seed, start=0):
        seen = []

        def one_thread():  # one thread: the order of the points is fixed, so are the draws
            for i in range(20):
                fuzz.point(f"p{i}")

        report = fuzz.run(lambda: (one_thread(), seen.append(1)), runs=3, seed=seed,
                          max_delay=0.0002, start=start)  # fmt: skip
        assert report.failures == 0 and len(seen) == 3
        return [p for p in _pauses_of(one_thread, seed, start)]

    assert delays(5) == delays(5)
    assert delays(5) != delays(6)
    assert delays(5, start=2) != delays(5, start=0)


def _pauses_of(fn, seed, start):
    """The pauses one failing run records (a failing test returns them in its report)."""

    def failing():
        fn()
        raise RuntimeError("on purpose")

    report = fuzz.run(failing, runs=1, seed=seed, max_delay=0.0002, start=start)
    return report.failure.pauses


def test_a_point_is_a_no_op_outside_a_run():
    assert not fuzz.fuzzing()
    t0 = time.perf_counter()
    for _ in range(10_000):
        fuzz.point("x")
    assert time.perf_counter() - t0 < 0.5  # no sleep anywhere


def test_fuzzing_is_on_only_inside_a_run(no_leftovers):
    seen = []
    fuzz.run(lambda: seen.append(fuzz.fuzzing()), runs=2)
    assert seen == [True, True] and not fuzz.fuzzing()


def test_bad_input_is_refused_plainly():
    with pytest.raises(TypeError, match="function"):
        fuzz.run(42)
    for kwargs, words in [({"runs": 0}, "runs"), ({"max_delay": -1}, "max_delay"),
                          ({"chance": 2}, "chance"), ({"start": -1}, "start"),
                          ({"timeout": 0}, "timeout")]:  # fmt: skip
        with pytest.raises(ValueError, match=words):
            fuzz.run(lambda: None, **kwargs)


def test_a_hanging_run_is_bounded_by_its_timeout(no_leftovers):
    release = threading.Event()
    with pytest.raises(TimeoutError, match="deadlock"):
        fuzz.run(lambda: release.wait(5), runs=1, timeout=0.2)
    release.set()  # let the stuck run end, so that nothing is left running
    assert not fuzz.fuzzing()


def test_runs_do_not_nest(no_leftovers):
    errors = []

    def inner():
        try:
            fuzz.run(lambda: None, runs=1)
        except RuntimeError as exc:
            errors.append(exc)

    fuzz.run(inner, runs=1)
    assert errors and "nest" in str(errors[0])


def test_pauses_show_on_a_recorded_timeline(no_leftovers):
    import helpers

    with helpers.recording() as rec:
        fuzz.run(make_test(locked=False), runs=3, seed=1, chance=1.0, max_delay=0.002)
    labels = {s.label for s in rec.timeline.spans(helpers.BLOCKED)}
    assert "fuzz pause at 'checked'" in labels
