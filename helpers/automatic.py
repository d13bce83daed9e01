"""Automatic recording of any Python code: the heartbeats of code that does not beat itself.

A built-in workload says itself when it runs (``lane.beat()``). Code you write does not,
so Python is asked to tell us: each time a Python function starts (or a generator
resumes), and each time a function written in C is called and returns, a small callback
of ours runs in the thread that did it. What it records was recorded *by that thread,
while it was running Python*: under the GIL, proof that it held the GIL at that instant.
A C call longer than MIN_C_CALL_NS is also kept as a marked region, decided afterwards
from evidence (helpers.rules, rule 6). ``sys.monitoring`` on Python 3.12+,
``sys.setprofile`` on 3.10 and 3.11; line, jump and branch events would cost 7-35x.

    >>> lane = LaneRecorder("me", auto=True)
    >>> with automatic_recording():
    ...     attach(lane)
    ...     total = sum(range(10))
    ...     detach()
    >>> len(lane.beats) > 0 and list(lane.beats) == sorted(lane.beats)  # one clock, forward
    True
"""

from __future__ import annotations

import _thread
import concurrent.futures
import multiprocessing.process
import os
import queue
import selectors
import sys
import threading
import time
from contextlib import contextmanager
from types import (
    BuiltinFunctionType,
    ClassMethodDescriptorType,
    FunctionType,
    MethodDescriptorType,
    MethodType,
    ModuleType,
    WrapperDescriptorType,
)

from .recorder import C_CALL_AUTO, COMPUTED_SHARE, LaneRecorder, Mark
from .states import C_CALL

__all__ = ["MAX_BEATS", "MIN_C_CALL_NS", "USES_MONITORING", "attach", "automatic_recording",
           "c_label", "detach", "detach_other"]

USES_MONITORING = sys.version_info >= (3, 12)

# Heartbeats: function starts are many (fib(25) makes 242,785 calls in about 20 ms of a
# CPU) and the rules merge heartbeats closer than MERGE_GAP_NS (200 us) into one running
# span anyway, so a function start is recorded only when the thread's previous heartbeat
# is at least MIN_BEAT_GAP_NS old: nearer, it adds nothing to the picture and costs 8 bytes.
MIN_BEAT_GAP_NS = 5_000
# Reading the clock is itself the expensive part (about as long as a small function
# call), so in a dense stretch of calls the callback counts calls down and reads the clock
# when the count reaches zero, choosing the next count (at most MAX_SKIP) so that the
# clock is read about every SAMPLE_NS; where calls are sparse, it reads it at every call.
# Each heartbeat is still a real timestamp taken by the thread. The price: on 3.12+ the
# count is shared by all threads (a per-thread one would need the lookup it saves), so
# after a switch the next thread's first few calls (at most MAX_SKIP) may go unrecorded.
SAMPLE_NS = 50_000
MAX_SKIP = 63  # 2**n - 1: the count doubles (2k + 1) or halves
# C calls: a heartbeat when one is called and when it returns, always. Only C calls longer
# than this are kept as marked regions (start, end, C_CALL_AUTO, label, cpu_ns): the short
# ones (len, list.append, ...) are far too many to keep and show nothing on a timeline.
MIN_C_CALL_NS = 20_000
# Heartbeats kept per lane at most (8 bytes each): 4 million = 32 MB. A lane that reaches
# it stops being recorded, and ``lane.truncated_at`` says when.
MAX_BEATS = 4_000_000
# How often (at most) a recorded thread checks the stop flag and the cap: when the run
# is stopped, Stopped is raised in a worker at its next check.
CHECK_EVERY_NS = 20_000

# C functions whose CPU time is measured, by qualified name (``__qualname__``).
# ``time.thread_time_ns()`` costs about as much as ten heartbeats, far too much
# for every C call, so it is read at the call and at the return only for these:
# the usual long ones, and any C function seen to take longer than
# MIN_C_CALL_NS (it is added, so its later calls are measured). The set is only
# a hint of where to spend the time; what a call did is decided afterwards from
# its measured CPU time (cpu_ns), not from this list.
# A short call can look long: the OS may preempt the thread during it, or our
# callback at its return may wait for the GIL before taking the time. So a
# learned function is on probation: after PROBES measured calls in a row that
# were short, it leaves the set again (list.append must not pay 2 x 430 ns
# for ever because one call of it was preempted).
PROBES = 8
SAMPLE_CPU = {
    "sleep", "input", "select", "poll", "poll.poll", "epoll.poll", "devpoll.poll",
    "kqueue.control", "lock.acquire", "lock.acquire_lock", "RLock.acquire",
    "socket.recv", "socket.recv_into", "socket.recvfrom", "socket.recvfrom_into",
    "socket._accept", "socket.connect", "socket.connect_ex", "socket.send",
    "socket.sendall", "socket.sendto", "read", "readv", "write", "writev", "waitpid",
    "wait", "wait4", "getaddrinfo", "HASH.update", "HASH.digest", "HASH.hexdigest",
    "openssl_md5", "openssl_sha1", "openssl_sha224", "openssl_sha256", "openssl_sha384",
    "openssl_sha512", "new", "pbkdf2_hmac", "scrypt", "blake2b", "blake2s",
    "blake2b.update", "blake2s.update", "compress", "decompress", "Compress.compress",
    "Decompress.decompress", "BufferedReader.read", "FileIO.read", "FileIO.readinto",
    "FileIO.write", "BufferedWriter.write",
}  # fmt: skip

