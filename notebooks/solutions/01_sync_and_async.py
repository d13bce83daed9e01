# Solution to the exercise of 01_sync_and_async.ipynb (helpers and download come from the
# notebook). One thread per download: the five waits overlap.
# ruff: noqa: F821
tl_ex = helpers.run_threads([download] * 5)
tl_ex.plot(title=f"Exercise: five downloads in {tl_ex.wall_ms:.0f} ms")
