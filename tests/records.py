"""Made-up records for tests: exact, fast, and able to describe a free-threaded Python."""

from __future__ import annotations

from array import array

from helpers.recorder import LaneRecord
from helpers.rules_fast import build_timeline
from helpers.timeline import RunInfo, Timeline

US = 1_000  # ns
MS = 1_000_000


def info(gil: bool = True, kind: str = "threads") -> RunInfo:
    return RunInfo(kind=kind, python="3.13.0", gil_enabled=gil, free_threaded_build=not gil,
                   switch_interval=0.005, usable_cores=2, cpu_count=2)  # fmt: skip


def record(name, beats, marks=(), pid=100, tid=1, auto=False, cpu_ns=0, requested_ns=0,
           truncated_at=0) -> LaneRecord:  # fmt: skip
    """A LaneRecord; marks may be given as 4-tuples (cpu_ns not measured)."""
    return LaneRecord(
        name=name, process_name=f"process {pid}", pid=pid, native_id=tid, auto=auto,
        cpu_ns=cpu_ns, beats=array("q", [int(b) for b in beats]),
        marks=[tuple(int(x) if i < 2 else x for i, x in enumerate(m)) + (() if len(m) == 5
               else (-1,)) for m in marks],
        requested_ns=requested_ns, truncated_at=truncated_at,
    )  # fmt: skip


def every(start_ms, end_ms, step_us=10) -> list[int]:
    """Heartbeats every ``step_us`` from start_ms to end_ms: a thread running all along."""
    return list(range(int(start_ms * MS), int(end_ms * MS) + 1, step_us * US))


def build(records, gil: bool = True, kind: str = "threads") -> Timeline:
    return build_timeline(list(records), info(gil, kind))
