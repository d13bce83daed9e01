"""The philosophers' pictures (notebook 11), each checked against what was put in by hand.

plot_meals and plot_dinner: the bars and lanes they should have (artists counted, their
heights, places, colours and labels read back); table_svg: one element per philosopher and
fork, the holder's fork beside it, the status text; animate and table_widget: frames shown,
Play and Stop driven, nothing left running; order_cycle: the known circle of the naive
order and none for the ordered one. (The table's threads are tested in test_locks.py.)
"""

from __future__ import annotations

import html
import math
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from matplotlib.colors import to_hex
from records import info

from helpers.lessons import philosophers as ph
from helpers.lessons.philosophers import DINNER_COLORS, Result, Table
from helpers.palette import NEUTRALS
from helpers.states import BLOCKED, C_CALL, RUNNING, WAITING_GIL
from helpers.timeline import Lane, Span, Timeline

MS = 1_000_000
SVG = "{http://www.w3.org/2000/svg}"


# --- order_cycle ----------------------------------------------------------------------------


def test_the_naive_order_has_the_circle_of_all_forks():
    assert ph.order_cycle(ph.naive_order) == [0, 1, 2, 3, 4, 0]
    assert ph.order_cycle(ph.naive_order, n=3) == [0, 1, 2, 0]


def test_the_ordered_forks_have_no_circle():
    assert ph.order_cycle(ph.ordered) == []
    assert ph.order_cycle(ph.ordered, n=7) == []


def test_one_left_hander_breaks_the_circle_and_all_left_handers_go_round_the_other_way():
    def first_one_left_handed(i, n):  # philosopher 0 takes fork 1 first: nobody waits on 0
        return ((i + 1) % n, i) if i == 0 else (i, (i + 1) % n)

    def all_left_handed(i, n):
        return (i + 1) % n, i

    assert ph.order_cycle(first_one_left_handed) == []
    assert ph.order_cycle(all_left_handed) == [0, 4, 3, 2, 1, 0]


# --- plot_meals -----------------------------------------------------------------------------


def test_plot_meals_has_one_bar_per_philosopher_and_strategy():
    results = [Result("naive", [3, 0, 5, 1, 2], ["a cycle"], ["philosopher-1"], 2, 1.0),
               Result("waiter", [4, 4, 4, 4, 6], [], [], 2, 1.0)]  # fmt: skip
    ax = ph.plot_meals(results).axes[0]
    naive, waiter = ax.containers
    assert [b.get_height() for b in naive] == [3, 0, 5, 1, 2]
    assert [b.get_height() for b in waiter] == [4, 4, 4, 4, 6]
    assert len(ax.patches) == 10
    # The waiter's bar sits just right of the naive one, at each philosopher.
    for a, b in zip(naive, waiter):
        assert a.get_x() < b.get_x() < a.get_x() + 2 * a.get_width()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"philosopher-{i}" for i in range(5)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["naive", "waiter"]
    assert to_hex(naive[0].get_facecolor()) != to_hex(waiter[0].get_facecolor())


# --- plot_dinner ----------------------------------------------------------------------------


def lane(name, tid, *spans):
    return Lane(name=name, pid=1, native_id=tid, process_name="p", spans=tuple(spans),
                slices=(), cpu_ns=0)  # fmt: skip


def blocked(start_ms, end_ms, label):
    return Span(start_ms * MS, end_ms * MS, BLOCKED, label)


def dinner() -> Timeline:
    """Three philosophers and the main thread, 100 ms; two eat together from 30 to 40 ms."""
    p0 = lane("philosopher-0", 1, blocked(0, 10, "thinking"),
              blocked(10, 20, "waiting for lock 'fork 1' (held by philosopher-1)"),
              blocked(20, 40, "eating"))  # fmt: skip
    p1 = lane("philosopher-1", 2, blocked(0, 5, "has fork 1, pauses"), blocked(5, 20, "eating"),
              blocked(20, 30, "thinking"), blocked(30, 50, "eating"),
              Span(50 * MS, 51 * MS, RUNNING))  # fmt: skip
    p2 = lane("philosopher-2", 3, blocked(0, 100, "thinking"))
    main = lane("MainThread", 4, blocked(0, 100, "eating"))  # not a philosopher: not drawn
    return Timeline(lanes=(main, p0, p1, p2), start=0, end=100 * MS, info=info())


