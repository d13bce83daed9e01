"""Beyond the GIL (notebook 17): what runs in parallel on this Python, and which tool to pick.

In the order the notebook uses them: ``gil_status()`` says in words what this build and
its GIL allow; ``describe(tl)`` says what a timeline's ``tl.same_instant_ms()`` means
here (the no-GIL path is tested on made-up records, tests/test_beyond.py: no
free-threaded Python could be installed where this course was written); the capstone:
a ``Scenario`` is a batch of jobs, ``run(scenario, how)`` runs them "in turn", in
"threads", in "processes" or with "asyncio" and measures wall and CPU time,
``check_picks`` says whether a choice fits the work on ``cores()["at_once"]`` cores'
worth of CPU time (a CPU quota lowers it), ``Chooser`` is the widget.

    >>> s = Scenario("naps", "4 naps of 20 ms", time.sleep, asyncio.sleep, [(0.02,)] * 4)
    >>> r = run(s, "threads")    # (for processes, job must be importable: a module's function)
    >>> r.wall_s < 0.08 and r.results == (None,) * 4     # overlapped: in turn, >= 80 ms
    True
    >>> check_picks({"waits": "processes"}, {"waits": WAITS}, cores=2)
    ['waits: ...']
"""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

from ..palette import CHOOSER_COLORS
from ..system import cores as machine_cores
from ..system import free_threaded_build, gil_enabled, usable_cores
from ..tables import text_table
from ..tasks import run_info
from ..timeline import Timeline
from .event_loop import run_in_fresh_loop

__all__ = ["APPROACHES", "C_NO_GIL", "HINTS", "IN_TURN", "PYTHON", "WAITS", "WAITS_AND_C", "WORKS",
           "Chooser", "Run", "Scenario", "check_picks", "cpu_seconds", "describe", "fastest",
           "gil_status", "good_picks", "helps", "measure_all", "one_core_reason", "plot", "run",
           "table", "verdict"]

# --- This Python -------------------------------------------------------------------------


def gil_status() -> str:
    """What this Python's build and its GIL, right now, allow: a few lines for a notebook."""
    version = ".".join(map(str, sys.version_info[:3]))
    if not free_threaded_build():
        return (f"Python {version}, a regular build: the GIL is always on. Threads take turns "
                "running Python; for Python in parallel, use processes here, or install a "
                "free-threaded Python (3.13t, 3.14t) and run this notebook there.")  # fmt: skip
    if gil_enabled():
        return (f"Python {version}, a free-threaded build, but the GIL is on now: PYTHON_GIL=1 "
                "or -X gil=1 was given, or an extension module that does not declare it can run "
                "without the GIL was imported (its RuntimeWarning names it). Threads take turns "
                "as under a regular build.")  # fmt: skip
    return (f"Python {version}, a free-threaded build running without the GIL: threads of one "
            "process can run Python at the same instant, one per usable core.")  # fmt: skip


# --- Reading a timeline ------------------------------------------------------------------


def describe(timeline: Timeline) -> str:
    """One line: did the lanes run Python at the same instant, and what that means here."""
    both = timeline.same_instant_ms()
    kind, info = timeline.info.kind, timeline.info
    if kind == "processes":
        if both > 0:
            held = (f" ({_quota_holds(info.cgroup_quota)}: in parallel only until they had "
                    "used it up)" if info.usable_cores >= 2 and (info.cgroup_quota or 2) < 2
                    else "")  # fmt: skip
            return (f"{len(timeline.lanes)} processes, each with its own GIL: running Python "
                    f"at the same instant for {both:.0f} ms of {timeline.wall_ms:.0f} ms{held}.")
        return (f"{len(timeline.lanes)} processes, each with its own GIL, never ran at the same "
                f"instant: {_why_not_parallel(info.usable_cores, info.cgroup_quota)}")  # fmt: skip
    if info.gil_enabled:
        return (f"GIL enabled: the {kind} took turns running Python ({both:.1f} ms at the same "
                "instant).")
    if both > 0:
        return (f"No GIL: the {kind} ran Python at the same instant for {both:.0f} ms of "
                f"{timeline.wall_ms:.0f} ms.")
    return f"No GIL, yet the {kind} never ran at the same instant: " + _why_not_parallel(
        info.usable_cores, info.cgroup_quota)


def _why_not_parallel(usable: int, quota: float | None = None) -> str:
    if usable < 2:
        return "this machine gives you one usable core."
    if quota is not None and quota < 2:
        return f"{_quota_holds(quota)}."
    return "another program kept the other core busy; on an idle machine, run again."


