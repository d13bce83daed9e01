"""The rules of helpers.rules, applied fast with numpy: a million heartbeats in under a second.

helpers.rules states the rules and applies them in plain Python, one by one; read that
first. Here the whole-list steps (rules 1-4) are numpy array operations, and the gaps
between running spans (rules 5-8), far fewer, are walked in Python with binary search.
Each step is written again, not imported from helpers.rules, so that the test that both
give the same timeline on random records (tests/test_inference.py) can see a slip in
either. The runners build every timeline with this one.

    >>> from helpers.rules_fast import build_timeline
    >>> tl = build_timeline(records, info)        # doctest: +SKIP
"""

from __future__ import annotations

import bisect

import numpy as np

from .intervals import Union
from .recorder import (
    C_CALL_AUTO,
    COMPUTED_SHARE,
    MERGE_GAP_NS,
    WAITS,
    LaneRecord,
    Mark,
    cut_short_note,
)
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
from .timeline import Lane, RunInfo, Span, Timeline

__all__ = ["build_timeline"]

_RELEASES_GIL = (BLOCKED, C_CALL_NO_GIL)  # rule 3: regions whose first heartbeat ends a slice


def build_timeline(records: list[LaneRecord], info: RunInfo,
                   merge_gap_ns: int = MERGE_GAP_NS) -> Timeline:  # fmt: skip
    """The Timeline of a run (see helpers.rules for what each state means)."""
    start, end, notes = _run_bounds(records)
    lanes: list[Lane | None] = [None] * len(records)
    for i, r in enumerate(records):
        if r.kind == "task":
            lanes[i] = _task_lane(r, end)
    threads = [r for r in records if r.kind != "task"]
    for pid in dict.fromkeys(r.pid for r in threads):  # each process, in order of appearance
        members = [i for i, r in enumerate(records) if r.pid == pid and r.kind != "task"]
        process = _Process([records[i] for i in members], info.gil_enabled, merge_gap_ns,
                           hold_ns=int(info.switch_interval * 1e9))  # fmt: skip
        built = process.lanes(end)
        for i, lane in zip(members, built):
            lanes[i] = lane
    return Timeline(lanes=tuple(lanes), start=start, end=end, info=info, notes=tuple(notes))


def _lane_start(r: LaneRecord) -> int:
    """Rule 8: a lane begins at its first heartbeat, or earlier when it was asked for."""
    return min([int(r.beats[0]), *(x for x in (r.requested_ns, r.ready_ns) if x > 0)])


def _run_bounds(records: list[LaneRecord]) -> tuple[int, int, list[str]]:
    """Start and end of the run, and a note if a lane hit its memory cap."""
    if not records or not all(len(r.beats) for r in records):
        raise ValueError("every lane needs at least one heartbeat (did the task run?)")
    start = int(np.min([_lane_start(r) for r in records]))
    end = int(np.max([max(r.beats[-1], r.open_until) for r in records]))
    caps = [r.truncated_at for r in records if r.truncated_at]
    if not caps:
        return start, end, []
    end = min(end, *caps)
    return start, end, [cut_short_note((end - start) / 1e6,
                                       [r.name for r in records if r.truncated_at])]


def _task_lane(r: LaneRecord, run_end: int) -> Lane:
    """Rule 9: running during each step (its beats are step start, step end, ...),
    awaiting between steps; a task still suspended at the end awaits until then."""
    b = np.frombuffer(r.beats, dtype=np.int64)
    starts, ends = b[0::2], b[1::2]
    before = np.concatenate(([_lane_start(r)], ends[:-1]))  # when each step was awaited
    spans = []
    for a, s, e in zip(before.tolist(), starts.tolist(), ends.tolist()):
        spans += [Span(a, s, AWAITING), Span(s, e, RUNNING)]
    last = int(ends[-1]) if len(ends) else _lane_start(r)
    spans.append(Span(last, r.open_until, AWAITING) if r.open_until
                 else Span(last, run_end, FINISHED))  # fmt: skip
    return Lane(name=r.name, pid=r.pid, native_id=r.native_id, process_name=r.process_name,
                spans=_tidy(spans, run_end), slices=(), cpu_ns=r.cpu_ns, auto=r.auto,
                kind="task")  # fmt: skip


