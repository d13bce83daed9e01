"""Processes started inside ``helpers.recording()``, recorded: each child records itself.

While a recording runs, ``multiprocessing``'s ``Process.start`` (behind Process, Pool and
ProcessPoolExecutor, with every start method) gives the new process a ``run`` of ours,
ChildRun: a class of this module, so that a spawn or forkserver child can import it. In the
child it records the process as recording() records this one (its threads included), runs
the process's own ``run``, and writes its lanes to a file that the parent reads when the
block ends (a file, not a pipe: a parent busy joining a child never waits for a child that
waits for it). A pool worker's tasks become labelled stretches of its lane; a job given to
a spawned pool is checked as a Process target is (_check_job). A child that died without
its record, or still runs CHILD_GRACE seconds after the block, is named in a warning and
in the timeline's notes (the picture's title).

    >>> import multiprocessing, time
    >>> with helpers.recording() as rec:
    ...     p = multiprocessing.Process(target=time.sleep, args=(0.05,)); p.start(); p.join()
    >>> len({lane.pid for lane in rec.timeline.lanes})   # this process and the child
    2
"""

from __future__ import annotations

import concurrent.futures.process
import dataclasses
import functools
import multiprocessing as mp
import multiprocessing.connection
import multiprocessing.pool
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from multiprocessing.process import BaseProcess

from .processes import _check_sendable
from .recorder import LaneRecord, now
from .tasks import run_info
from .timeline import Timeline

__all__ = ["CHILD_GRACE", "ChildProcesses", "ChildRun"]

# Seconds the end of a recording waits, at most, for its children's records.
CHILD_GRACE = 3.0

_active: ChildProcesses | None = None  # the one watching this process's starts, if any


def _forget_after_fork() -> None:
    """A forked child does not record into its parent's recording (see helpers.threads)."""
    global _active
    if _active is not None:
        _active._put_back()
        _active = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


@dataclasses.dataclass
class _Child:
    process: BaseProcess
    path: str  # where the child writes its record
    requested_ns: int  # when start() was called: its "starting" begins here
    start_method: str
    name: str
    pid: int


