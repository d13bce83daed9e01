"""Notebook 12's plumbing (helpers.lessons.queues): a queue's length, a recorded pipeline, its
picture, and the way out for threads that loop on get() for ever."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from helpers import BLOCKED
from helpers.lessons import queues


def test_watch_notes_every_put_and_get_in_order():
    q = queue.LifoQueue(maxsize=3)  # any Queue of queue.py: they share _put and _get
    lengths = queues.watch(q)
    for i in range(3):
        q.put(i)
    assert q.get() == 2 and q.get() == 1  # still last in, first out
    assert [n for _, n in lengths.points] == [0, 1, 2, 3, 2, 1]
    times = [t for t, _ in lengths.points]
    assert times == sorted(times) and lengths.most() == 3 and lengths.maxsize == 3
    assert queues.watch(q) is lengths  # watched once


def test_watch_says_what_it_needs():
    with pytest.raises(TypeError, match="queue.Queue"):
        queues.watch(queue.SimpleQueue())


@pytest.mark.parametrize("bad", [dict(producers=0), dict(consumers=1.5), dict(maxsize=-1),
                                 dict(work_ms=5000), dict(items=0)])  # fmt: skip
def test_run_pipeline_rejects_bad_knobs(bad):
    with pytest.raises(ValueError, match="must be|milliseconds"):
        queues.run_pipeline(**bad)


def test_a_slow_consumer_makes_the_producer_wait_in_put_and_nothing_is_lost(no_leftovers):
    run = queues.run_pipeline(producers=2, consumers=1, maxsize=2, work_ms=10, items=12,
                              make_ms=1)  # fmt: skip
    assert sorted(run.consumed) == list(range(12)) == sorted(run.made)
    assert run.lengths.most() <= 2 + 1  # maxsize, and the sentinel once the producers are done
    put = [s for ln in run.timeline.lanes if ln.name.startswith("producer")
           for s in ln.spans if s.label == "Queue.put"]  # fmt: skip
    assert any(s.state == BLOCKED for s in put)
    assert "12 items made, 12 consumed" in run.summary()


def test_quick_consumers_wait_in_get(no_leftovers):
    run = queues.run_pipeline(producers=1, consumers=3, maxsize=2, work_ms=0, items=8,
                              make_ms=20)  # fmt: skip
    waited = queues.waited_in(run.timeline, "Queue.get")
    assert sorted(run.consumed) == list(range(8))
    assert {"consumer-1", "consumer-2", "consumer-3"} <= set(waited)
    assert not queues.waited_in(run.timeline, "Queue.put").get("producer-1")


def test_the_picture_has_the_lanes_and_the_length_under_them():
    run = queues.run_pipeline(producers=1, consumers=1, maxsize=2, work_ms=5, items=6)
    fig = queues.plot_with_length(run.timeline, run.lengths, title="t")
    lanes, chart = fig.axes
    names = {t.get_text().split("\n")[0] for t in lanes.get_yticklabels()}
    assert names == {"MainThread", "producer-1", "consumer-1"}
    assert chart.get_ylabel().startswith("items") and chart.get_legend() is not None


# SystemExit ends a thread silently (threading.excepthook ignores it); pytest's own hook
# reports every exception that ends a thread, this one included.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_end_for_ever_ends_a_loop_that_has_no_way_out():
    q = queue.Queue()
    seen = []

    def manager():
        while True:
            seen.append(q.get())

    threads = [threading.Thread(target=manager, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    q.put("work")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queues.end_for_ever(q, threads)
    assert seen == ["work"] and not any(t.is_alive() for t in threads)
