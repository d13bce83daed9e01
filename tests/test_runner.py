"""Runners: threads and processes start together, always clean up, and explain bad input."""

from __future__ import annotations

import _thread
import functools
import multiprocessing as mp
import os
import sys
import threading
import time
import types

import pytest

import helpers
from helpers import witness
from helpers import workloads as w
from tests.test_gil_invariants import overlap_ns

pytestmark = pytest.mark.usefixtures("no_leftovers")

START_METHODS = [m for m in ("spawn", "forkserver", "fork") if m in mp.get_all_start_methods()]


def divide_by_zero():  # a task that fails, importable by spawned children
    return 1 / 0


def busy_python():  # automatically recorded: makes calls, so it can be stopped
    def step():
        return sum(i * i for i in range(50))

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        step()


@pytest.mark.parametrize("start_method", START_METHODS)
def test_processes_run_under_every_start_method(start_method):
    tl = helpers.run_processes([w.cpu(0.1), w.sleep(0.1)], start_method=start_method)
    assert tl.info.kind == "processes" and tl.info.start_method == start_method
    pids = {lane.pid for lane in tl.lanes}
    assert len(pids) == 2 and os.getpid() not in pids
    cpu, sleep = tl.stats()
    # Against the OS's CPU clock, not the calibration (which a busy machine can skew):
    assert cpu.running_ms > 0.8 * cpu.cpu_ms > 0 and sleep.blocked_ms > 50
    assert sleep.cpu_ms < 0.1 * sleep.blocked_ms  # the OS agrees: it used no core meanwhile


@pytest.mark.skipif(helpers.usable_cores() < 2, reason="needs two usable cores")
def test_two_cpu_processes_overlap_for_most_of_their_run(realtime):
    tl = helpers.run_processes([w.cpu(0.4), w.cpu(0.4)], start_method="fork")
    a, b = (tl.spans(helpers.RUNNING, lane=ln.name) for ln in tl.lanes)
    shorter = min(sum(s.duration for s in a), sum(s.duration for s in b))
    print(f"running at the same instant for {overlap_ns(a, b) / shorter:.0%} of the shorter run")
    assert overlap_ns(a, b) > 0.5 * shorter
    assert tl.info.usable_cores >= 2


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_with_one_usable_core_processes_take_turns():
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})  # children inherit it
    try:
        tl = helpers.run_processes([w.cpu(0.3), w.cpu(0.3)], start_method="fork")
    finally:
        os.sched_setaffinity(0, before)
    assert tl.info.usable_cores == 1
    a, b = (tl.spans(helpers.RUNNING, lane=ln.name) for ln in tl.lanes)
    shorter = min(sum(s.duration for s in a), sum(s.duration for s in b))
    assert overlap_ns(a, b) < 0.1 * shorter  # the OS gives the one core to one at a time
    assert all(s.waiting_cpu_ms > 50 for s in tl.stats())  # and each waits for it


