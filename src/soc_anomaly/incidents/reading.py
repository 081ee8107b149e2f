"""How the linker reads a chunk: event times, column values, and a pause of the cyclic GC."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError

__all__ = ["column_values", "event_ms", "no_cyclic_gc"]


def event_ms(events: pd.DataFrame) -> np.ndarray:
    """Event times as int64 epoch milliseconds (UTC)."""
    if "time" not in events.columns:
        raise DataError("events have no 'time' column; expected each event's time")
    t = events["time"]
    if pd.api.types.is_datetime64_any_dtype(t.dtype):
        idx = pd.DatetimeIndex(t)
        idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
        return idx.as_unit("ms").asi8
    if pd.api.types.is_integer_dtype(t.dtype):
        return t.to_numpy(dtype=np.int64)
    raise DataError(f"time must be datetimes or epoch milliseconds, got dtype {t.dtype}")


def column_values(events: pd.DataFrame, column: str) -> list[Any]:
    """A column as Python values, None where absent or missing.

    pandas' NA (a nullable Int64, boolean or string column) has no truth value, so it
    must not reach the narrative's comparisons.
    """
    if column not in events.columns:
        return [None] * len(events)
    values = events[column].astype(object).to_numpy(copy=True)
    values[np.asarray(pd.isna(values), dtype=bool)] = None
    return values.tolist()


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk's candidates are linked.

    The loop allocates small dicts, lists and tuples by the hundred thousand and makes no
    reference cycles; with the collector on, its passes over a scoring process's large
    heap took 45% of the linking time (1.5M events: 2.5 s against 1.4 s).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
