"""The compiled IsolationForest scorer gives scikit-learn's numbers exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.ensemble import IsolationForest

from soc_anomaly.detectors.flat_forest import FlatForest, flat_forest, forest_score_samples
from soc_anomaly.detectors.iforest import IForestDetector


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(3_000, 6))
    train[:, 5] = rng.integers(0, 3, size=3_000)  # a discrete column: many tied splits
    test = np.vstack([rng.normal(size=(2_000, 6)) * 2.0, train[:500]])
    return train, test


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"max_features": 0.5},
        {"max_features": 3, "bootstrap": True},
        {"max_samples": 64},
        {"max_samples": 1},
        {"n_estimators": 1},
    ],
    ids=["default", "feature-subsets", "bootstrap", "small-trees", "one-sample", "one-tree"],
)
def test_identical_to_scikit_learn(params: dict) -> None:
    train, test = _data()
    forest = IsolationForest(**{"n_estimators": 50, "random_state": 7, **params}).fit(train)
    expected = forest.score_samples(test)
    got = forest_score_samples(forest, test)
    # Bit for bit: the same comparisons and the same additions in the same order.
    np.testing.assert_array_equal(got, expected)


def test_split_values_themselves_go_left() -> None:
    """Rows exactly on a threshold, and just either side of it in float32."""
    train, _ = _data(1)
    forest = IsolationForest(n_estimators=20, random_state=3).fit(train)
    tree = forest.estimators_[0].tree_
    split = tree.threshold[0]
    column = forest.estimators_features_[0][tree.feature[0]]
    rows = np.repeat(train[:3], 3, axis=0)
    on = np.float32(split)
    rows[:, column] = [
        np.nextafter(on, np.float32(-np.inf)),
        on,
        np.nextafter(on, np.float32(np.inf)),
    ] * 3
    np.testing.assert_array_equal(forest_score_samples(forest, rows), forest.score_samples(rows))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (17, 6), elements=st.floats(-1e6, 1e6, width=32)))
def test_identical_on_arbitrary_rows(rows: np.ndarray) -> None:
    forest = _FOREST
    np.testing.assert_array_equal(forest_score_samples(forest, rows), forest.score_samples(rows))


_FOREST = IsolationForest(n_estimators=30, max_features=0.7, random_state=5).fit(_data(2)[0])


def test_siblings_are_neighbours_and_leaves_stay() -> None:
    flat = FlatForest.from_forest(_FOREST)
    assert len(flat.roots) == len(_FOREST.estimators_)
    leaves = flat.threshold == np.inf
    # A leaf points at itself; an inner node's right child is its left child + 1.
    np.testing.assert_array_equal(flat.left[leaves], np.flatnonzero(leaves))
    inner = np.flatnonzero(~leaves)
    assert (flat.left[inner] > inner).all()
    assert np.isfinite(flat.leaf_depth[leaves]).all()
    # The flattened forest is built once per fitted forest.
    assert flat_forest(_FOREST) is flat_forest(_FOREST)


def test_detector_scores_through_it() -> None:
    train, test = _data(3)
    detector = IForestDetector(n_estimators=40, random_state=0).fit(train)
    np.testing.assert_array_equal(
        detector.score_samples(test), detector.forest_.score_samples(test)
    )


def test_block_scores_are_the_same_however_the_threads_share_the_cores() -> None:
    """One thread until ``core_free`` is set, then all; set late, never, or already."""
    import threading

    from soc_anomaly.detectors import base

    train, _ = _data(4)
    rng = np.random.default_rng(9)
    test = rng.normal(size=(3 * base.SCORE_BLOCK_ROWS + 17, train.shape[1]))
    detector = IForestDetector(n_estimators=10, random_state=0).fit(train)
    expected = base.anomaly_scores(detector, test)
    already, never, late = threading.Event(), threading.Event(), threading.Event()
    already.set()
    threading.Timer(0.05, late.set).start()
    for event in (None, already, never, late):
        got = base.block_anomaly_scores(detector, test, n_jobs=2, core_free=event)
        np.testing.assert_array_equal(got, expected)


def test_a_failing_block_does_not_leave_a_thread_waiting() -> None:
    import threading

    from soc_anomaly.detectors import base

    class Broken:
        def score_samples(self, X: np.ndarray) -> np.ndarray:
            raise RuntimeError("broken detector")

    X = np.zeros((2 * base.SCORE_BLOCK_ROWS, 2))
    with pytest.raises(RuntimeError, match="broken detector"):
        base.block_anomaly_scores(Broken(), X, n_jobs=2, core_free=threading.Event())
