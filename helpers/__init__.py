"""See the GIL: run threads and processes, record when each held the GIL, plot it.

Two rooms. The engine, here in helpers/, in the order the data flows:
  states, intervals      the words of the picture, and arithmetic on stretches of time
  recorder, automatic    heartbeats: built-in workloads (workloads), and any code at all
  threads, processes, steps   runners (steps: generators and coroutines); tasks: their checks
  children               processes started inside recording(), each recording itself
  rules, rules_fast      heartbeats -> states: the reference in plain Python, the same fast
  timeline               the result, plain data: lanes of spans (tables: its text)
  picture, chrome_trace  read a Timeline: the Gantt chart (palette), the Perfetto trace
  locks, fuzz, widgets, classroom_mode, system   tools for your code, notebooks, projectors
  witness                the GIL checked without the rules: raw heartbeats, the OS's CPU time
The lessons, in helpers/lessons/: what exists for one notebook (races, philosophers, ...).

    >>> import threading, time
    >>> with helpers.recording() as rec:     # your own threading code, recorded
    ...     t = threading.Thread(target=time.sleep, args=(0.05,))
    ...     t.start(); t.join()
    >>> fig = rec.timeline.plot()            # or helpers.plot(rec.timeline)
    >>> tl = helpers.run_threads([helpers.workloads.cpu(0.05)] * 2)   # tasks we run for you
    >>> helpers.overlap_ms(tl.spans(helpers.RUNNING, lane="cpu-1"),
    ...                    tl.spans(helpers.RUNNING, lane="cpu-2"))    # under the GIL
    0.0
"""

from . import workloads
from .classroom_mode import classroom  # at import: COURSE_CLASSROOM=1 turns it on
from .intervals import overlap_ms
from .processes import run_processes
from .states import (
    AWAITING,
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    WAITING_CPU,
    WAITING_GIL,
)
from .system import cores, free_threaded_build, gil_enabled, python_info, usable_cores
from .threads import recording, run_threads
from .timeline import Timeline

# Imported on first use, not with helpers: a process started inside recording() imports
# helpers before it records (helpers.children), and need not wait for numpy or asyncio.
# So are the modules (helpers.witness, helpers.fuzz, helpers.locks, ...).
_LATER = {"load_trace": "chrome_trace", "save_trace": "chrome_trace",
          "record_tasks": "steps", "recording_steps": "steps"}


def __getattr__(name: str):
    """``helpers.save_trace``, ``helpers.witness``, ...: imported the first time they are used."""
    from importlib import import_module

    module_name = f"{__name__}.{_LATER.get(name, name)}"
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # a module that it imports is missing
        raise AttributeError(f"module 'helpers' has no attribute {name!r}") from None
    value = getattr(module, name) if name in _LATER else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def plot(timeline: Timeline, **kwargs):
    """Draw a timeline as a Gantt chart: the same as ``timeline.plot(**kwargs)``."""
    from .picture import plot_timeline  # matplotlib is imported only when a picture is wanted

    return plot_timeline(timeline, **kwargs)


__all__ = [
    "AWAITING", "BLOCKED", "C_CALL", "C_CALL_NO_GIL", "FINISHED", "RUNNING", "STARTING",
    "Timeline", "WAITING_CPU", "WAITING_GIL", "classroom", "cores", "free_threaded_build",
    "fuzz", "gil_enabled", "load_trace", "locks", "overlap_ms", "plot", "python_info",
    "record_tasks", "recording", "recording_steps", "run_processes", "run_threads",
    "save_trace", "usable_cores", "witness", "workloads",
]  # fmt: skip
