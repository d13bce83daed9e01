"""The race explorer's plumbing: a call between read and write loses updates, a lock none."""

from __future__ import annotations

import pytest

from helpers.lessons import races


def test_a_call_between_read_and_write_loses_updates(no_leftovers):
    # Each lost update needs a switch between a read and a write; 200,000 iterations
    # a thread give dozens of switches. Threads that never overlapped (a busy machine
    # gives them a core one after another) lose nothing: measured again, at most twice.
    for attempt in range(3):
        run = races.race(threads=4, iterations=200_000, call_between=True)
        print(f"attempt {attempt + 1}: {run.lost:,} of {run.expected:,} updates lost")
        if run.lost > 0:
            break
    assert run.lost > 0 and run.stale_writes
    assert run.expected == 800_000 and run.counter < 800_000  # 4 x 200,000 additions


def test_a_lock_loses_none(no_leftovers):
    run = races.race(threads=4, iterations=20_000, call_between=True, use_lock=True)
    assert run.lost == 0 and not run.stale_writes


def test_recorded_and_plotted(no_leftovers):
    run = races.race(threads=2, iterations=5_000, call_between=True, record=True)
    names = [lane.name for lane in run.timeline.lanes]
    assert names[1:] == ["adder-1", "adder-2"]
    fig = races.plot_stale_writes(run.timeline, run.stale_writes, title="t")
    assert fig.axes


def test_bad_input():
    with pytest.raises(ValueError, match="threads"):
        races.race(threads=0)
    with pytest.raises(ValueError, match="iterations"):
        races.race(iterations=-5)
    with pytest.raises(ValueError, match="timeout"):
        races.race(timeout=0)
    with pytest.raises(ValueError, match="record"):
        races.plot_stale_writes(None, [])
