"""The Timeline built from recorded data: states, statistics, export, free-threaded runs.

These tests use made-up records, so they are exact and fast, and they cover a
free-threaded Python, which this machine does not have.
"""

from __future__ import annotations

import json

import pytest

import helpers
from helpers.recorder import C_CALL_AUTO, LaneRecorder
from tests.records import MS, build, every, record
from tests.test_gil_invariants import overlap_ns


def test_two_threads_without_the_gil_overlap_and_the_timeline_says_so():
    # A free-threaded build: both threads record heartbeats during the same 10 ms.
    records = [record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)]
    tl = build(records, gil=False)
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
    tl = build(records, gil=True)
    assert overlap_ns(tl.spans(helpers.RUNNING, lane="a"), tl.spans(helpers.RUNNING, lane="b")) == 0


def test_states_of_a_lane():
    # a: runs 0-5 ms, sleeps 5-8 ms (it asked for 2 ms: woke late), runs 8-9 ms.
    # b: runs 5-8 ms while a sleeps, then waits while a runs, then finishes at 9 ms.
    a = record("a", every(0, 5) + every(8, 9), marks=[(5 * MS, 7 * MS, helpers.BLOCKED, "sleep")])
    b = record("b", every(5.01, 7.99), tid=2)
    tl = build([a, b])
    states = [(s.state, s.label, round(s.start / MS, 2), round(s.end / MS, 2))
              for s in tl.lane("a").spans]  # fmt: skip
    assert states == [
        (helpers.RUNNING, "", 0, 5),
        (helpers.BLOCKED, "sleep", 5, 7),
        (helpers.WAITING_GIL, "", 7, 8),  # awake, but b held the GIL
        (helpers.RUNNING, "", 8, 9),
    ]
    b_states = [s.state for s in tl.lane("b").spans]
    assert b_states == [helpers.RUNNING, helpers.FINISHED]  # a lane begins at its first beat
    sa, sb = tl.stats()
    assert sa.running_ms == pytest.approx(6) and sa.blocked_ms == pytest.approx(2)
    assert sa.waiting_gil_ms == pytest.approx(1) and sa.slices == 2
    assert sb.running_ms == pytest.approx(2.98) and sb.running_share == pytest.approx(2.98 / 9)


def test_a_gap_nobody_ran_in_is_waiting_for_a_core():
    a = record("a", every(0, 2) + every(5, 6))  # 2-5 ms: silent, and no one else ran
    tl = build([a])
    assert [s.state for s in tl.lane("a").spans] == [
        helpers.RUNNING, helpers.WAITING_CPU, helpers.RUNNING]  # fmt: skip
    assert tl.stats()[0].slices == 1  # it never gave up the GIL


def test_automatically_recorded_gaps_are_inferred():
    # An automatically recorded lane, alone: a silent gap may be Python that made no
    # call, and with nobody else wanting the GIL, nothing tells whether a C call kept
    # it. Both are drawn inferred; the C calls' CPU time says computing or waiting. (A
    # time.sleep would be known: CPython's always lets the GIL go, see recorder.WAITS.)
    marks = [(2 * MS, 4 * MS, C_CALL_AUTO, "socket.socket.recv", 0),  # no CPU used: it waited
             (6 * MS, 8 * MS, C_CALL_AUTO, "list.sort", -1)]  # CPU not measured  # fmt: skip
    a = record("a", every(0, 2) + every(4, 5) + [6 * MS, 8 * MS] + every(9, 10),
               marks=marks, auto=True)  # fmt: skip
    tl = build([a])
    spans = [(s.state, s.label, s.inferred) for s in tl.lane("a").spans]
    assert spans == [
        (helpers.RUNNING, "", False),
        (helpers.BLOCKED, "socket.socket.recv", True),
        (helpers.RUNNING, "", False),
        (helpers.RUNNING, "", True),  # 5-6 ms: silent
        (helpers.C_CALL, "list.sort", True),
        (helpers.RUNNING, "", True),
        (helpers.RUNNING, "", False),
    ]


