"""The Timeline: what each thread of each process was doing, span by span.

A Timeline is plain data: lanes (one per thread of a process) holding spans
(start, end, state). The rules (helpers.rules_fast) build it once from what the
recorder collected; everything else (statistics, the picture, the trace export)
only reads it, and this module knows none of them. The states are helpers.states'.

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

from .intervals import at_least_ns, overlap_ms
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
from .tables import text_table

__all__ = ["Lane", "LaneStats", "RunInfo", "Span", "Timeline", "overlap_ms"]


@dataclass(frozen=True)
class Span:
    """One stretch of time in one state. Times are perf_counter nanoseconds."""

    start: int
    end: int
    state: str
    label: str = ""  # what it blocked on or which C call, e.g. "sleep", "hashlib.HASH.update"
    inferred: bool = False  # worked out, not seen: see helpers.rules

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
    # Labelled stretches over the states, (start, end, text): a pool worker's tasks
    # (helpers.children). Not states: the lane is in its states under them.
    labels: tuple[tuple[int, int, str], ...] = ()


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
    cgroup_quota: float | None = None  # cores' worth of CPU time per period (helpers.cores())

    def describe(self) -> str:
        """The Python and the machine in one line: every picture's and table's second line."""
        gil = "GIL enabled" if self.gil_enabled else "no GIL: threads can run at the same instant"
        cores = f"{self.usable_cores} usable core{'s' if self.usable_cores != 1 else ''}"
        if self.cgroup_quota is not None:  # on a hub or Binder: the number that explains it
            cores += f", a CPU quota of {self.cgroup_quota:g} core{'s' * (self.cgroup_quota != 1)}"
        return (f"Python {self.python} · {gil} · switch interval "
                f"{self.switch_interval * 1000:g} ms · {cores}")  # fmt: skip


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
    """Lanes of spans, plus facts about the run. Built by helpers.rules_fast.build_timeline."""

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

    def same_instant_ms(self, states: tuple[str, ...] = (RUNNING,)) -> float:
        """How long (ms) two or more lanes were in one of ``states`` at the same instant.

        For threads of one process under the GIL it is 0 for RUNNING; for processes, or
        threads without the GIL, it is the time they ran in parallel.
        """
        for state in states:
            if state not in STATES:
                raise ValueError(f"unknown state {state!r}; the states are {STATES}")
        return at_least_ns([[s for s in ln.spans if s.state in states]
                            for ln in self.lanes], 2) / 1e6  # fmt: skip

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
        columns = [(h, f) for h, f in columns
                   if h not in optional or any(f(s) not in ("0.0", "0") for s in stats)]
        table = text_table(["lane", *(h for h, _ in columns)],
                           [[s.name, *(f(s) for _, f in columns)] for s in stats])
        return "\n".join([self.describe(), table, *self.notes])

    def heading(self) -> str:
        """What ran, e.g. "2 threads", "3 processes (spawn)" or "3 processes, 5 threads (fork)":
        the picture's first line."""
        method = f" ({self.info.start_method})" if self.info.start_method else ""
        processes = len({ln.pid for ln in self.lanes})
        if self.info.kind == "processes" and processes < len(self.lanes):
            return f"{processes} processes, {len(self.lanes)} threads{method}"
        return f"{len(self.lanes)} {self.info.kind}{method}"

    def describe(self) -> str:
        """One line about the run: what ran, on which Python, with or without the GIL."""
        return f"{self.heading()} · {self.info.describe()} · wall {self.wall_ms:.0f} ms"

    def plot(self, **kwargs):
        """Draw the Gantt chart: see helpers.picture.plot_timeline for the options.

        A convenience: the picture lives in its own module, which reads a Timeline and
        imports this module for type hints only.
        """
        from .picture import plot_timeline

        return plot_timeline(self, **kwargs)
