"""Benchmark: a fourth witness, from CPython itself: Python 3.15's sampling profiler, Tachyon.

Run on demand (``make bench``; it needs root: Python 3.15 lives in build/sid-root, see
tools/sid_root.sh), or by hand:

    python -m pytest -m bench -s tests/bench_tachyon.py     # builds the root if needed
    tools/sid_root.sh run /venvs/3.15/bin/python tests/bench_tachyon.py   # inside it

A child Python 3.15 runs ``helpers.run_threads`` on two CPU threads (``w.cpu(2.5)`` each) and
a sleeper (sleeps 20 ms, works 4 ms, until both are done), and prints our timeline's spans.
Meanwhile ``python -m profiling.sampling run -a --gecko`` samples the same process (1000 Hz)
and writes a Gecko profile (the Firefox Profiler's format) whose per-thread interval markers say
"Has GIL", "Waiting for GIL", "No GIL", "On CPU", "Off CPU". Both use CLOCK_MONOTONIC
(the profile's meta.startTime is in ms on it, as is our perf_counter_ns), so each marker is cut
to our run's window [Timeline.start, Timeline.end] and compared, per thread, as a percentage
of that window's wall time:

    Tachyon "Has GIL"                         ours: running + C call holding the GIL
    Tachyon "Waiting for GIL"                 ours: waiting for the GIL
    Tachyon "No GIL" (not waiting), "Off CPU" ours: blocked + C call with the GIL released
                                                    (the GIL released, not waiting for it)

Target (issue 17): each within 3 points of the wall time, median of three runs.
Where they differ by design: our "waiting for a core" (runnable, the OS runs something else)
has no marker of its own in Tachyon, which files that time under "Has GIL" (the holder was
preempted) or "Waiting for GIL" (the others); it is printed as its own column, beside our
"held" (the slices from taking the GIL to another thread's turn, preemption included: what
Tachyon's "Has GIL" means). C code that released the GIL while computing on a CPU is "No GIL"
with "On CPU" there, "C call, GIL released" here (this run has none). And Tachyon sees a
change of state only at its next sample: its transitions land up to 1 ms late.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import states

pytestmark = [pytest.mark.bench, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[1]
RATE = "1khz"
CPU_SECONDS = float(os.environ.get("BENCH_TACHYON_CPU_SECONDS", "2.5"))  # each of the two
SLEEP_S, WORK_S = 0.020, 0.004
TOLERANCE_PP = 3.0  # points of the run's wall time, from the issue
RUNS = max(1, int(os.environ.get("BENCH_TACHYON_RUNS", "3")))
COLUMNS = ("has GIL", "waiting for GIL", "GIL released")

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

def chunks_for(seconds):  # CPU time over 0.2 s: steadier than w.cpu's 3 ms calibration
    n, t0 = 0, time.thread_time()
    while time.thread_time() - t0 < 0.2:
        for _ in range(100):
            w._chunk()
        n += 100
    return round(seconds * n / (time.thread_time() - t0))

def sleeper():
    others = [t for t in threading.enumerate() if t.name.startswith("cpu-")]
    while any(t.is_alive() for t in others):
        time.sleep(sleep_s)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < work_s:
            _chunk()

tasks = [w.cpu(cpu_seconds), w.cpu(cpu_seconds), sleeper]
tasks[0].chunks = tasks[1].chunks = chunks_for(cpu_seconds)
tl = helpers.run_threads(tasks, names=["cpu-1", "cpu-2", "sleeper"], timeout=120)
print("RESULT " + json.dumps({
    "python": sys.version.split()[0], "start": tl.start, "end": tl.end,
    "lanes": [{"name": lane.name, "native_id": lane.native_id,
               "spans": [(s.start, s.end, s.state) for s in lane.spans],
               "slices": lane.slices} for lane in tl.lanes],
}))
'''


def _clip(intervals, lo: float, hi: float) -> float:
    """Total length of the parts of (start, end) intervals inside [lo, hi]."""
    return sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in intervals)


def _union(intervals):
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def _minus(a, b):
    """Intervals of a not covered by b (both lists of (start, end))."""
    out = []
    for s, e in _union(a):
        cur = s
        for bs, be in _union(b):
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def tachyon_markers(profile: dict) -> dict[int, dict[str, list[tuple[float, float]]]]:
    """Gecko profile -> {native thread id: {marker name: [(start_ns, end_ns), ...]}}."""
    names = profile["shared"]["stringArray"]
    t0_ns = profile["meta"]["startTime"] * 1e6  # ms on CLOCK_MONOTONIC
    out: dict[int, dict[str, list[tuple[float, float]]]] = {}
    for thread in profile["threads"]:
        m = thread["markers"]
        per: dict[str, list[tuple[float, float]]] = {}
        for i in range(m["length"]):
            start, end = m["startTime"][i], m["endTime"][i]
            if start is None or end is None:
                continue
            per.setdefault(names[m["name"][i]], []).append((t0_ns + start * 1e6,
                                                            t0_ns + end * 1e6))
        out[int(thread["tid"])] = per
    return out


def compare(ours: dict, profile: dict) -> dict:
    """Per lane, the three columns on both sides, in % of our run's wall time."""
    lo, hi = ours["start"], ours["end"]
    wall = hi - lo
    markers = tachyon_markers(profile)
    rows = []
    for lane in ours["lanes"]:
        by_state: dict[str, list] = {}
        for s, e, state in lane["spans"]:
            by_state.setdefault(state, []).append((s, e))

        def pct(*names, by_state=by_state):
            return 100 * sum(_clip(by_state.get(x, []), lo, hi) for x in names) / wall

        m = markers.get(lane["native_id"], {})
        waiting = m.get("Waiting for GIL", [])
        released = _minus(_union(m.get("No GIL", []) + m.get("Off CPU", [])),
                          m.get("Has GIL", []) + waiting)
        rows.append({
            "lane": lane["name"], "native_id": lane["native_id"], "seen": bool(m),
            "ours": {"has GIL": pct(states.RUNNING, states.C_CALL),
                     "waiting for GIL": pct(states.WAITING_GIL),
                     "GIL released": pct(states.BLOCKED, states.C_CALL_NO_GIL)},
            "tachyon": {"has GIL": 100 * _clip(m.get("Has GIL", []), lo, hi) / wall,
                        "waiting for GIL": 100 * _clip(waiting, lo, hi) / wall,
                        "GIL released": 100 * _clip(released, lo, hi) / wall},
            "waiting for a core": pct(states.WAITING_CPU),
            "held": 100 * _clip(lane["slices"], lo, hi) / wall,
            "on CPU": 100 * _clip(m.get("On CPU", []), lo, hi) / wall,
        })  # fmt: skip
    return {"python": ours["python"], "wall_s": wall / 1e9, "rows": rows}


