"""See the GIL: run threads and processes, record when each held the GIL, plot it.

The whole public API fits on this screen:

    import helpers
    from helpers import workloads as w

    tl = helpers.run_threads([w.cpu(0.2), w.cpu(0.2), w.sleep(0.1)])   # -> Timeline
    tl = helpers.run_processes([w.cpu(0.2)] * 2, start_method="spawn")
    run = helpers.start_threads(tasks, record_caller=True)  # at once; run.wait() -> Timeline
    tl.plot()                 # Gantt chart; tl.plot(window=(100, 120)) zooms to 100-120 ms
    print(tl.stats_table())   # running time, slices, waiting for the GIL, blocked...
    tl.stats()                # the same numbers as a list of LaneStats
    helpers.overlap_ms(tl.spans(helpers.RUNNING, lane="cpu-1"), tl.spans(...))  # at once, ms
    tl.save_trace("t.json")   # Chrome Trace Event JSON: open it in https://ui.perfetto.dev

    helpers.usable_cores()    # cores this process can really use (affinity, cgroup quota)
    helpers.gil_enabled()     # False only on a free-threaded Python running without the GIL

Workloads (each "about `seconds` long when run alone"): w.cpu, w.sleep, w.io,
w.c_call_holds_gil (sum over a range), w.c_call_releases_gil (hashlib), w.lock_wait.
Any function that takes no arguments is a task too; it is recorded automatically.

Modules: recorder (heartbeats), auto (automatic recording), workloads, runner,
timeline (spans and stats), plot, export, system (cores, GIL), widgets (controls for the
notebooks).
"""

from . import workloads
from .runner import (
    MAX_PROCESSES,
    MAX_THREADS,
    TaskError,
    ThreadRun,
    run_processes,
    run_threads,
    start_threads,
)
from .system import cores, free_threaded_build, gil_enabled, python_info, usable_cores
from .timeline import (
    BLOCKED,
    C_CALL,
    FINISHED,
    RUNNING,
    STATES,
    WAITING_CPU,
    WAITING_GIL,
    LaneStats,
    Span,
    Timeline,
    overlap_ms,
)


def plot(timeline: Timeline, **kwargs):
    """Draw a timeline as a Gantt chart (see helpers.plot.plot_timeline)."""
    from .plot import plot_timeline  # matplotlib is imported only when a picture is wanted

    return plot_timeline(timeline, **kwargs)


__all__ = [
    "BLOCKED", "C_CALL", "FINISHED", "MAX_PROCESSES", "MAX_THREADS", "RUNNING", "STATES",
    "WAITING_CPU", "WAITING_GIL", "LaneStats", "Span", "TaskError", "ThreadRun", "Timeline",
    "cores", "free_threaded_build", "gil_enabled", "plot", "python_info", "run_processes",
    "overlap_ms", "run_threads", "start_threads", "usable_cores", "workloads",
]  # fmt: skip
