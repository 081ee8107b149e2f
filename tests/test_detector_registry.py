"""One contract test over every registered detector, plus registry behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from soc_anomaly.detectors import (
    DETECTORS,
    anomaly_scores,
    get_detector,
    parse_detector_names,
    training_anomaly_scores,
)
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.names import SEQUENCE_DETECTORS
from soc_anomaly.errors import ParameterError


def _instances():
    # The classes at their own defaults (scikit-learn's checks use tiny data).
    seen = set()
    for spec in DETECTORS.values():
        if spec.cls not in seen:
            seen.add(spec.cls)
            yield spec.cls()


@parametrize_with_checks(list(_instances()))
def test_every_detector_is_a_scikit_learn_outlier_estimator(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blob_and_outliers():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(600, 8))
    test = np.vstack([rng.normal(size=(300, 8)), rng.normal(size=(30, 8)) * 0.5 + 6.0])
    y = np.r_[np.zeros(300), np.ones(30)]
    return train, test, y


@pytest.mark.parametrize("name", [n for n in DETECTORS if n not in SEQUENCE_DETECTORS])
def test_registered_detectors_find_far_points(name, blob_and_outliers):
    train, test, y = blob_and_outliers
    names = [f"x{i}" for i in range(train.shape[1])]
    detector = get_detector(name).build(0.01, 0, names).fit(train)
    scores = anomaly_scores(detector, test)
    assert roc_auc_score(y, scores) > 0.95
    calibrated = ScoreCalibrator().fit(training_anomaly_scores(detector, train)).transform(scores)
    # Far points sit beyond nearly all normal training traffic.
    assert np.median(calibrated[y == 1]) > 99
    assert 20 < np.median(calibrated[y == 0]) < 80


def test_the_markov_detector_adds_the_sequence_surprises_and_refuses_other_features():
    rng = np.random.default_rng(0)
    names = ["hour_rarity", "action_surprise", "window_surprise"]
    train = rng.normal(size=(500, 3))
    det = get_detector("markov").build(0.01, 0, names).fit(train)
    test = np.array([[50.0, 0.0, 0.0], [0.0, 3.0, 3.0]])
    # Only the sequence columns count: a wild hour is nothing to it.
    assert list(anomaly_scores(det, test)) == [0.0, 6.0]
    seed = get_detector("markov").build(0.01, 0, [f"x{i}" for i in range(3)])
    with pytest.raises(ParameterError, match="use --features entity"):
        seed.fit(train)


def test_parse_detector_names():
    assert parse_detector_names("iforest, ocsvm") == ("iforest", "ocsvm")
    assert parse_detector_names("all") == tuple(DETECTORS)
    assert parse_detector_names("ocsvm,ocsvm") == ("ocsvm",)
    with pytest.raises(ParameterError, match=r"unknown detector 'forest'; expected one of iforest"):
        parse_detector_names("iforest,forest")
    with pytest.raises(ParameterError, match="no detectors"):
        parse_detector_names(" , ")


def test_calibration_is_monotone_and_bounded():
    rng = np.random.default_rng(1)
    cal = ScoreCalibrator().fit(rng.normal(size=1000))
    x = np.linspace(-20, 20, 2001)
    y = cal.transform(x)
    assert np.all(np.diff(y) >= 0)
    inside = (x > -5) & (x < 5)
    assert np.all(np.diff(y[inside]) > 0)  # strictly increasing where it matters
    assert y.min() >= 0 and y.max() <= 100
    assert cal.transform(np.array([0.0]))[0] == pytest.approx(50, abs=3)
    # Beyond the training range scores keep their order instead of tying at 100.
    assert 99.8 < cal.transform(np.array([4.0]))[0] < cal.transform(np.array([5.0]))[0] < 100
