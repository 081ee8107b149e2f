"""Event times from a column, whatever form the export gave them.

:func:`parse_event_times` is the one place a column of event times is read:
for the events a day of the alert-budget rule and for the time of each alert.

The forms understood:

* datetimes (``datetime64``, with or without a time zone, or Python
  ``datetime`` objects): naive ones are taken as UTC;
* text: ISO 8601 (``2026-01-05T14:30:00Z``, ``2026-01-05 14:30:00+01:00``,
  ``2026-01-05``); text that is all numbers is read as the numbers below;
* numbers: Unix epoch **seconds or milliseconds**, decided for the whole
  column by the magnitude of its median absolute value. Below
  :data:`EPOCH_MS_FROM` (1e11) the numbers are seconds: that reaches the year
  5138, while 1e11 milliseconds is only 1973-03-03. From 1e11 to below
  :data:`EPOCH_TOO_LARGE` (1e14, the year 5138 in milliseconds) they are
  milliseconds. Anything larger would be micro- or nanoseconds, which an
  export of security events rarely holds and which pandas would silently take
  for nanoseconds by default; such a column is refused rather than guessed.
  Small numbers (seconds since the start of a capture) are fine: only
  elapsed time matters for events a day.

Missing values (empty cells, NaN, None) become ``NaT``; the caller decides
whether a missing time is acceptable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import DataError

__all__ = ["EPOCH_MS_FROM", "EPOCH_TOO_LARGE", "parse_event_times"]

#: Epoch numbers whose median magnitude is at least this are milliseconds, not seconds.
EPOCH_MS_FROM = 1e11
#: Epoch numbers whose median magnitude is at least this are refused (micro- or nanoseconds).
EPOCH_TOO_LARGE = 1e14


def _first_bad(raw: pd.Series, parsed: pd.Series) -> str:
    """The first value that is present but did not parse, for the error message."""
    bad = parsed.isna().to_numpy() & raw.notna().to_numpy()
    i = int(np.flatnonzero(bad)[0])
    return f"{raw.iloc[i]!r} at row {i + 1}"


def _from_epoch(numbers: pd.Series, column: str) -> pd.Series:
    finite = np.abs(numbers.to_numpy(dtype=float))
    finite = finite[~np.isnan(finite)]
    if not len(finite):
        return pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")
    magnitude = float(np.median(finite))
    if magnitude >= EPOCH_TOO_LARGE:
        raise DataError(
            f"column {column!r} holds numbers around {magnitude:.3g}, too large for epoch "
            f"seconds or milliseconds (micro- or nanoseconds?); expected epoch seconds (below "
            f"{EPOCH_MS_FROM:.0e}) or milliseconds (below {EPOCH_TOO_LARGE:.0e}), datetimes or "
            "ISO 8601 text"
        )
    unit = "s" if magnitude < EPOCH_MS_FROM else "ms"
    try:
        return pd.to_datetime(numbers, unit=unit, utc=True)
    except (OverflowError, ValueError) as exc:  # a stray huge value beyond pandas' range
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"column {column!r} holds a number out of range for epoch "
            f"{'seconds' if unit == 's' else 'milliseconds'} ({detail}); expected event times"
        ) from None


def _from_text(text: pd.Series, column: str) -> pd.Series:
    present = text.dropna()
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all():
        # A CSV column of epoch numbers that pandas kept as text (e.g. mixed with blanks).
        return _from_epoch(pd.to_numeric(text, errors="coerce"), column)
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    if (parsed.isna() & text.notna()).any():
        raise DataError(
            f"column {column!r} has a value that is not a time ({_first_bad(text, parsed)}); "
            "expected ISO 8601 text such as 2026-01-05T14:30:00Z, datetimes, or epoch "
            "seconds or milliseconds"
        )
    return parsed


def parse_event_times(values: pd.Series | ArrayLike, column: str) -> pd.Series:
    """Read a column of event times as UTC datetimes.

    Parameters
    ----------
    values : pandas.Series or array-like
        The column: datetimes (naive ones are taken as UTC), ISO 8601 text, or
        Unix epoch seconds or milliseconds (the unit decided by magnitude, see
        the module notes).
    column : str
        The column's name, for error messages.

    Returns
    -------
    pandas.Series
        UTC datetimes (``datetime64[..., UTC]``), one per value, ``NaT``
        where a value is missing; indexed like ``values`` when it is a Series.

    Raises
    ------
    soc_anomaly.errors.DataError
        In one line naming the column: booleans, text that is not a time
        (the first such value is shown), or numbers too large for epoch
        milliseconds.

    Examples
    --------
    >>> parse_event_times([1767623400, 1767627000], "ts").dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-01-05 14:30', '2026-01-05 15:30']
    >>> parse_event_times([1767623400000], "ts").iloc[0]
    Timestamp('2026-01-05 14:30:00+0000', tz='UTC')
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is None:
            return series.dt.tz_localize("UTC")
        return series.dt.tz_convert("UTC")
    if pd.api.types.is_bool_dtype(dtype):
        raise DataError(
            f"column {column!r} holds true/false values; expected event times (datetimes, "
            "ISO 8601 text, or epoch seconds or milliseconds)"
        )
    if pd.api.types.is_numeric_dtype(dtype):
        return _from_epoch(series.astype(float), column)
    if len(series.dropna()) == 0:
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    present = series.dropna()
    if all(isinstance(v, str) for v in present):
        return _from_text(series.astype(object), column)
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in present):
        # Numbers in an object column: still epoch numbers, never pandas' nanoseconds.
        return _from_epoch(pd.to_numeric(series, errors="coerce"), column)
    # Python datetime objects (or a mix pandas can still read as times).
    parsed = pd.to_datetime(series, utc=True, errors="coerce")
    if (parsed.isna() & series.notna()).any():
        raise DataError(
            f"column {column!r} has a value that is not a time ({_first_bad(series, parsed)}); "
            "expected datetimes, ISO 8601 text, or epoch seconds or milliseconds"
        )
    return parsed