class ChildProcesses:
    """The processes started while one recording runs: started recorded, read at its end.

    ``recording_class`` is what records a child (helpers.threads.Recording): passed in,
    so that this module never imports the one that imports it.
    """

    def __init__(self, recording_class: type, switch_interval: float | None) -> None:
        self.recording_class = recording_class
        self.switch_interval = switch_interval
        self.children: list[_Child] = []
        self.labels: dict[tuple[int, int], list[tuple[int, int, str]]] = {}  # (pid, tid) ->
        self.notes: list[str] = []
        self._folder: str | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> ChildProcesses:
        global _active
        self._original_start = BaseProcess.start
        watch = self

        def start(process: BaseProcess) -> None:  # Process.start, recorded
            watch._start(process)

        BaseProcess.start = start
        # A pool's jobs travel later, pickled: each is checked as it is given to the pool.
        self._original_entries = [(cls, name, cls.__dict__[name]) for cls, name in _POOL_ENTRIES]
        for cls, name, method in self._original_entries:
            setattr(cls, name, _checking(method))
        _active = self
        return self

    def _put_back(self) -> None:
        """Process.start and the pools' methods as they were."""
        BaseProcess.start = self._original_start
        for cls, name, method in self._original_entries:
            setattr(cls, name, method)

    def _start(self, process: BaseProcess) -> None:
        if getattr(process, "_helpers_worker", False):  # run_processes records its own
            self._original_start(process)
            return
        method = _start_method(process)
        _check_process(process, method)
        with self._lock:
            if self._folder is None:
                self._folder = tempfile.mkdtemp(prefix="helpers-records-")
            path = os.path.join(self._folder, f"{len(self.children)}.pickle")
        own_run = process.__dict__.get("run")  # an instance's own run, rare
        # A forked child inherits the signal mask: with SIGTERM held back from the fork
        # on, a pool that terminates a worker at once still gets its record.
        mask = _block_sigterm() if method == "fork" else None
        blocked_before = mask is not None and signal.SIGTERM in mask
        process.run = ChildRun(self.recording_class, path, self.switch_interval, own_run,
                               unblock=not blocked_before)  # fmt: skip
        requested = now()
        try:
            self._original_start(process)  # fork copies, spawn pickles: the child has ChildRun
        finally:
            _unblock_sigterm(mask)
            if own_run is None:
                del process.run
            else:
                process.run = own_run
        with self._lock:
            self.children.append(_Child(process, path, requested, method, process.name,
                                        process.pid))  # fmt: skip

    def stop(self, failed: bool) -> list[LaneRecord]:
        """Put Process.start back; read each child's record (CHILD_GRACE s at most).

        ``failed``: the block raised (an error, an interrupt), so the children still
        running are terminated; they write what they recorded before they go.
        """
        global _active
        if _active is self:
            _active = None
        self._put_back()
        records: list[LaneRecord] = []
        pending = list(self.children)
        try:
            if failed:
                for child in pending:
                    if not _ended(child.process):
                        child.process.terminate()
            deadline = time.monotonic() + CHILD_GRACE
            while pending:
                for child in list(pending):
                    ended = _ended(child.process)
                    if os.path.exists(child.path):
                        records += self._read(child)
                    elif ended:
                        self.notes.append(f"{_who(child)} ended ({_exit(child.process)}) "
                                          "before it sent its record: not drawn.")  # fmt: skip
                    else:
                        continue
                    pending.remove(child)
                if not pending or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if pending:
                names = ", ".join(_who(c) for c in pending)
                self.notes.append(f"Still running {CHILD_GRACE:g} s after the block, not drawn: "
                                  f"{names}.")  # fmt: skip
                warnings.warn(f"helpers.recording(): {names} still running {CHILD_GRACE:g} s "
                              "after the block ended; its lanes are not drawn. Join your "
                              "processes (or shut the pool down) inside the `with` block.",
                              RuntimeWarning, stacklevel=4)  # fmt: skip
        finally:
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
        return records

    def _read(self, child: _Child) -> list[LaneRecord]:
        with open(child.path, "rb") as f:
            sent = pickle.load(f)
        group = f"process {child.pid} ({child.name})"
        records = [dataclasses.replace(r, process_name=group) if r.pid == child.pid else r
                   for r in sent["records"]]  # fmt: skip
        if records:  # the child's main thread: named after the process; it started when asked
            records[0] = dataclasses.replace(records[0], name=child.name,
                                             requested_ns=child.requested_ns)  # fmt: skip
        for (tid, start, end, label) in sent["labels"]:
            self.labels.setdefault((child.pid, tid), []).append((start, end, label))
        if sent["outcome"]:
            self.notes.append(f"{_who(child)} {sent['outcome']}")
        return records

    def timeline(self, records: list[LaneRecord]) -> Timeline:
        """The timeline of the recording: this process's lanes, then each child's."""
        methods = sorted({c.start_method for c in self.children})
        processes = len({r.pid for r in records}) > 1
        info = run_info("processes" if processes else "threads",
                        ", ".join(methods) if processes else None, self.switch_interval)
        from .rules_fast import build_timeline  # here: a spawned child needs no numpy
        tl = build_timeline(records, info)
        if self.labels:
            lanes = tuple(dataclasses.replace(ln, labels=tuple(self.labels[ln.pid, ln.native_id]))
                          if (ln.pid, ln.native_id) in self.labels else ln for ln in tl.lanes)
            tl = dataclasses.replace(tl, lanes=lanes)
        if self.notes:
            tl = dataclasses.replace(tl, notes=(*tl.notes, *self.notes))
        return tl


def _start_method(process: BaseProcess) -> str:
    """How the process will be started: its context's method, or the default."""
    return getattr(process, "_start_method", None) or mp.get_start_method()


