"""Queues (notebook 12): a queue's length over time, drawn under its threads' lanes.

``watch(q)`` notes the length of a ``queue.Queue`` at every put and get: it wraps the two
small methods Queue.put and Queue.get call with the queue's lock held (``_put``, ``_get``).
``plot_with_length`` draws a recorded timeline with that length under it. ``run_pipeline``
runs producers and consumers (plain threads) through one bounded queue, recorded, and
``queue_widget`` puts its knobs on sliders. ``end_for_ever`` ends threads that loop on
``get()`` with no way out (the manager threads of notebook 12).

    >>> import queue
    >>> q = queue.Queue(maxsize=2)
    >>> lengths = watch(q)
    >>> q.put("a"); q.put("b"); q.get()
    'a'
    >>> [n for _, n in lengths.points], lengths.most()
    ([0, 1, 2, 1], 2)
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from ..palette import ALERT, NEUTRALS
from ..picture import add_legend, figure_size, plot_timeline, seen_states
from ..states import BLOCKED
from ..threads import recording
from ..timeline import Timeline

__all__ = ["Lengths", "PipelineRun", "end_for_ever", "plot_with_length", "queue_widget",
           "run_pipeline", "waited_in", "watch"]

now = time.perf_counter_ns  # the clock of the timeline


class Lengths:
    """The length of one queue over time: ``points``, (perf_counter ns, length) pairs, one
    at the start and one after every put and get."""

    def __init__(self, q: queue.Queue) -> None:
        self.maxsize = q.maxsize
        self.points: list[tuple[int, int]] = [(now(), q.qsize())]

    def most(self) -> int:
        """The longest the queue was."""
        return max(n for _, n in self.points)


def watch(q: queue.Queue) -> Lengths:
    """Note ``q``'s length at every put and get from now on; returns the Lengths.

    Queue.put and Queue.get do their waiting in the queue's Conditions and then call
    ``self._put(item)`` and ``self._get()`` holding the queue's lock (queue.py's
    template: LifoQueue and PriorityQueue override these two, and a few more). We wrap
    them on this one queue, so each length is noted under that lock, in order.
    """
    if not isinstance(q, queue.Queue):
        raise TypeError(f"watch() needs a queue.Queue (or a LifoQueue, PriorityQueue), "
                        f"not {type(q).__name__}")  # fmt: skip
    if isinstance(getattr(q, "_lengths", None), Lengths):
        return q._lengths  # watched already: one record of it
    lengths = q._lengths = Lengths(q)
    put, get = q._put, q._get

    def _put(item) -> None:
        put(item)
        lengths.points.append((now(), q._qsize()))

    def _get():
        item = get()
        lengths.points.append((now(), q._qsize()))
        return item

    q._put, q._get = _put, _get
    return lengths


def waited_in(timeline: Timeline, call: str) -> dict[str, float]:
    """Milliseconds each lane spent waiting inside ``call`` (a span label such as
    "Queue.put"), for the lanes that did."""
    out: dict[str, float] = {}
    for lane in timeline.lanes:
        ms = sum(s.duration for s in lane.spans if s.label == call) / 1e6
        if ms:
            out[lane.name] = ms
    return out


def plot_with_length(timeline: Timeline, lengths: Lengths, title: str | None = None):
    """The timeline's lanes, and under them the queue's length over the same time axis
    (a dashed line at its maxsize, where put() waits). Returns the Figure."""
    import matplotlib.pyplot as plt

    width, height = figure_size(len(timeline.lanes))
    fig, (lanes, chart) = plt.subplots(
        2, 1, figsize=(width, height + 1.4), sharex=True, layout="constrained",
        height_ratios=[max(2, len(timeline.lanes)), 1.6])  # fmt: skip
    plot_timeline(timeline, ax=lanes, title=title, legend=False)
    lanes.set_xlabel("")
    t0 = timeline.start
    xs = [max(0.0, (t - t0) / 1e6) for t, _ in lengths.points]
    ys = [n for _, n in lengths.points]
    chart.step([*xs, timeline.wall_ms], [*ys, ys[-1]], where="post",
               color=NEUTRALS["ink"], linewidth=1.6)  # fmt: skip
    top = max(lengths.maxsize, lengths.most(), 1)
    if lengths.maxsize > 0:
        chart.axhline(lengths.maxsize, color=ALERT, linestyle="--", linewidth=1)
        chart.text(timeline.wall_ms, lengths.maxsize, f"maxsize {lengths.maxsize}: put() waits ",
                   ha="right", va="bottom", color=ALERT)  # fmt: skip
    chart.set_ylim(0, top * 1.35)
    chart.set_ylabel("items in\nthe queue")
    chart.set_xlabel("time since the start of the run (ms)")
    chart.grid(axis="x", color=NEUTRALS["grid"], linewidth=0.6)
    add_legend(chart, seen_states(timeline) | {(BLOCKED, False)}, timeline.info.gil_enabled)
    plt.close(fig)
    return fig


@dataclass
class PipelineRun:
    """What run_pipeline did: the timeline, the queue's lengths, what was made and eaten."""

    timeline: Timeline
    lengths: Lengths
    made: list = field(default_factory=list)
    consumed: list = field(default_factory=list)

    def summary(self) -> str:
        put = sum(waited_in(self.timeline, "Queue.put").values())
        get = sum(waited_in(self.timeline, "Queue.get").values())
        return (f"{len(self.made)} items made, {len(self.consumed)} consumed; the queue held "
                f"at most {self.lengths.most()}; producers waited {put:.0f} ms in put(), "
                f"consumers {get:.0f} ms in get()")


