"""asyncio in a notebook (15, 16): reading a timeline of tasks, running tasks from a widget.

A timeline of asyncio tasks comes from ``helpers.record_tasks`` (helpers.steps): one
lane per task, *running* during its steps and *awaiting* between them. This module
reads one (``steps``, ``stalls``, ``longest_gap_ms``) and draws it so that even a step
of a few microseconds shows (``plot``; an example there). It also holds the notebook's
plumbing: ``run_in_fresh_loop`` (asyncio from code that cannot ``await``, such as a
widget's callback), ``explorer`` (a widget that redraws a timeline of tasks) and
``close_default_executor`` (the threads that ``asyncio.to_thread`` left behind).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor

from ..states import RUNNING
from ..timeline import Span, Timeline

__all__ = ["STALL_MS", "close_default_executor", "explorer", "first_steps", "longest_gap_ms",
           "longest_step_ms", "plot", "run_in_fresh_loop", "stalls", "steps", "summary"]

STALL_MS = 10.0  # a step at least this long is a stall: the loop could run nothing else


# --- Reading a timeline of tasks ------------------------------------------------------------


def steps(timeline: Timeline, lane: str) -> list[Span]:
    """The steps of one task: its running spans, from one resume to the next ``await``."""
    return timeline.spans(RUNNING, lane=lane)


def longest_step_ms(timeline: Timeline, lane: str | None = None) -> float:
    """The longest step (ms) of ``lane``, or of any task: how long the loop was held at once."""
    names = [lane] if lane is not None else [ln.name for ln in timeline.lanes]
    return max((s.duration / 1e6 for name in names for s in steps(timeline, name)), default=0.0)


def longest_gap_ms(timeline: Timeline, lane: str) -> float:
    """The longest time (ms) between the starts of two steps of ``lane`` in a row.

    For a ticker that wakes every 20 ms it is about 20 ms, unless the loop was held:
    then the ticks it missed make one long gap.
    """
    starts = [s.start for s in steps(timeline, lane)]
    if len(starts) < 2:
        raise ValueError(f"lane {lane!r} took {len(starts)} step(s): a gap needs two")
    return max(b - a for a, b in zip(starts, starts[1:])) / 1e6


def stalls(timeline: Timeline, min_ms: float = STALL_MS) -> list[Span]:
    """Steps of at least ``min_ms``: while each one ran, no other task of its loop could."""
    return [s for s in timeline.spans(RUNNING) if s.duration >= min_ms * 1e6]


def first_steps(timeline: Timeline) -> tuple[float, float]:
    """A window (start_ms, end_ms) around the first step of every task: zoom in on it with
    ``plot(tl, window=first_steps(tl))`` to see the loop start them one after another."""
    firsts = [spans[0] for spans in (steps(timeline, ln.name) for ln in timeline.lanes) if spans]
    if not firsts:
        raise ValueError("no task took a step")
    lo = min(s.start for s in firsts) - timeline.start
    hi = max(s.end for s in firsts) - timeline.start
    pad = max((hi - lo) * 0.25, 2_000)  # ns
    return max(0.0, (lo - pad) / 1e6), (hi + pad) / 1e6


def summary(timeline: Timeline) -> str:
    """One line: the wall time, the longest step and its task, and a ticker's longest gap."""
    longest = max(timeline.spans(RUNNING), key=lambda s: s.duration, default=None)
    line = f"wall {timeline.wall_ms:.0f} ms"
    if longest is not None:
        owner = next(ln.name for ln in timeline.lanes if longest in ln.spans)
        line += f" · longest step {longest.duration / 1e6:.1f} ms ({owner})"
    if any(ln.name == "ticker" for ln in timeline.lanes) and len(steps(timeline, "ticker")) > 1:
        gap = longest_gap_ms(timeline, "ticker")
        line += f" · the ticker's longest gap between ticks: {gap:.0f} ms"
    return line


