"""helpers.lessons.beyond_the_gil: the GIL's status in words, what it means, the capstone.

The free-threaded paths (no GIL: threads that run Python at the same instant) are
tested on made-up records (tests/records.py): this machine has no free-threaded
Python, so no test here can measure one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import multiprocessing
import os
import subprocess
import sys
import threading
import time

import matplotlib.colors
import pytest

import helpers
from helpers import system, witness
from helpers.lessons import beyond_the_gil as beyond
from helpers.lessons.beyond_the_gil import APPROACHES, IN_TURN, Run, Scenario
from helpers.palette import CHOOSER_COLORS
from helpers.rules_fast import build_timeline
from tests.records import build, every, record
from tests.records import info as records_info

# --- The GIL's status in words ------------------------------------------------------------


@pytest.mark.parametrize("build_ft, on, says", [
    (False, True, "regular build: the GIL is always on"),
    (True, True, "free-threaded build, but the GIL is on now"),
    (True, False, "free-threaded build running without the GIL"),
])  # fmt: skip
def test_gil_status_says_what_the_build_and_the_gil_allow(monkeypatch, build_ft, on, says):
    monkeypatch.setattr(beyond, "free_threaded_build", lambda: build_ft)
    monkeypatch.setattr(beyond, "gil_enabled", lambda: on)
    text = beyond.gil_status()
    assert says in text
    assert ("processes" in text) == (not build_ft)  # a regular build: processes are the road
    assert ("RuntimeWarning" in text) == (build_ft and on)  # what turned it back on


def test_gil_status_of_this_python():
    text = beyond.gil_status()
    assert ("regular build" in text) == (not helpers.free_threaded_build())


# --- Time at the same instant, on made-up timelines ---------------------------------------


def test_threads_without_the_gil_run_at_the_same_instant_and_describe_says_so():
    # A free-threaded build: both threads record heartbeats during the same 10 ms.
    tl = build([record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)],
               gil=False)  # fmt: skip
    assert tl.same_instant_ms() == pytest.approx(10, abs=0.1)
    text = beyond.describe(tl)
    assert text.startswith("No GIL: the threads ran Python at the same instant for 10 ms")


def test_the_same_heartbeats_under_the_gil_never_run_at_the_same_instant():
    tl = build([record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)], gil=True)
    assert tl.same_instant_ms() == 0
    assert beyond.describe(tl).startswith("GIL enabled: the threads took turns")


def test_without_the_gil_threads_that_did_not_overlap_get_a_reason():
    # Free-threaded, but one ran after the other (one core, or a busy machine).
    tl = build([record("a", every(0, 5), tid=1), record("b", every(5.5, 10), tid=2)], gil=False)
    assert tl.same_instant_ms() == 0
    assert "never ran at the same instant" in beyond.describe(tl)
    assert "busy" in beyond.describe(tl)  # records.info() says 2 usable cores


def test_same_instant_counts_two_or_more_lanes_once():
    # Three threads without the GIL: a 0-10, b 2-6, c 4-8 ms: two or more run during 2-8.
    tl = build([record("a", every(0, 10), tid=1), record("b", every(2, 6), tid=2),
                record("c", every(4, 8), tid=3)], gil=False)  # fmt: skip
    assert tl.same_instant_ms() == pytest.approx(6, abs=0.1)


def test_processes_are_described_as_processes():
    apart = build([record("p", every(0, 10), pid=1), record("q", every(0, 10, 7), pid=2)],
                  kind="processes")  # fmt: skip
    assert apart.same_instant_ms() == pytest.approx(10, abs=0.1)
    assert beyond.describe(apart).startswith("2 processes, each with its own GIL: running")
    turns = build([record("p", every(0, 4), pid=1), record("q", every(5, 9), pid=2)],
                  kind="processes")  # fmt: skip
    assert "never ran at the same instant" in beyond.describe(turns)


def test_same_instant_reads_other_states_too():
    tl = build([record("a", every(0, 10), tid=1), record("b", every(0, 10, 7), tid=2)], gil=False)
    assert tl.same_instant_ms(states=(helpers.BLOCKED,)) == 0


def test_a_measured_run_of_threads_under_the_gil_never_runs_at_the_same_instant(no_leftovers):
    if not helpers.gil_enabled():
        pytest.skip("about the GIL")
    run = helpers.threads.start_threads([helpers.workloads.cpu(0.05)] * 2)
    tl = run.wait()
    assert tl.same_instant_ms() < 0.01  # what describe() reads; the heartbeats are the evidence:
    assert witness.intrusions([lane.to_record("this process") for lane in run.lanes]) == 0
    assert "took turns" in beyond.describe(tl)


def test_cpu_seconds_counts_this_process_and_its_ended_children(no_leftovers):
    before = beyond.cpu_seconds()
    burn = "import time\nend = time.process_time() + 0.05\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True, timeout=60)
    assert beyond.cpu_seconds() - before >= 0.03


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_a_run_in_processes_counts_the_workers_cpu(no_leftovers, method):
    # Under forkserver the workers are the fork server's children, not ours (3.14's default).
    run = beyond.run(Scenario("c", "", _burn, _aburn, [(0.05,), (0.05,)]), "processes", method)
    assert run.cpu_s >= 0.08, (method, run)


def _burn(seconds):  # module-level: processes import it by name
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds


async def _aburn(seconds):
    return _burn(seconds)


# --- Running a scenario ---------------------------------------------------------------------

NAPS = Scenario("naps", "4 naps of 30 ms", time.sleep, asyncio.sleep, [(0.03,)] * 4)


@pytest.mark.parametrize("how", [IN_TURN, *APPROACHES])
def test_every_approach_runs_every_job_and_returns_the_results(how, no_leftovers):
    s = Scenario("sums", "", _digest, _adigest, [(b"a",), (b"b",), (b"c",)])
    r = beyond.run(s, how)
    assert r.how == how and r.wall_s > 0 and r.cpu_s >= 0
    assert r.results == tuple(hashlib.sha256(x).digest() for x in (b"a", b"b", b"c"))


def _digest(data):  # module-level: processes import it by name
    return hashlib.sha256(data).digest()


async def _adigest(data):
    return _digest(data)


def test_waits_overlap_in_threads_and_asyncio_but_not_in_turn(no_leftovers):
    in_turn = beyond.run(NAPS, IN_TURN).wall_s
    assert in_turn >= 0.12  # four naps of 30 ms, one after the other: never less
    # Overlapped, they take about one nap. A busy machine can only make a run slower,
    # so the best of three runs is compared with the baseline measured here.
    for how in ("threads", "asyncio"):
        best = min(beyond.run(NAPS, how).wall_s for _ in range(3))
        assert best < 0.6 * in_turn, (how, best, in_turn)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_processes_work_with_every_start_method(method, no_leftovers):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    s = Scenario("sums", "", _digest, _adigest, [(b"a",), (b"b",)])
    r = beyond.run(s, "processes", start_method=method)
    assert r.results == tuple(hashlib.sha256(x).digest() for x in (b"a", b"b"))


def test_processes_are_one_per_usable_core(no_leftovers):
    # Naps long enough (4 x 0.25 s) that the second process has started before the first
    # could take every job, even on a busy machine where starting one takes a while.
    pids = beyond.run(Scenario("pids", "", _pid_after, _apid, [(0.25,)] * 4), "processes").results
    assert len(set(pids)) == min(4, helpers.usable_cores())


def _pid_after(seconds):
    import os

    time.sleep(seconds)
    return os.getpid()


async def _apid(seconds):
    return _pid_after(seconds)


def test_asyncio_runs_in_a_thread_of_its_own_when_a_loop_is_running(no_leftovers):
    async def inside_a_loop():  # like a notebook cell: the kernel's loop is running
        return beyond.run(NAPS, "asyncio")

    r = asyncio.run(inside_a_loop())
    assert r.results == (None,) * 4 and r.wall_s < 0.1


@pytest.mark.parametrize("how", [IN_TURN, *APPROACHES])
def test_a_job_that_raises_raises_here_and_leaves_nothing_running(how, no_leftovers):
    s = Scenario("bad", "", _fail, _afail, [(1,), (2,)])
    with pytest.raises(ZeroDivisionError):
        beyond.run(s, how)


def _fail(x):
    return x / 0


async def _afail(x):
    return _fail(x)


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match="how must be one of"):
        beyond.run(NAPS, "fibers")
    with pytest.raises(ValueError, match="start_method must be one of"):
        beyond.run(NAPS, "processes", start_method="clone")
    with pytest.raises(TypeError, match="async def"):
        Scenario("x", "", time.sleep, time.sleep, [(0.1,)])
    with pytest.raises(ValueError, match="tuples"):
        Scenario("x", "", time.sleep, asyncio.sleep, [0.1])
    with pytest.raises(ValueError, match="work must be one of"):
        beyond.good_picks("magic", cores=2)


def test_measure_all_runs_each_scenario_every_way(no_leftovers):
    results = beyond.measure_all([NAPS])
    assert list(results) == ["naps"] and list(results["naps"]) == [IN_TURN, *APPROACHES]


# --- Judging -----------------------------------------------------------------------------------


def runs(**seconds) -> dict[str, Run]:
    return {how.replace("_", " "): Run(how, s, s, ()) for how, s in seconds.items()}


def test_fastest_keeps_everything_within_the_margin():
    assert beyond.fastest(runs(in_turn=1, threads=0.1, processes=0.5, asyncio=0.115)) == [
        "threads", "asyncio"]  # fmt: skip
    assert beyond.fastest(runs(in_turn=1, threads=0.3, processes=0.1, asyncio=0.3)) == [
        "processes"]  # fmt: skip
    with pytest.raises(ValueError):
        beyond.fastest(runs(in_turn=1))


def test_helps_only_when_the_fastest_beats_in_turn_clearly():
    assert beyond.helps(runs(in_turn=1, threads=0.5, processes=1, asyncio=1))
    assert not beyond.helps(runs(in_turn=1, threads=0.9, processes=1.1, asyncio=1))


def test_verdicts():
    r = runs(in_turn=1, threads=0.1, processes=0.5, asyncio=0.11)
    assert beyond.verdict(r, "threads") == "✓ threads (as fast as asyncio)"
    assert beyond.verdict(r, "processes").startswith("✗ processes: 5.0x slower than threads")
    assert beyond.verdict(r, None) == "(no pick)"
    flat = runs(in_turn=1, threads=1, processes=1.2, asyncio=1)
    assert "no approach beat one job after the other" in beyond.verdict(flat, "threads")


def test_the_table_has_a_row_per_scenario_with_the_fastest():
    results = {"waits": runs(in_turn=0.3, threads=0.03, processes=0.2, asyncio=0.03),
               "python": runs(in_turn=0.2, threads=0.2, processes=0.21, asyncio=0.2)}
    text = beyond.table(results, {"waits": "asyncio"})
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["scenario", "in"]
    assert "threads = asyncio" in lines[1] and "✓ asyncio" in lines[1]
    assert "none helps" in lines[2] and "(no pick)" in lines[2]
    assert "(1.0)" in lines[1]  # cores busy: cpu_s / wall_s


def test_the_table_says_why_nothing_ran_in_parallel():
    one_core = {"python": runs(in_turn=0.2, threads=0.2, processes=0.25, asyncio=0.2)}
    assert "This machine gives you one usable core" in beyond.table(one_core, cores=1)
    quota = beyond.table(one_core, cores=1.0, usable=2)
    assert "A CPU quota holds you to one core's worth of time per 100 ms" in quota
    assert "No run kept more than one core busy" in beyond.table(one_core, cores=2)
    parallel = {"python": {**runs(in_turn=0.2, threads=0.2, asyncio=0.2),
                           "processes": Run("processes", 0.1, 0.19, ())}}  # fmt: skip
    text = beyond.table(parallel, cores=2)
    assert "No run kept" not in text and "one usable core" not in text


def test_the_plot_draws_a_panel_per_scenario_and_frames_the_pick():
    results = {"waits": runs(in_turn=0.3, threads=0.03, processes=0.2, asyncio=0.03)}
    fig = beyond.plot(results, {"waits": "processes"}, {"waits": "10 slow replies"})
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_title(loc="left") == "waits: 10 slow replies"
    widths = [p.get_linewidth() for p in ax.patches]
    assert widths.count(2.5) == 1 and widths[2] == 2.5  # in turn, threads, processes, asyncio
    fastest = matplotlib.colors.to_rgb(CHOOSER_COLORS["fastest"])
    green = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx(fastest, abs=0.01)]
    assert len(green) == 2  # threads and asyncio, equally fast


# --- The reasoning the exercise's check follows -------------------------------------------

WORKS = {"waits": beyond.WAITS, "python": beyond.PYTHON, "hashing": beyond.C_NO_GIL,
         "mix": beyond.WAITS_AND_C}  # fmt: skip
GOOD = {"waits": "asyncio", "python": "processes", "hashing": "threads", "mix": "threads"}


@pytest.mark.parametrize("cores", [1, 2, 8])
@pytest.mark.parametrize("gil", [True, False])
def test_the_solution_fits_on_any_machine(cores, gil):
    assert beyond.check_picks(GOOD, WORKS, cores, gil) == []


def test_picks_that_do_not_fit_get_a_hint_each():
    bad = {"waits": "processes", "python": "threads", "hashing": "asyncio", "mix": "asyncio"}
    problems = beyond.check_picks(bad, WORKS, cores=2)
    assert [p.split(":")[0] for p in problems] == list(WORKS)
    assert all("?" in p for p in problems)  # a question that points the way, not the answer


def test_what_fits_depends_on_the_cores_and_the_gil():
    assert beyond.good_picks(beyond.PYTHON, cores=2)[0] == {"processes"}
    assert beyond.good_picks(beyond.PYTHON, cores=2, gil=False)[0] == {"threads", "processes"}
    assert beyond.good_picks(beyond.PYTHON, cores=1)[0] == set(APPROACHES)  # nothing helps
    assert beyond.good_picks(beyond.WAITS_AND_C, cores=2)[0] == {"threads"}
    assert beyond.good_picks(beyond.WAITS_AND_C, cores=1)[0] == {"threads", "asyncio"}
    assert "processes" not in beyond.good_picks(beyond.WAITS, cores=64)[0]


def test_under_a_quota_of_one_core_the_reason_is_the_quota():
    """Two usable cores, one core's worth of CPU time (Binder, a hub's limit of 1): nothing
    computes in parallel, and the words name the quota, not the cores or another program."""
    fits, why = beyond.good_picks(beyond.PYTHON, cores=1.0, usable=2)
    assert fits == set(APPROACHES)
    assert why.startswith("a CPU quota holds you to one core's worth of time, so computing")
    fits, why = beyond.good_picks(beyond.C_NO_GIL, cores=0.5, usable=4)
    assert fits == {"threads", "asyncio"} and "0.5 cores' worth of time" in why
    assert "one usable core" in beyond.good_picks(beyond.PYTHON, cores=1)[1]
    assert beyond.check_picks({**GOOD, "python": "threads"}, WORKS, 1.0, usable=2) == []
    assert beyond.one_core_reason(1.0, usable=1) == "this machine gives you one usable core"


def with_quota(monkeypatch, quota: float | None, cpus: int = 2) -> None:
    """A machine whose OS lets this process run on ``cpus`` CPUs, under a made-up CPU quota."""
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    else:
        monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(system, "_cgroup_cpuset", lambda root=None: None)
    monkeypatch.setattr(system, "_cgroup_quota", lambda root=None: quota)


def test_the_check_and_the_chooser_agree_under_a_quota(monkeypatch):
    """What issue 21 found: two usable cores under a quota of one core's time, and the check
    demanded processes for Python while the chooser measured that nothing helps."""
    with_quota(monkeypatch, 1.0)
    c = helpers.cores()
    assert (c["usable"], c["cgroup_quota"], c["at_once"]) == (2, 1.0, 1.0)
    threads_for_python = {**GOOD, "python": "threads"}
    assert beyond.check_picks(threads_for_python, WORKS, c["at_once"], usable=c["usable"]) == []
    flat = {"python": runs(in_turn=0.2, threads=0.2, processes=0.21, asyncio=0.2)}
    text = beyond.table(flat, threads_for_python)  # the chooser's table reads cores() itself
    assert "none helps" in text
    assert "A CPU quota holds you to one core's worth of time" in text
    assert "other programs" not in text and "one usable core" not in text
    with_quota(monkeypatch, None)  # no quota: two cores' worth, and the old reasoning
    assert beyond.check_picks(threads_for_python, WORKS, helpers.cores()["at_once"]) != []
    assert "other programs had the others" in beyond.table(flat)


def test_a_quota_is_named_when_processes_did_not_run_at_once():
    quota_info = dataclasses.replace(records_info(kind="processes"), cgroup_quota=1.0)
    turns = build_timeline([record("p", every(0, 4), pid=1), record("q", every(5, 9), pid=2)],
                           quota_info)  # fmt: skip
    assert beyond.describe(turns).endswith("a CPU quota holds you to one core's worth of time.")
    apart = build_timeline([record("p", every(0, 10), pid=1),
                            record("q", every(0, 10, 7), pid=2)], quota_info)  # fmt: skip
    assert "(a CPU quota holds you to one core's worth of time: in parallel only until" in \
        beyond.describe(apart)


def test_missing_or_malformed_picks_are_reported_not_raised():
    assert "dict" in beyond.check_picks(["threads"], WORKS, cores=2)[0]
    problems = beyond.check_picks({"waits": "threads"}, WORKS, cores=2)
    assert len(problems) == 3 and "pick one of" in problems[0]


# --- The widget ----------------------------------------------------------------------------


def test_the_chooser_measures_when_made_and_keeps_the_picks(no_leftovers):
    chooser = beyond.Chooser([NAPS], {"naps": "asyncio", "other": "threads"})
    assert chooser.picks == {"naps": "asyncio"}
    assert list(chooser.results["naps"]) == [IN_TURN, *APPROACHES]
    assert not chooser.button.disabled
    chooser.dropdowns["naps"].value = "threads"
    chooser.measure()
    assert chooser.picks == {"naps": "threads"}


def test_the_chooser_takes_no_pick_for_a_bad_one(no_leftovers):
    before = set(threading.enumerate())
    chooser = beyond.Chooser([NAPS], {"naps": "fibers"})
    assert chooser.picks == {"naps": None}
    assert set(threading.enumerate()) <= before, "a bad pick starts nothing that keeps running"
