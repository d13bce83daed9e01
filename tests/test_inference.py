"""The fast inference (helpers.rules_fast) agrees with the plain rules (helpers.rules).

Random records, made to look like what recorders write (bursts of heartbeats,
silences, regions of every kind, nested C calls, processes that start late),
are turned into timelines both ways; the two must be the same span for span.
Also: the invariants each rule promises, on the same random records.
"""

from __future__ import annotations

import random
from array import array

import pytest

import helpers
from helpers import rules, rules_fast
from helpers.recorder import C_CALL_AUTO, LaneRecord
from helpers.states import BLOCKED, C_CALL, C_CALL_NO_GIL, RUNNING
from helpers.timeline import RunInfo

US = 1_000


def info(gil: bool) -> RunInfo:
    # A 1 ms switch interval: rule 4's wait for it happens often in random records.
    return RunInfo(kind="threads", python="3.13.0", gil_enabled=gil, free_threaded_build=not gil,
                   switch_interval=0.001, usable_cores=2, cpu_count=2)  # fmt: skip


def random_lane(rng: random.Random, name: str, pid: int, tid: int) -> LaneRecord:
    t = rng.randrange(0, 500 * US)
    requested = t - rng.randrange(1, 3000 * US) if rng.random() < 0.2 else 0
    beats, marks = [], []
    for _ in range(rng.randrange(1, 12)):
        kind = rng.random()
        if kind < 0.5:  # a burst of running, with the odd silence in it
            for _ in range(rng.randrange(1, 30)):
                beats.append(t)
                # 200 us is MERGE_GAP_NS exactly: the rules' boundaries must agree too
                t += rng.choice([rng.randrange(1, 40), rng.randrange(150, 2000), 200]) * US
        else:  # a region: its first heartbeat opens it, one closes it at or after its end
            region = rng.choice([BLOCKED, C_CALL, C_CALL_NO_GIL, C_CALL_AUTO])
            length = rng.choice([rng.randrange(10, 3000), 200]) * US
            cpu = -1
            if region == C_CALL_AUTO:  # measured or not; waited, half and half, or computed
                cpu = rng.choice([-1, 0, length // 10, length // 5, length // 2, length])
            beats.append(t)
            sleep = region == C_CALL_AUTO and rng.random() < 0.2  # rule 6 knows a sleep waits
            marks.append((t, t + length, region, "time.sleep" if sleep else f"{region}@{t}", cpu))
            if region != C_CALL_AUTO and rng.random() < 0.2:  # an automatic C call inside it
                marks.append((t + US, t + length + rng.choice([-US, 50 * US]), C_CALL_AUTO,
                              "inside", -1))  # within it, or past its (clamped) end
            if region != C_CALL_AUTO and rng.random() < 0.2:  # opened inside a C call (next)
                marks.append((t - rng.randrange(1, 20) * US, t + rng.randrange(1, 50) * US,
                              C_CALL_AUTO, "opens", rng.choice([-1, 0])))  # fmt: skip
            if region == C_CALL_AUTO and rng.random() < 0.3:  # it calls back into Python
                inner = sorted(rng.sample(range(t + US, t + length), rng.randrange(1, 6)))
                beats += inner
            t += length + rng.choice([0, 0, rng.randrange(1, 500)]) * US
            beats.append(t)
            t += rng.randrange(1, 40) * US
    ready = beats[0] - rng.randrange(1, 2000) * US if not requested and rng.random() < 0.3 else 0
    return LaneRecord(name=name, process_name=f"p{pid}", pid=pid, native_id=tid,
                      auto=rng.random() < 0.5, cpu_ns=0, beats=array("q", beats),
                      marks=marks, requested_ns=max(requested, 0),
                      ready_ns=max(ready, 0))  # fmt: skip


def random_run(seed: int) -> tuple[list[LaneRecord], bool]:
    rng = random.Random(seed)
    pids = [1] if rng.random() < 0.7 else [1, 2]
    records = [random_lane(rng, f"lane-{i}", rng.choice(pids), i)
               for i in range(rng.randrange(1, 5))]  # fmt: skip
    return records, rng.random() < 0.8


def overlap_ns(a, b) -> int:
    return sum(max(0, min(x.end, y.end) - max(x.start, y.start)) for x in a for y in b)


@pytest.mark.parametrize("seed", range(300))
def test_fast_inference_agrees_with_the_rules(seed):
    records, gil = random_run(seed)
    fast = rules_fast.build_timeline(records, info(gil))
    slow = rules.build_timeline(records, info(gil))
    assert (fast.start, fast.end) == (slow.start, slow.end)
    for f, s in zip(fast.lanes, slow.lanes):
        assert f.spans == s.spans, f"seed {seed}, lane {f.name}"
        assert f.slices == s.slices, f"seed {seed}, lane {f.name}"


@pytest.mark.parametrize("seed", range(300))
def test_invariants_of_the_rules(seed):
    records, gil = random_run(seed)
    tl = rules_fast.build_timeline(records, info(gil))
    for lane in tl.lanes:
        spans = lane.spans
        # A lane is in one state at a time: its spans follow each other without overlap.
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:])), lane.name
        assert all(s.end > s.start for s in spans)
        assert spans[-1].end <= tl.end
    if gil:  # under the GIL two threads of a process never run at the same instant
        for a in tl.lanes:
            for b in tl.lanes:
                if a is not b and a.pid == b.pid:
                    assert overlap_ns([s for s in a.spans if s.state == RUNNING],
                                      [s for s in b.spans if s.state == RUNNING]) == 0


