"""Remake the instructor's reference pictures: real runs, saved as PNG + trace, with an index.

    make reference-pictures                      # into docs/reference/ (commit the result)
    python tools/reference_pictures.py --out DIR [--only 04_two_cpu_threads,...] [--where TEXT]

Each picture is one of the course's key timelines, recorded here and now, so a
learner whose picture looks different can compare it with one from a quiet
machine. Next to each PNG goes the trace (Chrome Trace JSON), which
``helpers.load_trace(path)`` reads back on any machine; the picture's
title says where and on which Python it was recorded. docs/reference/README.md
lists them with what to look for. Run it on a quiet machine: it says how busy
the machine was (the load average) in the index.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing
import os
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the helpers of this checkout, also when not installed

import helpers  # noqa: E402
from helpers import workloads as w  # noqa: E402


def two_cpu_threads():
    return helpers.run_threads([w.cpu(0.1), w.cpu(0.1)]), (0, 40)


def cpu_and_sleeper():
    return helpers.run_threads([w.cpu(0.15), w.sleep(0.05)], names=["cpu", "sleeper"]), None


def c_call_keeps_the_gil():
    tl = helpers.run_threads([w.c_call_holds_gil(0.1), w.cpu(0.1)], names=["sum()", "cpu"])
    return tl, None


def c_call_releases_the_gil():
    tl = helpers.run_threads([w.c_call_releases_gil(0.1), w.cpu(0.1)], names=["hashlib", "cpu"])
    return tl, None


def two_processes():  # the learner's own code of notebook 05, recorded, as the notebook runs it
    sys.path.insert(0, str(ROOT / "notebooks"))  # nb05_tasks, importable by the children
    from nb05_tasks import count_primes

    with helpers.recording() as rec:  # the platform's default start method, as in 05
        procs = [multiprocessing.Process(target=count_primes, args=(50_000,), name=f"process {x}")
                 for x in "AB"]  # fmt: skip
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
    return rec.timeline, None


def threads_waiting_for_io():
    return helpers.run_threads([w.io(0.1)] * 4), None


def philosophers_with_a_waiter():
    from helpers.lessons.philosophers import Table

    table = Table(strategy="waiter", think_s=0.03, eat_s=0.03, patience_s=5)
    with helpers.recording() as rec:
        table.run(seconds=0.4)
    return rec.timeline, None


def back_pressure():  # the learner's own threading code of notebook 12, recorded
    import queue

    q = queue.Queue(maxsize=2)

    def producer(n):
        for i in range(n):
            time.sleep(0.001)
            q.put(i)  # waits while the queue is full
        q.put(None)

    def consumer():
        while q.get() is not None:
            time.sleep(0.06)

    with helpers.recording() as rec:
        threads = [threading.Thread(target=producer, args=(6,), name="producer"),
                   threading.Thread(target=consumer, name="consumer")]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
    return rec.timeline, None


def round_robin_generators():
    def count(n):
        for _ in range(n):
            busy_until = time.perf_counter() + 0.002
            while time.perf_counter() < busy_until:  # a step of work, then give way
                pass
            yield

    with helpers.recording_steps() as rec:
        tasks = [rec.wrap(count(n), f"task {n}") for n in (3, 5, 8)]
        while tasks:
            task = tasks.pop(0)
            try:
                next(task)
                tasks.append(task)
            except StopIteration:
                pass
    return rec.timeline, None


def gather_with_a_blocking_call():
    async def ticker(ticks):
        for _ in range(ticks):
            busy_until = time.perf_counter() + 0.001
            while time.perf_counter() < busy_until:  # a little work at each tick
                pass
            await asyncio.sleep(0.01)

    async def blocker():
        await asyncio.sleep(0.03)
        time.sleep(0.05)  # blocks the event loop's thread: every task stalls

    async def run():
        return await helpers.record_tasks(ticker(12), ticker(12), blocker(),
                                          names=["ticker-1", "ticker-2", "blocker"])

    return asyncio.run(run()), None


# name -> (the notebook it belongs to, what to look for, how to make it)
PICTURES = {
    "04_two_cpu_threads": (
        "04_the_gil", "two CPU-bound threads take turns in slices of about the switch "
        "interval (5 ms); never both running at once", two_cpu_threads),
    "04_cpu_and_sleeper": (
        "04_the_gil", "the sleeper is blocked (GIL released) while the CPU thread runs; when it "
        "wakes it waits for the GIL", cpu_and_sleeper),
    "04_c_call_keeps_the_gil": (
        "04_the_gil", "sum() over a range is one long C call holding the GIL: the other thread "
        "waits through it", c_call_keeps_the_gil),
    "04_c_call_releases_the_gil": (
        "04_the_gil", "hashlib releases the GIL while it hashes: both lanes busy at the same "
        "time", c_call_releases_the_gil),
    "05_two_processes": (
        "05_multiple_pythons", "the notebook's own multiprocessing code: its lane waits in "
        "Process.join; each process starts (tan) before it runs; then both run at once on "
        "two cores", two_processes),
    "06_threads_waiting_for_io": (
        "06_the_point_of_threads", "four threads waiting on I/O overlap their waits: the run "
        "takes about as long as one", threads_waiting_for_io),
    "11_philosophers_with_a_waiter": (
        "11_dining_philosophers", "with a waiter, philosophers think, wait and eat; never three "
        "eat at once (drawn as the notebook draws it: plot_dinner)", philosophers_with_a_waiter),
    "12_back_pressure": (
        "12_queues", "a fast producer, a slow consumer, a queue.Queue(maxsize=2) between them: "
        "the producer waits, blue, labelled Queue.put; the consumer's work is time.sleep",
        back_pressure),
    "14_round_robin_generators": (
        "14_generators", "three generators on one thread take turns, one step each; a task that "
        "has finished leaves the round", round_robin_generators),
    "15_gather_with_a_blocking_call": (
        "15_coroutines_and_asyncio", "time.sleep in one coroutine holds the thread: the tickers "
        "miss their ticks until it returns", gather_with_a_blocking_call),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "reference"),
                        help="folder to write into (docs/reference)")
    parser.add_argument("--only", help="comma-separated picture names (default: all)")
    parser.add_argument("--where", default="",
                        help="a few words on the machine, for the index (e.g. 'a quiet laptop')")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(PICTURES)
    unknown = [n for n in names if n not in PICTURES]
    if unknown:
        parser.error(f"unknown picture(s) {unknown}; choose from {', '.join(PICTURES)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    where = args.where or f"{platform.system()} {platform.machine()}"
    rows = []
    for name in names:
        notebook, look_for, make = PICTURES[name]
        tl, window = make()
        trace = out / f"{name}.json"
        helpers.save_trace(tl, trace)
        again = helpers.load_trace(trace)  # the picture is drawn from the saved trace
        title = f"{name} (reference picture)"
        if make is philosophers_with_a_waiter:  # as notebook 11 draws it
            from helpers.lessons.philosophers import plot_dinner

            fig = plot_dinner(again, title=f"{title}\n{again.notes[-1]}")  # where, which Python
        else:
            fig = again.plot(title=title, window=window)
        fig.savefig(out / f"{name}.png", dpi=100)
        rows.append(f"| [{name}]({name}.png) | [{notebook}](../../notebooks/{notebook}.ipynb) "
                    f"| {look_for} |")  # fmt: skip
        print(f"wrote {out / name}.png and .json")
    left = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        raise RuntimeError(f"threads left running: {left}")

    index = [
        "# Reference pictures",
        "",
        "Real runs of the course's key timelines, for when a learner's picture looks different.",
        f"Recorded on {datetime.date.today()} on {where}: Python {platform.python_version()}, "
        f"{helpers.usable_cores()} usable cores, load average {load:.1f} at the start. "
        "Remake them with `make reference-pictures` (tools/reference_pictures.py).",
        "",
        f"Platform: {platform.platform()}; GIL enabled: {helpers.gil_enabled()}.",
        "",
        "Each PNG has its trace beside it: `helpers.load_trace('docs/reference/NAME.json')`",
        "gives the timeline back on any machine, its title saying where it was recorded.",
        "",
        "| picture | notebook | what to look for |",
        "|---|---|---|",
        *rows,
        "",
    ]
    if not args.only:
        (out / "README.md").write_text("\n".join(index), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
