"""The words of the timeline: the states a thread can be in, shared by every module.

A lane (one thread of one process) is in exactly one state at each instant.
These strings are also what the picture's legend, the statistics and the
Chrome Trace export call the states, so a learner meets one name for one idea.

    >>> from helpers import states
    >>> states.RUNNING
    'running'
    >>> states.C_CALL_NO_GIL in states.STATES
    True
"""

__all__ = ["AWAITING", "BLOCKED", "C_CALL", "C_CALL_NO_GIL", "FINISHED", "RUNNING", "STARTING",
           "STATES", "WAITING_CPU", "WAITING_GIL"]

# Running Python bytecode. Under the GIL only its holder does that, so this
# thread held the GIL.
RUNNING = "running"
# Runnable, but another thread of the process holds the GIL.
WAITING_GIL = "waiting for GIL"
# Runnable, but nobody in the process ran: usually another program had the cores.
WAITING_CPU = "waiting for a core"
# Not using a core, GIL released: sleep, I/O, waiting on a lock, join.
BLOCKED = "blocked"
# Inside one C function that keeps the GIL (e.g. sum(range(10**8))): others wait.
C_CALL = "C call"
# Inside one C function that released the GIL and computes on a core (hashlib,
# zlib, numpy): other threads of the process can run Python meanwhile.
C_CALL_NO_GIL = "C call, GIL released"
# A new process, from the moment its parent asked for it until its first
# heartbeat: a fresh Python starting up, importing, unpickling the task.
STARTING = "starting"
# A task (generator or coroutine) suspended at a yield or an await: it waits to be
# resumed, while its thread runs other tasks or waits for something (helpers.steps).
AWAITING = "awaiting"
# After the thread's last heartbeat.
FINISHED = "finished"

STATES = (RUNNING, WAITING_GIL, WAITING_CPU, BLOCKED, C_CALL, C_CALL_NO_GIL, STARTING, AWAITING,
          FINISHED)
