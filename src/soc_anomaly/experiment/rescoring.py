"""Scoring shuffled copies of one matrix by rescoring only the rows that changed.

The permutation importance shuffles one column at a time and asks the detector
to score the whole matrix again, once per feature and repeat (85 times on the
enterprise world's 28 entity features). Most entity features are zero for most
events, so a shuffle leaves most rows as they were (about 60% of them on the
enterprise world): their scores are known already. Every registered detector
scores each row on its own, so rescoring only the changed rows gives the same
scores in a fraction of the time; on a neighbour search, minutes less.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from soc_anomaly.detectors.base import OutlierEstimator
from soc_anomaly.detectors.progress import advance, count_rows

__all__ = ["ChangedRowsScorer"]


class ChangedRowsScorer:
    """An estimator's ``score_samples`` that rescores only rows that differ from ``X``.

    Parameters
    ----------
    estimator : OutlierEstimator
        A fitted detector whose score of a row does not depend on the other
        rows scored with it (every registered detector).
    X : numpy.ndarray of shape (n_samples, n_features)
        The matrix whose shuffled copies will be scored; it is scored once here.

    Notes
    -----
    Each call reports one step of progress (:func:`~soc_anomaly.detectors.progress.advance`),
    so a caller that counts the shuffles sees them. A matrix of another shape
    is scored in full.
    """

    def __init__(self, estimator: OutlierEstimator, X: np.ndarray) -> None:
        self.estimator = estimator
        self.X = X
        with count_rows(None, 0):
            self.base_scores = np.asarray(estimator.score_samples(X), dtype=np.float64)

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """``estimator.score_samples(X)``, rescoring only the rows unlike the base matrix."""
        X = np.asarray(X)
        # The caller counts calls; the rows a detector counts are not its business.
        with count_rows(None, 0):
            if X.shape != self.X.shape:
                scores = np.asarray(self.estimator.score_samples(X), dtype=np.float64)
            else:
                # NaN != NaN: a row holding one is rescored, which is only slower.
                changed = np.flatnonzero((X != self.X).any(axis=1))
                scores = self.base_scores.copy()
                if len(changed):
                    scores[changed] = self.estimator.score_samples(X[changed])
        advance(1)
        return scores
