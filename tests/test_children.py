"""Processes started inside helpers.recording(): recorded, on one clock, and never a hang.

The learner's own multiprocessing code (Process, Pool, ProcessPoolExecutor), under every
start method; a child that raises, one killed with SIGKILL, one still running when the
block ends; an error or an interrupt inside the block. Nothing is left behind: no
process, no thread, no patched method, no file.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import multiprocessing.pool
import os
import signal
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess

import pytest

import helpers
from helpers import children

pytestmark = pytest.mark.usefixtures("no_leftovers")

START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in mp.get_all_start_methods()]
ORIGINAL_PROCESS_START = BaseProcess.start
ORIGINAL_THREAD_START = threading.Thread.start
ORIGINAL_POOL_ENTRIES = [cls.__dict__[name] for cls, name in children._POOL_ENTRIES]


def count(n):  # CPU work in Python, importable by spawned children
    total = 0
    for i in range(n):
        total += i % 7
    return total


def square(x):
    return x * x


def fail():
    raise ValueError("boom")


def sleep_then_count(seconds):
    time.sleep(seconds)
    return count(10_000)


def with_a_thread():  # a child that starts a thread of its own
    t = threading.Thread(target=count, args=(200_000,), name="helper thread")
    t.start()
    count(200_000)
    t.join()


def everything_put_back():
    assert BaseProcess.start is ORIGINAL_PROCESS_START
    assert threading.Thread.start is ORIGINAL_THREAD_START
    assert [c.__dict__[n] for c, n in children._POOL_ENTRIES] == ORIGINAL_POOL_ENTRIES
    assert children._active is None and helpers.threads._active is None
    assert sys.getprofile() is None
    if sys.version_info >= (3, 12):
        assert all(sys.monitoring.get_tool(i) is None for i in (3, 4))


def groups(tl) -> list[int]:
    """The pids of the lanes, one per group, in the order the picture draws them."""
    return list(dict.fromkeys(lane.pid for lane in tl.lanes))


@pytest.mark.parametrize("method", START_METHODS)
def test_two_processes_draw_three_groups_of_lanes_on_one_clock(method):
    ctx = mp.get_context(method)
    with helpers.recording() as rec:
        procs = [ctx.Process(target=count, args=(300_000,)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
    tl = rec.timeline
    assert groups(tl) == [os.getpid(), procs[0].pid, procs[1].pid], "three groups: us, A, B"
    assert tl.info.kind == "processes" and tl.info.start_method == method
    assert tl.heading() == f"3 processes ({method})"
    for p in procs:
        lane = next(ln for ln in tl.lanes if ln.pid == p.pid)
        assert lane.name == p.name and lane.auto
        assert lane.spans[0].state == helpers.STARTING, "from the moment start() was called"
        stats = next(s for s in tl.stats() if s.pid == p.pid)
        seen = stats.running_ms + stats.inferred_running_ms  # a loop with no calls: inferred
        assert seen > 0.5 * stats.cpu_ms > 0  # against the OS's CPU clock
    # One clock: each child starts after the parent asked, and ends before the join returned.
    caller = tl.lanes[0]
    for lane in tl.lanes[1:]:
        assert caller.spans[0].start <= lane.spans[0].start
        work = [s for s in lane.spans if s.state != helpers.FINISHED]
        assert work[-1].end <= tl.end
    assert not tl.notes
    assert rec._children._folder and not os.path.exists(rec._children._folder), "no file left"
    everything_put_back()


@pytest.mark.parametrize("method", START_METHODS)
def test_a_process_pool_executor_labels_each_task_in_its_workers_lanes(method):
    with helpers.recording() as rec:
        with ProcessPoolExecutor(2, mp_context=mp.get_context(method)) as pool:
            assert list(pool.map(square, range(6), timeout=60)) == [x * x for x in range(6)]
            assert pool.submit(count, 10_000).result(timeout=60) == count(10_000)
    tl = rec.timeline
    workers = [ln for ln in tl.lanes if ln.pid != os.getpid()]
    assert 1 <= len({ln.pid for ln in workers}) <= 2
    labels = [text for ln in workers for _, _, text in ln.labels]
    assert sorted(labels) == ["count"] + ["square"] * 6, labels
    for lane in workers:
        spans = [(s.start, s.end) for s in lane.spans]
        for start, end, _ in lane.labels:  # over the lane's states, inside its life
            assert spans[0][0] < start <= end <= spans[-1][1]
    everything_put_back()


def test_a_pool_that_is_terminated_on_exit_still_sends_its_workers_lanes():
    # `with Pool() as pool:` ends with terminate(): SIGTERM to each worker.
    with helpers.recording() as rec:
        with mp.get_context("fork").Pool(2) as pool:
            assert pool.map(count, [20_000] * 4, chunksize=2) == [count(20_000)] * 4
    tl = rec.timeline
    workers = [ln for ln in tl.lanes if ln.pid != os.getpid()]
    assert len({ln.pid for ln in workers}) == 2, ([ln.name for ln in tl.lanes], tl.notes)
    assert sorted(t for ln in workers for *_, t in ln.labels) == ["count ×2"] * 2
    assert not tl.notes, tl.notes
    everything_put_back()


def test_a_pool_workers_tasks_are_slices_in_the_chrome_trace(tmp_path):
    with helpers.recording() as rec:
        with mp.get_context("fork").Pool(2) as pool:
            assert pool.map(count, [20_000] * 4, chunksize=2) == [count(20_000)] * 4
            pool.apply_async(square, (3,)).get(30)
    tl = rec.timeline
    helpers.save_trace(tl, tmp_path / "pool.json")
    events = json.loads((tmp_path / "pool.json").read_text())["traceEvents"]
    tasks = [e for e in events if e["ph"] == "X" and e["cat"] == "task"]
    assert sorted(e["name"] for e in tasks) == ["count ×2", "count ×2", "square"]
    rows = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    for e in tasks:  # on a row of their own, in the worker's process, named after its lane
        lane = tl.lanes[e["args"]["lane"]]
        assert e["pid"] == lane.pid and rows[e["pid"], e["tid"]] == f"{lane.name}: tasks"
        assert (e["args"]["start_ns"], e["args"]["end_ns"], e["name"]) in lane.labels
        assert e["ts"] == e["args"]["start_ns"] / 1000 and e["dur"] > 0  # microseconds
    assert helpers.load_trace(tmp_path / "pool.json").lanes == tl.lanes, "labels load back"
    everything_put_back()


def exit_3_unless_rearmed():
    # On 3.12+ a recording's re-arming thread runs beside the main thread (automatic.py);
    # a thread just started may take a moment to appear.
    deadline = time.monotonic() + 10
    while sys.version_info >= (3, 12) and len(sys._current_frames()) < 2:
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.01)
    count(20_000)


@pytest.mark.skipif("fork" not in START_METHODS, reason="fork is POSIX only")
def test_a_child_forked_while_another_thread_holds_the_recorders_lock_is_recorded():
    # The re-arming thread holds automatic._users_lock now and then; a fork at that moment
    # gave the child a lock that nobody would ever release: its recording waited for it
    # forever, with SIGTERM held back, so Pool.terminate() hung in join (seen on 3.15).
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with helpers.automatic._users_lock:
            held.set()
            release.wait(30)

    with helpers.recording() as rec:
        holder = threading.Thread(target=hold_the_lock, name="holder")
        holder.start()
        assert held.wait(30)
        p = mp.get_context("fork").Process(target=exit_3_unless_rearmed, name="forked")
        try:
            p.start()
            p.join(30)
            hung = p.exitcode is None
        finally:
            release.set()
            holder.join(30)
            if p.exitcode is None:
                p.kill()
                p.join(30)
    assert not hung, "the forked child never finished: it waited for its parent's lock"
    assert p.exitcode == 0, f"exit code {p.exitcode} (3: no re-arming thread in the child)"
    assert [ln.name for ln in rec.timeline.lanes if ln.pid == p.pid] == ["forked"]
    everything_put_back()


def test_a_childs_own_threads_are_recorded_in_its_group():
    with helpers.recording() as rec:
        p = mp.get_context("spawn").Process(target=with_a_thread, name="worker")
        p.start()
        p.join(60)
    lanes = [ln for ln in rec.timeline.lanes if ln.pid == p.pid]
    assert [ln.name for ln in lanes] == ["worker", "helper thread"]
    assert all(ln.process_name == f"process {p.pid} (worker)" for ln in lanes)
    assert rec.timeline.heading() == "2 processes, 3 threads (spawn)"


@pytest.mark.parametrize("method", START_METHODS)
def test_a_child_that_raises_keeps_its_lanes_and_is_named(method):
    with helpers.recording() as rec:
        p = mp.get_context(method).Process(target=fail, name="failing")
        p.start()
        p.join(60)
    assert p.exitcode == 1
    assert "failing" in [ln.name for ln in rec.timeline.lanes]
    assert any("failing" in n and "raised ValueError: boom" in n for n in rec.timeline.notes)
    everything_put_back()


def test_a_killed_child_is_named_and_the_others_keep_their_lanes():
    ctx = mp.get_context("fork")
    t0 = time.monotonic()
    with helpers.recording() as rec:
        victim = ctx.Process(target=time.sleep, args=(30,), name="victim")
        other = ctx.Process(target=count, args=(100_000,), name="other")
        victim.start()
        other.start()
        time.sleep(0.2)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        other.join(60)
    assert time.monotonic() - t0 < 20
    names = [ln.name for ln in rec.timeline.lanes]
    assert "other" in names and "victim" not in names
    assert any("victim" in n and "killed by SIGKILL" in n for n in rec.timeline.notes)
    everything_put_back()


def test_a_child_still_running_when_the_block_ends_is_named_and_not_waited_for():
    ctx = mp.get_context("fork")
    t0 = time.monotonic()
    with pytest.warns(RuntimeWarning, match="slow.*still running"):
        with helpers.recording() as rec:
            slow = ctx.Process(target=time.sleep, args=(30,), name="slow")
            quick = ctx.Process(target=count, args=(10_000,), name="quick")
            slow.start()
            quick.start()
            quick.join(60)
    waited = time.monotonic() - t0
    try:
        assert slow.is_alive(), "the block does not stop a child it was not asked to"
        assert waited < children.CHILD_GRACE + 10
        assert "quick" in [ln.name for ln in rec.timeline.lanes]
        assert any("slow" in n and "Still running" in n for n in rec.timeline.notes)
        fig = rec.timeline.plot()
        assert "Still running" in fig.axes[0].get_title(loc="left")  # in the picture's title
    finally:
        slow.terminate()
        slow.join(10)
    everything_put_back()


def test_an_error_inside_the_block_stops_its_children_and_keeps_their_lanes():
    t0 = time.monotonic()
    with pytest.raises(ZeroDivisionError):
        with helpers.recording():
            p = mp.get_context("fork").Process(target=sleep_then_count, args=(30,))
            p.start()
            raise ZeroDivisionError("an error in the learner's code")
    assert time.monotonic() - t0 < 10
    p.join(10)
    assert p.exitcode == -signal.SIGTERM, "terminated: it ends as the parent asked"
    everything_put_back()


def test_an_interrupt_inside_the_block_leaves_nothing_behind():
    # What the kernel's Stop does: a real SIGINT, which also wakes a blocked join().
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with helpers.recording():
            p = mp.get_context("spawn").Process(target=sleep_then_count, args=(30,))
            p.start()
            timer.start()
            p.join(60)
    timer.join()
    assert time.monotonic() - t0 < 20
    p.join(10)
    assert p.exitcode == -signal.SIGTERM
    everything_put_back()


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_target_defined_in_a_notebook_gets_the_clear_error(method, monkeypatch):
    notebook = types.ModuleType("__main__")  # a notebook's __main__ has no __file__
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    def cube(x):
        return x**3

    cube.__module__ = "__main__"
    with pytest.raises(ValueError, match="defined in this notebook.*define the function in a mod"):
        with helpers.recording():
            mp.get_context(method).Process(target=cube, args=(3,)).start()
    everything_put_back()


def notebook_function(monkeypatch):
    """A function as a notebook defines it: in a __main__ that has no file to import.

    It pickles here (by name, __main__.cube); a spawned child cannot find it.
    """
    notebook = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    def cube(x):
        return x**3

    cube.__module__, cube.__qualname__ = "__main__", "cube"
    notebook.cube = cube
    return cube


NOTEBOOK_ERROR = "'cube' is defined in this notebook.*define the function in a module"
JOB_ERROR = "the function given to the pool " + NOTEBOOK_ERROR


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_pools_job_defined_in_a_notebook_gets_the_clear_error_not_a_hang(method, monkeypatch):
    # Unrecorded, a spawned worker cannot unpickle such a job: it dies, the Pool starts
    # another and waits forever for the job's result; a ProcessPoolExecutor raises
    # BrokenProcessPool ("terminated abruptly"). Here: the course's error, at the call.
    cube = notebook_function(monkeypatch)
    ctx = mp.get_context(method)
    t0 = time.monotonic()
    with helpers.recording():
        with ctx.Pool(2) as pool:
            for send in (lambda: pool.map_async(cube, range(4)).get(30),
                         lambda: pool.apply_async(cube, (2,)).get(30),
                         lambda: list(pool.imap_unordered(cube, range(4))),
                         lambda: pool.starmap(cube, [(1,), (2,)])):  # fmt: skip
                with pytest.raises(ValueError, match=JOB_ERROR):
                    send()
            assert pool.map(square, range(4)) == [0, 1, 4, 9], "the pool still works"
        with ProcessPoolExecutor(2, mp_context=ctx) as executor:
            for send in (lambda: list(executor.map(cube, range(4), timeout=30)),
                         lambda: executor.submit(cube, 2).result(30)):  # fmt: skip
                with pytest.raises(ValueError, match=JOB_ERROR):
                    send()  # not BrokenProcessPool: no worker died
            assert executor.submit(square, 3).result(30) == 9, "the executor still works"
    assert time.monotonic() - t0 < 60
    everything_put_back()


@pytest.mark.timeout(120)
def test_a_pools_initializer_defined_in_a_notebook_gets_the_clear_error(monkeypatch):
    # Unrecorded, every spawned worker dies unpickling it, and the Pool starts new ones forever.
    cube = notebook_function(monkeypatch)
    ctx = mp.get_context("spawn")
    with pytest.raises(ValueError, match="pool's initializer " + NOTEBOOK_ERROR):
        with helpers.recording():
            with ctx.Pool(2, initializer=cube, initargs=(1,)) as pool:
                pool.apply_async(square, (2,)).get(30)
    with pytest.raises(ValueError, match="pool's initializer " + NOTEBOOK_ERROR):
        with helpers.recording():
            with ProcessPoolExecutor(2, mp_context=ctx, initializer=cube, initargs=(1,)) as ex:
                ex.submit(square, 2).result(30)
    everything_put_back()


def test_a_thread_pool_is_not_checked():
    with helpers.recording():
        with mp.pool.ThreadPool(2) as pool:
            assert pool.map(lambda x: -x, range(3)) == [0, -1, -2]  # a lambda: nothing pickled
    everything_put_back()


def test_a_spawned_child_imports_no_numpy_asyncio_or_matplotlib_to_record():
    # What a spawned child imports to run ChildRun: it starts before it records, and each
    # of a pool's workers pays for it (make bench: a pool of four, recorded vs unrecorded).
    code = ("import sys, helpers.children; print(sorted({m.split('.')[0] for m in sys.modules} &"
            " {'numpy', 'asyncio', 'matplotlib', 'ipywidgets', 'pytest'}))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()  # fmt: skip
    assert out == "[]", f"a spawned child imports {out}"


def test_recording_without_processes_is_unchanged():
    with helpers.recording() as rec:
        t = threading.Thread(target=count, args=(10_000,))
        t.start()
        t.join()
    assert rec.timeline.info.kind == "threads" and rec.timeline.heading() == "2 threads"
    assert rec._children._folder is None, "no folder for records unless a process starts"
    everything_put_back()


def test_run_processes_inside_a_recording_keeps_its_own_lanes():
    with helpers.recording() as rec:
        tl = helpers.run_processes([helpers.workloads.cpu(0.05)], start_method="fork")
    assert [ln.name for ln in tl.lanes] == ["cpu-1"]
    assert rec.timeline.info.kind == "threads", "run_processes records its processes itself"
    everything_put_back()


@pytest.mark.parametrize("method", START_METHODS)
def test_the_parent_waiting_in_join_is_labelled_process_join(method):
    # join() waits in select's poll, deep in multiprocessing: named as the learner wrote it.
    with helpers.recording() as rec:
        p = mp.get_context(method).Process(target=time.sleep, args=(0.1,))
        p.start()
        p.join(60)
    waits = [s for s in rec.timeline.lanes[0].spans if s.state == helpers.BLOCKED]
    assert waits and waits[-1].label == "Process.join", [s.label for s in waits]
    assert waits[-1].duration > 50e6
    everything_put_back()
