"""A transparent weighted risk score: robust z-scores in the risky direction, weighted.

The analyst-style score of a SOC triage sheet: every feature is measured in
robust standard deviations from the normal training traffic, only deviations
in the direction that signals risk count (many failed logins are risky, few
are not), and the risk is a weighted sum that an analyst can read feature by
feature (:meth:`RiskScoreDetector.contributions`). It needs no labels: the
weights and directions are domain knowledge, the location and scale are
learned from normal events.

Because the median and the interquartile range move with any per-feature
shift and scaling, the risk is the same on raw and on standardised features,
so the detector can be fed the pipeline's scaled arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted, validate_data

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import BaseDetector
from soc_anomaly.errors import ParameterError

__all__ = ["DIRECTIONS", "SOC_RISK_DIRECTIONS", "SOC_RISK_WEIGHTS", "RiskScoreDetector"]

#: Allowed values of a feature's risky direction.
DIRECTIONS: tuple[str, ...] = ("high", "low", "both")

#: The interquartile range of a normal distribution is 1.349 standard
#: deviations, so IQR / 1.349 estimates the standard deviation of the bulk of
#: the data without letting its tail (or a few attacks) inflate it.
_IQR_TO_SIGMA = 1.349

#: Weights for :data:`soc_anomaly.data.schema.FEATURE_COLS` (they sum to 1).
#:
#: Each injected scenario has one strong, event-level signature, and those get
#: the largest weights: ``geo_distance`` (impossible travel, and brute force
#: from a foreign city), ``bytes_out`` (exfiltration sends 40-400x the usual
#: volume) and ``failed_logins`` (brute force storms). ``device_trust_score``
#: is lowered in all three scenarios but new devices also occur in normal
#: traffic, so it gets a little less. ``hour`` is weak because night-shift
#: users are legitimately far from the overall median hour; ``bytes_in`` only
#: drops in brute force and varies widely between users;
#: ``successful_logins`` is 0 for brute force but also whenever a normal user
#: gives up; and ``user_risk_score`` describes the user, not the event, so it
#: can only raise the prior of an otherwise suspicious event.
SOC_RISK_WEIGHTS: dict[str, float] = {
    "hour": 0.10,
    "geo_distance": 0.20,
    "bytes_in": 0.05,
    "bytes_out": 0.20,
    "failed_logins": 0.20,
    "successful_logins": 0.05,
    "device_trust_score": 0.15,
    "user_risk_score": 0.05,
}

#: Risky direction of each feature of :data:`soc_anomaly.data.schema.FEATURE_COLS`.
SOC_RISK_DIRECTIONS: dict[str, str] = {
    "hour": "both",
    "geo_distance": "high",
    "bytes_in": "both",
    "bytes_out": "high",
    "failed_logins": "high",
    "successful_logins": "low",
    "device_trust_score": "low",
    "user_risk_score": "high",
}


def _known(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


class RiskScoreDetector(BaseDetector):
    """Weighted sum of robust z-scores in each feature's risky direction.

    For feature ``i`` with training median ``m_i`` and robust scale ``s_i``
    the robust z-score of a value ``x_i`` is ``z_i = (x_i - m_i) / s_i``. Its
    contribution is ``max(z_i, 0)`` for direction ``"high"``, ``max(-z_i, 0)``
    for ``"low"`` and ``|z_i|`` for ``"both"``, and the risk of an event is
    ``sum_i w_i * contribution_i`` with the weights normalised to sum to 1.
    ``score_samples`` returns minus the risk (higher = more normal).

    Parameters
    ----------
    weights : dict of str to float or None, default=None
        Non-negative weight of each named feature. Features not in the dict
        get weight 0 and do not contribute; None weighs every feature equally.
        The weights are normalised to sum to 1, so only their ratios matter.
    directions : dict of str to {"high", "low", "both"} or None, default=None
        Which deviations of each named feature are risky: only high values,
        only low values, or both. Features not in the dict (or all of them,
        when None) use ``"both"``.
    feature_names : list of str or None, default=None
        Names of the columns of array input, in order; must have one name per
        feature. When None, a DataFrame's column names are used, and the
        columns of an array are called ``"x0"``, ``"x1"``, ...
    contamination : float in (0, 0.5], default=0.01
        Share of training rows ``predict`` calls outliers.

    Attributes
    ----------
    feature_names_ : numpy.ndarray of str, shape (n_features,)
        The names ``weights`` and ``directions`` refer to.
    weights_ : numpy.ndarray of shape (n_features,)
        Normalised weights (sum to 1).
    directions_ : numpy.ndarray of str, shape (n_features,)
        Risky direction of each feature.
    location_ : numpy.ndarray of shape (n_features,)
        Median of each feature over the training rows.
    scale_ : numpy.ndarray of shape (n_features,)
        Robust scale of each feature: IQR / 1.349, or the standard deviation
        when the IQR is 0, or 1.0 when that is 0 too.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    >>> det = RiskScoreDetector(directions={"x0": "high", "x1": "low"}).fit(X)
    >>> det.contributions(np.array([[5.0, 2.5]])).round(3).to_dict("records")
    [{'x0': 1.574, 'x1': 0.0}]
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "weights": [dict, None],
        "directions": [dict, None],
        "feature_names": [list, tuple, None],
    }

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        directions: dict[str, str] | None = None,
        feature_names: list[str] | None = None,
        contamination: float = DEFAULT_ANOMALY_FRACTION,
    ) -> None:
        self.weights = weights
        self.directions = directions
        self.feature_names = feature_names
        self.contamination = contamination

    # -- fitting --------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:
        names = self._resolve_names(X.shape[1])
        self.feature_names_ = np.asarray(names, dtype=object)
        self.weights_ = self._resolve_weights(names)
        self.directions_ = self._resolve_directions(names)

        self.location_ = np.median(X, axis=0)
        q25, q75 = np.percentile(X, [25.0, 75.0], axis=0)
        scale = (q75 - q25) / _IQR_TO_SIGMA
        # Count-like features (failed logins) are mostly one value, so their
        # IQR is 0; the standard deviation still measures how rare a deviation
        # is. A constant feature gets 1.0 so any deviation at all is risky.
        std = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))

    def _resolve_names(self, n_features: int) -> list[str]:
        # ``feature_names_in_`` is set (or removed) by validate_data in fit.
        from_data = getattr(self, "feature_names_in_", None)
        if self.feature_names is None:
            if from_data is not None:
                return [str(n) for n in from_data]
            return [f"x{i}" for i in range(n_features)]
        names = list(self.feature_names)
        if len(names) != n_features:
            raise ParameterError(
                f"feature_names has {len(names)} names but X has {n_features} features; "
                "expected one name per feature"
            )
        bad = [n for n in names if not isinstance(n, str)]
        if bad:
            raise ParameterError(f"feature_names must be strings; got {bad[0]!r}")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ParameterError(f"feature_names repeats {_known(dupes)}; expected unique names")
        if from_data is not None and list(from_data) != names:
            raise ParameterError(
                f"feature_names {names} differ from the DataFrame's columns "
                f"{list(from_data)}; expected the same names in the same order"
            )
        return names

    def _check_keys(self, param: str, mapping: Mapping[str, object], names: list[str]) -> None:
        unknown = [k for k in mapping if k not in names]
        if unknown:
            raise ParameterError(
                f"unknown feature(s) {_known(unknown)} in {param}; known features: {_known(names)}"
            )

    def _resolve_weights(self, names: list[str]) -> np.ndarray:
        if self.weights is None:
            return np.full(len(names), 1.0 / len(names))
        self._check_keys("weights", self.weights, names)
        for name, w in self.weights.items():
            if not isinstance(w, Real) or not np.isfinite(w) or w < 0:
                raise ParameterError(
                    f"weights[{name!r}] = {w!r}; expected a finite non-negative number"
                )
        raw = np.array([float(self.weights.get(n, 0.0)) for n in names])
        total = raw.sum()
        if total <= 0:
            raise ParameterError(
                f"weights {self.weights!r} give every feature weight 0; "
                "expected at least one positive weight"
            )
        return raw / total

    def _resolve_directions(self, names: list[str]) -> np.ndarray:
        given = self.directions or {}
        self._check_keys("directions", given, names)
        for name, d in given.items():
            if d not in DIRECTIONS:
                raise ParameterError(
                    f"directions[{name!r}] = {d!r}; expected one of {_known(DIRECTIONS)}"
                )
        return np.asarray([given.get(n, "both") for n in names], dtype=object)

    # -- scoring --------------------------------------------------------------
    def _weighted_contributions(self, X: np.ndarray) -> np.ndarray:
        z = (X - self.location_) / self.scale_
        high = self.directions_ == "high"
        low = self.directions_ == "low"
        contribution = np.where(
            high, np.maximum(z, 0.0), np.where(low, np.maximum(-z, 0.0), np.abs(z))
        )
        return contribution * self.weights_

    def _score(self, X: np.ndarray) -> np.ndarray:
        return -self._weighted_contributions(X).sum(axis=1)

    def contributions(self, X: ArrayLike) -> pd.DataFrame:
        """Each feature's weighted contribution to the risk of each event.

        The row sums are the risks, i.e. ``-score_samples(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Events, in the columns the detector was fitted on.

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_features)
            Columns named by ``feature_names_``; a DataFrame input keeps its
            index.
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        values = validate_data(self, X, dtype=np.float64, reset=False)
        return pd.DataFrame(
            self._weighted_contributions(values), columns=list(self.feature_names_), index=index
        )