# Quiet call sites (3.12+): a place in the code (code object, offset) that has made
# QUIET_AFTER short calls in a row to the same C function, one that cannot give the GIL
# away (a method of a built-in value type, or a built-in like len; see _may_go_quiet), is
# switched off (sys.monitoring.DISABLE): `out.append(i)` in a loop then costs nothing.
# Functions that may block or release the GIL (SAMPLE_CPU, and any seen to be long) are
# watched at every call, always. Every REARM_S the events of the code that is running are
# switched back on (sys.monitoring.set_events, our tool only), so that a hot loop still
# beats a few times in each slice and a site whose callee changed is seen again; a site
# that ever called two different functions stays watched. Not below a switch interval of
# QUIET_MIN_INTERVAL: pictures of short slices need every event.
# Who switches them on: a recorded thread itself, at its next check (CHECK_EVERY_NS), while
# its code still calls back, and at once when it starts another thread or is back from a
# wait beside others (_wants_the_gil_now); else a helper thread. The helper must take the
# GIL to do it, and each time it does, a thread that waits for the GIL begins its switch
# interval again: looking every 5 ms, it stretched two CPU-bound threads' slices (3.13,
# real-time priority: a median of 6.2-8.5 ms in 8 runs of 20, not 5); looking every 20 ms,
# in 2 runs of 100 (one thread's slices 10-20 ms: the helper took the GIL the waiting thread
# had asked for, and the holder got it back; looking at 5, 25, 65, 145 ms... failed 5 of
# 100). So while the recorded threads do it, the helper looks only every REARM_IDLE_S: 0
# runs of 100 (a changed callee, or threads gone silent, are then seen up to that late); as
# soon as it has to do it itself, every REARM_S again.
# With no site switched off it sleeps (REARM_SLEEP_S at most) until one is.
QUIET_AFTER = 8
REARM_S = 0.005
REARM_IDLE_S = 0.1
REARM_SLEEP_S = 1.0
_REARM_NS = int(REARM_S * 1e9)
# On 3.10/3.11 (sys.setprofile, where no place can be switched off) the calls of those
# same functions are only counted, and one in QUIET_EVERY gives a heartbeat: the profile
# function does as little as it can for them. (A method of a value type that iterates a
# file, list.extend(f) or "".join(f), waits for it unseen: drawn as silent Python.)
QUIET_EVERY = 32
QUIET_MIN_INTERVAL = 0.005
# Built-in functions and types whose calls cannot give the GIL away, nor read a file:
# they do not iterate over an argument (list(f), "".join(f) and sum(f) may read a file).
_QUIET_BUILTINS = frozenset([
    len, abs, isinstance, issubclass, hash, id, ord, chr, divmod, pow, round, repr, callable,
    getattr, hasattr, setattr, format, bin, hex, oct, iter, range, int, float, str, bool,
    complex, slice, enumerate, zip, reversed, map, filter,
])  # fmt: skip
_QUIET_OWNERS = frozenset([list, dict, str, bytes, bytearray, tuple, set, frozenset, int,
                           float, bool, complex])  # fmt: skip
# Module functions that compute and return, holding the GIL throughout: the clocks, and
# every function of math and cmath (a long math.factorial holds it to the end).
_QUIET_FUNCS = frozenset([
    time.perf_counter, time.perf_counter_ns, time.monotonic, time.monotonic_ns, time.time,
    time.time_ns, time.thread_time, time.thread_time_ns, time.process_time,
    time.process_time_ns,
])  # fmt: skip
_QUIET_MODULES = frozenset(["math", "cmath"])
_ITERATES = frozenset(["extend", "update", "join", "union", "intersection", "difference",
                       "symmetric_difference", "issubset", "issuperset", "isdisjoint",
                       "fromkeys", "intersection_update", "difference_update",
                       "symmetric_difference_update", "__init__", "__new__"])  # fmt: skip

now = time.perf_counter_ns
_thread_time = time.thread_time_ns
_sleep = time.sleep
_get_ident = threading.get_ident


# --- naming C functions ------------------------------------------------------------


def c_label(func) -> str:
    """The name a long C call is shown with: its qualified name with its module.

    The module is the function's ``__module__``, or for a method the module of
    the class it belongs to; a leading underscore is dropped (``_hashlib`` ->
    ``hashlib``, ``_thread`` -> ``thread``), and ``builtins`` is left out:
    "time.sleep", "hashlib.HASH.update", "thread.lock.acquire", "str.join", "len".
    """
    name = _qualname(func)
    owner = getattr(func, "__objclass__", None)  # a method taken from its class
    if owner is None:
        bound_to = getattr(func, "__self__", None)  # a method bound to an object
        if bound_to is not None and not isinstance(bound_to, ModuleType):
            owner = type(bound_to)
    module = getattr(owner if owner is not None else func, "__module__", None)
    if not isinstance(module, str) or module == "builtins":
        return name
    if module.startswith("_") and not module.startswith("__"):
        module = module[1:]
    return f"{module}.{name}"


# Python functions of the standard library that wait by acquiring a lock inside: Queue.get
# waits in Condition.wait, which waits in lock.acquire. A long lock.acquire called from inside
# them is named after the outermost one, the call the learner wrote: "Queue.get".
_WAITS_NAMED = {f.__code__: f.__qualname__ for f in [  # short names: they must fit in a bar
    queue.Queue.get, queue.Queue.put, queue.Queue.join, threading.Condition.wait,
    threading.Condition.wait_for, threading.Event.wait, threading.Semaphore.acquire,
    threading.Barrier.wait, threading.Thread.join, concurrent.futures.Future.result]}
