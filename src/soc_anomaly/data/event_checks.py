"""Bounds on what one event may hold, applied wherever events are read.

Event values are data an attacker can type (a user name at a login prompt, a
host name, a user agent) or forge (a flow record's byte counts). Every reader
(CSV, Parquet, JSON Lines and OCSF, :mod:`soc_anomaly.data.event_stream`)
applies :func:`bound_events` to each chunk, and so does every scoring call
(:func:`soc_anomaly.model.chunks.prepare_chunk`: the service and the Python
API), so the features never see:

- **long text**: a text value over :data:`MAX_TEXT_CHARS` (1,024) characters
  is cut to its first 1,024 characters and counted (the event is still scored;
  refusing it would let one typed name stop a whole run);
- **impossible counts**: in :data:`COUNT_COLUMNS`, a negative count or
  ``-inf`` becomes 0 and a count over :data:`MAX_COUNT` (10^12) or ``+inf``
  becomes 10^12, counted; text that is not a number is an error naming the
  event. A null (empty cell, JSON null, NaN) stays unknown;
- **impossible places**: a ``src_lat`` outside [-90, 90] or ``src_lon``
  outside [-180, 180] (or infinite) becomes unknown, counted;
- **impossible times**: a time before :data:`EARLIEST_TIME` (1970-01-01) or
  from :data:`END_OF_TIME` (2100-01-01) on is an error naming the event;
- **no account**: a null ``user`` is an error naming the event, except on a
  Network Activity event (``class_uid`` 4001) that names its source endpoint
  (``src_host`` or ``src_ip``): a flow log names no account, and its baselines
  are the source endpoint's (:mod:`soc_anomaly.features.entity_keys`). A flow
  with neither is an error naming the event.

:class:`InputNotes` counts what was changed, and says it in one line per kind.
:func:`check_header` refuses a header (or first JSON record) that names none of
the columns read, or a column that differs from one of them only in case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soc_anomaly.data.event_entities import check_entities
from soc_anomaly.errors import DataError

__all__ = [
    "COORDINATE_RANGES",
    "COUNT_COLUMNS",
    "EARLIEST_TIME",
    "END_OF_TIME",
    "MAX_COUNT",
    "MAX_TEXT_CHARS",
    "InputNotes",
    "bound_events",
    "check_header",
    "event_namer",
    "show_name",
    "show_value",
    "where_input",
]

#: Most characters of one text value; longer values are cut to this and counted.
MAX_TEXT_CHARS = 1024
#: Columns of counts (bytes, packets, milliseconds): clipped to [0, MAX_COUNT].
COUNT_COLUMNS: tuple[str, ...] = ("bytes_in", "bytes_out", "packets", "duration_ms")
#: Largest count kept (a terabyte per event); a day's window of them still fits in int64.
MAX_COUNT = 1e12
#: Columns of coordinates and their ranges; outside, the place is unknown.
COORDINATE_RANGES: dict[str, tuple[float, float]] = {
    "src_lat": (-90.0, 90.0),
    "src_lon": (-180.0, 180.0),
}
#: Earliest event time accepted.
EARLIEST_TIME = pd.Timestamp("1970-01-01", tz="UTC")
#: Event times from this one on are refused.
END_OF_TIME = pd.Timestamp("2100-01-01", tz="UTC")


def show_value(value: object, limit: int = 40) -> str:
    """``repr`` of a value for a one-line message, shortened to about ``limit`` characters."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class InputNotes:
    """What :func:`bound_events` changed in the events read, and where it first did.

    Attributes
    ----------
    truncated, clipped, unplaced : int
        Text values cut to :data:`MAX_TEXT_CHARS`, counts clipped to
        [0, :data:`MAX_COUNT`], coordinates out of range read as unknown.
    first_truncated, first_clipped, first_unplaced : str or None
        Where the first of each was, e.g. ``"event 6, user"``.
    """

    truncated: int = 0
    clipped: int = 0
    unplaced: int = 0
    first_truncated: str | None = None
    first_clipped: str | None = None
    first_unplaced: str | None = None
    # Position of each first within the chunk being checked: the earliest event wins.
    _at: dict[str, int] = field(default_factory=dict, repr=False)

    def _count(self, kind: str, mask: np.ndarray, label: Callable[[int], str]) -> None:
        """Count ``mask``'s events as ``kind``, naming the first by ``label(position)``."""
        i = int(np.flatnonzero(mask)[0])
        setattr(self, kind, getattr(self, kind) + int(mask.sum()))
        if i < self._at.get(kind, i + 1):
            self._at[kind] = i
            setattr(self, f"first_{kind}", label(i))

    def add(self, other: InputNotes) -> None:
        """Count ``other``'s changes too (``other`` comes later in the input)."""
        for kind in ("truncated", "clipped", "unplaced"):
            setattr(self, kind, getattr(self, kind) + getattr(other, kind))
            first = f"first_{kind}"
            if getattr(self, first) is None:
                setattr(self, first, getattr(other, first))

    def lines(self) -> list[str]:
        """One line per kind of change made (none when nothing was changed)."""
        out = []
        if self.truncated:
            out.append(
                f"cut {self.truncated:,} text value(s) longer than {MAX_TEXT_CHARS:,} characters "
                f"to their first {MAX_TEXT_CHARS:,} (first: {self.first_truncated})"
            )
        if self.clipped:
            out.append(
                f"clipped {self.clipped:,} negative, infinite or over-{MAX_COUNT:.0e} count(s) "
                f"to 0 or {MAX_COUNT:.0e} (first: {self.first_clipped})"
            )
        if self.unplaced:
            out.append(
                f"read {self.unplaced:,} coordinate(s) out of range as an unknown place "
                f"(first: {self.first_unplaced})"
            )
        return out


