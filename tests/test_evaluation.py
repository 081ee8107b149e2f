import numpy as np
import pytest

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation.metrics import (
    ModelEvaluation,
    attack_type_codes,
    confusion_at_threshold,
    evaluate_model,
    evaluate_scores,
    precision_at_k,
    recall_by_attack,
    threshold_at_percentile,
)

Y = np.array([0, 0, 0, 0, 0, 0, 1, 0, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9])


def test_precision_at_k_counts_the_top_events():
    assert precision_at_k(Y, S, 1) == 1.0
    assert precision_at_k(Y, S, 3) == pytest.approx(2 / 3)
    assert precision_at_k(Y, S, 4) == pytest.approx(3 / 4)


def test_precision_at_k_breaks_ties_by_position():
    y = np.array([0, 1, 1])
    s = np.array([1.0, 1.0, 1.0])
    assert precision_at_k(y, s, 1) == 0.0  # the first of the tied events


def test_confusion_at_threshold():
    m = confusion_at_threshold(Y, S, 0.65)
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (3, 1, 6, 0)
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == 1.0
    assert m["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert m["alerts"] == 4
    assert m["false_positive_rate"] == pytest.approx(1 / 7)
    none = confusion_at_threshold(Y, S, 5.0)
    assert none["alerts"] == 0 and none["precision"] == 0.0 and none["f1"] == 0.0


def test_percentile_threshold_and_evaluate_model():
    assert threshold_at_percentile(np.arange(101), 99) == pytest.approx(99.0)
    m = evaluate_model("toy", Y, S, k=2, threshold_percentile=80)
    assert m["model"] == "toy"
    assert m["threshold"] == pytest.approx(np.percentile(S, 80))
    assert (m["tp"], m["fp"]) == (2, 0)
    assert m["precision_at_k"] == 1.0
    # 0.65 is below one normal (0.7): one mis-ordered pair of 3 x 7.
    assert m["roc_auc"] == pytest.approx(1 - 1 / 21)
    # Average precision: attacks at ranks 1, 2 and 4 -> (1 + 1 + 3/4) / 3.
    assert m["pr_auc"] == pytest.approx((1 + 1 + 0.75) / 3)
    fixed = evaluate_model("toy", Y, S, k=2, threshold_percentile=80, threshold=0.65)
    assert (fixed["tp"], fixed["fp"]) == (3, 1)


def test_typed_evaluation_is_the_dict_of_evaluate_model():
    typed = evaluate_scores("toy", Y, S, k=2, threshold_percentile=80)
    assert isinstance(typed, ModelEvaluation)
    as_dict = evaluate_model("toy", Y, S, k=2, threshold_percentile=80)
    assert typed.to_dict() == as_dict
    assert list(as_dict)[:3] == ["model", "n_events", "n_anomalies"]
    assert (typed.tp, typed.fp, typed.k) == (as_dict["tp"], as_dict["fp"], 2)


def test_recall_by_attack():
    kinds = np.array(["normal", "exfiltration", "brute_force", "exfiltration"])
    scores = np.array([0.0, 0.9, 0.2, 0.4])
    assert recall_by_attack(kinds, scores, 0.5) == {"brute_force": 0.0, "exfiltration": 0.5}


def test_recall_by_attack_reads_coded_attack_types_alike():
    rng = np.random.default_rng(0)
    kinds = rng.choice(["normal", "exfiltration", "brute_force", "c2_beacon"], 500)
    scores = rng.random(500)
    coded = attack_type_codes(kinds)
    for t in (0.1, 0.5, 0.9):
        assert recall_by_attack(coded, scores, t) == recall_by_attack(kinds, scores, t)
    with pytest.raises(ParameterError, match="differ in length"):
        recall_by_attack(coded, scores[:-1], 0.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"k": 0}, ParameterError, "k must be a positive integer, got 0"),
        ({"k": -2}, ParameterError, "k must be a positive integer"),
        ({"k": 11}, ParameterError, "k=11 exceeds the 10 evaluated events"),
        ({"threshold_percentile": 0.0}, ParameterError, r"must be in \(0, 100\), got 0.0"),
        ({"threshold_percentile": 100.0}, ParameterError, r"must be in \(0, 100\)"),
        ({"threshold_percentile": -5}, ParameterError, r"must be in \(0, 100\)"),
    ],
)
def test_bad_evaluation_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        evaluate_model("toy", Y, S, **{"k": 2, "threshold_percentile": 99, **kwargs})


def test_bad_labels_and_scores():
    with pytest.raises(DataError, match="no anomalies"):
        evaluate_model("toy", np.zeros(10), S)
    with pytest.raises(ParameterError, match="differ in length"):
        evaluate_model("toy", Y[:5], S)
    with pytest.raises(ParameterError, match="NaN or infinite"):
        evaluate_model("toy", Y, np.where(Y == 1, np.nan, S))
    with pytest.raises(ParameterError, match="0 \\(normal\\) or 1"):
        evaluate_model("toy", Y * 2, S)
