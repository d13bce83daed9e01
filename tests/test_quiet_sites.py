"""Quiet calls (helpers.automatic): short C calls stop costing, and nothing is lost.

A place in the code that made only short calls to one C function that cannot give the
GIL away is switched off (sys.monitoring.DISABLE). What must still hold: a call that
blocks or releases the GIL is seen, at a site that was short many times and at one
whose callee changes; a hot loop still beats in every few milliseconds it runs; and
nothing stays switched off from one recording to the next. On 3.10/3.11
sys.setprofile cannot switch one place off: there the calls of those functions are
counted and one in QUIET_EVERY beats; the same checks hold.
"""

from __future__ import annotations

import threading
import time
import zlib

import pytest

import helpers
from helpers import automatic


def lane_of(rec, name):
    return next(ln for ln in rec.lanes if ln.name == name)


def in_thread(work, name="learner"):
    with helpers.recording() as rec:
        t = threading.Thread(target=work, name=name)
        t.start()
        t.join()
    return lane_of(rec, name), rec


def appends(n):
    out = []
    for i in range(n):
        out.append(i * i)


def test_a_hot_loop_of_short_calls_keeps_few_heartbeats():
    # Fails on main (before issue 16): two heartbeats per out.append.
    lane, _ = in_thread(lambda: appends(200_000))
    assert len(lane.beats) < 200_000 / 20


def test_a_quiet_hot_loop_still_beats_every_few_milliseconds():
    lane, _ = in_thread(lambda: appends(1_500_000))
    beats = list(lane.beats)
    gaps = sorted(b - a for a, b in zip(beats, beats[1:]))
    ran_ms = (beats[-1] - beats[0]) / 1e6
    print(f"{len(beats)} heartbeats over {ran_ms:.0f} ms; longest gap {gaps[-1] / 1e6:.1f} ms")
    # The events come back every REARM_S (5 ms); on a busy machine a wake-up is late.
    assert len(beats) >= ran_ms / (4 * automatic.REARM_S * 1e3)


def sleeps_at_one_site(delays):
    for d in delays:
        time.sleep(d)


def test_a_site_short_many_times_then_long_is_seen():
    lane, _ = in_thread(lambda: sleeps_at_one_site([0] * 300 + [0.03]))
    longest = max(m.end - m.start for m in lane.marks if m.label == "time.sleep")
    assert longest >= 30e6


def crc_at_one_site(buffers):
    for b in buffers:
        zlib.crc32(b)  # releases the GIL for large buffers


def test_a_c_call_that_releases_the_gil_after_many_short_ones_is_seen():
    # Written, not calloc'd: the first read of untouched zero pages pays page faults
    # (on CI: 104 ms, then 42 ms), and the call measured alone must be a warm one.
    big = b"\x01" * 150_000_000
    zlib.crc32(big)
    t0 = time.thread_time()
    zlib.crc32(big)
    alone_ns = (time.thread_time() - t0) * 1e9
    lane, _ = in_thread(lambda: crc_at_one_site([b"x"] * 300 + [big]))
    longest = max((m.end - m.start for m in lane.marks if m.label == "zlib.crc32"), default=0)
    print(f"crc32 of 150 MB: {alone_ns / 1e6:.0f} ms of CPU alone; marked {longest / 1e6:.0f} ms")
    assert longest >= 0.5 * alone_ns


def calls_at_one_site(funcs, arg):
    for f in funcs:
        f(arg)


def test_a_site_whose_callee_changes_is_watched_again():
    # After 200 calls of abs the site is quiet; then it calls time.sleep. A call that
    # starts while the site is off is not seen (it is silent in the lane: the first sleep
    # may be lost); from the next switch-on (REARM_S) the site is watched for good.
    lane, _ = in_thread(lambda: calls_at_one_site([abs] * 200 + [time.sleep] * 5, 0.03))
    seen = [m for m in lane.marks if m.label == "time.sleep" and m.end - m.start >= 25e6]
    assert len(seen) >= 4


def test_nothing_stays_switched_off_from_one_recording_to_the_next():
    in_thread(lambda: calls_at_one_site([len] * 500, "ab"))  # the site goes quiet
    lane, _ = in_thread(lambda: calls_at_one_site([time.sleep], 0.03))
    assert [m.label for m in lane.marks if m.end - m.start >= 25e6] == ["time.sleep"]


@pytest.mark.skipif(not automatic.USES_MONITORING, reason="quiet sites: sys.monitoring, 3.12+")
def test_a_small_switch_interval_keeps_every_call():
    with helpers.recording(switch_interval=0.001) as rec:
        t = threading.Thread(target=lambda: appends(50_000), name="learner")
        t.start()
        t.join()
    assert len(lane_of(rec, "learner").beats) >= 50_000
