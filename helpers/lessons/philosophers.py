"""The dining philosophers (notebook 11): five threads, five forks, and ways to share them.

Philosopher ``i`` sits between fork ``i`` (on the left) and fork ``i + 1`` (on the right,
wrapping round). To eat, a philosopher needs both forks; then puts them down and thinks
for a while. The forks are recorded locks (helpers.locks.Lock), so on a timeline a
hungry philosopher's wait says which fork and who holds it. The strategies ("naive",
"waiter", "ordered", or your own ``order(i, n)``) are described at ``Table``. Nobody
waits for ever: a philosopher who waits longer than ``patience`` for a fork gives up
(that is how the naive table's deadlock is detected), and then everybody stops.
In a notebook, ``table_widget()`` shows the table live.

    >>> table = Table(strategy="waiter", eat_s=0.01, think_s=0.01)
    >>> result = table.run(seconds=0.3)
    >>> result.deadlock, sum(result.meals) > 0, result.most_eating <= 2
    ([], True, True)
"""

from __future__ import annotations

import html
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..intervals import at_once, most_at_once
from ..locks import Lock, Semaphore, find_deadlock
from ..palette import ALERT, NEUTRALS, PHILOSOPHER_COLORS, text_color
from ..recorder import current_lane
from ..states import BLOCKED

__all__ = ["COLORS", "DINNER_COLORS", "DINNER_WORDS", "STRATEGIES", "Result", "Table", "animate",
           "eating_spans", "most_at_once", "naive_order", "order_cycle", "ordered", "plot_dinner",
           "plot_meals", "table_svg", "table_widget"]

STRATEGIES = ("naive", "waiter", "ordered")
THINKING, HUNGRY, EATING, GAVE_UP, DONE = "thinking", "hungry", "eating", "gave up", "done"

Order = Callable[[int, int], "tuple[int, int]"]


def naive_order(i: int, n: int) -> tuple[int, int]:
    """Left fork first, then the right one."""
    return i, (i + 1) % n


def ordered(i: int, n: int) -> tuple[int, int]:
    """The lower-numbered fork first: one global order for all the locks."""
    left, right = i, (i + 1) % n
    return min(left, right), max(left, right)


@dataclass
class Result:
    """What happened at the table."""

    strategy: str
    meals: list[int]  # meals per philosopher
    deadlock: list[str]  # the cycle find_deadlock() named, [] if there was none
    gave_up: list[str]  # philosophers who waited longer than their patience
    most_eating: int  # most philosophers eating at the same moment (counted by the table)
    seconds: float  # how long the run took

    def summary(self) -> str:
        lines = [f"{self.strategy}: meals per philosopher {self.meals} in {self.seconds:.2f} s; "
                 f"at most {self.most_eating} ate at once"]  # fmt: skip
        if self.deadlock:
            lines.append("deadlock, a circular wait:")
            lines += [f"  {line}" for line in self.deadlock]
        if self.gave_up:
            lines.append(f"gave up waiting (timeout): {', '.join(self.gave_up)}")
        return "\n".join(lines)


