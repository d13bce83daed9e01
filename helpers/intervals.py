"""Interval arithmetic on (start, end) pairs: merged, overlapping, how many at once.

Every question the course asks of a timeline's spans ("did these two threads run at
the same instant?", "how many philosophers ate at once?") is one of these. A span
(helpers.timeline.Span) works wherever a (start, end) pair does.

    >>> merge([(0, 10), (5, 20), (30, 40)])
    [(0, 20), (30, 40)]
    >>> overlap_ns([(0, 10)], [(5, 20)])
    5
    >>> most_at_once([(0, 10), (5, 15), (10, 20)])   # an end and a start at 10 do not meet
    2
    >>> at_least_ns([[(0, 10)], [(5, 20)], [(8, 9)]], 2)   # two or more at once: 5 to 10
    5
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

__all__ = ["Union", "at_least_ns", "at_once", "merge", "most_at_once", "overlap_ms", "overlap_ns"]


def _pair(x) -> tuple[int, int]:
    """(start, end) of a pair or of anything with .start and .end (a Span)."""
    return (x.start, x.end) if hasattr(x, "start") else (x[0], x[1])


def merge(intervals: Iterable) -> list[tuple[int, int]]:
    """The union of ``intervals``, as sorted (start, end) pairs that neither overlap nor touch."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(_pair(x) for x in intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def overlap_ns(a: Iterable, b: Iterable) -> int:
    """How long some interval of ``a`` and some interval of ``b`` cover the same instant."""
    return at_least_ns([a, b], 2)


def overlap_ms(spans_a: Iterable, spans_b: Iterable) -> float:
    """``overlap_ns`` in milliseconds: how long the two lists of spans were at the same instant.

    >>> a, b = tl.spans(helpers.RUNNING, lane="cpu-1"), tl.spans(helpers.RUNNING, lane="cpu-2")
    >>> overlap_ms(a, b)      # 0.0 under the GIL: the two threads never ran at once
    0.0
    """
    return overlap_ns(spans_a, spans_b) / 1e6


def at_least_ns(groups: Sequence[Iterable], k: int) -> int:
    """How long at least ``k`` of the groups (e.g. one per lane) covered the same instant.

    Each group is first merged, so a lane counts once however its spans are cut.
    """
    events = []  # (time, +1 when a group starts covering, -1 when it stops)
    for group in groups:
        for start, end in merge(group):
            events += [(start, 1), (end, -1)]
    events.sort()  # at one instant, an end (-1) before a start (+1): touching is not at once
    total = inside = since = 0
    for t, step in events:
        if inside >= k:
            total += t - since
        inside += step
        since = t
    return total


def at_once(intervals: Iterable) -> list[tuple[int, int]]:
    """How many intervals cover each instant, as steps: (time, count from then on).

        >>> at_once([(0, 10), (5, 15)])
        [(0, 1), (5, 2), (10, 1), (15, 0)]
    """
    events = sorted(e for x in intervals for e in ((_pair(x)[0], 1), (_pair(x)[1], -1)))
    steps: list[tuple[int, int]] = []
    now = 0
    for t, step in events:  # at equal times an end (-1) comes before a start (+1)
        now += step
        if steps and steps[-1][0] == t:
            steps[-1] = (t, now)
        else:
            steps.append((t, now))
    return steps


def most_at_once(intervals: Iterable) -> int:
    """The most intervals that cover one instant (each interval counts on its own)."""
    events = sorted(e for x in intervals for e in ((_pair(x)[0], 1), (_pair(x)[1], -1)))
    most = now = 0
    for _, step in events:  # at equal times an end (-1) comes before a start (+1)
        now += step
        most = max(most, now)
    return most


class Union:
    """The union of some intervals, ready for many questions about stretches of time.

        >>> u = Union([(0, 10), (20, 30)])
        >>> u.pieces(5, 25)            # (start, end, inside the union?)
        [(5, 10, True), (10, 20, False), (20, 25, True)]
        >>> u.overlap(5, 25)
        10
    """

    def __init__(self, intervals: Iterable) -> None:
        self.items = merge(intervals)
        self.ends = [e for _, e in self.items]

    def pieces(self, a: int, b: int) -> list[tuple[int, int, bool]]:
        """Cut (a, b) into pieces, each inside the union or outside it."""
        out, cursor = [], a
        for k in range(bisect.bisect_right(self.ends, a), len(self.items)):
            s, e = self.items[k]
            if s >= b:
                break
            s, e = max(s, a), min(e, b)
            if s > cursor:
                out.append((cursor, s, False))
            if e > s:
                out.append((s, e, True))
            cursor = max(cursor, e)
        if cursor < b:
            out.append((cursor, b, False))
        return out

    def overlap(self, a: int, b: int) -> int:
        """How much of (a, b) the union covers."""
        return sum(e - s for s, e, inside in self.pieces(a, b) if inside)
