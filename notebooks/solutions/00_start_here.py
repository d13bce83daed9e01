# Solution to the exercise of 00_start_here.ipynb (helpers and w come from the notebook).
# ruff: noqa: F821
tl_ex = helpers.run_threads([w.cpu(0.2), w.cpu(0.2), w.sleep(0.1)])
tl_ex.plot(title="Exercise: computing and sleeping threads")
