"""The small steps both rule sets take, each written twice (helpers.rules and
helpers.rules_fast do not share code): each copy on hand-made records with known answers.

The agreement test (test_inference.py) cannot see a slip made in both copies alike; these
can, and they name the step that slipped.
"""

from __future__ import annotations

import pytest
from records import record

from helpers import rules, rules_fast
from helpers.recorder import C_CALL_AUTO, Mark
from helpers.states import AWAITING, BLOCKED, FINISHED, RUNNING
from helpers.timeline import Span

SETS = {"rules": rules, "rules_fast": rules_fast}


def part(module, name):
    return getattr(module, name if module is rules else "_" + name)


def tidy(module, spans, end):
    """merge_adjacent then clip (rules) or _tidy (rules_fast)."""
    if module is rules:
        return tuple(rules.clip(rules.merge_adjacent(spans), end))
    return rules_fast._tidy(spans, end)


@pytest.mark.parametrize("module", SETS.values(), ids=SETS)
def test_run_bounds(module):
    a = record("a", [100, 200, 300])
    b = record("b", [150, 400], requested_ns=50)  # a process asked for at 50 ns
    assert part(module, "run_bounds")([a, b]) == (50, 400, [])
    cut = record("c", [120, 500], truncated_at=250)
    start, end, notes = part(module, "run_bounds")([a, b, cut])
    assert (start, end) == (50, 250) and len(notes) == 1 and "c reached the cap" in notes[0]
    with pytest.raises(ValueError, match="at least one heartbeat"):
        part(module, "run_bounds")([a, record("empty", [])])


@pytest.mark.parametrize("module", SETS.values(), ids=SETS)
def test_task_lane(module):
    steps = record("task", [10, 20, 50, 60])  # two steps: 10-20 and 50-60
    steps.kind = "task"
    lane = part(module, "task_lane")(steps, 100)
    assert [(s.start, s.end, s.state) for s in lane.spans] == [
        (10, 20, RUNNING),
        (20, 50, AWAITING),
        (50, 60, RUNNING),
        (60, 100, FINISHED),
    ]
    assert lane.kind == "task"
    steps.open_until = 90  # still suspended when recording ended at 90
    lane = part(module, "task_lane")(steps, 90)
    assert [(s.start, s.end, s.state) for s in lane.spans][-1] == (60, 90, AWAITING)


@pytest.mark.parametrize("module", SETS.values(), ids=SETS)
def test_split_at_callbacks(module):
    auto = Mark(100, 200, C_CALL_AUTO, "sorted", 50)
    # heartbeats inside the call at 120 and 170: Python ran between them (a key function)
    r = record("a", [90, 120, 170, 210], marks=[auto])
    assert part(module, "split_at_callbacks")(r) == [
        Mark(100, 120, C_CALL_AUTO, "sorted", 50),
        Mark(170, 200, C_CALL_AUTO, "sorted", 50),
    ]
    r = record("a", [90, 210], marks=[auto])  # no heartbeat inside: C code all along
    assert part(module, "split_at_callbacks")(r) == [auto]
    lock = Mark(80, 250, BLOCKED, "lock 'a'", -1)  # begun inside a known region: dropped
    r = record("a", [80, 250], marks=[lock, auto])
    assert part(module, "split_at_callbacks")(r) == [lock]


@pytest.mark.parametrize("module", SETS.values(), ids=SETS)
def test_merge_and_clip(module):
    spans = [Span(0, 10, RUNNING), Span(10, 20, RUNNING), Span(20, 20, BLOCKED),
             Span(20, 30, RUNNING, inferred=True), Span(30, 50, BLOCKED, "sleep"),
             Span(50, 60, BLOCKED, "sleep")]  # fmt: skip
    assert tidy(module, spans, 55) == (
        Span(0, 20, RUNNING),
        Span(20, 30, RUNNING, inferred=True),
        Span(30, 55, BLOCKED, "sleep"),
    )
    assert tidy(module, spans, 20) == (Span(0, 20, RUNNING),)
