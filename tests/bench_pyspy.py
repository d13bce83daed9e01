"""Benchmark: do our GIL shares agree with an independent tool, py-spy?

Run on demand (pyproject's default ``-m "not bench"`` deselects it, a later ``-m bench`` wins):

    python -m pytest -m bench -s tests/bench_pyspy.py
    python tests/bench_pyspy.py               # prints the same comparison

A child Python runs ``helpers.run_threads`` on two CPU threads (``w.cpu(2.5)`` each, so
about 5 s of wall time under the GIL) and a sleeper that sleeps 20 ms, works 4 ms in pure
Python (recorded automatically), and sleeps again until both CPU threads are done. It
prints, as JSON, each lane's native thread id and what our timeline says it did. Meanwhile

    py-spy record --nonblocking --gil --threads --rate 1000 -f raw -o OUT -- python SCRIPT

samples the child 1000 times a second; with ``--gil`` a sample is kept only for the thread
that holds the GIL at that instant, and ``--threads`` puts that thread's native id in the
first frame: ``thread (12345): cpu-1;Thread._bootstrap (threading.py:1002);... 1234``.

What is compared, and why (normalisation):
* py-spy's raw output has no timestamps, so samples cannot be cut to the run's window.
  The child's main thread (imports, calibration, building the Timeline) holds the GIL
  outside the run, so its samples are left out. Both sides are normalised the same way:
  a lane's share = its GIL time / the GIL time of the three worker lanes together. During
  the run someone nearly always holds the GIL (two CPU threads), so this is also close to
  the share of the run's wall time (printed beside it).
* Our side, two readings. "running": the running spans, i.e. what ``Timeline.stats()``
  reports as a lane's running time and share; the 2-point agreement asked for by the issue
  is asserted on it, on the median over BENCH_PYSPY_RUNS runs (default 3) of each lane's
  difference. "held": the lane's slices (between two heartbeats of one lane with no other
  thread's heartbeat in between, it held the GIL, even while the OS had taken its core
  away). In principle py-spy counts "held"; on an idle machine the two are equal. On a busy
  machine they are not, and py-spy then agrees with "running" rather than "held": its
  sampler (src/timer.rs: random, exponentially spaced instants) does not sleep when it is
  behind, so after waiting for a core it takes the missed samples back to back. Its samples
  are then not spread evenly in time, and under-represent the moments when our threads
  (and py-spy with them) were waiting for a core. Measured on a 2-core machine at load 6-8
  (other programs running): single runs differed by up to 2-3 points per lane; the median
  of 3 runs was within 2 points on 3.11 and at 2.0-2.1 points on 3.12. By "held" the
  sleeper sat 1-5 points above py-spy.
* Why the sleeper works 4 ms and not 1 ms: on a busy machine py-spy undercounts GIL bursts
  about as short as its sampling period (its late samples land after the burst). Measured
  on that machine, a thread alone that sleeps 20 ms and works 1 ms held the GIL 145 ms by
  its own clock; py-spy counted 40-76 samples (it ought to be about 145). With 5 ms bursts
  its count matched (947 samples for 952 ms).
  ``python tests/bench_pyspy.py 20 1`` runs the comparison with 1 ms bursts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.timeout(600)]

RATE = 1000  # py-spy samples per second
CPU_SECONDS = float(os.environ.get("BENCH_PYSPY_CPU_SECONDS", "2.5"))  # each of the two
SLEEP_S, WORK_S = 0.020, 0.004  # the sleeper: sleeps 20 ms, works 4 ms, and again
TOLERANCE_PP = 2.0  # percentage points, from the issue
RUNS = max(1, int(os.environ.get("BENCH_PYSPY_RUNS", "3")))  # the median over runs is asserted
NOTE = ("Figures from a possibly busy machine (other programs may be running); "
        "py-spy and helpers watched the same run.")  # fmt: skip

SCRIPT = r'''
import json, sys, threading, time
import helpers
from helpers import workloads as w

def _chunk():
    x = 0
    for i in range(1000):
        x += i * i
    return x

cpu_seconds, sleep_s, work_s = (float(x) for x in sys.argv[1:4])

def chunks_for(seconds):
    """How many of w.cpu's chunks take `seconds` of CPU. w.cpu calibrates by wall time over
    about 3 ms, which on a busy machine can make cpu(2.5) several times shorter than 2.5 s;
    CPU time over 0.2 s is steadier, so the run lasts about 5 s as intended."""
    n, t0 = 0, time.thread_time()
    while time.thread_time() - t0 < 0.2:
        for _ in range(100):
            w._chunk()
        n += 100
    return round(seconds * n / (time.thread_time() - t0))

def sleeper():
    """Sleeps most of the time; wakes every sleep_s for work_s of Python work."""
    others = [t for t in threading.enumerate() if t.name.startswith("cpu-")]
    while any(t.is_alive() for t in others):
        time.sleep(sleep_s)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < work_s:
            _chunk()

tasks = [w.cpu(cpu_seconds), w.cpu(cpu_seconds), sleeper]
tasks[0].chunks = tasks[1].chunks = chunks_for(cpu_seconds)
tl = helpers.run_threads(tasks, names=["cpu-1", "cpu-2", "sleeper"], timeout=120)
wall = tl.end - tl.start
lanes = []
for lane, st in zip(tl.lanes, tl.stats()):
    lanes.append({
        "name": lane.name, "native_id": lane.native_id,
        "held_ns": sum(e - s for s, e in lane.slices),
        "running_ns": int(st.running_ms * 1e6),
        "inferred_running_ns": int(st.inferred_running_ms * 1e6),
        "waiting_cpu_ns": int(st.waiting_cpu_ms * 1e6),
        "cpu_ns": lane.cpu_ns,
    })
print("RESULT " + json.dumps({
    "python": sys.version.split()[0], "wall_ns": wall, "lanes": lanes,
    "main_native_id": threading.get_native_id(),
    "mechanism": "sys.monitoring" if sys.version_info >= (3, 12) else "sys.setprofile",
}))
'''

_LINE = re.compile(r"^thread \((0x[0-9a-fA-F]+|\d+)\)")


def find_py_spy() -> str | None:
    """$PY_SPY, else py-spy next to this Python (a venv), else on PATH."""
    here = Path(sys.executable).with_name("py-spy")
    return os.environ.get("PY_SPY") or (str(here) if here.exists() else shutil.which("py-spy"))


def parse_raw(text: str) -> dict[int, int]:
    """py-spy's raw (collapsed stack) output -> samples per native thread id."""
    counts: dict[int, int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        tid = int(m.group(1), 0)
        counts[tid] = counts.get(tid, 0) + int(line.rsplit(" ", 1)[1])
    return counts


def run(
    cpu_seconds: float = CPU_SECONDS,
    sleep_s: float = SLEEP_S,
    work_s: float = WORK_S,
    python: str = sys.executable,
) -> dict:
    """Run the script under py-spy; return both tools' numbers, lane by lane."""
    py_spy = find_py_spy()
    if py_spy is None:
        raise FileNotFoundError("py-spy not found: pip install py-spy, or set PY_SPY")
    with tempfile.TemporaryDirectory(prefix="bench-pyspy-") as tmp:
        script, out = Path(tmp, "gil_shares.py"), Path(tmp, "samples.txt")
        script.write_text(SCRIPT)
        cmd = [
            py_spy,
            "record",
            "--nonblocking",
            "--gil",
            "--threads",
            "--rate",
            str(RATE),
            "-f",
            "raw",
            "-o",
            str(out),
            "--",
            python,
            str(script),
            str(cpu_seconds),
            str(sleep_s),
            str(work_s),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
        spy_said = proc.stderr + "\n".join(x for x in proc.stdout.splitlines()
                                           if x.startswith("py-spy>"))  # fmt: skip
        result_lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not result_lines or not out.exists():
            raise RuntimeError(f"py-spy run failed ({proc.returncode}):\n{proc.stdout}\n"
                               f"{proc.stderr}")  # fmt: skip
        ours = json.loads(result_lines[-1][len("RESULT ") :])
        samples = parse_raw(out.read_text())
    lanes = ours["lanes"]
    worker_samples = sum(samples.get(ln["native_id"], 0) for ln in lanes)
    held_total = sum(ln["held_ns"] for ln in lanes)
    running_total = sum(ln["running_ns"] for ln in lanes)
    wall = ours["wall_ns"]
    rows = []
    for ln in lanes:
        n = samples.get(ln["native_id"], 0)
        rows.append({
            "lane": ln["name"], "native_id": ln["native_id"], "samples": n,
            "py_spy_pct": 100 * n / max(worker_samples, 1),
            "held_pct": 100 * ln["held_ns"] / held_total,
            "running_pct": 100 * ln["running_ns"] / running_total,
            # of the run's wall time; py-spy's at its nominal rate (it may fall behind)
            "py_spy_wall_pct": 100 * n / (RATE * wall / 1e9),
            "held_wall_pct": 100 * ln["held_ns"] / wall,
            "running_wall_pct": 100 * ln["running_ns"] / wall,
        })  # fmt: skip
    for r in rows:
        r["diff_pp"] = r["running_pct"] - r["py_spy_pct"]
        r["held_diff_pp"] = r["held_pct"] - r["py_spy_pct"]
    other = {tid: n for tid, n in samples.items() if tid not in {ln["native_id"] for ln in lanes}}
    return {**ours, "sleep_s": sleep_s, "work_s": work_s, "rows": rows,
            "worker_samples": worker_samples, "other_samples": other,
            "all_samples": sum(samples.values()), "py_spy_said": spy_said}  # fmt: skip


def _py_spy_summary(said: str) -> str:
    """py-spy's own last words: 'Samples: N Errors: M', and whether it fell behind."""
    found = re.findall(r"Samples: \d+ Errors: \d+", said)
    behind = " (py-spy says it fell behind in sampling)" if "behind" in said else ""
    return (found[-1] if found else "py-spy summary not found") + behind


def report(res: dict) -> str:
    """One run, lane by lane."""
    left_out = sum(res["other_samples"].values())
    lines = [f"run: wall {res['wall_ns'] / 1e9:.2f} s · py-spy "
             f"{_py_spy_summary(res['py_spy_said'])} · main thread samples left out: "
             f"{left_out} of {res['all_samples']}"]  # fmt: skip
    head = ("lane", "native id", "py-spy samples", "py-spy %", "helpers running %", "diff pp",
            "helpers held %", "diff pp", "% of wall: py-spy / running / held")  # fmt: skip
    body = [(r["lane"], str(r["native_id"]), f"{r['samples']:,}", f"{r['py_spy_pct']:.1f}",
             f"{r['running_pct']:.1f}", f"{r['diff_pp']:+.1f}", f"{r['held_pct']:.1f}",
             f"{r['held_diff_pp']:+.1f}",
             f"{r['py_spy_wall_pct']:.1f} / {r['running_wall_pct']:.1f} / "
             f"{r['held_wall_pct']:.1f}") for r in res["rows"]]  # fmt: skip
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(line, widths))) for line in [head, *body]]  # fmt: skip
    return "\n".join(lines)


