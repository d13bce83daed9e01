"""Shared fixtures: every helpers test must leave no thread and no child process behind."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time

import pytest


def child_pids() -> set[int]:
    """Live child processes of this process, read from /proc (Linux) or multiprocessing."""
    if not os.path.isdir("/proc"):
        return {p.pid for p in mp.active_children()}
    me, kids = str(os.getpid()), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":  # ppid; zombies are being reaped
                kids.add(int(entry))
    return kids


@pytest.fixture
def no_leftovers():
    """Fails the test if it leaves an extra thread or a child process running."""
    mp.active_children()  # reap what earlier tests finished
    threads_before = set(threading.enumerate())
    kids_before = child_pids()
    yield
    deadline = time.monotonic() + 3  # a finished process may take a moment to be reaped
    while True:
        mp.active_children()
        extra_threads = [t for t in threading.enumerate() if t not in threads_before]
        # the forkserver and the resource tracker live on by design, shared by later runs
        extra_kids = child_pids() - kids_before - _multiprocessing_helpers()
        if not extra_threads and not extra_kids or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra_threads, f"threads left running: {extra_threads}"
    assert not extra_kids, f"child processes left running: {extra_kids}"


def _multiprocessing_helpers() -> set[int]:
    """multiprocessing's own long-lived helper processes (one each per parent)."""
    from multiprocessing import forkserver, resource_tracker

    pids = {
        getattr(forkserver._forkserver, "_forkserver_pid", None),
        getattr(resource_tracker._resource_tracker, "_pid", None),
    }
    return {p for p in pids if p}


@pytest.fixture
def realtime():
    """Run the test's threads and processes at real-time priority, where allowed.

    Measurements of the GIL's switching need the thread that is handed the GIL to
    get a core at once. When every core is busy with other programs, the OS lets
    it wait up to a scheduler time slice (3 ms here) first, which stretches every
    GIL slice. A real-time thread is run at once. Threads and processes started
    by this thread inherit its policy; it is restored afterwards.
    """
    if not hasattr(os, "sched_setscheduler"):
        yield False
        return
    before = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except PermissionError:
        yield False  # not root: measure at normal priority (fine on a quiet machine)
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, before[0], before[1])
