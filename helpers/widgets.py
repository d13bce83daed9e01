"""Controls for the notebooks: change one knob, run again, watch the timeline change.

    >>> import ipywidgets as W
    >>> from helpers import widgets, workloads as w
    >>> def make(threads, interval_ms):
    ...     return helpers.run_threads([w.cpu(0.1)] * threads, switch_interval=interval_ms / 1000)
    >>> len(make(threads=2, interval_ms=5).lanes)    # what the Run button will call
    2

and in a notebook cell (it shows the controls, the button and the first picture):

    widgets.explorer(make, threads=W.IntSlider(2, 1, 4), interval_ms=W.IntSlider(5, 1, 20))

The picture is drawn once when the cell runs, then again each time the Run
button is pressed (runs take a moment, so nothing reruns while a slider moves).

"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
from IPython.display import display

from .timeline import Timeline

__all__ = ["explorer"]


def explorer(
    make_timeline: Callable[..., Timeline],
    *,
    window: Callable[[Timeline], tuple[float, float] | None] | None = None,
    stats: bool = True,
    draw: Callable[[Timeline], object] | None = None,
    describe: Callable[[Timeline], str] | None = None,
    **controls: W.ValueWidget,
) -> W.VBox:
    """Controls, a Run button, and the timeline they produce.

    make_timeline -- called with the controls' values as keyword arguments;
                     returns a Timeline (from run_threads or run_processes).
    window        -- optional: given the Timeline, the (start_ms, end_ms) to show.
    stats         -- also print the statistics table under the picture.
    draw          -- optional: draws the Timeline (default: its own plot()).
    describe      -- optional: a line about the Timeline, printed under the picture.
    controls      -- name=widget; each name is an argument of make_timeline.
    """
    button = W.Button(description="Run", button_style="primary", icon="play")
    out = W.Output()

    def run(_=None) -> None:
        button.disabled = True
        try:
            with out:
                out.clear_output(wait=True)
                tl = make_timeline(**{name: c.value for name, c in controls.items()})
                display(draw(tl) if draw else tl.plot(window=window(tl) if window else None))
                if stats:
                    print(tl.stats_table())
                if describe is not None:
                    print(describe(tl))
        finally:
            button.disabled = False

    button.on_click(run)
    for c in controls.values():
        c.style = {"description_width": "initial"}
    box = W.VBox([W.HBox([*controls.values(), button]), out])
    run()
    return box