def test_a_meal_in_pieces_is_one_meal_and_thinking_ends_it():
    # A meal's region as the rules draw it: the region opens, the thread runs Python and
    # a C call (next) and waits for the GIL inside it, then sleeps; then it thinks.
    pieces = lane("philosopher-0", 1, blocked(0, 0, "eating"), Span(0, 1 * MS, RUNNING),
                  Span(1 * MS, 2 * MS, C_CALL, "next"), Span(2 * MS, 3 * MS, WAITING_GIL),
                  blocked(3, 8, "eating"), blocked(8, 9, "thinking"), blocked(9, 14, "eating"),
                  Span(14 * MS, 15 * MS, RUNNING))  # fmt: skip
    tl = Timeline(lanes=(pieces,), start=0, end=15 * MS, info=info())
    meals = ph.eating_spans(tl)
    assert [(s.start / MS, s.end / MS) for s in meals] == [(0, 8), (9, 14)]


def test_plot_dinner_draws_one_lane_per_philosopher_coloured_by_what_it_did():
    ax, count = ph.plot_dinner(dinner()).axes
    # Top to bottom philosopher-0, 1, 2; tick labels are read bottom up.
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "philosopher-2", "philosopher-1", "philosopher-0"]  # fmt: skip
    bars = []  # (row, start ms, width ms, kind)
    kinds = {to_hex(c): k for k, c in DINNER_COLORS.items()}
    for coll in ax.collections:
        (x, y, w, h), = [p.get_extents().bounds for p in coll.get_paths()]
        bars.append((round(y + h / 2), round(x), round(w), kinds[to_hex(coll.get_facecolor()[0])]))
    assert sorted(bars) == sorted([
        (2, 0, 10, "thinking"), (2, 10, 10, "hungry"), (2, 20, 20, "eating"),
        (1, 0, 5, "hungry"), (1, 5, 15, "eating"), (1, 20, 10, "thinking"),
        (1, 30, 20, "eating"),
        (0, 0, 100, "thinking"),
    ])  # the running span and the main thread's lane are not drawn
    # The legend names what is drawn, in the course's words; a long wait says what for.
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        ph.DINNER_WORDS[k] for k in ("thinking", "hungry", "eating")]  # fmt: skip
    assert "blocked" in ph.DINNER_WORDS["hungry"]
    assert [(t.get_text(), t.get_position()) for t in ax.texts] == [("fork 1", (15, 2))]


def test_plot_dinners_legend_lists_only_what_the_picture_shows():
    only = lane("philosopher-0", 1, blocked(0, 10, "thinking"), blocked(10, 20, "eating"))
    ax, _ = ph.plot_dinner(Timeline(lanes=(only,), start=0, end=20 * MS, info=info())).axes
    words = [t.get_text() for t in ax.get_legend().get_texts()]
    assert words == [ph.DINNER_WORDS["thinking"], ph.DINNER_WORDS["eating"]]


def test_the_dinners_colours_are_the_courses_a_wait_for_a_fork_is_blocked():
    from helpers.palette import STATE_COLORS

    assert DINNER_COLORS["hungry"] == STATE_COLORS[BLOCKED]
    assert STATE_COLORS[WAITING_GIL] not in DINNER_COLORS.values()  # amber is the GIL's
    assert ph.COLORS["hungry"] == STATE_COLORS[BLOCKED]  # the animated table agrees


def test_plot_dinner_counts_who_ate_at_each_instant():
    ax, count = ph.plot_dinner(dinner()).axes
    (line,) = count.get_lines()[:1]
    steps = list(zip(line.get_xdata(), line.get_ydata()))
    # eating: philosopher-1 5-20, philosopher-0 20-40, philosopher-1 30-50 (MainThread's
    # "eating" 0-100 is not counted: its lane is not drawn)
    assert steps == [(0, 0), (5, 1), (20, 1), (30, 2), (40, 1), (50, 0), (100, 0)]
    assert "3 forks: at most 1 can eat at once" in [t.get_text().strip() for t in count.texts]
    assert count.get_lines()[1].get_ydata()[0] == 1  # the dashed line at that most


# --- table_svg ------------------------------------------------------------------------------


def svg_of(page: str) -> ET.Element:
    return ET.fromstring(page.split("</svg>")[0] + "</svg>")  # the status <div> follows


def test_table_svg_draws_each_philosopher_and_fork_and_the_status():
    table = Table(n=5)
    page = ph.table_svg(table, "strategy naive: 0 eating\nDEADLOCK <a circle>")
    svg = svg_of(page)
    circles = svg.findall(f"{SVG}circle")
    assert len(circles) == 1 + 5  # the table and five philosophers
    assert len(svg.findall(f"{SVG}line")) == 5  # five forks
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert [f"P{i}" for i in range(5)] == [t for t in texts if t in {f"P{i}" for i in range(5)}][:5]
    assert sorted(t for t in texts if t.startswith("f")) == [f"f{k}" for k in range(5)]
    assert texts.count("thinking") == 1 + 5  # each philosopher's state, and the key
    # The status, escaped, one line each, under the picture.
    assert page.endswith("strategy naive: 0 eating<br>DEADLOCK &lt;a circle&gt;</div>")


