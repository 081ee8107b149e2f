"""The one vocabulary of detector names, importable without scikit-learn.

Every command takes the short names (``iforest``, ``ocsvm_approx``, ...); the
display names that tables and reports print (``OneClassSVM (subsampled)``) are
accepted too, in any case, so a name copied from a report can be passed back.
The command line builds its help from this module, which therefore imports
nothing heavy; :mod:`soc_anomaly.detectors.registry` attaches an estimator to
each name (a test checks that both list the same detectors in the same order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from soc_anomaly.errors import ParameterError

__all__ = [
    "DETECTOR_NAMES",
    "LSTM_DETECTORS",
    "SEQUENCE_DETECTORS",
    "cli_name",
    "detector_choices",
    "parse_detector_names",
    "resolve_detector_name",
]

#: Short name (what ``--detector`` takes) -> display name (what tables print),
#: in the registry's order.
DETECTOR_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "iforest": "IsolationForest",
        "ocsvm": "OneClassSVM",
        "ocsvm_approx": "OneClassSVM (subsampled)",
        "lof": "LocalOutlierFactor",
        "knn": "kNN distance",
        "mahalanobis": "Mahalanobis",
        "kmeans": "k-means distance",
        "risk_score": "Weighted risk score",
        "ensemble": "Calibrated ensemble",
        "markov": "Markov sequence",
        "lstm": "LSTM sequence",
    }
)

#: Detectors that read the entity features' action sequences (not any feature table).
SEQUENCE_DETECTORS: tuple[str, ...] = ("markov", "lstm")
#: Detectors whose entity features need the next-action LSTM (trained with PyTorch).
LSTM_DETECTORS: tuple[str, ...] = ("lstm",)

# A trailing "(entity)" or "(seed)": the feature set a report appends to a
# display name when a run compares detectors on several feature sets.
_FEATURE_SET_SUFFIX = re.compile(r"\s*\((?:entity|seed|table)\)\s*$", re.IGNORECASE)


def _key(text: str) -> str:
    # Case, runs of spaces and "-" versus "_" do not tell two detectors apart.
    return " ".join(text.replace("-", "_").split()).casefold()


_BY_KEY: Mapping[str, str] = MappingProxyType(
    {
        **{_key(display): short for short, display in DETECTOR_NAMES.items()},
        **{_key(short): short for short in DETECTOR_NAMES},
    }
)


def detector_choices() -> str:
    """The short names, comma-separated, for help texts and error messages."""
    return ", ".join(DETECTOR_NAMES)


def resolve_detector_name(text: str, *, what: str = "detector") -> str:
    """The short name of the detector called ``text``.

    Parameters
    ----------
    text : str
        A short name (``ocsvm_approx``) or a display name
        (``OneClassSVM (subsampled)``), in any case.
    what : str, default="detector"
        How the error message names the value (e.g. ``--detector``).

    Returns
    -------
    str
        The registered short name.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If no detector has that name; the message lists the short names.
    """
    short = _BY_KEY.get(_key(str(text)))
    if short is None:
        raise ParameterError(f"unknown {what} '{text}'; expected one of {detector_choices()}")
    return short


def cli_name(display_name: str) -> str | None:
    """The short name a user passes to ``--detector`` for a name a report printed.

    Parameters
    ----------
    display_name : str
        A display name as tables print it, optionally followed by the feature
        set in parentheses (``IsolationForest (entity)``); short names pass
        through.

    Returns
    -------
    str or None
        The short name (``OneClassSVM (subsampled)`` -> ``ocsvm_approx``), or
        None when the name is no registered detector.

    Examples
    --------
    >>> cli_name("OneClassSVM (subsampled) (entity)")
    'ocsvm_approx'
    """
    for candidate in (display_name, _FEATURE_SET_SUFFIX.sub("", display_name)):
        short = _BY_KEY.get(_key(candidate))
        if short is not None:
            return short
    return None


def parse_detector_names(text: str) -> tuple[str, ...]:
    """Short names from a comma-separated list; ``all`` means every registered detector
    (``lstm`` only where PyTorch is installed).

    Each name may be a short or a display name (see :func:`resolve_detector_name`);
    duplicates are dropped, the first occurrence keeping its place.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On an empty list or an unknown name (listing the known ones), or ``lstm``
        without PyTorch (saying how to install it).
    """
    from soc_anomaly.sequences.torch_check import require_torch, torch_available

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ParameterError(f"no detectors in {text!r}; expected names such as iforest,ocsvm")
    if [_key(n) for n in names] == ["all"]:
        return tuple(n for n in DETECTOR_NAMES if n not in LSTM_DETECTORS or torch_available())
    resolved = []
    for name in names:
        short = _BY_KEY.get(_key(name))
        if short is None:
            raise ParameterError(
                f"unknown detector '{name}'; expected one of {detector_choices()} "
                "(comma-separated), or 'all'"
            )
        resolved.append(short)
    if any(n in LSTM_DETECTORS for n in resolved):
        require_torch()
    return tuple(dict.fromkeys(resolved))
