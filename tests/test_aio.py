"""helpers.lessons.event_loop: timelines of asyncio tasks read and drawn; asyncio from a widget."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings

import matplotlib
import pytest

import helpers
from helpers import palette
from helpers.lessons import event_loop

matplotlib.use("Agg")
pytestmark = pytest.mark.usefixtures("no_leftovers")


async def nap(seconds, result=None):
    await asyncio.sleep(seconds)
    return result


async def ticker(every=0.01, seconds=0.15):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        await asyncio.sleep(every)


async def blocker(seconds=0.08):
    await asyncio.sleep(0.03)
    time.sleep(seconds)  # holds the loop's thread


def blocked_run():
    return asyncio.run(helpers.record_tasks(ticker(), nap(0.05), blocker(),
                                            names=["ticker", "nap", "blocker"]))  # fmt: skip


def test_a_blocking_step_is_a_stall_and_the_ticker_misses_its_ticks():
    tl = blocked_run()
    assert event_loop.longest_step_ms(tl, "blocker") >= 75
    assert event_loop.longest_step_ms(tl) == event_loop.longest_step_ms(tl, "blocker")
    assert event_loop.longest_step_ms(tl, "nap") < 75
    (stall,) = [s for s in event_loop.stalls(tl) if s.duration > 75e6]
    assert stall in tl.lane("blocker").spans
    assert event_loop.longest_gap_ms(tl, "ticker") >= 75  # no tick could happen during the stall
    # The nap's 50 ms timer came due during the stall: it ran only after it.
    assert event_loop.steps(tl, "nap")[-1].start >= stall.end
    summary = event_loop.summary(tl)
    assert "ticker's longest gap" in summary and "(blocker)" in summary


def test_without_a_blocking_call_there_is_no_stall():
    tl = asyncio.run(helpers.record_tasks(ticker(), nap(0.05), names=["ticker", "nap"]))
    assert event_loop.stalls(tl) == []
    assert event_loop.longest_gap_ms(tl, "ticker") < 75


def test_a_gap_needs_two_steps():
    async def quick():  # no await: one step from start to return
        return 1

    tl = asyncio.run(helpers.record_tasks(quick(), names=["quick"]))
    with pytest.raises(ValueError, match="a gap needs two"):
        event_loop.longest_gap_ms(tl, "quick")
    with pytest.raises(KeyError):
        event_loop.steps(tl, "no such lane")


def test_first_steps_is_a_window_around_every_first_step():
    tl = asyncio.run(helpers.record_tasks(nap(0.02), nap(0.03), nap(0.01)))
    lo, hi = event_loop.first_steps(tl)
    assert hi - lo < 10  # ms: the first steps follow each other within microseconds
    for lane in tl.lanes:
        first = event_loop.steps(tl, lane.name)[0]
        assert lo <= (first.start - tl.start) / 1e6 and (first.end - tl.start) / 1e6 <= hi


def test_the_plot_marks_every_thin_step_and_shades_the_stall():
    from matplotlib.collections import LineCollection

    tl = blocked_run()
    fig = event_loop.plot(tl, title="blocked")
    ax = fig.axes[0]
    marks = sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection))
    thin = [s for s in tl.spans(helpers.RUNNING) if s.duration < tl.wall_ms / 500 * 1e6]
    assert marks == len(thin) > 5
    assert any(t.get_text().startswith("one step: ") for t in ax.texts)
    stall_rgb = matplotlib.colors.to_rgb(palette.ALERT)
    shaded = [p for p in ax.patches if p.get_facecolor()[:3] == stall_rgb]
    assert len(shaded) == len(event_loop.stalls(tl)) >= 1
    assert ax.get_xlim()[0] < 0  # room on the left for a step at 0 ms
    # before the stall: nothing shaded
    zoomed = event_loop.plot(tl, window=event_loop.first_steps(tl))
    assert zoomed.axes[0].get_xlim() == pytest.approx(event_loop.first_steps(tl))
    assert not [p for p in zoomed.axes[0].patches if p.get_facecolor()[:3] == stall_rgb]


def test_the_red_shade_is_in_the_legend_and_a_window_under_a_millisecond_reads_in_us():
    tl = blocked_run()
    legend = event_loop.plot(tl).axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert "red shade: one step holds the loop" in texts and len(texts) == len(set(texts))
    lo, _ = event_loop.first_steps(tl)
    zoomed = event_loop.plot(tl, window=(lo, lo + 0.5)).axes[0]  # 0.5 ms, before the stall
    assert not [t for t in zoomed.get_legend().get_texts() if "red shade" in t.get_text()]
    assert "(µs)" in zoomed.get_xlabel()
    ticks = [zoomed.xaxis.get_major_formatter()(x, 0) for x in zoomed.get_xticks()]
    assert max(float(t) for t in ticks) >= 100, ticks  # 0.5 ms: ticks up to 500 µs, not 0.5
    assert "(ms)" in event_loop.plot(tl).axes[0].get_xlabel()  # the whole run: in ms


def test_run_in_fresh_loop_returns_the_result_even_inside_a_running_loop():
    async def main():  # a widget's callback is a plain function called by a running loop
        def callback():
            return event_loop.run_in_fresh_loop(nap(0.01, result=42), timeout=5)

        return callback(), threading.get_native_id()

    assert asyncio.run(main())[0] == 42
    tl = event_loop.run_in_fresh_loop(helpers.record_tasks(nap(0.01), nap(0.02)), timeout=5)
    assert {lane.native_id for lane in tl.lanes} != {threading.get_native_id()}  # another thread
    assert len({lane.native_id for lane in tl.lanes}) == 1  # ...one thread for all the tasks


def test_run_in_fresh_loop_ends_its_to_thread_threads():
    async def in_a_thread():
        return await asyncio.to_thread(threading.current_thread)

    worker = event_loop.run_in_fresh_loop(in_a_thread(), timeout=5)
    assert worker is not threading.current_thread() and not worker.is_alive()


def test_run_in_fresh_loop_passes_errors_and_times_out():
    async def fails():
        await asyncio.sleep(0)
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        event_loop.run_in_fresh_loop(fails(), timeout=5)
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match="cancelled"):
        event_loop.run_in_fresh_loop(nap(30), timeout=0.1)
    assert time.perf_counter() - t0 < 5


def test_run_in_fresh_loop_bad_input_leaves_no_unawaited_coroutine():
    with pytest.raises(TypeError, match="call the async function"):
        event_loop.run_in_fresh_loop(nap, timeout=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="timeout"):
            event_loop.run_in_fresh_loop(nap(1), timeout=0)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_close_default_executor_ends_to_thread_threads_and_the_loop_still_works():
    async def main():
        before = set(threading.enumerate())
        await asyncio.to_thread(time.sleep, 0.01)
        started = [t for t in threading.enumerate() if t not in before]
        assert started, "to_thread keeps a thread for the next call"
        assert event_loop.close_default_executor() == len(started)
        assert not any(t.is_alive() for t in started)
        assert await asyncio.to_thread(lambda: 7) == 7  # a fresh pool
        assert event_loop.close_default_executor() == 1
        assert event_loop.close_default_executor() == 0  # a fresh pool has no thread

    asyncio.run(main())
    with pytest.raises(RuntimeError):  # no running loop
        event_loop.close_default_executor()


def test_explorer_draws_when_built_and_at_each_run():
    import ipywidgets as W

    calls = []

    def make(n):
        calls.append(n)
        return asyncio.run(helpers.record_tasks(*(nap(0.01) for _ in range(n))))

    box = event_loop.explorer(make, n=W.IntSlider(2, min=1, max=3))
    assert calls == [2]
    slider, button = box.children[0].children
    slider.value = 3
    button.click()
    assert calls == [2, 3] and not button.disabled


def test_the_plot_follows_classroom_mode():
    from matplotlib.collections import LineCollection

    from helpers import classroom_mode

    tl = blocked_run()
    for look, on in ((classroom_mode.NORMAL, False), (classroom_mode.CLASSROOM, True)):
        classroom_mode.classroom(on, show_style=False)
        try:
            ax = event_loop.plot(tl).axes[0]
        finally:
            classroom_mode.classroom(False, show_style=False)
        marks = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_segments()]
        (y0, y1) = sorted(p[1] for p in marks[0].get_segments()[0])
        assert y1 - y0 == pytest.approx(2 * look.bar_half_height)  # as tall as the bars
        label = next(t for t in ax.texts if t.get_text().startswith("one step: "))
        assert label.get_fontsize() == look.font