STOP = None  # the sentinel: one per consumer


def run_pipeline(producers: int = 1, consumers: int = 1, maxsize: int = 3, work_ms: float = 20,
                 items: int = 24, make_ms: float = 5) -> PipelineRun:  # fmt: skip
    """``producers`` threads make ``items`` items between them (``make_ms`` each), through
    one ``queue.Queue(maxsize)``, to ``consumers`` threads that take ``work_ms`` per item
    (a sleep: waiting, as for I/O). Recorded; every thread has ended when it returns."""
    for name, value, low in (("producers", producers, 1), ("consumers", consumers, 1),
                             ("maxsize", maxsize, 0), ("items", items, 1)):  # fmt: skip
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, not {value!r}")
    if not 0 <= work_ms <= 1000 or not 0 <= make_ms <= 1000:
        raise ValueError("work_ms and make_ms are milliseconds per item, from 0 to 1000")
    q = queue.Queue(maxsize=maxsize)
    lengths = watch(q)
    made, consumed = [], []

    def produce(first: int) -> None:
        for i in range(first, items, producers):
            time.sleep(make_ms / 1000)
            made.append(i)
            q.put(i)

    def consume() -> None:
        while (item := q.get()) is not STOP:
            time.sleep(work_ms / 1000)
            consumed.append(item)

    with recording() as rec:
        makers = [threading.Thread(target=produce, args=(i,), name=f"producer-{i + 1}")
                  for i in range(producers)]  # fmt: skip
        takers = [threading.Thread(target=consume, name=f"consumer-{i + 1}")
                  for i in range(consumers)]  # fmt: skip
        for t in makers + takers:
            t.start()
        for t in makers:
            t.join(timeout=30)
        for _ in takers:
            q.put(STOP)  # one sentinel per consumer: each takes one and stops
        for t in takers:
            t.join(timeout=30)
    return PipelineRun(rec.timeline, lengths, made, consumed)


def queue_widget(producers: int = 1, consumers: int = 1, maxsize: int = 3, work_ms: int = 20):
    """Sliders for run_pipeline and a Run button; draws the lanes and the queue's length."""
    import ipywidgets as W

    from ..widgets import explorer

    runs: dict[int, PipelineRun] = {}

    def make(producers, consumers, maxsize, work_ms):
        run = run_pipeline(producers, consumers, maxsize, work_ms)
        runs.clear()
        runs[id(run.timeline)] = run
        return run.timeline

    def draw(tl):
        return plot_with_length(tl, runs[id(tl)].lengths, title="Producers, a queue, consumers")

    return explorer(
        make, stats=False, draw=draw, describe=lambda tl: runs[id(tl)].summary(),
        producers=W.IntSlider(producers, 1, 4, description="producers"),
        consumers=W.IntSlider(consumers, 1, 4, description="consumers"),
        maxsize=W.IntSlider(maxsize, 0, 10, description="maxsize (0: no limit)"),
        work_ms=W.IntSlider(work_ms, 0, 40, step=5, description="work per item (ms)"),
    )  # fmt: skip


def end_for_ever(q: queue.Queue, threads: list[threading.Thread], timeout: float = 2) -> bool:
    """End threads that loop on ``q.get()`` for ever (no sentinel, no shutdown): their
    next get() raises SystemExit, which ends a thread without a traceback. Returns
    whether they all ended. A way out the program itself should have had."""

    def leave():
        raise SystemExit

    q._get = leave
    for _ in threads:
        q.put(STOP)  # wakes one waiting get(), which then calls _get()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)
