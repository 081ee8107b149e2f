"""The ``time`` of events being scored, read value by value.

:func:`parse_times` is how every reader of events to score (CSV, Parquet,
JSON Lines, the service, the Python API) turns a ``time`` column into UTC
datetimes. Each value is read by its own kind, so an export that mixes forms
is read the same whichever chunk a value falls in:

* datetimes (naive ones are taken as UTC);
* numbers: Unix epoch **milliseconds** (a CSV column of digits is numbers);
* text of digits only (``"1767580000000"``): epoch milliseconds too, as the
  same digits in a CSV cell are; so ``"20260105"`` is a number, not a date;
* other text: ISO 8601 (``2026-01-05T14:30:00Z``, ``2026-01-05 14:30:00+01:00``).

Anything else (true/false, text that is not a time, a number that is no time
from 1970 to before 2100, a missing time) is an error naming the first such
event, ``event N`` (or ``line N`` for JSON Lines), never an earlier valid one.
A number is checked before it is converted, so a huge one (``1e300``) is
refused with that message, not with a numeric warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from soc_anomaly.data.event_checks import EARLIEST_TIME, END_OF_TIME, event_namer, show_value
from soc_anomaly.errors import DataError

__all__ = ["bad_times", "parse_times"]

_EXPECTED = (
    "expected ISO 8601 text such as 2026-01-05T14:30:00Z, or epoch milliseconds "
    "(a number or digits)"
)
_RANGE = f"expected times from {EARLIEST_TIME:%Y-%m-%d} to before {END_OF_TIME:%Y-%m-%d}"
_LOW_MS = EARLIEST_TIME.value // 1_000_000
_HIGH_MS = END_OF_TIME.value // 1_000_000
# Where every part of a mixed column is gathered: microseconds keep ISO text's
# precision and reach far past the years accepted.
_MIXED_DTYPE = "datetime64[us, UTC]"

# Problems of one value, in the order of the message table below.
_OK, _MISSING, _NOT_TIME, _RANGE_MS, _RANGE_TIME = range(5)


def _message(problem: int, where: str, value: object, parsed: object = None) -> str:
    if problem == _MISSING:
        return f"{where} has no time; expected a time on every event"
    if problem == _NOT_TIME:
        return f"{where}: time {show_value(value)} is not a time; {_EXPECTED}"
    if problem == _RANGE_MS:
        return f"{where}: time {show_value(value)} is out of range as epoch milliseconds; {_RANGE}"
    # A time read but out of range is shown as read (as the readers' bounds show it).
    shown = parsed.isoformat() if isinstance(parsed, pd.Timestamp) else show_value(value)
    return f"{where}: time {shown} is out of range; {_RANGE}"


def _from_ms(ms: np.ndarray, problems: np.ndarray) -> pd.DatetimeIndex:
    """Epoch milliseconds as UTC datetimes; those out of range marked in ``problems``."""
    with np.errstate(invalid="ignore"):
        # Checked before any conversion: 1e300 or inf never reaches pandas' cast.
        wild = ~np.isnan(ms) & ~((ms >= _LOW_MS) & (ms < _HIGH_MS))
    problems[wild & (problems == _OK)] = _RANGE_MS
    kept = np.where(wild, np.nan, ms)
    return pd.to_datetime(kept, unit="ms", utc=True)


def _digits(text: pd.Series) -> np.ndarray:
    """Which values of a column of text (with nulls) are digits only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow's kernel, not a regular expression: the common column of ISO text costs little.
    as_text = pa.array(text.astype(pd.StringDtype("pyarrow")).array)
    return pc.utf8_is_digit(as_text).fill_null(False).to_numpy(zero_copy_only=False)


def _kinds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of numbers, text and datetimes in a column of mixed objects (the rest: not times)."""
    n = len(values)
    real = int | float | np.number
    number = np.fromiter(
        (isinstance(v, real) and not isinstance(v, bool | np.bool_) for v in values),
        dtype=bool,
        count=n,
    )
    text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=n)
    stamp = np.fromiter(
        (isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo") for v in values),
        dtype=bool,
        count=n,
    )
    return number, text & ~number, stamp & ~number & ~text


def _parse(times: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """UTC datetimes of ``times`` and each value's problem code (:data:`_OK` if none)."""
    n = len(times)
    problems = np.zeros(n, dtype=np.int8)
    if is_datetime64_any_dtype(times):
        parsed = times if getattr(times.dt, "tz", None) is not None else times.dt.tz_localize("UTC")
    elif is_bool_dtype(times):
        parsed = pd.Series(pd.NaT, index=times.index, dtype=_MIXED_DTYPE)
        problems[:] = _NOT_TIME
    elif is_numeric_dtype(times):
        ms = times.to_numpy(dtype=np.float64, na_value=np.nan)
        parsed = pd.Series(_from_ms(ms, problems), index=times.index)
    else:
        parsed = _parse_objects(times, problems)
    gone = parsed.isna().to_numpy(dtype=bool) & (problems == _OK)
    problems[gone & times.isna().to_numpy(dtype=bool)] = _MISSING
    problems[gone & (problems == _OK)] = _NOT_TIME
    if not is_numeric_dtype(times) or is_datetime64_any_dtype(times):
        # Datetimes and ISO text can name any year: out of the range accepted, say so here
        # (the readers' bounds say it too; this keeps the earliest problem first).
        wild = parsed.notna() & ((parsed < EARLIEST_TIME) | (parsed >= END_OF_TIME))
        problems[wild.to_numpy(dtype=bool) & (problems == _OK)] = _RANGE_TIME
    return parsed, problems


