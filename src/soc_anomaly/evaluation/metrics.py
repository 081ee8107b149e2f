"""Metrics for anomaly scores against ground truth.

Scores are higher = more anomalous. An event is an alert when its score is
at or above the threshold; thresholds are chosen outside the detectors, by a
percentile of some reference scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, roc_auc_score

from soc_anomaly.data.validation import check_both_classes
from soc_anomaly.errors import ParameterError, check_range
from soc_anomaly.evaluation.curves import RankingCurves

__all__ = [
    "ModelEvaluation",
    "attack_type_codes",
    "confusion_at_threshold",
    "evaluate_model",
    "evaluate_scores",
    "precision_at_k",
    "recall_by_attack",
    "threshold_at_percentile",
]


def _as_labels_and_scores(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ParameterError(
            f"labels and scores differ in length ({y.size} vs {s.size}); "
            "expected one score per label"
        )
    if not np.isfinite(s).all():
        raise ParameterError("scores contain NaN or infinite values; expected finite numbers")
    if not np.isin(y, (0, 1)).all():
        raise ParameterError("labels must be 0 (normal) or 1 (anomaly)")
    return y.astype(np.int64), s


def _check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ParameterError(f"k must be a positive integer, got {k!r}")
    if k > n:
        raise ParameterError(f"k={k} exceeds the {n} evaluated events; expected k <= {n}")


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    # Stable order so that ties at the cut-off are broken the same way every run.
    return np.argsort(-scores, kind="stable")[:k]


def precision_at_k(y_true: ArrayLike, scores: ArrayLike, k: int) -> float:
    """Share of true anomalies among the ``k`` highest-scoring events.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        0/1 labels.
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous.
    k : int
        How many top events an analyst looks at; 1 <= k <= n.

    Returns
    -------
    float
        Precision among the top ``k`` (ties broken by position).
    """
    y, s = _as_labels_and_scores(y_true, scores)
    _check_k(k, len(y))
    return float(y[_top_k(s, k)].mean())


def threshold_at_percentile(scores: ArrayLike, percentile: float) -> float:
    """The score at ``percentile`` of ``scores`` (linear interpolation).

    Parameters
    ----------
    scores : array-like
        Reference scores (the evaluated events, or the normal training events).
    percentile : float
        In (0, 100).

    Returns
    -------
    float
    """
    check_range("threshold percentile", percentile, 0.0, 100.0)
    s = np.asarray(scores, dtype=float)
    if s.size == 0:
        raise ParameterError("no scores to take a percentile of; expected at least one")
    return float(np.percentile(s, percentile))


def confusion_at_threshold(
    y_true: ArrayLike, scores: ArrayLike, threshold: float
) -> dict[str, float | int]:
    """Confusion matrix and derived rates when ``score >= threshold`` alerts.

    Returns
    -------
    dict
        ``threshold, alerts, tp, fp, tn, fn, precision, recall, f1,
        false_positive_rate``; a rate with an empty denominator is 0.0.
    """
    y, s = _as_labels_and_scores(y_true, scores)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": float(threshold),
        "alerts": tp + fp,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
    }


def attack_type_codes(attack_types: Sequence[str] | ArrayLike) -> pd.Categorical:
    """Attack types as a categorical with sorted text categories.

    :func:`recall_by_attack` reads it without hashing the events again.
    """
    kinds = np.asarray(attack_types, dtype=object).ravel()
    return pd.Categorical(pd.Series(kinds).astype(str).to_numpy(dtype=object))


def recall_by_attack(
    attack_types: Sequence[str] | ArrayLike, scores: ArrayLike, threshold: float
) -> dict[str, float]:
    """Share of each attack type's events that alert at ``threshold``.

    Parameters
    ----------
    attack_types : array-like of str
        Scenario of each event; ``"normal"`` rows are skipped.
    scores : array-like
        Anomaly scores.
    threshold : float
        Alert threshold.

    Returns
    -------
    dict
        Attack type -> recall, in alphabetical order of attack type.
    """
    s = np.asarray(scores, dtype=float)
    if isinstance(attack_types, pd.Categorical):
        # Already coded (attack_type_codes): callers scoring many thresholds code once.
        if attack_types.shape != s.shape:
            raise ParameterError("attack types and scores differ in length")
        codes, names = attack_types.codes, attack_types.categories
    else:
        kinds = np.asarray(attack_types, dtype=object)
        if kinds.shape != s.shape:
            raise ParameterError("attack types and scores differ in length")
        # One hash pass over the events, then one vectorised count per attack type.
        codes, names = pd.factorize(pd.Series(kinds).astype(str), sort=True)
    alerts = np.bincount(codes, weights=(s >= threshold), minlength=len(names))
    totals = np.bincount(codes, minlength=len(names))
    return {
        str(name): float(alerts[i] / totals[i]) for i, name in enumerate(names) if name != "normal"
    }


@dataclass(frozen=True)
class ModelEvaluation:
    """Ranking metrics of one detector, and its confusion matrix at one threshold.

    Attributes
    ----------
    model : str
        Detector name.
    n_events, n_anomalies : int
        Evaluated events, and how many of them are anomalies.
    roc_auc, pr_auc : float
        Area under the ROC curve; average precision.
    k : int
        ``k`` of precision@k.
    precision_at_k : float
        Share of anomalies among the ``k`` highest scores.
    threshold_percentile : float
        Percentile of the evaluated scores the threshold was taken at (unless
        a threshold was given).
    threshold : float
        Events with ``score >= threshold`` alert.
    alerts, tp, fp, tn, fn : int
        Alert count and confusion matrix.
    precision, recall, f1, false_positive_rate : float
        Derived rates; 0.0 when the denominator is empty.
    """

    model: str
    n_events: int
    n_anomalies: int
    roc_auc: float
    pr_auc: float
    k: int
    precision_at_k: float
    threshold_percentile: float
    threshold: float
    alerts: int
    tp: int
    fp: int
    tn: int
    fn: int
    precision: float
    recall: float
    f1: float
    false_positive_rate: float

    def to_dict(self) -> dict[str, Any]:
        """The fields, in order, as the plain dict :func:`evaluate_model` returns."""
        return asdict(self)


def evaluate_scores(
    name: str,
    y_true: ArrayLike,
    scores: ArrayLike,
    k: int = 50,
    threshold_percentile: float = 99.0,
    threshold: float | None = None,
    curves: RankingCurves | None = None,
) -> ModelEvaluation:
    """Ranking metrics plus the confusion matrix at a percentile threshold.

    The typed form of :func:`evaluate_model`; the parameters are the same, and
    ``curves`` (the :class:`~soc_anomaly.evaluation.curves.RankingCurves` of
    the same labels and scores) saves sorting the scores again.

    Returns
    -------
    ModelEvaluation
    """
    y, s = _as_labels_and_scores(y_true, scores)
    check_both_classes(y)
    _check_k(k, len(y))
    check_range("threshold percentile", threshold_percentile, 0.0, 100.0)
    if threshold is None:
        threshold = threshold_at_percentile(s, threshold_percentile)
    return ModelEvaluation(
        model=name,
        n_events=len(y),
        n_anomalies=int(y.sum()),
        roc_auc=float(roc_auc_score(y, s)) if curves is None else curves.roc_auc,
        pr_auc=float(average_precision_score(y, s)) if curves is None else curves.average_precision,
        k=int(k),
        precision_at_k=precision_at_k(y, s, k),
        threshold_percentile=float(threshold_percentile),
        **confusion_at_threshold(y, s, threshold),
    )


def evaluate_model(
    name: str,
    y_true: ArrayLike,
    scores: ArrayLike,
    k: int = 50,
    threshold_percentile: float = 99.0,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Ranking metrics plus the confusion matrix at a percentile threshold.

    Parameters
    ----------
    name : str
        Model name, copied into the result.
    y_true : array-like of shape (n,)
        0/1 labels; both classes must be present.
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous.
    k : int, default=50
        ``k`` of precision@k.
    threshold_percentile : float, default=99.0
        Alerts are the events scoring at or above this percentile of
        ``scores`` (so about ``100 - p`` % of the evaluated events alert).
    threshold : float, optional
        Use this threshold instead, e.g. a percentile of the normal training
        scores fixed before any attack was seen.

    Returns
    -------
    dict
        ``model, n_events, n_anomalies, roc_auc, pr_auc, k, precision_at_k,
        threshold_percentile, threshold, alerts, tp, fp, tn, fn, precision,
        recall, f1, false_positive_rate``.

    Examples
    --------
    >>> m = evaluate_model("toy", [0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9], k=1,
    ...                    threshold_percentile=75)
    >>> m["roc_auc"], m["precision_at_k"], m["tp"], m["fp"]
    (1.0, 1.0, 1, 0)
    """
    return evaluate_scores(name, y_true, scores, k, threshold_percentile, threshold).to_dict()
