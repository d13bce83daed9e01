"""The Timeline built from recorded data: states, statistics, export, free-threaded runs.

These tests use made-up records, so they are exact and fast, and they cover a
free-threaded Python, which this machine does not have.
"""

from __future__ import annotations

import json
from array import array

import pytest

import helpers
from helpers import recorder
from helpers.timeline import RunInfo, Timeline
from tests.test_gil_invariants import overlap_ns

US = 1_000  # ns
MS = 1_000_000


def info(gil=True, kind="threads"):
    return RunInfo(kind=kind, python="3.13.0", gil_enabled=gil, free_threaded_build=not gil,
                   switch_interval=0.005, usable_cores=2, cpu_count=2)  # fmt: skip


def record(name, beats, marks=(), pid=100, tid=1, auto=False, cpu_ns=0):
    return {"name": name, "pid": pid, "native_id": tid, "auto": auto, "cpu_ns": cpu_ns,
            "beats": array("q", beats).tobytes(), "marks": list(marks)}  # fmt: skip


def every(start_ms, end_ms, step_us=10):
    return list(range(int(start_ms * MS), int(end_ms * MS) + 1, step_us * US))


def test_two_threads_without_the_gil_overlap_and_the_timeline_says_so():
    # A free-threaded build: both threads record heartbeats during the same 10 ms.
    records = [record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)]
    tl = Timeline.from_records(records, info(gil=False))
    a, b = tl.spans(helpers.RUNNING, lane="a"), tl.spans(helpers.RUNNING, lane="b")
    assert len(a) == len(b) == 1  # each ran the whole time...
    assert overlap_ns(a, b) > 9 * MS  # ...at the same instants as the other
    assert not tl.spans(helpers.WAITING_GIL)  # there is no GIL to wait for
    assert "no GIL" in tl.describe()
    fig = tl.plot()
    title = fig.axes[0].get_title(loc="left")
    assert "no GIL" in title and "GIL enabled" not in title
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "running Python (no GIL: may overlap)" in legend
    assert not any("holds the GIL" in x for x in legend)


def test_the_same_heartbeats_under_the_gil_never_overlap():
    records = [record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)]
    tl = Timeline.from_records(records, info(gil=True))
    assert overlap_ns(tl.spans(helpers.RUNNING, lane="a"), tl.spans(helpers.RUNNING, lane="b")) == 0


def test_states_of_a_lane():
    # a: runs 0-5 ms, sleeps 5-8 ms (it asked for 2 ms: woke late), runs 8-9 ms.
    # b: runs 5-8 ms while a sleeps, then waits while a runs, then finishes at 9 ms.
    a = record("a", every(0, 5) + every(8, 9), marks=[(5 * MS, 7 * MS, recorder.BLOCKED, "sleep")])
    b = record("b", every(5.01, 7.99), tid=2)
    tl = Timeline.from_records([a, b], info())
    states = [(s.state, s.label, round(s.start / MS, 2), round(s.end / MS, 2))
              for s in tl.lane("a").spans]  # fmt: skip
    assert states == [
        (helpers.RUNNING, "", 0, 5),
        (helpers.BLOCKED, "sleep", 5, 7),
        (helpers.WAITING_GIL, "", 7, 8),  # awake, but b held the GIL
        (helpers.RUNNING, "", 8, 9),
    ]
    b_states = [s.state for s in tl.lane("b").spans]
    assert b_states == [helpers.WAITING_GIL, helpers.RUNNING, helpers.FINISHED]
    sa, sb = tl.stats()
    assert sa.running_ms == pytest.approx(6) and sa.blocked_ms == pytest.approx(2)
    assert sa.waiting_gil_ms == pytest.approx(1) and sa.slices == 2
    assert sb.running_ms == pytest.approx(2.98) and sb.running_share == pytest.approx(2.98 / 9)


def test_a_gap_nobody_ran_in_is_waiting_for_a_core():
    a = record("a", every(0, 2) + every(5, 6))  # 2-5 ms: silent, and no one else ran
    tl = Timeline.from_records([a], info())
    assert [s.state for s in tl.lane("a").spans] == [
        helpers.RUNNING, helpers.WAITING_CPU, helpers.RUNNING]  # fmt: skip
    assert tl.stats()[0].slices == 1  # it never gave up the GIL


def test_automatically_recorded_gaps_are_inferred():
    # An automatically recorded lane: a silent gap may be Python that made no call,
    # and a C call may or may not have released the GIL. Both are marked inferred.
    marks = [(2 * MS, 4 * MS, recorder.C_CALL_UNKNOWN, "sleep"),
             (6 * MS, 8 * MS, recorder.C_CALL_UNKNOWN, "sorted")]  # fmt: skip
    a = record("a", every(0, 2) + every(4, 5) + [6 * MS, 8 * MS] + every(9, 10),
               marks=marks, auto=True)  # fmt: skip
    tl = Timeline.from_records([a], info())
    spans = [(s.state, s.label, s.inferred) for s in tl.lane("a").spans]
    assert spans == [
        (helpers.RUNNING, "", False),
        (helpers.BLOCKED, "sleep", True),  # time.sleep releases the GIL
        (helpers.RUNNING, "", False),
        (helpers.RUNNING, "", True),  # 5-6 ms: silent
        (helpers.C_CALL, "sorted", True),  # nobody else ran: it may have kept the GIL
        (helpers.RUNNING, "", True),
        (helpers.RUNNING, "", False),
    ]


def test_chrome_trace_export(tmp_path):
    a = record("a", every(0, 5), marks=[], pid=4242, tid=77)
    b = record("b", every(5.5, 6), marks=[(5.5 * MS, 6 * MS, recorder.C_CALL, "sum")], pid=4242,
               tid=78)  # fmt: skip
    tl = Timeline.from_records([a, b], info())
    path = tmp_path / "trace.json"
    tl.save_trace(path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    meta = {(e["name"], e.get("tid")): e["args"]["name"] for e in events if e["ph"] == "M"}
    assert meta[("thread_name", 77)] == "a" and meta[("thread_name", 78)] == "b"
    assert ("process_name", 0) in meta
    spans = [e for e in events if e["ph"] == "X"]
    assert len(spans) == sum(len(ln.spans) for ln in tl.lanes)
    running = [e for e in spans if e["tid"] == 77 and e["name"].startswith("running")]
    assert running[0]["ts"] == 0 and running[0]["dur"] == 5000  # microseconds
    assert all(e["pid"] == 4242 for e in spans)
    assert {e["name"] for e in spans} <= set(helpers.STATES)
    assert trace["otherData"]["gil_enabled"] is True


def test_a_lane_without_heartbeats_is_refused():
    with pytest.raises(ValueError, match="at least one heartbeat"):
        Timeline.from_records([record("a", [])], info())


def test_stats_table_and_lookup():
    tl = Timeline.from_records([record("a", every(0, 3))], info())
    table = tl.stats_table()
    assert "running ms" in table and "\na " in table
    with pytest.raises(KeyError, match="no lane named 'z'"):
        tl.lane("z")
