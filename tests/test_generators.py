"""helpers.lessons.generators: a generator stepped by hand, its widget, the scheduler's checks."""

from __future__ import annotations

import functools
import inspect
import threading

import pytest

import helpers
from helpers.lessons import generators
from helpers.lessons.generators import Stepper
from helpers.timeline import Lane, RunInfo, Span, Timeline

pytestmark = pytest.mark.usefixtures("no_leftovers")


def running_total():
    total = 0
    while True:
        amount = yield total
        total += amount


def resettable_total():
    total = 0
    while True:
        try:
            amount = yield total
        except ValueError:
            total = 0
            continue
        total += amount


def countdown(n):
    print("starting")
    try:
        while n > 0:
            yield n
            n -= 1
    finally:
        print("cleaning up")
    return "done"


def test_a_generator_through_its_life():
    s = Stepper(running_total)
    assert s.state == inspect.GEN_CREATED and s.locals == {}
    # Not primed: the send is refused and the generator does not start.
    assert s.send(5) == "TypeError: can't send non-None value to a just-started generator"
    assert s.state == inspect.GEN_CREATED
    assert s.next() == "yielded 0" and s.state == inspect.GEN_SUSPENDED
    assert (s.send(5), s.send(10)) == ("yielded 5", "yielded 15")
    assert s.locals == {"total": 15, "amount": 10}
    assert s.throw(ValueError("stop")) == "raised ValueError('stop')"
    assert s.state == inspect.GEN_CLOSED and s.line is None and s.locals == {}
    assert s.next() == "StopIteration (it was over already: nothing ran)"
    assert s.close() == "closed (it was over already: nothing ran)"
    assert [step.call for step in s.history] == [
        "g.send(5)", "next(g)", "g.send(5)", "g.send(10)", "g.throw(ValueError('stop'))",
        "next(g)", "g.close()",
    ]  # fmt: skip
    assert [step.state for step in s.history][:2] == [inspect.GEN_CREATED, inspect.GEN_SUSPENDED]


def test_a_caught_throw_gives_the_next_yield():
    s = Stepper(resettable_total)
    s.next()
    s.send(7)
    assert s.throw(ValueError()) == "yielded 0" and s.state == inspect.GEN_SUSPENDED
    assert s.locals["total"] == 0


def test_the_line_it_is_paused_at():
    s = Stepper(resettable_total)
    assert s.source[s.line - 1] == "def resettable_total():"
    s.next()
    assert s.source[s.line - 1].strip() == "amount = yield total"
    assert s.first_line == resettable_total.__code__.co_firstlineno


def test_a_decorated_generator_function_is_shown_whole():
    def logged(gen_function):
        @functools.wraps(gen_function)
        def make(*args):
            return gen_function(*args)

        return make

    @logged
    def two():
        yield 1
        yield 2

    s = Stepper(two)
    assert s.source[0].strip() == "@logged"
    assert s.source[s.line - 1].strip() == "def two():"  # not started: at the def, not the @
    s.next()
    assert s.source[s.line - 1].strip() == "yield 1"
    s.next()
    assert s.source[s.line - 1].strip() == "yield 2"


def test_what_a_step_prints_is_kept_with_it(capsys):
    s = Stepper(countdown, 1)
    assert s.next() == "yielded 1"
    assert s.next() == "returned 'done': StopIteration"
    assert [step.printed for step in s.history] == ["starting\n", "cleaning up\n"]
    assert capsys.readouterr().out == ""  # not spilled into whatever cell is running


def test_close_runs_the_finally_block():
    s = Stepper(countdown, 3)
    s.next()
    assert s.close() == "closed" and s.history[-1].printed == "cleaning up\n"


def test_a_generator_that_will_not_close():
    def stubborn():
        try:
            yield
        except GeneratorExit:
            pass  # ignores the first close()...
        yield  # ...and so is still suspended, here (the next close ends it)

    s = Stepper(stubborn)
    s.next()
    assert s.close() == "raised RuntimeError('generator ignored GeneratorExit')"
    assert s.state == inspect.GEN_SUSPENDED
    assert s.close() == "closed"