def _quota_holds(at_once: float) -> str:
    worth = "one core's" if at_once == 1 else f"{at_once:g} cores'"
    return f"a CPU quota holds you to {worth} worth of time"


def one_core_reason(at_once: float, usable: int | None = None) -> str:
    """Why nothing computes in parallel here: one usable core, or a CPU quota (a few words).

    at_once -- cores' worth of CPU time at once (``helpers.cores()["at_once"]``);
    usable  -- usable cores (``helpers.cores()["usable"]``); by default ``at_once``.

        >>> one_core_reason(1.0, usable=2)
        "a CPU quota holds you to one core's worth of time"
    """
    usable = at_once if usable is None else usable
    if usable >= 2 and at_once < 2:
        return _quota_holds(at_once)
    return "this machine gives you one usable core"


def _no_parallel(at_once: float, usable: int | None) -> str:
    # Under a quota two cores may compute at once until they have used up its time for the
    # period (100 ms), then both wait: a short burst, no gain over a run.
    reason = one_core_reason(at_once, usable)
    if reason.startswith("a CPU quota"):
        return f"{reason}, so computing in parallel gains nothing"
    return f"{reason}, so nothing computes in parallel"


def cpu_seconds() -> float:
    """CPU time used so far by this process and by its children that have ended.

    Children count once they have been waited for (a pool's shutdown does that); on
    Windows, where the OS does not report them, only this process counts.
    """
    try:
        import resource  # Unix only
    except ImportError:
        return time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # microseconds, unlike os.times()
    return time.process_time() + kids.ru_utime + kids.ru_stime


# --- The capstone: threads, processes or asyncio? ----------------------------------------

APPROACHES = ("threads", "processes", "asyncio")
IN_TURN = "in turn"  # one job after the other, in this thread: what the others are compared to
JOB_TIMEOUT = 60.0  # seconds: no measurement waits forever
PARALLEL = 1.3  # cores kept busy on average: above this, some of a run computed in parallel

# What a scenario's jobs spend their time on: the check reasons from it.
WAITS = "waits"
PYTHON = "Python"
C_NO_GIL = "C that releases the GIL"
WAITS_AND_C = "waits, then C that releases the GIL"
WORKS = (WAITS, PYTHON, C_NO_GIL, WAITS_AND_C)


@dataclass(frozen=True)
class Scenario:
    """A batch of jobs: ``job(*args)`` for each tuple in ``args``.

    job  -- a plain function defined in a module (processes import it by name);
    ajob -- ``async def`` doing the same work, awaiting where ``job`` waits.
    """

    name: str
    story: str
    job: Callable
    ajob: Callable
    args: Sequence[tuple]

    def __post_init__(self) -> None:
        if not callable(self.job) or not inspect.iscoroutinefunction(self.ajob):
            raise TypeError(f"{self.name}: job must be a function and ajob an `async def` one")
        if not self.args or not all(isinstance(a, tuple) for a in self.args):
            raise ValueError(f"{self.name}: args must be a non-empty list of tuples, one per job")


