"""asyncio's tools for many tasks (16): who was inside a stretch of code, when, and how many.

A step timeline (``helpers.record_tasks``) shows a task *awaiting*, but not what for:
waiting for a turn at an ``asyncio.Semaphore`` looks the same as waiting for a reply.
``Inside`` notes it: ``with inside("fetch 1"): ...`` around the part that holds the turn
(or works on an item); an example there. ``most_at_once()`` counts, ``labelled``
outlines those stretches on the task lanes, ``plot`` draws the lanes with how many were
inside below them, and ``explorer`` is a widget that redraws such a ``Run``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from ..intervals import at_once, most_at_once
from ..recorder import now
from ..timeline import Timeline

__all__ = ["Inside", "Run", "explorer", "labelled", "plot"]


class Inside:
    """Notes each stay inside a stretch of code: (lane, start ns, end ns, label).

    Not a lock and not a limit: it only writes down who was inside, and when. Use it
    inside the ``async with semaphore:`` block, or around the work on one item.

        >>> import asyncio
        >>> inside, limit = Inside(), asyncio.Semaphore(2)
        >>> async def fetch(i):
        ...     async with limit:
        ...         with inside(f"fetch {i}"):
        ...             await asyncio.sleep(0.01)
        >>> tl = asyncio.run(helpers.record_tasks(*(fetch(i) for i in range(5)),
        ...                                       names=[f"fetch {i}" for i in range(5)]))
        >>> inside.most_at_once(), len(inside.stays)
        (2, 5)
    """

    def __init__(self) -> None:
        self.stays: list[tuple[str, int, int, str]] = []
        self.now = 0  # how many are inside at this instant

    @contextmanager
    def __call__(self, lane: str, label: str = "inside") -> Iterator[None]:
        if not isinstance(lane, str) or not lane:
            raise TypeError(f"inside() takes the task's lane name, e.g. inside('fetch 1'), "
                            f"not {lane!r}")  # fmt: skip
        start = now()
        self.now += 1
        try:
            yield
        finally:  # also when the task is cancelled inside
            self.now -= 1
            self.stays.append((lane, start, now(), label))

    def most_at_once(self) -> int:
        """The most stays that overlapped at one instant."""
        return most_at_once((start, end) for _, start, end, _ in self.stays)

    def lanes(self) -> set[str]:
        """The names of the lanes that were inside at least once."""
        return {lane for lane, *_ in self.stays}


def labelled(timeline: Timeline, inside: Inside) -> Timeline:
    """``timeline`` with each stay outlined on its lane, and its label written in it."""
    unknown = inside.lanes() - {ln.name for ln in timeline.lanes}
    if unknown:
        raise ValueError(f"no lane named {sorted(unknown)} in the timeline: give inside() the "
                         "names you gave record_tasks(..., names=[...])")  # fmt: skip
    by_lane: dict[str, list[tuple[int, int, str]]] = {}
    for lane, start, end, label in inside.stays:
        by_lane.setdefault(lane, []).append((start, end, label))
    lanes = tuple(dataclasses.replace(ln, labels=ln.labels + tuple(by_lane.get(ln.name, ())))
                  for ln in timeline.lanes)  # fmt: skip
    return dataclasses.replace(timeline, lanes=lanes)


def plot(timeline: Timeline, inside: Inside, *, limit: int | None = None,
         title: str | None = None, what: str = "inside"):
    """The task lanes with the stays outlined, and below them how many were inside at each
    instant; ``limit`` draws a dashed line at the most that may be. Returns the Figure."""
    import matplotlib.pyplot as plt

    from ..classroom_mode import look
    from ..palette import ALERT, STATE_COLORS
    from ..picture import figure_size
    from ..states import RUNNING
    from .event_loop import plot as plot_tasks

    width, height = figure_size(len(timeline.lanes))
    fig, (top, count) = plt.subplots(2, 1, figsize=(width, height + 1.4), sharex=True,
                                     height_ratios=[height, 1.4], layout="constrained")
    plot_tasks(labelled(timeline, inside), title=title, ax=top)
    top.set_xlabel("")  # the panel below says it
    legend = top.get_legend()
    for text in legend.get_texts() if legend is not None else ():
        if text.get_text().startswith("outlined:"):  # the picture's words are a pool's
            text.set_text(f"outlined: {what}")
    t0 = timeline.start
    steps = at_once((start, end) for _, start, end, _ in inside.stays)
    xs = [0.0, *((t - t0) / 1e6 for t, _ in steps), timeline.wall_ms]
    ys = [0, *(n for _, n in steps), steps[-1][1] if steps else 0]
    count.fill_between(xs, ys, step="post", color=STATE_COLORS[RUNNING], alpha=0.3, linewidth=0)
    count.step(xs, ys, where="post", color=STATE_COLORS[RUNNING], linewidth=1.2)
    most = inside.most_at_once()
    top_y = max(most, limit or 0)
    if limit is not None:
        count.axhline(limit, color=ALERT, linestyle="--", linewidth=1.5, zorder=3)
        count.text(timeline.wall_ms, limit + 0.1, f"the limit: {limit} ", ha="right",
                   va="bottom", color=ALERT, fontsize=look().font)  # fmt: skip
    count.set_ylim(0, top_y + 1.2)
    count.set_yticks(range(0, top_y + 1, max(1, (top_y + 1) // 4)))
    count.set_ylabel("at once", fontsize=look().font)
    count.set_xlabel("time since the start of the run (ms)", fontsize=look().font)
    count.set_title(f"how many were {what} at once (at most {most})", loc="left",
                    fontsize=look().font)  # fmt: skip
    plt.close(fig)
    return fig


class Run(NamedTuple):
    """A run to draw: its timeline of tasks, who was inside when, and the limit (or None)."""

    timeline: Timeline
    inside: Inside
    limit: int | None = None


def explorer(make_run: Callable[..., Run], **controls):
    """Controls, a Run button, and the picture of the ``Run`` that ``make_run(**values)``
    returns (drawn with ``plot``), with a line under it: the wall time and the count.
    A widget's callback cannot await: record with ``event_loop.run_in_fresh_loop``."""
    from ..widgets import explorer as timeline_explorer

    def draw(run: Run):
        if not isinstance(run, Run):
            raise TypeError(f"make_run must return a tq.Run(timeline, inside, limit), "
                            f"not a {type(run).__name__}")  # fmt: skip
        limit = f"a limit of {run.limit}: " if run.limit is not None else ""
        return plot(run.timeline, run.inside, limit=run.limit,
                    title=f"{limit}{len(run.timeline.lanes)} tasks")

    def describe(run: Run) -> str:
        limit = f" (the limit: {run.limit})" if run.limit is not None else ""
        return (f"{len(run.inside.stays)} stays inside in {run.timeline.wall_ms:.0f} ms; at "
                f"most {run.inside.most_at_once()} at once{limit}")  # fmt: skip

    return timeline_explorer(make_run, stats=False, draw=draw, describe=describe, **controls)
