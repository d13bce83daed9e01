"""A race you can run (notebooks 08, 09): threads add one to a shared counter, updates get lost.

Each thread runs ``n`` times: read ``counter``, optionally call a function, write
``value + 1``. Under the GIL, the interpreter switches threads only where it checks for
a pending switch (function entry, backward jumps, after calls, C builtins included;
where exactly depends on the version), so without the call the read and the write are
seldom separated; with it, a switch can fall between them, and the write then wipes out
every update made meanwhile. A ``threading.Lock`` around the three steps makes them one
atomic step again. ``stale_writes`` lists the writes that came after someone else's.

    >>> run = race(threads=2, iterations=2_000, call_between=True, use_lock=True)
    >>> run.lost, run.expected
    (0, 4000)
    >>> run = race(threads=2, iterations=500, call_between=True, record=True)
    >>> fig = plot_stale_writes(run.timeline, run.stale_writes)  # a mark at each stale write
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..threads import recording
from ..timeline import Timeline

# The race explorer's own caps (it starts its threads itself, not through helpers.threads):
# enough to lose updates on any machine, small enough to finish in a second or two.
MAX_THREADS = 16
MAX_ITERATIONS = 1_000_000


__all__ = ["MAX_ITERATIONS", "MAX_THREADS", "Race", "check", "explorer", "plot_stale_writes",
           "race"]

@dataclass
class Race:
    """What one race did: the counter's final value, the updates lost, and when."""

    expected: int
    counter: int
    # (perf_counter_ns, thread name, how far the counter had moved since this thread read it)
    stale_writes: list[tuple[int, str, int]] = field(default_factory=list)
    timeline: Timeline | None = None

    @property
    def lost(self) -> int:
        return self.expected - self.counter


def check(value: int) -> int:
    """Any Python function: a log line, a validation, a property. It returns its argument."""
    return value


def race(
    threads: int = 4,
    iterations: int = 10_000,
    *,
    call_between: bool = True,
    use_lock: bool = False,
    record: bool = False,
    timeout: float = 30.0,
) -> Race:
    """Start ``threads`` threads that each add one ``iterations`` times; return the Race.

    call_between -- call ``check(value)`` between the read and the write.
    use_lock     -- hold one threading.Lock for each read-call-write.
    record       -- record the threads with helpers.recording(); the Race's ``timeline``.
    """
    if not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")
    if not isinstance(iterations, int) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be an integer from 1 to {MAX_ITERATIONS}, "
                         f"got {iterations!r}")  # fmt: skip
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    shared = {"counter": 0}  # a dict, so that the workers need no `global`
    stale: list[tuple[int, str, int]] = []
    lock = threading.Lock() if use_lock else _NoLock()
    now = time.perf_counter_ns

    def add_one(n: int) -> None:
        name = threading.current_thread().name
        for _ in range(n):
            with lock:
                value = shared["counter"]  # read
                if call_between:
                    value = check(value)  # a call: the GIL may change hands here
                if shared["counter"] != value:  # someone wrote since our read
                    stale.append((now(), name, shared["counter"] - value))
                shared["counter"] = value + 1  # write

    workers = [threading.Thread(target=add_one, args=(iterations,), name=f"adder-{i + 1}",
                                daemon=True) for i in range(threads)]  # fmt: skip
    rec = recording() if record else None
    deadline = time.monotonic() + timeout
    if rec is not None:
        rec.__enter__()
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
    finally:
        if rec is not None:
            rec.__exit__(None, None, None)
    if any(w.is_alive() for w in workers):
        raise TimeoutError(f"the race took longer than timeout={timeout:g} s")
    return Race(threads * iterations, shared["counter"], stale,
                rec.timeline if rec is not None else None)  # fmt: skip


class _NoLock:
    """Stands in for a lock when there is none: ``with`` does nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


def plot_stale_writes(timeline: Timeline, stale_writes: list[tuple[int, str, int]], *,
                      title: str | None = None, window: tuple[float, float] | None = None):
    """The timeline, with a black mark on a thread's lane at each of its stale writes:
    a switch fell between its read and its write, and the write wiped out what the
    other threads had added meanwhile (the number beside the mark)."""
    if not isinstance(timeline, Timeline):
        raise ValueError("plot a recorded race: race(..., record=True).timeline")
    fig = timeline.plot(title=title, window=window)
    ax = fig.axes[0]
    rows = {lane.name: len(timeline.lanes) - 1 - i for i, lane in enumerate(timeline.lanes)}
    marks = [((t - timeline.start) / 1e6, rows[name] + 0.42, wiped)
             for t, name, wiped in stale_writes if name in rows]  # fmt: skip
    label = "a stale write (number: updates it wiped out)"
    ax.plot([x for x, _, _ in marks], [y for _, y, _ in marks], linestyle="none", marker="v",
            color="black", markersize=10, label=label)  # fmt: skip
    for x, y, wiped in marks[:30]:
        if wiped > 0:  # < 0: the counter had gone back (someone else's stale write) meanwhile
            ax.text(x, y + 0.1, f" {wiped:,}", fontsize=10, va="bottom", clip_on=True)
    legend = ax.get_legend()
    if legend is not None:
        handles, _ = ax.get_legend_handles_labels()
        old = getattr(legend, "legend_handles", None) or legend.legendHandles
        ax.legend(handles=[*old, *handles], loc="upper left", bbox_to_anchor=(1.005, 1.0),
                  fontsize=11, frameon=False)  # fmt: skip
    return fig


def explorer():
    """The race explorer: threads, iterations, a call between or not, a lock or not."""
    import ipywidgets as W

    from ..widgets import explorer as make_explorer

    def make(threads: int, iterations: int, call_between: bool, use_lock: bool) -> Timeline:
        run = race(threads, iterations, call_between=call_between, use_lock=use_lock,
                   record=True)  # fmt: skip
        print(f"{run.lost:,} of {run.expected:,} updates lost "
              f"({len(run.stale_writes):,} writes over someone else's)")  # fmt: skip
        return run.timeline

    # 50,000 each by default: the run lasts many switch intervals, so switches fall inside
    # it (5,000 each can end within one interval, and then lost nothing on a busy machine).
    return make_explorer(
        make,
        stats=False,
        threads=W.IntSlider(2, 1, 6, description="threads"),
        iterations=W.IntSlider(50_000, 5_000, 100_000, step=5_000, description="iterations each"),
        call_between=W.Checkbox(True, description="call between read and write"),
        use_lock=W.Checkbox(False, description="with a Lock"),
    )
