"""Checks that a table can be used for training and evaluation.

Each check raises :class:`~soc_anomaly.errors.DataError` with one line naming
the column, the first offending value and its data row (counted from 1, the
header excluded), and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError

__all__ = ["check_both_classes", "validate_dataset"]


def _show(value: object) -> str:
    """repr of a cell value without numpy's type wrapper (``2``, not ``np.int64(2)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _numeric_column(values: pd.Series, column: str, where: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(values):
        arr = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        coerced = pd.to_numeric(values, errors="coerce")
        bad = coerced.isna().to_numpy() & values.notna().to_numpy()
        if bad.any():
            i = _first_bad(bad)
            raise DataError(
                f"column '{column}'{where} must be numeric, found {_show(values.iloc[i])} "
                f"at data row {i + 1}"
            )
        arr = coerced.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(arr).any():
        i = _first_bad(np.isnan(arr))
        raise DataError(
            f"column '{column}'{where} has a missing value at data row {i + 1} "
            "(is the file truncated?); expected a finite number in every row"
        )
    if np.isinf(arr).any():
        i = _first_bad(np.isinf(arr))
        raise DataError(
            f"column '{column}'{where} has an infinite value at data row {i + 1}; "
            "expected finite numbers"
        )
    return arr


def validate_dataset(
    df: pd.DataFrame,
    feature_cols: Sequence[str],
    label_col: str | None,
    *,
    source: str | None = None,
) -> pd.DataFrame:
    """Check features and labels, and return a clean copy.

    Parameters
    ----------
    df : pandas.DataFrame
        The events.
    feature_cols : sequence of str
        Columns the detectors read; each must be present, numeric and finite.
    label_col : str or None
        Column of 0/1 labels (1 = anomaly), or None for unlabelled data.
    source : str, optional
        Where the table came from (a file name), named in messages.

    Returns
    -------
    pandas.DataFrame
        A copy whose feature columns are float64 and whose label is int64;
        other columns are kept as they are.

    Raises
    ------
    soc_anomaly.errors.DataError
        On a missing column, a non-numeric, missing or infinite value, a
        label other than 0/1, or an empty table.
    """
    where = f" in {source}" if source else ""
    if len(feature_cols) == 0:
        raise DataError("no feature columns given; expected at least one column name")
    if len(set(feature_cols)) != len(feature_cols):
        dupes = sorted({c for c in feature_cols if list(feature_cols).count(c) > 1})
        raise DataError(f"feature columns repeat {', '.join(dupes)}; expected each once")
    if df.columns.duplicated().any():
        dupes = sorted(set(df.columns[df.columns.duplicated()].astype(str)))
        raise DataError(f"the table{where} has duplicate columns {', '.join(dupes)}")
    required = [*feature_cols, *([label_col] if label_col is not None else [])]
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = [str(c) for c in df.columns]
        shown = ", ".join(found[:20]) + (f", ... ({len(found)} in all)" if len(found) > 20 else "")
        raise DataError(
            f"the table{where} is missing column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(required)} (found: {shown})"
        )
    if label_col is not None and label_col in feature_cols:
        raise DataError(f"label column '{label_col}' is also listed as a feature")
    if len(df) == 0:
        raise DataError(f"the table{where} has no rows; expected events")

    # A shallow copy: the checked columns are replaced below, the others are
    # shared, never written (copying every column of ten million events took
    # longer than the checks).
    out = df.copy(deep=False)
    for col in feature_cols:
        out[col] = _numeric_column(df[col], col, where)
    if label_col is not None:
        labels = _numeric_column(df[label_col], label_col, where)
        bad = (labels != 0) & (labels != 1)
        if bad.any():
            i = _first_bad(bad)
            raise DataError(
                f"label column '{label_col}'{where} must hold only 0 (normal) and 1 "
                f"(anomaly), found {_show(df[label_col].iloc[i])} at data row {i + 1}"
            )
        out[label_col] = labels.astype(np.int64)
    return out


def check_both_classes(y: np.ndarray, *, source: str | None = None) -> None:
    """Require at least one normal (0) and one anomalous (1) label.

    Parameters
    ----------
    y : numpy.ndarray
        Labels.
    source : str, optional
        Where the labels came from, named in the message.
    """
    where = f" in {source}" if source else ""
    n_anomalies = int(np.sum(y == 1))
    if n_anomalies == 0:
        raise DataError(
            f"the data{where} has no anomalies (label 1); evaluation needs both "
            "normal and anomalous events"
        )
    if n_anomalies == len(y):
        raise DataError(
            f"the data{where} has no normal events (label 0); detectors are trained "
            "on normal events only"
        )
