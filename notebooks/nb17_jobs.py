"""The jobs of notebook 17 (Beyond the GIL): each in a plain and an async version.

They live in a module, not in the notebook, because a process (or, on Python 3.14,
a subinterpreter) imports a function by name: a notebook cannot be imported.
Only the standard library is imported here, so a new process starts quickly.

The async version of a job does the same work as the plain one. Where the plain
one waits (``time.sleep`` stands in for the network), the async one awaits, so
the event loop can run other tasks meanwhile; where it computes, it computes,
and the event loop waits for it.
"""

import asyncio
import hashlib
import time

# The CPU-bound function of notebooks 04 and 05, from one place.
from nb05_tasks import count_primes, is_prime  # noqa: E402, F401


async def count_primes_async(n):
    return count_primes(n)  # no await inside: the event loop waits until it is done


def wait_for_reply(seconds):
    """Ask a slow service and wait ``seconds`` for its reply (a sleep stands in for it)."""
    time.sleep(seconds)
    return "ok"


async def wait_for_reply_async(seconds):
    await asyncio.sleep(seconds)  # the event loop runs other tasks meanwhile
    return "ok"


def hash_password(password, iterations):
    """A password's hash as a website stores it: PBKDF2-HMAC-SHA256, slow on purpose.

    ``iterations`` sets how slow (100,000: a few hundredths of a second); hashlib
    releases the GIL while it computes.
    """
    return hashlib.pbkdf2_hmac("sha256", password, b"course salt", iterations).hex()


async def hash_password_async(password, iterations):
    return hash_password(password, iterations)  # computing, not waiting: nothing to await


def log_in(seconds, password, iterations):
    """Wait ``seconds`` for the user database, then check the password: hash it."""
    wait_for_reply(seconds)
    return hash_password(password, iterations)


async def log_in_async(seconds, password, iterations):
    await wait_for_reply_async(seconds)
    return hash_password(password, iterations)