def _parse_objects(times: pd.Series, problems: np.ndarray) -> pd.Series:
    """Times of a text or mixed column: each value read by its own kind."""
    present = times.notna().to_numpy(dtype=bool)
    kind = pd.api.types.infer_dtype(times, skipna=True)
    if kind == "string":  # the common case: no value is looked at in Python
        number, text = _digits(times) & present, present.copy()
        stamp = np.zeros(len(times), dtype=bool)
    elif kind == "empty":
        return pd.Series(pd.NaT, index=times.index, dtype=_MIXED_DTYPE)
    else:
        values = times.to_numpy(dtype=object)
        number, text, stamp = _kinds(values)
        number &= present
        text &= present
        stamp &= present
        problems[present & ~(number | text | stamp)] = _NOT_TIME
        number |= text & _digits(times)
    text &= ~number
    if not number.any() and not stamp.any():
        parsed = pd.to_datetime(times.where(text), utc=True, format="ISO8601", errors="coerce")
        return pd.Series(parsed, index=times.index)
    out = pd.Series(pd.NaT, index=times.index, dtype=_MIXED_DTYPE)
    if number.any():
        ms = pd.to_numeric(times[number].astype(str), errors="coerce")
        sub = np.zeros(int(number.sum()), dtype=np.int8)
        out[number] = _from_ms(ms.to_numpy(dtype=np.float64), sub).astype(_MIXED_DTYPE)
        problems[np.flatnonzero(number)[sub != _OK]] = _RANGE_MS
    if text.any():
        iso = pd.to_datetime(times[text], utc=True, format="ISO8601", errors="coerce")
        out[text] = iso.astype(_MIXED_DTYPE)
    if stamp.any():
        out[stamp] = pd.to_datetime(times[stamp], utc=True, errors="coerce").astype(_MIXED_DTYPE)
    return out


def bad_times(times: pd.Series) -> tuple[pd.Series, np.ndarray, list[str]]:
    """UTC datetimes of ``times``, which values are no time, and why (by position).

    For a reader that skips such events (JSON Lines with ``on_error="skip"``).

    Returns
    -------
    parsed : pandas.Series
        UTC datetimes, ``NaT`` where a value is no time.
    bad : numpy.ndarray of bool
        The values that are missing, not times, or out of range.
    reasons : list of str
        For each bad value in order, the message (with ``{where}`` to fill).
    """
    parsed, problems = _parse(times)
    bad = problems != _OK
    reasons = [
        _message(int(problems[i]), "{where}", times.iloc[i], parsed.iloc[i])
        for i in np.flatnonzero(bad)
    ]
    return parsed, bad, reasons


def parse_times(
    frame: pd.DataFrame, first_row: int = 0, lines: Sequence[int] | None = None
) -> pd.DataFrame:
    """Make ``frame``'s ``time`` column UTC datetimes, each value read by its own kind.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events; its ``time`` column is replaced in place (a frame without one
        is returned as is).
    first_row : int, default=0
        Position of the frame's first event in the input (0-based), so
        messages name ``event N`` counted over the input.
    lines : sequence of int, optional
        The input line of each event (JSON Lines): messages name ``line N``.

    Returns
    -------
    pandas.DataFrame
        ``frame``.

    Raises
    ------
    soc_anomaly.errors.DataError
        Naming the first event whose time is missing, not a time (see the
        module notes for the forms read) or out of range.

    Examples
    --------
    >>> mixed = pd.DataFrame({"time": ["2026-01-05T14:30:00Z", 1767627000000, "1767630600000"]})
    >>> parse_times(mixed)["time"].dt.strftime("%H:%M").tolist()
    ['14:30', '15:30', '16:30']
    """
    if "time" not in frame.columns:
        return frame
    times = frame["time"]
    parsed, problems = _parse(times)
    if (problems != _OK).any():
        i = int(np.flatnonzero(problems != _OK)[0])
        where = event_namer(first_row, lines)(i)
        raise DataError(_message(int(problems[i]), where, times.iloc[i], parsed.iloc[i]))
    frame["time"] = parsed
    return frame
