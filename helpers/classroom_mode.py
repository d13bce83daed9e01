"""Classroom mode: timelines and widgets readable from the back of a room with a projector.

    >>> from helpers import classroom
    >>> classroom()          # on: larger text, thicker bars, larger widget text
    >>> classroom(False)     # off again: the normal look

Or before starting JupyterLab: COURSE_CLASSROOM=1 make lab (every kernel starts in
classroom mode for its pictures; widget text grows only with a call to classroom()).
It changes sizes, for the pictures drawn after the call, never colours
(helpers.palette): those stay distinct for colour-blind eyes at all times.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["CLASSROOM", "NORMAL", "Look", "active", "classroom", "look", "widget_style"]


@dataclass(frozen=True)
class Look:
    """Sizes the timeline picture is drawn with (see helpers.picture)."""

    font: float  # points: lane names, axis, legend, labels in the bars
    title_font: float  # points
    row_inches: float  # height of one lane
    bar_half_height: float  # in rows: a bar is twice this tall (a row is 1)
    hatch_linewidth: float  # points: the hatching of inferred spans
    legend_columns: int
    widget_font_px: int  # widget text, in CSS pixels (0: JupyterLab's own size)


NORMAL = Look(font=12, title_font=13, row_inches=0.55, bar_half_height=0.38,
              hatch_linewidth=1.0, legend_columns=2, widget_font_px=0)  # fmt: skip
CLASSROOM = Look(font=16, title_font=16, row_inches=0.8, bar_half_height=0.42,
                 hatch_linewidth=2.2, legend_columns=1, widget_font_px=20)  # fmt: skip

_current = NORMAL
_saved_rc: dict | None = None
ENV_VAR = "COURSE_CLASSROOM"  # "1": start in classroom mode (see the end of this module)

# matplotlib defaults for figures other than timelines (rcParams), in classroom mode.
RC_CLASSROOM = {
    "font.size": 16,
    "axes.titlesize": 17,
    "axes.labelsize": 16,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "legend.fontsize": 15,
    "lines.linewidth": 2.5,
    "hatch.linewidth": CLASSROOM.hatch_linewidth,
}

# Widget text: JupyterLab's ipywidgets read these CSS variables (ipywidgets 8). The quiz
# (helpers.lessons.quiz) and HTML widgets use the font size through the course-* classes.
_STYLE = """<style id="course-classroom-style">
:root {{
  --jp-widgets-font-size: {font}px;
  --jp-widgets-inline-height: {height}px;
  --jp-widgets-inline-label-width: {label}px;
  --jp-widgets-inline-width: {width}px;
  --jp-widgets-inline-width-short: {short}px;
  --jp-widgets-slider-handle-size: {handle}px;
  --jp-widgets-slider-track-thickness: {track}px;
}}
.jupyter-widgets .widget-html-content, .jupyter-widgets .widget-label,
.jupyter-widgets button, .course-quiz, .course-quiz * {{ font-size: {font}px; }}
</style>"""


def look() -> Look:
    """The sizes in force now: NORMAL, or CLASSROOM after ``classroom()``."""
    return _current


def active() -> bool:
    """True while classroom mode is on."""
    return _current is CLASSROOM


def classroom(on: bool = True, *, show_style: bool = True) -> None:
    """Turn classroom mode on (or off with ``classroom(False)``).

    What it changes, for the pictures drawn after the call (a figure already shown stays
    as it was: run its cell again):
    - timelines (helpers.picture): text from 12 to 16 points, taller rows and bars,
      thicker hatching on inferred spans, the legend in one column (two columns of
      16-point text would be wider than the figure);
    - every other matplotlib figure: the default font sizes and line widths (rcParams),
      for text whose size a figure does not set itself;
    - widget text: larger font and taller controls, through a <style> in the output of
      the cell that called it (JupyterLab applies it to the whole page while that output
      is shown). ``classroom(False)`` shows a style that puts the normal sizes back;
      clearing the output of the cell that turned it on does the same.

    show_style -- also show the <style> that sizes widget text (needs IPython; outside a
    notebook there is nothing to show it in, and it is skipped).
    """
    global _current, _saved_rc
    if not isinstance(on, bool):
        raise TypeError(f"classroom(on) takes True or False, got {on!r}")
    import matplotlib as mpl

    if on and not active():
        _saved_rc = {key: mpl.rcParams[key] for key in RC_CLASSROOM}
        mpl.rcParams.update(RC_CLASSROOM)
    elif not on and active() and _saved_rc is not None:
        mpl.rcParams.update(_saved_rc)
        _saved_rc = None
    _current = CLASSROOM if on else NORMAL
    if show_style:
        _show_widget_style()


def widget_style(current: Look | None = None) -> str:
    """The <style> element that sizes widget text for ``current`` (default: the look in force).

    In normal mode it sets JupyterLab's own defaults again (ipywidgets 8's values).
    """
    lk = current or _current
    if lk.widget_font_px:
        f = lk.widget_font_px
        sizes = dict(font=f, height=round(f * 1.9), label=round(f * 10), width=round(f * 20),
                     short=round(f * 9), handle=round(f * 1.1), track=round(f * 0.35))  # fmt: skip
    else:  # ipywidgets 8's defaults (widgets/css/widgets-base.css)
        sizes = dict(font=13, height=28, label=80, width=300, short=148, handle=16, track=4)
    return _STYLE.format(**sizes)


def _show_widget_style() -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    display(HTML(widget_style()))


if os.environ.get(ENV_VAR, "") not in ("", "0"):
    classroom(True, show_style=False)
