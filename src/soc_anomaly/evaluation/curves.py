"""A detector's ROC and precision-recall curves, computed once per evaluation.

ROC AUC, average precision, the F-beta threshold rule and the curve figures
all read the same two curves; on millions of evaluated events each curve is
a sort, so they are computed once and passed around.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import auc, precision_recall_curve, roc_curve

__all__ = ["RankingCurves"]


@dataclass(frozen=True)
class RankingCurves:
    """ROC and precision-recall curves of anomaly scores against labels.

    Attributes
    ----------
    fpr, tpr : numpy.ndarray
        :func:`sklearn.metrics.roc_curve` (points that do not change the curve
        dropped).
    precision, recall, pr_thresholds : numpy.ndarray
        :func:`sklearn.metrics.precision_recall_curve`: one point per distinct
        score, thresholds increasing (the last point, recall 0, has none).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    pr_thresholds: np.ndarray

    @classmethod
    def of(cls, y_true: ArrayLike, scores: ArrayLike) -> RankingCurves:
        """The curves of ``scores`` (higher = more anomalous) against 0/1 ``y_true``.

        Both classes must be present; the caller validates the inputs.
        """
        precision, recall, thresholds = precision_recall_curve(y_true, scores)
        fpr, tpr, _ = roc_curve(y_true, scores)
        return cls(fpr, tpr, precision, recall, thresholds)

    @property
    def roc_auc(self) -> float:
        """Area under the ROC curve: :func:`sklearn.metrics.roc_auc_score`'s number."""
        return float(auc(self.fpr, self.tpr))

    @property
    def average_precision(self) -> float:
        """:func:`sklearn.metrics.average_precision_score`'s number (same formula)."""
        return float(max(0.0, -np.sum(np.diff(self.recall) * self.precision[:-1])))

    def for_plot(self) -> RankingCurves:
        """The same curves without the precision-recall points a step plot does not need.

        A point is kept when recall changes on either side of it, the rule of
        ``precision_recall_curve(drop_intermediate=True)``: thousands of points
        instead of one per distinct score. The thresholds are dropped.
        """
        # The rule applies to the points with a threshold; the closing point
        # (recall 0, precision 1) always stays.
        r = self.recall[:-1]
        if len(r) <= 2:
            return self
        keep = np.r_[True, (r[1:-1] != r[:-2]) | (r[1:-1] != r[2:]), True, True]
        return RankingCurves(
            self.fpr, self.tpr, self.precision[keep], self.recall[keep], np.empty(0, dtype=float)
        )
