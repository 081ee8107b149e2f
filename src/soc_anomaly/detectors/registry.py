"""Detectors known by name.

Adding a detector is one new module with a :class:`~soc_anomaly.detectors.base.BaseDetector`
subclass, its names in :data:`soc_anomaly.detectors.names.DETECTOR_NAMES` (read by the
command line without importing scikit-learn), and one :class:`DetectorSpec` line here.
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
from soc_anomaly.detectors.markov import LSTMDetector, MarkovDetector
from soc_anomaly.detectors.names import (
    DETECTOR_NAMES,
    cli_name,
    parse_detector_names,
    resolve_detector_name,
)
from soc_anomaly.detectors.ocsvm import (
    OCSVM_APPROX_MAX_SAMPLES,
    OCSVM_EXACT_MAX_ROWS,
    OCSVMDetector,
)
from soc_anomaly.detectors.risk_score import (
    SOC_RISK_DIRECTIONS,
    SOC_RISK_WEIGHTS,
    RiskScoreDetector,
)

__all__ = [
    "DETECTORS",
    "DetectorSpec",
    "cli_name",
    "detector_for_rows",
    "get_detector",
    "parse_detector_names",
    "resolve_detector_name",
]


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
            DETECTOR_NAMES["iforest"],
            IForestDetector,
            lambda f, seed, names: {"contamination": f, "random_state": seed, "n_jobs": -1},
            "isolation forest, 200 trees",
        ),
        DetectorSpec(
            "ocsvm",
            DETECTOR_NAMES["ocsvm"],
            OCSVMDetector,
            lambda f, seed, names: {"nu": f, "contamination": f, "random_state": seed},
            "exact RBF one-class SVM (nu = anomaly fraction)",
        ),
        DetectorSpec(
            "ocsvm_approx",
            DETECTOR_NAMES["ocsvm_approx"],
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
            DETECTOR_NAMES["lof"],
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
            DETECTOR_NAMES["knn"],
            KNNDetector,
            lambda f, seed, names: _knn_params(f, seed),
            f"distance to the 5th nearest of at most {KNN_MAX_SAMPLES:,} reference rows",
        ),
        DetectorSpec(
            "mahalanobis",
            DETECTOR_NAMES["mahalanobis"],
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
            DETECTOR_NAMES["kmeans"],
            KMeansDetector,
            lambda f, seed, names: {"n_clusters": 8, "contamination": f, "random_state": seed},
            "distance to the nearest of 8 k-means centroids",
        ),
        DetectorSpec(
            "risk_score",
            DETECTOR_NAMES["risk_score"],
            RiskScoreDetector,
            lambda f, seed, names: {**_risk_params(names), "contamination": f},
            "weighted sum of robust z-scores in each feature's risky direction (seed 004)",
        ),
        DetectorSpec(
            "ensemble",
            DETECTOR_NAMES["ensemble"],
            EnsembleDetector,
            # Chosen by the campaigns the incident queue catches on the enterprise world at
            # seeds 44 and 45 (docs/detectors.md): the two best members, averaged.
            lambda f, seed, names: {
                "members": [
                    ("ocsvm", OCSVMDetector(nu=f, max_samples=OCSVM_APPROX_MAX_SAMPLES)),
                    ("knn", KNNDetector(**_knn_params(f, seed))),
                ],
                "method": "mean",
                "contamination": f,
                "random_state": seed,
            },
            "mean of the calibrated OneClassSVM (subsampled) and kNN-distance percentiles",
        ),
        DetectorSpec(
            "markov",
            DETECTOR_NAMES["markov"],
            MarkovDetector,
            lambda f, seed, names: {"feature_names": list(names), "contamination": f},
            "surprise of each action after the entity's last three (per-entity n-gram with "
            "back-off; entity features only)",
        ),
        DetectorSpec(
            "lstm",
            DETECTOR_NAMES["lstm"],
            LSTMDetector,
            lambda f, seed, names: {"feature_names": list(names), "contamination": f},
            "surprise and top-g rank of each action under a next-action LSTM over the entity's "
            "last eight (DeepLog-style; entity features only, needs the [deep] extra to train)",
        ),
    )
}


def _knn_params(f: float, seed: int | None) -> dict[str, Any]:
    """The registered kNN distance's parameters (also the ensemble's kNN member)."""
    return {
        "n_neighbors": 5,
        "method": "largest",
        "max_samples": KNN_MAX_SAMPLES,
        "algorithm": "brute",
        "contamination": f,
        "random_state": seed,
        "n_jobs": -1,
    }


def get_detector(name: str) -> DetectorSpec:
    """Return the registered detector called ``name``.

    Parameters
    ----------
    name : str
        A short name (``ocsvm_approx``) or a display name (``OneClassSVM (subsampled)``),
        in any case.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If no detector has that name; the message lists the short names.
    """
    return DETECTORS[resolve_detector_name(name)]


#: Detectors whose exact fit grows too slow above a number of training rows, and the
#: registered detector that replaces them there: ``name -> (cut-over, replacement)``.
#: Measured: the exact OneClassSVM took 234 s on the enterprise world's training half.
_SWAPS: dict[str, tuple[int, str]] = {"ocsvm": (OCSVM_EXACT_MAX_ROWS, "ocsvm_approx")}


def detector_for_rows(name: str, n_train: int) -> tuple[str, str | None]:
    """The detector to fit on ``n_train`` training rows, and why when it is not ``name``.

    Every command that fits a detector chosen by name (``detect``, ``train``) asks
    here, so the same name fits the same estimator everywhere and says so when it
    is swapped.

    Parameters
    ----------
    name : str
        A registered detector name (short or display).
    n_train : int
        Rows the detector will be fitted on.

    Returns
    -------
    name : str
        The short name to fit: ``name`` itself, or its faster replacement above
        its cut-over (``ocsvm`` -> ``ocsvm_approx`` above
        :data:`~soc_anomaly.detectors.ocsvm.OCSVM_EXACT_MAX_ROWS` rows).
    note : str or None
        One line saying what was swapped and why; None when nothing was.
    """
    short = resolve_detector_name(name)
    if short not in _SWAPS:
        return short, None
    cut_over, replacement = _SWAPS[short]
    if n_train <= cut_over:
        return short, None
    return replacement, (
        f"{short}: {n_train:,} training rows exceed the exact fit's cut-over of "
        f"{cut_over:,}; ran {replacement} ({DETECTOR_NAMES[replacement]}) instead"
    )