def random_task(rng: random.Random, name: str, start: int) -> LaneRecord:
    """A generator or coroutine: steps (start, end), awaiting between them, maybe still open."""
    t, beats = start, []
    for _ in range(rng.randrange(0, 6)):
        t += rng.randrange(0, 300) * US
        beats += [t, t + rng.randrange(0, 50) * US]
        t = beats[-1]
    if not beats:
        beats = [t, t]  # never stepped: as helpers.steps records it
    open_until = t + rng.randrange(1, 500) * US if rng.random() < 0.4 else 0
    return LaneRecord(name=name, process_name="tasks", pid=1, native_id=1, auto=False, cpu_ns=0,
                      beats=array("q", beats), ready_ns=start, kind="task",
                      open_until=open_until)  # fmt: skip


@pytest.mark.parametrize("seed", range(100))
def test_fast_and_plain_agree_on_tasks_and_on_runs_cut_short(seed):
    """Rule 9 (tasks) and the run's bounds are written twice too: both must say the same."""
    rng = random.Random(seed)
    records = [random_task(rng, f"task-{i}", rng.randrange(0, 100) * US)
               for i in range(rng.randrange(1, 4))]  # fmt: skip
    threads, gil = random_run(seed)
    if rng.random() < 0.5:
        records += threads
    if rng.random() < 0.3:  # a lane that reached its memory cap
        victim = rng.choice(records)
        victim.truncated_at = int(victim.beats[len(victim.beats) // 2]) + 1
    fast = rules_fast.build_timeline(records, info(gil))
    slow = rules.build_timeline(records, info(gil))
    assert (fast.start, fast.end, fast.notes) == (slow.start, slow.end, slow.notes)
    assert [ln.spans for ln in fast.lanes] == [ln.spans for ln in slow.lanes], f"seed {seed}"


def test_random_records_cover_every_rule():
    """The random records exercise every state, or the agreement above proves little."""
    seen = set()
    for seed in range(300):
        records, gil = random_run(seed)
        tl = rules_fast.build_timeline(records, info(gil))
        seen |= {(s.state, s.inferred) for s in tl.spans()}
    thread_states = set(helpers.states.STATES) - {helpers.AWAITING}  # tasks: tests/test_steps.py
    assert {(st, False) for st in thread_states} <= seen
    assert (RUNNING, True) in seen and (C_CALL, True) in seen and (BLOCKED, True) in seen


@pytest.mark.parametrize("build", [rules.build_timeline, rules_fast.build_timeline])
def test_a_woken_thread_waits_for_the_gil_before_its_call_returns(build):
    """Rule 5: a 10 ms sleep that returns 14 ms later, once the CPU thread that kept the
    GIL lost it: blue for about the sleep, then a switch interval waiting for the GIL."""
    ms = 1000 * US
    cpu_beats = list(range(0, 30 * ms, 50 * US))  # a CPU thread, heartbeats every 50 us
    sleep_start, sleep_end = 1 * ms, 15 * ms  # returned 4 ms late (5 ms switch interval)
    sleeper = LaneRecord(name="sleeper", process_name="p1", pid=1, native_id=2, auto=True,
                         cpu_ns=0, beats=array("q", [sleep_start, sleep_end, sleep_end + 10 * US]),
                         marks=[(sleep_start, sleep_end, BLOCKED, "time.sleep", -1)],
                         requested_ns=0, ready_ns=0)  # fmt: skip
    cpu = LaneRecord(name="cpu", process_name="p1", pid=1, native_id=1, auto=True, cpu_ns=0,
                     beats=array("q", cpu_beats), marks=[], requested_ns=0, ready_ns=0)
    run = RunInfo(kind="threads", python="3.11.0", gil_enabled=True, free_threaded_build=False,
                  switch_interval=0.005, usable_cores=2, cpu_count=2)  # fmt: skip
    lane = build([cpu, sleeper], run).lanes[1]
    blue = [s for s in lane.spans if s.state == BLOCKED]
    amber = [s for s in lane.spans if s.state == helpers.WAITING_GIL and s.start >= sleep_start]
    assert [(s.start, s.end) for s in blue] == [(sleep_start, sleep_end - 5 * ms)]
    assert [(s.start, s.end) for s in amber] == [(sleep_end - 5 * ms, sleep_end)]


@pytest.mark.parametrize("build", [rules.build_timeline, rules_fast.build_timeline])
def test_a_new_thread_is_starting_while_nobody_holds_the_gil(build):
    """Rule 8: the main thread starts a thread and blocks in join(); until the new
    thread's first heartbeat nobody recorded holds the GIL: it is starting, not waiting."""
    main = LaneRecord(name="MainThread", process_name="p1", pid=1, native_id=1, auto=True,
                      cpu_ns=0, beats=array("q", [0, 10 * US, 20 * US, 900 * US]),
                      marks=[(20 * US, 900 * US, BLOCKED, "join()", -1)],
                      requested_ns=0, ready_ns=0)  # fmt: skip
    new = LaneRecord(name="worker", process_name="p1", pid=1, native_id=2, auto=True, cpu_ns=0,
                     beats=array("q", range(400 * US, 880 * US, 20 * US)), marks=[],
                     requested_ns=0, ready_ns=15 * US)  # fmt: skip
    run = RunInfo(kind="threads", python="3.11.0", gil_enabled=True, free_threaded_build=False,
                  switch_interval=0.005, usable_cores=2, cpu_count=2)  # fmt: skip
    lane = build([main, new], run).lanes[1]
    before = [(s.start, s.end, s.state) for s in lane.spans if s.end <= 400 * US]
    assert before[-1][2] == helpers.STARTING and before[-1][1] == 400 * US, before
    assert helpers.WAITING_GIL not in {st for a, b, st in before if a >= 20 * US}, before
