# Solution to the exercise of 17_beyond_the_gil.ipynb: choose by what the jobs spend their time on.
picks = {
    "waits": "asyncio",  # waiting needs no core and no GIL (threads would do as well)
    "python": "processes",  # Python needs the GIL: each process has its own, and a core
    "hashing": "threads",  # hashlib releases the GIL: threads hash in parallel, copying nothing
    "mix": "threads",  # threads overlap the waits and hash in parallel
}
