"""The Timeline: what each thread of each process was doing, span by span.

A Timeline is plain data: lanes (one per thread of a process) holding spans
(start, end, state). It is built once from what the recorder collected, and
everything else (statistics, the plot, the trace export) only reads it.

How a lane's spans are worked out from its heartbeats:

* Heartbeats closer together than ``merge_gap`` (200 us) are one *running*
  span: the thread ran Python, so it held the GIL, all along.
  Under the GIL a running span also ends where another thread of the same
  process recorded a heartbeat, since that thread held the GIL then.
* A gap inside a marked region is what the region says: blocked with the GIL
  released (sleep, I/O, a lock), or in a C call that keeps the GIL.
* Any other gap: while another thread of the process held the GIL, this one
  was *waiting for the GIL*; otherwise it held the GIL itself but was not
  running: it was waiting for a CPU core (the operating system had given its
  core to another program).
* After its last heartbeat a lane is *finished*.

What is worked out rather than seen is marked ``inferred=True``: a C call
seen by automatic recording may or may not have released the GIL, and a gap
in automatically recorded code may be Python that made no calls.

    >>> tl = helpers.run_threads([helpers.workloads.cpu(0.1)] * 2)
    >>> [round(s.running_ms) for s in tl.stats()]      # doctest: +SKIP
    [100, 100]
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from statistics import median

import numpy as np

from . import recorder

# The states a lane can be in. The running state's name starts with "running".
RUNNING = "running"  # running Python: holds the GIL
WAITING_GIL = "waiting for GIL"  # runnable, but another thread holds the GIL
BLOCKED = "blocked"  # sleep, I/O, lock, join: the GIL is released
C_CALL = "C call"  # inside one C function that keeps the GIL
WAITING_CPU = "waiting for a core"  # runnable, but the OS runs something else on the cores
FINISHED = "finished"
STATES = (RUNNING, WAITING_GIL, BLOCKED, C_CALL, WAITING_CPU, FINISHED)

MERGE_GAP_NS = 200_000  # heartbeats closer than this belong to one running span

# C functions that block with the GIL released (by name), for automatic recording.
RELEASING_C_CALLS = {
    "sleep", "acquire", "acquire_lock", "wait", "select", "poll", "recv", "recv_into",
    "recvfrom", "accept", "connect", "send", "sendall", "read", "readinto", "readline",
    "write", "waitpid", "join", "get", "getaddrinfo", "update", "digest", "input",
}  # fmt: skip


@dataclass(frozen=True)
class Span:
    """One stretch of time in one state. Times are perf_counter nanoseconds."""

    start: int
    end: int
    state: str
    label: str = ""  # what it blocked on or which C call, e.g. "sleep", "sum(range(...))"
    inferred: bool = False  # worked out, not seen: see the module docstring

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Lane:
    """One thread of one process, and what it did during the run."""

    name: str
    pid: int
    native_id: int
    process_name: str
    spans: tuple[Span, ...]
    slices: tuple[tuple[int, int], ...]  # GIL holding periods: (start, end) in ns
    cpu_ns: int  # CPU time the thread used, measured by the OS (time.thread_time)
    auto: bool = False  # recorded automatically (any function) rather than by a workload


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run and the machine it ran on."""

    kind: str  # "threads" or "processes"
    python: str
    gil_enabled: bool
    free_threaded_build: bool
    switch_interval: float  # seconds
    usable_cores: int
    cpu_count: int
    start_method: str | None = None  # processes only


@dataclass(frozen=True)
class LaneStats:
    """Numbers for one lane. Times in milliseconds."""

    name: str
    pid: int
    native_id: int
    running_ms: float  # seen running Python (holding the GIL)
    running_share: float  # running_ms / wall time of the run
    inferred_running_ms: float
    slices: int  # how many times it got the GIL
    median_slice_ms: float
    waiting_gil_ms: float
    waiting_cpu_ms: float
    blocked_ms: float
    c_call_ms: float
    cpu_ms: float  # what the operating system counted (time.thread_time)