class _Where:
    """How the events of a chunk are named in messages: ``line N`` or ``event N``."""

    def __init__(self, first_row: int, lines: Sequence[int] | None) -> None:
        self.first_row = first_row
        self.lines = lines

    def __call__(self, position: int) -> str:
        if self.lines is not None:
            return f"line {self.lines[position]}"
        return f"event {self.first_row + position + 1}"


def event_namer(first_row: int = 0, lines: Sequence[int] | None = None) -> Callable[[int], str]:
    """How messages name the event at a position of a chunk: ``line N`` or ``event N``.

    ``line N`` when ``lines`` (each event's input line, JSON Lines) is given,
    else ``event N`` counted over the input from ``first_row`` (0-based).
    """
    return _Where(first_row, lines)


def bound_events(
    frame: pd.DataFrame, first_row: int = 0, lines: Sequence[int] | None = None
) -> tuple[pd.DataFrame, InputNotes]:
    """Events with long text cut, impossible counts clipped and places unknown; times checked.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw events (any columns; those named in the module notes are checked).
    first_row : int, default=0
        Position of the frame's first event in the whole input (0-based), so
        messages name ``event N`` counted over the input, not the chunk.
    lines : sequence of int, optional
        The input line of each event (JSON Lines): messages name ``line N``.

    Returns
    -------
    frame : pandas.DataFrame
        ``frame`` itself when nothing was changed, else a shallow copy with
        the changed columns replaced.
    notes : InputNotes
        What was changed.

    Raises
    ------
    soc_anomaly.errors.DataError
        On a time out of range, a null user (on a network event: without a
        source endpoint) or a count that is not a number, naming the event.
    """
    where = _Where(first_row, lines)
    notes = InputNotes()
    changed: dict[str, pd.Series] = {}
    if "time" in frame.columns:
        _check_times(frame["time"], where)
    if "user" in frame.columns or "class_uid" in frame.columns:
        # Raw events (a flow log may have no user column at all).
        check_entities(frame, where)
    for name in frame.columns:
        column = frame[name]
        if name in COUNT_COLUMNS:
            fixed = _clip_counts(column, str(name), where, notes)
        elif name in COORDINATE_RANGES:
            fixed = _place(column, str(name), where, notes)
        else:
            fixed = _cut_text(column, str(name), where, notes)
        if fixed is not None:
            changed[str(name)] = fixed
    if not changed:
        return frame, notes
    out = frame.copy(deep=False)
    for name, values in changed.items():
        out[name] = values
    return out, notes


def _check_times(times: pd.Series, where: _Where) -> None:
    if pd.api.types.is_datetime64_any_dtype(times):
        stamps = times if getattr(times.dt, "tz", None) is not None else times.dt.tz_localize("UTC")
        wild = ((stamps < EARLIEST_TIME) | (stamps >= END_OF_TIME)).to_numpy(dtype=bool)
    elif pd.api.types.is_integer_dtype(times) and not times.isna().any():
        ms = times.to_numpy(dtype=np.int64)
        wild = (ms < EARLIEST_TIME.value // 1_000_000) | (ms >= END_OF_TIME.value // 1_000_000)
    else:
        return  # text not parsed yet: the readers parse it, then come here
    if wild.any():
        i = int(np.flatnonzero(wild)[0])
        value = times.iloc[i]
        shown = value.isoformat() if isinstance(value, pd.Timestamp) else show_value(value)
        raise DataError(
            f"{where(i)}: time {shown} is out of range; expected times from "
            f"{EARLIEST_TIME:%Y-%m-%d} to before {END_OF_TIME:%Y-%m-%d}"
        )


def _numbers(column: pd.Series, name: str, where: _Where) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    coerced = pd.to_numeric(column, errors="coerce")
    bad = (coerced.isna() & column.notna()).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{where(i)}: {name} {show_value(column.iloc[i])} is not a number; expected a count"
        )
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


