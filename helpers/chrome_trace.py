"""Save a Timeline as Chrome Trace Event JSON (it opens in Perfetto, ui.perfetto.dev), and load it.

Each span becomes a complete ("X") event named by its state, with OS process
ids and native thread ids, and times in microseconds on the perf_counter clock
(CLOCK_MONOTONIC on Linux), so the trace lines up with perf or py-spy output.
A pool worker's tasks (its lane's labels) are slices on a row of their own below it.
The exact nanoseconds, the GIL slices and the machine it ran on travel along,
so that ``load_trace`` gives back the same timeline anywhere: an instructor
can show a run recorded on another machine, labelled with where it was made.

    >>> helpers.save_trace(tl, "/tmp/run.json")
    >>> again = helpers.load_trace("/tmp/run.json")
    >>> again.lanes == tl.lanes
    True
    >>> again.notes[-1].startswith("Recorded on ")
    True
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from pathlib import Path

from .timeline import Lane, RunInfo, Span, Timeline

__all__ = ["from_chrome_trace", "load_trace", "save_trace", "to_chrome_trace"]

FORMAT = "helpers-timeline-1"  # what otherData["format"] says, to recognise our own traces
TASK_TID_BASE = 1 << 40  # row ids for tasks: above any real thread id
LABELS_TID_BASE = 1 << 41  # row ids for a lane's labels (a pool worker's tasks)


def to_chrome_trace(timeline: Timeline) -> dict:
    """The trace as a dict: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}."""
    events: list[dict] = []
    for pid in dict.fromkeys(lane.pid for lane in timeline.lanes):
        first = next(lane for lane in timeline.lanes if lane.pid == pid)
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": first.process_name}})  # fmt: skip
    for i, lane in enumerate(timeline.lanes):
        tid, name = lane.native_id, lane.name
        if lane.kind == "task":  # tasks share their thread: give each a row of its own
            tid, name = TASK_TID_BASE + i, f"{lane.name} (task on thread {lane.native_id})"
        events.append({"ph": "M", "name": "thread_name", "pid": lane.pid, "tid": tid,
                       "args": {"name": name}})  # fmt: skip
        for span in lane.spans:
            events.append({
                "ph": "X",
                "name": span.state,  # the names of helpers.states, e.g. "C call, GIL released"
                "cat": "gil",
                "pid": lane.pid,
                "tid": tid,
                "ts": span.start / 1000,  # microseconds
                "dur": span.duration / 1000,
                "args": {"label": span.label, "inferred": span.inferred,
                         "start_ns": span.start, "end_ns": span.end, "lane": i},
            })  # fmt: skip
        # A pool worker's tasks: not nested in its states (a state may span two tasks),
        # so on a row of their own, "<lane>: tasks".
        row = LABELS_TID_BASE + i
        if lane.labels:
            events.append({"ph": "M", "name": "thread_name", "pid": lane.pid, "tid": row,
                           "args": {"name": f"{lane.name}: tasks"}})  # fmt: skip
        for start, end, text in lane.labels:
            events.append({"ph": "X", "name": text, "cat": "task", "pid": lane.pid, "tid": row,
                           "ts": start / 1000, "dur": (end - start) / 1000,
                           "args": {"start_ns": start, "end_ns": end, "lane": i}})  # fmt: skip
    lanes = [{"name": ln.name, "pid": ln.pid, "tid": ln.native_id, "process_name": ln.process_name,
              "cpu_ns": ln.cpu_ns, "auto": ln.auto, "kind": ln.kind,
              "slices": [list(x) for x in ln.slices]}
             for ln in timeline.lanes]  # fmt: skip
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "format": FORMAT, "clock": "perf_counter (CLOCK_MONOTONIC on Linux)",
            "start_ns": timeline.start, "end_ns": timeline.end, "notes": list(timeline.notes),
            "recorded_on": f"{platform.system()} {platform.machine()}",  # no host name
            "lanes": lanes,
            **asdict(timeline.info),
        },
    }  # fmt: skip


def save_trace(timeline: Timeline, path) -> None:
    """Write the trace to ``path`` as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_chrome_trace(timeline), f)


def from_chrome_trace(trace: dict, source: str = "") -> Timeline:
    """The Timeline back from a trace that ``to_chrome_trace`` made."""
    other = trace.get("otherData", {})
    if other.get("format") != FORMAT:
        raise ValueError(f"{source or 'this trace'} was not saved by helpers (helpers.save_trace)"
                         ": only those can be loaded back into a Timeline")  # fmt: skip
    info = RunInfo(**{k: other[k] for k in RunInfo.__dataclass_fields__ if k in other})
    spans: dict[int, list[Span]] = {}  # lane number -> its spans
    labels: dict[int, list[tuple[int, int, str]]] = {}  # lane number -> its labels
    for e in trace["traceEvents"]:
        if e.get("ph") == "X" and e.get("cat") == "task":
            a = e["args"]
            labels.setdefault(a["lane"], []).append((a["start_ns"], a["end_ns"], e["name"]))
        elif e.get("ph") == "X":
            a = e["args"]
            spans.setdefault(a["lane"], []).append(
                Span(a["start_ns"], a["end_ns"], e["name"], a["label"], a["inferred"]))
    lanes = tuple(
        Lane(name=x["name"], pid=x["pid"], native_id=x["tid"], process_name=x["process_name"],
             spans=tuple(sorted(spans.get(i, []), key=lambda s: s.start)),
             slices=tuple(tuple(s) for s in x["slices"]), cpu_ns=x["cpu_ns"], auto=x["auto"],
             kind=x["kind"], labels=tuple(labels.get(i, ())))
        for i, x in enumerate(other["lanes"]))  # fmt: skip
    where = f"Recorded on {other['recorded_on']}, Python {info.python}"
    if info.start_method:
        where += f", start method {info.start_method}"
    if "cgroup_quota" in other:  # traces from before the quota was saved say nothing of it
        where += ", no CPU quota" if info.cgroup_quota is None else ""
    notes = (*other["notes"], where + (f" ({Path(source).name})" if source else ""))
    return Timeline(lanes=lanes, start=other["start_ns"], end=other["end_ns"], info=info,
                    notes=notes)  # fmt: skip


def load_trace(path) -> Timeline:
    """Read a trace written by ``save_trace`` back into a Timeline."""
    with open(path, encoding="utf-8") as f:
        return from_chrome_trace(json.load(f), source=str(path))
