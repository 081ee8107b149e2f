"""Mahalanobis distance: anomalies lie far from the centre of one Gaussian fit.

The normal training events are summarised by a location and a covariance;
an event's score is minus its squared Mahalanobis distance to them. The
covariance is the plain sample covariance (``method="empirical"``) or the
Minimum Covariance Determinant (``method="robust"``), which fits the densest
share of the rows and so is not dragged by outliers left in the training data.

A singular covariance (a constant column, fewer rows than features) is
handled by the pseudo-inverse both scikit-learn estimators use: directions
without training variance add nothing to the distance. Scoring is a matrix
product, linear in rows, so no subsampling is needed.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.covariance import EmpiricalCovariance, MinCovDet
from sklearn.utils._param_validation import Interval, StrOptions

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import BaseDetector


class MahalanobisDetector(BaseDetector):
    """Squared Mahalanobis distance behind the toolkit's detector API.

    Parameters
    ----------
    method : {"empirical", "robust"}, default="empirical"
        ``"empirical"``: :class:`sklearn.covariance.EmpiricalCovariance`;
        ``"robust"``: :class:`sklearn.covariance.MinCovDet`.
    support_fraction : float in (0, 1] or None, default=None
        Share of rows the robust fit keeps (``MinCovDet``'s meaning; None is
        its default, about half of them). Unused by ``"empirical"``.
    contamination : float in (0, 0.5], default=0.01
        Share of training rows ``predict`` calls outliers.
    random_state : int, RandomState instance or None, default=None
        Seed of the robust fit's random starts. Unused by ``"empirical"``.

    Attributes
    ----------
    covariance_estimator_ : EmpiricalCovariance or MinCovDet
        The fitted covariance model.
    train_scores_ : numpy.ndarray
        Scores of the training rows (of a seeded sample of 200,000 of them when
        there are more; ``train_score_rows_`` holds its positions).
    offset_ : float
        ``predict``'s threshold on ``score_samples``.

    Warns
    -----
    UserWarning
        When ``method="robust"`` finds the covariance of its support to be
        zero (over half the rows are one repeated point) and the empirical
        covariance is used instead.
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "method": [StrOptions({"empirical", "robust"})],
        "support_fraction": [Interval(Real, 0.0, 1.0, closed="right"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method: str = "empirical",
        support_fraction: float | None = None,
        contamination: float = DEFAULT_ANOMALY_FRACTION,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.method = method
        self.support_fraction = support_fraction
        self.contamination = contamination
        self.random_state = random_state

    def _fit(self, X: np.ndarray) -> None:
        if self.method == "robust":
            try:
                with warnings.catch_warnings():
                    # On near-constant columns (a login count that is almost
                    # always 1) many candidate subsets are singular and the
                    # C-steps warn once per subset; the minimum-determinant
                    # fit that comes out is still the one MCD defines.
                    warnings.filterwarnings(
                        "ignore", message="Determinant has increased", category=RuntimeWarning
                    )
                    self.covariance_estimator_ = MinCovDet(
                        support_fraction=self.support_fraction, random_state=self.random_state
                    ).fit(X)
                return
            except ValueError as exc:
                # X is already validated, so MinCovDet only refuses a support
                # whose covariance is zero: over half the rows are one point,
                # and every other event would be infinitely far. The sample
                # covariance still ranks events usefully.
                warnings.warn(
                    f"robust covariance failed ({exc}); using the empirical covariance",
                    UserWarning,
                    stacklevel=4,
                )
        self.covariance_estimator_ = EmpiricalCovariance().fit(X)

    def _score(self, X: np.ndarray) -> np.ndarray:
        # Both estimators' mahalanobis() already returns the squared distance.
        return -self.covariance_estimator_.mahalanobis(X)
