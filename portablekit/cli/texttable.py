"""Plain-text tables for a terminal: ``portablectl list``, the dry-run plan, the profile matrix,
and the two-column entries of the help texts.

>>> rows = [["NAME", "TYPE"], ["minimal", "directory"], ["webapp_2.1", "raw"]]
>>> print("\\n".join(format_table(rows)))
NAME       TYPE
minimal    directory
webapp_2.1 raw
>>> print(help_entry("list", "List available portable service images"))
  list                        List available portable service images
>>> print(help_entry("attach NAME|PATH [PREFIX...]", "Attach the specified image"))
  attach NAME|PATH [PREFIX...]
                              Attach the specified image
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table", "help_entry"]

#: Where the text of a help entry starts (as in portablectl's and systemctl's help).
HELP_COLUMN = 30


def format_table(rows: Sequence[Sequence[str]], min_width: int = 0) -> list[str]:
    """The rows as lines: each column padded to its widest cell (at least ``min_width``), one
    space between columns, the last column not padded (as portablectl prints its tables)."""
    if not rows:
        return []
    widths = [max(min_width, *(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    return [
        " ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)), r[-1]]) for r in rows
    ]


def help_entry(term: str, text: str) -> str:
    """``term`` indented by two, ``text`` at :data:`HELP_COLUMN` (on a line of its own when
    ``term`` leaves less than two spaces)."""
    head = f"  {term}"
    if len(head) + 2 <= HELP_COLUMN:
        return head.ljust(HELP_COLUMN) + text
    return head + "\n" + " " * HELP_COLUMN + text
