"""The instructor guide and the README hold together as GitHub shows them (issue 21).

- The guide's "## Contents" links every "## " section, appendices included, and every
  "#anchor" link of the guide resolves by GitHub's anchor rule (tests/guide_md.py: anchor()).
- Every session plan adds up: each notebook at its card's minutes (or its short minutes,
  "NN short"), each block's row and the total, at most an hour between breaks, a buffer in
  each plan, the plan's title saying its total; the full day gives every notebook but 12 a slot
  (12 has its own paragraph, "Where 12 fits").
- The README's course outline is one table: no blank line inside it (GitHub would show the
  rows after one as a paragraph), a row per notebook; its "Each notebook takes A-B minutes
  (C-D in the short versions ...)" is the cards' range.
(That each card fits one 1280x720 screen is measured in a browser: tests/test_browser.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import guide_md
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TEXT = guide_md.read()
ITEM = re.compile(r"(?P<nn>\d\d)(?P<short> short)?(?:, [^()]+)? \((?P<min>\d+)(?:, [^()]+)?\)"
                  r"|(?P<other>buffer|wrap-up) \((?P<omin>\d+)\)")  # fmt: skip


def test_anchor_follows_githubs_rule():
    assert guide_md.anchor("00 · Start here") == "00--start-here"
    assert guide_md.anchor("07 · join(): waiting for a thread to finish") == \
        "07--join-waiting-for-a-thread-to-finish"
    assert guide_md.anchor("Appendix C: when the room's machines differ") == \
        "appendix-c-when-the-rooms-machines-differ"
    assert guide_md.anchor("Another Python version (3.10-3.15)") == \
        "another-python-version-310-315"
    levels = [h for h in guide_md.headings("# A\n\n## A\n\n### `x` y\n") if h[0] > 1]
    assert levels == [(2, "A", "a-1"), (3, "x y", "x-y")]  # a repeated anchor gets -1


def test_contents_links_every_section():
    contents = guide_md.section(TEXT, "Contents")
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    sections = [h[2] for h in guide_md.headings(TEXT) if h[0] == 2]
    assert "contents" in sections, "the guide has no '## Contents'"
    sections = sections[sections.index("contents") + 1:]  # the ones above it need no link
    assert sections, "the guide has no '## ' sections after its contents"
    missing = [s for s in sections if s not in linked]
    assert not missing, f"'## Contents' does not link these sections: {missing}"
    assert linked == [s for s in sections if s in linked], "Contents lists them out of order"


def test_every_anchor_link_in_the_guide_resolves():
    anchors = {h[2] for h in guide_md.headings(TEXT)}
    broken = sorted({a for a in re.findall(r"\]\(#([^)]+)\)", TEXT) if a not in anchors})
    assert not broken, f"links to headings that do not exist (GitHub's anchors): {broken}"


def _card_minutes() -> dict[str, tuple[int, int]]:
    """{"NN": (minutes, short minutes)} from each card's `> **Minutes.** N (...). Short: M`."""
    found = {}
    for nn, card in guide_md.cards(TEXT).items():
        line = re.search(r"\*\*Minutes\.\*\* (\d+) \(([^)]*)\)(.*?)(?:\n>\n|\n\n)",
                         card.replace("\n> ", " "), re.S)  # fmt: skip
        assert line, f"card {nn} has no '> **Minutes.** N (...)' line"
        assert re.search(r"\bquiz \d+", line.group(2)), f"card {nn}'s minutes leave out the quiz"
        short = re.search(r"Short: (\d+)", line.group(3))
        assert short, f"card {nn}'s minutes give no 'Short: M'"
        found[nn] = (int(line.group(1)), int(short.group(1)))
    return found


def _plans() -> dict[str, list[tuple[str, str, str]]]:
    """{plan's title: [(first cell, second cell, third cell) of each table row]}."""
    plans = {}
    text = guide_md.section(TEXT, "Session plans")
    for part in re.split(r"\n### ", text)[1:]:
        title, _, body = part.partition("\n")
        rows = [[c.strip() for c in line.strip().strip("|").split("|")]
                for line in body.splitlines() if line.startswith("|")]  # fmt: skip
        if rows:
            assert all(len(r) == 3 for r in rows), f"{title}: a row without three cells"
            plans[title] = [tuple(r) for r in rows[2:]]  # after the header and the --- line
    return plans


