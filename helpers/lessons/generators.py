"""Generators stepped by hand and watched: the plumbing of notebook 14.

A generator runs only when its caller asks. ``next(g)`` (the same as ``g.send(None)``)
runs it to its next ``yield``; ``g.send(value)`` does too, and the paused ``yield``
hands ``value`` in; ``g.throw(exc)`` raises ``exc`` at the paused ``yield``;
``g.close()`` ends it. A ``Stepper`` does each of these on a generator and keeps what it
saw: the state (``inspect.getgeneratorstate``), the paused line, its local variables.
In a notebook, ``stepper(running_total)`` shows the same with buttons and the source
with the paused line marked. For a scheduler's timeline (``helpers.recording_steps``),
``running_order(tl)`` lists the lanes in the order their steps ran.
"""

from __future__ import annotations

import ast
import contextlib
import html
import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass

from ..palette import STATE_COLORS
from ..states import AWAITING, FINISHED, RUNNING, STARTING
from ..timeline import Timeline

__all__ = ["GEN_STATES", "Step", "Stepper", "running_order", "stepper"]

# The four states inspect.getgeneratorstate() names, what each means, and the
# timeline's colour for it (not started: tan, paused: lilac, running: green).
GEN_STATES = {
    inspect.GEN_CREATED: ("made, not started: next() runs it to its first yield", STARTING),
    inspect.GEN_RUNNING: ("running a step (seen only from inside the generator)", RUNNING),
    inspect.GEN_SUSPENDED: ("paused at a yield, its local variables kept", AWAITING),
    inspect.GEN_CLOSED: ("over: it returned, raised, or was closed", FINISHED),
}
HISTORY = 8  # steps shown in the widget's log


