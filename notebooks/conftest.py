"""Under nbval: time each notebook, print the times, and hold them to the course's budget.

A notebook is one sitting for a learner, and CI runs them all: each must run in under
20 s and all of them together in under 90 s (on a 2-core machine, also when busy).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

NOTEBOOK_LIMIT_S = 20.0
TOTAL_LIMIT_S = 90.0

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
    write(f"{sum(_seconds.values()):6.1f} s  in all (limits: {NOTEBOOK_LIMIT_S:g} s each, "
          f"{TOTAL_LIMIT_S:g} s together)")  # fmt: skip


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    slow = {p: s for p, s in _seconds.items() if s > NOTEBOOK_LIMIT_S}
    if slow or sum(_seconds.values()) > TOTAL_LIMIT_S:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nnotebooks over the time budget: {slow or 'all of them together'}")
