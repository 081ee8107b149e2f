"""Behaviour of the weighted risk score and of the calibrated ensemble on tiny, obvious data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from soc_anomaly.data.schema import FEATURE_COLS
from soc_anomaly.detectors.base import anomaly_scores
from soc_anomaly.detectors.ensemble import EnsembleDetector
from soc_anomaly.detectors.iforest import IForestDetector
from soc_anomaly.detectors.risk_score import (
    DIRECTIONS,
    SOC_RISK_DIRECTIONS,
    SOC_RISK_WEIGHTS,
    RiskScoreDetector,
)


@pytest.fixture(scope="module")
def gauss() -> np.ndarray:
    """400 standard normal rows, 2 features: median ~0, robust scale ~1."""
    return np.random.default_rng(0).normal(size=(400, 2))


def risk(det: RiskScoreDetector, rows: list[list[float]]) -> np.ndarray:
    return anomaly_scores(det, np.asarray(rows, dtype=float))


# -- risk score ---------------------------------------------------------------
def test_high_direction_only_counts_high_values(gauss: np.ndarray) -> None:
    det = RiskScoreDetector(directions={"x0": "high"}).fit(gauss)
    up, down = risk(det, [[3.0, 0.0], [-3.0, 0.0]])
    assert up > down
    # A low value of a "high" feature is no risk at all.
    assert det.contributions(np.array([[-3.0, 0.0]]))["x0"].iloc[0] == 0.0


def test_low_direction_only_counts_low_values(gauss: np.ndarray) -> None:
    det = RiskScoreDetector(directions={"x0": "low", "x1": "low"}).fit(gauss)
    up, down = risk(det, [[3.0, 0.0], [-3.0, 0.0]])
    assert down > up
    assert det.contributions(np.array([[3.0, -5.0]]))["x0"].iloc[0] == 0.0


def test_both_direction_is_symmetric(gauss: np.ndarray) -> None:
    det = RiskScoreDetector().fit(gauss)
    up, down = risk(det, [[3.0, 0.0], [-3.0, 0.0]])
    assert up == pytest.approx(down, rel=0.1)


def test_weights_change_the_ranking(gauss: np.ndarray) -> None:
    rows = [[3.0, 0.0], [0.0, 3.0]]
    a, b = risk(RiskScoreDetector(weights={"x0": 1.0}).fit(gauss), rows)
    assert a > b
    a, b = risk(RiskScoreDetector(weights={"x0": 1.0, "x1": 3.0}).fit(gauss), rows)
    assert b > a
    # Only ratios matter: the weights are normalised to sum to 1.
    det = RiskScoreDetector(weights={"x0": 5.0, "x1": 5.0}).fit(gauss)
    np.testing.assert_allclose(det.weights_, [0.5, 0.5])
    np.testing.assert_allclose(risk(det, rows), risk(RiskScoreDetector().fit(gauss), rows))


def test_contributions_sum_to_the_risk(gauss: np.ndarray) -> None:
    det = RiskScoreDetector(weights={"x0": 2.0, "x1": 1.0}, directions={"x1": "low"}).fit(gauss)
    X = np.random.default_rng(1).normal(scale=3.0, size=(50, 2))
    contrib = det.contributions(X)
    assert list(contrib.columns) == ["x0", "x1"]
    assert (contrib.to_numpy() >= 0).all()
    np.testing.assert_allclose(contrib.sum(axis=1), anomaly_scores(det, X))


def test_robust_scale_falls_back_to_std_then_one() -> None:
    # Column 0 is mostly 0 (IQR 0, std > 0), column 1 is constant.
    X = np.zeros((20, 2))
    X[:2, 0] = 4.0
    det = RiskScoreDetector().fit(X)
    assert det.scale_[0] == pytest.approx(X[:, 0].std())
    assert det.scale_[1] == 1.0


def test_names_come_from_a_dataframe(gauss: np.ndarray) -> None:
    df = pd.DataFrame(gauss, columns=["failed_logins", "device_trust_score"], index=range(5, 405))
    det = RiskScoreDetector(
        weights={"failed_logins": 1.0, "device_trust_score": 1.0},
        directions={"failed_logins": "high", "device_trust_score": "low"},
    ).fit(df)
    assert list(det.feature_names_) == ["failed_logins", "device_trust_score"]
    contrib = det.contributions(df.iloc[:3])
    assert list(contrib.columns) == list(df.columns)
    assert list(contrib.index) == [5, 6, 7]
    # Many failed logins on a trusted device: only the first feature is risky.
    row = pd.DataFrame([[4.0, 4.0]], columns=df.columns)
    assert det.contributions(row).iloc[0].tolist()[1] == 0.0


def test_feature_names_name_array_columns(gauss: np.ndarray) -> None:
    det = RiskScoreDetector(feature_names=["bytes_out", "hour"], weights={"bytes_out": 1.0})
    det.fit(gauss)
    assert list(det.contributions(gauss[:2]).columns) == ["bytes_out", "hour"]
    with pytest.raises(ValueError, match="feature_names has 3 names but X has 2 features"):
        RiskScoreDetector(feature_names=["a", "b", "c"]).fit(gauss)
    df = pd.DataFrame(gauss, columns=["hour", "bytes_out"])
    with pytest.raises(ValueError, match="differ from the DataFrame's columns"):
        RiskScoreDetector(feature_names=["bytes_out", "hour"]).fit(df)


def test_bad_weights_and_directions_name_the_value(gauss: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"unknown feature\(s\) 'nope' in weights.*'x0', 'x1'"):
        RiskScoreDetector(weights={"nope": 1.0}).fit(gauss)
    with pytest.raises(ValueError, match=r"unknown feature\(s\) 'hour' in directions"):
        RiskScoreDetector(directions={"hour": "high"}).fit(gauss)
    with pytest.raises(ValueError, match=r"weights\['x0'\] = -1"):
        RiskScoreDetector(weights={"x0": -1}).fit(gauss)
    with pytest.raises(ValueError, match=r"weights\['x1'\] = 'heavy'"):
        RiskScoreDetector(weights={"x1": "heavy"}).fit(gauss)
    with pytest.raises(ValueError, match=r"directions\['x0'\] = 'up'"):
        RiskScoreDetector(directions={"x0": "up"}).fit(gauss)
    with pytest.raises(ValueError, match="weight 0"):
        RiskScoreDetector(weights={"x0": 0.0}).fit(gauss)


def test_soc_weights_cover_the_event_features() -> None:
    assert list(SOC_RISK_WEIGHTS) == FEATURE_COLS
    assert list(SOC_RISK_DIRECTIONS) == FEATURE_COLS
    assert sum(SOC_RISK_WEIGHTS.values()) == pytest.approx(1.0)
    assert set(SOC_RISK_DIRECTIONS.values()) <= set(DIRECTIONS)
    X = np.random.default_rng(2).normal(size=(100, len(FEATURE_COLS)))
    det = RiskScoreDetector(
        weights=dict(SOC_RISK_WEIGHTS),
        directions=dict(SOC_RISK_DIRECTIONS),
        feature_names=list(FEATURE_COLS),
    ).fit(X)
    storm = np.zeros((1, len(FEATURE_COLS)))
    storm[0, FEATURE_COLS.index("failed_logins")] = 10.0
    quiet = -storm  # very few failed logins is not risky
    assert anomaly_scores(det, storm)[0] > anomaly_scores(det, quiet)[0]


# -- ensemble -----------------------------------------------------------------
@pytest.fixture(scope="module")
def mixture() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correlated normal traffic; anomalies break the correlation or spike one feature."""
    rng = np.random.default_rng(5)

    def normal(n: int) -> np.ndarray:
        x0 = rng.normal(size=n)
        return np.column_stack([x0, x0 + 0.3 * rng.normal(size=n), rng.normal(size=n)])

    broken = rng.normal(size=(20, 3))
    broken[:, 0] = rng.uniform(1.0, 2.0, 20)
    broken[:, 1] = -broken[:, 0]
    spiked = normal(20)
    spiked[:, 2] = rng.uniform(3.0, 5.0, 20)
    X_test = np.vstack([normal(200), broken, spiked])
    y_test = np.r_[np.zeros(200), np.ones(40)]
    return normal(300), X_test, y_test