def run_once(python: str = sys.executable) -> dict:
    """One run under Tachyon, in this system (Python 3.15+); both sides' numbers."""
    with tempfile.TemporaryDirectory(prefix="bench-tachyon-") as tmp:
        script, out = Path(tmp, "gil_states.py"), Path(tmp, "profile.json")
        script.write_text(SCRIPT)
        cmd = [python, "-m", "profiling.sampling", "run", "-a", "--gecko", "-r", RATE,
               "-o", str(out), str(script), str(CPU_SECONDS), str(SLEEP_S), str(WORK_S)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not lines or not out.exists():
            raise RuntimeError(f"Tachyon run failed ({proc.returncode}):\n{proc.stdout}\n"
                               f"{proc.stderr}")  # fmt: skip
        said = [x for x in (proc.stdout + proc.stderr).splitlines()
                if "samples" in x.lower() or "rate" in x.lower()]
        res = compare(json.loads(lines[-1][len("RESULT "):]), json.loads(out.read_text()))
        res["tachyon_said"] = "; ".join(x.strip(" ⠋") for x in said)
        return res


def medians(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Per lane and column, the median over runs of (ours - Tachyon), in points."""
    return {r["lane"]: {c: statistics.median(run["rows"][i]["ours"][c]
                                             - run["rows"][i]["tachyon"][c] for run in runs)
                        for c in COLUMNS}
            for i, r in enumerate(runs[0]["rows"])}  # fmt: skip


def report(runs: list[dict]) -> str:
    med = medians(runs)
    worst = max(abs(d) for lane in med.values() for d in lane.values())
    lines = [f"GIL states, helpers vs Tachyon (python -m profiling.sampling run -a --gecko -r "
             f"{RATE}) · Python {runs[0]['python']} · {len(runs)} runs of two cpu({CPU_SECONDS:g}) "
             f"threads and a sleeper ({SLEEP_S * 1e3:g} ms asleep, {WORK_S * 1e3:g} ms of work) "
             "· % of the run's wall time, ours / Tachyon"]  # fmt: skip
    head = ("run", "lane", *COLUMNS, "not holding", "ours: waiting for a core", "ours: held",
            "Tachyon: on CPU")
    body = []
    for k, run in enumerate(runs, 1):
        for r in run["rows"]:
            body.append((f"{k} ({run['wall_s']:.2f} s)", r["lane"],
                         *(f"{r['ours'][c]:.1f} / {r['tachyon'][c]:.1f}" for c in COLUMNS),
                         "{:.1f} / {:.1f}".format(*(sum(r[side][c] for c in COLUMNS[1:])
                                                    for side in ("ours", "tachyon"))),
                         f"{r['waiting for a core']:.1f}", f"{r['held']:.1f}",
                         f"{r['on CPU']:.1f}"))
    for lane, d in med.items():
        body.append(("median diff", lane, *(f"{d[c]:+.1f} pp" for c in COLUMNS), "", "", "", ""))
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in [head, *body]]
    lines.append(f"worst median difference {worst:.1f} points -> "
                 + ("within" if worst <= TOLERANCE_PP else "NOT within")
                 + f" {TOLERANCE_PP:g} points. Tachyon said: {runs[0]['tachyon_said']}")
    lines.append("By design: our 'waiting for a core' has no Tachyon marker: the holder the OS "
                 "preempted is 'Has GIL' there (ours: 'held', the slices from taking the GIL to "
                 "another thread's turn, printed), the others 'Waiting for GIL'; C code computing "
                 "without the GIL is 'No GIL' + 'On CPU' there, 'C call, GIL released' here. "
                 "Tachyon's transitions land up to a sample period (1 ms) late. 'not holding' "
                 "= waiting for GIL + GIL released, on each side (printed only).")
    return "\n".join(lines)


def main() -> int:
    """Inside the root: RUNS runs, the table, and exit 1 if the target is missed."""
    runs = [run_once() for _ in range(RUNS)]
    print(report(runs))
    print("JSON " + json.dumps(runs))
    missed = [(lane, c, d) for lane, row in medians(runs).items() for c, d in row.items()
              if abs(d) > TOLERANCE_PP]
    unseen = [r["lane"] for run in runs for r in run["rows"] if not r["seen"]]
    for lane in unseen:
        print(f"FAIL: Tachyon has no markers for thread {lane}")
    for lane, c, d in missed:
        print(f"FAIL: {lane}, {c}: helpers and Tachyon differ by {d:+.1f} points")
    return 1 if missed or unseen else 0


def test_gil_states_agree_with_tachyon():
    if os.geteuid() != 0 or not shutil.which("debootstrap") and not Path(
            REPO, "build/sid-root/.course-root-ok").exists():
        pytest.skip("needs root and debootstrap (Python 3.15 from Debian sid, tools/sid_root.sh)")
    subprocess.run(["tools/pythons.sh"], cwd=REPO, check=True, timeout=1200,
                   env={**os.environ, "PYTHONS": "3.15", "PARTS": "venv"})
    proc = subprocess.run(["tools/sid_root.sh", "run", "/venvs/3.15/bin/python",
                           "tests/bench_tachyon.py"], cwd=REPO, capture_output=True, text=True,
                          timeout=1500, env={**os.environ, "BENCH_TACHYON_RUNS": str(RUNS)})
    print()
    print("\n".join(x for x in proc.stdout.splitlines() if not x.startswith("JSON ")))
    print(proc.stderr[-3000:], file=sys.stderr)
    assert "JSON " in proc.stdout, "the comparison did not run (see above)"
    assert proc.returncode == 0, "helpers and Tachyon disagree by more than the target (above)"


if __name__ == "__main__":
    if sys.version_info < (3, 15):
        sys.exit(f"Tachyon needs Python 3.15 (this is {sys.version.split()[0]}): "
                 "tools/sid_root.sh run /venvs/3.15/bin/python tests/bench_tachyon.py")
    sys.exit(main())
