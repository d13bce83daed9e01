"""Functions that notebook 05 (Multiple Pythons) runs in other processes.

They live in a module, not in the notebook, because a process started with
"spawn" or "forkserver" is a fresh Python: it imports the function by name, and
a notebook cannot be imported. (With "fork" the child is a copy of the parent
and would find it anyway; a module works with every start method.)
"""

import os

COUNTER = 0  # a global variable: each process has its own copy


def is_prime(k):
    """True if k is a prime number (trial division: pure Python arithmetic)."""
    for d in range(2, int(k**0.5) + 1):
        if k % d == 0:
            return False
    return k > 1


def count_primes(n):
    """How many primes there are below n: the CPU-bound function of notebook 04."""
    count = 0
    for k in range(n):
        if is_prime(k):
            count += 1
    return count


def count_primes_between(lo, hi, queue):
    """Count the primes in range(lo, hi); put (this process's pid, the count) on ``queue``."""
    count = 0
    for k in range(lo, hi):
        if is_prime(k):
            count += 1
    queue.put((os.getpid(), count))


def add_to_counter(n, queue):
    """Add ``n`` to this process's COUNTER; report (pid, COUNTER) through ``queue``."""
    global COUNTER
    COUNTER += n
    queue.put((os.getpid(), COUNTER))


def add_in_this_process(n):
    """The same change, for a thread of the notebook's own process: returns COUNTER."""
    global COUNTER
    COUNTER += n
    return COUNTER


def total(conn):
    """Receive a list of numbers through a Pipe, send back their sum."""
    numbers = conn.recv()
    conn.send(sum(numbers))
    conn.close()


def nothing():
    """Do nothing: starting and joining a process that runs this measures the start cost."""
