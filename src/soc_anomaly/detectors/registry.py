"""Detectors known by name.

Adding a detector is one new module with a :class:`~soc_anomaly.detectors.base.BaseDetector`
subclass plus one :class:`DetectorSpec` line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from soc_anomaly.data.schema import FEATURE_COLS
from soc_anomaly.detectors.base import BaseDetector
from soc_anomaly.detectors.ensemble import EnsembleDetector
from soc_anomaly.detectors.iforest import IForestDetector
from soc_anomaly.detectors.kmeans import KMeansDetector
from soc_anomaly.detectors.knn import KNN_MAX_SAMPLES, KNNDetector
from soc_anomaly.detectors.lof import LOF_MAX_SAMPLES, LOFDetector
from soc_anomaly.detectors.mahalanobis import MahalanobisDetector
from soc_anomaly.detectors.ocsvm import OCSVM_APPROX_MAX_SAMPLES, OCSVMDetector
from soc_anomaly.detectors.risk_score import (
    SOC_RISK_DIRECTIONS,
    SOC_RISK_WEIGHTS,
    RiskScoreDetector,
)
from soc_anomaly.errors import ParameterError

__all__ = ["DETECTORS", "DetectorSpec", "get_detector", "parse_detector_names"]


@dataclass(frozen=True)
class DetectorSpec:
    """A registered detector.

    Attributes
    ----------
    name : str
        Short name used on the command line (``iforest``).
    display_name : str
        Name shown in tables and plots (``IsolationForest``).
    cls : type
        The estimator class.
    defaults : callable
        ``defaults(anomaly_fraction, random_state, feature_names)`` returns the
        parameters the pipeline uses for data with those feature columns.
    description : str
        One line for ``--help`` and the README.
    """

    name: str
    display_name: str
    cls: type[BaseDetector]
    defaults: Callable[[float, int, Sequence[str]], dict[str, Any]] = field(repr=False)
    description: str = ""

    def build(
        self,
        anomaly_fraction: float,
        random_state: int,
        feature_names: Sequence[str] = FEATURE_COLS,
        **overrides: Any,
    ) -> BaseDetector:
        """An unfitted detector with the pipeline's defaults, updated by ``overrides``.

        Parameters
        ----------
        anomaly_fraction : float
            Expected anomaly share (``contamination``, OneClassSVM's ``nu``).
        random_state : int
            Seed of detectors that draw random numbers.
        feature_names : sequence of str
            Names of the columns the detector will see, in order.
        **overrides
            Parameters that replace the defaults.
        """
        defaults = self.defaults(anomaly_fraction, random_state, list(feature_names))
        return self.cls(**{**defaults, **overrides})


def _risk_params(names: Sequence[str]) -> dict[str, Any]:
    """The SOC weights on the toolkit's event features; equal weights on other data."""
    if set(SOC_RISK_WEIGHTS) <= set(names):
        return {
            "weights": dict(SOC_RISK_WEIGHTS),
            "directions": dict(SOC_RISK_DIRECTIONS),
            "feature_names": list(names),
        }
    return {"weights": None, "directions": None, "feature_names": list(names)}


DETECTORS: dict[str, DetectorSpec] = {
    spec.name: spec
    for spec in (
        DetectorSpec(
            "iforest",
            "IsolationForest",
            IForestDetector,
            lambda f, seed, names: {"contamination": f, "random_state": seed, "n_jobs": -1},
            "isolation forest, 200 trees",
        ),
        DetectorSpec(
            "ocsvm",
            "OneClassSVM",
            OCSVMDetector,
            lambda f, seed, names: {"nu": f, "contamination": f, "random_state": seed},
            "exact RBF one-class SVM (nu = anomaly fraction)",
        ),
        DetectorSpec(
            "ocsvm_approx",
            "OneClassSVM (subsampled)",
            OCSVMDetector,
            lambda f, seed, names: {
                "nu": f,
                "contamination": f,
                "random_state": seed,
                "max_samples": OCSVM_APPROX_MAX_SAMPLES,
            },
            f"exact RBF one-class SVM fitted on {OCSVM_APPROX_MAX_SAMPLES:,} random training rows",
        ),
        DetectorSpec(
            "lof",
            "LocalOutlierFactor",
            LOFDetector,
            lambda f, seed, names: {
                "n_neighbors": 20,
                "max_samples": LOF_MAX_SAMPLES,
                # Brute force beat the trees at every capped reference size (measured).
                "algorithm": "brute",
                "contamination": f,
                "random_state": seed,
                "n_jobs": -1,
            },
            f"local outlier factor (20 neighbours, novelty mode) against at most "
            f"{LOF_MAX_SAMPLES:,} reference rows",
        ),
        DetectorSpec(
            "knn",
            "kNN distance",
            KNNDetector,
            lambda f, seed, names: {
                "n_neighbors": 5,
                "method": "largest",
                "max_samples": KNN_MAX_SAMPLES,
                "algorithm": "brute",
                "contamination": f,
                "random_state": seed,
                "n_jobs": -1,
            },
            f"distance to the 5th nearest of at most {KNN_MAX_SAMPLES:,} reference rows",
        ),
        DetectorSpec(
            "mahalanobis",
            "Mahalanobis",
            MahalanobisDetector,
            # Training rows are normal only: nothing to be robust against, and MCD's
            # distances blow up on near-constant columns (measured: AP 0.978 vs 1.000).
            lambda f, seed, names: {
                "method": "empirical",
                "contamination": f,
                "random_state": seed,
            },
            "squared Mahalanobis distance under the sample covariance; "
            "method='robust' for MinCovDet",
        ),
        DetectorSpec(
            "kmeans",
            "k-means distance",
            KMeansDetector,
            lambda f, seed, names: {"n_clusters": 8, "contamination": f, "random_state": seed},
            "distance to the nearest of 8 k-means centroids",
        ),
        DetectorSpec(
            "risk_score",
            "Weighted risk score",
            RiskScoreDetector,
            lambda f, seed, names: {**_risk_params(names), "contamination": f},
            "weighted sum of robust z-scores in each feature's risky direction (seed 004)",
        ),
        DetectorSpec(
            "ensemble",
            "Calibrated ensemble",
            EnsembleDetector,
            lambda f, seed, names: {
                "members": [
                    ("iforest", IForestDetector(n_estimators=100, n_jobs=-1)),
                    ("ocsvm", OCSVMDetector(nu=f, max_samples=OCSVM_APPROX_MAX_SAMPLES)),
                    ("risk_score", RiskScoreDetector(**_risk_params(names))),
                ],
                "method": "mean",
                "contamination": f,
                "random_state": seed,
            },
            "mean of the calibrated IsolationForest, OneClassSVM and risk-score percentiles",
        ),
    )
}


def get_detector(name: str) -> DetectorSpec:
    """Return the registered detector called ``name``.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If no detector has that name; the message lists the known ones.
    """
    try:
        return DETECTORS[name]
    except KeyError:
        raise ParameterError(
            f"unknown detector '{name}'; expected one of {', '.join(DETECTORS)} (or 'all')"
        ) from None


def parse_detector_names(text: str) -> tuple[str, ...]:
    """Names from a comma-separated list; ``all`` means every registered detector.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On an empty list or an unknown name (listing the known ones).
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ParameterError(f"no detectors in {text!r}; expected names such as iforest,ocsvm")
    if names == ["all"]:
        return tuple(DETECTORS)
    for name in names:
        get_detector(name)
    return tuple(dict.fromkeys(names))
