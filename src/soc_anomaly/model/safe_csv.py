"""CSV and JSON text that a spreadsheet, a CSV parser and a terminal take as data.

Scored events carry values an attacker typed (a user name at a login prompt, a
user agent). Written as they are, three things go wrong:

- **formulas**: a spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or
  ``@`` (and, per OWASP's CSV injection guidance, a tab or carriage return
  there) as a formula. :func:`spreadsheet_cell` prefixes such a text value with
  a single quote ``'`` (OWASP's recommendation; spreadsheets show the rest as
  text). A text value that is a plain number (``-5``, ``+1.5e3``) is left
  alone: a spreadsheet reads it as that number, not as a formula. Numeric
  columns (the score, byte counts) are never touched.
- **terminal control**: NUL, ESC (ANSI colour and cursor sequences) and the
  other C0 controls except tab, line feed and carriage return, DEL, the C1
  controls (U+0080-U+009F) and the Unicode bidirectional overrides
  (U+202A-U+202E, U+2066-U+2069) are written as the six characters
  ``\\uXXXX`` (lower-case hex). A literal ``\\u001b`` typed in a value reads
  back the same: use the raw output when that matters.
- **forged rows**: a carriage return alone ends a row for most CSV readers,
  yet Python's ``csv`` module (which pandas writes with) does not quote it when
  rows end in ``\\n``. :func:`csv_text` quotes every text field of a chunk that
  holds one (``csv.QUOTE_NONNUMERIC``), so the value stays in its cell.

The raw mode (``score --raw-csv``) skips the first two and keeps the third:
values are written as they are, and the file still parses to the same rows.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

__all__ = [
    "FORMULA_STARTS",
    "csv_text",
    "escape_controls",
    "safe_json_text",
    "spreadsheet_cell",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Characters escaped as \uXXXX: C0 controls but tab, LF and CR; DEL and the C1
# controls; the bidirectional overrides and isolates (they reorder what a
# terminal or a spreadsheet shows).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A value a spreadsheet reads as a number: no formula, left as it is.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Anything a text value may need changed for: a control anywhere, or a
# formula character at the start of the value (the values are joined by
# newlines to search a whole column at once; a newline inside a value only
# makes a false hit, which the exact per-value pass then clears).
_SUSPECT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|^[=+\\-@\t\r]",
    re.MULTILINE,
)


def _u_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(text: str) -> str:
    """``text`` with terminal control characters written as ``\\uXXXX``.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The same text where NUL, ESC, the other C0 controls except tab, LF and
        CR, DEL, the C1 controls and the bidirectional overrides are replaced
        by the six characters ``\\uXXXX``.
    """
    return _CONTROLS.sub(_u_escape, text)


def spreadsheet_cell(text: str) -> str:
    """``text`` safe in a spreadsheet cell: controls escaped, a formula start quoted.

    Parameters
    ----------
    text : str
        A text value.

    Returns
    -------
    str
        :func:`escape_controls` of ``text``, prefixed with ``'`` when it starts
        with one of :data:`FORMULA_STARTS` and is not a plain number.

    Examples
    --------
    >>> spreadsheet_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> spreadsheet_cell("-12.5")
    '-12.5'
    """
    text = escape_controls(text)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _joined_text(values: np.ndarray) -> str:
    """The ``str`` values of an object array joined by newlines (others left out)."""
    try:
        return "\n".join(values)
    except TypeError:  # missing values, numbers or other objects among the text
        return "\n".join(v for v in values if isinstance(v, str))


def _text_column(col: pd.Series, raw: bool) -> tuple[pd.Series, bool]:
    """``col`` (its text values through :func:`spreadsheet_cell` unless ``raw``),
    and whether a value holds a carriage return.

    The column's text is joined and searched at once (in C) and rebuilt value
    by value only when something is found, so an ordinary column costs one join
    and one regex scan.
    """
    values = col.to_numpy(dtype=object)
    joined = _joined_text(values)
    if not raw and _SUSPECT.search(joined) is not None:
        values = np.array(
            [spreadsheet_cell(v) if isinstance(v, str) else v for v in values], dtype=object
        )
        col = pd.Series(values, index=col.index, name=col.name)
    # A carriage return survives escaping (it is kept, and quoted).
    return col, "\r" in joined


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)


def csv_text(frame: pd.DataFrame, *, header: bool, raw: bool = False) -> str:
    """One chunk of scored events as CSV text (rows end in ``\\n``).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to write.
    header : bool
        Write the column names first.
    raw : bool, default=False
        Write text values as they are. By default each text value (and column
        name) goes through :func:`spreadsheet_cell`.

    Returns
    -------
    str
        The CSV text. When a text value or column name holds a carriage
        return, every text field of the chunk is quoted, so that the value
        stays in its cell for every reader.
    """
    frame = frame.copy(deep=False)
    quote_all_text = False
    for i, (_, col) in enumerate(frame.items()):
        if _is_text(col):  # by position: column names need not be unique
            new, has_cr = _text_column(col, raw)
            quote_all_text = quote_all_text or has_cr
            if new is not col:
                frame.isetitem(i, new)
    if not raw:
        frame.columns = [_safe_name(c) for c in frame.columns]
    quote_all_text = quote_all_text or any(isinstance(c, str) and "\r" in c for c in frame.columns)
    return frame.to_csv(
        index=False,
        header=header,
        lineterminator="\n",
        quoting=csv.QUOTE_NONNUMERIC if quote_all_text else csv.QUOTE_MINIMAL,
    )


def _safe_name(name: object) -> object:
    return spreadsheet_cell(name) if isinstance(name, str) else name


def safe_json_text(text: str) -> str:
    """JSON text with :func:`escape_controls`' characters as JSON ``\\u`` escapes.

    JSON encoders escape the C0 controls but may leave DEL, the C1 controls and
    the bidirectional overrides raw, which a terminal then acts on. They can
    only occur inside JSON strings, where ``\\uXXXX`` is the same character,
    so the document decodes to the same values.
    """
    return _CONTROLS.sub(_u_escape, text)
