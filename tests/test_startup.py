"""helpers.lessons.script_runner: scripts run in a fresh Python, never outlive their
timeout, and their errors are trimmed to what teaches. Plus the facts notebook 13 teaches,
on this Python.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

import helpers
from helpers.lessons import script_runner

pytestmark = pytest.mark.usefixtures("no_leftovers")

NO_GUARD = """\
import multiprocessing

def work():
    print("child: work() runs in module", repr(__name__))

print("top of the file, in module", repr(__name__))
spawn = multiprocessing.get_context("spawn")
p = spawn.Process(target=work)
p.start()
p.join(timeout=30)
print("the child's exit code:", p.exitcode)
"""
GUARDED = """\
import multiprocessing

def work():
    print("child: work() runs in module", repr(__name__))

print("top of the file, in module", repr(__name__))
if __name__ == "__main__":
    spawn = multiprocessing.get_context("spawn")
    p = spawn.Process(target=work)
    p.start()
    p.join(timeout=30)
    print("the child's exit code:", p.exitcode)
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped (zombies use no CPU and hold nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_a_script_runs_in_a_fresh_python_in_its_own_folder(tmp_path):
    path = write(tmp_path, "hello.py", """\
        import os, sys
        print(__name__, os.getcwd(), sys.executable)
        sys.exit(3)
    """)
    run = script_runner.run_script(path, timeout=60)
    name, cwd, exe = run.stdout.split()
    assert (name, Path(cwd), exe) == ("__main__", tmp_path.resolve(), sys.executable)
    assert run.returncode == 3 and not run.ok and not run.timed_out and run.seconds > 0


def test_output_of_script_and_child_keeps_its_order(tmp_path):
    run = script_runner.run_script(write(tmp_path, "s.py", GUARDED), timeout=60)
    assert run.ok, run.stderr
    assert run.stdout.splitlines() == [
        "top of the file, in module '__main__'",
        "top of the file, in module '__mp_main__'",  # the child runs the file again
        "child: work() runs in module '__mp_main__'",
        "the child's exit code: 0",
    ]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the grandchild")
def test_a_script_and_what_it_started_are_killed_at_the_timeout(tmp_path):
    pid_file = tmp_path / "child.pid"
    path = write(tmp_path, "hang.py", f"""\
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(120)
    """)
    t0 = time.monotonic()
    run = script_runner.run_script(path, timeout=3)
    assert run.timed_out and run.returncode is None and not run.ok
    assert time.monotonic() - t0 < 30
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "the script's own child outlived the timeout"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the grandchild")
def test_a_process_left_behind_by_a_script_that_ended_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    path = write(tmp_path, "orphan.py", f"""\
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open({str(pid_file)!r}, "w").write(str(child.pid))
    """)
    run = script_runner.run_script(path, timeout=60)
    assert run.ok, run.stderr
    orphan = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(orphan), "a process the script started outlived it"


def test_bad_input_gets_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="write it first"):
        script_runner.run_script(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="timeout must be more than 0"):
        script_runner.run_script(write(tmp_path, "a.py", "pass"), timeout=0)
    with pytest.raises(ValueError, match="paragraphs must be at least 1"):
        script_runner.error_summary("", paragraphs=0)


def test_the_guardless_script_fails_under_spawn_and_the_summary_says_why(tmp_path):
    path = write(tmp_path, "no_guard.py", NO_GUARD)
    run = script_runner.run_script(path, timeout=60)
    assert run.stdout.count("top of the file") == 2 and "exit code: 1" in run.stdout
    summary = script_runner.error_summary(run.stderr, script=path)
    lines = summary.splitlines()
    assert lines[0] == "no_guard.py, line 9: p.start()"
    assert lines[1] == "RuntimeError:"
    assert "bootstrapping phase" in summary and "if __name__ == '__main__':" in summary
    assert "spawn.py" not in summary and "^" not in summary  # no stdlib frames, no carets
    assert "freeze_support() line can be omitted" not in summary  # the 4th paragraph is cut
    short = script_runner.error_summary(run.stderr, script=path, paragraphs=1)
    assert short.endswith("bootstrapping phase.") and "probably" not in short


def test_the_summary_keeps_the_first_error_and_the_scripts_lines():
    stderr = textwrap.dedent("""\
        Traceback (most recent call last):
          File "/x/ex.py", line 12, in <module>
            print(total(range(100)))
                  ^^^^^^^^^^^^^^^^^
          File "/x/ex.py", line 9, in total
            return sum(pool.map(square, numbers))
          File "/usr/lib/python3/pool.py", line 5, in map
            raise KeyError(x)
        KeyError: 'first'

        The above exception was the direct cause of the following exception:

        Traceback (most recent call last):
          File "/x/ex.py", line 3, in <module>
        ValueError: second
    """)
    assert script_runner.error_summary(stderr, script="/x/ex.py") == (
        "ex.py, line 12: print(total(range(100)))\n"
        "ex.py, line 9: return sum(pool.map(square, numbers))\n"
        "KeyError: 'first'"
    )
    assert script_runner.error_summary(stderr) == "KeyError: 'first'"  # no script: no lines of it
    assert script_runner.error_summary("just a warning\n") == ""


def test_the_summary_of_a_syntax_error_points_at_the_line(tmp_path):
    path = write(tmp_path, "typo.py", "print('a')\nif True:\nprint('b')\n")
    run = script_runner.run_script(path, timeout=60)
    assert run.returncode == 1 and run.stdout == ""  # nothing ran
    lines = script_runner.error_summary(run.stderr, script=path).splitlines()
    assert lines[0] == "typo.py, line 3: print('b')"
    assert lines[1].startswith("IndentationError: ") and len(lines) == 2


def test_the_summary_reads_coloured_tracebacks():
    """Python 3.13+ colours tracebacks when FORCE_COLOR is set, as a Jupyter kernel sets it."""
    stderr = ('Traceback (most recent call last):\n'
              '  File \x1b[35m"/x/a.py"\x1b[0m, line \x1b[35m2\x1b[0m, in \x1b[35m<module>\x1b[0m\n'
              '    \x1b[31mf\x1b[0m\x1b[1;31m()\x1b[0m\n'
              '\x1b[1;35mValueError\x1b[0m: \x1b[35mno good\x1b[0m\n')
    summary = script_runner.error_summary(stderr, script="/x/a.py")
    assert summary == "a.py, line 2: f()\nValueError: no good"


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_partial_of_a_notebook_function_is_refused_before_anything_starts(
    start_method, monkeypatch
):
    """helpers.processes: partial(f, ...) is sent as f, by name: f must be importable."""
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method} here")
    notebook = types.ModuleType("__main__")  # a notebook's __main__ has no __file__
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    def cube(x):
        return x * x * x

    cube.__module__ = "__main__"
    with pytest.raises(ValueError, match="defined in this notebook.*define the function in a mod"):
        helpers.run_processes([functools.partial(cube, 3)], start_method=start_method)
