"""Permutation importance: right feature, reproducible, never refits, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from soc_anomaly.detectors import anomaly_scores, get_detector
from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation.importance import permutation_importance

NAMES = ["hour", "bytes_out", "geo_distance", "failed_logins"]
SIGNAL = 2  # the only column the toy detector reads


class OneFeatureDetector:
    """Scores by the distance of one column from 0; refuses to be refitted."""

    def __init__(self, column: int) -> None:
        self.column = column
        self.score_calls = 0

    def fit(self, X: object, y: object = None) -> OneFeatureDetector:
        raise AssertionError("permutation importance must not refit the detector")

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        self.score_calls += 1
        # scikit-learn convention: higher = more normal.
        return -np.abs(np.asarray(X)[:, self.column])


def _toy_data(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES)))
    y = np.zeros(n, dtype=int)
    y[:20] = 1
    # Attacks stand out in the signal column and, to tempt a wrong answer,
    # also in a column the detector never reads.
    X[:20, SIGNAL] += 6.0
    X[:20, 1] += 6.0
    return X, y


def test_only_the_feature_the_detector_reads_matters():
    X, y = _toy_data()
    detector = OneFeatureDetector(SIGNAL)
    table = permutation_importance(detector, X, y, NAMES, n_repeats=4, random_state=1)

    assert list(table.columns) == ["feature", "importance_mean", "importance_std", "baseline"]
    assert table["feature"].iloc[0] == NAMES[SIGNAL]
    assert table["importance_mean"].iloc[0] > 0.5
    # Shuffling a column the scores ignore leaves every score unchanged.
    others = table[table["feature"] != NAMES[SIGNAL]]
    assert (others["importance_mean"] == 0.0).all()
    assert (others["importance_std"] == 0.0).all()
    assert sorted(table["feature"]) == sorted(NAMES)
    assert table["importance_mean"].is_monotonic_decreasing
    # Baseline once, then one scoring per feature and repeat; never a refit.
    assert detector.score_calls == 1 + len(NAMES) * 4
    baseline = average_precision_score(y, anomaly_scores(detector, X))
    assert np.allclose(table["baseline"], baseline)


def test_input_matrix_is_left_untouched():
    X, y = _toy_data()
    before = X.copy()
    permutation_importance(OneFeatureDetector(SIGNAL), X, y, NAMES, n_repeats=2)
    np.testing.assert_array_equal(X, before)


def test_same_seed_same_table_other_seed_other_table():
    X, y = _toy_data()
    det = OneFeatureDetector(SIGNAL)
    first = permutation_importance(det, X, y, NAMES, n_repeats=3, random_state=7)
    again = permutation_importance(det, X, y, NAMES, n_repeats=3, random_state=7)
    pd.testing.assert_frame_equal(first, again)
    other = permutation_importance(det, X, y, NAMES, n_repeats=3, random_state=8)
    assert not np.isclose(first["importance_mean"].iloc[0], other["importance_mean"].iloc[0])
    # A Generator may be passed instead of a seed.
    from_gen = permutation_importance(
        det, X, y, NAMES, n_repeats=3, random_state=np.random.default_rng(7)
    )
    pd.testing.assert_frame_equal(first, from_gen)


def test_roc_auc_and_a_single_repeat():
    X, y = _toy_data()
    det = OneFeatureDetector(SIGNAL)
    table = permutation_importance(det, X, y, NAMES, n_repeats=1, metric="roc_auc")
    assert np.allclose(table["baseline"], roc_auc_score(y, anomaly_scores(det, X)))
    assert (table["importance_std"] == 0.0).all()
    assert table["feature"].iloc[0] == NAMES[SIGNAL]


def test_real_detector_fitted_on_a_dataframe(small_df):
    from soc_anomaly.data.schema import FEATURE_COLS, LABEL_COL

    normal = small_df[small_df[LABEL_COL] == 0][FEATURE_COLS].iloc[:600]
    detector = get_detector("iforest").build(0.02, 0, n_estimators=25, n_jobs=1).fit(normal)
    X = small_df[FEATURE_COLS].iloc[:800]
    y = small_df[LABEL_COL].iloc[:800].to_numpy()
    if y.sum() == 0:  # keep the test independent of where the attacks fall
        X, y = small_df[FEATURE_COLS], small_df[LABEL_COL].to_numpy()
    with warnings.catch_warnings():
        # Scoring a plain array with a detector fitted on named columns warns;
        # a DataFrame in must be scored as a DataFrame.
        warnings.simplefilter("error")
        table = permutation_importance(detector, X, y, FEATURE_COLS, n_repeats=2)
    assert len(table) == len(FEATURE_COLS)
    assert np.allclose(table["baseline"], average_precision_score(y, anomaly_scores(detector, X)))
    assert np.isfinite(table[["importance_mean", "importance_std"]].to_numpy()).all()


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"n_repeats": 0}, ParameterError, r"n_repeats must be a positive integer, got 0"),
        ({"n_repeats": 2.5}, ParameterError, r"n_repeats .* got 2\.5"),
        ({"n_repeats": True}, ParameterError, r"n_repeats .* got True"),
        ({"metric": "f1"}, ParameterError, r"metric must be one of 'pr_auc', 'roc_auc', got 'f1'"),
        ({"random_state": -1}, ParameterError, r"random_state must be an integer >= 0, got -1"),
        ({"feature_names": NAMES[:3]}, ParameterError, r"has 3 names but X has 4 columns"),
        ({"feature_names": ["a", "b", "a", "c"]}, ParameterError, r"lists 'a' twice"),
        ({"feature_names": "abcd"}, ParameterError, r"got the string 'abcd'"),
        ({"y": np.zeros(400)}, DataError, r"no anomalies"),
        ({"y": np.ones(400)}, DataError, r"no normal events"),
        ({"y": np.r_[2, np.zeros(399)]}, DataError, r"only 0 .* and 1 .*found 2.* at row 1"),
        ({"y": np.zeros(10)}, DataError, r"y has 10 labels but X has 400 rows"),
        ({"X": np.zeros(400)}, DataError, r"X has 1 dimension\(s\)"),
        ({"X": np.full((400, 4), np.nan)}, DataError, r"non-finite value \(nan\) at row 1"),
        ({"X": np.full((400, 4), "x")}, DataError, r"not numbers"),
    ],
)
def test_bad_inputs_give_one_line_errors(kwargs, error, pattern):
    X, y = _toy_data()
    args = {"X": X, "y": y, "feature_names": NAMES, **kwargs}
    options = {k: v for k, v in args.items() if k not in {"X", "y", "feature_names"}}
    with pytest.raises(error, match=pattern) as exc:
        permutation_importance(
            OneFeatureDetector(SIGNAL), args["X"], args["y"], args["feature_names"], **options
        )
    _one_line(exc)


def test_non_finite_scores_are_reported():
    class Broken(OneFeatureDetector):
        def score_samples(self, X: np.ndarray) -> np.ndarray:
            return np.full(len(X), np.nan)

    X, y = _toy_data()
    with pytest.raises(DataError, match="NaN or infinite scores") as exc:
        permutation_importance(Broken(0), X, y, NAMES)
    _one_line(exc)
