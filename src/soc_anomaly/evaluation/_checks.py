"""Input checks shared by the threshold rules and reports.

Each raises :class:`~soc_anomaly.errors.ParameterError` with one line naming
the value received and what was expected.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError, check_range


def plain(value: object) -> object:
    """``value`` without numpy's scalar wrapper, for messages (``2.5``, not ``np.float64(2.5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_number(name: str, value: object) -> float:
    """Return ``value`` as a float; reject bools, non-numbers, NaN and infinities."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise ParameterError(f"{name} must be a number, got {plain(value)!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {plain(value)!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    number = check_number(name, value)
    if number <= 0:
        raise ParameterError(f"{name} must be a positive number, got {plain(value)!r}")
    return number


def check_percentile(value: object, name: str = "percentile") -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise ParameterError(f"{name} must be a number in (0, 100), got {plain(value)!r}")
    shown = cast(float, plain(value))  # so that messages read 100, not np.float64(100.0)
    check_range(name, shown, 0.0, 100.0)
    return float(value)


def check_scores(name: str, scores: ArrayLike) -> np.ndarray:
    """1-D float copy of ``scores``; non-empty and finite."""
    try:
        s = np.asarray(scores, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be numbers, got {type(scores).__name__}; expected an array of scores"
        ) from None
    if s.size == 0:
        raise ParameterError(f"{name} is empty; expected at least one score")
    bad = ~np.isfinite(s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"{name} has {float(s[i])!r} at position {i}; expected finite numbers "
            f"({int(bad.sum())} non-finite value(s) in all)"
        )
    return s


def check_labelled(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """0/1 int labels and finite float scores of the same length."""
    s = check_scores("scores", scores)
    y = np.asarray(y_true).ravel()
    if y.size != s.size:
        raise ParameterError(
            f"y_true has {y.size} labels but scores has {s.size} values; "
            "expected one score per label"
        )
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"y_true has {plain(y[i])!r} at position {i}; expected 0 (normal) or 1 (anomaly)"
        )
    return y.astype(np.int64), s
