"""An ensemble of detectors combined through their calibrated 0-100 scores.

Raw scores of different detectors cannot be averaged: an IsolationForest
score lives in (0, 1), a risk score is unbounded. Each member's anomaly
scores are therefore first mapped by a :class:`~soc_anomaly.detectors.calibration.ScoreCalibrator`
fitted on that member's scores of the normal training events, so that every
member speaks the same unit, "percent of normal traffic this event is more
anomalous than", before the scores are combined.

Combination methods, with ``c_j(x)`` the calibrated score of member ``j``
(0-100, higher = more anomalous) and ``p_j(x)`` the same map *without* the
calibrator's tails, i.e. ``c_j`` clipped to the range it takes on the
training scores:

``"mean"``
    ``mean_j c_j(x)``. Inside the training range ``c_j`` is the member's
    percentile of normal traffic; beyond it the calibrator's exponential tail
    keeps ordering the events no normal event resembled, so "far" and
    "farther" still differ. For a new normal event every ``c_j`` is roughly
    uniform on 0-100, so the mean is around 50.
``"max"``
    ``max_j c_j(x)``: an event is as suspicious as its most suspicious
    member says, so an attack only one member sees is not averaged away.
    The result is not a percentile of normal traffic: with ``m`` independent
    members a normal event exceeds 99 with probability ``1 - 0.99**m``, so
    threshold it by ``offset_`` (set on the training rows) or recalibrate.
``"rank"``
    ``mean_j p_j(x)``: the classic rank-averaging combination. ``p_j`` is the
    event's (mid-)rank among member ``j``'s normal training scores,
    interpolated between them, divided by ``n + 1``, i.e. the calibrated
    percentile itself; it is computed against the stored training
    distribution, so a single new event has a rank. Without the tails, every
    event beyond a member's largest training score gets that member's top
    rank ``~100 n / (n + 1)``: one member's extreme score cannot outweigh the
    others, at the price of ties among events that every member places
    beyond all of normal traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted, validate_data

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import (
    BaseDetector,
    OutlierEstimator,
    anomaly_scores,
    training_anomaly_scores,
)
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.iforest import IForestDetector
from soc_anomaly.detectors.ocsvm import make_ocsvm
from soc_anomaly.detectors.risk_score import RiskScoreDetector
from soc_anomaly.errors import ParameterError

__all__ = ["ENSEMBLE_METHODS", "EnsembleDetector", "default_members"]

#: Allowed values of ``EnsembleDetector(method=...)``.
ENSEMBLE_METHODS: tuple[str, ...] = ("mean", "max", "rank")


def _kept_rows(estimator: OutlierEstimator, n_kept: int, n_rows: int) -> np.ndarray:
    """Positions among the ``n_rows`` training rows of a member's ``n_kept`` training scores."""
    rows = getattr(estimator, "train_score_rows_", None)
    if n_kept == n_rows or rows is None:
        return np.arange(n_rows)
    return np.asarray(rows, dtype=np.int64)


def default_members() -> list[tuple[str, OutlierEstimator]]:
    """The default members: fast and diverse, one per kind of evidence.

    An isolation forest (axis-aligned density), an RBF one-class SVM (a smooth
    boundary) and an equal-weight risk score (per-feature deviation), so the
    members fail on different events. 100 trees instead of 200 keep the
    ensemble about as fast as the forest alone.

    The SVM is scikit-learn's ``OneClassSVM`` with the toolkit's defaults
    (:func:`~soc_anomaly.detectors.ocsvm.make_ocsvm`), scored by libsvm in
    float64, rather than :class:`~soc_anomaly.detectors.ocsvm.OCSVMDetector`,
    whose faster float32 scorer can differ by one float32 ulp between a row
    scored alone and in a batch. Calibration divides by the gap between
    neighbouring training scores, which turns that ulp into ~1e-5 on the
    0-100 scale: harmless, but enough to break scikit-learn's exact
    batch-invariance check. Pass ``OCSVMDetector`` members explicitly for
    speed on large data.

    Returns
    -------
    list of (str, estimator)
        New, unfitted estimators on every call.
    """
    return [
        ("iforest", IForestDetector(n_estimators=100)),
        ("ocsvm", make_ocsvm()),
        ("risk_score", RiskScoreDetector()),
    ]


