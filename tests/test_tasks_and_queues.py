"""helpers.lessons.tasks_and_queues: who was inside a limited stretch of asyncio code, counted
and drawn (notebook 16)."""

from __future__ import annotations

import asyncio

import matplotlib
import pytest

import helpers
from helpers.lessons import tasks_and_queues as tq

matplotlib.use("Agg")
pytestmark = pytest.mark.usefixtures("no_leftovers")


def limited_run(fetches: int, turns: int, seconds: float = 0.02) -> tq.Run:
    limit, inside = asyncio.Semaphore(turns), tq.Inside()

    async def fetch(i):
        async with limit:
            with inside(f"fetch {i}", f"page {i}"):
                await asyncio.sleep(seconds)

    names = [f"fetch {i}" for i in range(fetches)]
    tl = asyncio.run(helpers.record_tasks(*(fetch(i) for i in range(fetches)), names=names))
    return tq.Run(tl, inside, turns)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_semaphore_lets_in_as_many_as_it_has_turns_and_no_more(turns):
    run = limited_run(6, turns)
    assert run.inside.most_at_once() == turns
    assert len(run.inside.stays) == 6 and run.inside.now == 0
    rounds = -(-6 // turns)  # each round takes 20 ms
    assert run.timeline.wall_ms >= rounds * 20 * 0.95


def test_without_a_limit_all_are_inside_at_once():
    inside = tq.Inside()

    async def fetch(i):
        with inside(f"fetch {i}"):
            await asyncio.sleep(0.01)

    asyncio.run(helpers.record_tasks(*(fetch(i) for i in range(5)),
                                     names=[f"fetch {i}" for i in range(5)]))  # fmt: skip
    assert inside.most_at_once() == 5


def test_a_stay_is_noted_when_the_task_is_cancelled_inside():
    inside = tq.Inside()

    async def main():
        async def stuck():
            with inside("stuck"):
                await asyncio.sleep(10)

        task = asyncio.create_task(stuck())
        await asyncio.sleep(0.01)
        assert inside.now == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    assert inside.now == 0 and [lane for lane, *_ in inside.stays] == ["stuck"]


def test_labelled_outlines_each_stay_on_its_own_lane():
    run = limited_run(3, 1)
    tl = tq.labelled(run.timeline, run.inside)
    for lane in tl.lanes:
        assert [text for *_, text in lane.labels] == [f"page {lane.name.split()[1]}"]
    assert all(not lane.labels for lane in run.timeline.lanes), "the original is left as it was"


def test_bad_input_says_what_to_give():
    inside = tq.Inside()
    with pytest.raises(TypeError, match="lane name"):
        with inside(3):
            pass
    run = limited_run(2, 1)
    run.inside.stays.append(("nobody", 0, 1, "inside"))
    with pytest.raises(ValueError, match="names you gave record_tasks"):
        tq.labelled(run.timeline, run.inside)


def test_the_plot_has_the_lanes_the_count_and_the_limit():
    run = limited_run(4, 2)
    fig = tq.plot(run.timeline, run.inside, limit=2, what="inside async with limit")
    top, count = fig.axes
    texts = [t.get_text() for t in top.get_legend().get_texts()]
    assert "outlined: inside async with limit" in texts
    assert not any("pool worker" in t for t in texts)
    assert any("the limit: 2" in t.get_text() for t in count.texts)
    assert "at most 2" in count.get_title(loc="left")


def test_explorer_draws_when_built_and_at_each_run():
    import ipywidgets as W

    calls = []

    def make(fetches):
        calls.append(fetches)
        return limited_run(fetches, 2, seconds=0.005)

    box = tq.explorer(make, fetches=W.IntSlider(2, min=1, max=4))
    assert calls == [2]
    slider, button = box.children[0].children
    slider.value = 3
    button.click()
    assert calls == [2, 3] and not button.disabled