# A process's join() waits for its sentinel in select's poll, through multiprocessing's
# Popen classes and connection.wait: named as the learner wrote it, p.join().
_WAITS_NAMED[multiprocessing.process.BaseProcess.join.__code__] = "Process.join"
_MP = os.path.dirname(multiprocessing.__file__)
_WAIT_FILES = {code.co_filename for code in _WAITS_NAMED} | {selectors.__file__} | {
    os.path.join(_MP, f"{name}.py")
    for name in ("connection", "popen_fork", "popen_forkserver", "popen_spawn_posix")}
# The C functions they wait in: a lock, from 3.13 a thread's handle (Thread.join), a poll.
_WAITS_INSIDE = ("thread.lock.acquire", "thread.RLock.acquire", "thread._ThreadHandle.join",
                 "select.poll.poll", "select.epoll.poll", "select.select")


def _wait_label(label: str, frame=None) -> str:
    """The label of a long lock.acquire: the threading or queue function it waited in, if any.

    Walks out from the call (``frame``: the caller's; by default, the first frame
    outside this module) through the frames of the files of _WAITS_NAMED (threading.py,
    queue.py, concurrent/futures/_base.py); the outermost one in it names the wait.
    """
    if frame is None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == __file__:
            frame = frame.f_back
    while frame is not None and frame.f_code.co_filename in _WAIT_FILES:
        label = _WAITS_NAMED.get(frame.f_code, label)
        frame = frame.f_back
    return label


def _qualname(func) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return name if isinstance(name, str) else type(func).__name__


# Learned names in SAMPLE_CPU -> measured calls left before they leave it.
_probation: dict[str, int] = {}

# Whether to measure CPU time (see _wants_cpu), remembered per function object for
# objects that live as long as the function (module functions, methods taken from
# a class, classes), so that the usual C call pays one dict lookup.
_wants_cpu_memo: dict[object, int] = {}
_MEMO_SIZE = 4096
_STABLE = (MethodDescriptorType, ClassMethodDescriptorType, WrapperDescriptorType, type)
_NO, _YES, _ON_PROBATION = 0, 1, 2


# For methods bound to an object (every method call on 3.10/3.11, made anew at
# each call, so not remembered above): does the object's class have a method in
# SAMPLE_CPU at all? list, dict, str... do not, and are answered at once.
_class_memo: dict[type, bool] = {}


def _wants_cpu(func) -> int:
    """Whether a call of this C function gets its CPU time measured (see SAMPLE_CPU)."""
    if type(func) is BuiltinFunctionType:
        bound_to = func.__self__
        stable = bound_to is None or type(bound_to) is ModuleType
        if not stable:
            cls = type(bound_to)
            has = _class_memo.get(cls)
            if has is None:
                prefix = f"{cls.__qualname__}."
                # A copy: another thread may add a learned name meanwhile ("Set changed
                # size during iteration" killed a ProcessPoolExecutor's manager thread).
                has = _class_memo[cls] = any(n.startswith(prefix) for n in SAMPLE_CPU.copy())
            if not has:
                return _NO
    else:
        stable = isinstance(func, _STABLE)
    name = _qualname(func)
    wanted = _NO if name not in SAMPLE_CPU else _ON_PROBATION if name in _probation else _YES
    if stable and len(_wants_cpu_memo) < _MEMO_SIZE:
        _wants_cpu_memo[func] = wanted
    return wanted


def _long_c_call(lane: LaneRecorder, start: int, end: int, func, cpu_start: int,
                 wanted: int, asleep_ns: int = -1) -> None:  # fmt: skip
    """Keep a C call longer than MIN_C_CALL_NS as a marked region; learn its name.

    ``asleep_ns``: how long a ``time.sleep`` was asked to sleep (3.12+, where the
    call's argument is seen). Its region ends then, as a workload's sleep does
    (``LaneRecorder.region``'s ``expected_s``): the time until it returned it spent
    getting the GIL (and a core) back, and the rules say so.

    Its CPU time (helpers.recorder.Mark): measured exactly where it was read at
    the call (SAMPLE_CPU). Otherwise the thread's CPU clock, read now, still
    gives a lower bound: the CPU used since the last reading, less the wall
    time before the call began (no thread uses more CPU than wall time).
    Where Linux says how long the thread waited for a core during the call,
    the CPU time is scaled to the time it did not (see _unqueued). A lower
    bound is kept when it proves that the call computed
    (helpers.recorder.COMPUTED_SHARE; hashlib, the first time); else -1.
    """
    cpu_now = _thread_time()
    length = end - start
    queued = _queued_during(lane, start, end)
    if cpu_start >= 0:
        cpu = _unqueued(cpu_now - cpu_start, queued, length)
    else:
        seen_at, seen_cpu = lane.cpu_seen
        at_least = _unqueued(cpu_now - seen_cpu - max(0, start - seen_at), queued, length)
        cpu = at_least if at_least >= COMPUTED_SHARE * length else -1
    lane.cpu_seen = (end, cpu_now)
    if asleep_ns >= 0:
        end = min(end, start + asleep_ns)  # it slept that long; after, it waited to run
    label = c_label(func)
    if label in _WAITS_INSIDE:
        label = _wait_label(label)
    kind = C_CALL_AUTO
    if len(lane.beats) >= 2 and lane.beats[-2] <= start and _keeps_gil(func):
        # It cannot let the GIL go and ran no Python: it held the GIL. Where another
        # thread ran before its end was seen, it had returned, and our callback, a Python
        # function, waited for the GIL at its start (the interpreter checks there): the
        # rules end such a call at the other thread's first heartbeat (rule 4).
        kind = C_CALL
    lane.marks.append(Mark(start, end, kind, label, cpu))
    if wanted != _YES:  # learn it, or keep it on probation for PROBES more calls
        name = _qualname(func)
        SAMPLE_CPU.add(name)
        _probation[name] = PROBES
        if wanted == _NO:
            _wants_cpu_memo.clear()
            _class_memo.clear()


