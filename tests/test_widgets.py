"""The notebooks' widgets, built and driven outside a notebook (ipywidgets needs no browser).

Each test does what a learner does (moves a slider, presses a button, types) and checks what
the learner would see change: the picture handed to the output area, the text printed under
it, the label, the log, the buttons; and that the run used the knob's value and left nothing
running. helpers.widgets.explorer, the race explorer (races.explorer) and the responsiveness
widgets (responsiveness.type_while, typing_box). The quiz, the generator stepper, the
event-loop explorer and the capstone's Chooser are driven in test_kit, test_generators,
test_aio and test_beyond.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

import ipywidgets as W
import pytest
from records import build, every, record

import helpers
from helpers import widgets
from helpers import workloads as w
from helpers.lessons import races, responsiveness


@pytest.fixture
def shown(monkeypatch):
    """What the widgets hand to IPython's display(), in order (outside a kernel it would
    only be printed)."""
    out: list = []
    monkeypatch.setattr(widgets, "display", out.append)
    return out


def said(capsys) -> str:
    """What was printed since the last call, without the terminal's clear-line codes that
    Output.clear_output prints outside a kernel."""
    return capsys.readouterr().out.replace("\x1b[2K", "").replace("\r", "")


def lane_names(fig) -> list[str]:
    """The lanes of a timeline picture, top to bottom, as its row labels say."""
    return [t.get_text().split("\n")[0] for t in fig.axes[0].get_yticklabels()]


def made_up(threads: int):
    """A Timeline of ``threads`` lanes, one after the other, 1 ms each: fast and exact."""
    return build([record(f"t{i}", every(2 * i, 2 * i + 1), tid=i + 1) for i in range(threads)])


# --- helpers.widgets.explorer -------------------------------------------------------------


def test_explorer_draws_once_when_built_with_the_controls_values(shown, capsys):
    calls = []

    def make(threads, interval_ms):
        calls.append((threads, interval_ms))
        return made_up(threads)

    box = widgets.explorer(make, threads=W.IntSlider(2, 1, 4), interval_ms=W.IntSlider(7, 1, 20))
    assert calls == [(2, 7)]
    assert len(shown) == 1 and lane_names(shown[0]) == ["t0", "t1"]
    printed = said(capsys)
    assert "running ms" in printed and "\nt0 " in printed and "\nt1 " in printed  # the table
    (controls, out) = box.children
    assert isinstance(out, W.Output)
    *sliders, button = controls.children
    assert [s.value for s in sliders] == [2, 7] and button.description == "Run"


def test_explorer_reruns_only_when_run_is_pressed_with_the_new_values(shown, capsys):
    calls = []

    def make(threads):
        calls.append(threads)
        return made_up(threads)

    box = widgets.explorer(make, threads=W.IntSlider(2, 1, 4))
    slider, button = box.children[0].children
    slider.value = 4
    slider.value = 3
    assert calls == [2] and len(shown) == 1  # moving the slider runs nothing
    capsys.readouterr()
    button.click()
    assert calls == [2, 3]
    assert len(shown) == 2 and lane_names(shown[1]) == ["t0", "t1", "t2"]
    assert said(capsys).count("\nt") == 3  # a new table, one row per lane
    assert not button.disabled


def test_explorer_window_draw_describe_and_stats_are_used(shown, capsys):
    box = widgets.explorer(made_up, window=lambda tl: (1.5, 3.5),
                           threads=W.IntSlider(3, 1, 4))  # fmt: skip
    assert shown[0].axes[0].get_xlim() == (1.5, 3.5)
    assert "running ms" in said(capsys)
    pictures = []

    def draw(tl):
        pictures.append(len(tl.lanes))
        return f"my picture of {len(tl.lanes)} lanes"

    box = widgets.explorer(made_up, stats=False, draw=draw,
                           describe=lambda tl: f"{len(tl.lanes)} lanes, {tl.wall_ms:.0f} ms",
                           threads=W.IntSlider(2, 1, 4))  # fmt: skip
    assert shown[1:] == ["my picture of 2 lanes"] and pictures == [2]
    printed = said(capsys)
    assert printed == "2 lanes, 3 ms\n"  # no statistics table, the description
    box.children[0].children[0].value = 4
    box.children[0].children[1].click()
    assert shown[2:] == ["my picture of 4 lanes"]
    assert said(capsys) == "4 lanes, 7 ms\n"


def test_explorer_button_is_off_during_a_run_and_on_again_after_an_error(shown):
    seen = []
    button = None

    def make(fail):
        seen.append(button.disabled if button is not None else None)
        if fail:
            raise RuntimeError("the learner's code raised")
        return made_up(1)

    box = widgets.explorer(make, fail=W.Checkbox(False))
    checkbox, button = box.children[0].children
    checkbox.value = True
    button.click()  # the error is logged (a kernel shows it in the output area)
    assert seen == [None, True]  # pressed twice at once would not start two runs
    assert not button.disabled  # and the learner can press Run again


def test_explorer_runs_with_the_knobs_values(shown, capsys, no_leftovers):
    # The module docstring's own example, driven: the switch interval is the slider's.
    def make(threads, interval_ms):
        return helpers.run_threads([w.cpu(0.02)] * threads, switch_interval=interval_ms / 1000)

    box = widgets.explorer(make, threads=W.IntSlider(2, 1, 4), interval_ms=W.IntSlider(5, 1, 20))
    threads, interval, button = box.children[0].children
    threads.value, interval.value = 3, 2
    button.click()
    assert lane_names(shown[-1]) == ["cpu-1", "cpu-2", "cpu-3"]
    assert "switch interval 2 ms" in shown[-1].axes[0].get_title(loc="left")


# --- the race explorer (notebook 07) ------------------------------------------------------


def test_race_explorer_runs_the_race_the_controls_say(shown, capsys, monkeypatch, no_leftovers):
    asked = []
    real_race = races.race

    def race(*args, **kwargs):  # the real race, noting what it was asked for
        asked.append((args, kwargs))
        return real_race(*args, **kwargs)

    monkeypatch.setattr(races, "race", race)
    box = races.explorer()
    threads, iterations, call_between, use_lock, button = box.children[0].children
    assert asked[0] == ((2, 50_000), {"call_between": True, "use_lock": False, "record": True})
    first = said(capsys).splitlines()[0]  # how many were lost is up to the race
    assert re.fullmatch(r"[\d,]+ of 100,000 updates lost \([\d,]+ writes over someone else's\)",
                        first), first  # 2 threads x 50,000, the sliders' defaults
    assert lane_names(shown[0]) == ["MainThread", "adder-1", "adder-2"]
    threads.value, iterations.value, call_between.value, use_lock.value = 3, 5_000, False, True
    button.click()
    assert asked[1] == ((3, 5_000), {"call_between": False, "use_lock": True, "record": True})
    assert said(capsys).splitlines()[0] == "0 of 15,000 updates lost (0 writes over someone else's)"
    assert lane_names(shown[1]) == ["MainThread", "adder-1", "adder-2", "adder-3"]


# --- responsiveness (notebook 06) ---------------------------------------------------------


def in_a_thread(seconds: float) -> None:
    threading.Thread(target=time.sleep, args=(seconds,), name="calculation").start()


def in_the_main_thread(seconds: float) -> None:
    time.sleep(seconds)


def test_type_while_a_thread_calculates_answers_each_key_soon(no_leftovers):
    tl, late = responsiveness.type_while(in_a_thread, seconds=0.4, keys="abc")
    assert not [t for t in threading.enumerate() if t.name == "calculation"]  # joined
    assert len(late) == 3  # one answer per key
    assert [ln.name for ln in tl.lanes] == ["MainThread", "keyboard (types 'abc')", "calculation"]
    assert max(late) < 0.1, late


def test_type_while_the_main_thread_calculates_answers_after_it(no_leftovers):
    seconds = 0.4
    tl, late = responsiveness.type_while(lambda s: responsiveness._busy(s), seconds=seconds,
                                         keys="ab")  # fmt: skip
    assert len(late) == 2
    assert [ln.name for ln in tl.lanes] == ["MainThread", "keyboard (types 'ab')"]
    # The first key is pressed 40 ms in; nobody reads it before the calculation ends.
    assert late[0] > seconds / 2, late


def test_type_while_refuses_what_cannot_be_typed_meanwhile(no_leftovers):
    with pytest.raises(ValueError, match="seconds must be more than 0"):
        responsiveness.type_while(in_a_thread, seconds=0)
    with pytest.raises(ValueError, match="all of them while the calculation runs"):
        responsiveness.type_while(in_a_thread, seconds=0.1, keys="abc", every=0.05)
    with pytest.raises(ValueError, match="at least one key"):
        responsiveness.type_while(in_a_thread, seconds=0.1, keys="")


@pytest.fixture
def pictures(monkeypatch):
    """(output widget, figure) for each picture appended to an Output widget."""
    out: list = []
    monkeypatch.setattr(W.Output, "append_display_data", lambda self, obj: out.append((self, obj)))
    return out


def parts(box):
    (thread_button, main_button), (text, answer) = (box.children[0].children,
                                                    box.children[1].children)  # fmt: skip
    return thread_button, main_button, text, answer, box.children[2], box.children[3]


def log_text(log) -> str:
    return "".join(o["text"] for o in log.outputs)


async def until(condition, seconds: float = 5.0) -> None:
    """Let the event loop run (as the kernel's does) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the widget did not finish in time"
        await asyncio.sleep(0.01)


def test_typing_box_in_a_thread_answers_while_it_calculates(pictures, no_leftovers):
    async def learner():
        box = responsiveness.typing_box(in_a_thread, in_the_main_thread, seconds=0.3)
        thread_button, main_button, text, answer, log, picture = parts(box)
        assert not log.outputs and not pictures  # nothing runs until a button is pressed
        thread_button.click()
        assert thread_button.disabled and main_button.disabled
        assert log_text(log) == "Calculating for 0.3 s in a thread: type in the box now!\n"
        text.value = "hi"  # a key press: answered at once, while the thread sleeps
        assert answer.value == "The main thread has read: 'hi'"
        assert "the main thread read 'hi'" in log_text(log).splitlines()[1]
        assert not pictures  # the calculation is still going on
        await until(lambda: not thread_button.disabled)
        (where, fig), = pictures
        assert where is picture
        assert fig.axes[0].get_title(loc="left").startswith("The calculation in a thread")
        assert "calculation" in lane_names(fig) and "MainThread" in lane_names(fig)
        assert not main_button.disabled

    asyncio.run(learner())


def test_typing_box_in_the_main_thread_answers_nothing_meanwhile(pictures, no_leftovers):
    async def learner():
        box = responsiveness.typing_box(in_a_thread, in_the_main_thread, seconds=0.2)
        thread_button, main_button, text, answer, log, picture = parts(box)
        t0 = time.perf_counter()
        main_button.click()  # the calculation runs in this, the main thread: click() waits
        assert time.perf_counter() - t0 >= 0.2
        await until(lambda: not main_button.disabled)
        (where, fig), = pictures
        assert fig.axes[0].get_title(loc="left").startswith("The calculation in the main thread")
        assert lane_names(fig) == ["MainThread"]  # no thread of its own
        assert answer.value == "The main thread has read: (nothing yet)"

    asyncio.run(learner())


def test_typing_box_cleans_up_when_the_calculation_raises(pictures, no_leftovers, caplog):
    def broken(seconds):
        raise ZeroDivisionError("the learner's code")

    async def learner():
        box = responsiveness.typing_box(broken, in_the_main_thread, seconds=0.2)
        thread_button, main_button, *_ = parts(box)
        thread_button.click()  # the error is logged (a kernel shows it under the cell)
        assert not thread_button.disabled and not main_button.disabled  # press again
        assert len(pictures) == 1  # the recording was ended, and drawn
        assert "ZeroDivisionError: the learner's code" in caplog.text

    asyncio.run(learner())


def test_typing_box_needs_a_kernel_and_says_so():
    with pytest.raises(RuntimeError, match=r"typing_box\(\) needs the event loop"):
        responsiveness.typing_box(in_a_thread, in_the_main_thread, seconds=1)
    with pytest.raises(ValueError, match="seconds must be more than 0 and at most 10"):
        responsiveness.typing_box(in_a_thread, in_the_main_thread, seconds=11)