def test_a_failing_task_stops_the_other_threads_and_names_the_task():
    t0 = time.monotonic()
    raised = "'divide_by_zero-2' raised ZeroDivisionError"
    with pytest.raises(helpers.tasks.TaskError, match=raised) as e:
        helpers.run_threads([w.cpu(20), divide_by_zero, busy_python, w.sleep(20)])
    assert time.monotonic() - t0 < 5  # nobody ran to the end
    assert e.value.task_name == "divide_by_zero-2"
    assert isinstance(e.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_failing_task_stops_the_other_processes(start_method):
    t0 = time.monotonic()
    with pytest.raises(helpers.tasks.TaskError, match="divide_by_zero-2.*ZeroDivisionError"):
        helpers.run_processes([w.cpu(20), divide_by_zero], start_method=start_method)
    assert time.monotonic() - t0 < 10


def interrupt_soon(seconds=0.3):
    timer = threading.Timer(seconds, _thread.interrupt_main)  # what the kernel's Stop does
    timer.start()
    return timer


@pytest.mark.parametrize(
    "tasks", [[w.cpu(20), w.sleep(20)], [busy_python]], ids=["workloads", "auto"]
)
def test_an_interrupt_stops_every_thread(tasks):
    timer = interrupt_soon()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        helpers.run_threads(tasks)
    timer.join()
    assert time.monotonic() - t0 < 5


def test_an_interrupt_stops_every_process():
    timer = interrupt_soon(1.0)
    with pytest.raises(KeyboardInterrupt):
        helpers.run_processes([w.cpu(20), w.cpu(20)], start_method="fork")
    timer.join()


def test_the_timeout_stops_a_run():
    with pytest.raises(TimeoutError, match="timeout=0.3"):
        helpers.run_threads([w.cpu(20)], timeout=0.3)
    with pytest.raises(TimeoutError, match="timeout=0.5"):
        helpers.run_processes([w.sleep(20)], start_method="fork", timeout=0.5)


def test_the_switch_interval_is_set_for_the_run_and_restored():
    before = sys.getswitchinterval()
    tl = helpers.run_threads([w.cpu(0.05)], switch_interval=0.002)
    assert tl.info.switch_interval == 0.002 and sys.getswitchinterval() == before


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: helpers.run_threads([]), ValueError, "no tasks"),
        (lambda: helpers.run_threads([42]), TypeError, "task 0 is a int, which cannot be run"),
        (lambda: helpers.run_threads("cpu"), TypeError, "must be a list"),
        (lambda: helpers.run_threads([w.cpu(0.1)] * 33), ValueError, "cap of 32"),
        (lambda: helpers.run_processes([w.cpu(0.1)] * 17), ValueError, "cap of 16"),
        (lambda: w.by_name("gpu"), ValueError, "unknown workload 'gpu'; choose one of: cpu"),
        (lambda: w.cpu(0), ValueError, "more than 0"),
        (lambda: w.sleep(-1), ValueError, "more than 0"),
        (lambda: w.io(1000), ValueError, "at most 60"),
        (lambda: w.cpu("1"), TypeError, "must be a number"),
        (lambda: helpers.run_threads([w.cpu(0.1)], timeout=0), ValueError, "timeout"),
        (lambda: helpers.run_threads([w.cpu(0.1)], switch_interval=5), ValueError, "seconds"),
        (lambda: helpers.run_processes([w.cpu(0.1)], start_method="thread"), ValueError,
         "not available"),
        (lambda: helpers.run_processes([lambda: 1], start_method="spawn"), ValueError,
         "cannot be sent to another process.*define the function at the top level of a module"),
        (lambda: helpers.run_processes([w.cpu(0.1)], switch_interval=-1), ValueError,
         "switch_interval is in seconds"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    threads = threading.active_count()
    with pytest.raises(error, match=message):
        call()
    assert threading.active_count() == threads


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_notebook_function_sent_to_a_spawned_process_says_to_use_a_module(
    start_method, monkeypatch
):
    notebook = types.ModuleType("__main__")  # a notebook's __main__ has no __file__
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    def task():
        pass

    task.__module__ = "__main__"
    with pytest.raises(ValueError, match="defined in this notebook.*define the function in a mod"):
        helpers.run_processes([task], start_method=start_method)


def test_any_callable_is_recorded_automatically():
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def task():
        fib(18)
        time.sleep(0.05)
        fib(18)

    tl = helpers.run_threads([task, functools.partial(time.sleep, 0.05)])
    lane = tl.lane("task-1")
    assert lane.auto
    assert tl.stats()[0].running_ms > 1
    blocked = tl.spans(helpers.BLOCKED, lane="task-1")  # its CPU time says it waited
    assert any(s.label == "time.sleep" and s.duration > 40e6 for s in blocked)
    assert tl.lanes[1].name == "sleep-2"
    # Recording is switched off afterwards.
    if sys.version_info >= (3, 12):
        assert all(sys.monitoring.get_tool(i) is None for i in (3, 4))
    assert sys.getprofile() is None


def test_automatic_recording_in_a_process():
    tl = helpers.run_processes([busy_python_briefly], start_method="spawn")
    stats = tl.stats()[0]
    # The child's own CPU clock says it computed for 50 ms; the recording must
    # show most of that as Python holding the GIL (running, or in a C call such
    # as sum() that keeps it), whatever the speed of the machine.
    assert tl.lanes[0].auto and stats.cpu_ms >= 45, stats
    assert stats.running_ms + stats.c_call_ms > 0.6 * stats.cpu_ms, stats


def busy_python_briefly():
    start = time.thread_time()
    while time.thread_time() - start < 0.05:  # 50 ms of CPU, on any machine
        sum(i * i for i in range(500))


def test_start_threads_records_the_caller_and_returns_at_once():
    run = helpers.threads.start_threads([w.cpu(0.3)], record_caller=True)
    assert not run.done()
    while not run.done():  # the caller is free: it runs Python meanwhile
        sum(range(1000))
        time.sleep(0.001)
    tl = run.wait()
    caller = tl.lanes[-1]
    assert caller.name == "MainThread (caller)" and caller.auto
    assert caller.native_id == threading.get_native_id()
    cpu = tl.spans(helpers.RUNNING, lane="cpu-1")
    me = tl.spans(helpers.RUNNING, lane=caller.name)
    assert len(me) > 5  # the caller got the GIL again and again during the run
    if helpers.gil_enabled():  # checked on the heartbeats, not on spans rule 7 keeps apart
        assert witness.intrusions([ln.to_record("this") for ln in [*run.lanes, run._caller]]) == 0
        assert overlap_ns(cpu, me) == 0
    # After the run the caller is not recorded any more.
    if sys.version_info >= (3, 12):
        assert all(sys.monitoring.get_tool(i) is None for i in (3, 4))
    assert sys.getprofile() is None