def _unqueued(cpu: int, queued: int, length: int) -> int:
    """CPU time scaled to the part of the call the thread did not spend waiting for a core.

    On a crowded core a computation gets a small share of the core and waits for
    it the rest of the time, while a wait (sleep, a lock) uses no CPU however
    long it then queues to get going again. So what tells them apart is the
    CPU share of the time the thread was not queued: cpu * length / (length - queued).
    """
    if queued <= 0:
        return cpu
    if queued >= length:
        return length
    return min(length, cpu * length // (length - queued))


def _queued_during(lane: LaneRecorder, start: int, end: int) -> int:
    """At least how long the thread waited for a core between start and end (0 if unknown).

    The run-queue wait since the last reading, less the wall time before start.
    """
    seen_at, seen = lane.queue_seen
    queued = lane.run_queue_ns()
    if queued < 0 or seen < 0:
        return 0
    lane.queue_seen = (end, queued)
    return max(0, queued - seen - max(0, start - seen_at))


def _close_open_call(lane: LaneRecorder) -> None:
    """Recording of a thread stops while it is inside a long C call (blocked in
    ``q.get()`` for ever, say): keep that call as a mark up to now, with the CPU time
    it used so far, so that the lane shows the wait to its end, not "finished"."""
    ident, calls = lane.open_calls or (0, [])
    lane.open_calls = None
    frame = sys._current_frames().get(ident)  # None: the thread has ended
    if not calls or frame is None:
        return
    start, func, cpu_start, _ = calls[-1]
    end = now()
    if end - start <= MIN_C_CALL_NS:
        return
    cpu = -1
    if cpu_start >= 0:
        try:
            cpu_now = lane.cpu_clock_ns()
        except OSError:  # it ended just now: its clock is gone
            return
        if cpu_now is not None:
            cpu = max(0, cpu_now - cpu_start)
    label = c_label(func)
    if label in _WAITS_INSIDE:
        label = _wait_label(label, frame)
    lane.marks.append(Mark(start, end, C_CALL_AUTO, label, cpu))


def _short_c_call(func) -> None:
    """A measured call of a learned function was short: one probe fewer."""
    name = _qualname(func)
    left = _probation.get(name, 0) - 1
    if left > 0:
        _probation[name] = left
    else:
        _probation.pop(name, None)
        SAMPLE_CPU.discard(name)
        _wants_cpu_memo.clear()
        _class_memo.clear()


def _keeps_gil(func) -> bool:
    """_may_go_quiet, remembered (in _quiet_fn)."""
    try:
        ok = _quiet_fn.get(func)
    except TypeError:
        return False
    if ok is None:
        ok = _may_go_quiet(func)
        if len(_quiet_fn) < _MEMO_SIZE:
            _quiet_fn[func] = ok
    return ok


def _may_go_quiet(func) -> bool:
    """Whether a call site of this C function may be switched off once it proved short.

    Only functions that cannot give the GIL away or wait: the built-ins of
    _QUIET_BUILTINS, the clocks and math functions of _QUIET_FUNCS and _QUIET_MODULES,
    and the methods of built-in value types (list.append, str.lower, dict.get...) that
    do not iterate over an argument. Whatever Python code they call
    back (a __hash__, a key function) is still seen: its PY_START is never switched off.
    """
    try:
        if func in _QUIET_BUILTINS or func in _QUIET_FUNCS:
            return True
    except TypeError:  # unhashable
        return False
    if type(func) is BuiltinFunctionType and getattr(func, "__module__", None) in _QUIET_MODULES:
        return True
    owner = getattr(func, "__objclass__", None)
    if owner is None and type(func) is BuiltinFunctionType:
        owner = type(func.__self__)
    return owner in _QUIET_OWNERS and getattr(func, "__name__", "") not in _ITERATES


# --- Python 3.12+: sys.monitoring ----------------------------------------------------
# sys.monitoring is process-wide: one set of callbacks serves every thread and
# looks up the calling thread's state in _lanes (thread ident -> state).
# The state of a recorded thread, a list for speed (indices below):
_LAST, _APPEND, _CALLS, _LANE, _CHECK_AT, _SAMPLED_AT, _SKIP = range(7)
# _LAST: its latest heartbeat; _APPEND: lane.beats.append; _CALLS: C calls in
# progress, (start, function, CPU time at start or -1, _wants_cpu); _CHECK_AT: when to check
# the stop flag and the cap next; _SAMPLED_AT, _SKIP: when it last read the clock
# at a function start, and how many starts it then let pass.

_lanes: dict[int, list] = {}
_tool_id: int | None = None
_EVENTS_PY = _EVENTS_ALL = 0  # the events we use (set when installed)
_DISABLE = getattr(getattr(sys, "monitoring", None), "DISABLE", None)
# Quiet sites (see QUIET_AFTER): (code, offset) -> the one function it calls, switched off;
# _sites: (code, offset) -> (function, short calls in a row); _mixed: sites never quiet.
_quiet: dict[tuple, object] = {}
_sites: dict[tuple, tuple] = {}
_mixed: set[tuple] = set()
_quiet_fn: dict[object, bool] = {}  # _may_go_quiet, remembered
_rearm = [False]  # a site was switched off since the events were last switched back on
_rearmed_at = [0]  # when they were last switched back on (now() ns), by whichever thread
_rearmed_by_code = [0]  # how many times the recorded threads' callbacks did it (_check)
_rearm_stop: list = []  # the lock the re-arming thread waits on, while it runs (a bell)
# Whether another recorded thread runs Python (it is in no C call, so it holds or wants the
# GIL), as the latest check found. Then a quiet site is not switched off: one thread's
# turn would go unseen, drawn as the other's (two threads appending in a loop, 3.13: one
# drawn running for 200 ms while the other waited, where their CPU clocks say each ran
# half the time). Its calls are counted instead, as on 3.10/3.11.
_contended = [False]
# The lanes of threads that were started (Thread.start) and have not begun to record yet:
# they want the GIL too. Without them, a thread that ran beside only the caller (blocked in
# start()) switched its sites off, ran unseen while the new thread started, and was drawn
# as the caller running (3.12: 5-10 ms in about one run of ten of two clock loops).
_starting: set[int] = set()


def _short_at(code, offset, func) -> None:
    """A short call at a site: after QUIET_AFTER in a row to one function, the site goes quiet."""
    key = (code, offset)
    if key in _mixed:
        return
    seen = _sites.get(key)
    if seen is not None and seen[0] is not func:
        _mixed.add(key)
        _sites.pop(key, None)
        return
    count = 1 if seen is None else seen[1] + 1
    if count < QUIET_AFTER:
        _sites[key] = (func, count)
        return
    _sites.pop(key, None)
    if _keeps_gil(func) and sys.getswitchinterval() >= QUIET_MIN_INTERVAL:
        _quiet[key] = func  # its next call switches it off
    else:
        _mixed.add(key)


def _switch_back_on(t: int) -> None:
    """Switch our C-call events back on in the code that is running (set_events
    instruments the running frames at once), from any thread, without a lock: a lock
    would be held while its holder waits for the GIL, and the others could not do it."""
    tool = _tool_id
    if tool is None:
        return  # the run is over
    _rearm[0] = False
    _rearmed_at[0] = t
    # Off, then on again, in one C call (map, run by list): no switch of the GIL can fall
    # between the two. One that did left every thread's C calls unseen until this thread
    # had the GIL back (3.12: a thread ran for 15 ms unseen, and a join went unrecorded).
    try:
        list(map(sys.monitoring.set_events, (tool, tool), (_EVENTS_PY, _EVENTS_ALL)))
    except ValueError:  # the run ended just now, and the tool id was given back
        pass


def _rearm_loop(bell) -> None:
    """While sites are switched off, switch them back on every REARM_S, unless the
    recorded threads did it since the last look: then look again in REARM_IDLE_S.
    With nothing switched off it sleeps until a site is (``_ring``) or the run ends."""
    last_seen = _rearmed_by_code[0]
    wait = REARM_S
    while True:
        rung = bell.acquire(timeout=wait)
        if not _rearm_stop or _rearm_stop[0] is not bell:
            return  # the run is over
        if rung:  # a site was switched off: back on in REARM_S, unless code does it
            wait = REARM_S
            continue
        if _rearmed_by_code[0] != last_seen:  # a recorded thread did it: their code calls back
            last_seen = _rearmed_by_code[0]
            wait = REARM_IDLE_S
            continue
        if not _rearm[0]:  # nothing switched off (every site counted, see _contended)
            wait = REARM_SLEEP_S
            continue
        wait = REARM_S
        _switch_back_on(now())


def _ring() -> None:
    """A site was switched off: wake the re-arming thread (it switches it back on)."""
    bell = _rearm_stop[0] if _rearm_stop else None
    if bell is not None and bell.locked():
        try:
            bell.release()
        except RuntimeError:  # released meanwhile: it is awake
            pass


def _new_state(lane: LaneRecorder) -> list:
    last = lane.beats[-1] if len(lane.beats) else 0
    calls: list[tuple] = []
    lane.open_calls = (_get_ident(), calls)
    return [last, lane.beats.append, calls, lane, 0, 0, 0]


def _check(state: list, t: int) -> None:
    """Now and then (CHECK_EVERY_NS): has the run been stopped, or the lane filled up?
    Are switched-off sites due to be switched back on (REARM_S)?"""
    state[_CHECK_AT] = t + CHECK_EVERY_NS
    # A thread in a C call that keeps the GIL holds it, or waits for it in our callback.
    _contended[0] = bool(_starting) or any(
        not other[_CALLS] or _keeps_gil(other[_CALLS][-1][1])
        for other in list(_lanes.values()) if other is not state)  # fmt: skip
    if _rearm[0] and t - _rearmed_at[0] >= _REARM_NS:
        _switch_back_on(t)
        _rearmed_by_code[0] += 1
    lane = state[_LANE]
    if lane.control.stop:
        _lanes.pop(_get_ident(), None)
        lane.check_stop()  # raises Stopped in a worker; the caller's lane just ends
    elif len(lane.beats) >= MAX_BEATS:
        _lanes.pop(_get_ident(), None)
        lane.truncated_at = t


def _make_callbacks():
    """The three callbacks. They share ``skip``: function starts to let pass.

    ``skip`` is one counter for all threads (a per-thread one would need the
    thread lookup that it exists to avoid). When one thread hands over to
    another, the other's next few starts may go unrecorded: at most MAX_SKIP,
    and a C call (where threads usually hand over) resets it.
    """
    skip = 0
    owner = None  # the state of the thread that set ``skip``
    counted = QUIET_EVERY  # quiet calls to count before a heartbeat (see _contended)
    # The latest call counted so (of any thread), and where: its return is not timed. A call
    # of the same function elsewhere, timed by another thread while the GIL changed hands in
    # a callback, is: its return was taken for the counted one (3.12, two clock loops: the
    # call left open, its thread was read as waiting in a C call, the other went unseen).
    counted_fn = counted_code = None
    counted_at = -1
    contended = _contended
    lanes_get = _lanes.get
    memo_get = _wants_cpu_memo.get
    quiet_get = _quiet.get

    def on_start(code, offset):  # PY_START, PY_RESUME
        nonlocal skip, owner
        if skip:
            skip -= 1
            return
        s = lanes_get(_get_ident())
        if s is None:
            return  # a thread we do not record
        t = now()
        if t - s[_LAST] >= MIN_BEAT_GAP_NS:
            s[_LAST] = t
            s[_APPEND](t)
            if t >= s[_CHECK_AT]:
                _check(s, t)
        # How many starts to let pass before reading the clock again: aim at every
        # SAMPLE_NS, doubling or halving (inlined: this runs often).
        k = s[_SKIP]
        if t - s[_SAMPLED_AT] < SAMPLE_NS:
            k = k + k + 1 if k < MAX_SKIP else MAX_SKIP
        else:
            k >>= 1
        skip = s[_SKIP] = k
        s[_SAMPLED_AT] = t
        owner = s

    def on_call(code, offset, func, arg0):  # CALL: a function is about to be called
        nonlocal skip, counted, counted_fn, counted_code, counted_at
        quiet = quiet_get((code, offset))
        if quiet is func and contended[0]:
            # Short calls only, but another recorded thread wants the GIL: counted, and
            # a heartbeat every QUIET_EVERY-th, so that each thread's turns are seen.
            counted_fn, counted_code, counted_at = func, code, offset
            counted -= 1
            if counted > 0:
                return None
            counted = QUIET_EVERY
            s = lanes_get(_get_ident())
            if s is not None:
                t = now()
                s[_APPEND](t)
                s[_LAST] = t
                if t >= s[_CHECK_AT]:
                    _check(s, t)
            return None
        counted_fn = None
        if type(func) is FunctionType or type(func) is MethodType:
            # A Python function: its PY_START gives the heartbeat. Switch this call
            # site off (for every thread, until the next run) so calls cost one event.
            return _DISABLE
        s = lanes_get(_get_ident())
        if quiet is not None:
            if quiet is func:  # short calls only, so far: off again (a heartbeat first)
                if s is not None:
                    t = now()
                    s[_APPEND](t)
                    s[_LAST] = t
                if not _rearm[0]:
                    _rearm[0] = True
                    _ring()
                return _DISABLE
            _quiet.pop((code, offset), None)  # its callee changed: watched from now on
            _mixed.add((code, offset))
        if s is not None:  # a C function: a heartbeat, and remember when it started
            if s is not owner:
                skip = 0
            try:
                wants = memo_get(func)
            except TypeError:  # an unhashable callable, e.g. a weakref to a WeakSet
                wants = _NO
            if wants is None:
                wants = _wants_cpu(func)
            t = now()
            s[_APPEND](t)
            s[_LAST] = t
            s[_CALLS].append((t, func, _thread_time() if wants else -1, wants))

    def on_c_return(code, offset, func, arg0):  # C_RETURN, C_RAISE
        if func is counted_fn and offset == counted_at and code is counted_code:
            return None  # a quiet site's call, counted at its start (see on_call)
        s = lanes_get(_get_ident())
        if s is not None:
            calls = s[_CALLS]
            t = now()
            s[_APPEND](t)
            s[_LAST] = t
            if calls and calls[-1][1] is func:
                start, _, cpu_start, wants = calls.pop()
                if t - start > MIN_C_CALL_NS:
                    if _rearm[0] and len(_lanes) > 1:  # back from a wait, beside others
                        _wants_the_gil_now()
                    asleep = -1
                    if func is _sleep and type(arg0) in (int, float) and arg0 >= 0:
                        asleep = int(arg0 * 1e9)  # how long it was asked to sleep
                    _long_c_call(s[_LANE], start, t, func, cpu_start, wants, asleep)
                    _sites.pop((code, offset), None)
                elif wants == _ON_PROBATION:
                    _short_c_call(func)
                elif not wants:
                    _short_at(code, offset, func)
            if t >= s[_CHECK_AT]:
                _check(s, t)

    return on_start, on_call, on_c_return


def _install_monitoring() -> None:
    global _tool_id
    mon = sys.monitoring
    for tool in (4, 3, mon.PROFILER_ID):  # 3 and 4 have no assigned role: less likely taken
        if mon.get_tool(tool) is None:
            mon.use_tool_id(tool, "helpers.automatic")
            _tool_id = tool
            break
    else:
        raise RuntimeError("sys.monitoring: no free tool id (another profiler is running?)")
    ev = mon.events
    on_start, on_call, on_c_return = _make_callbacks()
    # Call sites switched off during an earlier run count again. restart_events() turns
    # back on what every tool switched off (coverage, a debugger): that is safe, since
    # DISABLE is documented as a hint that any tool may undo at any time (a tool is then
    # called again at a place it already handled, and switches it off again); what it
    # costs them is one more event per place. Switching our own events off and on
    # (set_events) would not do: it re-instruments only the code running at that moment.
    mon.restart_events()
    mon.register_callback(_tool_id, ev.PY_START, on_start)
    mon.register_callback(_tool_id, ev.PY_RESUME, on_start)
    mon.register_callback(_tool_id, ev.CALL, on_call)
    mon.register_callback(_tool_id, ev.C_RETURN, on_c_return)
    mon.register_callback(_tool_id, ev.C_RAISE, on_c_return)
    global _EVENTS_PY, _EVENTS_ALL
    _EVENTS_PY = ev.PY_START | ev.PY_RESUME
    _EVENTS_ALL = _EVENTS_PY | ev.CALL | ev.C_RETURN | ev.C_RAISE
    _quiet.clear()
    _sites.clear()
    _mixed.clear()
    _rearm[0] = False
    _starting.clear()
    mon.set_events(_tool_id, _EVENTS_ALL)
    _rearmed_at[0] = now()  # on from now: nobody switches them on again for REARM_S
    bell = _thread.allocate_lock()
    bell.acquire()
    _rearm_stop[:] = [bell]
    _thread.start_new_thread(_rearm_loop, (bell,))


def _uninstall_monitoring() -> None:
    global _tool_id
    if _tool_id is not None:
        mon = sys.monitoring
        if _rearm_stop:
            bell = _rearm_stop.pop()
            try:
                bell.release()  # the re-arming thread wakes, and ends
            except RuntimeError:  # it is awake already (rung): it ends at its next look
                pass
        mon.set_events(_tool_id, 0)
        for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.CALL,
                      mon.events.C_RETURN, mon.events.C_RAISE):  # fmt: skip
            mon.register_callback(_tool_id, event, None)
        mon.free_tool_id(_tool_id)
        _tool_id = None