def plot(timeline: Timeline, *, title: str | None = None,
         window: tuple[float, float] | None = None, stall_ms: float = STALL_MS, ax=None):
    """The timeline of tasks, drawn so that a step of a few microseconds still shows.

    A step narrower than about 2 pixels is drawn as a thin green mark; a stall (a step
    of at least ``stall_ms``) is shaded red across every lane, says how long it was, and
    has a line in the legend. A window under 1 ms reads in microseconds. Returns the
    matplotlib Figure (``timeline.plot`` plus these marks; ``ax``: into it).

        >>> import asyncio
        >>> async def ticker(every=0.01, ticks=5):       # wakes every 10 ms: one step per tick
        ...     for _ in range(ticks):
        ...         await asyncio.sleep(every)
        >>> async def blocker():
        ...     await asyncio.sleep(0.015)
        ...     time.sleep(0.05)                          # holds the thread: no task runs meanwhile
        >>> tl = asyncio.run(helpers.record_tasks(ticker(), blocker(), names=["ticker", "blocker"]))
        >>> longest_step_ms(tl, "blocker") > 45           # one step of 50 ms
        True
        >>> longest_gap_ms(tl, "ticker") > 45             # so the ticker missed its ticks
        True
        >>> fig = plot(tl)                                # the steps drawn; the stall shaded
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from ..classroom_mode import look
    from ..palette import ALERT, STATE_COLORS, text_color

    half = look().bar_half_height  # a bar's half height, in rows (larger in classroom mode)
    fig = timeline.plot(title=title, window=window, ax=ax)
    ax = ax if ax is not None else fig.axes[0]
    lo, hi = window if window is not None else (0.0, timeline.wall_ms)
    thin_ms = (hi - lo) / 500  # about 2 px of the 1,000-px figure
    lanes = timeline.lanes
    if window is None:  # a little room on the left: a first step at 0 ms shows whole
        ax.set_xlim(lo - 0.006 * (hi - lo), hi)
    for i, lane in enumerate(lanes):
        y = len(lanes) - 1 - i  # rows from the top, as helpers.picture draws them
        marks = [((s.start + s.end) / 2 - timeline.start) / 1e6 for s in lane.spans
                 if s.state == RUNNING and s.duration / 1e6 < thin_ms]  # fmt: skip
        ax.vlines([x for x in marks if lo <= x <= hi], y - half, y + half,
                  color=STATE_COLORS[RUNNING], linewidth=1.6)  # fmt: skip
    shaded = False
    if len(lanes) > 1:
        for s in stalls(timeline, stall_ms):
            a, b = (s.start - timeline.start) / 1e6, (s.end - timeline.start) / 1e6
            if b <= lo or a >= hi:
                continue
            ax.axvspan(max(a, lo), min(b, hi), color=ALERT, alpha=0.13, linewidth=0)
            shaded = True
            row = next(len(lanes) - 1 - i for i, ln in enumerate(lanes) if s in ln.spans)
            if min(b, hi) - max(a, lo) > 0.15 * (hi - lo):
                ax.text((max(a, lo) + min(b, hi)) / 2, row, f"one step: {b - a:.0f} ms",
                        ha="center", va="center", color=text_color(STATE_COLORS[RUNNING]),
                        fontsize=look().font, fontweight="bold", clip_on=True)  # fmt: skip
    legend = ax.get_legend()
    if shaded and legend is not None:  # the red shade gets its line in the legend too
        _add_to_legend(ax, legend, Patch(facecolor=ALERT, alpha=0.13,
                                         label="red shade: one step holds the loop"))
    if hi - lo < 1:  # a window under 1 ms: 0.105, 0.110... ms read better as 105, 110 µs
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 1000:g}"))
        ax.set_xlabel("time since the start of the run (µs)", fontsize=look().font)
    return fig


def _add_to_legend(ax, legend, handle) -> None:
    """Draw ``legend`` again with ``handle`` at its end, placed as helpers.picture places it."""
    from matplotlib.transforms import offset_copy

    from ..classroom_mode import look

    lk = look()
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-2.9 * lk.font, units="points")
    ax.legend(handles=[*legend.legend_handles, handle], loc="upper left", bbox_to_anchor=(0, 0),
              bbox_transform=below, ncol=lk.legend_columns, fontsize=lk.font, frameon=False,
              borderaxespad=0, handlelength=1.6, columnspacing=1.5)  # fmt: skip


# --- asyncio where you cannot await ---------------------------------------------------------


def run_in_fresh_loop(coro: Coroutine, timeout: float = 30.0):
    """Run ``coro`` on a new event loop in a worker thread; return its result (or raise its error).

    For code that cannot ``await``: a widget's callback, for one, is a plain function
    called while the kernel's loop is busy calling it, so it can neither await nor call
    ``asyncio.run``. The worker runs ``asyncio.run(coro)``, which gives the loop its own
    threads for ``asyncio.to_thread`` and ends them. After ``timeout`` seconds the
    coroutine is cancelled (at its next await); the worker is always joined.

        >>> async def answer():
        ...     await asyncio.sleep(0.01)
        ...     return 42
        >>> run_in_fresh_loop(answer(), timeout=5)
        42
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"run_in_fresh_loop() takes a coroutine, not {type(coro).__name__}: "
                        "call the async function, e.g. run_in_fresh_loop(main())")  # fmt: skip
    if not 0 < timeout <= 600:
        coro.close()  # it will never run: close it, or Python warns it was never awaited
        raise ValueError(f"timeout must be more than 0 and at most 600 s, got {timeout}")
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = asyncio.run(asyncio.wait_for(coro, timeout))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="fresh event loop", daemon=True)
    worker.start()
    worker.join(timeout + 10)  # wait_for cancels it at `timeout`; a blocked loop cannot be
    if worker.is_alive():
        raise TimeoutError(f"the coroutine still runs after {timeout + 10:g} s: a step that never "
                           "reaches an await (a blocking call?) cannot be cancelled")
    if "error" in outcome:
        if isinstance(outcome["error"], asyncio.TimeoutError):
            raise TimeoutError(f"the coroutine did not finish within {timeout:g} s; it was "
                               "cancelled") from outcome["error"]  # fmt: skip
        raise outcome["error"]
    return outcome["result"]


