"""The shared estimator machinery and the one place where the score sign is flipped.

Every detector is a scikit-learn outlier estimator: ``__init__`` only stores
parameters, allowed values are declared once in ``_parameter_constraints`` and
checked in ``fit``, fitted state ends in ``_``, scoring never writes to
``self``, and input goes through scikit-learn's validation. Internally a
detector keeps scikit-learn's convention (``score_samples`` is *higher for
normal* events) so it stays a drop-in estimator; every score a user sees is
the negation, taken in :func:`anomaly_scores` and nowhere else.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Real
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "BaseDetector",
    "LeaveOneOutDetector",
    "OutlierEstimator",
    "anomaly_scores",
    "reference_subsample",
]


class OutlierEstimator(Protocol):
    """What the toolkit needs of a detector: scikit-learn's outlier API."""

    def fit(self, X: ArrayLike, y: object = None) -> OutlierEstimator: ...

    def score_samples(self, X: ArrayLike) -> np.ndarray: ...


def anomaly_scores(estimator: OutlierEstimator, X: ArrayLike) -> np.ndarray:
    """Score events so that higher means more anomalous.

    Parameters
    ----------
    estimator : OutlierEstimator
        A fitted detector (any scikit-learn outlier estimator).
    X : array-like of shape (n_samples, n_features)
        Events, scaled as the detector was trained.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        Anomaly scores, higher = more anomalous.
    """
    # Adding 0.0 turns the -0.0 of a negated zero into 0.0 for display.
    return -np.asarray(estimator.score_samples(X), dtype=float) + 0.0


#: Rows per block when scoring in threads (large enough to amortise each call's overhead).
SCORE_BLOCK_ROWS = 65_536