def test_a_c_call_during_which_another_thread_ran_released_the_gil():
    # a hashes 2-8 ms (CPU 6 ms: it computed); b runs Python 3-7 ms meanwhile: proven.
    a = record("a", every(0, 2) + [8 * MS] + every(8.01, 9),
               marks=[(2 * MS, 8 * MS, C_CALL_AUTO, "hashlib.HASH.update", 6 * MS)], auto=True)
    b = record("b", every(3, 7), tid=2, auto=True)
    call = [s for s in build([a, b]).lane("a").spans if s.label]
    # Decided for the whole call: also 2-3 and 7-8 ms, when b was not there to show it.
    assert [(s.state, s.inferred, s.duration) for s in call] == [
        (helpers.C_CALL_NO_GIL, False, 6 * MS)]  # fmt: skip


def test_a_c_call_that_another_thread_waited_through_held_the_gil():
    # a joins a long string 2-8 ms; b, ready since 1 ms, only runs once a is back.
    a = record("a", every(0, 2) + [8 * MS] + every(8.01, 9),
               marks=[(2 * MS, 8 * MS, C_CALL_AUTO, "str.join", 6 * MS)], auto=True)
    b = record("b", [1 * MS] + every(9.01, 10), tid=2)
    tl = build([a, b])
    call = [s for s in tl.lane("a").spans if s.label]
    assert [(s.state, s.inferred) for s in call] == [(helpers.C_CALL, False)]
    waiting = tl.spans(helpers.WAITING_GIL, lane="b")
    assert sum(s.duration for s in waiting) >= 7 * MS  # b waited for the GIL, not for a core


