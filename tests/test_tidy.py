"""helpers.lessons.tidy: the end-of-notebook check sees a thread left running, and waits for
one that is ending; again_if_busy stops at the first run that shows what must hold."""

from __future__ import annotations

import threading

import pytest

from helpers.lessons import tidy


def test_a_thread_left_running_fails_the_check_with_its_name(no_leftovers):
    before = tidy.snapshot()
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="left behind")
    stuck.start()
    try:
        with pytest.raises(AssertionError, match="left behind"):
            tidy.nothing_left_running(before, timeout=0.2)
    finally:
        release.set()
        stuck.join(5)


def test_a_thread_that_is_ending_is_waited_for(no_leftovers, capsys):
    before = tidy.snapshot()
    ending = threading.Timer(0.2, lambda: None)  # a Thread subclass: not counted
    plain = threading.Thread(target=threading.Event().wait, args=(0.3,), name="ending soon")
    ending.start()
    plain.start()
    assert tidy.still_running(before) == ["ending soon"]
    tidy.nothing_left_running(before, timeout=5)
    assert "No thread or process left running" in capsys.readouterr().out
    ending.join(5)


def test_again_if_busy_stops_at_the_first_good_run_and_judges_the_last():
    runs = iter([5, 1, 9, 9])
    assert tidy.again_if_busy(lambda: next(runs), ok=lambda x: x < 2) == 1
    runs = iter([5, 6, 7, 8])
    assert tidy.again_if_busy(lambda: next(runs), ok=lambda x: x < 2, tries=3) == 7
    with pytest.raises(ValueError, match="at least 1"):
        tidy.again_if_busy(lambda: 0, ok=bool, tries=0)
