"""Jobs that notebook 14 (Coroutines and asyncio) hands to other processes.

They live in a module, not in the notebook, because a process started with
"spawn" is a fresh Python: it imports the function by name, and a notebook
cannot be imported (see notebook 05).
"""

import os
import time


def is_prime(k):
    """True if k is a prime number (trial division: pure Python arithmetic)."""
    for d in range(2, int(k**0.5) + 1):
        if k % d == 0:
            return False
    return k > 1


def count_primes(n):
    """How many primes there are below n: CPU-bound, it never waits for anything."""
    return sum(1 for k in range(n) if is_prime(k))


def wait(seconds):
    """A pretend network call: blocked for ``seconds``, no CPU used. Returns ``seconds``."""
    time.sleep(seconds)
    return seconds


def pid_after(seconds):
    """This process's id, after ``seconds``: to see which worker of a pool ran a job."""
    time.sleep(seconds)
    return os.getpid()
