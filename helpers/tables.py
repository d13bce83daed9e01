"""Text tables for ``print``: the statistics of a run, and the lessons' measurements.

    >>> print(text_table(["lane", "ms"], [["cpu-1", "12.5"], ["io-1", "3.0"]]))
    lane     ms
    cpu-1  12.5
    io-1    3.0
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["text_table"]


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]], *, gap: int = 2,
               left: int = 1) -> str:  # fmt: skip
    """Columns as wide as their widest cell; the first ``left`` columns flush left (names),
    the rest flush right (numbers); ``gap`` spaces between columns."""
    table = [list(map(str, head)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = [(" " * gap).join(c.ljust(w) if i < left else c.rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
             for r in table]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)
