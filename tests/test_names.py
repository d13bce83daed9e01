"""The ``names=`` argument of the runners: lanes are named as given, bad names are refused.

run_threads, start_threads, run_processes and record_tasks all check names the same way
(helpers.tasks.check_names): one string per task, each a name of its own, since a lane is
looked up by its name (Timeline.lane).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
from functools import partial

import pytest

import helpers
from helpers import workloads as w
from helpers.threads import start_threads


def own_thread_name() -> str:
    return threading.current_thread().name


def write_own_process_name(path) -> None:
    path.write_text(mp.current_process().name)


async def nap() -> None:
    await asyncio.sleep(0.001)


def threads(names):
    return helpers.run_threads([w.cpu(0.01), w.cpu(0.01)], names=names)


def started(names):
    with start_threads([w.cpu(0.01), w.cpu(0.01)], names=names) as run:
        return run.wait()


def processes(names):
    return helpers.run_processes([w.cpu(0.01), w.cpu(0.01)], names=names)


def tasks(names):
    return asyncio.run(helpers.record_tasks(nap(), nap(), names=names))


RUNNERS = {"run_threads": threads, "start_threads": started, "run_processes": processes,
           "record_tasks": tasks}  # fmt: skip


@pytest.mark.parametrize("run", RUNNERS.values(), ids=RUNNERS)
def test_lanes_are_named_as_given_in_that_order(run, no_leftovers):
    tl = run(["second B", "first A"])  # not in alphabetical order: the order given is kept
    assert [ln.name for ln in tl.lanes] == ["second B", "first A"]
    assert tl.lane("first A") is tl.lanes[1]


@pytest.mark.parametrize("run", RUNNERS.values(), ids=RUNNERS)
def test_without_names_each_lane_is_named_for_its_task(run, no_leftovers):
    expected = ["nap-1", "nap-2"] if run is tasks else ["cpu-1", "cpu-2"]
    assert [ln.name for ln in run(None).lanes] == expected


def test_the_thread_itself_carries_the_name(no_leftovers):
    # The name is not only a label on the picture: the worker thread is named so too.
    seen = []
    helpers.run_threads([lambda: seen.append(own_thread_name())], names=["worker X"])
    assert seen == ["worker X"]


def test_the_process_itself_carries_the_name(tmp_path, no_leftovers):
    said = tmp_path / "name"
    helpers.run_processes([partial(write_own_process_name, said)], names=["process X"])
    assert said.read_text() == "process X"


BAD = {
    "too few": (["A"], ValueError, r"1 names for 2 (task|coroutine)s: give one name per"),
    "too many": (["A", "B", "C"], ValueError, r"3 names for 2 (task|coroutine)s"),
    "twice": (["A", "A"], ValueError, r"give each (task|coroutine) a name of its own \('A' is"),
    "not a string": (["A", 2], TypeError, r"name 1 is 2, not a string: write each name in quotes"),
    "one string": ("AB", TypeError, r"names must be a list of strings, one per .*got a str"),
    "a set": ({"A", "B"}, TypeError, r"names must be a list of strings.*got a set"),
}


@pytest.mark.parametrize("run", RUNNERS.values(), ids=RUNNERS)
@pytest.mark.parametrize("bad", BAD.values(), ids=BAD)
def test_bad_names_are_refused_with_what_to_do(run, bad, no_leftovers):
    names, error, message = bad
    with pytest.raises(error, match=message):
        run(names)  # and nothing was started: no_leftovers checks it