def _tidy(spans: list[Span], end: int) -> tuple[Span, ...]:
    """Drop empty spans, join touching ones alike (state, label, inferred), cut at ``end``."""
    out: list[Span] = []
    for s in spans:
        if s.start >= end or s.end <= s.start:
            continue
        if s.end > end:
            s = Span(s.start, end, s.state, s.label, s.inferred)
        if out:
            prev = out[-1]
            alike = (prev.state, prev.label, prev.inferred) == (s.state, s.label, s.inferred)
            if alike and s.start <= prev.end:
                out[-1] = Span(prev.start, s.end, s.state, s.label, s.inferred)
                continue
        out.append(s)
    return tuple(out)


def _split_at_callbacks(r: LaneRecord) -> list[Mark]:
    """Rule 6's last part: an automatic C call keeps only what lies before its thread's first
    heartbeat inside it and after its last one; one begun in a known region is dropped,
    and so is the part after its last heartbeat where that is begun in one."""
    known = sorted((m.start, m.end) for m in r.marks if m.kind != C_CALL_AUTO)
    known_starts = [a for a, _ in known]
    reach = np.maximum.accumulate([e for _, e in known]).tolist() if known else []
    beats = np.frombuffer(r.beats, dtype=np.int64) if len(r.beats) else np.zeros(0, np.int64)

    def in_known(t: int) -> bool:
        k = bisect.bisect_right(known_starts, t)  # known regions begun by then
        return bool(k) and reach[k - 1] > t  # one of them still runs at t

    out = []
    for m in r.marks:
        if m.kind != C_CALL_AUTO:
            out.append(m)
            continue
        if in_known(m.start):
            continue  # a known region still runs: what it says is known, not inferred
        lo = int(np.searchsorted(beats, m.start, side="right"))
        hi = int(np.searchsorted(beats, m.end, side="left"))
        if lo >= hi:
            out.append(m)
        else:
            out.append(m._replace(end=int(beats[lo])))
            if beats[hi - 1] < m.end and not in_known(int(beats[hi - 1])):
                out.append(m._replace(start=int(beats[hi - 1])))
    return out


