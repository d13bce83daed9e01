"""What the tests share about preconditions and waiting.

missing(reason): a precondition the test cannot build is missing. Locally that is a skip
with the reason; under CI=true (CI runs .ci/run with it) it is a failure, so that CI can
never pass a test that did not run.

until(condition, timeout): wait for a condition, not for a fixed sleep, so that a busy
machine only makes the test slower; the deadline keeps a broken one from hanging.

Stolen(): how much of the machine's CPU time its hypervisor gave to others during a block,
so that a timing test can tell a busy host from a bug of ours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(reason: str):
    """In CI a missing precondition is a failure, locally a skip with the reason."""
    if in_ci():
        pytest.fail(f"CI needs this: {reason}", pytrace=False)
    pytest.skip(reason)


def until(condition: Callable[[], T], timeout: float = 10.0, every: float = 0.002) -> T:
    """condition()'s first truthy value, polled until the deadline; its last value after it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


def stolen_ns() -> int:
    """CPU time the hypervisor took from this virtual machine (all its CPUs), since boot:
    the "steal" column of /proc/stat's cpu line. 0 where the OS does not tell."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0


class Stolen:
    """``with Stolen() as s:`` ... ``s.share``: the part of the CPUs' time during the block
    that the hypervisor gave to other machines. Our threads get no core then, whatever
    their priority (real-time priority only beats the programs of this machine), so
    every measurement of switching is stretched: seen here, 0-4% while tests ran."""

    share = 0.0

    def __enter__(self) -> Stolen:
        self._t0, self._s0 = time.monotonic_ns(), stolen_ns()
        return self

    def __exit__(self, *exc) -> None:
        wall = (time.monotonic_ns() - self._t0) * (os.cpu_count() or 1)
        self.share = (stolen_ns() - self._s0) / wall if wall > 0 else 0.0

    def __str__(self) -> str:
        return f"{self.share:.1%} of the CPUs' time stolen by the hypervisor"
