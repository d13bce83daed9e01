"""The instructor guide (notebooks/INSTRUCTOR_GUIDE.md) as GitHub shows it, for the tests.

render(text): the Markdown as HTML, CommonMark plus tables (GitHub's flavour for what the guide
uses), each heading with the id GitHub gives it (anchor()), in a page styled as GitHub's
Markdown: GITHUB_CSS, the rules of github-markdown-css that set heights (16 px text, 1.5 line
height, its margins), in a 980 px column with 45 px padding.

anchor(title): GitHub's anchor for a heading: lower case, punctuation dropped (word characters,
spaces and hyphens stay), each space a hyphen; a repeated anchor gets -1, -2, ...

cards(text): {"NN": card text} for each "## NN · Title" section: the heading, the card's
blockquote and its "notes on NN" line.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "notebooks" / "INSTRUCTOR_GUIDE.md"
CARD_HEADING = re.compile(r"^## (\d\d) · .+$", re.M)

# github-markdown-css (sindresorhus/github-markdown-css, the rules that set sizes), and its
# recommended page: `.markdown-body { max-width: 980px; margin: 0 auto; padding: 45px; }`.
GITHUB_CSS = """
body { margin: 0; background: #fff; }
.markdown-body { box-sizing: border-box; max-width: 980px; margin: 0 auto; padding: 45px;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
  sans-serif; font-size: 16px; line-height: 1.5; color: #1f2328; word-wrap: break-word; }
.markdown-body p, .markdown-body blockquote, .markdown-body ul, .markdown-body ol,
.markdown-body table, .markdown-body pre { margin-top: 0; margin-bottom: 16px; }
.markdown-body h1, .markdown-body h2, .markdown-body h3 { margin-top: 24px;
  margin-bottom: 16px; font-weight: 600; line-height: 1.25; }
.markdown-body h1 { font-size: 2em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
.markdown-body h2 { font-size: 1.5em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
.markdown-body h3 { font-size: 1.25em; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0;
  margin-left: 0; margin-right: 0; }
.markdown-body blockquote > :first-child { margin-top: 0; }
.markdown-body blockquote > :last-child { margin-bottom: 0; }
.markdown-body ul, .markdown-body ol { padding-left: 2em; }
.markdown-body li + li { margin-top: .25em; }
.markdown-body code { padding: .2em .4em; margin: 0; font-size: 85%; white-space: break-spaces;
  background-color: #818b981f; border-radius: 6px;
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono",
  monospace; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body strong { font-weight: 600; }
.markdown-body table { border-spacing: 0; border-collapse: collapse; display: block;
  width: max-content; max-width: 100%; overflow: auto; }
.markdown-body td, .markdown-body th { padding: 6px 13px; border: 1px solid #d1d9e0; }
"""


def read() -> str:
    return GUIDE.read_text(encoding="utf-8")


def anchor(title: str) -> str:
    """GitHub's anchor for a heading's text (without the -N of a repeated one)."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def headings(text: str) -> list[tuple[int, str, str]]:
    """(level, text as shown, GitHub's anchor) for every heading, repeated anchors numbered."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    seen: dict[str, int] = {}
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            shown = "".join(c.content for c in tokens[i + 1].children
                            if c.type in ("text", "code_inline"))  # fmt: skip
            base = anchor(shown)
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.append((int(token.tag[1]), shown, base if n == 0 else f"{base}-{n}"))
    return found


def render(text: str) -> str:
    """A whole HTML page: the Markdown as GitHub renders it, headings with GitHub's ids."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    ids = iter(h[2] for h in headings(text))
    for token in tokens:
        if token.type == "heading_open":
            token.attrSet("id", next(ids))
    body = md.renderer.render(tokens, md.options, {})
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{GITHUB_CSS}</style>'
            f'</head><body><article class="markdown-body">{body}</article></body></html>')


def cards(text: str) -> dict[str, str]:
    """{"NN": the section "## NN · Title" up to the next "## " heading}."""
    found = {}
    for match in CARD_HEADING.finditer(text):
        end = text.find("\n## ", match.end())
        found[match.group(1)] = text[match.start():end if end != -1 else None]
    return found


def section(text: str, title: str) -> str:
    """The text under "## title", up to the next "## " heading."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]
