"""See the GIL: run threads and processes, record when each held the GIL, plot it.

The whole public API fits on this screen:

    >>> import threading, time
    >>> import helpers
    >>> from helpers import workloads as w
    >>> with helpers.recording() as rec:     # your own threading code, recorded
    ...     t = threading.Thread(target=time.sleep, args=(0.05,))
    ...     t.start(); t.join()
    >>> tl = rec.timeline                    # -> Timeline
    >>> tl = helpers.run_threads([w.cpu(0.05), w.cpu(0.05), w.sleep(0.05)])
    >>> tl = helpers.run_processes([w.cpu(0.05)] * 2, start_method="spawn")
    >>> run = helpers.start_threads([w.cpu(0.05)], record_caller=True)  # returns at once
    >>> tl = run.wait()
    >>> fig = helpers.plot(tl)       # Gantt chart; also tl.plot(window=(10, 20)) to zoom
    >>> table = tl.stats_table()     # running time, slices, waiting for the GIL, blocked...
    >>> stats = tl.stats()           # the same numbers as a list of LaneStats
    >>> helpers.overlap_ms(tl.spans(helpers.RUNNING, lane="cpu-1"),
    ...                    tl.spans(helpers.RUNNING, lane="MainThread (caller)"))
    0.0
    >>> tl.save_trace("/tmp/trace.json")     # Chrome Trace Event JSON: open in ui.perfetto.dev
    >>> tl = helpers.Timeline.load("/tmp/trace.json")  # e.g. a run made on another machine
    >>> helpers.usable_cores() >= 1  # cores this process can use at once (affinity, cpuset)
    True
    >>> helpers.gil_enabled()        # False only on a free-threaded Python running without it
    True

The states a thread can be in (helpers.states): RUNNING, WAITING_GIL,
WAITING_CPU, BLOCKED, C_CALL, C_CALL_NO_GIL, STARTING, FINISHED; a generator or
coroutine (helpers.recording_steps, helpers.record_tasks) is RUNNING or AWAITING.

Locks that show on the timeline who waits for whom: helpers.Lock("a"),
helpers.Semaphore(4, "waiter"); helpers.find_deadlock() names a circular wait.
Fuzzing: helpers.fuzz_point("checked") marks where a pause may go, and
helpers.fuzz.run(test, runs=100, seed=1) makes rare interleavings common.

On a projector: helpers.classroom() (and helpers.classroom(False)) makes pictures
and widget text larger, in colours that stay apart for colour-blind eyes.

Workloads (each "about `seconds` long when run alone"): w.cpu, w.sleep, w.io,
w.c_call_holds_gil (sum over a range), w.c_call_releases_gil (hashlib), w.lock_wait.
Any function that takes no arguments is a task too; it is recorded automatically.

Modules, in the order the data flows: workloads and recorder (heartbeats),
auto (recording any code), threads and processes (running), steps
(generators and coroutines taking turns on one thread), generators (a
generator stepped by hand: its state, paused line and locals), aio (asyncio
tasks' timelines read and drawn, a fresh loop for widgets, the comparison
table), startup (a script run in a fresh Python, its error read), rules and
inference (heartbeats to states), timeline (the data), gantt (the picture),
export (Chrome Trace), system (cores, GIL), widgets (controls for notebooks),
compare and measure (small measurements the notebooks make), fuzz and races
(fuzzing, and the race explorer's plumbing), locks (locks that
say who holds them, and deadlock found as a cycle), philosophers (the dining
philosophers' table), projector (helpers.classroom(): projector-sized pictures) and quiz (the
questions at the end of each notebook).
"""

from . import fuzz, locks, races, workloads
from .fuzz import point as fuzz_point
from .locks import Lock, LockTimeout, Semaphore, find_deadlock
from .processes import run_processes
from .projector import classroom
from .runner import MAX_PROCESSES, MAX_THREADS, TaskError
from .states import (
    AWAITING,
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    STATES,
    WAITING_CPU,
    WAITING_GIL,
)
from .steps import StepRecording, record_tasks, recording_steps
from .system import cores, free_threaded_build, gil_enabled, python_info, usable_cores
from .threads import Recording, ThreadRun, recording, run_threads, start_threads
from .timeline import Lane, LaneStats, Span, Timeline, overlap_ms


def plot(timeline: Timeline, **kwargs):
    """Draw a timeline as a Gantt chart: the same as ``timeline.plot(**kwargs)``."""
    from .gantt import plot_timeline  # matplotlib is imported only when a picture is wanted

    return plot_timeline(timeline, **kwargs)


__all__ = [
    "AWAITING", "BLOCKED", "C_CALL", "C_CALL_NO_GIL", "FINISHED", "MAX_PROCESSES", "MAX_THREADS",
    "classroom",
    "RUNNING", "STARTING", "STATES", "WAITING_CPU", "WAITING_GIL", "Lane", "LaneStats", "Lock",
    "LockTimeout", "Recording", "Semaphore", "Span", "StepRecording", "TaskError", "ThreadRun",
    "Timeline", "cores", "find_deadlock", "free_threaded_build", "fuzz", "fuzz_point",
    "gil_enabled", "locks",
    "overlap_ms", "plot", "python_info", "record_tasks", "recording", "recording_steps",
    "races", "run_processes", "run_threads", "start_threads", "usable_cores", "workloads",
]  # fmt: skip