class EnsembleDetector(BaseDetector, _BaseComposition):
    """Combine detectors through their calibrated 0-100 anomaly scores.

    Each member is cloned and fitted on the training rows, and a
    :class:`~soc_anomaly.detectors.calibration.ScoreCalibrator` is fitted on its
    anomaly scores of those rows (leave-one-out scores for members that keep
    them). A new event's calibrated member scores are combined by ``method``
    (see the module docstring for the exact definitions); ``score_samples``
    returns minus the combination (higher = more normal), so
    ``anomaly_scores`` gives the combined score on the 0-100 scale.

    Member parameters are reachable as ``<name>__<param>`` through
    ``get_params`` and ``set_params``, as in scikit-learn's voting ensembles.

    Parameters
    ----------
    members : list of (str, estimator) or None, default=None
        Named outlier estimators (anything with ``fit`` and ``score_samples``,
        higher = more normal). Names must be unique, must not contain ``__``
        and must not be a parameter name of the ensemble. None uses
        :func:`default_members`, built at fit time.
    method : {"mean", "max", "rank"}, default="mean"
        How calibrated member scores are combined.
    contamination : float in (0, 0.5], default=0.01
        Share of training rows ``predict`` calls outliers (the members'
        own ``contamination`` plays no part).
    random_state : int, RandomState instance or None, default=None
        Seed for the members that have a ``random_state`` parameter: an int
        is passed to each of them unchanged, a RandomState instance draws
        one int seed per member, and None leaves the members' own seeds.

    Attributes
    ----------
    estimators_ : list of estimator
        The fitted clones of the members, in order.
    named_estimators_ : sklearn.utils.Bunch
        The same, by member name.
    calibrators_ : list of ScoreCalibrator
        Each member's map from anomaly score to 0-100.
    member_names_ : list of str
        Member names, in order.
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "members": [list, None],
        "method": [StrOptions(set(ENSEMBLE_METHODS))],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        members: list[tuple[str, OutlierEstimator]] | None = None,
        method: str = "mean",
        contamination: float = DEFAULT_ANOMALY_FRACTION,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.members = members
        self.method = method
        self.contamination = contamination
        self.random_state = random_state

    # -- nested parameters ----------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the ensemble and, when ``deep``, of its members.

        Parameters
        ----------
        deep : bool, default=True
            Also return each member as ``<name>`` and its parameters as
            ``<name>__<param>``.

        Returns
        -------
        dict
        """
        return self._get_params("members", deep=deep)

    def set_params(self, **params: Any) -> EnsembleDetector:
        """Set ensemble parameters, replace members by name, or set ``<name>__<param>``.

        Returns
        -------
        self
        """
        self._set_params("members", **params)
        return self

    # -- fitting --------------------------------------------------------------
    def _checked_members(self) -> list[tuple[str, OutlierEstimator]]:
        members = default_members() if self.members is None else list(self.members)
        if not members:
            raise ParameterError("members is empty; expected at least one (name, estimator) pair")
        for item in members:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise ParameterError(
                    f"members contains {item!r}; expected (name, estimator) tuples with str names"
                )
        names = [name for name, _ in members]
        self._validate_names(names)
        self._check_estimators_are_instances([est for _, est in members])
        for name, est in members:
            if not (hasattr(est, "fit") and hasattr(est, "score_samples")):
                raise ParameterError(
                    f"member {name!r} is {est!r}; expected an outlier estimator "
                    "with fit and score_samples"
                )
        return members

    def _member_input(self, X: np.ndarray) -> np.ndarray | pd.DataFrame:
        # Members see the column names the ensemble was fitted with, so a
        # named member (the risk score) explains itself in those names; they
        # get them at scoring too, or scikit-learn would warn of a mismatch.
        names = getattr(self, "feature_names_in_", None)
        return X if names is None else pd.DataFrame(X, columns=names, copy=False)

    def _fit(self, X: np.ndarray) -> None:
        members = self._checked_members()
        X_members = self._member_input(X)
        seeds: Sequence[Any] = [None] * len(members)
        if isinstance(self.random_state, np.random.RandomState):
            # Distinct draws so that members do not share one generator's
            # state, which would make their fits depend on their order.
            rng = check_random_state(self.random_state)
            seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=len(members))]
        elif self.random_state is not None:
            seeds = [self.random_state] * len(members)

        estimators, calibrators = [], []
        for (_, member), seed in zip(members, seeds, strict=True):
            est = clone(member)
            if seed is not None and "random_state" in est.get_params(deep=False):
                est.set_params(random_state=seed)
            est.fit(X_members)
            estimators.append(est)
            # Training scores (leave-one-out where the member keeps them) are
            # what unseen normal events look like to the member.
            calibrators.append(ScoreCalibrator().fit(training_anomaly_scores(est, X_members)))
        self.estimators_ = estimators
        self.calibrators_ = calibrators
        self.member_names_ = [name for name, _ in members]
        self.named_estimators_ = Bunch(**dict(zip(self.member_names_, estimators, strict=True)))

    # -- scoring --------------------------------------------------------------
    def _calibrated(self, raw: list[np.ndarray], *, tails: bool = True) -> np.ndarray:
        """Members' raw anomaly scores -> (n_samples, n_members) calibrated scores."""
        out = np.empty((len(raw[0]), len(raw)), dtype=np.float64)
        for j, (scores, cal) in enumerate(zip(raw, self.calibrators_, strict=True)):
            if tails:
                out[:, j] = cal.transform(scores)
            else:
                # np.interp holds the end values beyond the knots: the
                # percentile rank among the training scores, without tails.
                out[:, j] = np.interp(scores, cal.knots_, cal.levels_)
        return out

    def _combine(self, raw: list[np.ndarray]) -> np.ndarray:
        if self.method == "rank":
            return self._calibrated(raw, tails=False).mean(axis=1)
        calibrated = self._calibrated(raw)
        if self.method == "max":
            return calibrated.max(axis=1)
        return calibrated.mean(axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        X_members = self._member_input(X)
        return -self._combine([anomaly_scores(est, X_members) for est in self.estimators_])

    def _train_scores(self, X: np.ndarray) -> np.ndarray:
        # The same scores the calibrators were fitted on, so ``offset_`` is
        # placed where unseen normal events will fall.
        X_members = self._member_input(X)
        kept = [training_anomaly_scores(est, X_members) for est in self.estimators_]
        if len({len(s) for s in kept}) == 1:
            return -self._combine(kept)
        # Members that kept a sample of a large training set (of different sizes: a
        # neighbour search keeps fewer rows) are combined on the rows every one scored.
        rows = [
            _kept_rows(est, len(s), len(X)) for est, s in zip(self.estimators_, kept, strict=True)
        ]
        common = np.arange(len(X))
        for r in rows:
            common = np.intersect1d(common, r)
        if common.size == 0:
            # Disjoint samples: every member scores the smallest one (its own rows,
            # in sample for that member, out of sample for the others).
            smallest = min(rows, key=len)
            part = (
                X_members.iloc[smallest]
                if isinstance(X_members, pd.DataFrame)
                else X_members[smallest]
            )
            return -self._combine([anomaly_scores(est, part) for est in self.estimators_])
        aligned = []
        for r, s in zip(rows, kept, strict=True):
            order = np.argsort(r, kind="stable")
            aligned.append(s[order[np.searchsorted(r[order], common)]])
        return -self._combine(aligned)

    def member_scores(self, X: ArrayLike) -> pd.DataFrame:
        """Each member's calibrated 0-100 score of each event (with tails).

        Shows which member raised an alert: the ensemble's score is the
        ``method`` combination of these columns (``"rank"`` clips them to the
        training range first).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_members)
            One column per member name; a DataFrame input keeps its index.
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        values = validate_data(self, X, dtype=np.float64, reset=False)
        X_members = self._member_input(values)
        raw = [anomaly_scores(est, X_members) for est in self.estimators_]
        return pd.DataFrame(self._calibrated(raw), columns=self.member_names_, index=index)
