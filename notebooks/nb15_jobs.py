"""Jobs that notebook 15 (Coroutines and asyncio) hands to other processes.

They live in a module, not in the notebook, because a process started with
"spawn" is a fresh Python: it imports the function by name, and a notebook
cannot be imported (see notebook 05).
"""

import os
import time

# The CPU-bound function of notebooks 04 and 05, from one place.
from nb05_tasks import count_primes, is_prime  # noqa: E402, F401


def wait(seconds):
    """A pretend network call: blocked for ``seconds``, no CPU used. Returns ``seconds``."""
    time.sleep(seconds)
    return seconds


def pid_after(seconds):
    """This process's id, after ``seconds``: to see which worker of a pool ran a job."""
    time.sleep(seconds)
    return os.getpid()
