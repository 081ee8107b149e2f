"""Detectors: scikit-learn outlier estimators registered by name.

Each detector lives in its own module and is listed once in
:data:`soc_anomaly.detectors.registry.DETECTORS`; ``calibration`` maps any
detector's scores to a comparable 0-100 scale. Scores shown to users always
follow one convention, higher = more anomalous, applied in one place:
:func:`anomaly_scores`.
"""

from soc_anomaly.detectors.base import BaseDetector, anomaly_scores, training_anomaly_scores
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.registry import (
    DETECTORS,
    DetectorSpec,
    get_detector,
    parse_detector_names,
)

__all__ = [
    "DETECTORS",
    "BaseDetector",
    "DetectorSpec",
    "ScoreCalibrator",
    "anomaly_scores",
    "get_detector",
    "parse_detector_names",
    "training_anomaly_scores",
]
