"""The colours of every picture: one per state, and the few the lessons add beside them.

Chosen so that every pair in a picture stays distinct for protanopia, deuteranopia and
tritanopia (CIELAB distance >= 15 after Machado et al. 2009's simulation) and in
greyscale (lightness L* at least 7 apart): tests/test_kit.py checks every set below.
Classroom mode changes sizes, never colours.

    >>> STATE_COLORS[RUNNING]
    '#05741c'
    >>> text_color(STATE_COLORS[C_CALL])      # white text on a dark bar
    '#ffffff'
"""

from __future__ import annotations

from .states import (
    AWAITING,
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    WAITING_CPU,
    WAITING_GIL,
)

__all__ = ["ALERT", "CHOOSER_COLORS", "NEUTRALS", "PHILOSOPHER_COLORS", "QUIZ_COLORS",
           "STATE_COLORS", "text_color"]

STATE_COLORS = {  # also the order of the timeline's legend
    STARTING: "#fdcf99",  # tan            L* 86
    AWAITING: "#cabae7",  # lilac          L* 78
    RUNNING: "#05741c",  # green           L* 42
    WAITING_GIL: "#e89a2c",  # amber       L* 71
    WAITING_CPU: "#4e4e4e",  # dark grey   L* 33
    BLOCKED: "#189cc7",  # blue            L* 60
    C_CALL: "#481892",  # purple           L* 24
    C_CALL_NO_GIL: "#c2508a",  # pink      L* 51
    FINISHED: "#ececec",  # almost background, L* 93
}

# Something gone wrong or a limit: a philosopher who gave up, the most who can eat at
# once, a step that stalled the event loop (a light shade of it), a wrong quiz answer.
ALERT = "#e52d38"  # red, L* 50: apart from the green of running even for red-green blindness

# The dining philosophers (lessons/philosophers): what a philosopher does. A hungry one
# waits for the waiter or a fork, a wait for a lock: the course's blocked (blue). Eating is
# green, thinking (away from the table) a quiet grey, so that the waits stand out.
PHILOSOPHER_COLORS = {
    "thinking": "#bdbdbd",  # light grey, L* 77
    "hungry": STATE_COLORS[BLOCKED],
    "eating": STATE_COLORS[RUNNING],
    "gave up": ALERT,
    "done": STATE_COLORS[FINISHED],
}

# The capstone's bars (lessons/beyond_the_gil): the fastest green, the others blue, and
# one job after another, the yardstick, a quiet mid grey (L* 68).
CHOOSER_COLORS = {"fastest": STATE_COLORS[RUNNING], "slower": STATE_COLORS[BLOCKED],
                  "in turn": "#a6a6a6"}  # fmt: skip

QUIZ_COLORS = {"right": STATE_COLORS[RUNNING], "wrong": ALERT}  # the verdict's words, too

# Greys and the wood of the philosophers' table: lines, grids and outlines that carry no
# meaning of their own (so the colour-blindness sets above leave them out).
NEUTRALS = {
    "ink": "#1b1b1b",  # text on a light colour
    "paper": "#ffffff",  # text on a dark colour
    "rule": "#555555",  # the line between two processes' lanes, a free fork, the hatch key
    "grid": "#dddddd",
    "hatch on dark": "#e6e6e6",
    "hatch on light": "#262626",
    "outline": "#333333",
    "held": "#111111",  # a fork in a philosopher's hand
    "table": "#f3ead8",
    "table edge": "#8c6d46",
}


def text_color(background: str) -> str:
    """Near-black on a light colour, white on a dark one (by relative luminance, WCAG)."""
    r, g, b = (int(background.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return NEUTRALS["paper"] if luminance < 0.18 else NEUTRALS["ink"]