@dataclass(frozen=True)
class Step:
    """One call made on the generator, and what came of it."""

    call: str  # as you would write it: "g.send(5)"
    outcome: str  # "yielded 5", "returned None: StopIteration", "raised ValueError('x')"
    state: str  # inspect.getgeneratorstate() after the call
    printed: str = ""  # what the generator printed during the call


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Stepper:
    """A generator made from ``gen_function(*args, **kwargs)``, stepped one call at a time.

    Each of ``next()``, ``send(value)``, ``throw(exc)`` and ``close()`` makes that
    call on the generator and returns what came of it, as text ("yielded 5");
    an error the call raised is caught and described, never raised. ``history``
    holds every ``Step``; ``restart()`` makes a fresh generator.

        >>> def running_total():
        ...     total = 0
        ...     while True:
        ...         amount = yield total
        ...         total += amount
        >>> s = Stepper(running_total)
        >>> s.state
        'GEN_CREATED'
        >>> s.send(5)             # not started: no yield is waiting to receive the 5
        "TypeError: can't send non-None value to a just-started generator"
        >>> s.next(), s.send(5), s.send(10)
        ('yielded 0', 'yielded 5', 'yielded 15')
        >>> s.state, s.locals
        ('GEN_SUSPENDED', {'total': 15, 'amount': 10})
        >>> s.throw(ValueError("stop"))   # not caught inside: it comes back out, and ends it
        "raised ValueError('stop')"
        >>> s.state
        'GEN_CLOSED'
    """

    def __init__(self, gen_function: Callable, *args, **kwargs) -> None:
        if not inspect.isgeneratorfunction(inspect.unwrap(gen_function)):
            raise TypeError(f"{getattr(gen_function, '__name__', gen_function)!r} is not a "
                            "generator function: give a function whose body has a yield, "
                            "e.g. Stepper(running_total), not Stepper(running_total())")
        self.gen_function = gen_function
        self.args, self.kwargs = args, kwargs
        self.history: list[Step] = []
        self._widget = None
        self.gen = gen_function(*args, **kwargs)
        try:
            lines, first = inspect.getsourcelines(gen_function)
            self.source: list[str] = [ln.rstrip("\n") for ln in lines]
            self.first_line = first
        except (OSError, TypeError):  # defined where Python keeps no source
            self.source, self.first_line = [], 0

    # --- the four calls --------------------------------------------------------------
    def next(self) -> str:
        """``next(g)``: run to the next yield."""
        return self._call("next(g)", lambda: next(self.gen))

    def send(self, value: object) -> str:
        """``g.send(value)``: resume, with ``value`` as what the paused yield gives."""
        return self._call(f"g.send({_short(value)})", lambda: self.gen.send(value))

    def throw(self, exc: BaseException) -> str:
        """``g.throw(exc)``: raise ``exc`` where the generator is paused."""
        if not isinstance(exc, BaseException):
            raise TypeError("throw an exception object, e.g. throw(ValueError('bad')); "
                            "the throw(type, value, traceback) form is deprecated since 3.12")
        return self._call(f"g.throw({exc!r})", lambda: self.gen.throw(exc))

    def close(self) -> str:
        """``g.close()``: raise GeneratorExit at the paused yield, so that it ends."""
        return self._call("g.close()", self.gen.close, closing=True)

    def restart(self) -> None:
        """Close this generator and make a fresh one; the history starts again."""
        self.gen.close()
        self.gen = self.gen_function(*self.args, **self.kwargs)
        self.history.clear()
        self._refresh()

    def _call(self, text: str, call: Callable[[], object], closing: bool = False) -> str:
        before, out = self.state, io.StringIO()
        over = " (it was over already: nothing ran)" if before == inspect.GEN_CLOSED else ""
        try:
            with contextlib.redirect_stdout(out):
                value = call()
            outcome = "closed" + over if closing else f"yielded {_short(value)}"
        except StopIteration as stop:
            outcome = f"StopIteration{over}" if over else \
                f"returned {_short(stop.value)}: StopIteration"
        except Exception as exc:  # noqa: BLE001 - what the generator raised is shown, not raised
            if before == self.state == inspect.GEN_CREATED:  # refused: the body never ran
                outcome = f"{type(exc).__name__}: {exc}"
            else:
                outcome = f"raised {exc!r}{over}"
        self.history.append(Step(text, outcome, self.state, out.getvalue()))
        self._refresh()
        return outcome

    # --- what it looks like now --------------------------------------------------------
    @property
    def state(self) -> str:
        """``inspect.getgeneratorstate(g)``: GEN_CREATED, GEN_SUSPENDED, GEN_CLOSED..."""
        return inspect.getgeneratorstate(self.gen)

    @property
    def line(self) -> int | None:
        """The line of the source it is paused at (1 = the first line), None if closed."""
        frame = self.gen.gi_frame
        if frame is None or not self.first_line:
            return None
        if self.state == inspect.GEN_CREATED:  # not started: it waits at the top
            return next((i + 1 for i, ln in enumerate(self.source)
                         if ln.lstrip().startswith("def ")), 1)  # fmt: skip
        return frame.f_lineno - self.first_line + 1

    @property
    def locals(self) -> dict:
        """Its local variables now (empty before it starts and once it is closed)."""
        frame = self.gen.gi_frame
        return dict(frame.f_locals) if frame is not None else {}

    def html(self) -> str:
        """The picture: source with the paused line marked, the state, the locals, the log."""
        return _render(self)

    # --- the widget --------------------------------------------------------------------
    @property
    def widget(self):
        """Buttons for the four calls and "start again", and the picture (made once)."""
        if self._widget is None:
            self._widget = _StepperWidget(self)
        return self._widget.box

    def press(self, button: str, value: str | None = None) -> str:
        """Do what pressing a button does: "next", "send" (``value``: the text typed in the
        box, e.g. "5"), "throw", "close" or "restart". Returns the outcome shown."""
        self.widget  # noqa: B018 - make the widget if it is not made yet
        return self._widget.press(button, value)

    def _refresh(self) -> None:
        if self._widget is not None:
            self._widget.picture.value = self.html()