@dataclass(frozen=True)
class Timeline:
    """Lanes of spans, plus facts about the run. Build with ``Timeline.from_records``."""

    lanes: tuple[Lane, ...]
    start: int
    end: int
    info: RunInfo

    @property
    def wall_ms(self) -> float:
        return (self.end - self.start) / 1e6

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane named {name!r}; lanes: {[x.name for x in self.lanes]}")

    def spans(self, state: str | None = None, lane: str | None = None) -> list[Span]:
        """All spans, or those in one state and/or one lane, in time order."""
        out = [
            s
            for ln in self.lanes
            if lane is None or ln.name == lane
            for s in ln.spans
            if state is None or s.state == state
        ]
        return sorted(out, key=lambda s: s.start)

    def stats(self) -> list[LaneStats]:
        """Per-lane numbers: running time and share, slices, waiting and blocked time."""
        wall = max(self.end - self.start, 1)
        result = []
        for ln in self.lanes:
            total = dict.fromkeys(STATES, 0)
            inferred_running = 0
            for s in ln.spans:
                if s.state == RUNNING and s.inferred:
                    inferred_running += s.duration
                else:
                    total[s.state] += s.duration
            slices = [end - start for start, end in ln.slices]
            result.append(
                LaneStats(
                    name=ln.name,
                    pid=ln.pid,
                    native_id=ln.native_id,
                    running_ms=total[RUNNING] / 1e6,
                    running_share=total[RUNNING] / wall,
                    inferred_running_ms=inferred_running / 1e6,
                    slices=len(slices),
                    median_slice_ms=median(slices) / 1e6 if slices else 0.0,
                    waiting_gil_ms=total[WAITING_GIL] / 1e6,
                    waiting_cpu_ms=total[WAITING_CPU] / 1e6,
                    blocked_ms=total[BLOCKED] / 1e6,
                    c_call_ms=total[C_CALL] / 1e6,
                    cpu_ms=ln.cpu_ns / 1e6,
                )
            )
        return result

    def stats_table(self) -> str:
        """The statistics as a text table, for ``print``."""
        head = ("lane", "running ms", "share", "slices", "median slice", "wait GIL",
                "wait core", "blocked", "C call", "CPU ms")  # fmt: skip
        rows = [
            (s.name, f"{s.running_ms:.1f}", f"{s.running_share:.0%}", str(s.slices),
             f"{s.median_slice_ms:.2f}", f"{s.waiting_gil_ms:.1f}", f"{s.waiting_cpu_ms:.1f}",
             f"{s.blocked_ms:.1f}", f"{s.c_call_ms:.1f}", f"{s.cpu_ms:.1f}")
            for s in self.stats()
        ]  # fmt: skip
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                           enumerate(zip(r, widths))) for r in [head, *rows]]  # fmt: skip
        return "\n".join([self.describe(), *lines])

    def describe(self) -> str:
        """One line about the run: what ran, on which Python, with or without the GIL."""
        i = self.info
        what = f"{len(self.lanes)} {'processes' if i.kind == 'processes' else 'threads'}"
        if i.start_method:
            what += f" ({i.start_method})"
        gil = "GIL enabled" if i.gil_enabled else "no GIL (free-threaded)"
        return (f"{what} · Python {i.python} · {gil} · switch interval "
                f"{i.switch_interval * 1000:g} ms · {i.usable_cores} usable core"
                f"{'s' if i.usable_cores != 1 else ''} · wall {self.wall_ms:.0f} ms")  # fmt: skip

    def plot(self, **kwargs):
        """Draw the Gantt chart: see helpers.plot.plot_timeline for the options."""
        from .plot import plot_timeline

        return plot_timeline(self, **kwargs)

    def to_chrome_trace(self) -> dict:
        """The timeline as Chrome Trace Event JSON (opens in Perfetto)."""
        from .export import to_chrome_trace

        return to_chrome_trace(self)

    def save_trace(self, path) -> None:
        """Write the Chrome Trace Event JSON to ``path``."""
        from .export import save_chrome_trace

        save_chrome_trace(self, path)

    @classmethod
    def from_records(
        cls, records: list[dict], info: RunInfo, merge_gap_ns: int = MERGE_GAP_NS
    ) -> Timeline:
        """Build a Timeline from ``LaneRecorder.to_record()`` dicts (see the module docstring)."""
        return _build(records, info, merge_gap_ns)


def overlap_ms(spans_a: list[Span], spans_b: list[Span]) -> float:
    """How long (ms) some span of ``spans_a`` and some span of ``spans_b`` cover the same instant.

    >>> a, b = tl.spans(RUNNING, lane="cpu-1"), tl.spans(RUNNING, lane="cpu-2")
    >>> overlap_ms(a, b)      # 0.0 under the GIL: the two threads never ran at once
    """
    total = 0
    for a in spans_a:
        for b in spans_b:
            total += max(0, min(a.end, b.end) - max(a.start, b.start))
    return total / 1e6


# --- building ---------------------------------------------------------------------


