"""The timeline drawn as a picture (a Gantt chart): one row per thread, grouped by process.

    >>> fig = helpers.run_threads([w.cpu(0.1), w.cpu(0.1)]).plot()
    >>> fig = tl.plot(window=(20, 50))     # zoom in on 20-50 ms to see the slices
    >>> fig = helpers.plot(tl)             # the same, as a function

Colours (helpers.palette) are told apart on a projector, by colour-blind eyes and
in greyscale: green running, amber waiting, blue blocked, purple a C call. What is
inferred rather than seen is hatched. The figure is WIDTH inches (1,000 px at 100
dpi, narrower than a notebook's output area, so it is never shrunk) with the legend
under the time axis; helpers.classroom() draws larger (helpers.classroom_mode).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.transforms import offset_copy

from .classroom_mode import NORMAL, look
from .palette import NEUTRALS, STATE_COLORS, text_color
from .states import (
    AWAITING,
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    WAITING_CPU,
    WAITING_GIL,
)

if TYPE_CHECKING:  # only for the type hints: this module never imports the timeline
    from .timeline import Timeline

__all__ = ["add_legend", "figure_size", "plot_timeline", "seen_states"]

LEGEND_GIL = {
    STARTING: "starting (a new thread or process)",
    AWAITING: "awaiting (suspended at yield or await)",
    RUNNING: "running Python (holds the GIL)",
    WAITING_GIL: "waiting for the GIL",
    WAITING_CPU: "waiting for a CPU core",
    BLOCKED: "blocked, GIL released (sleep, I/O, lock)",
    C_CALL: "in a C call, holding the GIL",
    C_CALL_NO_GIL: "in a C call, GIL released (computing)",
    FINISHED: "finished",
}
WIDTH = 10.0  # inches: 1,000 px at 100 dpi, narrower than a notebook's output area
AXIS_PIXELS = 850  # about how many of them the time axis takes (the lane names take the rest)
# The normal sizes; helpers.classroom() draws with larger ones (helpers.classroom_mode.look()).
FONT = NORMAL.font  # points: lane names, axis, legend, labels in the bars
TITLE_FONT = NORMAL.title_font

LEGEND_NO_GIL = {
    **LEGEND_GIL,
    RUNNING: "running Python (no GIL: may overlap)",
    BLOCKED: "blocked (sleep, I/O, lock)",
    C_CALL: "in a C call",
    C_CALL_NO_GIL: "in a C call (computing)",
}


def plot_timeline(
    timeline: Timeline,
    *,
    window: tuple[float, float] | None = None,
    title: str | None = None,
    ax=None,
    labels: bool = True,
    legend: bool = True,
):
    """Draw ``timeline``; return the matplotlib Figure.

    window -- (start_ms, end_ms) from the start of the run: zoom in.
    title  -- replaces the first line of the title (the second says Python and GIL).
    ax     -- draw into this Axes instead of a new figure.
    labels -- write what a span blocked on inside it, where it is wide enough.
    """
    lanes = timeline.lanes
    t0 = timeline.start
    lk = look()
    lo, hi = window if window is not None else (0.0, timeline.wall_ms)
    if not hi > lo:
        raise ValueError(f"window must be (start_ms, end_ms) with end after start, got {window}")
    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(figsize=figure_size(len(lanes)), layout="constrained")
    else:
        fig = ax.figure

    # Rows from the top, in lane order; one group of rows per process.
    rows = {id(lane): len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    bars: dict[tuple[str, bool], list[tuple[float, tuple[float, float]]]] = defaultdict(list)
    texts = []
    for lane in lanes:
        y = rows[id(lane)]
        for s in lane.spans:
            a, b = (s.start - t0) / 1e6, (s.end - t0) / 1e6
            if b <= lo or a >= hi:
                continue
            a, b = max(a, lo), min(b, hi)
            bars[(s.state, s.inferred)].append((y, (a, b - a)))  # row, (start, width)
            if labels and s.label and b - a > _text_width(s.label, lk.font, fig, hi - lo):
                texts.append(((a + b) / 2, y, s.label, s.state))

    seen = seen_states(timeline, (lo, hi))  # the legend lists what shows, not every sliver
    for (state, inferred), items in bars.items():
        # All the rectangles of one state as one path: fast enough for 100,000 spans.
        y = np.array([row for row, _ in items], dtype=float)
        x0 = np.array([x for _, (x, _) in items])
        x1 = x0 + np.array([width for _, (_, width) in items])
        y, x0, x1 = _merge_subpixel_gaps(y, x0, x1, (hi - lo) / 3000)
        lo_y, hi_y = y - lk.bar_half_height, y + lk.bar_half_height
        corners = [(x0, lo_y), (x0, hi_y), (x1, hi_y), (x1, lo_y), (x0, lo_y)]
        verts = np.stack([np.column_stack(c) for c in corners], axis=1).reshape(-1, 2)
        codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                        len(y))  # fmt: skip
        patch = PathPatch(
            Path(verts, codes), facecolor=STATE_COLORS[state], linewidth=0,
            edgecolor=_hatch_color(state) if inferred else "none",
            hatch="///" if inferred else None, alpha=0.75 if inferred else 1.0,
        )  # fmt: skip
        if inferred:
            _set_hatch_width(patch, lk.hatch_linewidth)
        ax.add_artist(patch)  # add_artist: the limits are set below, not computed
    for x, y, text, state in texts[:60]:
        ax.text(x, y, text, ha="center", va="center", fontsize=lk.font, clip_on=True,
                color=text_color(STATE_COLORS[state]))
    _draw_labelled_stretches(ax, lanes, rows, t0, (lo, hi), lk, labels)

    # Process groups: a line between processes; each row names its thread or process.
    processes = timeline.info.kind == "processes"
    ax.set_yticks([rows[id(ln)] for ln in lanes])
    ids = [f"pid {ln.pid}" if processes else
           f"task on tid {ln.native_id}" if ln.kind == "task" else f"tid {ln.native_id}"
           for ln in lanes]  # fmt: skip
    ax.set_yticklabels([f"{ln.name}\n{i}" for ln, i in zip(lanes, ids)], fontsize=lk.font)
    for above, below in zip(lanes, lanes[1:]):
        if above.pid != below.pid:
            ax.axhline(rows[id(below)] + 0.5, color=NEUTRALS["rule"], linewidth=1.2)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("time since the start of the run (ms)", fontsize=lk.font)
    ax.tick_params(axis="x", labelsize=lk.font)
    ax.grid(axis="x", color=NEUTRALS["grid"], linewidth=0.6)
    ax.set_axisbelow(True)

    info = timeline.info
    notes = "".join(f"\n{note}" for note in timeline.notes)  # e.g. a recording cut short
    ax.set_title(f"{title or timeline.heading()}\n{info.describe()}{notes}",
                 fontsize=lk.title_font, loc="left")  # fmt: skip

    if legend:
        add_legend(ax, seen, info.gil_enabled, tasks=info.kind == "tasks",
                   outlined=any(ln.labels for ln in lanes))
    if own_figure:
        plt.close(fig)  # the caller shows it (a notebook displays the returned figure once)
    return fig


def _draw_labelled_stretches(ax, lanes, rows, t0, window, lk, labels: bool) -> None:
    """A lane's labelled stretches (a pool worker's tasks): an outline over its states,
    and the label on a light patch, where it fits. Not a state: the colours stay."""
    lo, hi = window
    boxes, texts = [], []
    for lane in lanes:
        y = rows[id(lane)]
        for start, end, text in lane.labels:
            a, b = max((start - t0) / 1e6, lo), min((end - t0) / 1e6, hi)
            if b <= a:
                continue
            boxes.append(((a, y - lk.bar_half_height), b - a))
            if labels and b - a > _text_width(text, lk.font - 2, ax.figure, hi - lo):
                texts.append(((a + b) / 2, y, text))
    if not boxes:
        return
    verts, codes = [], []
    for (x, y), width in boxes:
        height = 2 * lk.bar_half_height
        verts += [(x, y), (x, y + height), (x + width, y + height), (x + width, y), (x, y)]
        codes += [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    ax.add_artist(PathPatch(Path(verts, codes), facecolor="none",
                            edgecolor=NEUTRALS["outline"], linewidth=1.2))  # fmt: skip
    for x, y, text in texts[:60]:
        ax.text(x, y, text, ha="center", va="center", fontsize=lk.font - 2, clip_on=True,
                color=NEUTRALS["ink"], bbox={"facecolor": NEUTRALS["paper"], "alpha": 0.8,
                                             "edgecolor": "none", "pad": 1})  # fmt: skip


def _text_width(text: str, points: float, fig, span_ms: float) -> float:
    """About how many ms of the x axis ``text`` needs: a label is drawn only where it fits.

    An average character is about 0.6 of the font size wide; the axis takes about 85%
    of the figure's width (the lane names take the rest).
    """
    axis_points = fig.get_figwidth() * 72 * 0.85
    return (len(text) * 0.6 * points + 8) * span_ms / axis_points


def figure_size(rows: int, legend_rows: int = 2) -> tuple[float, float]:
    """(width, height) in inches for a timeline of ``rows`` lanes, title and legend included.

    >>> figure_size(2)
    (10.0, 3.2)
    """
    lk = look()
    if lk.legend_columns == 1:
        legend_rows *= 3  # one column: about three times as many lines, and taller ones
    scale = lk.font / NORMAL.font
    return WIDTH, round(1.5 * scale + lk.row_inches * rows + 0.3 * scale * legend_rows, 2)


def seen_states(timeline: Timeline, window: tuple[float, float] | None = None) -> set:
    """The (state, inferred) pairs that show in a picture of ``timeline`` in ``window`` (ms):
    those whose spans there add up to at least a pixel (of the ~850 of a timeline's axis)."""
    lo, hi = window if window is not None else (0.0, timeline.wall_ms)
    t0, total = timeline.start, defaultdict(float)
    for lane in timeline.lanes:
        for s in lane.spans:
            a, b = max((s.start - t0) / 1e6, lo), min((s.end - t0) / 1e6, hi)
            if b > a:
                total[(s.state, s.inferred)] += b - a
    return {key for key, ms in total.items() if ms >= (hi - lo) / AXIS_PIXELS}


def add_legend(ax, seen: set, gil_enabled: bool = True, tasks: bool = False,
               outlined: bool = False):
    """A legend of the states in ``seen`` ((state, inferred) pairs), under the time axis of
    ``ax``, in two columns: the timeline above keeps the whole width of the figure.
    ``outlined``: lanes have labelled stretches (a pool worker's jobs)."""
    lk = look()
    names = LEGEND_GIL if gil_enabled else LEGEND_NO_GIL
    if tasks:  # a step of a generator or coroutine holds its thread, whatever it does
        names = {**names, RUNNING: "running a step (has the thread)"}
    handles = [Patch(facecolor=STATE_COLORS[st], label=names[st])
               for st in STATE_COLORS if (st, False) in seen or (st, True) in seen]  # fmt: skip
    if any(inferred for _, inferred in seen):
        hatched = Patch(facecolor="white", edgecolor=NEUTRALS["rule"], hatch="///",
                        label="hatched: inferred, not seen")  # fmt: skip
        _set_hatch_width(hatched, lk.hatch_linewidth)
        handles.append(hatched)
    if outlined:
        handles.append(Patch(facecolor="none", edgecolor=NEUTRALS["outline"], linewidth=1.2,
                             label="outlined: one job of a pool worker"))  # fmt: skip
    # Anchored in points below the axes' bottom edge (under the tick labels and the axis
    # label), whatever the axes' height; constrained layout makes room for it.
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-2.9 * lk.font, units="points")
    return ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0),
                     bbox_transform=below, ncol=lk.legend_columns, fontsize=lk.font,
                     frameon=False,
                     borderaxespad=0, handlelength=1.6, columnspacing=1.5)  # fmt: skip


def _hatch_color(state: str) -> str:
    """Hatching that shows on the span's own colour: dark on light colours, light on dark."""
    dark = text_color(STATE_COLORS[state]) == NEUTRALS["paper"]
    return NEUTRALS["hatch on dark"] if dark else NEUTRALS["hatch on light"]


def _set_hatch_width(patch, width: float) -> None:
    """Per-patch hatch width where matplotlib has it (3.10+); before, the rcParam
    hatch.linewidth applies, which helpers.classroom() sets too."""
    if hasattr(patch, "set_hatch_linewidth"):
        patch.set_hatch_linewidth(width)


def _merge_subpixel_gaps(y, x0, x1, eps):
    """Join rectangles of one row whose gap is far below a pixel: the picture is the same,
    and drawing 100,000 spans stays fast. Input is in row order, then time order."""
    if len(y) < 2:
        return y, x0, x1
    keep = (y[1:] == y[:-1]) & (x0[1:] - x1[:-1] < eps)
    breaks = np.flatnonzero(~keep)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(y) - 1]))
    return y[firsts], x0[firsts], x1[lasts]
