"""k-nearest-neighbour distance: anomalies lie far from every normal training event.

The score of an event is minus its distance to the training events: the
distance to the ``k``-th nearest one (``method="largest"``) or the mean
distance to the ``k`` nearest (``method="mean"``). Scoring costs one
neighbour query per event against the whole reference set, so large training
sets are capped with ``max_samples`` (see :data:`KNN_MAX_SAMPLES`).

A training row queried like a new event would find itself at distance 0 as
its first neighbour, which makes training rows look more normal than unseen
normal events. The training scores are therefore leave-one-out: each
reference row is scored against the other reference rows, and training rows
left out of the reference set are scored as new events (above 200,000
training rows, the reference rows' scores stand for all of them instead).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import BaseDetector, LeaveOneOutDetector, reference_subsample
from soc_anomaly.detectors.progress import advance, row_chunks

#: Reference rows the registered ``knn`` detector keeps. On 8 features with k=20,
#: brute-force scoring runs at ~12-20k rows/s on 2 cores against 20,000 rows
#: (~1.4k rows/s against 256,000), ROC AUC on shifted anomalies is the same as
#: with the full set, and a normal mode as rare as 0.2% of events keeps ~40
#: rows (2k) in the reference; at 10,000 it kept ~k and was flagged or not by
#: the luck of the subsample.
KNN_MAX_SAMPLES = 20_000


class KNNDetector(LeaveOneOutDetector):
    """Distance to the nearest training events behind the toolkit's detector API.

    Parameters
    ----------
    n_neighbors : int, default=5
        ``k``: neighbours the distance is taken over. Clamped to one less
        than the number of reference rows, so that the leave-one-out training
        scores still have ``k`` other rows to look at.
    method : {"largest", "mean"}, default="largest"
        ``"largest"``: distance to the ``k``-th nearest neighbour;
        ``"mean"``: mean distance to the ``k`` nearest.
    max_samples : int or None, default=None
        Keep at most this many randomly chosen training rows as the
        reference set; None keeps all of them.
    algorithm : {"auto", "kd_tree", "ball_tree", "brute"}, default="auto"
        Neighbour search of :class:`sklearn.neighbors.NearestNeighbors`
        (results do not depend on it, only speed).
    contamination : float in (0, 0.5], default=0.01
        Share of training rows (by leave-one-out score) ``predict`` calls
        outliers.
    random_state : int, RandomState instance or None, default=None
        Seed of the reference subsample.
    n_jobs : int or None, default=None
        Cores for the neighbour queries (results do not depend on it).

    Attributes
    ----------
    nn_ : sklearn.neighbors.NearestNeighbors
        Index over the reference rows.
    n_neighbors_ : int
        ``k`` actually used.
    n_fit_samples_ : int
        Rows in the reference set.
    reference_indices_ : numpy.ndarray or None
        Positions of the reference rows in the training set; None when every
        training row is one.
    train_scores_ : numpy.ndarray
        Leave-one-out scores of the training rows; above 200,000 training
        rows with a capped reference set, of the reference rows only (a
        uniform random sample of them), whose positions ``train_score_rows_``
        then holds (None otherwise).
    offset_ : float
        ``predict``'s threshold on ``score_samples``.

    Notes
    -----
    Like :class:`sklearn.neighbors.LocalOutlierFactor` with ``novelty=True``,
    this is a novelty detector: ``predict`` is meant for new events, and the
    training rows' labels are ``train_scores_ < offset_``. ``fit_predict`` is
    therefore not offered, as ``predict`` on the training rows themselves
    would count each row as its own neighbour.
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"largest", "mean"})],
        "max_samples": [Interval(Integral, 2, None, closed="left"), None],
        "algorithm": [StrOptions({"auto", "kd_tree", "ball_tree", "brute"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_neighbors: int = 5,
        method: str = "largest",
        max_samples: int | None = None,
        algorithm: str = "auto",
        contamination: float = DEFAULT_ANOMALY_FRACTION,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.method = method
        self.max_samples = max_samples
        self.algorithm = algorithm
        self.contamination = contamination
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X: np.ndarray) -> None:
        X, self.reference_indices_ = reference_subsample(X, self.max_samples, self.random_state)
        self.n_fit_samples_ = len(X)
        # Leave-one-out scoring needs k other rows besides the row itself.
        self.n_neighbors_ = min(self.n_neighbors, len(X) - 1)
        self.nn_ = NearestNeighbors(algorithm=self.algorithm, n_jobs=self.n_jobs).fit(X)

    def _reduce(self, distances: np.ndarray) -> np.ndarray:
        """Scores from each row's sorted neighbour distances (``k`` columns)."""
        if self.method == "largest":
            return -distances[:, -1]
        return -distances.mean(axis=1)

    def _distances(self, X: np.ndarray, n_neighbors: int) -> np.ndarray:
        """Sorted distances of each row to its nearest reference rows.

        In chunks, each reported as it finishes: a quarter of a million rows
        against the reference set take a minute or more.
        """
        distances = np.empty((len(X), n_neighbors), dtype=np.float64)
        for rows in row_chunks(len(X), self.n_fit_samples_):
            distances[rows], _ = self.nn_.kneighbors(X[rows], n_neighbors=n_neighbors)
            advance(rows.stop - rows.start)
        return distances

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._reduce(self._distances(X, self.n_neighbors_))

    def _train_scores(self, X: np.ndarray) -> np.ndarray:
        reference = X if self.reference_indices_ is None else X[self.reference_indices_]
        # k+1 neighbours of a reference row include the row itself at distance
        # 0 first. Dropping the first column removes one zero: with exact
        # duplicates it may be the twin instead of the row, but the remaining
        # distances are the same either way.
        distances = self._distances(reference, self.n_neighbors_ + 1)
        return self._with_unseen_rows(X, self._reduce(distances[:, 1:]))
