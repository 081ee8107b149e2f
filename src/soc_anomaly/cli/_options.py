"""Parsing shared by the commands' options (light: imported when the help is built)."""

from __future__ import annotations

from soc_anomaly.errors import ParameterError

__all__ = ["split_feature_cols"]


def split_feature_cols(text: str | None, flag: str = "--feature-cols") -> tuple[str, ...] | None:
    """Column names from ``--feature-cols a,b,c`` (or ``flag``); None when it is not given.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        When the value names no column (``--feature-cols ,``).
    """
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise ParameterError(f"{flag} {text!r} names no columns; expected a,b,c")
    return names