@pytest.mark.parametrize("method", ["mean", "max", "rank"])
def test_ensemble_is_no_worse_than_its_worst_member(
    mixture: tuple[np.ndarray, np.ndarray, np.ndarray], method: str
) -> None:
    X_train, X_test, y_test = mixture
    ens = EnsembleDetector(method=method, random_state=0).fit(X_train)
    member_auc = [roc_auc_score(y_test, anomaly_scores(est, X_test)) for est in ens.estimators_]
    auc = roc_auc_score(y_test, anomaly_scores(ens, X_test))
    assert auc >= min(member_auc)


def test_ensemble_scores_are_calibrated(gauss: np.ndarray) -> None:
    ens = EnsembleDetector(random_state=0).fit(gauss)
    fresh = np.random.default_rng(9).normal(size=(2000, 2))
    # A new normal event is more anomalous than about half of normal traffic.
    assert 45.0 < anomaly_scores(ens, fresh).mean() < 55.0
    far = anomaly_scores(ens, np.array([[8.0, -8.0]]))[0]
    assert 99.0 < far <= 100.0
    assert (ens.member_scores(np.array([[8.0, -8.0]])).to_numpy() > 99.0).all()


def test_methods_combine_member_scores_as_documented(gauss: np.ndarray) -> None:
    X = np.array([[0.0, 0.0], [1.5, 0.5], [6.0, 6.0], [9.0, 9.0]])
    mean = EnsembleDetector(method="mean", random_state=0).fit(gauss)
    np.testing.assert_allclose(anomaly_scores(mean, X), mean.member_scores(X).mean(axis=1))
    top = EnsembleDetector(method="max", random_state=0).fit(gauss)
    np.testing.assert_allclose(anomaly_scores(top, X), top.member_scores(X).max(axis=1))
    rank = EnsembleDetector(method="rank", random_state=0).fit(gauss)
    r = anomaly_scores(rank, X)
    # Inside the training range rank equals mean; beyond every member's
    # training range it ties at the top rank, where mean keeps ordering.
    assert r[0] == pytest.approx(anomaly_scores(mean, X)[0])
    assert r[2] == r[3] < 100.0
    assert anomaly_scores(mean, X)[3] > anomaly_scores(mean, X)[2]


