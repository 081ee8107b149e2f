"""k-means distance: anomalies lie far from every cluster of normal events.

The normal training events are clustered with k-means; an event's score is
minus its Euclidean distance to the nearest centroid. Several normal modes
(working hours, night batch jobs, ...) each get a centroid, which a single
Gaussian (see :mod:`soc_anomaly.detectors.mahalanobis`) cannot represent.
Scoring costs ``n_clusters`` distances per event.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval, StrOptions

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import BaseDetector


class KMeansDetector(BaseDetector):
    """Distance to the nearest k-means centroid behind the toolkit's detector API.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of centroids; fewer (one per row) when the training set has
        fewer rows.
    n_init : "auto" or int, default="auto"
        Runs of k-means from different seeds, best kept (scikit-learn's
        meaning).
    contamination : float in (0, 0.5], default=0.01
        Share of training rows ``predict`` calls outliers.
    random_state : int, RandomState instance or None, default=None
        Seed of the centroid initialisation.

    Attributes
    ----------
    kmeans_ : sklearn.cluster.KMeans
        The fitted clustering.
    n_clusters_ : int
        Number of centroids actually fitted.
    train_scores_ : numpy.ndarray
        Scores of the training rows (of a seeded sample of 200,000 of them when
        there are more; ``train_score_rows_`` holds its positions).
    offset_ : float
        ``predict``'s threshold on ``score_samples``.
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        n_init: str | int = "auto",
        contamination: float = DEFAULT_ANOMALY_FRACTION,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.contamination = contamination
        self.random_state = random_state

    def _fit(self, X: np.ndarray) -> None:
        # KMeans refuses more clusters than rows; on a tiny training set every
        # row becomes its own centroid instead.
        self.n_clusters_ = min(self.n_clusters, len(X))
        self.kmeans_ = KMeans(
            n_clusters=self.n_clusters_, n_init=self.n_init, random_state=self.random_state
        ).fit(X)

    def _score(self, X: np.ndarray) -> np.ndarray:
        # transform() gives the Euclidean distance to every centroid.
        return -self.kmeans_.transform(X).min(axis=1)