def test_an_error_in_the_body_ends_the_generator():
    def fails():
        yield 1 / 0

    s = Stepper(fails)
    assert s.next() == "raised ZeroDivisionError('division by zero')"
    assert s.state == inspect.GEN_CLOSED


def test_restart_makes_a_fresh_generator():
    s = Stepper(countdown, 2)
    old = s.gen
    s.next()
    s.restart()
    assert s.gen is not old and inspect.getgeneratorstate(old) == inspect.GEN_CLOSED
    assert s.state == inspect.GEN_CREATED and s.history == []


def test_without_source_it_still_steps():
    namespace: dict = {}
    exec(compile("def g():\n    yield 1\n", "<no file>", "exec"), namespace)
    s = Stepper(namespace["g"])
    assert s.source == [] and s.line is None
    assert s.next() == "yielded 1"
    assert "no source to show" in s.html()


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="not Stepper\\(running_total\\(\\)\\)"):
        Stepper(running_total())
    with pytest.raises(TypeError, match="not a generator function"):
        Stepper(len)
    with pytest.raises(TypeError, match="deprecated since 3.12"):
        Stepper(running_total).throw(ValueError)
    with pytest.raises(ValueError, match="the buttons are"):
        Stepper(running_total).press("yield")


def test_the_widget_buttons_do_the_calls():
    s = Stepper(resettable_total)
    first_picture = s.widget.children[1].value
    assert "GEN_CREATED" in first_picture and "not started yet" in first_picture
    assert s.press("send", "5").startswith("TypeError")
    assert s.press("next") == "yielded 0"
    assert "paused here" in s.widget.children[1].value  # the picture was redrawn
    assert s.press("send", "2.5") == "yielded 2.5"
    assert s.press("send", "'word'").startswith("raised TypeError(")  # 2.5 + 'word'
    assert s.state == inspect.GEN_CLOSED, "an error it does not catch ends it"
    s.restart()
    s.press("next")
    assert s.press("send", "oops").startswith("not sent: type a Python value")
    assert s.state == inspect.GEN_SUSPENDED, "a value that is not one is not sent"
    assert s.press("throw") == "yielded 0"
    assert s.press("close") == "closed" and "GEN_CLOSED</span>" in s.html()
    assert s.press("restart") == "started again" and s.state == inspect.GEN_CREATED


def round_robin(tasks):
    while tasks:
        task = tasks.pop(0)
        try:
            next(task)
            tasks.append(task)
        except StopIteration:
            pass


def steps(n):
    for _ in range(n):
        sum(range(1000))
        yield


def test_running_order_and_no_overlap_on_one_thread():
    with helpers.recording_steps() as rec:
        round_robin([rec.wrap(steps(2), "a"), rec.wrap(steps(1), "b"), rec.wrap(steps(2), "c")])
    tl = rec.timeline
    # a b c a (b ends) c (a ends) (c ends): each generator's last step is the one that ends it
    assert generators.running_order(tl) == ["a", "b", "c", "a", "b", "c", "a", "c"]
    # (No overlap check: steps on one thread are one after another by construction; the
    # order above is what the recording could get wrong.)
    assert {lane.native_id for lane in tl.lanes} == {threading.get_native_id()}


def test_same_instant_finds_lanes_that_ran_at_once():
    def lane(name, *spans):
        return Lane(name=name, pid=1, native_id=1, process_name="p", spans=spans, slices=(),
                    cpu_ns=0)  # fmt: skip

    ms = 1_000_000
    info = RunInfo(kind="threads", python="3", gil_enabled=False, free_threaded_build=True,
                   switch_interval=0.005, usable_cores=2, cpu_count=2)  # fmt: skip
    tl = Timeline(lanes=(
        lane("x", Span(0, 10 * ms, helpers.RUNNING)),
        lane("y", Span(0, 4 * ms, helpers.AWAITING), Span(4 * ms, 12 * ms, helpers.RUNNING)),
        lane("z", Span(0, 12 * ms, helpers.AWAITING)),
    ), start=0, end=12 * ms, info=info)  # fmt: skip
    assert tl.same_instant_ms() == 6.0
    assert generators.running_order(tl) == ["x", "y"]