# --- Python 3.10 and 3.11: sys.setprofile --------------------------------------------
# The profile function is set in the recorded thread itself, so it sees only that
# thread and needs no lookup: it closes over the lane's own state.


def _make_profiler(lane: LaneRecorder):
    append = lane.beats.append
    calls: list[tuple] = []  # C calls in progress: (start, function, CPU at start or -1, wants)
    lane.open_calls = (_get_ident(), calls)
    memo_get = _wants_cpu_memo.get
    class_get = _class_memo.get
    last = lane.beats[-1] if len(lane.beats) else 0  # the latest heartbeat
    skip = 0  # function starts to let pass before reading the clock again
    skipped = 0  # how many were let pass before the clock was last read
    sampled_at = 0  # when the clock was last read at a function start
    check_at = 0  # when to check the stop flag and the cap next
    quiet_left = QUIET_EVERY  # calls that cannot give the GIL away, to count before a beat
    quiet_owners = _QUIET_OWNERS
    quiet_builtins = _QUIET_BUILTINS

    def check(t):
        nonlocal check_at
        check_at = t + CHECK_EVERY_NS
        if lane.control.stop:
            sys.setprofile(None)
            lane.check_stop()
        elif len(lane.beats) >= MAX_BEATS:
            sys.setprofile(None)
            lane.truncated_at = t

    def profile(frame, event, arg):
        nonlocal last, skip, skipped, sampled_at, quiet_left
        if event == "c_return":
            if calls and calls[-1][1] is arg:
                last = c_end(arg)
            # else: the end of a call counted below
        elif event == "c_call":
            if type(arg.__self__) in quiet_owners or arg in quiet_builtins:
                # It cannot give the GIL away (see QUIET_EVERY): counted, and the clock
                # read at every QUIET_EVERY-th one only.
                quiet_left -= 1
                if quiet_left > 0:
                    return
                quiet_left = QUIET_EVERY
                t = now()
                if t - last >= MIN_BEAT_GAP_NS:
                    last = t
                    append(t)
                    if t >= check_at:
                        check(t)
                return
            try:
                wants = memo_get(arg)
            except TypeError:  # an unhashable callable: never raise into the recorded code
                wants = _NO
            if wants is None:  # a bound method, e.g. lst.append: is its class known?
                has = class_get(type(getattr(arg, "__self__", None)))
                wants = _NO if has is False else _wants_cpu(arg)
            last = t = now()
            append(t)
            calls.append((t, arg, _thread_time() if wants else -1, wants))
        elif event == "call":  # a Python function starts, or a generator resumes
            if skip:
                skip -= 1
                return
            t = now()
            if t - last >= MIN_BEAT_GAP_NS:
                last = t
                append(t)
                if t >= check_at:
                    check(t)
            # How many starts to let pass before reading the clock again (see above)
            if t - sampled_at < SAMPLE_NS:
                skip = skipped = skipped + skipped + 1 if skipped < MAX_SKIP else MAX_SKIP
            else:
                skip = skipped = skipped >> 1
            sampled_at = t
        elif event == "c_exception" and calls and calls[-1][1] is arg:
            last = c_end(arg)

    def c_end(arg):
        """The end of a C call that was timed at its start; returns the heartbeat."""
        t = now()
        append(t)
        start, _, cpu_start, wants = calls.pop()
        if t - start > MIN_C_CALL_NS:
            _long_c_call(lane, start, t, arg, cpu_start, wants)
        elif wants == _ON_PROBATION:
            _short_c_call(arg)
        if t >= check_at:
            check(t)
        return t

    return profile