def _check_process(process: BaseProcess, method: str) -> None:
    """Under spawn and forkserver the child imports what it runs: say so before it fails."""
    if method == "fork":
        return
    run = type(process).run
    if run is not BaseProcess.run:  # a subclass with its own run(): the class is sent
        _check_sendable(type(process), process.name, method, what="the Process class")
    elif process._target is not None:
        _check_sendable(process._target, process.name, method, what="the target of process")
    if process._target in (mp.pool.worker, concurrent.futures.process._process_worker):
        initializer = process._args[2]  # Pool(initializer=...): every worker runs it first
        if initializer is not None:
            _check_sendable(initializer, _name(initializer), method, what="the pool's initializer")


# --- a pool's jobs: checked when given to a pool of spawned processes ------------------

# Where a job enters a pool. Pool.map, starmap and their _async forms go through _map_async;
# apply through apply_async; ProcessPoolExecutor.map through submit.
_POOL_ENTRIES = [(mp.pool.Pool, "apply_async"), (mp.pool.Pool, "_map_async"),
                 (mp.pool.Pool, "imap"), (mp.pool.Pool, "imap_unordered"),
                 (concurrent.futures.process.ProcessPoolExecutor, "submit")]  # fmt: skip


def _checking(method):
    """``method`` of a pool, checking its job first (it is the argument after self)."""

    @functools.wraps(method)
    def checked(pool, func, *args, **kwargs):
        _check_job(pool, func)
        return method(pool, func, *args, **kwargs)

    return checked


def _check_job(pool, func) -> None:
    """A spawned worker unpickles its job by name: a notebook's function cannot be found
    there. Without this a Pool waits forever for the job's result, and a
    ProcessPoolExecutor says only that a process "was terminated abruptly"."""
    if isinstance(pool, mp.pool.ThreadPool):
        return  # threads: nothing is sent
    context = getattr(pool, "_ctx", None) or getattr(pool, "_mp_context", None)
    method = context.get_start_method() if context is not None else mp.get_start_method()
    chunk = concurrent.futures.process._process_chunk  # ProcessPoolExecutor.map's wrapper
    if isinstance(func, functools.partial) and func.func is chunk and func.args:
        func = func.args[0]
    _check_sendable(func, _name(func), method, what="the function given to the pool")


def _name(func) -> str:
    func = getattr(func, "func", func)  # functools.partial(f, ...) is f
    return getattr(func, "__name__", None) or type(func).__name__


def _ended(process: BaseProcess) -> bool:
    """Has the process ended? Read from its sentinel: it does not reap the child."""
    try:
        return bool(mp.connection.wait([process.sentinel], 0))
    except (ValueError, OSError):  # closed: only an ended process can be
        return True