def test_a_process_lane_begins_with_starting():
    a = record("a", every(30, 40), pid=7, requested_ns=10 * MS)
    tl = build([a], kind="processes")
    assert [(s.state, s.start // MS, s.end // MS) for s in tl.lane("a").spans] == [
        (helpers.STARTING, 10, 30), (helpers.RUNNING, 30, 40)]  # fmt: skip
    assert tl.wall_ms == 30  # the start-up counts: it is part of what a process costs
    assert tl.stats()[0].starting_ms == 20


def test_a_recording_cut_at_its_memory_cap_ends_there_and_says_so():
    a = record("a", every(0, 10), truncated_at=6 * MS, auto=True)
    b = record("b", every(0, 10, 7), tid=2)
    tl = build([a, b], gil=False)
    assert tl.end == 6 * MS and all(s.end <= 6 * MS for s in tl.spans())
    assert any("cap" in note for note in tl.notes) and "cap" in tl.stats_table()


def test_regions_take_the_states_own_names():
    lane = LaneRecorder("x")
    lane.begin()
    with lane.region(helpers.C_CALL, "sum"):
        pass
    assert lane.marks[0][2] == helpers.C_CALL
    with pytest.raises(ValueError, match="kind is one of"):
        with lane.region("c_call", "sum"):
            pass
    lane.end()


def test_chrome_trace_export(tmp_path):
    a = record("a", every(0, 5), marks=[], pid=4242, tid=77)
    b = record("b", every(5.5, 6), marks=[(5.5 * MS, 6 * MS, helpers.C_CALL, "sum")], pid=4242,
               tid=78)  # fmt: skip
    tl = build([a, b])
    path = tmp_path / "trace.json"
    helpers.save_trace(tl, path)
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
    assert {e["name"] for e in spans} <= set(helpers.states.STATES)
    assert trace["otherData"]["gil_enabled"] is True


def test_a_lane_without_heartbeats_is_refused():
    with pytest.raises(ValueError, match="at least one heartbeat"):
        build([record("a", [])])


def test_stats_table_and_lookup():
    tl = build([record("a", every(0, 3))])
    table = tl.stats_table()
    assert "running ms" in table and "\na " in table
    with pytest.raises(KeyError, match="no lane named 'z'"):
        tl.lane("z")


def test_a_region_that_says_what_it_is_beats_an_automatic_c_call_inside_it():
    # A recorded lock marks its wait; the lock's acquire is also a C call, seen by
    # automatic recording. What is known (which lock, who holds it) is what is drawn.
    marks = [(2 * MS, 8 * MS, helpers.BLOCKED, "lock 'a' (held by t2)"),
             (2 * MS + 1, 8 * MS - 1, C_CALL_AUTO, "thread.lock.acquire", 0)]  # fmt: skip
    a = record("a", every(0, 2) + [2 * MS + 1, 8 * MS - 1, 8 * MS] + every(8.01, 9),
               marks=marks, auto=True)  # fmt: skip
    labels = {s.label for s in build([a]).lane("a").spans if s.label}
    assert labels == {"lock 'a' (held by t2)"}


def test_a_thread_finds_the_lane_that_records_it():
    from helpers.recorder import current_lane

    assert current_lane() is None
    with helpers.recording() as rec:
        assert current_lane() is rec.lanes[0]
    assert current_lane() is None


def test_a_saved_trace_loads_back_into_the_same_timeline(tmp_path):
    a = record("a", every(0, 5) + every(8, 9), marks=[(5 * MS, 7 * MS, helpers.BLOCKED, "sleep")])
    b = record("b", every(5.01, 7.99), tid=2, auto=True)
    p = record("p", every(30, 40), pid=7, requested_ns=10 * MS)
    tl = build([a, b, p])
    helpers.save_trace(tl, tmp_path / "t.json")
    again = helpers.load_trace(tmp_path / "t.json")
    assert again.lanes == tl.lanes and again.info == tl.info
    assert (again.start, again.end) == (tl.start, tl.end)
    assert again.stats() == tl.stats()
    assert again.notes[-1].startswith("Recorded on ") and "t.json" in again.notes[-1]
    (tmp_path / "other.json").write_text('{"traceEvents": []}')
    with pytest.raises(ValueError, match="not saved by helpers"):
        helpers.load_trace(tmp_path / "other.json")


def test_tasks_that_share_a_thread_load_back_lane_by_lane(tmp_path):
    def count(n):
        for _ in range(n):
            yield

    with helpers.recording_steps() as rec:
        tasks = [rec.wrap(count(n), f"count {n}") for n in (1, 3)]
        while tasks:  # round robin
            task = tasks.pop(0)
            try:
                next(task)
                tasks.append(task)
            except StopIteration:
                pass
    tl = rec.timeline
    helpers.save_trace(tl, tmp_path / "tasks.json")
    again = helpers.load_trace(tmp_path / "tasks.json")
    assert again.lanes == tl.lanes
    assert again.lane("count 1").spans != again.lane("count 3").spans
    rows = {e["tid"] for e in json.loads((tmp_path / "tasks.json").read_text())["traceEvents"]
            if e["ph"] == "X"}  # fmt: skip
    assert len(rows) == 2, "in Perfetto, each task has a row of its own"


def test_an_automatic_c_call_that_a_ready_thread_waited_through_kept_the_gil():
    # a: sum(range(n)) 2-8 ms, its end stamped at 8.5 ms by Python that ran after it
    # returned and first handed the GIL to b. b was ready (last ran at 1.9 ms) and only
    # ran at 8.02 ms: the call kept the GIL until then, though b ran inside the mark.
    a = record("a", every(0, 2) + [8.5 * MS] + every(8.6, 9),
               marks=[(2 * MS, 8.5 * MS, C_CALL_AUTO, "sum", -1)], auto=True)
    b = record("b", [1.9 * MS] + every(8.02, 8.45), tid=2, auto=True)
    tl = build([a, b])
    call = [s for s in tl.lane("a").spans if s.label == "sum"]
    assert [(s.state, s.inferred, s.start, s.end) for s in call] == [
        (helpers.C_CALL, False, 2 * MS, 8.02 * MS)]  # fmt: skip
    assert tl.spans(helpers.WAITING_GIL, lane="b")[0].duration > 6 * MS


def test_the_legend_lists_only_the_states_that_show():
    # a: 100 ms of running, then a 20 us blocked sliver (a 50th of a pixel), then running.
    rec = record("a", every(0, 100) + [100 * MS + 20_000, 101 * MS],
                 marks=[(100 * MS, 100 * MS + 20_000, helpers.BLOCKED, "sleep", -1)], tid=1)
    tl = build([rec], gil=True)
    assert tl.spans(helpers.BLOCKED, lane="a")  # the sliver is in the timeline...
    legend = [t.get_text() for t in tl.plot().axes[0].get_legend().get_texts()]
    assert not any("blocked" in x for x in legend)  # ...but too thin to see: not in the legend
    zoomed = tl.plot(window=(99.9, 100.1)).axes[0].get_legend().get_texts()
    assert any("blocked" in t.get_text() for t in zoomed)  # zoomed in, it shows