# --- switching it on and off ---------------------------------------------------------

_users = 0  # runs (in this process) that currently record automatically
_users_lock = threading.Lock()


def _start_afresh_after_fork() -> None:
    """A forked child is a copy of one thread of its parent, taken at any moment: the
    lock may be held by a thread the child does not have (the re-arming thread holds it
    now and then), and sys.monitoring is still installed, with no re-arming thread and
    the parent's threads in ``_lanes``. The child starts with no recording at all; one
    of its own (helpers.children, helpers.processes) installs everything again."""
    global _users_lock, _users
    _users_lock = threading.Lock()
    _users = 0
    _lanes.clear()
    if USES_MONITORING:
        _uninstall_monitoring()
    else:
        sys.setprofile(None)


if hasattr(os, "register_at_fork"):  # POSIX; spawn children start from nothing anyway
    os.register_at_fork(after_in_child=_start_afresh_after_fork)


@contextmanager
def automatic_recording():
    """Switch automatic recording on for the duration of a run (the runner does this).

    Runs may overlap: sys.monitoring is installed by the first and removed by the
    last, or, if a recorded thread is still running then, when that thread detaches.
    A thread asked to stop learns it from our callbacks: removing them under it
    would leave it running to the end of its task. (That happens on 3.12: a
    KeyboardInterrupt inside ``Thread.join`` can mark a running thread as stopped,
    so the runner may believe its workers done while one is still running.)
    With sys.setprofile (3.10, 3.11) there is nothing process-wide to do.
    """
    global _users
    if USES_MONITORING:
        with _users_lock:
            if _tool_id is None:
                _install_monitoring()
            _users += 1
    try:
        yield
    finally:
        if USES_MONITORING:
            with _users_lock:
                _users -= 1
                _uninstall_if_unused()