def _exit(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _who(child: _Child) -> str:
    return f"{child.name} (pid {child.pid})"


class ChildRun:
    """The ``run`` of a process started inside a recording; it runs in the child.

    Records the process while its own ``run`` runs, then writes the lanes (and a pool
    worker's tasks) to ``path``. If the process is terminated (SIGTERM, as
    Pool.terminate does), it writes them first, then ends as terminated.
    """

    def __init__(self, recording_class: type, path: str, switch_interval: float | None,
                 own_run=None, unblock: bool = True) -> None:  # fmt: skip
        self.recording_class = recording_class
        self.unblock = unblock  # a forked child starts with SIGTERM held back: let it through
        self.path = path
        self.switch_interval = switch_interval
        self.own_run = own_run

    def __call__(self) -> None:
        me = mp.current_process()
        self._recording, self._labels, self._done = None, [], False
        # A pool may terminate a worker at once: SIGTERM waits until the recording is ready.
        blocked = _block_sigterm()
        try:
            terminated = _on_sigterm(self._terminated)
            self._recording = self.recording_class(switch_interval=self.switch_interval)
            self._recording.__enter__()
            _label_pool_tasks(me, self._labels)
        finally:
            _unblock_sigterm(blocked)
            if self.unblock and blocked is not None:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        outcome = ""
        try:
            if self.own_run is not None:
                self.own_run()
            else:
                type(me).run(me)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                outcome = f"exited with sys.exit({exc.code!r})."
            raise
        except BaseException as exc:
            outcome = f"raised {type(exc).__name__}: {exc}"
            if "Can't get attribute" in str(exc) and "__main__" in str(exc):
                outcome += " (define the function in a module)"
            raise
        finally:  # a SIGTERM now (Pool.terminate) waits until the record is written
            mask = _block_sigterm()
            try:
                self._send(outcome)
            finally:
                if terminated:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _unblock_sigterm(mask)

    def _terminated(self, signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self._send("")
        os.kill(os.getpid(), signal.SIGTERM)  # end as terminated, as the parent asked

    def _send(self, outcome: str) -> None:
        if self._done or self._recording is None:
            return
        self._done = True
        records = self._recording.stop()
        sent = {"records": records, "labels": self._labels, "outcome": outcome}
        try:
            with open(self.path + ".part", "wb") as f:
                pickle.dump(sent, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(self.path + ".part", self.path)  # complete, or not there at all
        except OSError:
            pass  # the parent gave up waiting and removed the folder: nobody reads it


def _block_sigterm():
    """Hold SIGTERM back (POSIX): delivered when unblocked. Returns the mask to restore."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _unblock_sigterm(mask) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _on_sigterm(handler) -> bool:
    """Catch SIGTERM in the child's main thread, unless the program has its own handler."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGTERM, handler)
    return True


# --- a pool worker's tasks, as labelled stretches ------------------------------------


def _label_pool_tasks(process: BaseProcess, labels: list) -> None:
    """If the process is a worker of a Pool or a ProcessPoolExecutor, label its tasks.

    Both workers take their jobs from a queue (``get``); each job is wrapped so that
    it notes when it ran and what it was.
    """
    target, args = process._target, process._args
    pool = sys.modules.get("multiprocessing.pool")
    futures = sys.modules.get("concurrent.futures.process")
    if pool is not None and target is pool.worker and args:
        queue, unpack = args[0], _pool_job
    elif futures is not None and target is futures._process_worker and args:
        queue, unpack = args[0], _executor_job
    else:
        return
    get = queue.get

    def labelled_get(*a, **k):
        job = get(*a, **k)
        return job if job is None else unpack(job, labels)

    queue.get = labelled_get


class _Task:
    """A pool's job, noting when it ran: (thread id, start, end, label)."""

    def __init__(self, func, label: str, labels: list) -> None:
        self.func, self.label, self.labels = func, label, labels

    def __call__(self, *args, **kwargs):
        start = now()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.labels.append((threading.get_native_id(), start, now(), self.label))


def _label(func, args) -> str:
    """"square", or "square ×4" for a chunk of four items of a map."""
    inner, chunk = func, None
    name = getattr(func, "__name__", "")
    if name in ("mapstar", "starmapstar") and args and len(args[0]) == 2:  # Pool.map
        inner, chunk = args[0]
    elif getattr(getattr(func, "func", None), "__name__", "") == "_process_chunk":  # map
        inner, chunk = func.args[0], args[0] if args else None
    inner = getattr(inner, "func", inner)  # functools.partial(f, ...) is f
    label = getattr(inner, "__name__", None) or type(inner).__name__
    try:
        n = len(chunk) if chunk is not None else 1
    except TypeError:
        n = 1
    return f"{label} ×{n}" if n > 1 else label


def _pool_job(job, labels):
    if not isinstance(job, tuple) or len(job) != 5:
        return job
    number, i, func, args, kwargs = job
    return number, i, _Task(func, _label(func, args), labels), args, kwargs


def _executor_job(item, labels):
    if hasattr(item, "fn"):
        item.fn = _Task(item.fn, _label(item.fn, item.args), labels)
    return item
