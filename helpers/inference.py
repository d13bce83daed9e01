"""From records to a Timeline, fast: the rules of helpers.rules, with numpy.

helpers.rules states the rules and applies them in plain Python, one by one;
read that first. This module applies the same rules to a million heartbeats
in well under a second: the whole-list steps (rules 1-4) are numpy array
operations, and the gaps between running spans (rules 5-8), far fewer, are
walked in Python with binary search. tests/test_inference.py checks on random
records that both give the same timeline.

    >>> from helpers.inference import build_timeline
    >>> tl = build_timeline(records, info)        # doctest: +SKIP
"""

from __future__ import annotations

import bisect

import numpy as np

from .recorder import LaneRecord
from .rules import (
    COMPUTED_SHARE,
    MERGE_GAP_NS,
    RELEASES_GIL,
    merge_adjacent,
    run_bounds,
    split_at_callbacks,
    task_lane,
)
from .rules import clip as clip_spans
from .states import (
    BLOCKED,
    C_CALL,
    C_CALL_AUTO,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    WAITING_CPU,
    WAITING_GIL,
)
from .timeline import Lane, RunInfo, Span, Timeline

__all__ = ["MERGE_GAP_NS", "build_timeline"]


def build_timeline(records: list[LaneRecord], info: RunInfo,
                   merge_gap_ns: int = MERGE_GAP_NS) -> Timeline:  # fmt: skip
    """The Timeline of a run (see helpers.rules for what each state means)."""
    start, end, notes = run_bounds(records)
    lanes: list[Lane | None] = [None] * len(records)
    for i, r in enumerate(records):
        if r.kind == "task":  # rule 9: simple enough to share with helpers.rules
            lanes[i] = task_lane(r, end)
    threads = [r for r in records if r.kind != "task"]
    for pid in dict.fromkeys(r.pid for r in threads):  # each process, in order of appearance
        members = [i for i, r in enumerate(records) if r.pid == pid and r.kind != "task"]
        process = _Process([records[i] for i in members], info.gil_enabled, merge_gap_ns,
                           hold_ns=int(info.switch_interval * 1e9))  # fmt: skip
        built = process.lanes(end)
        for i, lane in zip(members, built):
            lanes[i] = lane
    return Timeline(lanes=tuple(lanes), start=start, end=end, info=info, notes=tuple(notes))


