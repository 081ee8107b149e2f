"""IsolationForest grows its trees from a seeded sample of a large training set."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from soc_anomaly.detectors import iforest
from soc_anomaly.detectors.iforest import IForestDetector


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(iforest, "MAX_FIT_ROWS", 1_000)
    return 1_000


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    train = rng.normal(size=(6_000, 4))
    test = np.vstack([rng.normal(size=(500, 4)), rng.normal(size=(50, 4)) * 4.0 + 3.0])
    y = np.r_[np.zeros(500), np.ones(50)]
    return train, test, y


def test_trees_draw_from_the_pool_only(small_pool: int) -> None:
    train, test, y = _data()
    detector = IForestDetector(n_estimators=50, random_state=0).fit(train)
    drawn = np.concatenate(detector.forest_.estimators_samples_)
    # Positions in the pool: every tree's rows come from the first MAX_FIT_ROWS.
    assert drawn.max() < small_pool
    assert len(np.unique(drawn)) > 0.9 * small_pool  # and the pool is well used
    assert detector.n_features_in_ == 4
    assert roc_auc_score(y, -detector.score_samples(test)) > 0.95


def test_the_pool_is_seeded(small_pool: int) -> None:
    train, test, _ = _data()
    a = IForestDetector(n_estimators=20, random_state=3).fit(train).score_samples(test)
    b = IForestDetector(n_estimators=20, random_state=3).fit(train).score_samples(test)
    c = IForestDetector(n_estimators=20, random_state=4).fit(train).score_samples(test)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rs = np.random.RandomState(3)  # a generator as random_state works too
    assert IForestDetector(n_estimators=5, random_state=rs).fit(train).forest_ is not None


def test_small_sets_and_fractions_use_every_row(small_pool: int) -> None:
    train, _, _ = _data()
    few = IForestDetector(n_estimators=5, random_state=0).fit(train[:800])
    plain = IsolationForest(n_estimators=5, random_state=0).fit(train[:800])
    np.testing.assert_array_equal(few.score_samples(train), plain.score_samples(train))
    # A float max_samples is a share of the training rows, so it keeps them all.
    share = IForestDetector(n_estimators=5, max_samples=0.5, random_state=0).fit(train)
    assert share.forest_._max_samples == 3_000