def test_there_are_session_plans():
    assert len(_plans()) >= 3


@pytest.mark.parametrize("title", list(_plans()))
def test_session_plan_adds_up_with_the_cards_minutes(title):
    cards, rows = _card_minutes(), _plans()[title]
    total, stretch, buffers, teaching, breaks = 0, 0, 0, 0, 0
    for first, items, minutes in rows:
        if first == "**Total**":
            assert minutes == f"**{total}**", f"{title}: the rows add up to {total}, not {minutes}"
            stated = re.findall(r"(\d+) of teaching, (\d+) of breaks", items)
            assert not stated or stated[0] == (str(teaching), str(breaks)), \
                f"{title}: {teaching} of teaching and {breaks} of breaks, not {items}"
            continue
        if first in ("Break", "Lunch"):
            stretch = 0
            if first == "Break":
                total, breaks = total + int(minutes), breaks + int(minutes)
            continue
        assert first.isdigit(), f"{title}: a row is a block number, Break, Lunch or **Total**"
        parts = items.split(" · ")
        got = 0
        for part in parts:
            m = ITEM.fullmatch(part)
            assert m, f"{title}, block {first}: write {part!r} as 'NN (M)', 'NN short (M)', " \
                "'NN short, what (M)', 'buffer (M)' or 'wrap-up (M)'"
            if m["other"]:
                got += int(m["omin"])
                buffers += m["other"] == "buffer"
                continue
            full, short = cards[m["nn"]]
            want = short if m["short"] else full
            assert int(m["min"]) == want, (f"{title}, block {first}: {part!r}, but card "
                                           f"{m['nn']} says {want}{' (short)' * bool(m['short'])}")
            got += want
        assert int(minutes) == got, f"{title}, block {first}: its items add up to {got}"
        stretch += got
        assert stretch <= 60, f"{title}: {stretch} minutes without a break by block {first}"
        total, teaching = total + got, teaching + got
    assert buffers, f"{title}: no buffer"
    said = re.search(r"(\d+)-minute|(\d+) h (\d+) min", title)
    if said:
        stated = int(said[1]) if said[1] else 60 * int(said[2]) + int(said[3])
        assert stated == total, f"{title}: the title says {stated} minutes, the rows {total}"


def test_the_full_day_gives_every_notebook_but_12_a_slot():
    (title,) = [t for t in _plans() if t.startswith("A full day")]
    named = {m["nn"] for _, items, _ in _plans()[title] for m in ITEM.finditer(items) if m["nn"]}
    expected = {nn[:2] for nn in NOTEBOOKS} - {"12"}  # "Where 12 fits" places it
    assert named == expected, f"the full day leaves out {sorted(expected - named)}"
    assert "**Where 12 fits.**" in guide_md.section(TEXT, "Session plans")


def test_readme_course_outline_is_one_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    outline = readme[readme.index("## Course outline\n"):]
    outline = outline[:outline.find("\n## ", 1)]
    lines = outline.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    last = max(i for i, line in enumerate(lines) if line.startswith("|"))
    inside = lines[first:last + 1]
    assert all(line.startswith("|") for line in inside), (
        "README.md's course outline has a line that is not a table row (a blank line?) inside "
        "the table: GitHub would show the rows after it as a paragraph")
    rows = [re.match(r"\| (\d\d) \|", line) for line in inside[2:]]
    assert [r[1] for r in rows if r] == [nn[:2] for nn in NOTEBOOKS], \
        "the outline should have one row per notebook, in order"


def test_readme_says_the_cards_range_of_minutes():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = re.search(r"Each notebook takes (\d+)-(\d+) minutes \((\d+)-(\d+) in the short", readme)
    assert said, "README.md should say 'Each notebook takes A-B minutes (C-D in the short ...)'"
    full, short = zip(*_card_minutes().values())
    assert tuple(map(int, said.groups())) == (min(full), max(full), min(short), max(short)), \
        f"the cards say {min(full)}-{max(full)} minutes, {min(short)}-{max(short)} short"