def _runs(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run, where keep[i] says item i+1 continues item i's run."""
    breaks = np.flatnonzero(~keep)
    return np.concatenate(([0], breaks + 1)), np.concatenate((breaks, [len(keep)]))


class _Intervals:
    """Sorted, non-overlapping intervals (the union of those given), for bisecting."""

    def __init__(self, intervals) -> None:
        merged: list[tuple[int, int]] = []
        for s, e in sorted(intervals):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self.items = merged
        self.ends = [e for _, e in merged]

    def pieces(self, a: int, b: int) -> list[tuple[int, int, bool]]:
        """Cut (a, b) into pieces, each inside one of the intervals or not."""
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
        """How much of (a, b) the intervals cover."""
        return sum(e - s for s, e, inside in self.pieces(a, b) if inside)


class _Process:
    """The threads of one process, which share one GIL (when there is one)."""

    def __init__(self, records: list[LaneRecord], gil: bool, gap: int, hold_ns: int) -> None:
        self.records, self.gil, self.gap = records, gil, gap
        self.hold = max(gap, hold_ns)  # rule 4: how long a ready thread waits at most
        n = len(records)
        beats = [np.frombuffer(r.beats, dtype=np.int64) if len(r.beats) else
                 np.zeros(0, np.int64) for r in records]  # fmt: skip
        times = np.concatenate(beats)
        lane_of = np.concatenate([np.full(len(b), i) for i, b in enumerate(beats)])
        marks = [split_at_callbacks(r) for r in records]
        opens = np.concatenate([np.isin(b, [m[0] for m in ms]) for ms, b in zip(marks, beats)])

        # Rule 1: one list in time order under the GIL; each lane on its own without it.
        order = np.argsort(times, kind="stable") if gil else np.lexsort((times, lane_of))
        t, ln = times[order], lane_of[order]
        self.t, self.ln, self.order = t, ln, order
        # Rule 2: running spans.
        firsts, lasts = _runs((ln[1:] == ln[:-1]) & (np.diff(t) <= gap) & ~opens[order][:-1])
        self.running = [[] for _ in range(n)]
        for f, la in zip(firsts, lasts):
            self.running[ln[f]].append((int(t[f]), int(t[la])))
        # Rule 4.
        self.beats = beats
        self.opens = [{m[0] for m in ms} for ms in marks]
        self.marks = [[self._end_c_call(self._kept_gil(m, i), i) for m in sorted(ms)]
                      for i, ms in enumerate(marks)]  # fmt: skip

    def _kept_gil(self, mark, lane):
        """An automatic C call that a ready thread waited through kept the GIL (rule 4)."""
        start, end, kind, label, cpu = mark
        if not self.gil or kind != C_CALL_AUTO or 0 <= cpu < COMPUTED_SHARE * (end - start):
            return mark
        lo = int(np.searchsorted(self.t, start, side="right"))
        hi = int(np.searchsorted(self.t, end, side="left"))
        others = np.flatnonzero(self.ln[lo:hi] != lane)
        if not len(others) or self.t[lo + others[0]] - start <= self.hold:
            return mark
        j = int(self.ln[lo + others[0]])
        k = int(np.searchsorted(self.beats[j], start, side="left")) - 1  # j's beat before it
        if k < 0 or int(self.beats[j][k]) in self.opens[j]:
            return mark
        return (start, end, C_CALL, label, cpu)

    def _end_c_call(self, mark, lane):
        start, end, kind, label, cpu = mark
        if not self.gil or kind != C_CALL:
            return mark
        lo, hi = np.searchsorted(self.t, [start, end], side="right")
        others = np.flatnonzero(self.ln[lo:hi] != lane)
        return (start, int(self.t[lo + others[0]]), kind, label, cpu) if len(others) else mark

    def _pieces(self, i: int) -> list[tuple[str, int, int, tuple | None]]:
        """The lane as pieces in time order: ("run", s, e, None), ("gap", s, e, region)."""
        marks, r = self.marks[i], self.records[i]
        cursor = r.ready_ns if 0 < r.ready_ns < r.beats[0] else int(r.beats[0])
        out = []
        for s, e in self.running[i]:
            if s > cursor:
                out += [("gap", a, b, m) for a, b, m in _cut_gap(cursor, s, marks)]
            out.append(("run", s, e, None))
            cursor = max(cursor, e)
        return out

    def lanes(self, run_end: int) -> list[Lane]:
        n = len(self.records)
        pieces = [self._pieces(i) for i in range(n)]
        holding = [[(m[0], m[1]) for m in self.marks[i] if m[2] == C_CALL] for i in range(n)]
        silent = [[(s, e) for kind, s, e, m in p if kind == "gap" and m is None] for p in pieces]

        decided = {}  # rule 6 first: slices end at calls that released the GIL
        for i in range(n):
            calls = [m for m in self.marks[i] if m[2] == C_CALL_AUTO]
            if not calls:
                continue
            others_silent = _Intervals(x for j in range(n) if j != i for x in silent[j])
            for m in calls:
                decided[i, m] = self._decide_c_call(m, i, others_silent)
                if decided[i, m] == (C_CALL, False):
                    holding[i].append((m[0], m[1]))
        # Rule 3: slices end at a heartbeat that gives the GIL away.
        release_starts = [[m[0] for m in self.marks[i] if m[2] in RELEASES_GIL or
                           m[2] == C_CALL_AUTO and decided[i, m][0] in RELEASES_GIL]
                          for i in range(n)]  # fmt: skip
        gives = np.concatenate([np.isin(b, rs) for b, rs in zip(self.beats, release_starts)])
        gives = gives[self.order]
        t, ln = self.t, self.ln
        if self.gil:
            firsts, lasts = _runs((ln[1:] == ln[:-1]) & ~gives[:-1])
            self.slices = [[] for _ in range(n)]
            for f, la in zip(firsts, lasts):
                self.slices[ln[f]].append((int(t[f]), int(t[la])))
        else:
            self.slices = self.running
        for i in range(n):
            holding[i] += self.slices[i]
        self.release_starts = [set(rs) for rs in release_starts]  # for rule 7's "ran last"

        lanes = []
        for i, r in enumerate(self.records):
            others = _Intervals(x for j in range(n) if j != i for x in holding[j])
            first = int(r.beats[0])
            spans = [Span(r.requested_ns, first, STARTING)] if 0 < r.requested_ns < first else []
            for kind, s, e, m in pieces[i]:
                if kind == "run":
                    spans.append(Span(s, e, RUNNING))
                elif m is None:
                    spans += self._silent(s, e, i, r.auto, others)
                elif m[2] == C_CALL_AUTO:
                    state, inferred = decided[i, m]
                    spans.append(Span(s, e, state, m[3], inferred))
                else:
                    spans.append(Span(s, e, m[2], m[3]))
            last = pieces[i][-1][2]
            if run_end > last:
                spans.append(Span(last, run_end, FINISHED))
            lanes.append(Lane(
                name=r.name, pid=r.pid, native_id=r.native_id, process_name=r.process_name,
                spans=tuple(clip_spans(merge_adjacent(spans), run_end)),
                slices=tuple(self.slices[i]), cpu_ns=r.cpu_ns, auto=r.auto,
            ))  # fmt: skip
        return lanes

    def _silent(self, a, b, lane, auto, others: _Intervals) -> list[Span]:
        """Rule 7."""
        alone = RUNNING if auto else WAITING_CPU
        if not self.gil:
            return [Span(a, b, alone, inferred=auto)]
        out = []
        for s, e, held in others.pieces(a, b):
            if held or e - s <= self.gap:
                out.append(Span(s, e, WAITING_GIL))
                continue
            holder = self._last_to_keep_the_gil(e)
            out.append(Span(s, e, alone, inferred=auto) if holder == lane
                       else Span(s, e, WAITING_GIL))  # fmt: skip
        return out

    def _last_to_keep_the_gil(self, e: int) -> int | None:
        """Rule 7: of the threads whose latest heartbeat before e kept the GIL, the latest."""
        best, best_key = None, None
        for j, beats in enumerate(self.beats):
            k = int(np.searchsorted(beats, e, side="left")) - 1
            if k < 0 or int(beats[k]) in self.release_starts[j]:
                continue
            key = (int(beats[k]), j)  # ties: the later lane, as in the time-ordered list
            if best_key is None or key > best_key:
                best, best_key = j, key
        return best

    def _decide_c_call(self, mark, lane, others_silent: _Intervals) -> tuple[str, bool]:
        """Rule 6, for the whole call."""
        start, end, _, label, cpu = mark
        computed = cpu >= COMPUTED_SHARE * (end - start)
        released = C_CALL_NO_GIL if computed else BLOCKED
        lo, hi = np.searchsorted(self.t, [start, end], side="right")
        inside = self.ln[lo:hi][self.t[lo:hi] < end]  # heartbeats strictly inside the call
        if not self.gil or np.any(inside != lane):
            return released, cpu < 0
        if others_silent.overlap(start, end) > (end - start) / 2:
            return C_CALL, False
        return (C_CALL if computed or cpu < 0 else BLOCKED), True


def _cut_gap(a: int, b: int, marks: list, look_back: int = 16) -> list:
    """Cut the gap (a, b) at its regions' ends; each piece with its innermost region.

    One thread's regions are nested or apart, so those that start before ``a``
    and still overlap it enclose each other: they are among the last few that
    start before it.
    """
    hi = bisect.bisect_left(marks, (b,))
    lo = bisect.bisect_left(marks, (a,))
    inside = [m for m in marks[max(0, lo - look_back):lo] if m[1] > a] + \
        [m for m in marks[lo:hi] if m[1] > a]
    if not inside:
        return [(a, b, None)]
    cuts = sorted({a, b, *(x for m in inside for x in m[:2] if a < x < b)})
    out = []
    for s, e in zip(cuts, cuts[1:]):
        covering = [m for m in inside if m[0] <= s and m[1] >= e]
        out.append((s, e, max(covering, default=None)))  # the innermost: the latest to start
    return out