def _uninstall_if_unused() -> None:
    """Remove sys.monitoring if no run uses it and no live thread is recorded (lock held)."""
    if _users or _tool_id is None:
        return
    alive = {th.ident for th in threading.enumerate()}
    for ident in [i for i in _lanes if i not in alive]:
        _lanes.pop(ident, None)
    if not _lanes:
        _uninstall_monitoring()


def _wants_the_gil_now() -> None:
    """The calling thread starts another, or is back from a wait: it wants the GIL from now
    on. The others' quiet sites are counted again (_contended), and those switched off are
    switched back on at once, before anything here can give the GIL away: a thread that ran
    unseen meanwhile was drawn as this one running (3.12: 5 ms in one run of three of two
    clock loops, after one of them ended and the caller's join returned)."""
    _contended[0] = True
    if _rearm[0]:
        _switch_back_on(now())


def starting(lane: LaneRecorder) -> None:
    """A thread that will record into ``lane`` is about to start (called by the thread
    that starts it, before Thread.start): from now on it wants the GIL too, so the other
    threads' quiet sites are counted, and those switched off are watched again."""
    if USES_MONITORING and _tool_id is not None:
        _starting.add(id(lane))
        _wants_the_gil_now()


def not_starting(lane: LaneRecorder) -> None:
    """The thread of ``starting(lane)`` did not start after all (Thread.start raised)."""
    _starting.discard(id(lane))


