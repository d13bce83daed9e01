"""One test for each bug a learner met in the engine's first version (issue 6).

Each of these failed before the fix; they keep the bugs from coming back.
"""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import time

import pytest

import helpers
from helpers import processes, witness
from helpers import workloads as w
from tests.test_gil_invariants import overlap_ns

pytestmark = pytest.mark.usefixtures("no_leftovers")


def test_helpers_plot_can_be_called_again_and_after_tl_plot():
    tl = helpers.run_threads([w.cpu(0.02)])
    tl.plot()  # imports the picture's module, which once replaced helpers.plot
    helpers.plot(tl)
    helpers.plot(tl)
    assert callable(helpers.plot)


def test_start_threads_without_wait_restores_the_switch_interval():
    before = sys.getswitchinterval()
    run = helpers.threads.start_threads([w.cpu(0.05)], switch_interval=0.001)
    assert sys.getswitchinterval() == 0.001
    deadline = time.monotonic() + 10
    while sys.getswitchinterval() != before and time.monotonic() < deadline:
        time.sleep(0.01)  # nobody calls run.wait(): the last worker puts it back
    assert sys.getswitchinterval() == before
    assert run.done()
    run.wait()


def test_a_with_block_stops_and_restores_on_an_error():
    before = sys.getswitchinterval()
    with pytest.raises(ZeroDivisionError):
        with helpers.threads.start_threads([w.cpu(5)], switch_interval=0.002, record_caller=True):
            raise ZeroDivisionError
    assert sys.getswitchinterval() == before and sys.getprofile() is None


def test_run_processes_checks_the_switch_interval_like_run_threads():
    for run in (helpers.run_threads, helpers.run_processes):
        with pytest.raises(ValueError, match="switch_interval is in seconds"):
            run([w.cpu(0.05)], switch_interval=-1)


def test_a_child_that_was_stopped_gives_a_clear_error():
    receive, send = mp.Pipe(duplex=False)
    send.send(("stopped", None))
    proc = mp.Process(name="slow-1")
    with pytest.raises(helpers.tasks.TaskError, match="gave up waiting for the other processes"):
        processes._collect([proc], [receive], {}, timeout=5)
    receive.close()
    send.close()


def test_the_callers_lane_has_its_cpu_time():
    run = helpers.threads.start_threads([w.cpu(0.2)], record_caller=True)
    t0 = time.thread_time()
    while not run.done():
        sum(range(10_000))  # the caller computes meanwhile
    spent_ms = (time.thread_time() - t0) * 1000
    tl = run.wait()
    caller = tl.stats()[-1]
    print(f"caller's CPU: {caller.cpu_ms:.1f} ms (thread_time says {spent_ms:.1f} ms)")
    assert caller.cpu_ms > 0.5 * spent_ms > 0


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_a_lambda_runs_in_a_forked_process():
    tl = helpers.run_processes([lambda: sum(range(10**5))], start_method="fork")
    assert tl.lanes[0].auto
    with pytest.raises(ValueError, match="define the function"):
        helpers.run_processes([lambda: 1], start_method="spawn")


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_loop():
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        fib(15)
        x = 0
        for i in range(20_000):  # about a millisecond with no call: nothing is recorded
            x += i


def test_two_automatically_recorded_threads_never_run_at_once():
    for _ in range(3):
        run = helpers.threads.start_threads([fib_loop, fib_loop])
        tl = run.wait()
        a, b = (tl.spans(helpers.RUNNING, lane=ln.name) for ln in tl.lanes)
        found = witness.intrusions([ln.to_record("this process") for ln in run.lanes])
        print(f"overlap {overlap_ns(a, b)} ns, inferred running "
              f"{sum(s.duration for s in a + b if s.inferred) / 1e6:.1f} ms, "
              f"heartbeats between two close ones of the other thread: {found}")  # fmt: skip
        # The spans are kept apart by rule 7 (inferred running included); the heartbeats
        # that the automatic recorder took are the evidence, and no one holds another's.
        assert overlap_ns(a, b) == 0 and found == 0


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize("option", ["--out", "--png"])
def test_the_command_line_checks_paths_before_running(tmp_path, option):
    args = ["record", "--workload", "cpu", "--seconds", "30", "--out", str(tmp_path / "t.json")]
    args += [option, "/no/such/dir/t.json"]
    t0 = time.monotonic()
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 2 and "does not exist" in out.stderr
    assert "Traceback" not in out.stderr
    assert time.monotonic() - t0 < 20  # it did not run the 30 s recording first


@pytest.mark.parametrize("value", ["0", "-1", "2000"])
def test_the_command_line_rejects_a_switch_interval_out_of_range(tmp_path, value):
    out = run_cli("record", "--workload", "cpu", "--switch-interval", value,
                  "--out", str(tmp_path / "t.json"), cwd=tmp_path)  # fmt: skip
    assert out.returncode == 2 and "more than 0 and at most 1000" in out.stderr