def close_default_executor() -> int:
    """End the threads that ``asyncio.to_thread`` started on the running loop; return how many.

    ``asyncio.to_thread`` runs its function in a thread of the loop's *default executor*,
    a ThreadPoolExecutor that keeps its threads for the next call. ``asyncio.run`` shuts it
    down when a script ends; a notebook's loop lives as long as the kernel, so this ends
    them and gives the loop a fresh pool, which starts threads only when next used.
    Waits at most 10 s for a thread still busy.
    """
    loop = asyncio.get_running_loop()
    old = getattr(loop, "_default_executor", None)  # not public, in every asyncio since 3.4
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))
    if old is None:
        return 0
    threads = list(getattr(old, "_threads", ()))
    old.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 10
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    busy = [t.name for t in threads if t.is_alive()]
    if busy:
        raise TimeoutError(f"thread(s) {busy} still busy after 10 s: a to_thread call runs on")
    return len(threads)


# --- A widget -------------------------------------------------------------------------------


def explorer(make_timeline: Callable[..., Timeline], *,
             describe: Callable[[Timeline], str] | None = summary, **controls):
    """Controls, a Run button, and the timeline of tasks they produce (drawn with ``plot``).

    make_timeline -- called with the controls' values as keyword arguments; returns a
                     Timeline of tasks. A widget's callback cannot await: record the tasks
                     with ``run_in_fresh_loop(helpers.record_tasks(...))``.
    describe      -- a line about the timeline, printed under the picture (None: none).
    controls      -- name=widget; each name is an argument of make_timeline.

    The first picture is drawn when the cell runs, then again at each press of Run.
    """
    from ..widgets import explorer as timeline_explorer  # ipywidgets only when a widget is wanted

    return timeline_explorer(make_timeline, stats=False, draw=plot, describe=describe,
                             **controls)