@dataclass
class Table:
    """Five (``n``) philosophers and their forks. ``run()`` runs them as threads.

    think_s, eat_s -- how long a philosopher thinks (random, up to twice this) and eats
    pause_s        -- a pause between taking the first fork and reaching for the second
    patience_s     -- how long a philosopher waits for a fork before giving up

    The strategies:
    * ``"naive"``: take the left fork, then the right one. Can deadlock: if all five
      take their left fork at once, each waits for a neighbour for ever.
    * ``"waiter"``: first ask a waiter, a Semaphore(4): at most four sit down at once,
      so at least one of them can get both forks. No deadlock.
    * ``"ordered"``: take the lower-numbered fork first. Philosopher 4 then reaches for
      fork 0 before fork 4, which breaks the circle. No deadlock.
    * or a function ``order(i, n) -> (first, second)``: which fork to take first.
    """

    n: int = 5
    strategy: str | Order = "naive"
    think_s: float = 0.02
    eat_s: float = 0.02
    pause_s: float = 0.0
    patience_s: float = 0.5
    seed: int = 0
    forks: list[Lock] = field(init=False)
    state: list[str] = field(init=False)
    meals: list[int] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 2:
            raise ValueError(f"a table needs n >= 2 philosophers, not {self.n!r}")
        if not callable(self.strategy) and self.strategy not in STRATEGIES:
            raise ValueError(f"strategy is one of {STRATEGIES} or a function, "
                             f"not {self.strategy!r}")  # fmt: skip
        for name in ("think_s", "eat_s", "pause_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 seconds")
        if not self.patience_s > 0:
            raise ValueError("patience_s must be > 0 seconds")
        self.forks = [Lock(f"fork {i}") for i in range(self.n)]
        self.waiter = Semaphore(self.n - 1, "waiter") if self.strategy == "waiter" else None
        self.names = [f"philosopher-{i}" for i in range(self.n)]
        self.state = [THINKING] * self.n
        self.meals = [0] * self.n
        self.stop = threading.Event()
        self.deadlock: list[str] = []
        self._count = threading.Lock()  # guards eating and most_eating
        self.eating = 0
        self.most_eating = 0
        self._threads: list[threading.Thread] = []

    @property
    def strategy_name(self) -> str:
        return self.strategy if isinstance(self.strategy, str) else self.strategy.__name__

    def order(self, i: int) -> tuple[int, int]:
        """Which fork philosopher ``i`` takes first, and which second."""
        if callable(self.strategy):
            first, second = self.strategy(i, self.n)
            if {first, second} != {i, (i + 1) % self.n}:
                raise ValueError(f"order({i}, {self.n}) must return forks {i} and "
                                 f"{(i + 1) % self.n}, in some order; got {(first, second)}")
            return first, second
        return ordered(i, self.n) if self.strategy == "ordered" else naive_order(i, self.n)

    def _spend(self, label: str, seconds: float) -> None:
        """Think or eat: a sleep, drawn as ``label`` on the timeline."""
        lane = current_lane()
        if lane is None:
            self.stop.wait(seconds)  # Stop ends it at once
        else:  # recorded: one C call inside the region, so that it is one span
            with lane.region(BLOCKED, label):
                time.sleep(seconds)

    def _take(self, lock: Lock | Semaphore, i: int, held: list) -> bool:
        if self.stop.is_set():
            return False
        if lock.acquire(timeout=self.patience_s):
            held.append(lock)
            return True
        self.state[i] = GAVE_UP
        self.stop.set()  # one gave up: the table is stuck, everybody leaves
        return False

    def philosopher(self, i: int, until: float) -> None:
        """The life of philosopher ``i``: think, get hungry, take forks, eat, repeat."""
        rng = random.Random(self.seed * 1000 + i)
        first, second = (self.forks[k] for k in self.order(i))
        hungry = True  # dinner starts: everybody sits down hungry
        while not self.stop.is_set() and time.monotonic() < until:
            if not hungry:
                self.state[i] = THINKING
                self._spend("thinking", rng.uniform(0, 2 * self.think_s))
            hungry = False
            self.state[i] = HUNGRY
            held: list = []
            try:
                if self.waiter is not None and not self._take(self.waiter, i, held):
                    break
                if not self._take(first, i, held):
                    break
                if self.pause_s:
                    self._spend(f"has {first.name}, pauses", self.pause_s)
                if not self._take(second, i, held) or self.stop.is_set():
                    break
                self._eat(i)
            finally:
                for lock in reversed(held):
                    lock.release()
        if self.state[i] != GAVE_UP:
            self.state[i] = DONE

    def _eat(self, i: int) -> None:
        with self._count:
            self.eating += 1
            self.most_eating = max(self.most_eating, self.eating)
        self.state[i] = EATING
        try:
            self._spend("eating", self.eat_s)
            self.meals[i] += 1
        finally:
            self.state[i] = THINKING  # the forks go down now, then a new round of thinking
            with self._count:
                self.eating -= 1

    def start(self, seconds: float) -> None:
        """Seat the philosophers (threads named philosopher-0...) for ``seconds``."""
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, not {seconds!r}")
        if self._threads:
            raise RuntimeError("this table has run already: make a new Table")
        self._started = time.monotonic()
        until = self._started + seconds
        self._threads = [threading.Thread(target=self.philosopher, args=(i, until),
                                          name=self.names[i], daemon=True)
                         for i in range(self.n)]  # fmt: skip
        for th in self._threads:
            th.start()

    def alive(self) -> bool:
        return any(th.is_alive() for th in self._threads)

    def join(self) -> Result:
        """Wait for every philosopher (never for ever: each wait has a timeout)."""
        limit = time.monotonic() + 10 + 4 * self.patience_s + 2 * (self.eat_s + self.think_s)
        while self.alive() and time.monotonic() < limit:
            self.watch()
            self._threads[0].join(0.02)
        for th in self._threads:
            th.join(max(0.0, limit - time.monotonic()))
        if self.alive():
            self.stop.set()
            raise RuntimeError("a philosopher did not leave the table in time")
        return Result(self.strategy_name, list(self.meals), list(self.deadlock),
                      [self.names[i] for i in range(self.n) if self.state[i] == GAVE_UP],
                      self.most_eating, time.monotonic() - self._started)  # fmt: skip

    def run(self, seconds: float = 1.0) -> Result:
        """Run the table for ``seconds`` (less if it deadlocks); return what happened."""
        self.start(seconds)
        try:
            return self.join()
        finally:
            self.stop.set()

    def watch(self) -> list[str]:
        """Look for a deadlock at the table now (see locks.find_deadlock); keep the first."""
        if not self.deadlock:
            self.deadlock = find_deadlock()
        return self.deadlock

    def holders(self) -> list[int | None]:
        """For each fork, the philosopher holding it (None: on the table)."""
        out = []
        for fork in self.forks:
            names = fork.holders()
            out.append(self.names.index(names[0]) if names and names[0] in self.names else None)
        return out


