"""Staying responsive (notebook 06): a calculation in the background, key presses answered.

A long calculation, started by the learner's own code, either in a thread or in the
main thread; meanwhile key presses must be answered by the main thread. The plumbing
(recording, finding the threads the learner started, noticing when they end, drawing)
lives here so that the notebook shows only the calculation and the line that starts it.

- ``typing_box(in_a_thread, in_the_main_thread)``: a text box beside a long calculation;
- ``type_while(start)``: types into the main thread while a calculation runs, unattended,
  and measures how late each key press is answered.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable

import ipywidgets as W

from ..threads import recording
from ..timeline import Timeline

__all__ = ["type_while", "typing_box"]


def _started_since(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before]


def _join_all(threads: list[threading.Thread], timeout: float) -> None:
    """Join each thread, all within ``timeout`` seconds; raise if one is still running."""
    end = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        raise TimeoutError(f"thread(s) {stuck} still running after {timeout:g} s")


def _busy(seconds: float) -> None:
    """Python work for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(100))


def type_while(
    start: Callable[[float], object],
    *,
    seconds: float = 0.5,
    keys: str = "hello",
    every: float = 0.04,
) -> tuple[Timeline, list[float]]:
    """Call ``start(seconds)`` and, meanwhile, "type" ``keys``; return (timeline, lateness).

    A keyboard thread presses one key every ``every`` seconds: it puts the key, with
    the time it was pressed, in a queue. The calling thread answers the key presses
    from that queue one at a time (about 2 ms of Python each), as the kernel's main
    thread answers the messages your browser sends when you type. ``start`` either
    starts the calculation in a thread and returns at once, or runs it in the calling
    thread: then no key press can be answered before it is over. Every thread that
    ``start`` started is joined (at most ``seconds + 10`` s) before this returns.

    Returns the timeline, recorded with helpers.recording() (the calling thread, the
    keyboard and the threads ``start`` started), and how late each key press was
    answered, in seconds.

        >>> def in_a_thread(seconds):
        ...     threading.Thread(target=time.sleep, args=(seconds,)).start()
        >>> tl, late = type_while(in_a_thread, seconds=0.3)
        >>> max(late) < 0.1
        True
    """
    if not 0 < seconds <= 5:
        raise ValueError(f"seconds must be more than 0 and at most 5, got {seconds}")
    if not keys or not 0 < every * len(keys) < seconds:
        raise ValueError("type at least one key, all of them while the calculation runs")
    presses: queue.Queue = queue.Queue()
    go = threading.Event()

    def keyboard() -> None:
        if go.wait(10):
            for key in keys:
                time.sleep(every)
                presses.put((key, time.perf_counter()))
                _busy(0.001)  # a key press takes a moment: a mark on the keyboard's lane

    typist = threading.Thread(target=keyboard, name=f"keyboard (types {keys!r})")
    late: list[float] = []
    try:
        with recording() as rec:
            typist.start()  # in the recording: it gets a lane, where the presses show
            before = set(threading.enumerate())
            go.set()
            start(seconds)
            calculation = _started_since(before)  # the threads start() started
            for _ in keys:  # the main thread's event loop: answer each key press
                _key, pressed = presses.get(timeout=seconds + 10)
                late.append(time.perf_counter() - pressed)
                _busy(0.002)  # about what the kernel takes to handle a message
            _join_all(calculation, seconds + 10)
    finally:
        go.set()
        if typist.ident is not None:
            typist.join(every * len(keys) + 10)
    return rec.timeline, late


def typing_box(
    in_a_thread: Callable[[float], object],
    in_the_main_thread: Callable[[float], object],
    *,
    seconds: float = 3.0,
) -> W.VBox:
    """A text box and two buttons: run a calculation in a thread or in the main thread.

    in_a_thread        -- called with ``seconds``; starts the calculation in a thread
                          (or several) and returns at once.
    in_the_main_thread -- called with ``seconds``; runs the calculation and returns at
                          its end.

    Each key press in the text box runs a callback in the kernel's main thread, which
    writes in the log how long after Start it was answered. When the calculation is
    over (the threads it started have ended), its timeline is drawn, recorded with
    helpers.recording(). The main thread notices the end because the kernel's event
    loop, which runs in the main thread, checks every 50 ms (loop.call_later): the
    recording began there and matplotlib, not thread-safe, draws there (a background
    thread could set a widget's value; the main thread handles the browser's messages).
    Nothing runs until a button is pressed; a calculation that outlasts ``seconds + 30``
    s stops being recorded.

    In a notebook cell (it needs the kernel's event loop, so it is no doctest):

        typing_box(lambda s: threading.Thread(target=time.sleep, args=(s,)).start(),
                   lambda s: time.sleep(s), seconds=1)
    """
    if not 0 < seconds <= 10:
        raise ValueError(f"seconds must be more than 0 and at most 10, got {seconds}")
    try:
        loop = asyncio.get_running_loop()  # the kernel's: a cell runs inside its event loop
    except RuntimeError:
        raise RuntimeError("typing_box() needs the event loop of a Jupyter kernel: "
                           "run it in a notebook") from None  # fmt: skip
    text = W.Text(placeholder="type here while it calculates")
    answer = W.Label("The main thread has read: (nothing yet)")
    thread_button = W.Button(description=f"Start in a thread ({seconds:g} s)", icon="play",
                             button_style="primary", layout={"width": "auto"})  # fmt: skip
    main_button = W.Button(description=f"Start in the main thread ({seconds:g} s)", icon="play",
                           button_style="warning", layout={"width": "auto"})  # fmt: skip
    buttons = (thread_button, main_button)
    log = W.Output(layout={"height": "9em", "overflow": "auto", "border": "1px solid #ccc"})
    picture = W.Output()
    started = {"at": time.perf_counter()}

    def on_type(change) -> None:  # runs in the main thread, at each key press
        answer.value = f"The main thread has read: {change['new']!r}"
        after = time.perf_counter() - started["at"]
        log.append_stdout(f"{after:5.1f} s after Start: the main thread read {change['new']!r}\n")

    def run(where: str, start: Callable[[float], object]) -> None:
        for b in buttons:
            b.disabled = True
        log.outputs = picture.outputs = ()
        log.append_stdout(f"Calculating for {seconds:g} s {where}: type in the box now!\n")
        rec = recording()
        rec.__enter__()  # left in finish(), in the main thread too
        before = set(threading.enumerate())
        started["at"] = time.perf_counter()
        deadline = time.monotonic() + seconds + 30

        def finish() -> None:
            rec.__exit__(None, None, None)
            title = f"The calculation {where}, while you typed"
            picture.append_display_data(rec.timeline.plot(title=title))
            for b in buttons:
                b.disabled = False

        def check() -> None:  # in the main thread, every 50 ms, until the threads have ended
            if any(t.is_alive() for t in calculation) and time.monotonic() < deadline:
                loop.call_later(0.05, check)
            else:
                finish()

        try:
            start(seconds)
        except BaseException:
            finish()
            raise
        calculation = _started_since(before)  # the threads start() started
        check()

    text.observe(on_type, names="value")
    thread_button.on_click(lambda _b: run("in a thread", in_a_thread))
    main_button.on_click(lambda _b: run("in the main thread", in_the_main_thread))
    return W.VBox([W.HBox([*buttons]), W.HBox([text, answer]), log, picture])
