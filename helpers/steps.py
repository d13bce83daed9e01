"""Tasks that take turns on one thread: generators and coroutines, recorded step by step.

A generator runs only when someone calls ``next()`` or ``send()`` on it; a coroutine
only when the event loop sends into it. Each such call is a *step*: the task runs until
its next ``yield`` or ``await``, then hands control back. This is cooperative
multitasking: each task decides when to give way. A wrapper around the generator or
coroutine timestamps every step, so each task gets a lane: running during its steps,
awaiting between them. A step that blocks (``time.sleep`` inside a coroutine) holds the
thread: one long running step, with every other task awaiting meanwhile.
``recording_steps()`` records generators driven by a scheduler of your own;
``record_tasks(...)`` runs coroutines as asyncio tasks and records them.
"""

from __future__ import annotations

import asyncio
import collections.abc
import os
import threading
from array import array

from .recorder import LaneRecord, now
from .rules_fast import build_timeline
from .tasks import check_names, run_info
from .timeline import Timeline

__all__ = ["StepRecording", "record_tasks", "recording_steps"]


class _Stepped(collections.abc.Coroutine, collections.abc.Generator):
    """A generator or coroutine whose every step (send, throw) is timestamped.

    It stands in for the object it wraps: ``next``, ``send``, ``throw`` and
    ``close`` go through to it, and an event loop accepts it as a coroutine.
    """

    def __init__(self, inner, beats: array) -> None:
        self._inner = inner
        self._beats = beats  # step start, step end, step start, ...
        self.done = False  # the task returned or raised: it will take no more steps

    def send(self, value):
        return self._step(self._inner.send, value)

    def throw(self, *exc):
        return self._step(self._inner.throw, *exc)

    def _step(self, method, *args):
        self._beats.append(now())
        try:
            return method(*args)
        except BaseException:
            self.done = True  # StopIteration, or the error it ended with
            raise
        finally:
            self._beats.append(now())

    def close(self):
        return self._inner.close()

    def __next__(self):
        return self.send(None)

    def __iter__(self):
        return self

    def __await__(self):
        return self


class StepRecording:
    """``with helpers.recording_steps() as rec:`` -- wrap tasks with ``rec.wrap(task, name)``;
    ``rec.timeline`` has a lane per task once the block is over."""

    def __init__(self) -> None:
        self._lanes: list[tuple[str, _Stepped]] = []
        self._timeline: Timeline | None = None
        self._start = 0

    def wrap(self, task, name: str | None = None):
        """The generator or coroutine ``task``, recorded as a lane named ``name``."""
        if not hasattr(task, "send") or not hasattr(task, "throw"):
            raise TypeError(f"wrap() takes a generator or a coroutine, not {type(task).__name__}"
                            " (call the function first: wrap(countdown(3)), not wrap(countdown))")
        name = name or f"{getattr(task, '__name__', 'task')}-{len(self._lanes) + 1}"
        stepped = _Stepped(task, array("q"))
        self._lanes.append((name, stepped))
        return stepped

    @property
    def timeline(self) -> Timeline:
        if self._timeline is None:
            raise RuntimeError("the timeline is ready when the `with` block is over")
        return self._timeline

    def __enter__(self) -> StepRecording:
        self._start = now()
        return self

    def __exit__(self, *exc) -> None:
        end = now()
        records = []
        for name, stepped in self._lanes:
            beats = stepped._beats
            if not beats:  # never stepped: it waited from the start of the block to its end
                beats = array("q", [end, end])
            records.append(LaneRecord(
                name=name, process_name=f"tasks on thread {threading.get_native_id()}",
                pid=os.getpid(), native_id=threading.get_native_id(), auto=False, cpu_ns=0,
                beats=beats, ready_ns=self._start, kind="task",
                open_until=0 if stepped.done else end,
            ))  # fmt: skip
        if records:
            self._timeline = build_timeline(records, run_info("tasks"))
        elif exc[0] is None:  # (with an error on its way out, let that one through)
            raise ValueError("no task was wrapped: use rec.wrap(generator) inside the block")


def recording_steps() -> StepRecording:
    """Record generators or coroutines step by step, e.g. with a scheduler of your own:

        >>> def countdown(n):
        ...     while n:
        ...         yield n
        ...         n -= 1
        >>> with helpers.recording_steps() as rec:
        ...     tasks = [rec.wrap(countdown(3), "a"), rec.wrap(countdown(2), "b")]
        ...     while tasks:                      # round robin: one step each, in turn
        ...         task = tasks.pop(0)
        ...         try:
        ...             _ = next(task)
        ...             tasks.append(task)
        ...         except StopIteration:
        ...             pass
        >>> [lane.name for lane in rec.timeline.lanes]
        ['a', 'b']
    """
    return StepRecording()


async def record_tasks(*coros, names=None, timeout: float | None = 60.0) -> Timeline:
    """Run coroutines as asyncio tasks together; return the Timeline, one lane per task.

    ``await helpers.record_tasks(fetch(1), fetch(2))`` in a notebook;
    ``asyncio.run(helpers.record_tasks(...))`` in a script. Like ``asyncio.gather``, the
    first task that raises ends it all with its error. After ``timeout`` seconds (None:
    no limit) the tasks are cancelled and TimeoutError is raised. Either way, or when the
    caller is cancelled, no task is left behind.

        >>> import asyncio
        >>> async def nap(seconds):
        ...     await asyncio.sleep(seconds)
        >>> tl = asyncio.run(helpers.record_tasks(nap(0.02), nap(0.01)))
        >>> sorted({s.state for s in tl.lane("nap-2").spans})    # nap-2 ends first
        ['awaiting', 'finished', 'running']
    """
    if not coros:
        raise ValueError("no coroutines: give at least one, e.g. record_tasks(nap(0.1))")
    problem = None
    try:
        if names is not None:
            check_names(names, len(coros), "coroutine")
    except (TypeError, ValueError) as exc:
        problem = exc
    if problem is None and timeout is not None and not timeout > 0:
        problem = ValueError(f"timeout must be more than 0 seconds (or None), got {timeout}")
    for i, coro in enumerate(coros):
        if problem is None and not asyncio.iscoroutine(coro):
            problem = TypeError(f"argument {i} is a {type(coro).__name__}, not a coroutine: "
                                "call the async function, e.g. record_tasks(nap(0.1))")
    if problem is not None:
        for coro in coros:  # they will never run: close them, or Python warns "never awaited"
            if asyncio.iscoroutine(coro):
                coro.close()
        raise problem
    rec = StepRecording()
    with rec:
        tasks = []
        for i, coro in enumerate(coros):
            name = names[i] if names else f"{coro.__name__}-{i + 1}"
            tasks.append(asyncio.ensure_future(rec.wrap(coro, name)))
        try:
            done, pending = await asyncio.wait(tasks, timeout=timeout,
                                               return_when=asyncio.FIRST_EXCEPTION)
            for t in tasks:  # in the order given, as gather would
                if t in done and (t.cancelled() or t.exception() is not None):
                    t.result()  # raises the task's error (or CancelledError)
            if pending:
                raise TimeoutError(f"the tasks were not done after {timeout:g} s, so they were "
                                   "cancelled: give them longer with record_tasks(..., timeout=)")
        finally:
            for t in tasks:  # nothing is left behind on an error or a cancellation
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return rec.timeline
