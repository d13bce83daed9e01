def worker(stop, lock, log):
    for step in range(50):  # about 0.5 s of work, in steps of 10 ms
        if stop.is_set():  # asked to stop: a safe point, no lock held here
            return
        with lock:  # released however the block is left, an exception included
            log.append(step)
            time.sleep(0.01)