def block_anomaly_scores(
    estimator: OutlierEstimator,
    X: np.ndarray,
    n_jobs: int | None = None,
    *,
    core_free: threading.Event | None = None,
) -> np.ndarray:
    """:func:`anomaly_scores` of row blocks in ``n_jobs`` threads (all cores if None).

    Detectors score rows independently and read-only, and their compiled loops
    (tree traversal, distances) release the GIL: the same numbers in about
    ``1 / n_jobs`` of the time.

    Parameters
    ----------
    estimator : OutlierEstimator
        A fitted detector.
    X : numpy.ndarray of shape (n_samples, n_features)
        Scaled events.
    n_jobs : int or None, default=None
        Threads; None for one per core.
    core_free : threading.Event or None, default=None
        Set when the other cores are free. Until then only one thread scores:
        a stream featurises its next chunk meanwhile, and a second scoring
        thread would only take that work's core.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        Anomaly scores, higher = more anomalous; the same whatever the threads.
    """
    n_jobs = n_jobs or os.cpu_count() or 1
    blocks = -(-len(X) // SCORE_BLOCK_ROWS)
    workers = min(n_jobs, blocks)
    if workers <= 1:
        return anomaly_scores(estimator, X)
    out = np.empty(len(X))
    taken = itertools.count()  # next() on a count is atomic: each block is scored once
    finished = threading.Event()

    def work(first: bool) -> None:
        try:
            if not first and core_free is not None:
                while not core_free.wait(0.02):
                    if finished.is_set():
                        return
            while (i := next(taken)) < blocks:
                rows = slice(i * SCORE_BLOCK_ROWS, (i + 1) * SCORE_BLOCK_ROWS)
                out[rows] = anomaly_scores(estimator, X[rows])
        finally:
            # No blocks left (or one failed): a thread still waiting for a core stops.
            finished.set()

    with ThreadPoolExecutor(workers) as pool:
        # Each thread runs in a copy of the caller's context, so the progress
        # the caller asked for (detectors.progress) is told from every thread.
        threads = [
            pool.submit(contextvars.copy_context().run, work, k == 0) for k in range(workers)
        ]
        for done in threads:
            done.result()
    return out


def training_anomaly_scores(estimator: OutlierEstimator, X: ArrayLike) -> np.ndarray:
    """Anomaly scores of the rows a detector was fitted on, higher = more anomalous.

    Detectors that would score a training row against itself (neighbour
    methods) keep leave-one-out scores from ``fit`` in ``train_scores_``;
    those are used when present, so thresholds and calibration set on
    training rows match what unseen normal events will score. A detector fitted
    on more than :data:`MAX_TRAIN_SCORE_ROWS` rows kept the scores of a seeded
    sample of them (``train_score_rows_``), which are returned instead.
    """
    kept = kept_training_scores(estimator, len(X))
    return kept if kept is not None else anomaly_scores(estimator, X)


def kept_training_scores(estimator: OutlierEstimator, n_rows: int) -> np.ndarray | None:
    """The training scores ``fit`` kept (higher = more anomalous), or None.

    They stand for the ``n_rows`` training rows when they are one per row
    (leave-one-out for neighbour methods) or a sample of a large training set
    (``train_score_rows_``); otherwise the rows must be scored.
    """
    train = getattr(estimator, "train_scores_", None)
    sampled = getattr(estimator, "train_score_rows_", None) is not None
    if train is not None and (len(train) == n_rows or sampled):
        return -np.asarray(train, dtype=float) + 0.0
    return None


#: Training rows a detector scores for ``offset_`` and ``train_scores_``; above
#: this, a seeded sample of this many (the rows kept in ``train_score_rows_``).
MAX_TRAIN_SCORE_ROWS = 200_000


class BaseDetector(OutlierMixin, BaseEstimator):
    """Base class: validation, the ``offset_`` threshold, ``predict`` and friends.

    Subclasses declare their parameters in ``__init__`` (stored as given),
    extend ``_parameter_constraints``, and implement

    * ``_fit(X)``: learn the fitted state (attributes ending in ``_``);
    * ``_score(X)``: scores of validated rows, higher = more normal;
    * optionally ``_train_scores(X)``: scores of the training rows when
      scoring them like new rows would be biased (default: ``_score(X)``).

    ``contamination`` only places ``offset_`` (the ``predict`` threshold) at
    that quantile of the training scores; it never changes a score.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "contamination": [Interval(Real, 0.0, 0.5, closed="right")],
    }
    #: Fewest training rows a detector can work with.
    _min_samples: int = 2

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> BaseDetector:
        """Fit on (normal) events.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training events.
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=self._min_samples)
        self._fit(X)
        self.train_score_rows_ = None
        if len(X) > MAX_TRAIN_SCORE_ROWS and type(self)._train_scores is BaseDetector._train_scores:
            # A percentile of a few hundred thousand scores is as good as of
            # millions, and scoring every training row would cost as much as the
            # fit itself many times over.
            seed = getattr(self, "random_state", None)
            X, self.train_score_rows_ = reference_subsample(
                X, MAX_TRAIN_SCORE_ROWS, 0 if seed is None else seed
            )
        self.train_scores_ = np.asarray(self._train_scores(X), dtype=np.float64)
        self.offset_ = float(np.percentile(self.train_scores_, 100.0 * self.contamination))
        return self

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Normality of each event: higher = more normal (scikit-learn's convention).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.asarray(self._score(X), dtype=np.float64)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for predicted outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: ArrayLike) -> np.ndarray:
        """-1 for outliers, 1 for inliers, at the ``contamination`` threshold."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    # -- to implement -------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _train_scores(self, X: np.ndarray) -> np.ndarray:
        return self._score(X)


def reference_subsample(
    X: np.ndarray, max_samples: int | None, random_state: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """At most ``max_samples`` random rows of ``X`` (all of them when None or fewer).

    Returns
    -------
    rows : numpy.ndarray
        The chosen rows, in their original order (so ties resolve reproducibly).
    indices : numpy.ndarray or None
        Their positions in ``X``, or None when every row was kept.
    """
    if max_samples is None or len(X) <= max_samples:
        return X, None
    rng = check_random_state(random_state)
    indices = np.sort(rng.choice(len(X), max_samples, replace=False))
    return X[indices], indices


def _never(estimator: object) -> bool:
    return False


class LeaveOneOutDetector(BaseDetector):
    """A detector whose training scores are leave-one-out (neighbour methods).

    ``predict`` on the rows just fitted cannot reproduce their leave-one-out
    labels, so the mixin's ``fit(X).predict(X)`` would silently mislabel them;
    like scikit-learn's ``LocalOutlierFactor(novelty=True)``, ``fit_predict``
    is therefore unavailable and training labels are ``train_scores_ < offset_``.
    """

    #: Always a novelty detector (scikit-learn's name for the mode; not a parameter).
    novelty = True

    fit_predict = available_if(_never)(OutlierMixin.fit_predict)

    def _with_unseen_rows(self, X: np.ndarray, loo: np.ndarray) -> np.ndarray:
        """Training scores from the reference rows' leave-one-out scores ``loo``.

        Subclasses set ``reference_indices_`` (None when every training row is
        a reference row). Rows left out of the reference set are unseen by the
        model and are scored as new events. Above :data:`MAX_TRAIN_SCORE_ROWS`
        training rows, as for every detector, a seeded sample of the rows stands
        for them: here the reference set itself, a uniform random sample whose
        leave-one-out scores are already known, so that the rest (most of a
        large training set, as long to score as the test events) is not scored
        at all; ``train_score_rows_`` then holds the reference positions.
        """
        reference = self.reference_indices_
        if reference is None:
            return loo
        if len(X) > MAX_TRAIN_SCORE_ROWS:
            self.train_score_rows_ = reference
            return loo
        scores = np.empty(len(X), dtype=np.float64)
        scores[reference] = loo
        others = np.ones(len(X), dtype=bool)
        others[reference] = False
        scores[others] = self._score(X[others])
        return scores