def eating_spans(timeline, label: str = "eating") -> list:
    """The recorded spans labelled ``label`` ("eating") of every lane of a Timeline, each
    meal as one span. A meal's region can come in pieces: the thread runs a little Python
    inside it (to call time.sleep, through a C call or two), and on a busy machine it
    may wait for the GIL or a core there. Pieces with no other wait between them are one
    meal: between two meals a philosopher always thinks, a wait labelled "thinking"."""
    from ..states import BLOCKED
    from ..timeline import Span

    out = []
    for lane in timeline.lanes:
        meal = None  # the meal being put together, until another wait comes
        for s in lane.spans:
            if s.label == label:
                meal = Span(meal.start, s.end, s.state, label) if meal else s
            elif s.state == BLOCKED and meal:
                out.append(meal)
                meal = None
        if meal:
            out.append(meal)
    return out


def plot_meals(results: list[Result]):
    """Meals per philosopher, one group of bars per strategy: fairness at a glance."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
    n = len(results[0].meals)
    width = 0.8 / len(results)
    green = PHILOSOPHER_COLORS["eating"]  # meals are eating: the dinner chart's green
    for k, r in enumerate(results):  # the first strategy solid, the others hatched
        look = ({"color": green} if k == 0 else
                {"facecolor": NEUTRALS["paper"], "edgecolor": green, "hatch": "/" * k * 2})
        ax.bar([i + k * width for i in range(n)], r.meals, width, label=r.strategy, **look)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(n)], [f"philosopher-{i}" for i in range(n)])
    ax.set_ylabel("meals")
    ax.set_title("Meals per philosopher: equal bars are fair; a bar near 0 is starving",
                 loc="left")  # fmt: skip
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plt.close(fig)
    return fig


def order_cycle(order: Order, n: int = 5) -> list[int]:
    """Forks that can form a circle of waits when philosopher ``i`` takes its forks in the
    order ``order(i, n)``: holding ``first`` and waiting for ``second`` makes an arrow
    first -> second; a circle of arrows is a deadlock waiting to happen. [] if none.

        >>> order_cycle(naive_order)
        [0, 1, 2, 3, 4, 0]
        >>> order_cycle(ordered)
        []
    """
    arrows: dict[int, list[int]] = {}
    for i in range(n):
        first, second = order(i, n)
        arrows.setdefault(first, []).append(second)

    def walk(fork: int, path: list[int]) -> list[int]:
        if fork in path:
            return path[path.index(fork):] + [fork]
        for nxt in arrows.get(fork, []):
            found = walk(nxt, path + [fork])
            if found:
                return found
        return []

    for start in range(n):
        found = walk(start, [])
        if found:
            return found
    return []


# The picture's kinds of span, with their legend words and the palette's philosophers'
# colours: a wait for the waiter or a fork is a wait for a lock, the course's "blocked".
DINNER_COLORS = {"thinking": PHILOSOPHER_COLORS["thinking"],
                 "hungry": PHILOSOPHER_COLORS["hungry"],
                 "eating": PHILOSOPHER_COLORS["eating"]}  # fmt: skip
DINNER_WORDS = {"thinking": "thinking (asleep, away from the table)",
                "hungry": "hungry: blocked, waiting for the waiter or a fork",
                "eating": "eating (both forks in hand)"}  # fmt: skip


def _kind(label: str) -> str | None:
    """Which of the picture's kinds a recorded span's label is (None: not drawn)."""
    if label in ("eating", "thinking"):
        return label
    if label.startswith(("waiting for", "has fork")):  # has fork i, pauses: hungry too
        return "hungry"
    return None


def _waits_for(label: str) -> str:
    """'waiting for lock 'fork 2' (held by ...)' -> 'fork 2'; the waiter's -> 'waiter'."""
    if label.startswith("waiting for") and "'" in label:
        return label.split("'")[1]
    return ""


