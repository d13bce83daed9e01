# Solution to the exercise of 02_concurrency_and_parallelism.ipynb (helpers and w come from
# the notebook). One process computes while the other waits: a wait needs no core, so the
# two overlap in time without ever running at the same instant.
# ruff: noqa: F821
tasks = [w.cpu(0.2), w.sleep(0.2)]

tl_ex = helpers.run_processes(tasks)
tl_ex.plot(title="Exercise: concurrent, not parallel")
