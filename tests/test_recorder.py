"""The recorder and helpers.recording(): what a lane keeps, and recording plain threading code."""

from __future__ import annotations

import concurrent.futures
import pickle
import sys
import threading
import time

import pytest

import helpers
from helpers import witness
from helpers.recorder import LaneRecorder
from tests.test_gil_invariants import overlap_ns

pytestmark = pytest.mark.usefixtures("no_leftovers")


def test_a_lane_records_heartbeats_in_time_order_and_its_cpu_time():
    lane = LaneRecorder("x")
    lane.begin()
    for _ in range(100):
        lane.beat()
    sum(range(200_000))
    lane.end()
    beats = list(lane.beats)
    assert len(beats) == 102 and beats == sorted(beats)
    assert lane.native_id == threading.get_native_id()
    assert lane.cpu_ns > 0


def test_a_region_is_a_mark_with_heartbeats_at_both_ends():
    lane = LaneRecorder("x")
    lane.begin()
    with lane.region(helpers.BLOCKED, "sleep", expected_s=0.01):
        time.sleep(0.03)
    (start, end, kind, label, cpu) = lane.marks[0]
    assert (kind, label, cpu) == (helpers.BLOCKED, "sleep", -1)
    assert start in lane.beats and lane.beats[-1] >= start + 30_000_000
    # It asked for 10 ms: the region ends where the wait should have, not where the
    # thread, awake, finally got the GIL back to take a timestamp.
    assert end == start + 10_000_000


def test_end_from_another_thread_reads_the_threads_cpu_clock():
    lane = LaneRecorder("worker")
    started, done = threading.Event(), threading.Event()

    def work():
        lane.begin()
        sum(range(2_000_000))
        started.set()
        done.wait(5)

    t = threading.Thread(target=work)
    t.start()
    started.wait(5)
    lane.end()  # from this thread: no heartbeat for it, but its CPU time so far
    done.set()
    t.join()
    if hasattr(time, "pthread_getcpuclockid"):
        assert lane.cpu_ns > 1_000_000
    assert len(lane.beats) == 1  # only the worker can prove that it ran


def test_a_lane_record_is_plain_data_that_pickles():
    lane = LaneRecorder("x")
    lane.begin()
    lane.end()
    record = lane.to_record("this process", requested_ns=5)
    again = pickle.loads(pickle.dumps(record))
    assert again == record and again.requested_ns == 5 and again.process_name == "this process"


def cpu_python(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sum(i * i for i in range(200))


def test_recording_gives_every_thread_started_in_the_block_a_lane():
    with helpers.recording() as rec:
        sleeper = threading.Thread(target=time.sleep, args=(0.1,), name="sleeper")
        worker = threading.Thread(target=cpu_python, args=(0.1,), name="worker")
        sleeper.start()
        worker.start()
        sleeper.join()
        worker.join()
    tl = rec.timeline
    assert [lane.name for lane in tl.lanes] == ["MainThread", "sleeper", "worker"]
    assert {lane.native_id for lane in tl.lanes} >= {sleeper.native_id, worker.native_id}
    sleep = tl.spans(helpers.BLOCKED, lane="sleeper")
    assert any(s.label == "time.sleep" and s.duration > 80e6 for s in sleep)
    worker_stats = tl.stats()[2]
    assert worker_stats.running_ms > 0.5 * worker_stats.cpu_ms > 0  # a busy machine lends less
    # Recording is over: Thread.start is the original again, nothing is installed.
    assert threading.Thread.start.__qualname__ == "Thread.start"
    assert sys.getprofile() is None
    if sys.version_info >= (3, 12):
        assert all(sys.monitoring.get_tool(i) is None for i in (3, 4))


def test_recording_records_thread_pool_workers():
    with helpers.recording() as rec:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda n: sum(range(n)), [10**6, 10**6]))
    assert results == [sum(range(10**6))] * 2
    names = [lane.name for lane in rec.timeline.lanes]
    assert any(name.startswith("ThreadPoolExecutor") for name in names)


