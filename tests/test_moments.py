"""Blockwise column moments agree with numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.data import moments
from soc_anomaly.data.moments import column_mean_std
from soc_anomaly.evaluation.explain import compute_feature_stats, global_feature_correlations


def test_small_matrices_are_numpys_bit_for_bit() -> None:
    X = np.random.default_rng(0).lognormal(size=(5_000, 6))
    mean, std = column_mean_std(X)
    np.testing.assert_array_equal(mean, X.mean(axis=0))
    np.testing.assert_array_equal(std, X.std(axis=0))


def test_blocks_agree_with_numpy(monkeypatch) -> None:
    monkeypatch.setattr(moments, "BLOCK_ROWS", 1_000)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10_500, 4)) * [1.0, 1e3, 1e-3, 0.0] + [5.0, -2e6, 1.0, 7.0]
    mean, std = column_mean_std(X)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std[:3], X.std(axis=0)[:3], rtol=1e-9)
    assert std[3] == 0.0  # a constant column is exactly constant


def test_feature_stats_and_correlations_match_pandas_and_numpy() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(3_000, 3)), columns=["a", "b", "c"])
    df["flat"] = 4
    scores = 2.0 * df["a"].to_numpy() - df["b"].to_numpy() + rng.normal(size=3_000)
    means, stds = compute_feature_stats(df, ["a", "b", "c", "flat"])
    pd.testing.assert_series_equal(means, df.astype(float).mean(), check_names=False)
    pd.testing.assert_series_equal(stds, df.astype(float).std(ddof=0), check_names=False)
    corr = global_feature_correlations(df, np.zeros(3_000), scores, ["a", "b", "c", "flat"])
    for c in "abc":
        assert np.isclose(corr[c], np.corrcoef(df[c], scores)[0, 1], rtol=1e-12)
    assert corr["flat"] == 0.0
    assert list(corr.index[:1]) == ["a"] and corr.index[-1] == "b"
