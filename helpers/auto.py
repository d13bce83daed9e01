"""Automatic recording of any Python code.

Every function start, C call and C return becomes a heartbeat in the calling
thread's lane, and a C call becomes a marked region: ``sys.monitoring`` on
Python 3.12+, ``sys.setprofile`` on 3.10 and 3.11.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from types import FunctionType, MethodType

from .recorder import C_CALL_UNKNOWN, LaneRecorder, now

# Only C calls longer than this are kept as marked regions: the short ones (len,
# list.append, ...) are far too many to keep and show nothing on a timeline.
MIN_C_CALL_NS = 20_000


def _c_name(func) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


# --- automatic recording on Python 3.10 and 3.11: sys.setprofile -----------------
# The profile function is set in the worker thread itself, so it sees only that
# thread and needs no lookup: it closes over the lane's own array.


def _make_profiler(lane: LaneRecorder):
    append = lane.beats.append
    marks = lane.marks
    control = lane.control
    # C calls in progress (they can nest): start times and functions, in two lists
    # so that an event allocates nothing.
    starts: list[int] = []
    funcs: list[object] = []

    def profile(frame, event, arg):
        t = now()
        append(t)
        if event == "c_call":
            starts.append(t)
            funcs.append(arg)
        elif event != "call" and event != "return" and funcs and funcs[-1] is arg:
            start = starts.pop()
            funcs.pop()
            if t - start > MIN_C_CALL_NS:
                marks.append((start, t, C_CALL_UNKNOWN, _c_name(arg), -1))
        if control.stop:
            sys.setprofile(None)
            lane.check_stop()

    return profile


# --- automatic recording on Python 3.12+: sys.monitoring --------------------------
# sys.monitoring is process-wide, so one set of callbacks serves every thread and
# looks up the calling thread's lane. Events chosen for cost: a function start,
# a resumed generator or coroutine, and calls of C functions with their return.
# Line, jump and branch events would show more but cost 7-35x.

_monitored: dict[int, tuple[LaneRecorder, list, list]] = {}  # thread ident -> lane, C calls
_tool_id: int | None = None
_get_ident = threading.get_ident
_DISABLE = getattr(getattr(sys, "monitoring", None), "DISABLE", None)


def _on_start(code, offset):  # PY_START, PY_RESUME
    entry = _monitored.get(_get_ident())
    if entry is not None:
        lane = entry[0]
        lane.beats.append(now())
        if lane.control.stop:
            _stop_monitoring(lane)


def _on_call(code, offset, func, arg0):  # CALL: a function is about to be called
    if type(func) is FunctionType or type(func) is MethodType:
        # A Python function: its PY_START gives the heartbeat. Switch this call
        # site off (for every thread, until the next run) so calls cost one event.
        return _DISABLE
    entry = _monitored.get(_get_ident())
    if entry is not None:  # a C function: mark the call, to see how long it takes
        t = now()
        entry[0].beats.append(t)
        entry[1].append(t)
        entry[2].append(func)


def _on_c_return(code, offset, func, arg0):  # C_RETURN, C_RAISE
    entry = _monitored.get(_get_ident())
    if entry is not None:
        lane, starts, funcs = entry
        t = now()
        lane.beats.append(t)
        if funcs and funcs[-1] is func:
            start = starts.pop()
            funcs.pop()
            if t - start > MIN_C_CALL_NS:
                lane.marks.append((start, t, C_CALL_UNKNOWN, _c_name(func), -1))
        if lane.control.stop:
            _stop_monitoring(lane)


def _stop_monitoring(lane: LaneRecorder) -> None:
    """The run is stopping: stop recording this thread, then raise Stopped in it (once)."""
    _monitored.pop(_get_ident(), None)
    lane.check_stop()


def _install_monitoring() -> None:
    global _tool_id
    mon = sys.monitoring
    for tool in (4, 3, mon.PROFILER_ID):  # 3 and 4 have no assigned role: less likely taken
        if mon.get_tool(tool) is None:
            mon.use_tool_id(tool, "helpers.auto")
            _tool_id = tool
            break
    else:
        raise RuntimeError("sys.monitoring: no free tool id (another profiler is running?)")
    ev = mon.events
    mon.restart_events()  # call sites switched off during an earlier run count again
    mon.register_callback(_tool_id, ev.PY_START, _on_start)
    mon.register_callback(_tool_id, ev.PY_RESUME, _on_start)
    mon.register_callback(_tool_id, ev.CALL, _on_call)
    mon.register_callback(_tool_id, ev.C_RETURN, _on_c_return)
    mon.register_callback(_tool_id, ev.C_RAISE, _on_c_return)
    mon.set_events(_tool_id, ev.PY_START | ev.PY_RESUME | ev.CALL | ev.C_RETURN | ev.C_RAISE)


def _uninstall_monitoring() -> None:
    global _tool_id
    if _tool_id is not None:
        sys.monitoring.set_events(_tool_id, 0)
        sys.monitoring.free_tool_id(_tool_id)
        _tool_id = None


_users = 0  # runs (in this process) that currently record automatically
_users_lock = threading.Lock()

USES_MONITORING = sys.version_info >= (3, 12)


@contextmanager
def automatic_recording():
    """Switch automatic recording on for the duration of a run (the runner does this)."""
    global _users
    if USES_MONITORING:
        with _users_lock:
            if _users == 0:
                _install_monitoring()
            _users += 1
    try:
        yield
    finally:
        if USES_MONITORING:
            with _users_lock:
                _users -= 1
                if _users == 0:
                    _uninstall_monitoring()


def attach(lane: LaneRecorder) -> None:
    """Start recording the calling thread automatically into ``lane``."""
    if USES_MONITORING:
        _monitored[_get_ident()] = (lane, [], [])
    else:
        sys.setprofile(_make_profiler(lane))


def detach_other(lane: LaneRecorder) -> None:
    """Stop recording ``lane``'s thread from any thread (used for the notebook's own thread).

    With sys.setprofile only a thread can remove its own profiler: it does so at
    its next event, having seen the stop flag.
    """
    lane.stoppable = False
    lane.control.request_stop()
    if USES_MONITORING:
        for ident, entry in list(_monitored.items()):
            if entry[0] is lane:
                del _monitored[ident]


def detach() -> None:
    """Stop recording the calling thread automatically."""
    if USES_MONITORING:
        _monitored.pop(_get_ident(), None)
    else:
        sys.setprofile(None)
