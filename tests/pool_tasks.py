"""The CPU tasks of tests/bench_processes.py, in a module of their own that imports nothing.

As a learner's module (notebooks/nb05_tasks.py) does: a spawned worker of the unrecorded
pool imports only this to run its jobs, so the benchmark's unrecorded side does not pay
for importing helpers (and pytest), which only the recorded workers need.
"""


def primes_in_loops(n):  # count_primes with its calls inlined: loops and arithmetic only
    count = 0
    for k in range(2, n * 2):
        d = 2
        while d * d <= k:
            if k % d == 0:
                break
            d += 1
        else:
            count += 1
    return count


def is_prime(k):
    for d in range(2, int(k**0.5) + 1):
        if k % d == 0:
            return False
    return k > 1


def count_primes(n):  # the CPU-bound function of notebooks 04 and 05 (nb05_tasks)
    count = 0
    for k in range(n):
        if is_prime(k):
            count += 1
    return count
