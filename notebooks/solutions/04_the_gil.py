# Solution to the exercise of 04_the_gil.ipynb
# (helpers, w and the notebook's own functions come from the notebook).
def cpu_share(tl, lane):
    """Fraction of lane's BLOCKED + C_CALL time during which the lane "cpu" was RUNNING."""
    waits = tl.spans(helpers.BLOCKED, lane=lane) + tl.spans(helpers.C_CALL, lane=lane)
    total_ms = sum(s.duration for s in waits) / 1e6
    if total_ms == 0:
        return 0.0
    return overlap_ms(waits, tl.spans(helpers.RUNNING, lane="cpu")) / total_ms


tl_sleep = helpers.run_threads([w.sleep(0.1), w.cpu(0.1)], names=["sleep", "cpu"])
print(f"beside sum: {cpu_share(tl_sum, 'sum'):.2f}")
print(f"beside hashlib: {cpu_share(tl_hash, 'hashlib'):.2f}")
print(f"beside sleep: {cpu_share(tl_sleep, 'sleep'):.2f}")
releases = {"sleep": True, "sum": False, "hash": True}
