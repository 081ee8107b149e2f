"""Tables that fit the console: wide ones are split by columns, never cut.

Rich shrinks a table wider than the console by wrapping and then truncating
its cells, which turned ``Recall`` into ``Re…`` and ``1.000`` into ``1.…`` in
an 80-column terminal. :func:`print_fitted` instead prints as many tables as
needed, each with the key columns (the row labels) and as many value columns
as fit, so every number is printed in full.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["SECTION", "Column", "natural_width", "print_fitted"]

#: A row that starts a new section (a horizontal rule) in :func:`print_fitted`.
SECTION: None = None


@dataclass(frozen=True)
class Column:
    """A column of :func:`print_fitted`: its header, alignment and whether it may wrap.

    Numbers never wrap; a column of names may (``wrap=True``), down to its
    longest word, before the table is split.
    """

    header: str
    justify: str = "right"
    wrap: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _cell_width(text: str, wrap: bool) -> int:
    """Narrowest a cell can be: its longest line, or its longest word when it may wrap."""
    plain = Text.from_markup(text).plain
    parts = plain.split() if wrap else plain.splitlines()
    return max((cell_len(p) for p in parts), default=0)


def natural_width(columns: Sequence[Column], rows: Sequence[Sequence[str] | None]) -> int:
    """Narrowest width of a table with heavy edges, one space of padding each side.

    Rich's own measurement lets a ``no_wrap`` column shrink to its longest
    word, then truncates it; this counts such a column whole.
    """
    widths = [_cell_width(c.header, c.wrap) for c in columns]
    for row in rows:
        if row is None:
            continue
        widths = [
            max(w, _cell_width(cell, c.wrap))
            for w, cell, c in zip(widths, row, columns, strict=True)
        ]
    return sum(widths) + 3 * len(columns) + 1


def wrap_header(text: str, width: int = 16) -> str:
    """A header broken into lines of at most ``width`` characters at spaces."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _table(
    title: str,
    keys: Sequence[Column],
    values: Sequence[Column],
    rows: Sequence[tuple[Sequence[str], Sequence[str]] | None],
    chosen: Sequence[int],
    caption: str | None,
) -> Table:
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for col in [*keys, *(values[i] for i in chosen)]:
        table.add_column(
            col.header,
            justify=col.justify,  # type: ignore[arg-type]
            no_wrap=not col.wrap,
            **col.options,
        )
    for row in rows:
        if row is SECTION:
            table.add_section()
            continue
        key_cells, value_cells = row
        table.add_row(*key_cells, *(value_cells[i] for i in chosen))
    return table


def print_fitted(
    console: Console,
    title: str,
    keys: Sequence[Column],
    values: Sequence[Column],
    rows: Sequence[tuple[Sequence[str], Sequence[str]] | None],
    caption: str | None = None,
) -> int:
    """Print a table, split by value columns into as many tables as fit the console.

    Parameters
    ----------
    console : rich.console.Console
        Where to print; its width is the limit.
    title : str
        Title of the table (parts get "(1 of 3)" and so on).
    keys : sequence of Column
        Columns repeated in every part (row labels).
    values : sequence of Column
        Columns shared out among the parts, in order.
    rows : sequence
        ``(key cells, value cells)`` per row, or :data:`SECTION` for a rule.
    caption : str, optional
        Printed under the last part.

    Returns
    -------
    int
        The number of tables printed.
    """
    width = console.width
    parts: list[list[int]] = []
    current: list[int] = []
    for i in range(len(values)):
        trial = [*current, i]
        columns = [*keys, *(values[j] for j in trial)]
        cells = [None if r is None else [*r[0], *(r[1][j] for j in trial)] for r in rows]
        if current and natural_width(columns, cells) > width:
            parts.append(current)
            current = [i]
        else:
            current = trial
    parts.append(current)
    for n, chosen in enumerate(parts, start=1):
        part_title = title if len(parts) == 1 else f"{title} ({n} of {len(parts)})"
        last = n == len(parts)
        table = _table(part_title, keys, values, rows, chosen, caption if last else None)
        # Titles and captions wrap at the console width even where text does not.
        console.print(table, soft_wrap=False)
    return len(parts)
