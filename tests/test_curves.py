"""Curves computed once give scikit-learn's metrics exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.metrics import evaluate_scores
from soc_anomaly.evaluation.thresholds import by_fbeta


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < draw(st.floats(0.01, 0.5))).astype(int)
    y[0], y[1] = 1, 0  # both classes
    # Few distinct values: many ties, the case the curves must get right.
    s = np.round(rng.normal(size=n) + y, draw(st.integers(0, 3)))
    return y, s


@settings(max_examples=200, deadline=None)
@given(labelled_scores())
def test_the_same_numbers_as_scikit_learn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    curves = RankingCurves.of(y, s)
    assert curves.roc_auc == roc_auc_score(y, s)
    assert curves.average_precision == average_precision_score(y, s)
    for beta in (0.5, 1.0, 2.0):
        assert by_fbeta(y, s, beta, curves) == by_fbeta(y, s, beta)
    assert evaluate_scores("m", y, s, k=1, curves=curves) == evaluate_scores("m", y, s, k=1)
    # Thinned for a plot: scikit-learn's drop_intermediate points exactly.
    precision, recall, _ = precision_recall_curve(y, s, drop_intermediate=True)
    thin = curves.for_plot()
    np.testing.assert_array_equal(thin.precision, precision)
    np.testing.assert_array_equal(thin.recall, recall)
    # A thinned curve has no thresholds, so the F-beta rule does not read it.
    assert by_fbeta(y, s, 1.0, thin) == by_fbeta(y, s, 1.0)


def test_thinning_keeps_a_large_curve_small() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(200_000) < 0.01).astype(int)
    s = rng.normal(size=y.size) + 2.0 * y
    curves = RankingCurves.of(y, s)
    thin = curves.for_plot()
    assert len(curves.recall) == 200_001  # one point per distinct score
    assert len(thin.recall) < 5 * y.sum()  # about two per attack