def _beats(record: dict) -> np.ndarray:
    beats = record["beats"]
    if isinstance(beats, (bytes, bytearray)):
        return np.frombuffer(beats, dtype=np.int64)
    return np.asarray(beats, dtype=np.int64)


def _build(records: list[dict], info: RunInfo, merge_gap: int) -> Timeline:
    beats = [_beats(r) for r in records]
    if not records or any(len(b) == 0 for b in beats):
        raise ValueError("every lane needs at least one heartbeat (did the task run?)")
    start = int(min(b[0] for b in beats))
    end = int(max(b[-1] for b in beats))
    lanes: list[Lane | None] = [None] * len(records)
    for pid in dict.fromkeys(r["pid"] for r in records):  # each process, in order of appearance
        members = [i for i, r in enumerate(records) if r["pid"] == pid]
        built = _build_process([records[i] for i in members], [beats[i] for i in members],
                               info.gil_enabled, merge_gap, start, end)  # fmt: skip
        for i, lane in zip(members, built):
            lanes[i] = lane
    return Timeline(lanes=tuple(lanes), start=start, end=end, info=info)


def _runs(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run, where keep[i] says item i+1 continues item i's run."""
    breaks = np.flatnonzero(~keep)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(keep)]))
    return firsts, lasts


def _build_process(records, beats, gil, merge_gap, run_start, run_end) -> list[Lane]:
    """The lanes of one process: its threads share one GIL."""
    n = len(records)
    times = np.concatenate(beats)
    lane_of = np.concatenate([np.full(len(b), i) for i, b in enumerate(beats)])
    opens_any = np.concatenate(
        [np.isin(b, [m[0] for m in r["marks"]]) for r, b in zip(records, beats)])
    opens_release = np.concatenate(
        [np.isin(b, [m[0] for m in r["marks"] if m[2] == recorder.BLOCKED])
         for r, b in zip(records, beats)])  # fmt: skip

    # Under the GIL all threads of the process are read as one sequence in time
    # order, so a running span stops at another thread's heartbeat. Without it,
    # each thread is read on its own and threads may overlap.
    order = np.argsort(times, kind="stable") if gil else np.lexsort((times, lane_of))
    t, ln = times[order], lane_of[order]
    same = ln[1:] == ln[:-1]

    keep_running = same & (np.diff(t) <= merge_gap) & ~opens_any[order][:-1]
    firsts, lasts = _runs(keep_running)
    running = [[] for _ in range(n)]
    for f, la in zip(firsts, lasts):
        running[ln[f]].append((int(t[f]), int(t[la])))

    if gil:  # a slice: from getting the GIL to giving it up (a blocking call or another thread)
        firsts, lasts = _runs(same & ~opens_release[order][:-1])
    slices = [[] for _ in range(n)]
    for f, la in zip(firsts, lasts):
        slices[ln[f]].append((int(t[f]), int(t[la])))

    marks = [sorted(r["marks"]) for r in records]
    if gil:
        marks = [[_end_c_call(m, i, t, ln) for m in ms] for i, ms in enumerate(marks)]
    # When a thread holds the GIL: its slices, which include a C call that keeps
    # it and moments when the OS took its core away (it still held the GIL).
    holding = [slices[i] + [(m[0], m[1]) for m in marks[i] if m[2] == recorder.C_CALL]
               for i in range(n)]  # fmt: skip
    lanes = []
    for i, r in enumerate(records):
        others = _Others(x for j, spans in enumerate(holding) if j != i for x in spans)
        spans = _lane_spans(running[i], marks[i], others, gil, r["auto"],
                            merge_gap, run_start, run_end)  # fmt: skip
        lanes.append(Lane(
            name=r["name"], pid=r["pid"], native_id=r["native_id"],
            process_name=r.get("process_name", f"process {r['pid']}"),
            spans=tuple(spans), slices=tuple(slices[i]), cpu_ns=r["cpu_ns"], auto=r["auto"],
        ))  # fmt: skip
    return lanes


def _end_c_call(mark, lane, t, ln):
    """Where a C call that keeps the GIL really ended.

    Its end is timestamped by Python code that runs after it returns, and that
    code may first hand the GIL to a waiting thread. So under the GIL the call
    ended no later than the first heartbeat another thread took after it began.
    """
    start, end, kind = mark[:3]
    if kind != recorder.C_CALL:
        return mark
    lo, hi = np.searchsorted(t, [start, end], side="right")
    others = np.flatnonzero(ln[lo:hi] != lane)
    return (start, int(t[lo + others[0]]), *mark[2:]) if len(others) else mark


