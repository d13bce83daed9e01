"""The instructor's kit: every notebook has slides, a quiz and a guide entry; classroom mode
and the state colours hold up on a projector and for colour-blind eyes.

What a notebook NN_slug.ipynb needs (tools/kit.py adds the first two):
- slideshow metadata on every cell ("slideshow": {"slide_type": ...}), as tools/kit.py sets
  it: `python tools/kit.py notebooks/NN_slug.ipynb`;
- a quiz: a code cell `quiz.show("quizzes/NN_slug.json")` whose file exists and passes
  helpers.lessons.quiz.validate (2-4 multiple-choice questions, one right answer each, every answer
  with an explanation);
- an entry in the instructor guide, notebooks/INSTRUCTOR_GUIDE.md: a section per notebook
  headed exactly like the notebook's title, one level down:

      ## NN · Title          (the notebook's first line is "# NN · Title")

  with a card whose `> **Quiz key.**` line gives each question's right letter and the start of
  its answer, as the quiz file has them.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GUIDE = ROOT / "notebooks" / "INSTRUCTOR_GUIDE.md"
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
IDS = [nb.name for nb in NOTEBOOKS]


def _kit():
    spec = importlib.util.spec_from_file_location("kit", ROOT / "tools" / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _title(nb: dict) -> str:
    first = "".join(nb["cells"][0]["source"]).splitlines()[0]
    assert first.startswith("# "), f"the first cell should start with '# NN · Title': {first!r}"
    return first[2:].strip()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 12


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_slideshow_metadata(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    fix = f"run: python tools/kit.py {path.relative_to(ROOT)}"
    missing = [i for i, c in enumerate(nb["cells"], 1)
               if c.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert not missing, f"cells {missing} have no slideshow metadata: {fix}"  # fmt: skip
    assert nb["cells"][0]["metadata"]["slideshow"]["slide_type"] == "slide"
    expected = _kit().apply(json.loads(path.read_text(encoding="utf-8")), path.stem, quiz=False)
    assert [c["metadata"]["slideshow"] for c in nb["cells"]] == [
        c["metadata"]["slideshow"] for c in expected["cells"]
    ], f"slide types differ from the rules in tools/kit.py: {fix}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_ends_with_a_valid_quiz(path: Path):
    from helpers.lessons import quiz

    nb = json.loads(path.read_text(encoding="utf-8"))
    calls = [m for c in nb["cells"] if c["cell_type"] == "code"
             for m in re.findall(r'quiz\.show\("([^"]+)"\)', "".join(c["source"]))]  # fmt: skip
    assert len(calls) == 1, (
        f"{path.name}: one quiz cell expected, found {len(calls)}: write "
        f"notebooks/quizzes/{path.stem}.json, then run python tools/kit.py {path.name}"
    )
    assert calls[0] == f"quizzes/{path.stem}.json"
    at = [i for i, c in enumerate(nb["cells"]) if "quiz.show(" in "".join(c["source"])][0]
    key_points = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"
                  and "".join(c["source"]).lstrip().startswith("## Key points")]  # fmt: skip
    assert key_points and at < key_points[0], "the quiz comes before the key points (tools/kit.py)"
    questions = quiz.load(path.parent / calls[0])  # raises with what is wrong
    assert quiz.MIN_QUESTIONS <= len(questions) <= quiz.MAX_QUESTIONS


def test_quiz_files_belong_to_notebooks():
    stems = {nb.stem for nb in NOTEBOOKS}
    orphans = [p.name for p in (ROOT / "notebooks" / "quizzes").glob("*.json")
               if p.stem not in stems]  # fmt: skip
    assert not orphans, f"quiz files without a notebook: {orphans}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_an_entry_in_the_instructor_guide(path: Path):
    guide = GUIDE.read_text(encoding="utf-8")
    heading = "## " + _title(json.loads(path.read_text(encoding="utf-8")))
    headings = [line.rstrip() for line in guide.splitlines() if line.startswith("## ")]
    assert heading in headings, f"{GUIDE.name} has no section headed {heading!r}"


def _guide_section(title: str) -> str:
    """The text of the guide's section headed ``## title``, up to the next ``## `` heading."""
    guide = GUIDE.read_text(encoding="utf-8")
    start = guide.index("\n## " + title + "\n")
    end = guide.find("\n## ", start + 1)
    return guide[start:end if end != -1 else None]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_guide_quiz_key_matches_the_quiz(path: Path):
    """The card's line `> **Quiz key.** 1 **B** (Nothing) · 2 **A** (About…) · ...`: one entry per
    question, the right answer's letter, and the start of its text (backticks left out)."""
    from helpers.lessons import quiz

    section = _guide_section(_title(json.loads(path.read_text(encoding="utf-8"))))
    lines = section.splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("> **Quiz key.**")]
    assert len(at) == 1, f"{GUIDE.name}, {path.stem}: one '> **Quiz key.**' line expected"
    key = lines[at[0]].removeprefix("> **Quiz key.**")
    for line in lines[at[0] + 1:]:  # the key may wrap onto the quote's next lines
        if not line.startswith("> ") or re.match(r"> \*\*\w[^*]*\.\*\*", line):  # a new field
            break
        key += " " + line[2:]
    entries = [re.fullmatch(r"(\d+) \*\*([A-F])\*\* \((.+)\)", e.strip())
               for e in key.split(" · ")]
    assert all(entries), f"{path.stem}: write the key as 1 **B** (answer…) · 2 **A** (...): {key}"
    questions = quiz.load(ROOT / "notebooks" / "quizzes" / f"{path.stem}.json")
    expected = []
    for n, q in enumerate(questions, 1):
        right = next(j for j, a in enumerate(q["answers"]) if a["correct"])
        answer = q["answers"][right]["answer"]
        expected.append((str(n), quiz.LETTERS[right], answer.replace("`", "")))
    got = [(e[1], e[2], e[3].rstrip("…").replace("`", "")) for e in entries]
    assert [g[:2] for g in got] == [e[:2] for e in expected], (
        f"{GUIDE.name}, {path.stem}: the quiz key says {[''.join(g[:2]) for g in got]}, the quiz "
        f"file {[''.join(e[:2]) for e in expected]}"
    )
    for (n, _, text), (_, _, answer) in zip(got, expected):
        assert answer.startswith(text), f"{path.stem}, question {n}: {text!r}, not {answer!r}"


