"""What the tests share about preconditions and waiting.

missing(reason): a precondition the test cannot build is missing. Locally that is a skip
with the reason; under CI=true (CI runs .ci/run with it) it is a failure, so that CI can
never pass a test that did not run.

until(condition, timeout): wait for a condition, not for a fixed sleep, so that a busy
machine only makes the test slower; the deadline keeps a broken one from hanging.
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
