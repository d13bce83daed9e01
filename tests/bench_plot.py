"""Benchmark: drawing a long timeline stays fast (in make bench: the time depends on the machine).

A timeline of 100,000 spans (two threads trading the GIL every 30 us for 1.5 s, far more
than any notebook draws) is plotted and rendered to PNG, as a notebook does.
"""

from __future__ import annotations

import io
import time

import pytest

from tests.records import build, record

pytestmark = pytest.mark.bench


def test_plotting_100_000_spans_takes_well_under_a_second():
    n = 51_000  # heartbeats 10 us apart, alternating between two lanes every 3 beats
    beats_a = [i * 10_000 for i in range(n * 3) if (i // 3) % 2 == 0]
    beats_b = [i * 10_000 for i in range(n * 3) if (i // 3) % 2 == 1]
    t0 = time.perf_counter()
    tl = build([record("a", beats_a, pid=1, tid=1), record("b", beats_b, pid=1, tid=2)])
    built = time.perf_counter() - t0
    spans = sum(len(lane.spans) for lane in tl.lanes)
    assert spans >= 100_000
    t0 = time.perf_counter()
    tl.plot().savefig(io.BytesIO(), format="png")
    drawn = time.perf_counter() - t0
    print(f"\n{spans} spans: built from {3 * n:,} heartbeats in {built:.2f} s, "
          f"plotted and rendered in {drawn:.2f} s")
    assert drawn < 1.0
