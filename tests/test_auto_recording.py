"""The contract of automatic recording (helpers.automatic) with the lane it records into.

Heartbeats are ordered and spaced, long C calls are marked with a name and their
CPU time, the cap stops recording, nothing is left installed, and a stop request
reaches a worker. On 3.12+ this exercises sys.monitoring, on 3.10/3.11 sys.setprofile.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from checks import missing

from helpers import automatic
from helpers.recorder import C_CALL_AUTO, LaneRecorder, Stopped


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def record(work, lane: LaneRecorder | None = None) -> LaneRecorder:
    """Run ``work()`` in this thread, recorded automatically into a new lane."""
    lane = lane or LaneRecorder("test", auto=True)
    with automatic.automatic_recording():
        automatic.attach(lane)
        try:
            work()
        finally:
            automatic.detach()
    return lane


def installed() -> bool:
    """Is automatic recording installed (process-wide on 3.12+, in this thread before)?"""
    if automatic.USES_MONITORING:
        return any(sys.monitoring.get_tool(t) == "helpers.automatic" for t in range(6))
    return sys.getprofile() is not None


def recording_this_thread() -> bool:
    if automatic.USES_MONITORING:
        return threading.get_ident() in automatic._lanes
    return sys.getprofile() is not None


def test_heartbeats_are_ordered_and_spaced_except_around_c_calls():
    def work():
        i = 0
        while i < 100:  # no range(): the only C call is the sleep
            fib(12)
            time.sleep(0.0001)  # long enough (> MIN_C_CALL_NS) to be marked
            i += 1

    lane = record(work)
    beats = list(lane.beats)
    assert len(beats) > 200
    assert all(a <= b for a, b in zip(beats, beats[1:])), "heartbeats go back in time"
    sleeps = [m for m in lane.marks if m[3] == "time.sleep"]
    assert len(sleeps) == 100, lane.marks
    # A C call's start and end are heartbeats; a sleep seen through sys.monitoring (3.12+)
    # ends when it was due (its argument says when), at or before its end's heartbeat.
    ends = {m[1] for m in sleeps}
    if automatic.USES_MONITORING:
        ends = {min((b for b in beats if b >= m[1]), default=0) for m in sleeps}
        assert all(m[1] - m[0] <= 100_000 for m in sleeps), "a sleep is drawn as asked, or less"
    c_beats = {m[0] for m in sleeps} | ends
    assert c_beats <= set(beats), "a C call's start and end are heartbeats"
    # Up to the end of the last sleep: after it come detach()'s own C calls.
    beats = [b for b in beats if b <= max(c_beats)]
    close = [(a, b) for a, b in zip(beats, beats[1:]) if b - a < automatic.MIN_BEAT_GAP_NS]
    unexplained = [(a, b) for a, b in close if a not in c_beats and b not in c_beats]
    assert not unexplained, f"{len(unexplained)} heartbeats closer than MIN_BEAT_GAP_NS"


def test_call_heavy_code_keeps_few_heartbeats_but_no_long_gap():
    lane = record(lambda: fib(24))
    beats = list(lane.beats)
    assert 10 < len(beats) < fib_calls_24 / 10  # far fewer heartbeats than calls
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    # The timeline merges beats closer than 200 us into one running span.
    assert sorted(gaps)[len(gaps) // 2] < 200_000


fib_calls_24 = 75_025


def test_a_sleep_is_marked_with_its_name_and_little_cpu_time():
    lane = record(lambda: time.sleep(0.05))
    (mark,) = [m for m in lane.marks if m[3] == "time.sleep"]
    start, end, kind, label, cpu_ns = mark
    assert kind == C_CALL_AUTO
    assert end - start >= 45_000_000
    assert 0 <= cpu_ns < (end - start) / 10


@pytest.mark.skipif(not automatic.USES_MONITORING,
                    reason="a sleep's argument is seen only through sys.monitoring (3.12+)")
def test_a_sleep_beside_cpu_threads_is_blue_for_as_long_as_it_slept(no_leftovers):
    # Woken while a CPU thread holds the GIL, the sleeper waits for it (a switch interval at
    # least, longer when the holder lost its core): that wait is not part of the sleep.
    import helpers
    from helpers import workloads as w

    def sleeper():
        for _ in range(30):
            time.sleep(0.01)
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.002:  # a little work, then asleep again
                pass

    tl = helpers.run_threads([w.cpu(0.6), w.cpu(0.6), sleeper],
                             names=["cpu-1", "cpu-2", "sleeper"], timeout=60)  # fmt: skip
    sleeps = [(s.end - s.start) / 1e6 for s in tl.spans(helpers.BLOCKED, lane="sleeper")]
    within = sum(abs(ms - 10) <= 1 for ms in sleeps)
    assert len(sleeps) >= 10 and within >= 0.95 * len(sleeps), sorted(sleeps)
    assert tl.spans(helpers.WAITING_GIL, lane="sleeper"), "woken beside them, it waits for the GIL"


def test_every_wait_automatic_names_is_one_the_rules_know_lets_the_gil_go():
    from helpers.recorder import WAITS

    named = set(automatic._WAITS_NAMED.values()) | set(automatic._WAITS_INSIDE)
    assert named | {automatic.c_label(time.sleep)} <= WAITS


def test_hashing_is_marked_with_its_name_and_the_cpu_time_it_used():
    data = bytes(32 << 20)
    cpu = []

    def work():
        c0 = time.thread_time_ns()
        hashlib.sha256(data).digest()
        cpu.append(time.thread_time_ns() - c0)

    lane = record(work)
    name = automatic.c_label(hashlib.sha256)
    assert name.startswith("hashlib.") and "sha256" in name
    (mark,) = [m for m in lane.marks if m[3] == name]
    start, end, kind, label, cpu_ns = mark
    # Hashing computes: the call used (nearly) all the CPU time the thread used around
    # it. On an idle machine that is close to its length; on a busy one the OS may
    # also have run something else meanwhile.
    assert 0.8 * cpu[0] < cpu_ns <= cpu[0]
    assert cpu_ns > 5_000_000


def test_a_c_function_seen_to_be_long_is_measured_until_it_is_short_again(monkeypatch):
    monkeypatch.setattr(automatic, "SAMPLE_CPU", set(automatic.SAMPLE_CPU))
    monkeypatch.setattr(automatic, "_probation", {})
    automatic._wants_cpu_memo.clear()
    assert "sorted" not in automatic.SAMPLE_CPU
    # "Long" from 5 ms here, not 20 us: on a busy machine a call of three items that loses
    # its core for a moment would count as long, and put sorted back on probation.
    monkeypatch.setattr(automatic, "MIN_C_CALL_NS", 5_000_000)
    data = random.Random(1).sample(range(300_000), 300_000)  # sorting takes tens of ms
    lane = record(lambda: (sorted(data), sorted(data)))
    first, second = [m for m in lane.marks if m[3] == "sorted"]
    assert first[4] == -1 and second[4] > 0
    assert "sorted" in automatic.SAMPLE_CPU
    # Short calls on probation: after PROBES of them it is no longer measured.
    record(lambda: [sorted(data[:3]) for _ in range(automatic.PROBES - 1)])
    assert "sorted" in automatic.SAMPLE_CPU
    record(lambda: sorted(data[:3]))
    assert "sorted" not in automatic.SAMPLE_CPU
    automatic._wants_cpu_memo.clear()


def test_a_name_learned_by_another_thread_meanwhile_does_not_break_a_lookup(monkeypatch):
    # Another thread adds a long call's name to SAMPLE_CPU (it does at any time) while this
    # one looks through it for a class's methods: that raised "Set changed size during
    # iteration" in the recorded thread (it killed a ProcessPoolExecutor's manager thread).
    class Learning(set):
        def __iter__(self):
            for name in set.__iter__(self):
                self.add(f"learned.meanwhile{len(self)}")
                yield name

    monkeypatch.setattr(automatic, "SAMPLE_CPU", Learning(automatic.SAMPLE_CPU))
    monkeypatch.setattr(automatic, "_class_memo", {})
    automatic._wants_cpu_memo.clear()
    bound = hashlib.sha256().update  # a C method bound to an object: its class is looked up
    assert automatic._wants_cpu(bound) == automatic._YES
    automatic._wants_cpu_memo.clear()


@pytest.mark.parametrize("func, label", [
    (time.sleep, "time.sleep"),
    (len, "len"),
    (str.join, "str.join"),
    (hashlib.sha256().update, "hashlib.HASH.update"),
    (threading.Lock().acquire, "thread.lock.acquire"),
    (threading.Lock.acquire if isinstance(threading.Lock, type) else threading.Lock().acquire,
     "thread.lock.acquire"),
])  # fmt: skip
def test_labels_name_the_module(func, label):
    if "HASH" in label and type(hashlib.sha256()).__name__ != "HASH":
        pytest.skip("hashlib without OpenSSL")
    assert automatic.c_label(func) == label


def test_the_cap_stops_recording_and_says_when(monkeypatch):
    monkeypatch.setattr(automatic, "MAX_BEATS", 2_000)
    after = []

    def work():
        x = []
        for _ in range(50_000):  # C calls: two heartbeats each (os.getpid never goes
            x.append(os.getpid())  # quiet: list.append soon does, on 3.12+)
        after.append(recording_this_thread())

    t0 = time.perf_counter_ns()
    lane = record(work)
    assert lane.truncated_at > t0
    assert after == [False], "recording of the thread went on after the cap"
    assert 2_000 <= len(lane.beats) <= 2_000 + 1_000
    assert lane.beats[-1] <= lane.truncated_at


def test_nothing_is_left_installed():
    lane = LaneRecorder("test", auto=True)
    with automatic.automatic_recording():
        with automatic.automatic_recording():  # runs may overlap: refcounted
            automatic.attach(lane)
            assert installed()
            fib(10)
            automatic.detach()
        if automatic.USES_MONITORING:
            assert installed()
    assert not installed()
    if automatic.USES_MONITORING:
        assert not automatic._lanes
        assert all(sys.monitoring.get_tool(t) != "helpers.automatic" for t in range(6))
    else:
        assert sys.getprofile() is None


def test_threads_are_recorded_at_once_each_into_its_own_lane():
    lanes = [LaneRecorder(f"t{i}", auto=True) for i in range(2)]
    spans = {}

    def worker(lane):
        t0 = time.perf_counter_ns()
        automatic.attach(lane)
        try:
            for _ in range(5):
                fib(17)
                time.sleep(0.001)
        finally:
            automatic.detach()
            spans[lane.name] = (t0, time.perf_counter_ns())

    with automatic.automatic_recording():
        threads = [threading.Thread(target=worker, args=(ln,)) for ln in lanes]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
    for lane in lanes:
        t0, t1 = spans[lane.name]
        assert len(lane.beats) > 10
        assert all(t0 <= b <= t1 for b in lane.beats), "a heartbeat from another thread"
        assert len([m for m in lane.marks if m[3] == "time.sleep"]) == 5


@pytest.mark.parametrize("code", ["python calls", "c calls"])
def test_a_stop_request_raises_stopped_in_a_worker(code):
    lane = LaneRecorder("worker", auto=True)
    outcome = []

    def worker():
        automatic.attach(lane)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if code == "python calls":
                    fib(15)
                else:
                    sorted([3, 2, 1])
            outcome.append("not stopped")
        except Stopped:
            outcome.append("stopped")
            outcome.append(recording_this_thread())
        finally:
            automatic.detach()

    with automatic.automatic_recording():
        th = threading.Thread(target=worker)
        th.start()
        time.sleep(0.05)
        lane.control.request_stop()
        th.join(10)
    assert not th.is_alive()
    assert outcome == ["stopped", False]


def test_the_callers_lane_just_stops_without_raising():
    lane = LaneRecorder("caller", auto=True, stoppable=False)
    with automatic.automatic_recording():
        automatic.attach(lane)
        try:
            fib(15)
            automatic.detach_other(lane)  # as the runner does at the end of a run
            for _ in range(200):
                fib(10)  # recording ends at the next check, nothing is raised
            n = len(lane.beats)
            fib(18)
            assert len(lane.beats) == n, "the caller is still recorded"
        finally:
            automatic.detach()


def test_a_worker_still_recorded_when_the_run_ends_is_stopped_all_the_same():
    # On 3.12 an interrupted Thread.join can mark a running worker as stopped, and the
    # runner then ends automatic recording while the worker runs on: it must still stop.
    lane = LaneRecorder("worker", auto=True)
    started = threading.Event()
    outcome = []

    def worker():
        automatic.attach(lane)
        try:
            started.set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                fib(12)
            outcome.append("not stopped")
        except Stopped:
            outcome.append("stopped")
        finally:
            automatic.detach()

    with automatic.automatic_recording():
        th = threading.Thread(target=worker)
        th.start()
        started.wait(10)
        lane.control.request_stop()
    th.join(10)
    assert outcome == ["stopped"]
    assert not installed()


def _hog(seconds: float) -> None:  # a process that only wants a core
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _hash_on_a_crowded_core(data: bytes, hogs: int):
    """Hash, then sleep, on one core shared with `hogs` processes that only compute."""
    import multiprocessing as mp

    core = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    procs = [ctx.Process(target=_hog, args=(3.0,), daemon=True) for _ in range(hogs)]
    os.sched_setaffinity(0, {core})  # this thread, and the hogs started from it
    try:
        for h in procs:
            h.start()
        time.sleep(0.1)  # the hogs are running
        lane = LaneRecorder("crowded", auto=True)
        lane.begin()
        with automatic.automatic_recording():
            automatic.attach(lane)
            try:
                c0 = time.thread_time_ns()
                hashlib.sha256(data).digest()
                cpu = time.thread_time_ns() - c0
                time.sleep(0.05)
            finally:
                automatic.detach()
        lane.end()
    finally:
        os.sched_setaffinity(0, before)
        for h in procs:
            h.terminate()
        for h in procs:
            h.join(5)
    return lane, cpu


def test_on_a_crowded_core_hashing_still_counts_as_busy_and_a_sleep_does_not():
    # Processes that only compute share one core with this thread: hashing gets a small
    # share of the core, less than COMPUTED_SHARE, and waits for it the rest of the time.
    # CPU time alone would call that a wait; the run-queue wait says otherwise. The sleep
    # after it queues too, once it wakes up, but it used no CPU meanwhile. If the core was
    # not crowded enough (the scheduler favoured us), it is crowded harder.
    from helpers.recorder import COMPUTED_SHARE

    if not hasattr(os, "sched_setaffinity"):
        missing("Linux only: core affinity")
    if not os.path.exists("/proc/thread-self/schedstat"):
        missing("the kernel gives no run-queue wait (/proc/thread-self/schedstat)")
    data = bytes(16 << 20)
    for hogs in (8, 16, 32):
        lane, cpu = _hash_on_a_crowded_core(data, hogs)
        name = automatic.c_label(hashlib.sha256)
        (hashing,) = [m for m in lane.marks if m[3] == name]
        (sleep,) = [m for m in lane.marks if m[3] == "time.sleep"]
        length = hashing[1] - hashing[0]
        print(f"{hogs} hogs: hashing had CPU {cpu / length:.0%} of its length, "
              f"{hashing[4] / length:.0%} of the time it was not waiting for the core")
        if cpu < COMPUTED_SHARE * length:
            break
    else:
        missing(f"the core was not crowded enough even by {hogs} processes: "
                f"hashing got {cpu / length:.0%} of it")
    assert hashing[4] >= COMPUTED_SHARE * length, "it computed whenever it had the core"
    assert 0 <= sleep[4] < COMPUTED_SHARE * (sleep[1] - sleep[0]), "a sleep computed nothing"


def test_calling_an_unhashable_callable_is_recorded_without_raising():
    # Calling a weakref hashes its referent in our callback's memo lookup; a WeakSet is
    # unhashable. The recorder must never raise into the code it records (3.12+ saw it
    # break WeakSet's own clean-up).
    import weakref

    class Unhashable(set):  # set instances are unhashable and accept weak references
        pass

    target = Unhashable()
    ref = weakref.ref(target)
    got = []
    record(lambda: got.append(ref() is target))
    assert got == [True]


def test_a_wait_inside_a_queue_is_named_after_the_call_the_learner_wrote(no_leftovers):
    import queue

    import helpers

    q, held = queue.Queue(maxsize=1), threading.Lock()

    def producer():
        time.sleep(0.03)  # the consumer waits in get() meanwhile: the queue is empty
        for i in range(4):
            q.put(i)  # the second put waits: the queue holds one item and it is full

    def consumer():
        for _ in range(4):
            q.get()
            time.sleep(0.02)
        held.acquire()  # a plain lock: its wait keeps the C function's name
        held.release()

    with helpers.recording() as rec:
        held.acquire()
        threads = [threading.Thread(target=f, name=f.__name__) for f in (producer, consumer)]
        for th in threads:
            th.start()
        time.sleep(0.15)
        held.release()
        for th in threads:
            th.join(5)
    labels = {ln: {s.label for s in rec.timeline.lane(ln).spans if s.label}
              for ln in ("producer", "consumer")}  # fmt: skip
    assert "Queue.put" in labels["producer"], labels
    assert {"Queue.get", "thread.lock.acquire"} <= labels["consumer"], labels
    assert "thread.lock.acquire" not in labels["producer"], "every wait of it was in put()"


def test_a_thread_still_waiting_when_the_recording_ends_is_shown_waiting_not_finished():
    import queue

    import helpers

    q = queue.Queue()
    with helpers.recording() as rec:
        waiter = threading.Thread(target=q.get, name="waiter")  # nothing comes: waits on
        waiter.start()
        sleeper = threading.Thread(target=time.sleep, args=(0.05,), name="sleeper")
        sleeper.start()
        sleeper.join(5)  # a join is named after Thread.join, on every Python
        with ThreadPoolExecutor(1) as pool:
            pool.submit(time.sleep, 0.05).result(5)
    try:
        assert {"Thread.join", "Future.result"} <= {
            s.label for s in rec.timeline.lane("MainThread").spans}
        assert waiter.is_alive()
        last = rec.timeline.lane("waiter").spans[-1]
        assert (last.state, last.label) == (helpers.BLOCKED, "Queue.get"), last
        assert last.end == rec.timeline.end and last.duration > 30e6
    finally:
        q.put(None)
        waiter.join(5)
