"""Generators and coroutines taking turns on one thread, recorded step by step."""

from __future__ import annotations

import asyncio
import time

import pytest

import helpers
from tests.test_gil_invariants import overlap_ns

pytestmark = pytest.mark.usefixtures("no_leftovers")


def countdown(n):
    while n:
        yield n
        n -= 1


def round_robin(tasks):
    while tasks:
        task = tasks.pop(0)
        try:
            next(task)
            tasks.append(task)
        except StopIteration:
            pass


def test_a_round_robin_of_generators_takes_turns():
    with helpers.recording_steps() as rec:
        round_robin([rec.wrap(countdown(3), "a"), rec.wrap(countdown(5), "b")])
    tl = rec.timeline
    a, b = tl.spans(helpers.RUNNING, lane="a"), tl.spans(helpers.RUNNING, lane="b")
    assert len(a) == 4 and len(b) == 6  # n yields, then the step that ends it
    # They alternate: a, b, a, b, ... while both last.
    assert all(a[i].end <= b[i].start and b[i].end <= a[i + 1].start for i in range(3))
    assert tl.lane("a").spans[-1].state == helpers.FINISHED
    assert tl.lane("a").kind == "task" and tl.info.kind == "tasks"


def test_a_generator_left_suspended_awaits_to_the_end():
    with helpers.recording_steps() as rec:
        g = rec.wrap(countdown(3), "left")
        next(g)
    assert rec.timeline.lane("left").spans[-1].state == helpers.AWAITING
    g.close()


async def nap(seconds):
    await asyncio.sleep(seconds)
    return seconds


async def blocker(seconds):
    await asyncio.sleep(0)
    time.sleep(seconds)  # blocks the event loop: every other task must wait


def test_asyncio_tasks_await_together():
    tl = asyncio.run(helpers.record_tasks(nap(0.05), nap(0.05), nap(0.05)))
    assert [lane.name for lane in tl.lanes] == ["nap-1", "nap-2", "nap-3"]
    assert tl.wall_ms < 0.1 * 1000  # the three naps overlapped: about 50 ms, not 150
    for lane in tl.lanes:
        awaiting = sum(s.duration for s in lane.spans if s.state == helpers.AWAITING)
        assert awaiting > 40e6


def test_a_blocking_call_in_a_coroutine_stalls_every_task():
    tl = asyncio.run(helpers.record_tasks(blocker(0.1), nap(0.01), names=["blocker", "nap"]))
    (long_step,) = [s for s in tl.spans(helpers.RUNNING, lane="blocker") if s.duration > 90e6]
    nap_running = tl.spans(helpers.RUNNING, lane="nap")
    assert overlap_ns([long_step], nap_running) == 0
    # The nap wanted 10 ms, but could not finish until the blocking step was over.
    assert nap_running[-1].start >= long_step.end


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="call the function first"):
        helpers.recording_steps().wrap(countdown)
    with pytest.raises(TypeError, match="not a coroutine"):
        asyncio.run(helpers.record_tasks(nap))
    with pytest.raises(ValueError, match="no coroutines"):
        asyncio.run(helpers.record_tasks())


def test_a_failing_task_cancels_the_others():
    async def fails():
        await asyncio.sleep(0.01)
        raise ZeroDivisionError

    async def main():
        with pytest.raises(ZeroDivisionError):
            await helpers.record_tasks(fails(), nap(5))
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []  # nothing left behind


def test_tasks_that_take_too_long_are_cancelled_with_a_clear_error():
    async def main():
        cancelled = []

        async def stuck():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        t0 = time.perf_counter()
        with pytest.raises(TimeoutError, match="record_tasks\\(..., timeout="):
            await helpers.record_tasks(stuck(), nap(0.01), timeout=0.1)
        assert time.perf_counter() - t0 < 5 and cancelled == [True]
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []


def test_a_tasks_own_timeout_error_is_its_own():
    async def gives_up():
        await asyncio.wait_for(asyncio.sleep(30), 0.01)  # raises TimeoutError itself

    with pytest.raises((TimeoutError, asyncio.TimeoutError)) as caught:
        asyncio.run(helpers.record_tasks(gives_up(), timeout=10))
    assert "record_tasks" not in str(caught.value)
    tl = asyncio.run(helpers.record_tasks(nap(0.01), timeout=None))  # no limit at all
    assert tl.lane("nap-1").spans[-1].state in (helpers.RUNNING, helpers.FINISHED)


def test_bad_input_leaves_no_coroutine_never_awaited():
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for bad in ({"names": ["just one"]}, {"names": ["twin", "twin"]}, {"timeout": 0}):
            with pytest.raises(ValueError):
                asyncio.run(helpers.record_tasks(nap(0.01), nap(0.01), **bad))
        with pytest.raises(TypeError):
            asyncio.run(helpers.record_tasks(nap(0.01), nap))
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