@dataclass(frozen=True)
class Run:
    """One measured run of a scenario."""

    how: str
    wall_s: float
    cpu_s: float  # this process and, for processes, its workers
    results: tuple

    @property
    def cores_busy(self) -> float:
        """CPU time over wall time: how many cores the run kept busy on average."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def run(scenario: Scenario, how: str, start_method: str | None = None) -> Run:
    """Run every job of ``scenario`` in turn, in threads, in processes or with asyncio.

    threads: one thread per job. processes: one process per usable core (more could
    not run at once), each taking jobs until none is left; starting them counts.
    ``start_method`` ("spawn", "forkserver", "fork") for processes: by default the
    platform's. asyncio: one task per job, on a new event loop.
    """
    ways = {IN_TURN: _in_turn, "threads": _threads, "processes": _processes,
            "asyncio": _asyncio}  # fmt: skip
    if how not in ways:
        raise ValueError(f"how must be one of {tuple(ways)}, not {how!r}")
    if start_method is not None and start_method not in mp.get_all_start_methods():
        raise ValueError(f"start_method must be one of {mp.get_all_start_methods()} here, "
                         f"not {start_method!r}")  # fmt: skip
    cpu0, t0 = time.process_time(), time.perf_counter()
    workers_cpu = 0.0
    if how == "processes":
        results, workers_cpu = _processes(scenario, start_method)
    else:
        results = ways[how](scenario)
    wall = time.perf_counter() - t0
    return Run(how, wall, time.process_time() - cpu0 + workers_cpu, tuple(results))


def _in_turn(s: Scenario) -> list:
    return [s.job(*a) for a in s.args]


def _threads(s: Scenario) -> list:
    with ThreadPoolExecutor(max_workers=len(s.args)) as pool:
        futures = [pool.submit(s.job, *a) for a in s.args]
        return [f.result(timeout=JOB_TIMEOUT) for f in futures]


def _job_and_cpu(job: Callable, *args) -> tuple:
    """In a worker process: the job's result, the worker's pid and its CPU time so far."""
    return job(*args), os.getpid(), time.process_time()


def _processes(s: Scenario, start_method: str | None = None) -> tuple[list, float]:
    """The results, and the CPU seconds the workers used (start-up included).

    The workers say it themselves: under forkserver (Linux's default from 3.14) they are
    children of the fork server, not of this process, so cpu_seconds() never sees them.
    """
    context = mp.get_context(start_method) if start_method else None
    workers = min(len(s.args), usable_cores())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_job_and_cpu, s.job, *a) for a in s.args]
        try:
            done = [f.result(timeout=JOB_TIMEOUT) for f in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    cpu: dict[int, float] = {}
    for _, pid, seconds in done:
        cpu[pid] = max(cpu.get(pid, 0.0), seconds)
    return [result for result, _, _ in done], sum(cpu.values())


def _asyncio(s: Scenario) -> list:
    async def main():
        together = asyncio.gather(*(s.ajob(*a) for a in s.args))
        return await asyncio.wait_for(together, JOB_TIMEOUT)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop runs in this thread: start one, as a script does
        return asyncio.run(main())
    # A notebook's kernel already runs an event loop in this thread, and a thread runs one
    # loop at a time: run ours on a fresh loop in a thread of its own, and wait for it.
    return run_in_fresh_loop(main(), timeout=JOB_TIMEOUT + 5)


def measure_all(scenarios: Sequence[Scenario]) -> dict[str, dict[str, Run]]:
    """Every scenario run in turn and with each approach: {scenario: {how: Run}}."""
    return {s.name: {how: run(s, how) for how in (IN_TURN, *APPROACHES)} for s in scenarios}


def fastest(runs: dict[str, Run], margin: float = 0.2, slack_s: float = 0.01) -> list[str]:
    """The approaches (not "in turn") within ``margin`` (20%) plus ``slack_s`` of the fastest.

    One run each on a machine that others share is noisy: two approaches closer
    than that are equally good, as far as one measurement can tell.

        >>> fastest({how: Run(how, t, 0, ()) for how, t in
        ...          [("threads", 0.10), ("asyncio", 0.11), ("processes", 0.30)]})
        ['threads', 'asyncio']
    """
    timed = {how: r.wall_s for how, r in runs.items() if how in APPROACHES}
    if not timed:
        raise ValueError(f"no run of {APPROACHES} among {list(runs)}")
    best = min(timed.values())
    return [how for how in APPROACHES if how in timed and timed[how] <= best * (1 + margin)
            + slack_s]  # fmt: skip


def helps(runs: dict[str, Run], margin: float = 0.2) -> bool:
    """Did the fastest approach beat running the jobs in turn by more than ``margin``?"""
    best = min(r.wall_s for how, r in runs.items() if how in APPROACHES)
    return best * (1 + margin) < runs[IN_TURN].wall_s


# The reasoning the check follows: for each kind of work, which picks fit, and why.
def good_picks(work: str, cores: float, gil: bool = True,
               usable: int | None = None) -> tuple[set[str], str]:  # fmt: skip
    """The approaches that fit ``work``, and the reason in words.

    cores  -- cores' worth of CPU time at once: ``helpers.cores()["at_once"]``, which a
              CPU quota lowers below the usable cores (below 2: nothing in parallel);
    usable -- the usable cores, to name the reason (one core, or a quota); default cores.
    """
    if work not in WORKS:
        raise ValueError(f"work must be one of {WORKS}, not {work!r}")
    if work == WAITS:
        return {"threads", "asyncio"}, (
            "waiting needs neither a core nor the GIL: threads and asyncio overlap all the "
            "waits; processes wait a few at a time (one per core) and take time to start")
    if cores < 2 and work == PYTHON:
        return set(APPROACHES), (
            f"{_no_parallel(cores, usable)}: no approach beats one job after the other")
    if cores < 2:
        return {"threads", "asyncio"}, (
            f"{_no_parallel(cores, usable)}; threads and asyncio still overlap what can "
            "overlap, processes add their start-up")
    if work == PYTHON:
        if gil:
            return {"processes"}, (
                "Python code needs the GIL: threads and asyncio take turns on one core; each "
                "process has its own GIL, so they compute in parallel")
        return {"threads", "processes"}, (
            "without the GIL, threads run Python in parallel too, and need no start-up")
    if work == C_NO_GIL:
        return {"threads", "processes"}, (
            "hashlib releases the GIL while it hashes: threads hash in parallel; processes "
            "too, once they have started (and with big data, once it is copied to them)")
    return {"threads"}, (
        "threads overlap the waits and hash in parallel (hashlib releases the GIL); asyncio "
        "overlaps only the waits; processes wait a few at a time")


HINTS = {  # a question that points the way, for a pick that does not fit
    WAITS: "while a job waits for a reply, does it need a core, or the GIL?",
    PYTHON: "pure Python needs the GIL to run: which approach gives each job a GIL of its own?",
    C_NO_GIL: "hashlib releases the GIL while it hashes (notebook 04): which approaches let "
              "two hashes run at the same instant?",
    WAITS_AND_C: "each job waits, then hashes: which approach overlaps the waits AND runs the "
                 "hashes in parallel?",
}  # fmt: skip


def check_picks(picks, works: dict[str, str], cores: float, gil: bool = True,
                usable: int | None = None) -> list[str]:  # fmt: skip
    """What is wrong with ``picks`` ({scenario: approach}); [] when every pick fits.

    ``works`` says what each scenario's jobs spend their time on (WAITS, PYTHON, ...);
    ``cores``: cores' worth of CPU time at once (``helpers.cores()["at_once"]``).
    """
    if not isinstance(picks, dict):
        return [f"picks must be a dict {{scenario: approach}}, not {type(picks).__name__}"]
    problems = []
    for name, work in works.items():
        pick = picks.get(name)
        if pick not in APPROACHES:
            problems.append(f"{name}: pick one of {', '.join(map(repr, APPROACHES))} "
                            f"(now {pick!r})")  # fmt: skip
        elif pick not in good_picks(work, cores, gil, usable)[0]:
            problems.append(f"{name}: {pick} is not the best fit. {HINTS[work]}")
    return problems


def table(results: dict[str, dict[str, Run]], picks: dict | None = None,
          cores: float | None = None, usable: int | None = None) -> str:  # fmt: skip
    """The measurements as a text table: seconds (and cores kept busy) per approach.

    A last line says so when nothing could run in parallel: fewer than two cores' worth
    of CPU time at once (``cores``, by default ``helpers.cores()["at_once"]``: one usable
    core, or a CPU quota), or no run that kept more than one core busy.
    """
    picks = picks or {}
    if cores is None:
        machine = machine_cores()
        cores, usable = machine["at_once"], machine["usable"] if usable is None else usable
    head = ["scenario", IN_TURN, *APPROACHES, "fastest here", "your pick"]
    rows = []
    for name, runs in results.items():
        best = fastest(runs)
        cells = [f"{runs[h].wall_s:.2f} s ({runs[h].cores_busy:.1f})" for h in (IN_TURN,
                 *APPROACHES)]  # fmt: skip
        rows.append([name, *cells, " = ".join(best) if helps(runs) else "none helps",
                     verdict(runs, picks.get(name))])  # fmt: skip
    lines = [text_table(head, rows, left=len(head))]
    notes = ["seconds of wall time; in brackets, cores kept busy on average (CPU time / wall "
             "time). Fastest: within 20% of the quickest."]
    busiest = max(r.cores_busy for runs in results.values() for r in runs.values())
    if cores < 2 and one_core_reason(cores, usable).startswith("a CPU quota"):
        notes.append(f"A {one_core_reason(cores, usable)[2:]} per 100 ms: a run may compute "
                     "on two cores at once until it has used that up, then it waits; only runs "
                     "much shorter than 100 ms gain from parallelism, and processes add their "
                     "start-up.")  # fmt: skip
    elif cores < 2:
        notes.append("This machine gives you one usable core: nothing can compute in parallel "
                     "here, and processes only add their start-up.")
    elif busiest < PARALLEL:
        notes.append(f"No run kept more than one core busy, with {cores} usable cores: other "
                     "programs had the others. Measure again when the machine is quieter.")
    return "\n".join([*lines, *notes])


def verdict(runs: dict[str, Run], pick: str | None) -> str:
    """✓ or ✗ for one pick, judged by the measurement."""
    if pick not in APPROACHES:
        return "(no pick)"
    best = fastest(runs)
    if not helps(runs):
        return f"= {pick}: no approach beat one job after the other"
    if pick in best:
        return f"✓ {pick}" + (" (as fast as " + ", ".join(b for b in best if b != pick) + ")"
                              if len(best) > 1 else "")  # fmt: skip
    return f"✗ {pick}: {runs[pick].wall_s / runs[best[0]].wall_s:.1f}x slower than {best[0]}"


def plot(results: dict[str, dict[str, Run]], picks: dict | None = None,
         stories: dict | None = None):  # fmt: skip
    """Bars: the wall time of each approach per scenario; the fastest green, the pick framed.

    stories -- optional {scenario: a few words}, written after the scenario's name.
    """
    import matplotlib.pyplot as plt

    picks, stories = picks or {}, stories or {}
    hows = (IN_TURN, *APPROACHES)
    n = len(results)
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 1.9 * rows + 0.9), layout="constrained",
                             squeeze=False)  # fmt: skip
    for ax, (name, runs) in zip(axes.flat, results.items()):
        best = fastest(runs) if helps(runs) else []
        times = [runs[h].wall_s for h in hows]
        colors = [CHOOSER_COLORS["in turn" if h == IN_TURN else "fastest" if h in best
                                 else "slower"] for h in hows]  # fmt: skip
        bars = ax.barh(range(len(hows)), times, color=colors)
        for bar, h in zip(bars, hows):
            if h == picks.get(name):
                bar.set_edgecolor("black")
                bar.set_linewidth(2.5)
            label = f" {runs[h].wall_s:.2f} s · {runs[h].cores_busy:.1f} cores"
            label += "  ← your pick" if h == picks.get(name) else ""
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center",
                    fontsize=11)  # fmt: skip
        ax.set_yticks(range(len(hows)), hows, fontsize=12)
        ax.invert_yaxis()
        ax.set_xlim(0, max(times) * 1.9)
        story = f": {stories[name]}" if stories.get(name) else ""
        ax.set_title(f"{name}{story}", fontsize=12, loc="left")
        ax.tick_params(axis="x", labelsize=10)
        ax.set_xlabel("seconds", fontsize=11)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    info = run_info("capstone").describe()
    fig.suptitle(f"One run of each: green is fastest, grey one job after another\n{info}",
                 fontsize=13, x=0.01, ha="left")  # fmt: skip
    plt.close(fig)  # the caller shows it
    return fig


class Chooser:
    """The capstone's widget: a dropdown per scenario, a Measure button, the bars and table.

    It measures once when it is made, so the first picture is there when the cell
    runs; ``results`` holds the last measurement ({scenario: {how: Run}}).
    """

    def __init__(self, scenarios: Sequence[Scenario], picks: dict | None = None) -> None:
        import ipywidgets as W

        self.scenarios = list(scenarios)
        picks = picks if isinstance(picks, dict) else {}
        self.dropdowns = {
            s.name: W.Dropdown(options=APPROACHES, value=picks.get(s.name) if picks.get(s.name)
                               in APPROACHES else None, description=s.name,
                               style={"description_width": "initial"},
                               layout={"width": "auto"})
            for s in self.scenarios
        }  # fmt: skip
        self.button = W.Button(description="Measure all", button_style="primary", icon="play")
        self.out = W.Output()
        self.button.on_click(self.measure)
        self.results: dict[str, dict[str, Run]] = {}
        self.box = W.VBox([W.HBox([*self.dropdowns.values(), self.button]), self.out])
        self.measure()

    @property
    def picks(self) -> dict[str, str | None]:
        return {name: d.value for name, d in self.dropdowns.items()}

    def measure(self, _button=None) -> None:
        from IPython.display import display

        self.button.disabled = True
        try:
            with self.out:
                self.out.clear_output(wait=True)
                self.results = measure_all(self.scenarios)
                stories = {s.name: s.story for s in self.scenarios}
                display(plot(self.results, self.picks, stories))
                print(table(self.results, self.picks))
        finally:
            self.button.disabled = False

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)
