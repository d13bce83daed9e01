"""Under nbval: time each notebook, print the times, and hold them to the course's budget.

A notebook is one sitting for a learner, and CI runs them all: each must run in under
20 s; part 1 (00-07) together in under 90 s, part 2 (08-11) in under 60 s, part 3 (12-17,
six notebooks) in under 100 s (on a 2-core machine, also when busy).
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

NOTEBOOK_LIMIT_S = 20.0
# (first, last) notebook number of a part -> seconds for all of its notebooks together
PART_LIMITS_S = {(0, 7): 90.0, (8, 11): 60.0, (12, 17): 100.0}


def _part(path: str) -> tuple[int, int] | None:
    name = path.rsplit("/", 1)[-1]
    if not name[:2].isdigit():
        return None
    number = int(name[:2])
    return next((p for p in PART_LIMITS_S if p[0] <= number <= p[1]), None)


def _part_totals() -> dict[tuple[int, int], float]:
    totals: dict[tuple[int, int], float] = {}
    for path, seconds in _seconds.items():
        part = _part(path)
        if part is not None:
            totals[part] = totals.get(part, 0.0) + seconds
    return totals

_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration  # setup (the kernel starts), call and teardown


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _seconds:
        return
    write = terminalreporter.write_line
    terminalreporter.section("time per notebook")
    for path, seconds in sorted(_seconds.items()):
        flag = "  <-- over the limit" if seconds > NOTEBOOK_LIMIT_S else ""
        write(f"{seconds:6.1f} s  {path}{flag}")
    for (first, last), seconds in sorted(_part_totals().items()):
        limit = PART_LIMITS_S[first, last]
        flag = "  <-- over the limit" if seconds > limit else ""
        write(f"{seconds:6.1f} s  notebooks {first:02d}-{last:02d} together "
              f"(limit {limit:g} s){flag}")  # fmt: skip
    write(f"{sum(_seconds.values()):6.1f} s  in all (limit {NOTEBOOK_LIMIT_S:g} s each)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("COURSE_TIME_BUDGET") == "off":  # make test-spawn: timed, not judged
        return
    slow = {p: s for p, s in _seconds.items() if s > NOTEBOOK_LIMIT_S}
    parts = {p: s for p, s in _part_totals().items() if s > PART_LIMITS_S[p]}
    if slow or parts:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nnotebooks over the time budget: {slow or ''} {parts or ''}")