def _runs(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run, where keep[i] says item i+1 continues item i's run."""
    breaks = np.flatnonzero(~keep)
    return np.concatenate(([0], breaks + 1)), np.concatenate((breaks, [len(keep)]))


class _Process:
    """The threads of one process, which share one GIL (when there is one)."""

    def __init__(self, records: list[LaneRecord], gil: bool, gap: int, hold_ns: int) -> None:
        self.records, self.gil, self.gap = records, gil, gap
        self.hold = max(gap, hold_ns)  # rule 4: how long a ready thread waits at most
        self.switch = hold_ns  # rule 5: how long a woken thread waits before it asks
        n = len(records)
        beats = [np.frombuffer(r.beats, dtype=np.int64) if len(r.beats) else
                 np.zeros(0, np.int64) for r in records]  # fmt: skip
        times = np.concatenate(beats)
        lane_of = np.concatenate([np.full(len(b), i) for i, b in enumerate(beats)])
        marks = [_split_at_callbacks(r) for r in records]
        opens = np.concatenate([np.isin(b, [m.start for m in ms]) for ms, b in zip(marks, beats)])

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
        self.opens = [{m.start for m in ms} for ms in marks]
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
        return mark._replace(kind=C_CALL)

    def _end_c_call(self, mark, lane):
        start, end, kind, label, cpu = mark
        if not self.gil or kind != C_CALL:
            return mark
        lo, hi = np.searchsorted(self.t, [start, end], side="right")
        others = np.flatnonzero(self.ln[lo:hi] != lane)
        return mark._replace(end=int(self.t[lo + others[0]])) if len(others) else mark

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
        tail = max((m.end for m in marks), default=cursor)
        if tail > cursor:  # a call still open when recording stopped: up to then
            out += [("gap", a, b, m) for a, b, m in _cut_gap(cursor, tail, marks)]
        return out

    def lanes(self, run_end: int) -> list[Lane]:
        n = len(self.records)
        pieces = [self._pieces(i) for i in range(n)]
        holding = [[(m.start, m.end) for m in self.marks[i] if m.kind == C_CALL] for i in range(n)]
        silent = [[(s, e) for kind, s, e, m in p if kind == "gap" and m is None] for p in pieces]

        decided = {}  # rule 6 first: slices end at calls that released the GIL
        for i in range(n):
            calls = [m for m in self.marks[i] if m.kind == C_CALL_AUTO]
            if not calls:
                continue
            others_silent = Union(x for j in range(n) if j != i for x in silent[j])
            for m in calls:
                decided[i, m] = self._decide_c_call(m, i, others_silent)
                if decided[i, m] == (C_CALL, False):
                    holding[i].append((m.start, m.end))
        # Rule 3: slices end at a heartbeat that gives the GIL away.
        release_starts = [[m.start for m in self.marks[i] if m.kind in _RELEASES_GIL or
                           m.kind == C_CALL_AUTO and decided[i, m][0] in _RELEASES_GIL]
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
        self.slice_starts = [[a for a, _ in s] for s in self.slices]  # for rule 5's wake-up
        self.release_starts = [set(rs) for rs in release_starts]  # for rule 7's "ran last"

        lanes = []
        for i, r in enumerate(self.records):
            others = Union(x for j in range(n) if j != i for x in holding[j])
            first = int(r.beats[0])
            spans = [Span(r.requested_ns, first, STARTING)] if 0 < r.requested_ns < first else []
            for kind, s, e, m in pieces[i]:
                if kind == "run":
                    spans.append(Span(s, e, RUNNING))
                elif m is None:
                    spans += self._silent(s, e, i, r.auto, others)
                else:
                    state, inferred = decided[i, m] if m.kind == C_CALL_AUTO else (m.kind, False)
                    woke = self._woke(i, m, e, state)
                    if woke is None:
                        spans.append(Span(s, e, state, m.label, inferred))
                    else:  # rule 5: it woke up, and the GIL was taken
                        cut = max(s, woke)
                        spans += [Span(s, cut, state, m.label, inferred),
                                  Span(cut, e, WAITING_GIL)]
            last = pieces[i][-1][2]
            if run_end > last:
                spans.append(Span(last, run_end, FINISHED))
            lanes.append(Lane(
                name=r.name, pid=r.pid, native_id=r.native_id, process_name=r.process_name,
                spans=_tidy(spans, run_end),
                slices=tuple(self.slices[i]), cpu_ns=r.cpu_ns, auto=r.auto,
            ))  # fmt: skip
        return lanes

    def _silent(self, a, b, lane, auto, others: Union) -> list[Span]:
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
            if holder is None:  # nobody holds the GIL: rule 8 (it starts), or no core
                starts = e <= int(self.beats[lane][0])
                out.append(Span(s, e, STARTING if starts else WAITING_CPU))
                continue
            out.append(Span(s, e, alone, inferred=auto) if holder == lane
                       else Span(s, e, WAITING_GIL))  # fmt: skip
        return out

    def _woke(self, lane: int, mark, end: int, state: str) -> int | None:
        """Rule 5: where the GIL wait that ends a region that gave the GIL away began.

        None where it did not wait: the region's end is not its thread's heartbeat, or
        the process's last heartbeat before it is this thread's, or is one with which
        another thread gave the GIL away or ended.
        """
        if not self.gil or state not in _RELEASES_GIL or end != mark.end:
            return None
        own = self.beats[lane]
        k = int(np.searchsorted(own, end, side="left"))
        if k >= len(own) or int(own[k]) != end:
            return None
        at = int(np.searchsorted(self.t, end, side="left")) - 1
        if at < 0 or int(self.ln[at]) == lane:
            return None
        j, p = int(self.ln[at]), int(self.t[at])
        if p in self.release_starts[j] or p >= int(self.beats[j][-1]):
            return None
        starts = self.slice_starts[j]
        slice_start = starts[bisect.bisect_right(starts, p) - 1]
        woke = max(mark.start, slice_start, end - self.switch)
        return woke if woke < end else None

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

    def _decide_c_call(self, mark, lane, others_silent: Union) -> tuple[str, bool]:
        """Rule 6, for the whole call."""
        start, end, _, label, cpu = mark
        computed = cpu >= COMPUTED_SHARE * (end - start)
        released = C_CALL_NO_GIL if computed else BLOCKED
        if label in WAITS and not computed:
            return BLOCKED, False  # known to let the GIL go while it waits
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
    inside = [m for m in marks[max(0, lo - look_back):lo] if m.end > a] + \
        [m for m in marks[lo:hi] if m.end > a]
    if not inside:
        return [(a, b, None)]
    cuts = sorted({a, b, *(x for m in inside for x in m[:2] if a < x < b)})
    out = []
    for s, e in zip(cuts, cuts[1:]):
        covering = [m for m in inside if m.start <= s and m.end >= e]
        out.append((s, e, max(covering, default=None)))  # the innermost: the latest to start
    return out
