"""Model-agnostic permutation importance for fitted anomaly detectors.

A feature matters to a detector when shuffling its column, which keeps the
column's values but breaks their link to the labels and to the other
features, makes the detector's anomaly scores rank attacks worse. The drop is
measured in average precision (PR AUC) or ROC AUC against ground-truth labels.
The detector is only ever asked to score; it is never refitted, so the
importance describes the fitted model being inspected, not a retrained one.

Unlike scikit-learn's ``permutation_importance`` with a classification
scorer, this works on the continuous anomaly scores (higher = more
anomalous) from :func:`~soc_anomaly.detectors.base.anomaly_scores`, so it
needs no threshold and no ``-1/1`` to ``0/1`` label mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, roc_auc_score

from soc_anomaly.data.validation import check_both_classes
from soc_anomaly.detectors.base import OutlierEstimator, anomaly_scores
from soc_anomaly.errors import DataError, ParameterError, check_positive_int, check_seed

__all__ = ["IMPORTANCE_METRICS", "permutation_importance"]

#: Metrics the importance can be measured in: name -> ``metric(y_true, scores)``.
IMPORTANCE_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "pr_auc": lambda y, s: float(average_precision_score(y, s)),
    "roc_auc": lambda y, s: float(roc_auc_score(y, s)),
}

#: Columns of the returned table, in order.
IMPORTANCE_COLUMNS = ["feature", "importance_mean", "importance_std", "baseline"]


def _plain(value: object) -> object:
    """A numpy scalar as the Python value, so messages show ``2``, not ``np.int64(2)``."""
    return value.item() if isinstance(value, np.generic) else value


def _check_labels(y: ArrayLike, n_rows: int) -> np.ndarray:
    labels = np.asarray(y).ravel()
    if labels.size != n_rows:
        raise DataError(
            f"y has {labels.size} labels but X has {n_rows} rows; expected one label per row"
        )
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"y must hold only 0 (normal) and 1 (anomaly), found {_plain(labels[i])!r} "
            f"at row {i + 1}"
        )
    labels = labels.astype(np.int64)
    check_both_classes(labels)
    return labels


def _check_matrix(X: ArrayLike) -> np.ndarray:
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            "X holds values that are not numbers; expected a numeric feature matrix"
        ) from None
    if values.ndim != 2:
        raise DataError(
            f"X has {values.ndim} dimension(s) (shape {values.shape}); "
            "expected a 2-D matrix of shape (n_events, n_features)"
        )
    if values.shape[0] < 2 or values.shape[1] < 1:
        raise DataError(f"X has shape {values.shape}; expected at least 2 events and 1 feature")
    finite = np.isfinite(values)
    if not finite.all():
        row, col = (int(v) for v in np.argwhere(~finite)[0])
        raise DataError(
            f"X has a non-finite value ({_plain(values[row, col])!r}) at row {row + 1}, "
            f"column {col + 1}; expected finite numbers"
        )
    return values


def _check_names(feature_names: Sequence[str], n_features: int) -> list[str]:
    if isinstance(feature_names, str):
        # A bare string is a sequence of characters: almost certainly a mistake.
        raise ParameterError(
            f"feature_names must be a sequence of names, got the string {feature_names!r}"
        )
    names = [str(n) for n in feature_names]
    if len(names) != n_features:
        raise ParameterError(
            f"feature_names has {len(names)} names but X has {n_features} columns; "
            "expected one name per column"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ParameterError(f"feature_names lists {name!r} twice; expected unique names")
        seen.add(name)
    return names


def permutation_importance(
    estimator: OutlierEstimator,
    X: ArrayLike,
    y: ArrayLike,
    feature_names: Sequence[str],
    *,
    n_repeats: int = 5,
    random_state: int | np.random.Generator = 0,
    metric: str = "pr_auc",
) -> pd.DataFrame:
    """How much shuffling each feature hurts a fitted detector's ranking of attacks.

    For each feature, its column is shuffled ``n_repeats`` times; after each
    shuffle the detector scores the whole matrix and the metric is computed
    against ``y``. The importance of a repeat is the baseline metric (on the
    unshuffled matrix) minus the shuffled one, so a positive value means the
    detector relies on the feature, zero that the scores ignore it, and a
    negative value that the feature's real values mislead the detector.

    Parameters
    ----------
    estimator : OutlierEstimator
        A fitted detector (any scikit-learn outlier estimator with
        ``score_samples``). It is only asked to score, never refitted.
    X : array-like of shape (n_events, n_features)
        Events, prepared (scaled) exactly as the detector was trained. A
        DataFrame is scored as a DataFrame with the same columns, so a
        detector fitted on named features sees the names it expects.
    y : array-like of shape (n_events,)
        Ground truth: 0 (normal) or 1 (anomaly); both must be present.
    feature_names : sequence of str
        One unique name per column of ``X``, used in the result.
    n_repeats : int, default=5
        Shuffles per feature (>= 1); more repeats give a steadier mean and
        a meaningful standard deviation.
    random_state : int or numpy.random.Generator, default=0
        Seed (>= 0) of the generator that draws the shuffles, or the
        generator itself; the same seed gives the same table.
    metric : {"pr_auc", "roc_auc"}, default="pr_auc"
        Average precision (suited to rare attacks) or ROC AUC.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature, importance_mean, importance_std, baseline``, one
        row per feature, sorted by ``importance_mean`` descending (ties keep
        the column order). ``importance_std`` is the population standard
        deviation over the repeats (0.0 with one repeat); ``baseline`` is the
        metric on the unshuffled matrix, the same in every row.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On an unknown metric, ``n_repeats`` < 1, a bad seed, or feature names
        that do not match the columns of ``X``.
    soc_anomaly.errors.DataError
        If ``X`` is not a finite numeric matrix, or ``y`` is not 0/1 labels of
        both classes, one per row.

    Examples
    --------
    >>> import numpy as np
    >>> class OnlySecond:
    ...     def score_samples(self, X):
    ...         return -np.abs(np.asarray(X)[:, 1])
    >>> X = np.array([[0.0, 0.1], [1.0, 0.2], [0.5, 5.0], [0.2, 0.0]])
    >>> table = permutation_importance(OnlySecond(), X, [0, 0, 1, 0], ["a", "b"], n_repeats=3)
    >>> table["feature"].tolist()
    ['b', 'a']
    >>> float(table.loc[table["feature"] == "a", "importance_mean"].iloc[0])
    0.0
    """
    # Parameters first: they are cheap to check and independent of the data.
    if metric not in IMPORTANCE_METRICS:
        raise ParameterError(
            f"metric must be one of {', '.join(map(repr, IMPORTANCE_METRICS))}, got {metric!r}"
        )
    check_positive_int("n_repeats", n_repeats)
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        check_seed("random_state", random_state)
        rng = np.random.default_rng(random_state)

    columns = X.columns if isinstance(X, pd.DataFrame) else None
    original = _check_matrix(X)
    labels = _check_labels(y, original.shape[0])
    names = _check_names(feature_names, original.shape[1])
    score_metric = IMPORTANCE_METRICS[metric]

    def _metric_of(matrix: np.ndarray) -> float:
        data = matrix if columns is None else pd.DataFrame(matrix, columns=columns, copy=False)
        scores = anomaly_scores(estimator, data)
        if scores.shape != labels.shape:
            raise DataError(
                f"the detector returned {scores.size} scores for {labels.size} events; "
                "expected one score per event"
            )
        if not np.isfinite(scores).all():
            raise DataError("the detector returned NaN or infinite scores; expected finite numbers")
        return score_metric(labels, scores)

    baseline = _metric_of(original)
    # One working copy for the whole run: each feature's column is shuffled in
    # place repeat after repeat (a shuffle of a shuffle is still a uniformly
    # random permutation) and restored before the next feature, so memory
    # stays at one extra matrix however many features and repeats there are.
    work = original.copy()
    drops = np.empty((len(names), n_repeats), dtype=np.float64)
    for j in range(len(names)):
        for r in range(n_repeats):
            rng.shuffle(work[:, j])
            drops[j, r] = baseline - _metric_of(work)
        work[:, j] = original[:, j]

    table = pd.DataFrame(
        {
            "feature": names,
            "importance_mean": drops.mean(axis=1),
            "importance_std": drops.std(axis=1),
            "baseline": np.full(len(names), baseline),
        },
        columns=IMPORTANCE_COLUMNS,
    )
    # Stable sort so that equally important features keep their column order.
    return table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(
        drop=True
    )