def attach(lane: LaneRecorder) -> None:
    """Start recording the calling thread automatically into ``lane``."""
    if USES_MONITORING:
        _starting.discard(id(lane))
        if _lanes:  # a thread joins the others: switched-off sites are watched again, and
            _contended[0] = True  # counted while it runs beside them (_contended)
            _switch_back_on(now())  # (before the lane is added: not its own C calls)
            _rearm[0] = True  # code not running now keeps its sites off: again soon
        _lanes[_get_ident()] = _new_state(lane)
    else:
        sys.setprofile(_make_profiler(lane))


def detach_other(lane: LaneRecorder) -> None:
    """Stop recording ``lane``'s thread from any thread (used for the notebook's own thread).

    With sys.setprofile only a thread can remove its own profiler: it does so at
    its next check (within CHECK_EVERY_NS of running), having seen the stop flag.
    """
    lane.stoppable = False
    lane.control.request_stop()
    if USES_MONITORING:
        for ident, state in list(_lanes.items()):
            if state[_LANE] is lane:
                _lanes.pop(ident, None)
        with _users_lock:
            _uninstall_if_unused()
    _close_open_call(lane)


def detach() -> None:
    """Stop recording the calling thread automatically."""
    if USES_MONITORING:
        _lanes.pop(_get_ident(), None)
        if not _users:  # the run is over: the last thread recorded removes the callbacks
            with _users_lock:
                _uninstall_if_unused()
    else:
        sys.setprofile(None)