def plot_dinner(timeline, title: str = "The philosophers, as recorded"):
    """One lane per philosopher, coloured by what its recorded spans say (thinking, hungry:
    blocked, waiting for the waiter or a fork, eating), a long wait labelled with what it
    waits for, and below it how many of these philosophers ate at each instant."""
    import matplotlib.pyplot as plt

    lanes = [ln for ln in timeline.lanes if ln.name.startswith("philosopher-")]
    fig, (ax, count) = plt.subplots(2, 1, figsize=(12, 1.2 + 0.5 * len(lanes) + 1.6),
                                    sharex=True, height_ratios=[len(lanes), 2],
                                    layout="constrained")  # fmt: skip
    t0, drawn = timeline.start, set()
    for row, lane in enumerate(lanes):
        y = len(lanes) - 1 - row
        for s in lane.spans:
            kind = _kind(s.label)
            if kind is None:
                continue
            drawn.add(kind)
            x, width = (s.start - t0) / 1e6, s.duration / 1e6
            ax.broken_barh([(x, width)], (y - 0.38, 0.76), color=DINNER_COLORS[kind])
            if kind == "hungry" and width > timeline.wall_ms / 14 and _waits_for(s.label):
                ax.text(x + width / 2, y, _waits_for(s.label), ha="center", va="center",
                        fontsize=9, color=text_color(DINNER_COLORS[kind]))  # fmt: skip
    ax.set_yticks(range(len(lanes)), [ln.name for ln in reversed(lanes)])
    ax.set_title(title, loc="left")
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c, label=DINNER_WORDS[k])
                       for k, c in DINNER_COLORS.items() if k in drawn],
              loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False)  # fmt: skip
    # Count the meals of the lanes drawn above only (not, say, the main thread's).
    steps = at_once(eating_spans(replace(timeline, lanes=tuple(lanes))))
    xs = [0.0, *((t - t0) / 1e6 for t, _ in steps), timeline.wall_ms]
    ys = [0, *(n for _, n in steps), steps[-1][1] if steps else 0]
    count.step(xs, ys, where="post", color=DINNER_COLORS["eating"])
    count.axhline(len(lanes) // 2, color=ALERT, linestyle="--", linewidth=1)
    count.set_ylim(0, len(lanes) // 2 + 1.2)
    count.set_ylabel("eating")
    count.set_xlabel("time since the start of the run (ms)")
    count.text(timeline.wall_ms, len(lanes) // 2 + 0.1,
               f"{len(lanes)} forks: at most {len(lanes) // 2} can eat at once ", ha="right",
               va="bottom", color=ALERT)  # fmt: skip
    plt.close(fig)
    return fig


# --- the animated table ----------------------------------------------------------------

COLORS = {state: PHILOSOPHER_COLORS[state] for state in (THINKING, HUNGRY, EATING, GAVE_UP, DONE)}


def table_svg(table: Table, status: str = "") -> str:
    """The table as an SVG picture: philosophers coloured by state, each fork beside its
    holder (or in its place on the table when free), and the meals so far."""
    n, size, cx, cy = table.n, 360, 180, 175
    holders = table.holders()
    parts = [f'<svg width="{size + 260}" height="{size}" xmlns="http://www.w3.org/2000/svg" '
             'font-family="sans-serif">',
             f'<circle cx="{cx}" cy="{cy}" r="95" fill="{NEUTRALS["table"]}" '
             f'stroke="{NEUTRALS["table edge"]}"/>']  # fmt: skip
    for i in range(n):
        a = -math.pi / 2 + 2 * math.pi * i / n
        x, y = cx + 135 * math.cos(a), cy + 135 * math.sin(a)
        state = table.state[i]
        parts.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="30" fill="{COLORS[state]}" '
                     f'stroke="{NEUTRALS["outline"]}"/>')  # fmt: skip
        ink = text_color(COLORS[state])  # white on the dark green of eating
        parts.append(f'<text x="{x:.0f}" y="{y - 4:.0f}" text-anchor="middle" font-size="13" '
                     f'font-weight="bold" fill="{ink}">P{i}</text>')  # fmt: skip
        parts.append(f'<text x="{x:.0f}" y="{y + 12:.0f}" text-anchor="middle" '
                     f'font-size="11" fill="{ink}">{state}</text>')  # fmt: skip
    for k in range(n):  # fork k lies between philosopher k-1 and philosopher k
        holder = holders[k]
        if holder is None:
            a = -math.pi / 2 + 2 * math.pi * (k - 0.5) / n
            r, color = 70, NEUTRALS["rule"]
        else:  # drawn next to its holder, on the side of the fork's place
            side = -0.28 if holder == k else 0.28
            a = -math.pi / 2 + 2 * math.pi * (holder + side) / n
            r, color = 92, NEUTRALS["held"]
        x0, y0 = cx + (r - 16) * math.cos(a), cy + (r - 16) * math.sin(a)
        x1, y1 = cx + (r + 16) * math.cos(a), cy + (r + 16) * math.sin(a)
        parts.append(f'<line x1="{x0:.0f}" y1="{y0:.0f}" x2="{x1:.0f}" y2="{y1:.0f}" '
                     f'stroke="{color}" stroke-width="5" stroke-linecap="round"/>')  # fmt: skip
        lx, ly = cx + (r - 26) * math.cos(a), cy + (r - 26) * math.sin(a)
        parts.append(f'<text x="{lx:.0f}" y="{ly + 4:.0f}" text-anchor="middle" '
                     f'font-size="10" fill="{NEUTRALS["rule"]}">f{k}</text>')  # fmt: skip
    x = size + 10
    parts.append(f'<text x="{x}" y="30" font-size="14" font-weight="bold">meals</text>')
    top = max(table.meals + [1])
    for i, m in enumerate(table.meals):
        y = 45 + 24 * i
        parts.append(f'<text x="{x}" y="{y + 13}" font-size="12">P{i}</text>')
        parts.append(f'<rect x="{x + 28}" y="{y}" width="{150 * m / top:.0f}" height="16" '
                     f'fill="{COLORS[EATING]}"/>'
                     f'<text x="{x + 34 + 150 * m / top:.0f}" y="{y + 13}" '
                     f'font-size="12">{m}</text>')  # fmt: skip
    y = 45 + 24 * n + 20
    for state, color in COLORS.items():  # a hungry one waits for a lock: the course's blocked
        word = "hungry (blocked)" if state == HUNGRY else state
        parts.append(f'<rect x="{x}" y="{y - 11}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 18}" y="{y}" font-size="12">{word}</text>')  # fmt: skip
        y += 18
    parts.append("</svg>")
    text = html.escape(status).replace("\n", "<br>")
    return "".join(parts) + f'<div style="font-family:monospace;font-size:12px">{text}</div>'


def _status(table: Table, running: bool) -> str:
    eating = sum(s == EATING for s in table.state)
    head = f"strategy {table.strategy_name}: {eating} eating now, at most {table.most_eating}"
    if table.deadlock:
        return head + "\nDEADLOCK, a circular wait:\n" + "\n".join(table.deadlock)
    return head + ("" if running else " · finished")


def animate(table: Table, show: Callable[[str], None], seconds: float, fps: float = 12) -> Result:
    """Run ``table`` for ``seconds`` and call ``show(svg)`` about ``fps`` times a second
    with its picture, from the calling thread; return the Result when all have left."""
    table.start(seconds)
    try:
        while table.alive():
            table.watch()
            show(table_svg(table, _status(table, True)))
            time.sleep(1 / fps)
        return table.join()
    finally:
        table.stop.set()
        show(table_svg(table, _status(table, False)))


def table_widget(strategy: str = "waiter", speed: float = 1.0, seconds: float = 2.0):
    """The table, animated: strategy and speed controls, Play and Stop.

    When the cell runs, it draws the first frame and plays ``seconds`` of dinner
    (the cell waits for it, so nothing is left running). Play runs 20 s more in
    the background (a thread that only updates the picture); Stop ends it.
    """
    import ipywidgets as W
    from IPython.display import display

    picker = W.Dropdown(options=STRATEGIES, value=strategy, description="strategy")
    pace = W.FloatSlider(value=speed, min=0.25, max=4, step=0.25, description="speed")
    play = W.Button(description="Play", icon="play", button_style="primary")
    halt = W.Button(description="Stop", icon="stop")
    picture = W.HTML()
    box = W.VBox([W.HBox([picker, pace, play, halt]), picture])
    current: dict = {}

    def make() -> Table:
        s = pace.value
        return Table(strategy=picker.value, think_s=0.3 / s, eat_s=0.3 / s,
                     pause_s=0.5 / s if picker.value == "naive" else 0.0,
                     patience_s=max(0.5, 1.5 / s))  # fmt: skip

    def show(svg: str) -> None:
        picture.value = svg

    def background() -> None:
        table = current["table"]
        animate(table, show, seconds=20)

    def on_play(_=None) -> None:
        old = current.get("thread")
        if old is not None and old.is_alive():
            return  # already playing
        current["table"] = make()
        current["thread"] = threading.Thread(target=background, name="table-animation",
                                             daemon=True)  # fmt: skip
        current["thread"].start()

    def on_stop(_=None) -> None:
        if "table" in current:
            current["table"].stop.set()

    play.on_click(on_play)
    halt.on_click(on_stop)
    first = make()
    show(table_svg(first, "the first frame: everybody thinks"))
    display(box)
    animate(first, show, seconds=seconds)  # the first, bounded run: while the cell runs
    return None