def _clip_counts(
    column: pd.Series, name: str, where: _Where, notes: InputNotes
) -> pd.Series | None:
    values = _numbers(column, name, where)
    with np.errstate(invalid="ignore"):
        wild = (values < 0) | (values > MAX_COUNT)
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if not wild.any():
        # Text that holds numbers (a CSV column with stray text) becomes numbers.
        return None if numeric else pd.Series(values, index=column.index, name=column.name)
    notes._count("clipped", wild, lambda i: f"{where(i)}, {name} {show_value(column.iloc[i])}")
    fixed = np.clip(values, 0.0, MAX_COUNT)  # NaN (unknown) stays NaN
    return pd.Series(fixed, index=column.index, name=column.name)


def _place(column: pd.Series, name: str, where: _Where, notes: InputNotes) -> pd.Series | None:
    low, high = COORDINATE_RANGES[name]
    try:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return None  # not numbers: the features name the column's type
    with np.errstate(invalid="ignore"):
        wild = (values < low) | (values > high)
    if not wild.any():
        return None
    notes._count("unplaced", wild, lambda i: f"{where(i)}, {name} {show_value(column.iloc[i])}")
    return pd.Series(np.where(wild, np.nan, values), index=column.index, name=column.name)


def _cut_text(column: pd.Series, name: str, where: _Where, notes: InputNotes) -> pd.Series | None:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if _longest(pd.Series(dtype.categories)) <= MAX_TEXT_CHARS:
            return None
        column = column.astype(object)
    elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return None
    elif _longest(column) <= MAX_TEXT_CHARS:
        return None
    lengths = np.fromiter(
        (len(v) if isinstance(v, str) else 0 for v in column), dtype=np.int64, count=len(column)
    )
    long = lengths > MAX_TEXT_CHARS
    if not long.any():
        return None
    notes._count("truncated", long, lambda i: f"{where(i)}, {name}")
    values = column.to_numpy(dtype=object, copy=True)
    values[long] = [v[:MAX_TEXT_CHARS] for v in values[long]]
    return pd.Series(values, index=column.index, name=column.name, dtype=column.dtype)


def _longest(column: pd.Series) -> int:
    """An upper bound of the longest text value, in characters (0 without text)."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        # Bytes are at least characters, and counting them is ten times faster.
        longest = pc.max(pc.binary_length(pa.array(column.array))).as_py()
        return int(longest or 0)
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "mixed", "mixed-integer"):
        return 0  # no text at all (e.g. booleans with nulls): no string is looked at
    return max((len(v) for v in values if isinstance(v, str)), default=0)


# --- headers: an input the model cannot read is an error, never no events ---------------------


def where_input(path: str) -> str:
    """An input as messages name it (``-``: standard input)."""
    return "standard input" if path == "-" else str(path)


def show_name(name: object, limit: int = 40) -> str:
    """A column name for a message: quoted if need be, shortened, on one line."""
    text = str(name)
    shown = text if text.isprintable() and text.strip() == text and text else repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _listed(names: Sequence[object], most: int = 12) -> str:
    shown = [show_name(n) for n in names[:most]]
    more = f", ... ({len(names):,} in all)" if len(names) > most else ""
    return (", ".join(shown) + more) if shown else "none"


def check_header(found: Sequence[object], wanted: Sequence[str], path: str) -> None:
    """Refuse a header that names none of ``wanted``, or a column that differs only in case.

    Parameters
    ----------
    found : sequence
        The input's column names (a CSV or Parquet header, a first JSON record's keys).
    wanted : sequence of str
        The columns a run reads.
    path : str
        The input, named in the message (``-``: standard input).

    Raises
    ------
    soc_anomaly.errors.DataError
        Naming the columns expected and found (both trimmed to a dozen).
    """
    wanted = list(dict.fromkeys(wanted))
    names = {str(n) for n in found}
    near = [
        (str(n), str(n).lower())
        for n in found
        if str(n) not in wanted and str(n).lower() in wanted and str(n).lower() not in names
    ]
    if near:
        name, meant = near[0]
        raise DataError(
            f"{where_input(path)}: column {show_name(name)} differs from {meant} only in case; "
            f"column names are case-sensitive (rename {len(near)} such column(s): "
            f"{_listed([n for n, _ in near])})"
        )
    if found and not names.intersection(wanted):
        raise DataError(
            f"{where_input(path)}: the header names none of the columns read (is it missing?); "
            f"expected {_listed(wanted)}; found {_listed(list(found))}"
        )
