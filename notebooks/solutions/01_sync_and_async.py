# Solution to the exercise of 01_sync_and_async.ipynb (helpers, threading and download come
# from the notebook). join() waits: start all five threads first, then join them, so that
# the five waits overlap.
# ruff: noqa: F821
with helpers.recording() as rec:
    threads = [threading.Thread(target=download, name=f"download {i}") for i in range(1, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
tl_ex = rec.timeline
tl_ex.plot(title=f"Exercise: five downloads in {tl_ex.wall_ms:.0f} ms")
