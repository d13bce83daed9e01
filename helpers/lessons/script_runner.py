"""Run a script in a fresh Python, as in a terminal, and read what went wrong (notebook 13).

What a spawned child does with your script (it runs the file again, under the name
``__mp_main__``) shows best in a script of its own. No script outlives its
``timeout``, and neither does any process it started (see ``run_script``).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from helpers.lessons import script_runner
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "hello.py"
    ...     _ = path.write_text("print('hello from', __name__)")
    ...     run = script_runner.run_script(path, timeout=30)
    >>> run.ok, run.stdout
    (True, 'hello from __main__\\n')
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from ..tasks import check_timeout

__all__ = ["ScriptRun", "error_summary", "run_script"]

POSIX = os.name == "posix"


@dataclass(frozen=True)
class ScriptRun:
    """What a script did: its exit code, what it printed, how long it took."""

    returncode: int | None  # None: still running when its time was up, so it was killed
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def ok(self) -> bool:
        """It ended by itself, with exit code 0."""
        return self.returncode == 0


def run_script(path: str | os.PathLike, *, timeout: float = 60.0) -> ScriptRun:
    """Run a Python file in a fresh interpreter, in its own folder; return what it did.

    The interpreter is this one (``sys.executable``), run with ``-u`` so that
    lines printed by the script and by the processes it starts arrive in the
    order they were printed. If the script, or a process it started, is still
    running after ``timeout`` seconds, all of them are killed and ``returncode``
    is None: on Linux and macOS the script runs in a process group of its own (a new
    session), and when time is up the whole group is killed, as is anything of the group
    still running after the script ended; on Windows, ``taskkill /T`` ends the tree.
    When a script failed, ``error_summary(run.stderr, script=path)`` keeps what teaches:
    the line of the script that failed and the error message, without the frames inside
    Python's own modules.
    """
    check_timeout(timeout)
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no script at {path}: write it first (Path.write_text)")
    if POSIX:
        own_group = {"start_new_session": True}  # the script leads a new process group
    else:
        own_group = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-u", str(path)], cwd=path.parent, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        errors="replace", **own_group,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        out, err = proc.communicate()  # every writer is gone now: this returns at once
        code = None
    except BaseException:  # an interrupted kernel, for instance: leave nothing running
        _kill_tree(proc)
        proc.communicate()
        raise
    finally:
        if POSIX:
            _kill_group_leftovers(proc.pid)
    return ScriptRun(code, out, err, time.perf_counter() - t0)


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill the script and every process it started."""
    if POSIX:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group's id is the script's pid
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
    else:
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                       capture_output=True, timeout=30, check=False)  # fmt: skip
    proc.kill()


def _kill_group_leftovers(pgid: int) -> None:
    """A process the script started may outlive it (an orphaned worker): end it too."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nobody left in the group: the usual case


TRACEBACK = "Traceback (most recent call last):"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours: 3.13+ in a Jupyter kernel (FORCE_COLOR)
FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+)')
MARKERS = re.compile(r"^\s*[~^]+[~^\s]*$")  # 3.11+ underlines the failing expression


def error_summary(stderr: str, *, script: str | os.PathLike | None = None,
                  paragraphs: int = 3) -> str:  # fmt: skip
    """The first error in ``stderr``, trimmed to what teaches; "" if there is none.

    The first, because that is where the trouble began (a later one is often its
    consequence). Kept: the lines of ``script`` that were running (if it is given
    and in the traceback; outermost first), the exception's type, and the first
    ``paragraphs`` paragraphs of its message. Dropped: the frames inside Python's
    own modules.

        >>> err = 'Traceback (most recent call last):\\n  File "a.py", line 2, in <module>\\n'
        >>> err += '    f()\\nValueError: no good\\n'
        >>> print(error_summary(err, script="a.py"))
        a.py, line 2: f()
        ValueError: no good
    """
    if paragraphs < 1:
        raise ValueError(f"paragraphs must be at least 1, got {paragraphs}")
    lines = ANSI.sub("", stderr).splitlines()
    if TRACEBACK in lines:
        i = lines.index(TRACEBACK) + 1
    else:  # a SyntaxError is reported before anything runs, without a "Traceback" line
        i = next((n for n, line in enumerate(lines) if FRAME.match(line)), None)
        if i is None:
            return ""
    where = []  # the script's own frames, outermost first
    while i < len(lines) and (lines[i][:1].isspace() or not lines[i]):
        frame = FRAME.match(lines[i])
        if frame and script is not None and _same_file(frame["file"], script):
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if MARKERS.match(code) or code.startswith('File "'):
                code = ""
            place = f"{Path(frame['file']).name}, line {frame['line']}"
            where.append(f"{place}: {code}" if code else place)
        i += 1
    if i == len(lines):
        return "\n".join(where)
    first = lines[i]
    rest = []
    for line in lines[i + 1:]:
        if line.strip() and not line[:1].isspace():
            break  # the next unindented line: another message, not this one's
        rest.append(line)
    message = textwrap.dedent("\n".join(rest)).strip("\n")
    kept = re.split(r"\n\s*\n", message)[:paragraphs] if message else []
    out = [*where, first.rstrip()]
    if kept:
        out.append("\n\n".join(p.rstrip() for p in kept))
    return "\n".join(out)


def _same_file(a: str, b: str | os.PathLike) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
