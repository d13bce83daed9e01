def squares(numbers):
    results = [None] * len(numbers)

    def work(i, x):
        time.sleep(0.1)  # pretend this is slow work
        results[i] = x * x

    threads = [threading.Thread(target=work, args=(i, x)) for i, x in enumerate(numbers)]
    for thread in threads:  # start them all first, so that they work at the same time...
        thread.start()
    for thread in threads:  # ...then wait for each one to finish
        thread.join(timeout=5)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:  # join() returned because of its timeout: those results are not there yet
        raise TimeoutError(f"{stuck} still running after 5 s")
    return results
