# Solution to the exercise of 03_processes_threads_cores.ipynb
# (helpers, w and the notebook's own functions come from the notebook).
tl_three_threads = helpers.run_threads([w.cpu(0.05)] * 3)
tl_three_procs = helpers.run_processes([w.cpu(0.05)] * 3)
at_once = min(3, helpers.usable_cores())
