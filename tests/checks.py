"""What the tests share about preconditions.

missing(reason): a precondition the test cannot build is missing. Locally that is a skip
with the reason; under CI=true (CI runs .ci/run with it) it is a failure, so that CI can
never pass a test that did not run.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(reason: str):
    """In CI a missing precondition is a failure, locally a skip with the reason."""
    if in_ci():
        pytest.fail(f"CI needs this: {reason}", pytrace=False)
    pytest.skip(reason)
