"""Compare (notebooks 01, 02, 03, 17): two lanes, concurrent or parallel; timelines stacked.

- two lanes are *concurrent* when their lifetimes overlap: the second began before the
  first was over, whether or not they ever ran at the same instant;
- they run in *parallel* for as long as both are executing (on a core, in Python or in
  C) at the same instant.

    >>> from helpers import workloads as w
    >>> from helpers.lessons import compare
    >>> tl = helpers.run_threads([w.cpu(0.05), w.sleep(0.05)])
    >>> compare.concurrent(tl)          # the sleep began before the computing ended
    True
    >>> compare.parallel_ms(tl)         # a sleeping thread is not running
    0.0
    >>> fig = compare.stacked([tl, tl], ["first", "second"])   # same time axis
"""

from __future__ import annotations

from collections.abc import Sequence

from ..intervals import overlap_ms
from ..states import BLOCKED, C_CALL, C_CALL_NO_GIL, RUNNING
from ..timeline import Lane, Timeline

__all__ = ["ACTING", "EXECUTING", "concurrent", "lifetime", "parallel_ms", "stacked"]

ACTING = (RUNNING, BLOCKED, C_CALL, C_CALL_NO_GIL)  # doing its work, or waiting on purpose
EXECUTING = (RUNNING, C_CALL, C_CALL_NO_GIL)  # on a core, executing instructions


def lifetime(lane: Lane) -> tuple[int, int]:
    """(start, end) in perf_counter ns: from the lane's first action to its last.

    Waiting to start (for the GIL, for a core, a new process starting up) is not yet
    the task's life; nor is "finished".
    """
    acting = [s for s in lane.spans if s.state in ACTING]
    if not acting:
        raise ValueError(f"lane {lane.name!r} never did anything")
    return acting[0].start, acting[-1].end


def concurrent(timeline: Timeline, lanes: tuple[int, int] = (0, 1)) -> bool:
    """Did the lifetimes of two lanes (by default the first two) overlap?"""
    (start1, end1), (start2, end2) = (lifetime(timeline.lanes[i]) for i in lanes)
    return start1 < end2 and start2 < end1


def parallel_ms(timeline: Timeline, lanes: tuple[int, int] = (0, 1)) -> float:
    """How long (ms) two lanes (by default the first two) were executing at the same instant."""
    a, b = ([s for s in timeline.lanes[i].spans if s.state in EXECUTING] for i in lanes)
    return overlap_ms(a, b)


def stacked(timelines: Sequence[Timeline], titles: Sequence[str]):
    """Timelines one above the other on one time axis, each titled with its wall time;
    the Python-and-machine line once, at the top, where they share it; one legend under
    them all. Returns the matplotlib Figure.

        >>> in_turn = helpers.run_threads([w.sleep(0.02)])
        >>> together = helpers.run_threads([w.sleep(0.01), w.sleep(0.01)])
        >>> fig = stacked([in_turn, together], ["In turn", "In threads"])
    """
    import matplotlib.pyplot as plt

    from .. import picture
    from ..classroom_mode import look

    if len(timelines) != len(titles) or not timelines:
        raise ValueError("give one title per timeline, and at least one timeline")
    end = 1.02 * max(tl.wall_ms for tl in timelines)
    rows = [len(tl.lanes) + 2.2 for tl in timelines]  # lanes, plus room for the title
    width, height = picture.figure_size(sum(len(tl.lanes) for tl in timelines))
    height += 1.0 * (len(timelines) - 1)  # a title and a time axis for each
    fig, axes = plt.subplots(len(timelines), 1, figsize=(width, height), height_ratios=rows,
                             layout="constrained", squeeze=False)  # fmt: skip
    seen: set = set()
    for i, (ax, tl, title) in enumerate(zip(axes[:, 0], timelines, titles)):
        tl.plot(ax=ax, window=(0, end), title=f"{title}: {tl.wall_ms:.0f} ms", legend=False)
        seen |= picture.seen_states(tl, (0, end))
        same = tl.info.describe() == timelines[0].info.describe()
        if i > 0 and same:  # said once, at the top: not repeated under every panel's title
            shorter = ax.get_title(loc="left").replace(f"\n{tl.info.describe()}", "", 1)
            ax.set_title(shorter, fontsize=look().title_font, loc="left")
    picture.add_legend(axes[-1, 0], seen, all(tl.info.gil_enabled for tl in timelines))
    plt.close(fig)  # the caller shows it (a notebook displays the returned figure once)
    return fig
