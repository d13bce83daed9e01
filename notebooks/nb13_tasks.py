"""Functions that notebook 13 (spawn and the __main__ guard) runs in other processes.

A process started with "spawn" (Windows, macOS) or "forkserver" (Linux from
Python 3.14) is a fresh Python. It is sent the function to run *by name*: its
module and its name, and it imports the module to find it. A function defined in
a notebook has no module a fresh Python could import (a notebook is not a .py
file), so the functions live here, next to the notebook.
"""

import os
import zlib
from multiprocessing import shared_memory


def square(x):
    """x * x: a tiny job for a pool of processes."""
    return x * x


def sum_of_squares(n):
    """0*0 + 1*1 + ... + (n-1)*(n-1), in a plain Python loop: CPU work that holds the GIL."""
    total = 0
    for x in range(n):
        total += x * x
    return total


# The CPU-bound function of notebooks 04 and 05, from one place.
from nb05_tasks import count_primes, is_prime  # noqa: E402, F401


def worker_pid(_=None):
    """The pid of the process that runs this: which worker of a pool did the job."""
    return os.getpid()


def nothing():
    """Do nothing: a process that runs this costs only its start-up."""


def checksum(data):
    """The CRC-32 checksum of ``data`` (bytes): a quick way to show it arrived unchanged."""
    return zlib.crc32(data)


def checksum_shared(name, size):
    """The checksum of the first ``size`` bytes of the shared memory block called ``name``.

    The block is attached, not copied: this process reads the bytes where the parent wrote
    them. Only the name and the size travel by pickle.
    """
    block = shared_memory.SharedMemory(name=name)
    view = block.buf[:size]
    try:
        return zlib.crc32(view)
    finally:
        view.release()  # a view still open would stop close()
        block.close()  # this process lets go; the parent, who made it, unlinks it