def _lane_spans(running, marks, others, gil, auto, merge_gap, run_start, run_end) -> list[Span]:
    spans: list[Span] = []
    cursor = run_start
    for s, e in running:
        if s > cursor:
            spans += _gap(cursor, s, marks, others, gil, auto, merge_gap)
        if e > s:
            spans.append(Span(s, e, RUNNING))
        cursor = max(cursor, e)
    if run_end > cursor:
        spans.append(Span(cursor, run_end, FINISHED))
    return _merge_adjacent(spans)


def _gap(a, b, marks, others, gil, auto, merge_gap) -> list[Span]:
    """What a lane did between two running spans: see the module docstring."""
    marks = _overlapping(marks, a, b)
    # Cut the gap at the ends of the marked regions that overlap it.
    cuts = sorted({a, b, *(x for m in marks for x in m[:2] if a < x < b)})
    out: list[Span] = []
    for s, e in zip(cuts, cuts[1:]):
        covering = [m for m in marks if m[0] <= s and m[1] >= e]
        mark = max(covering, default=None)  # the innermost: the latest to start
        if mark is None:
            out += _unmarked(s, e, others, gil, auto, merge_gap)
        elif mark[2] == recorder.BLOCKED:
            out.append(Span(s, e, BLOCKED, mark[3]))
        elif mark[2] == recorder.C_CALL:
            out.append(Span(s, e, C_CALL, mark[3]))
        else:  # a C call seen by automatic recording: did it release the GIL?
            out += _c_call_unknown(s, e, mark[3], others, gil, merge_gap)
    return out


def _overlapping(marks, a, b, look_back=16):
    """The marked regions (sorted by start) that overlap (a, b).

    One thread's regions are nested or apart, so those that start before ``a``
    and still overlap it enclose each other; they are among the last few that
    start before it.
    """
    hi = bisect.bisect_left(marks, (b,))
    lo = bisect.bisect_left(marks, (a,))
    before = [m for m in marks[max(0, lo - look_back):lo] if m[1] > a]
    return before + marks[lo:hi]


def _union(intervals) -> list[tuple[int, int]]:
    """Sorted, non-overlapping intervals covering the same time as ``intervals``."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class _Others:
    """Other threads' GIL-holding intervals, sorted and apart, with their ends for bisect."""

    def __init__(self, intervals) -> None:
        self.intervals = _union(intervals)
        self.ends = [e for _, e in self.intervals]


def _covered(a, b, others: _Others) -> list[tuple[int, int, bool]]:
    """Cut (a, b) into pieces, each covered or not by another thread's interval."""
    pieces, cursor = [], a
    intervals = others.intervals
    for k in range(bisect.bisect_right(others.ends, a), len(intervals)):
        s, e = intervals[k]
        if s >= b:
            break
        s, e = max(s, a), min(e, b)
        if s > cursor:
            pieces.append((cursor, s, False))
        if e > s:
            pieces.append((s, e, True))
        cursor = max(cursor, e)
    if cursor < b:
        pieces.append((cursor, b, False))
    return pieces


def _unmarked(a, b, others, gil, auto, merge_gap) -> list[Span]:
    alone = Span(a, b, RUNNING, inferred=True) if auto else Span(a, b, WAITING_CPU)
    if not gil:
        return [alone]
    pieces = _covered(a, b, others)
    if not any(c for _, _, c in pieces):
        return [alone]
    # Another thread ran: this one waited for the GIL. Short uncovered pieces are
    # the GIL changing hands; long ones are time nobody in this process ran.
    return [
        Span(s, e, WAITING_GIL) if c or e - s <= merge_gap else _replace(alone, s, e)
        for s, e, c in pieces
    ]


def _c_call_unknown(a, b, label, others, gil, merge_gap) -> list[Span]:
    releases = label.rsplit(".", 1)[-1] in RELEASING_C_CALLS
    if releases or not gil:
        return [Span(a, b, BLOCKED if releases else C_CALL, label, inferred=True)]
    # Under the GIL: if another thread ran meanwhile, this call had released it.
    return [
        Span(s, e, BLOCKED if c or e - s <= merge_gap else C_CALL, label, inferred=True)
        for s, e, c in _covered(a, b, others)
    ]


def _replace(span: Span, start: int, end: int) -> Span:
    return Span(start, end, span.state, span.label, span.inferred)


def _merge_adjacent(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if s.end <= s.start:
            continue
        last = out[-1] if out else None
        if last and (last.state, last.label, last.inferred) == (s.state, s.label, s.inferred) \
                and s.start - last.end <= 0:
            out[-1] = _replace(last, last.start, s.end)
        else:
            out.append(s)
    return out