MINUTES_LINE = re.compile(r"⏱ About (\d+) minutes \((\d+) of teaching, (\d+) for the exercise, "
                          r"(\d+) for the quiz\)\.")  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_states_the_cards_minutes_in_the_one_form(path: Path):
    """The notebook's `⏱ About N minutes (T of teaching, E for the exercise, Q for the quiz).`
    adds up, and agrees with its card: `> **Minutes.** N (..., exercise E, quiz Q)`."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    stated = MINUTES_LINE.findall(text)
    assert len(stated) == 1, f"{path.stem}: one line like '⏱ About 25 minutes (16 of teaching, "\
        "7 for the exercise, 2 for the quiz).' expected, as the guide's card says"
    n, t, e, q = map(int, stated[0])
    assert t + e + q == n, f"{path.stem}: {t} + {e} + {q} is not {n}"
    section = _guide_section(_title(nb))
    card = re.search(r"> \*\*Minutes\.\*\* (\d+) \(([^)]*)\)", section.replace("\n> ", " "))
    assert card, f"{GUIDE.name}, {path.stem}: the card has no '> **Minutes.** N (...)' line"
    parts = dict((k, int(v)) for k, v in re.findall(r"([a-z][a-z ]*?) (\d+)", card.group(2)))
    exercise = parts.get("exercise", parts.get("capstone", 0))
    assert (int(card.group(1)), exercise, parts.get("quiz", 0)) == (n, e, q), (
        f"{path.stem}: the notebook says {n} minutes, {e} for the exercise, {q} for the quiz; "
        f"its card says {card.group(0)}")


# ---- quizzes answer a click ---------------------------------------------------------------


def test_quiz_answers_a_click_with_its_explanation():
    from helpers.lessons import quiz

    path = ROOT / "notebooks" / "quizzes" / "04_the_gil.json"
    q = quiz.Quiz(path).questions[0]
    right = next(i for i, a in enumerate(q.question["answers"]) if a["correct"])
    wrong = (right + 1) % len(q.question["answers"])
    assert q.answer(wrong) is False
    assert q.buttons[wrong].button_style == "danger" and quiz.WRONG in q.feedback.value
    q.buttons[right].click()  # what a click in the browser does
    assert q.buttons[right].button_style == "success" and q.buttons[wrong].button_style == ""
    assert quiz.RIGHT in q.feedback.value
    assert q.question["answers"][right]["feedback"].split("`")[0][:20] in q.feedback.value
    # letters for a show of hands: "A. ...", "B. ...", in order
    assert [b.description[:3] for b in q.buttons] == [f"{c}. " for c in "ABC"[:len(q.buttons)]]
    assert q.buttons[right].description.endswith(q.question["answers"][right]["answer"])


def test_quiz_rejects_bad_files_with_what_to_fix(tmp_path):
    from helpers.lessons import quiz

    with pytest.raises(FileNotFoundError, match="notebooks/ folder"):
        quiz.load(tmp_path / "missing.json")
    one = [{"question": "Q?", "type": "multiple_choice", "answers": [
        {"answer": "a", "correct": True, "feedback": "yes"},
        {"answer": "b", "correct": True, "feedback": ""},
        {"answer": "c", "correct": False, "feedback": "Right: says it twice"}]}]  # fmt: skip
    problems = quiz.validate(one)
    assert "1 question(s), not 2-4" in problems
    assert any(p.startswith("question 1, answer 3: the quiz says") for p in problems)
    assert "question 1: 2 right answers, not 1" in problems
    assert "question 1, answer 2: no explanation (feedback)" in problems
    seven = [{"answer": str(i), "correct": i == 0, "feedback": "because"} for i in range(7)]
    assert "question 1: at most 6 answers (A-F)" in quiz.validate(
        [{"question": "Q?", "type": "multiple_choice", "answers": seven}] * 2)
    (tmp_path / "bad.json").write_text("[1,")
    with pytest.raises(ValueError, match="not valid JSON"):
        quiz.load(tmp_path / "bad.json")


# ---- slides -------------------------------------------------------------------------------


def test_kit_sets_slides_and_adds_the_quiz_once():
    kit = _kit()

    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": [text]}

    code = {"cell_type": "code", "metadata": {"jupyter": {"source_hidden": True}},
            "source": ["# plumbing\n", "x = 1"], "outputs": [], "execution_count": None}
    nb = {"cells": [md("# 99 · T\n\nintro"), md("Some text"), md("## Part"), code,
                    md("**Predict, then run:** what?"), md('<a id="g"></a>\n\n## Glossary'),
                    md("### Detail"), md("## Key points\n\n- x")]}  # fmt: skip
    out = kit.apply(nb, "99_t")
    kinds = [c["metadata"]["slideshow"]["slide_type"] for c in out["cells"]]
    assert kinds == ["slide", "-", "slide", "-", "subslide", "slide", "subslide",
                     "slide", "-", "slide"]  # fmt: skip
    assert 'quiz.show("quizzes/99_t.json")' in "".join(out["cells"][-2]["source"])
    assert "skip" not in kinds  # hidden cells' outputs (pictures, checks) stay on the slides
    assert len(kit.apply(out, "99_t")["cells"]) == len(out["cells"])  # once


# ---- colours: distinct for colour-blind eyes and in greyscale -----------------------------

# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", severity 1.0; applied to linear RGB.
MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip
MIN_DELTA_E = 15.0  # CIELAB distance between any two state colours, under each simulation
MIN_DELTA_L = 7.0  # lightness L* between any two state colours: greyscale (a b/w printout)


def _linear(hex_color: str):
    import numpy as np

    c = np.array([int(hex_color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb):
    import numpy as np

    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear_rgb  # fmt: skip
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen_as(hex_color: str, vision: str):
    import numpy as np

    rgb = _linear(hex_color)
    if vision != "normal":
        rgb = np.clip(np.array(MACHADO[vision]) @ rgb, 0, 1)
    return _lab(rgb)


def _closest_pair(colors: dict, vision: str):
    import numpy as np

    seen = {name: _seen_as(c, vision) for name, c in colors.items()}
    return min((float(np.linalg.norm(seen[a] - seen[b])), a, b)
               for a, b in itertools.combinations(colors, 2))  # fmt: skip


def test_the_simulation_can_tell_a_confusable_pair():
    # Red and green of equal lightness: distinct to normal eyes, not to a deuteranope.
    pair = {"red": "#d62728", "green": "#2ca02c"}
    assert _closest_pair(pair, "normal")[0] > 50
    assert _closest_pair(pair, "deuteranopia")[0] < MIN_DELTA_E


def _palettes() -> dict[str, dict[str, str]]:
    """Every set of colours that one picture shows together (helpers.palette)."""
    from helpers import palette

    return {"states": palette.STATE_COLORS, "philosophers": palette.PHILOSOPHER_COLORS,
            "chooser": palette.CHOOSER_COLORS, "quiz": palette.QUIZ_COLORS}  # fmt: skip


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
@pytest.mark.parametrize("which", ["states", "philosophers", "chooser", "quiz"])
def test_each_pictures_colours_stay_distinct(which, vision):
    distance, a, b = _closest_pair(_palettes()[which], vision)
    assert distance >= MIN_DELTA_E, f"{which}, {vision}: {a!r} and {b!r} only {distance:.1f} apart"


@pytest.mark.parametrize("which", ["states", "philosophers", "chooser", "quiz"])
def test_each_pictures_colours_stay_distinct_in_greyscale(which):
    colors = _palettes()[which]
    lightness = {name: _lab(_linear(c))[0] for name, c in colors.items()}
    gap, a, b = min((abs(lightness[a] - lightness[b]), a, b)
                    for a, b in itertools.combinations(colors, 2))  # fmt: skip
    assert gap >= MIN_DELTA_L, f"{which}: in greyscale {a!r} and {b!r} are {gap:.1f} L* apart"


def test_every_colour_a_picture_uses_comes_from_the_palette():
    """No module but helpers/palette.py writes a colour as a literal "#rrggbb" string, so the
    checks above see every colour that carries a meaning."""
    import ast
    import re

    import helpers

    hex_colour = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
    found = []
    for path in sorted(Path(helpers.__file__).parent.rglob("*.py")):
        if path.name == "palette.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and hex_colour.match(node.value):
                found.append(f"{path.name}:{node.lineno} {node.value}")
    assert not found, f"colours outside helpers/palette.py: {found}"


def test_hatching_shows_on_every_state_colour():
    """Inferred spans are hatched: the hatch lines must differ in lightness from the span's
    colour, or a projector (or greyscale) loses them."""
    from helpers import palette, picture

    for state, color in palette.STATE_COLORS.items():
        hatch = picture._hatch_color(state)
        gap = abs(_lab(_linear(hatch))[0] - _lab(_linear(color))[0])
        assert gap >= 25, f"hatching on {state!r} is only {gap:.0f} L* from its colour"


# ---- classroom mode -----------------------------------------------------------------------


@pytest.fixture
def classroom_mode():
    from helpers.classroom_mode import classroom

    classroom(True, show_style=False)
    try:
        yield
    finally:
        classroom(False, show_style=False)


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_classroom_mode_draws_larger_text_and_thicker_bars(no_leftovers, classroom_mode):
    import matplotlib as mpl

    import helpers
    from helpers import classroom_mode as classroom
    from helpers import picture
    from helpers import workloads as w

    tl = helpers.run_threads([w.cpu(0.02), w.sleep(0.02)])
    fig = tl.plot()
    assert min(t.get_fontsize() for t in _texts(fig)) >= 16
    assert fig.get_size_inches()[0] * 100 <= 1000  # still fits the notebook's width
    rows = fig.get_size_inches()[1]
    assert classroom.look().bar_half_height > classroom.NORMAL.bar_half_height
    assert mpl.rcParams["font.size"] >= 16 and mpl.rcParams["hatch.linewidth"] >= 2
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.x1 <= fig.bbox.x1 + 1, "the legend is wider than the figure"
    classroom.classroom(False, show_style=False)
    normal = tl.plot()
    assert max(t.get_fontsize() for t in _texts(normal)) <= picture.TITLE_FONT
    assert normal.get_size_inches()[1] < rows
    assert mpl.rcParams["font.size"] == mpl.rcParamsDefault["font.size"]


def test_classroom_widget_style_sizes_widget_text():
    from helpers import classroom_mode as classroom

    big = classroom.widget_style(classroom.CLASSROOM)
    assert "--jp-widgets-font-size: 20px" in big and ".course-quiz" in big
    assert "--jp-widgets-font-size: 13px" in classroom.widget_style(classroom.NORMAL)
    with pytest.raises(TypeError, match="True or False"):
        classroom.classroom("yes")


def test_label_text_is_readable_on_dark_and_light_bars():
    from helpers.palette import STATE_COLORS, text_color

    assert text_color(STATE_COLORS["C call"]) == "#ffffff"
    assert text_color(STATE_COLORS["waiting for GIL"]) == "#1b1b1b"
