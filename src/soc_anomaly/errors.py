"""User-facing errors.

Every failure a user can cause (a bad file, a missing column, a bad flag)
raises :class:`SocAnomalyError` with one line that names the value received and
what was expected. The command line prints that line and exits with code 2;
the Python API lets it propagate. It subclasses :class:`ValueError` so callers
that already catch ``ValueError`` keep working.
"""

from __future__ import annotations


class SocAnomalyError(ValueError):
    """A problem with the user's input, described in one line."""


class DataError(SocAnomalyError):
    """A data file or table that cannot be used as it is."""


class ParameterError(SocAnomalyError):
    """A parameter outside its allowed range."""


class ModelError(SocAnomalyError):
    """A saved model that is missing, corrupt, altered, untrusted or incompatible."""


def check_range(
    name: str,
    value: float,
    low: float,
    high: float,
    *,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
) -> None:
    """Raise :class:`ParameterError` unless ``low < value < high``.

    Parameters
    ----------
    name : str
        Name shown to the user, e.g. ``"--threshold-percentile"``.
    value : float
        The value received.
    low, high : float
        Bounds of the allowed interval.
    low_inclusive, high_inclusive : bool, default=False
        Whether each bound itself is allowed.
    """
    ok_low = value >= low if low_inclusive else value > low
    ok_high = value <= high if high_inclusive else value < high
    # NaN fails both comparisons, so it is rejected here as well.
    if not (ok_low and ok_high):
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise ParameterError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value!r}")


def check_positive_int(name: str, value: int) -> None:
    """Raise :class:`ParameterError` unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")


def check_seed(name: str, value: int) -> None:
    """Raise :class:`ParameterError` unless ``value`` is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(f"{name} must be an integer >= 0, got {value!r}")
