"""LaneStats.median_slice_ms and c_call_no_gil_ms on hand-made records with known answers.

Each record is built by both rule sets (helpers.rules, the reference, and helpers.rules_fast,
what the notebooks use), and the numbers are the ones written here by hand, not recomputed.
"""

from __future__ import annotations

import dataclasses

import pytest
from records import MS, info, record

from helpers import rules, rules_fast
from helpers.states import BLOCKED, C_CALL, C_CALL_NO_GIL

BUILDERS = {"rules": rules.build_timeline, "rules_fast": rules_fast.build_timeline}


def beats(start_ms: float, end_ms: float, step_ms: float = 0.01) -> list[int]:
    """Heartbeats from start_ms to end_ms (both included), every step_ms."""
    n = round((end_ms - start_ms) / step_ms)
    return [round((start_ms + k * step_ms) * MS) for k in range(n + 1)]


def stats_of(build, *records, gil=True):
    return {s.name: s for s in build(list(records), info(gil)).stats()}


def slices_of(*lengths_ms: float, name: str = "a", tid: int = 1, at_ms: float = 0.0):
    """One thread that runs for each length in turn, sleeping 1 ms between: one slice each
    (a sleep gives the GIL away, so the slice ends at the heartbeat that opens it)."""
    times, marks, t = [], [], at_ms
    for k, length in enumerate(lengths_ms):
        times += beats(t, t + length)
        if k < len(lengths_ms) - 1:
            marks.append((round((t + length) * MS), round((t + length + 1) * MS), BLOCKED, "sleep"))
        t += length + 1
    return record(name, times, marks, tid=tid)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_median_slice_of_three_slices(build):
    a = stats_of(build, slices_of(2, 4, 9))["a"]
    assert a.slices == 3
    assert a.median_slice_ms == pytest.approx(4.0)  # 2, 4, 9: the middle one, not the mean 5


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_median_slice_of_one_slice_is_that_slice(build):
    a = stats_of(build, slices_of(6))["a"]
    assert (a.slices, a.median_slice_ms) == (1, pytest.approx(6.0))


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_median_slice_of_an_even_number_is_the_mean_of_the_middle_two(build):
    a = stats_of(build, slices_of(9, 2, 6, 4))["a"]  # sorted 2, 4, 6, 9
    assert (a.slices, a.median_slice_ms) == (4, pytest.approx(5.0))


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_median_slice_when_two_threads_take_turns(build):
    # a holds the GIL 0-3 ms, b 3.01-4, a 4.01-5, b 5.01-12: a's slices 3 and 0.99 ms,
    # b's 0.99 and 6.99 ms; each median is the mean of its two.
    a = record("a", beats(0, 3) + beats(4.01, 5), tid=1)
    b = record("b", beats(3.01, 4) + beats(5.01, 12), tid=2)
    s = stats_of(build, a, b)
    assert (s["a"].slices, s["b"].slices) == (2, 2)
    assert s["a"].median_slice_ms == pytest.approx((3 + 0.99) / 2)
    assert s["b"].median_slice_ms == pytest.approx((0.99 + 6.99) / 2)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_no_slice_gives_a_median_of_zero(build):
    # A task's lane (a coroutine taking turns) has steps, not GIL slices.
    task = record("t", [0, MS, 2 * MS, 3 * MS])
    task = dataclasses.replace(task, kind="task")
    t = stats_of(build, task)["t"]
    assert (t.slices, t.median_slice_ms) == (0, 0.0)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_c_call_that_released_the_gil(build):
    # 1 ms of Python, a 30 ms C call that released the GIL (hashlib), 1 ms of Python.
    a = record("a", beats(0, 1) + beats(31, 32), [(1 * MS, 31 * MS, C_CALL_NO_GIL, "sha256")])
    s = stats_of(build, a)["a"]
    assert s.c_call_no_gil_ms == pytest.approx(30.0)
    assert s.c_call_ms == 0.0 and s.blocked_ms == 0.0
    assert s.running_ms == pytest.approx(2.0)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_c_calls_are_counted_by_kind(build):
    # 30 ms releasing the GIL, 12 ms more releasing it, 7 ms holding it, 5 ms asleep.
    a = record("a", beats(0, 1) + beats(31, 32) + beats(44, 45) + beats(52, 53) + beats(58, 59),
               [(1 * MS, 31 * MS, C_CALL_NO_GIL, "sha256"),
                (32 * MS, 44 * MS, C_CALL_NO_GIL, "zlib"),
                (45 * MS, 52 * MS, C_CALL, "sum"),
                (53 * MS, 58 * MS, BLOCKED, "sleep")])
    s = stats_of(build, a)["a"]
    assert s.c_call_no_gil_ms == pytest.approx(42.0)
    assert s.c_call_ms == pytest.approx(7.0)
    assert s.blocked_ms == pytest.approx(5.0)


def column(table: str, heading: str) -> list[str]:
    """The cells under ``heading`` in a stats_table (its columns are right-aligned)."""
    lines = table.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("lane "))
    end = lines[head].index(heading) + len(heading)
    return [line[:end].split()[-1] for line in lines[head + 1:]]


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS)
def test_stats_table_shows_what_a_learner_reads(build):
    table = build([slices_of(2, 4, 9)], info()).stats_table()
    assert column(table, "median slice") == ["4.00"]
    assert "C no GIL" not in table  # an empty column is left out
    a = record("a", beats(0, 1) + beats(31, 32), [(1 * MS, 31 * MS, C_CALL_NO_GIL, "sha256")])
    b = slices_of(2, 4, 9, name="b", tid=2, at_ms=40)  # after a is done
    table = build([a, b], info()).stats_table()
    assert column(table, "C no GIL") == ["30.0", "0.0"]
    assert column(table, "median slice") == ["1.00", "4.00"]
