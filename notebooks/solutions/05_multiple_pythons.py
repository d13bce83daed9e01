# Solution to the exercise of 05_multiple_pythons.ipynb
# (helpers, w and the notebook's own functions come from the notebook).
tl_t = helpers.run_threads([w.cpu(0.1)] * 4)
tl_p = helpers.run_processes([w.cpu(0.1)] * 4)
speedup = tl_t.wall_ms / tl_p.wall_ms
best_possible = min(4, helpers.usable_cores())
