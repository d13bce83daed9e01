# Solution to the exercise of 04_the_gil.ipynb
# (threading, time and the three functions come from the notebook).
def longest_pause_ms(func):
    """Run func in a new thread; meanwhile loop here. The longest gap (ms) between two loops."""
    thread = threading.Thread(target=func)
    last = time.perf_counter()  # before start(): the thread may take the GIL at once
    longest = 0.0
    thread.start()
    while True:  # read the clock at least once after start(): the call may be over by then
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        if not thread.is_alive():
            break
    thread.join(timeout=60)
    return longest * 1000


for f in (compress, sort, factorial):
    print(f"while {f.__name__}() ran, this thread paused for up to {longest_pause_ms(f):.0f} ms")
# A pause as long as the call: the call kept the GIL. A few ms: it let the GIL go.
keeps_gil = {"compress": False, "sort": True, "factorial": True}
