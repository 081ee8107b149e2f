import numpy as np
import pandas as pd
import pytest

from soc_anomaly.evaluation.explain import (
    Explanation,
    compute_feature_stats,
    deviant_feature_counts,
    explain_top,
    explain_top_anomalies,
    global_feature_correlations,
)


@pytest.fixture()
def toy():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"up": rng.normal(size=200), "down": rng.normal(size=200), "flat": np.ones(200)},
        index=np.arange(1000, 1200),
    )
    scores = 2 * X["up"].to_numpy() - X["down"].to_numpy()
    y = (scores > 3).astype(int)
    return X, y, scores


def test_correlations_have_the_right_signs_and_order(toy):
    X, y, scores = toy
    corr = global_feature_correlations(X, y, scores, ["up", "down", "flat"], "s")
    assert corr.name == "s"
    assert list(corr.index) == ["up", "flat", "down"]
    assert corr["up"] > 0.8 and corr["down"] < -0.3
    assert corr["flat"] == 0.0  # constant: no signal, not NaN
    np.testing.assert_allclose(corr["up"], np.corrcoef(X["up"], scores)[0, 1])


def test_feature_stats_are_population_moments(toy):
    X, _, _ = toy
    means, stds = compute_feature_stats(X, ["up", "flat"])
    assert means["flat"] == 1.0 and stds["flat"] == 0.0
    assert stds["up"] == pytest.approx(np.std(X["up"]))


def test_explanations_name_the_largest_deviations_first():
    train = pd.DataFrame({"a": [0.0, 2.0] * 50, "b": [10.0, 12.0] * 50, "c": [5.0] * 100})
    means, stds = compute_feature_stats(train, ["a", "b", "c"])  # a,b: std 1
    test = pd.DataFrame(
        {"a": [1.0, 21.0, 1.0], "b": [11.0, 8.0, 11.0], "c": [5.0, 5.0, 6.0]}, index=[7, 42, 9]
    )
    out = explain_top_anomalies(
        test, np.array([0, 1, 0]), np.array([0.1, 0.9, 0.5]), means, stds, ["a", "b", "c"], top_m=2
    )
    assert [e["index"] for e in out] == [42, 9]
    assert out[0]["true_label"] == 1 and out[0]["score"] == 0.9
    assert out[0]["explanations"] == ["a is +20.00 std from normal", "b is -3.00 std from normal"]
    # c never varied in training: the sentence says what it was and what it is.
    assert out[1]["explanations"] == ["c = 6 (always 5 in training)"]
    assert out[1]["zscores"] == {"c": np.inf}


def test_a_column_constant_in_training_reads_as_its_value_not_inf_std():
    # 0.1 summed 100 times leaves a rounding residue in the std (about 1e-17):
    # still constant, and 0.1 in the test is no deviation at all.
    train = pd.DataFrame(
        {"a": [0.0, 2.0] * 50, "x157": [0.0] * 100, "x9": [0.1] * 100, "x3": [-2.0] * 100}
    )
    means, stds = compute_feature_stats(train, list(train))
    assert 0 < stds["x9"] < 1e-15
    test = pd.DataFrame(
        {"a": [31.0, 1.0], "x157": [3.0, 0.0], "x9": [0.1, 0.1], "x3": [-2.5, -2.0]}
    )
    out = explain_top(test, [1, 0], [2.0, 1.0], means, stds, list(train), top_m=2, max_features=4)
    first, second = out
    # Values never seen in training come before the +30 std, the larger change
    # (0 -> 3, against -2 -> -2.5) first; x9 did not change and is not listed.
    assert first.explanations == [
        "x157 = 3 (always 0 in training)",
        "x3 = -2.5 (always -2 in training)",
        "a is +30.00 std from normal",
    ]
    assert first.zscores == {"x157": np.inf, "x3": -np.inf, "a": 30.0}
    # Nothing unusual: its largest deviation (a, 0 std) is still given, in std.
    assert second.explanations == ["a is +0.00 std from normal"]
    assert not any("inf std" in line for e in out for line in e.explanations)


def test_an_event_without_big_deviations_still_gets_its_largest():
    train = pd.DataFrame({"a": [0.0, 2.0] * 10})
    means, stds = compute_feature_stats(train, ["a"])
    out = explain_top_anomalies(pd.DataFrame({"a": [1.5]}), [0], [1.0], means, stds, ["a"], top_m=5)
    assert out[0]["explanations"] == ["a is +0.50 std from normal"]


def test_deviant_feature_counts():
    expl = [{"zscores": {"a": 3.0, "b": 2.0}}, {"zscores": {"b": 5.0}}, {"zscores": {"c": 9.0}}]
    counts = deviant_feature_counts(expl)
    assert counts.to_dict() == {"b": 2, "a": 1, "c": 1}


def test_typed_explanations_match_the_seed_dicts():
    train = pd.DataFrame({"a": [0.0, 2.0] * 50, "b": [10.0, 12.0] * 50})
    means, stds = compute_feature_stats(train, ["a", "b"])
    test = pd.DataFrame({"a": [1.0, 21.0], "b": [11.0, 8.0]}, index=[7, 42])
    args = (test, np.array([0, 1]), np.array([0.1, 0.9]), means, stds, ["a", "b"])
    typed = explain_top(*args, top_m=2)
    assert all(isinstance(e, Explanation) for e in typed)
    assert [e.to_dict() for e in typed] == explain_top_anomalies(*args, top_m=2)
    assert list(typed[0].to_dict()) == ["index", "true_label", "score", "explanations", "zscores"]
    scored = Explanation(42, 1, 0.9, ["a is +20.00 std from normal"], {"a": 20.0}, 99.5)
    assert scored.to_dict()["calibrated_score"] == 99.5
    assert (
        deviant_feature_counts(typed).to_dict()
        == deviant_feature_counts([e.to_dict() for e in typed]).to_dict()
    )
