"""Calibrated 0-100 scores, comparable across detectors.

A raw anomaly score means nothing outside its detector: IsolationForest
scores live in (0, 1), a Mahalanobis distance is unbounded. The calibrated
score of an event is where its raw score falls in the distribution of the
detector's scores on the *normal training* events: 99 means "more anomalous
than 99% of normal traffic", whichever detector produced it. One threshold
(say 99) then means the same false-alarm rate for every detector, and an
ensemble can average, max or rank calibrated scores.

The map is strictly increasing, so calibration never changes a ranking:

* inside the training range it interpolates the empirical CDF, with the
  ``i``-th smallest of ``n`` training scores at ``100 * i / (n + 1)``;
* above the largest training score it approaches 100 exponentially, with the
  spread of the top 1% of training scores as the scale, so events beyond
  anything seen in training stay ordered instead of tying at 100;
* below the smallest it decays towards 0 the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError

__all__ = ["ScoreCalibrator"]


@dataclass
class ScoreCalibrator:
    """Maps raw anomaly scores (higher = more anomalous) to 0-100.

    Attributes
    ----------
    knots_ : numpy.ndarray
        Sorted distinct training scores.
    levels_ : numpy.ndarray
        Calibrated value at each knot, strictly increasing in (0, 100).
    scale_high_, scale_low_ : float
        Length scales of the tails beyond the training range.
    """

    knots_: np.ndarray | None = None
    levels_: np.ndarray | None = None
    scale_high_: float = 1.0
    scale_low_: float = 1.0

    def fit(self, train_scores: ArrayLike) -> ScoreCalibrator:
        """Learn the map from the anomaly scores of normal training events.

        Parameters
        ----------
        train_scores : array-like of shape (n,)
            Anomaly scores (higher = more anomalous) of normal events.

        Returns
        -------
        self
        """
        s = np.sort(np.asarray(train_scores, dtype=float).ravel())
        if s.size == 0 or not np.isfinite(s).all():
            raise ParameterError("calibration needs at least one finite training score")
        n = s.size
        knots, last = np.unique(s, return_index=False, return_counts=True)
        # Each distinct value sits at the mid-rank of its ties.
        upper = np.cumsum(last)
        mid = upper - (last - 1) / 2.0
        self.knots_ = knots
        self.levels_ = 100.0 * mid / (n + 1)
        spread = np.ptp(s)
        top = s[-1] - np.quantile(s, 0.99)
        bottom = np.quantile(s, 0.01) - s[0]
        fallback = spread if spread > 0 else max(abs(s[-1]), 1.0)
        self.scale_high_ = float(top if top > 0 else fallback)
        self.scale_low_ = float(bottom if bottom > 0 else fallback)
        return self

    def transform(self, scores: ArrayLike) -> np.ndarray:
        """Calibrated scores in [0, 100], increasing with the raw scores.

        Parameters
        ----------
        scores : array-like
            Anomaly scores from the same detector.

        Returns
        -------
        numpy.ndarray
            Same shape as ``scores``.
        """
        if self.knots_ is None or self.levels_ is None:
            raise ParameterError("the calibrator is not fitted; call fit() first")
        x = np.asarray(scores, dtype=float)
        knots, levels = self.knots_, self.levels_
        out = np.interp(x, knots, levels)
        hi = x > knots[-1]
        lo = x < knots[0]
        top_gap = 100.0 - levels[-1]
        out[hi] = 100.0 - top_gap * np.exp(-(x[hi] - knots[-1]) / self.scale_high_)
        out[lo] = levels[0] * np.exp(-(knots[0] - x[lo]) / self.scale_low_)
        return out