def test_ensemble_validates_method_and_members(gauss: np.ndarray) -> None:
    with pytest.raises(ValueError, match="median"):
        EnsembleDetector(method="median").fit(gauss)
    with pytest.raises(ValueError, match="members is empty"):
        EnsembleDetector(members=[]).fit(gauss)
    twins = [("f", IForestDetector(n_estimators=5)), ("f", RiskScoreDetector())]
    with pytest.raises(ValueError, match="not unique"):
        EnsembleDetector(members=twins).fit(gauss)
    with pytest.raises(ValueError, match="expected \\(name, estimator\\) tuples"):
        EnsembleDetector(members=[RiskScoreDetector()]).fit(gauss)


def test_members_are_cloned_seeded_and_reachable(gauss: np.ndarray) -> None:
    forest = IForestDetector(n_estimators=10)
    ens = EnsembleDetector(
        members=[("forest", forest), ("sk", IsolationForest(n_estimators=10))], random_state=3
    )
    params = ens.get_params(deep=True)
    assert params["forest"] is forest and params["forest__n_estimators"] == 10
    ens.set_params(forest__n_estimators=20).fit(gauss)
    assert forest.n_estimators == 20 and forest.random_state is None
    fitted = ens.named_estimators_["forest"]
    assert fitted is not forest and fitted.random_state == 3
    assert ens.named_estimators_["sk"].random_state == 3


def test_dataframe_names_reach_the_members(gauss: np.ndarray) -> None:
    df = pd.DataFrame(gauss, columns=["bytes_out", "hour"])
    ens = EnsembleDetector(random_state=0).fit(df)
    assert list(ens.named_estimators_["risk_score"].feature_names_) == ["bytes_out", "hour"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = ens.member_scores(df.iloc[:3])
    assert list(scores.columns) == ["iforest", "ocsvm", "risk_score"]


def test_members_keeping_training_samples_of_different_sizes_combine_on_common_rows(
    monkeypatch,
) -> None:
    # On a large training set each member keeps a sample of its training scores, and a
    # neighbour search keeps fewer (its reference rows): the ensemble combines them on the
    # rows both scored instead of failing on the shapes.
    import soc_anomaly.detectors.base as base
    from soc_anomaly.detectors.iforest import IForestDetector
    from soc_anomaly.detectors.knn import KNNDetector

    monkeypatch.setattr(base, "MAX_TRAIN_SCORE_ROWS", 300)
    X = np.random.default_rng(0).normal(size=(400, 4))
    members = [("knn", KNNDetector(max_samples=50)), ("iforest", IForestDetector(n_estimators=20))]
    ens = EnsembleDetector(members=members, random_state=0).fit(X)
    knn, forest = ens.estimators_
    assert len(knn.train_scores_) == 50 and len(forest.train_scores_) == 300
    assert np.isfinite(ens.train_scores_).all() and 0 < len(ens.train_scores_) <= 50
    assert np.isfinite(ens.score_samples(X[:5])).all()