def test_recording_and_run_threads_agree_on_the_same_work():
    """Two CPU threads, recorded both ways: the same states, and no overlap either way."""
    tasks = [lambda: cpu_python(0.15), lambda: cpu_python(0.15)]

    def measure() -> list[str]:
        """What did not add up against the OS's CPU time (the structural checks assert)."""
        run = helpers.threads.start_threads(tasks)
        by_run = run.wait()
        # Outside the rules (which keep running spans apart): the raw heartbeats of run_threads,
        # and the OS's CPU time over the recorded block (one core at most for two Python threads).
        assert witness.intrusions([ln.to_record("this process") for ln in run.lanes]) == 0
        cpu, wall = time.process_time(), time.perf_counter()
        with helpers.recording() as rec:
            threads = [threading.Thread(target=t) for t in tasks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        cores = (time.process_time() - cpu) / (time.perf_counter() - wall)
        assert cores <= witness.ONE_CORE, f"two Python threads used {cores:.2f} cores"
        short = []
        for tl, lanes in ((by_run, by_run.lanes), (rec.timeline, rec.timeline.lanes[1:])):
            a, b = (tl.spans(helpers.RUNNING, lane=ln.name) for ln in lanes)
            assert overlap_ns(a, b) == 0  # the rules' own consistency (rule 7)
            for lane in lanes:
                states = {s.state for s in lane.spans}
                assert helpers.RUNNING in states and helpers.WAITING_GIL in states, states
                st = next(s for s in tl.stats() if s.name == lane.name)
                # Against the OS's count of CPU time: a thread cannot be seen running
                # Python without a core; and its CPU time shows as running or in a C call.
                # (On a busy machine, "running, inferred" also covers time another program
                # had the core: automatic recording cannot tell a silent loop from a lost
                # core.)
                # A thread waiting for the GIL uses a little CPU too: it wakes every switch
                # interval to ask for it (up to about 10% of its waiting time, measured here
                # with time.thread_time on 3.12 and 3.13: 60 ms CPU, 50 ms drawn, 150 ms
                # waiting).
                assert st.running_ms <= 1.05 * st.cpu_ms + 2, st
                drawn = st.running_ms + st.inferred_running_ms + st.c_call_ms
                if drawn < 0.9 * st.cpu_ms - 0.1 * st.waiting_gil_ms:
                    short.append(repr(st))
        return short

    # On a crowded machine the OS may count more of that: measured again, at most
    # twice, before a shortfall counts.
    for _attempt in range(3):
        short = measure()
        if not short:
            break
    assert not short, short


def test_recording_restores_everything_after_an_exception():
    before = sys.getswitchinterval()
    with pytest.raises(ZeroDivisionError):
        with helpers.recording(switch_interval=0.001):
            t = threading.Thread(target=time.sleep, args=(0.01,))
            t.start()
            t.join()
            raise ZeroDivisionError
    assert sys.getswitchinterval() == before
    assert threading.Thread.start.__qualname__ == "Thread.start"
    assert sys.getprofile() is None
    with helpers.recording() as rec:  # and a new recording works
        pass
    assert rec.timeline.lanes[0].name == "MainThread"


def test_recording_a_thread_that_outlives_the_block():
    stop = threading.Event()
    with helpers.recording() as rec:
        t = threading.Thread(target=stop.wait, args=(5,), name="lingers")
        t.start()
        time.sleep(0.02)
    stop.set()
    t.join()
    lane = rec.timeline.lane("lingers")
    assert lane.spans[-1].end <= rec.timeline.end  # its lane ends where the block did


def test_recordings_do_not_nest_and_the_timeline_waits_for_the_block():
    rec = helpers.recording()
    with pytest.raises(RuntimeError, match="ready when the `with` block is over"):
        _ = rec.timeline
    with rec:
        with pytest.raises(RuntimeError, match="do not nest"):
            with helpers.recording():
                pass


def count_without_calls():
    x = 0
    for i in range(2_000_000):  # no call inside: automatic recording sees nothing
        x += i


def test_a_loop_without_calls_runs_while_the_main_thread_joins_it():
    with helpers.recording() as rec:
        t = threading.Thread(target=count_without_calls, name="count")
        t.start()
        t.join()
    st = next(s for s in rec.timeline.stats() if s.name == "count")
    print(f"count: running {st.running_ms:.1f} + inferred {st.inferred_running_ms:.1f} ms, "
          f"waiting for the GIL {st.waiting_gil_ms:.1f} ms, CPU {st.cpu_ms:.1f} ms")
    # The main thread is blocked in join(): nobody else wants the GIL. The silent loop
    # is drawn running (inferred), not waiting for a GIL that nobody held.
    assert st.waiting_gil_ms < 0.2 * st.cpu_ms
    assert st.running_ms + st.inferred_running_ms > 0.8 * st.cpu_ms
