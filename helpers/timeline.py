"""The Timeline: what each thread of each process was doing, span by span.

A Timeline is plain data: lanes (one per thread of a process) holding spans
(start, end, state). helpers.inference builds it once from what the recorder
collected; everything else (statistics, the picture, the trace export) only
reads it. The states are those of helpers.states.

    >>> tl = helpers.run_threads([helpers.workloads.cpu(0.05)] * 2)
    >>> [lane.name for lane in tl.lanes]
    ['cpu-1', 'cpu-2']
    >>> helpers.overlap_ms(tl.spans(helpers.RUNNING, lane="cpu-1"),
    ...                    tl.spans(helpers.RUNNING, lane="cpu-2"))
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from .states import (
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    RUNNING,
    STARTING,
    STATES,
    WAITING_CPU,
    WAITING_GIL,
)


@dataclass(frozen=True)
class Span:
    """One stretch of time in one state. Times are perf_counter nanoseconds."""

    start: int
    end: int
    state: str
    label: str = ""  # what it blocked on or which C call, e.g. "sleep", "hashlib.HASH.update"
    inferred: bool = False  # worked out, not seen: see helpers.inference

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
    kind: str = "thread"  # or "task": a generator or coroutine taking turns on a thread


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run and the machine it ran on."""

    kind: str  # "threads", "processes" or "tasks"
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
    c_call_ms: float  # in a C call holding the GIL
    c_call_no_gil_ms: float  # in a C call that released the GIL
    starting_ms: float  # a process starting up
    cpu_ms: float  # what the operating system counted (time.thread_time)


@dataclass(frozen=True)
class Timeline:
    """Lanes of spans, plus facts about the run. Built by helpers.inference.build_timeline."""

    lanes: tuple[Lane, ...]
    start: int
    end: int
    info: RunInfo
    notes: tuple[str, ...] = ()  # anything the reader must know, e.g. a recording cut short

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
        if lane is not None:
            self.lane(lane)  # a misspelt name is an error, not an empty list
        if state is not None and state not in STATES:
            raise ValueError(f"unknown state {state!r}; the states are {STATES}")
        out = [s for ln in self.lanes if lane is None or ln.name == lane
               for s in ln.spans if state is None or s.state == state]  # fmt: skip
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
            result.append(LaneStats(
                name=ln.name, pid=ln.pid, native_id=ln.native_id,
                running_ms=total[RUNNING] / 1e6, running_share=total[RUNNING] / wall,
                inferred_running_ms=inferred_running / 1e6, slices=len(slices),
                median_slice_ms=median(slices) / 1e6 if slices else 0.0,
                waiting_gil_ms=total[WAITING_GIL] / 1e6, waiting_cpu_ms=total[WAITING_CPU] / 1e6,
                blocked_ms=total[BLOCKED] / 1e6, c_call_ms=total[C_CALL] / 1e6,
                c_call_no_gil_ms=total[C_CALL_NO_GIL] / 1e6, starting_ms=total[STARTING] / 1e6,
                cpu_ms=ln.cpu_ns / 1e6,
            ))  # fmt: skip
        return result

    def stats_table(self) -> str:
        """The statistics as a text table, for ``print``. Empty columns are left out."""
        columns = [  # heading, how to get it from LaneStats
            ("running ms", lambda s: f"{s.running_ms:.1f}"),
            ("share", lambda s: f"{s.running_share:.0%}"),
            ("slices", lambda s: str(s.slices)),
            ("median slice", lambda s: f"{s.median_slice_ms:.2f}"),
            ("wait GIL", lambda s: f"{s.waiting_gil_ms:.1f}"),
            ("wait core", lambda s: f"{s.waiting_cpu_ms:.1f}"),
            ("blocked", lambda s: f"{s.blocked_ms:.1f}"),
            ("C call", lambda s: f"{s.c_call_ms:.1f}"),
            ("C no GIL", lambda s: f"{s.c_call_no_gil_ms:.1f}"),
            ("starting", lambda s: f"{s.starting_ms:.1f}"),
            ("inferred run", lambda s: f"{s.inferred_running_ms:.1f}"),
            ("CPU ms", lambda s: f"{s.cpu_ms:.1f}"),
        ]
        stats = self.stats()
        optional = {"C call", "C no GIL", "starting", "inferred run"}
        shown = [(h, f) for h, f in columns
                 if h not in optional or any(f(s) not in ("0.0", "0") for s in stats)]  # fmt: skip
        columns = shown
        head = ("lane", *(h for h, _ in columns))
        rows = [(s.name, *(f(s) for _, f in columns)) for s in stats]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                           enumerate(zip(r, widths))) for r in [head, *rows]]  # fmt: skip
        return "\n".join([self.describe(), *lines, *self.notes])

    def describe(self) -> str:
        """One line about the run: what ran, on which Python, with or without the GIL."""
        i = self.info
        what = f"{len(self.lanes)} {i.kind}"
        if i.start_method:
            what += f" ({i.start_method})"
        gil = "GIL enabled" if i.gil_enabled else "no GIL (free-threaded)"
        return (f"{what} · Python {i.python} · {gil} · switch interval "
                f"{i.switch_interval * 1000:g} ms · {i.usable_cores} usable core"
                f"{'s' if i.usable_cores != 1 else ''} · wall {self.wall_ms:.0f} ms")  # fmt: skip

    # Conveniences: the picture and the export live in their own modules, which read
    # a Timeline and never import this one back.
    def plot(self, **kwargs):
        """Draw the Gantt chart: see helpers.gantt.plot_timeline for the options."""
        from .gantt import plot_timeline

        return plot_timeline(self, **kwargs)

    def to_chrome_trace(self) -> dict:
        """The timeline as Chrome Trace Event JSON (opens in Perfetto)."""
        from .export import to_chrome_trace

        return to_chrome_trace(self)

    def save_trace(self, path) -> None:
        """Write the Chrome Trace Event JSON to ``path``."""
        from .export import save_chrome_trace

        save_chrome_trace(self, path)

    @staticmethod
    def load(path) -> Timeline:
        """A timeline saved with ``save_trace``, e.g. on another machine (its notes say where)."""
        from .export import load_chrome_trace

        return load_chrome_trace(path)


def overlap_ms(spans_a: list[Span], spans_b: list[Span]) -> float:
    """How long (ms) some span of ``spans_a`` and some span of ``spans_b`` cover the same instant.

    >>> a, b = tl.spans(RUNNING, lane="cpu-1"), tl.spans(RUNNING, lane="cpu-2")
    >>> overlap_ms(a, b)      # 0.0 under the GIL: the two threads never ran at once
    0.0
    """
    total = 0
    for a in spans_a:
        for b in spans_b:
            total += max(0, min(a.end, b.end) - max(a.start, b.start))
    return total / 1e6
