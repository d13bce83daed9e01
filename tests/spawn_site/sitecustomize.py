"""Make every Python started with this folder on PYTHONPATH default to the spawn start method.

`make test-spawn` runs the notebooks this way, so that what a Linux learner sees is what a
learner on macOS or Windows sees (both use spawn; Linux uses fork before 3.14, forkserver
from 3.14). Spawned children import this too, which is harmless: they start fresh.
"""

import multiprocessing

multiprocessing.set_start_method("spawn", force=True)
