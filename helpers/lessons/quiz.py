"""Multiple-choice quizzes at the end of each notebook, answered with a click.

    >>> from helpers.lessons import quiz
    >>> quiz.show("quizzes/04_the_gil.json")  # doctest: +SKIP
    >>> quiz.validate([{"question": "Why?", "type": "multiple_choice", "answers": []}])
    ['1 question(s), not 2-4', 'question 1: at least 2 answers']

The questions live in a JSON file under notebooks/quizzes/ (the path is relative to the
notebook's folder), so the answers are not visible by scrolling the notebook. Each answer's
button starts with a letter (A, B, C...), for a show of hands; a click colours it and shows
its explanation, after "Right." or "Not quite."; another answer can be tried. Built on
ipywidgets, so it needs nothing from the network; ``validate`` is what tests/test_kit.py
holds every quiz file to.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..palette import QUIZ_COLORS

__all__ = ["LETTERS", "MAX_QUESTIONS", "MIN_QUESTIONS", "Quiz", "label", "load", "show",
           "validate"]

MIN_QUESTIONS, MAX_QUESTIONS = 2, 4
RIGHT, WRONG = "Right.", "Not quite."
LETTERS = "ABCDEF"  # an answer's letter on its button, for "hands up for B"


def label(index: int, answer: str) -> str:
    """The text of answer ``index``'s button (from 0): its letter, then the answer."""
    return f"{LETTERS[index]}. {answer}"


def load(path: str | Path) -> list[dict]:
    """The questions in ``path``, checked with ``validate``; a clear error if they are not fine."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no quiz file {path} (from the folder {Path.cwd()}): run the notebook from the "
            "notebooks/ folder, where quizzes/ is"
        )
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    problems = validate(questions)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return questions


def validate(questions) -> list[str]:
    """What is wrong with a quiz (an empty list when nothing is): 2-4 multiple-choice
    questions, each with 2 to 6 answers, exactly one of them right, every answer with an
    explanation (its "feedback") that starts with the reason, not with a verdict."""
    if not isinstance(questions, list):
        return ["a quiz is a JSON list of questions"]
    problems = []
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        problems.append(f"{len(questions)} question(s), not {MIN_QUESTIONS}-{MAX_QUESTIONS}")
    for i, q in enumerate(questions, 1):
        if not isinstance(q, dict):
            problems.append(f"question {i} is not an object")
            continue
        if q.get("type") != "multiple_choice":
            problems.append(f'question {i}: type must be "multiple_choice"')
        if not str(q.get("question", "")).strip():
            problems.append(f"question {i} has no text")
        answers = q.get("answers")
        if not isinstance(answers, list) or len(answers) < 2:
            problems.append(f"question {i}: at least 2 answers")
            continue
        if len(answers) > len(LETTERS):
            problems.append(f"question {i}: at most {len(LETTERS)} answers (A-{LETTERS[-1]})")
        right = [a for a in answers if isinstance(a, dict) and a.get("correct") is True]
        if len(right) != 1:
            problems.append(f"question {i}: {len(right)} right answers, not 1")
        for j, a in enumerate(answers, 1):
            if not isinstance(a, dict) or not str(a.get("answer", "")).strip():
                problems.append(f"question {i}, answer {j}: no text")
            elif not isinstance(a.get("correct"), bool):
                problems.append(f"question {i}, answer {j}: correct must be true or false")
            elif not str(a.get("feedback", "")).strip():
                problems.append(f"question {i}, answer {j}: no explanation (feedback)")
            elif str(a["feedback"]).lstrip().startswith(("Right", "Not quite", "Wrong")):
                problems.append(f"question {i}, answer {j}: the quiz says {RIGHT!r} or {WRONG!r} "
                                "itself; start the feedback with the reason")  # fmt: skip
    return problems


class Question:
    """One question as widgets: its text, a button per answer, the explanation of a click."""

    def __init__(self, number: int, question: dict):
        import ipywidgets as widgets

        self.question = question
        self.text = widgets.HTML(f"<b>{number}. {_inline(question['question'])}</b>")
        self.buttons = [
            widgets.Button(description=label(j, a["answer"]), tooltip=a["answer"],
                           layout=widgets.Layout(width="auto", height="auto"))
            for j, a in enumerate(question["answers"])
        ]  # fmt: skip
        for i, button in enumerate(self.buttons):
            button.add_class("course-quiz-answer")
            button.on_click(lambda _b, i=i: self.answer(i))
        self.feedback = widgets.HTML("")
        self.feedback.add_class("course-quiz-feedback")
        self.box = widgets.VBox([self.text, *self.buttons, self.feedback],
                                layout=widgets.Layout(margin="0 0 1em 0"))  # fmt: skip

    def answer(self, index: int) -> bool:
        """Choose answer ``index`` (what a click does); True when it is the right one."""
        chosen = self.question["answers"][index]
        for button in self.buttons:
            button.button_style = ""
            button.remove_class("course-quiz-chosen")
        self.buttons[index].button_style = "success" if chosen["correct"] else "danger"
        self.buttons[index].add_class("course-quiz-chosen")
        verdict = RIGHT if chosen["correct"] else WRONG
        color = QUIZ_COLORS["right" if chosen["correct"] else "wrong"]
        self.feedback.value = (f'<span style="color:{color}"><b>{verdict}</b></span> '
                               f"{_inline(chosen['feedback'])}")  # fmt: skip
        return chosen["correct"]


class Quiz:
    """The widgets of a quiz file: ``.questions`` (Question), ``.widget`` (to display)."""

    def __init__(self, path: str | Path):
        import ipywidgets as widgets

        self.path = Path(path)
        self.questions = [Question(i, q) for i, q in enumerate(load(self.path), 1)]
        title = widgets.HTML(_STYLE + "<b>Check yourself</b>: click an answer; each one says why.")
        self.widget = widgets.VBox([title, *(q.box for q in self.questions)])
        self.widget.add_class("course-quiz")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def show(path: str | Path) -> None:
    """Display the quiz in ``path`` (relative to the notebook's folder)."""
    from IPython.display import display

    display(Quiz(path).widget)


# Answers are buttons whose text wraps (a button's text is one line by default), left-aligned.
_STYLE = """<style>
.course-quiz .course-quiz-answer { white-space: normal; text-align: left; max-width: 100%;
  padding: 0.3em 0.8em; margin: 0.15em 0; }
.course-quiz .course-quiz-feedback { max-width: 60em; }
</style>"""


def _inline(text: str) -> str:
    """Question and explanation text as HTML: escaped, with `code` in backticks shown as code."""
    parts = html.escape(str(text)).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
