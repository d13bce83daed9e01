# Solution to the exercise of 05_multiple_pythons.ipynb
# (multiprocessing, time, nb05_tasks, LIMIT and one_call come from the notebook).
quarters = [(i * LIMIT // 4, (i + 1) * LIMIT // 4) for i in range(4)]
queue = multiprocessing.Queue()
procs = [multiprocessing.Process(target=nb05_tasks.count_primes_between, args=(lo, hi, queue))
         for lo, hi in quarters]
t0 = time.perf_counter()
for p in procs:
    p.start()
answers = [queue.get(timeout=60) for _ in procs]  # before join(): see the text above
for p in procs:
    p.join(timeout=60)
elapsed = time.perf_counter() - t0
total = sum(count for pid, count in answers)
print(f"{total} primes in {elapsed:.2f} s: {one_call / elapsed:.1f}x faster than one process")