def summary(runs: list[dict]) -> tuple[str, dict[str, float]]:
    """The header, and each lane's median (over the runs) of the difference in points."""
    first = runs[0]
    diffs = {r["lane"]: statistics.median(run["rows"][i]["diff_pp"] for run in runs)
             for i, r in enumerate(first["rows"])}  # fmt: skip
    held = {r["lane"]: statistics.median(run["rows"][i]["held_diff_pp"] for run in runs)
            for i, r in enumerate(first["rows"])}  # fmt: skip
    worst = max(abs(d) for d in diffs.values())
    verdict = "agree" if worst <= TOLERANCE_PP else "DO NOT agree"
    text = "\n".join([
        f"GIL shares, helpers vs py-spy --gil --nonblocking ({RATE} Hz) · Python "
        f"{first['python']} · automatic recording uses {first['mechanism']} · {len(runs)} runs "
        f"of two cpu({CPU_SECONDS:g}) threads and a sleeper ({first['sleep_s'] * 1e3:g} ms "
        f"asleep, {first['work_s'] * 1e3:g} ms of work)",
        NOTE,
        "Share = the lane's GIL time / the three worker lanes' GIL time, on both sides: "
        "py-spy's raw output has no timestamps, so the main thread's samples (imports, "
        "calibration, building the Timeline, all outside the run) are left out. helpers "
        "'running' = the running spans that Timeline.stats() reports (asserted); 'held' = "
        "slices, from taking the GIL to another thread's turn, including time the OS took "
        "the core away from the holder (printed only: see the module docstring).",
        "median difference per lane (helpers running - py-spy), points: "
        + ", ".join(f"{k} {v:+.1f}" for k, v in diffs.items())
        + f" -> the shares {verdict} within {TOLERANCE_PP:g} points. (held - py-spy: "
        + ", ".join(f"{k} {v:+.1f}" for k, v in held.items()) + ")",
    ])  # fmt: skip
    return text, diffs


def run_many(n: int = RUNS, **kwargs) -> list[dict]:
    return [run(**kwargs) for _ in range(n)]


def test_gil_shares_agree_with_py_spy():
    if find_py_spy() is None:
        pytest.skip("py-spy is not installed (pip install -e '.[bench]')")
    runs = run_many()
    text, diffs = summary(runs)
    print()
    print(text)
    for res in runs:
        print(report(res))
    for res in runs:
        assert res["worker_samples"] > 1000, f"py-spy kept only {res['worker_samples']} samples"
        for r in res["rows"]:
            assert r["samples"] > 0, f"py-spy saw no GIL sample of {r['lane']} ({r['native_id']})"
    for lane, d in diffs.items():
        assert abs(d) <= TOLERANCE_PP, f"{lane}: helpers and py-spy differ by {d:+.1f} points"


if __name__ == "__main__":
    # python tests/bench_pyspy.py [SLEEP_MS WORK_MS]: the sleeper's rhythm (default 20 4)
    kw = dict(zip(("sleep_s", "work_s"), (float(x) / 1000 for x in sys.argv[1:3])))
    runs = run_many(RUNS, **kw)
    text, _ = summary(runs)
    print(text)
    for res in runs:
        print(report(res))