def _render(s: Stepper) -> str:
    state = s.state
    meaning, timeline_state = GEN_STATES[state]
    colour = STATE_COLORS[timeline_state]
    mark = {inspect.GEN_CREATED: "◀ not started yet", inspect.GEN_SUSPENDED: "◀ paused here"}
    rows = []
    for i, text in enumerate(s.source, start=1):
        here = i == s.line
        style = f"background:{colour};font-weight:bold" if here else ""
        note = f"   {mark.get(state, '')}" if here else ""
        rows.append(f'<div style="{style}"><span style="color:#888">{i:>3}</span>  '
                    f"{html.escape(text)}<i>{note}</i></div>")  # fmt: skip
    code = "".join(rows) or "<i>(no source to show)</i>"
    badges = " ".join(
        '<span style="display:inline-block;padding:2px 6px;border-radius:4px;margin:0 4px 4px 0;'
        + (f'background:{STATE_COLORS[GEN_STATES[name][1]]};font-weight:bold">'
           if name == state else 'color:#999;border:1px solid #ccc">') + f"{name}</span>"
        for name in GEN_STATES)  # fmt: skip
    local_vars = " · ".join(f"{k} = {html.escape(_short(v, 30))}" for k, v in s.locals.items())
    log = "".join(
        f"<li><code>{html.escape(step.call)}</code> → <b>{html.escape(step.outcome)}</b>"
        + (f" <span style='color:#666'>(printed {html.escape(_short(step.printed.strip()))})"
           "</span>" if step.printed.strip() else "") + "</li>"
        for step in s.history[-HISTORY:])  # fmt: skip
    start = max(1, len(s.history) - HISTORY + 1)
    return (  # two columns: the source on the left, the state and the calls on the right
        '<table style="font-size:14px;border-collapse:collapse"><tr>'
        '<td style="vertical-align:top;padding:0 24px 0 0">'
        f'<pre style="margin:0;padding:6px;border:1px solid #ddd;line-height:1.5">{code}</pre>'
        '</td><td style="vertical-align:top;min-width:320px">'
        f"<div>{badges}</div><p style='margin:8px 0'><b>{state}</b>: {meaning}</p>"
        f"<p style='margin:8px 0'>local variables: {local_vars or '<i>none</i>'}</p>"
        f"<ol start='{start}' style='margin:8px 0;padding-left:28px'>"
        f"{log or '<i>no call yet: press a button</i>'}</ol></td></tr></table>"
    )


class _StepperWidget:
    """The buttons and the picture of a Stepper (ipywidgets is imported only when shown)."""

    def __init__(self, stepper: Stepper) -> None:
        import ipywidgets as W

        self.stepper = stepper
        self.value = W.Text(value="5", description="value", layout=W.Layout(width="130px"),
                            style={"description_width": "initial"})  # fmt: skip
        self.buttons = {
            "next": W.Button(description="next(g)", button_style="primary"),
            "send": W.Button(description="g.send(value)", button_style="primary"),
            "throw": W.Button(description="g.throw(ValueError())"),
            "close": W.Button(description="g.close()"),
            "restart": W.Button(description="start again", icon="refresh"),
        }
        for b in self.buttons.values():
            b.layout = W.Layout(width="auto")
        self.buttons["next"].on_click(lambda _: stepper.next())
        self.buttons["send"].on_click(lambda _: self._send())
        self.buttons["throw"].on_click(lambda _: stepper.throw(ValueError("thrown in")))
        self.buttons["close"].on_click(lambda _: stepper.close())
        self.buttons["restart"].on_click(lambda _: stepper.restart())
        self.picture = W.HTML(stepper.html(), layout=W.Layout(width="100%"))
        b = self.buttons
        row = [b["next"], self.value, b["send"], b["throw"], b["close"], b["restart"]]
        self.box = W.VBox([W.HBox(row, layout=W.Layout(flex_flow="row wrap")), self.picture])

    def _send(self) -> None:
        try:
            value = ast.literal_eval(self.value.value.strip())
        except (ValueError, SyntaxError):
            self.stepper.history.append(Step(
                f"g.send({self.value.value})", "not sent: type a Python value, e.g. 5, 2.5, "
                "'word' or None", self.stepper.state))  # fmt: skip
            self.stepper._refresh()
            return
        self.stepper.send(value)

    def press(self, button: str, value: str | None) -> str:
        if button not in self.buttons:
            raise ValueError(f"no button {button!r}; the buttons are {list(self.buttons)}")
        if value is not None:
            self.value.value = value
        before = len(self.stepper.history)
        self.buttons[button].click()  # the same handler as a click in the browser
        history = self.stepper.history
        return history[-1].outcome if len(history) > before else "started again"


def stepper(gen_function: Callable, *args, **kwargs) -> Stepper:
    """Show a Stepper's buttons and picture in a notebook; return the Stepper."""
    from IPython.display import display

    s = Stepper(gen_function, *args, **kwargs)
    display(s.widget)
    return s


# --- The scheduler's timeline -------------------------------------------------------------
def running_order(timeline: Timeline) -> list[str]:
    """The lanes' names in the order their running steps began, one name per step.

    >>> def twice():
    ...     yield
    ...     yield
    >>> import helpers
    >>> with helpers.recording_steps() as rec:
    ...     a, b = rec.wrap(twice(), "a"), rec.wrap(twice(), "b")
    ...     for g in (a, b, a, b):
    ...         next(g)
    >>> running_order(rec.timeline)
    ['a', 'b', 'a', 'b']
    """
    steps = [(s.start, lane.name) for lane in timeline.lanes for s in lane.spans
             if s.state == RUNNING]  # fmt: skip
    return [name for _, name in sorted(steps)]
