"""What the timeline must show on a GIL build, measured on this machine.

These runs are real: two CPU-bound threads, sleepers, C calls. The assertions
are what holds on any machine with a GIL (no two threads running at once,
slices near the switch interval, running time matching the OS's count), with
retries where a busy machine can only stretch a measurement.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import threading
import time

import pytest
from checks import Stolen

import helpers
from helpers import witness
from helpers import workloads as w
from helpers.rules_fast import build_timeline

pytestmark = [
    pytest.mark.usefixtures("no_leftovers"),
    pytest.mark.skipif(not helpers.gil_enabled(), reason="these invariants are about the GIL"),
]


def overlap_ns(a: list[helpers.timeline.Span], b: list[helpers.timeline.Span]) -> float:
    """Total time (ns) during which a span of ``a`` and a span of ``b`` both run."""
    return helpers.overlap_ms(a, b) * 1e6


def two_cpu_threads(seconds=0.3, switch_interval=None):
    run = helpers.threads.start_threads([w.cpu(seconds), w.cpu(seconds)],
                                        switch_interval=switch_interval)
    return run.wait(), [lane.to_record("this process") for lane in run.lanes]


def test_running_spans_of_two_threads_never_overlap():
    tl, records = two_cpu_threads()
    a, b = (tl.spans(helpers.RUNNING, lane=ln.name) for ln in tl.lanes)
    assert a and b
    # The timeline splits a thread's running span where another thread recorded a
    # heartbeat, so their spans never overlap by construction: not a check. The checks
    # are of the heartbeats: none of one thread between two close ones of the other...
    assert witness.intrusions(records) == 0
    # ...and, read on its own as for a free-threaded build, no thread overlaps the other:
    # had any heartbeat been taken without the GIL, they would.
    alone = build_timeline(records, dataclasses.replace(tl.info, gil_enabled=False))
    a, b = (alone.spans(helpers.RUNNING, lane=ln.name) for ln in alone.lanes)
    print(f"overlap when each thread is read on its own: {overlap_ns(a, b)} ns")
    assert overlap_ns(a, b) <= 1_000  # the clock's resolution, not a slice


@pytest.mark.parametrize("interval_ms", [1, 5, 20])
def test_two_cpu_threads_alternate_in_slices_of_the_switch_interval(interval_ms, realtime):
    # A busy machine can only stretch slices (see the realtime fixture), so a run
    # that misses is tried again; each attempt's figures are printed.
    medians = []
    for _attempt in range(3):
        tl, _ = two_cpu_threads(seconds=max(0.25, interval_ms * 0.025),
                                switch_interval=interval_ms / 1000)
        slices = [e - s for lane in tl.lanes for s, e in lane.slices[1:-1]]  # not the first/last
        medians.append(statistics.median(slices) / 1e6)
        print(f"switch interval {interval_ms} ms: {len(slices)} slices, median "
              f"{medians[-1]:.3f} ms (real-time priority: {realtime})")
        if abs(medians[-1] - interval_ms) <= 0.15 * interval_ms:
            break
    assert abs(medians[-1] - interval_ms) <= 0.15 * interval_ms, medians
    assert tl.info.switch_interval == interval_ms / 1000
    assert sys.getswitchinterval() == 0.005  # restored after the run


def is_prime(k):  # code shaped like a learner's: a small Python function called in a loop
    for d in range(2, int(k**0.5) + 1):
        if k % d == 0:
            return False
    return k > 1


def count_primes(n):
    return sum(1 for k in range(n) if is_prime(k))


STOLEN = 0.01  # a run during which the hypervisor took more of the CPUs is tried again


def runs(realtime: bool, run, need: int) -> list[tuple[bool, bool]]:
    """Call ``run()`` (it returns whether the run held, and what to print) until settled;
    return (held, excused) for each run, and assert that the runs held.

    At real-time priority the other programs of this machine cannot stretch a run, so
    ``need`` runs must hold in a row, and a run that misses fails the test, unless the
    hypervisor took the CPUs meanwhile (checks.Stolen): excused, it is run again. At
    normal priority a busy machine may stretch any run: the first that holds counts.
    Five runs at most."""
    results: list[tuple[bool, bool]] = []
    for _attempt in range(5):
        with Stolen() as stolen:
            held, text = run()
        results.append((held, not held and stolen.share >= STOLEN))
        print(f"{text} (real-time priority: {realtime}; {stolen})")
        if not realtime and held or realtime and sum(h for h, _ in results) >= need:
            break
        if realtime and results[-1] == (False, False):
            break  # it missed on a quiet host: our doing
    assert results[-1][0] and (not realtime or all(h or e for h, e in results)), results
    return results


def test_recording_a_learners_own_threads_leaves_their_slices_as_they_are(realtime):
    # recording() of plain threading code (the learner's road, not a built-in workload)
    # must not change what it draws: its callbacks and, on 3.12+, its re-arming thread
    # (automatic.py) must leave the GIL's turns one switch interval long. At real-time
    # priority three runs must hold (the re-arming thread that looked every 5 ms failed 8
    # runs of 20 here, every 20 ms 2 of 100).
    def run():
        with helpers.recording() as rec:
            threads = [threading.Thread(target=count_primes, args=(80_000,)) for _ in "AB"]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        median = statistics.median(s.median_slice_ms for s in rec.timeline.stats()[1:])
        return abs(median - 5) <= 0.25 * 5, f"median slice {median:.2f} ms"

    runs(realtime, run, need=3)


def appends(n):  # the commonest loop there is: a small C call (list.append), nothing else
    out = []
    for i in range(n):
        out.append(i * i)


def clock_loop(seconds):  # a clock read in a loop: a C call that never lets the GIL go
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        pass


@pytest.mark.parametrize("loop", ["appends", "clock"])
def test_two_threads_looping_over_small_c_calls_are_each_seen_in_their_turns(loop, realtime):
    # Checked against the OS's CPU clock of each thread (time.thread_time inside it), not
    # against the rules: each thread's running spans (seen, or inferred where it ran alone
    # and silent) add up to the CPU time it used, and nothing of either thread is drawn
    # blocked. Before, a quiet call site was switched
    # off for both threads (3.12+): one was drawn running for 200 ms while the other
    # "waited" though each used half the CPU; and a clock read whose callback waited for
    # the GIL was drawn blocked for that wait (5-12% of each thread, all Pythons).
    # At real-time priority two runs must hold. (Before, they missed by more than 10% in
    # 1-3 runs of 30 and by more than 5% in 6-9, on 3.12 and 3.13: the caller, back from
    # a wait, was drawn running while a thread whose sites were switched off ran unseen.)
    cpu = {}

    def work(name):
        t = time.thread_time()
        appends(1_500_000) if loop == "appends" else clock_loop(0.2)
        cpu[name] = (time.thread_time() - t) * 1e3

    def run():
        with helpers.recording() as rec:
            threads = [threading.Thread(target=work, args=(n,), name=n) for n in "AB"]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        stats = {s.name: s for s in rec.timeline.stats()}
        seen = {n: stats[n].running_ms + stats[n].inferred_running_ms for n in "AB"}
        held = all(seen[n] == pytest.approx(cpu[n], rel=0.1)
                   and stats[n].blocked_ms < 0.01 * cpu[n] for n in "AB")  # fmt: skip
        return held, ", ".join(f"{n}: running {seen[n]:.1f} ms (inferred "
                               f"{stats[n].inferred_running_ms:.1f}), CPU {cpu[n]:.1f} ms, "
                               f"blocked {stats[n].blocked_ms:.1f} ms" for n in "AB")  # fmt: skip

    runs(realtime, run, need=2)


def test_running_time_agrees_with_thread_time(realtime):
    # Running (from heartbeats) against the OS's own CPU clock per thread. Another program
    # that takes our core while a thread holds the GIL makes running exceed CPU time: a
    # busy machine can only push them apart, so a run that misses is tried again.
    for _attempt in range(3):
        tl, _ = two_cpu_threads(seconds=0.4)
        for s in tl.stats():
            print(f"{s.name}: running {s.running_ms:.1f} ms, thread_time {s.cpu_ms:.1f} ms")
        if all(s.running_ms == pytest.approx(s.cpu_ms, rel=0.05) for s in tl.stats()):
            break
    for s in tl.stats():
        assert s.running_ms == pytest.approx(s.cpu_ms, rel=0.05), s


def test_sleeping_and_io_threads_are_blocked_with_the_gil_released():
    # While the sleeper and the I/O thread waited, the CPU thread ran: at least 50 ms of
    # the 200 ms. A busy machine can take the core from it meanwhile: tried up to 3 times.
    for _attempt in range(3):
        tl = helpers.run_threads([w.cpu(0.3), w.sleep(0.2), w.io(0.2, requests=2)])
        cpu = tl.spans(helpers.RUNNING, lane="cpu-1")
        if min(overlap_ns(cpu, tl.spans(helpers.BLOCKED, lane=name))
               for name in ("sleep-2", "io-3")) > 50e6:
            break
    io = tl.lane("io-3")
    assert {s.label for s in tl.spans(helpers.BLOCKED, lane="sleep-2")} == {"sleep"}
    io_blocked = tl.spans(helpers.BLOCKED, lane="io-3")
    assert len(io_blocked) == 2 and all("I/O" in s.label for s in io_blocked)
    # Blocked means not using a core: the OS counted almost no CPU time for them.
    for st in tl.stats()[1:]:
        print(f"{st.name}: blocked {st.blocked_ms:.1f} ms, CPU {st.cpu_ms:.1f} ms")
        assert st.cpu_ms < 0.1 * st.blocked_ms
    # While they were blocked, the CPU thread ran: they had released the GIL.
    cpu = tl.spans(helpers.RUNNING, lane="cpu-1")
    assert overlap_ns(cpu, io_blocked) > 50e6
    assert overlap_ns(cpu, tl.spans(helpers.BLOCKED, lane="sleep-2")) > 50e6
    assert not any(s.inferred for s in io.spans)


def test_a_sleeper_next_to_cpu_threads_waits_for_the_gil_after_waking(realtime):
    tl = helpers.run_threads([w.cpu(0.4), w.cpu(0.4), w.sleep(0.05)])
    spans = tl.lane("sleep-3").spans
    i = next(i for i, s in enumerate(spans) if s.state == helpers.BLOCKED)
    j = next(j for j in range(i, len(spans)) if spans[j].state == helpers.RUNNING)
    # Between waking and running again it waited: for the GIL, and on a busy
    # machine also for a core while the GIL was being handed over.
    between = spans[i + 1 : j]
    assert between and {s.state for s in between} <= {helpers.WAITING_GIL, helpers.WAITING_CPU}
    assert any(s.state == helpers.WAITING_GIL for s in between)
    late_ms = (spans[j].start - spans[i].end) / 1e6
    waited = [s for s in between if s.state == helpers.WAITING_GIL]
    others = tl.spans(helpers.RUNNING, lane="cpu-1") + tl.spans(helpers.RUNNING, lane="cpu-2")
    ran_meanwhile = overlap_ns(waited, others) / sum(s.duration for s in waited)
    print(f"the sleeper woke {late_ms:.2f} ms late; the CPU threads ran during "
          f"{ran_meanwhile:.0%} of its wait for the GIL")
    # The GIL promises no fairness: a woken thread can lose the handoff to the other
    # CPU thread again and again (137 ms seen here). What must hold: while it waited
    # for the GIL, the CPU threads were seen running Python, most of the time.
    assert ran_meanwhile > 0.5


def test_no_other_thread_runs_during_a_c_call_that_keeps_the_gil():
    # The OS's count first: sum() next to Python, one core at most (hashlib: two).
    used = witness.cores_used(lambda s: sum(range(int(s * 2e7))), witness.python_loop)
    print(f"sum() next to Python: {used:.2f} cores")
    assert used <= witness.ONE_CORE
    tl = helpers.run_threads([w.c_call_holds_gil(0.2), w.cpu(0.3)])
    c_calls = tl.spans(helpers.C_CALL, lane="sum-1")
    assert len(c_calls) == 1 and c_calls[0].label.startswith("sum(range(")
    # The C call's span ends at the other thread's first heartbeat after it began:
    # had sum() let go of the GIL, that would have come early and cut it short, below
    # the CPU time the OS counted for the thread (which spent it almost all in sum()).
    cpu_ms = tl.stats()[0].cpu_ms
    print(f"sum() kept the GIL for {c_calls[0].duration / 1e6:.1f} ms; CPU {cpu_ms:.1f} ms")
    assert c_calls[0].duration / 1e6 > 0.9 * cpu_ms > 50
    # ...and the CPU thread is shown waiting for the GIL meanwhile.
    waiting = tl.spans(helpers.WAITING_GIL, lane="cpu-2")
    assert overlap_ns(c_calls, waiting) > 0.8 * c_calls[0].duration


def test_other_threads_run_during_a_c_call_that_releases_the_gil():
    tl = helpers.run_threads([w.c_call_releases_gil(0.3), w.cpu(0.3)])
    hashing = tl.spans(helpers.C_CALL_NO_GIL, lane="hash-1")  # computing, without the GIL
    assert hashing and all("hashlib" in s.label for s in hashing)
    assert not tl.spans(helpers.BLOCKED, lane="hash-1")  # it never waited
    assert overlap_ns(hashing, tl.spans(helpers.RUNNING, lane="cpu-2")) > 50e6


def test_a_lock_wait_is_blocked():
    tl = helpers.run_threads([w.lock_wait(0.1)])
    (span,) = tl.spans(helpers.BLOCKED)
    assert span.label == "lock" and span.duration > 50e6
    assert tl.stats()[0].cpu_ms < 0.1 * span.duration / 1e6  # waiting on a lock uses no core