def test_table_svg_colours_states_counts_meals_and_puts_a_held_fork_by_its_holder():
    table = Table(n=3)
    table.state[1] = "eating"
    table.meals[:] = [2, 4, 0]
    holding, release = threading.Event(), threading.Event()

    def philosopher_1():
        with table.forks[2]:
            holding.set()
            release.wait(5)

    th = threading.Thread(target=philosopher_1, name="philosopher-1")
    th.start()
    try:
        assert holding.wait(5)
        svg = svg_of(ph.table_svg(table))
    finally:
        release.set()
        th.join(5)
    _table, *seats = svg.findall(f"{SVG}circle")
    assert [c.get("fill") for c in seats] == [ph.COLORS["thinking"], ph.COLORS["eating"],
                                              ph.COLORS["thinking"]]  # fmt: skip
    forks = [line.get("stroke") for line in svg.findall(f"{SVG}line")]
    assert forks == [NEUTRALS["rule"], NEUTRALS["rule"], NEUTRALS["held"]]  # fork 2 in a hand
    held = svg.findall(f"{SVG}line")[2]
    mid = ((float(held.get("x1")) + float(held.get("x2"))) / 2,
           (float(held.get("y1")) + float(held.get("y2"))) / 2)
    away = [math.dist(mid, (float(c.get("cx")), float(c.get("cy")))) for c in seats]
    assert away.index(min(away)) == 1  # drawn beside its holder, philosopher 1,
    assert away[2] < away[0]  # on the side of its place on the table, towards philosopher 2
    bars = [r for r in svg.findall(f"{SVG}rect") if r.get("height") == "16"]
    assert [float(r.get("width")) for r in bars] == [75, 150, 0]  # 2, 4, 0 of at most 4 meals


# --- animate and table_widget ----------------------------------------------------------------


def meals_shown(page: str) -> list[int]:
    """The meal counts written beside the bars, P0 first."""
    svg = svg_of(page)
    texts = svg.findall(f"{SVG}text")
    words = [t.text for t in texts]
    start = words.index("meals") + 1
    return [int(words[start + 2 * i + 1]) for i in range(len(words[start:]) // 2)
            if words[start + 2 * i].startswith("P")]  # fmt: skip


def test_animate_shows_frames_while_it_runs_and_the_last_when_all_have_left(no_leftovers):
    frames = []
    table = Table(strategy="waiter", eat_s=0.01, think_s=0.01)
    t0 = time.monotonic()
    result = ph.animate(table, frames.append, seconds=0.3, fps=20)
    took = time.monotonic() - t0
    assert 2 <= len(frames) <= took * 20 + 2  # a frame, then a pause of 1/fps, ...
    assert "finished" in frames[-1] and "finished" not in frames[0]
    assert meals_shown(frames[-1]) == result.meals and sum(result.meals) > 0
    assert not table.alive()


def test_animate_shows_the_deadlock(no_leftovers):
    frames = []
    table = Table(strategy="naive", pause_s=0.1, patience_s=0.4)
    result = ph.animate(table, frames.append, seconds=3, fps=20)
    assert len(result.deadlock) == 5
    assert "DEADLOCK, a circular wait:<br>philosopher-0 waits for 'fork 1'" in html.unescape(
        frames[-1])


@pytest.fixture
def shown(monkeypatch):
    import IPython.display

    out: list = []
    monkeypatch.setattr(IPython.display, "display", out.append)
    return out


def test_table_widget_plays_its_first_dinner_then_play_and_stop(shown, no_leftovers):
    assert ph.table_widget(strategy="ordered", speed=4, seconds=0.3) is None
    (box,) = shown
    (picker, pace, play, halt), picture = box.children[0].children, box.children[1]
    assert (picker.value, pace.value) == ("ordered", 4)
    assert "strategy ordered" in picture.value and "finished" in picture.value
    picker.value = "waiter"
    play.click()
    play.click()  # pressed again while playing: still one animation
    players = [t for t in threading.enumerate() if t.name == "table-animation"]
    assert len(players) == 1
    deadline = time.monotonic() + 2
    while "strategy waiter" not in picture.value and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "strategy waiter" in picture.value and "finished" not in picture.value
    halt.click()
    players[0].join(3)
    assert not players[0].is_alive()  # Stop ended it, long before its 20 s
    assert "finished" in picture.value
