"""Detectors: scikit-learn outlier estimators registered by name.

Each detector lives in its own module and is listed once in
:data:`soc_anomaly.detectors.registry.DETECTORS`; ``calibration`` maps any
detector's scores to a comparable 0-100 scale. Scores shown to users always
follow one convention, higher = more anomalous, applied in one place:
:func:`anomaly_scores`.

The names every command accepts are in :mod:`soc_anomaly.detectors.names`,
which imports nothing heavy. This package imports the estimators (and so
scikit-learn) only when one of the names below is first used, so that the
command line can read the names and answer ``-h`` without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soc_anomaly.detectors.base import (
        BaseDetector,
        anomaly_scores,
        training_anomaly_scores,
    )
    from soc_anomaly.detectors.calibration import ScoreCalibrator
    from soc_anomaly.detectors.names import DETECTOR_NAMES, cli_name, resolve_detector_name
    from soc_anomaly.detectors.registry import (
        DETECTORS,
        DetectorSpec,
        detector_for_rows,
        get_detector,
        parse_detector_names,
    )

# Public name -> the submodule that defines it.
_WHERE = {
    "BaseDetector": "base",
    "anomaly_scores": "base",
    "training_anomaly_scores": "base",
    "ScoreCalibrator": "calibration",
    "DETECTOR_NAMES": "names",
    "cli_name": "names",
    "resolve_detector_name": "names",
    "DETECTORS": "registry",
    "DetectorSpec": "registry",
    "detector_for_rows": "registry",
    "get_detector": "registry",
    "parse_detector_names": "registry",
}

__all__ = [
    "DETECTORS",
    "DETECTOR_NAMES",
    "BaseDetector",
    "DetectorSpec",
    "ScoreCalibrator",
    "anomaly_scores",
    "cli_name",
    "detector_for_rows",
    "get_detector",
    "parse_detector_names",
    "resolve_detector_name",
    "training_anomaly_scores",
]


def __getattr__(name: str) -> Any:
    # PEP 562: the submodule is imported on first use, then the name is cached
    # here so later look-ups are plain attribute reads.
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
