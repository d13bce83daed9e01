# Solution to the exercise of 02_concurrency_and_parallelism.ipynb (helpers comes from the
# notebook). Concurrent: the lifetimes overlap. Parallel: both execute at the same instant,
# which needs a core each and, for threads running Python, no GIL.
# ruff: noqa: F821
two_cores = helpers.usable_cores() >= 2  # can two things execute at the same instant here?
gil = helpers.gil_enabled()  # must threads take turns to run Python?

answers = {  # run: (concurrent?, parallel?)
    "two_threads_compute": (True, two_cores and not gil),  # they take turns for the GIL
    "compute_and_sleep": (True, False),  # a sleeping thread is not executing
    "sleep_in_turn": (False, False),  # join() waited: the second started after the first
    "two_processes_compute": (True, two_cores),  # a GIL each: a core each is what they need
}
