"""Export a Timeline as Chrome Trace Event JSON, which opens in Perfetto (ui.perfetto.dev).

Each span becomes a complete ("X") event named by its state, with OS process
ids and native thread ids, and times in microseconds on the perf_counter clock
(CLOCK_MONOTONIC on Linux), so the trace lines up with perf or py-spy output.

    >>> trace = helpers.run_threads([w.cpu(0.05)]).to_chrome_trace()
    >>> "running" in {e["name"] for e in trace["traceEvents"] if e["ph"] == "X"}
    True
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the type hints: this module never imports the timeline
    from .timeline import Timeline


def to_chrome_trace(timeline: Timeline) -> dict:
    """The trace as a dict: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}."""
    events: list[dict] = []
    for pid in dict.fromkeys(lane.pid for lane in timeline.lanes):
        first = next(lane for lane in timeline.lanes if lane.pid == pid)
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": first.process_name}})  # fmt: skip
    for lane in timeline.lanes:
        events.append({"ph": "M", "name": "thread_name", "pid": lane.pid, "tid": lane.native_id,
                       "args": {"name": lane.name}})  # fmt: skip
        for span in lane.spans:
            events.append({
                "ph": "X",
                "name": span.state,  # the names of helpers.states, e.g. "C call, GIL released"
                "cat": "gil",
                "pid": lane.pid,
                "tid": lane.native_id,
                "ts": span.start / 1000,  # microseconds
                "dur": span.duration / 1000,
                "args": {"label": span.label, "inferred": span.inferred},
            })  # fmt: skip
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"clock": "perf_counter (CLOCK_MONOTONIC on Linux)",
                      "notes": list(timeline.notes), **asdict(timeline.info)},
    }


def save_chrome_trace(timeline: Timeline, path) -> None:
    """Write the trace to ``path`` as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_chrome_trace(timeline), f)
