"""Explanations an analyst can read.

* Global: the Pearson correlation of each (unscaled) feature with a model's
  anomaly scores over the evaluated events: which fields push scores up.
* Local: for each top alert, the features furthest from the normal training
  baseline in standard deviations, as sentences such as
  ``geo_distance is +20.59 std from normal``. A feature that held one value
  on every training event has no standard deviation to count in; when an
  alert has another value there, the sentence says so instead
  (``x157 = 3 (always 0 in training)``), and such features are listed before
  any finite deviation: a value never seen in training is the most unusual
  thing an event can show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.data.moments import column_mean_std
from soc_anomaly.errors import ParameterError

__all__ = [
    "Explanation",
    "compute_feature_stats",
    "deviant_feature_counts",
    "explain_top",
    "explain_top_anomalies",
    "global_feature_correlations",
]


@dataclass(frozen=True)
class Explanation:
    """Why one alert stands out: its largest deviations from the normal baseline.

    Attributes
    ----------
    index : object
        The event's index label in the evaluated table.
    true_label : int
        0 (normal) or 1 (anomaly).
    score : float
        Anomaly score, higher = more anomalous.
    explanations : list of str
        Sentences such as ``geo_distance is +20.59 std from normal``, largest
        deviation first; a feature constant in training reads
        ``x157 = 3 (always 0 in training)``.
    zscores : dict of str to float
        Feature -> z-score of the listed deviations (``+inf`` or ``-inf`` for
        a feature constant in training, by the sign of the change).
    calibrated_score : float or None
        The score on the detector's 0-100 calibrated scale, when known.
    """

    index: Any
    true_label: int
    score: float
    explanations: list[str] = field(default_factory=list)
    zscores: dict[str, float] = field(default_factory=dict)
    calibrated_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The explanation as a plain dict (``calibrated_score`` only when known)."""
        out: dict[str, Any] = {
            "index": self.index,
            "true_label": self.true_label,
            "score": self.score,
            "explanations": list(self.explanations),
            "zscores": dict(self.zscores),
        }
        if self.calibrated_score is not None:
            out["calibrated_score"] = self.calibrated_score
        return out


def _check_aligned(X: pd.DataFrame, *arrays: ArrayLike) -> None:
    for arr in arrays:
        if len(np.asarray(arr)) != len(X):
            raise ParameterError(
                f"got {len(np.asarray(arr))} values for {len(X)} events; expected one per event"
            )


def global_feature_correlations(
    X_test_df: pd.DataFrame,
    y_test: ArrayLike,
    scores: ArrayLike,
    feature_cols: Sequence[str],
    score_col_name: str = "score",
) -> pd.Series:
    """Pearson correlation of each feature with the anomaly scores.

    Parameters
    ----------
    X_test_df : pandas.DataFrame
        Unscaled features of the evaluated events.
    y_test : array-like
        Labels of the same events; only checked for alignment, since the
        correlation describes what drives the *scores*, labelled or not.
    scores : array-like
        Anomaly scores of the same events, higher = more anomalous.
    feature_cols : sequence of str
        Features to correlate.
    score_col_name : str, default="score"
        Name given to the returned Series.

    Returns
    -------
    pandas.Series
        Indexed by feature, sorted from most positive to most negative
        correlation. A feature that is constant over the events carries no
        signal and gets 0.0.
    """
    _check_aligned(X_test_df, y_test, scores)
    s = np.asarray(scores, dtype=float)
    X = X_test_df[list(feature_cols)].to_numpy(dtype=float)
    _, std = column_mean_std(X)
    sc = s - s.mean()
    # cov(x, s) = mean(x * (s - mean(s))): one matrix-vector product, no
    # centred copy of the features (millions of events on the world).
    cov = (sc @ X) / len(s)
    denom = std * np.sqrt(np.mean(sc**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0, cov / denom, 0.0)
    return pd.Series(corr, index=list(feature_cols), name=score_col_name).sort_values(
        ascending=False
    )


def compute_feature_stats(
    X_train_df: pd.DataFrame, feature_cols: Sequence[str]
) -> tuple[pd.Series, pd.Series]:
    """Mean and standard deviation of each feature over the normal training events.

    Parameters
    ----------
    X_train_df : pandas.DataFrame
        Unscaled features of the training (normal) events.
    feature_cols : sequence of str
        Features to describe.

    Returns
    -------
    means, stds : pandas.Series
        Indexed by feature. ``stds`` is the population standard deviation
        (as the scaler uses).
    """
    cols = list(feature_cols)
    # Column by column: no float copy of every training event.
    stats = [column_mean_std(X_train_df[c].to_numpy(dtype=float)[:, None]) for c in cols]
    means = pd.Series([float(m[0]) for m, _ in stats], index=cols, dtype=float)
    stds = pd.Series([float(s[0]) for _, s in stats], index=cols, dtype=float)
    return means, stds


#: A feature whose training standard deviation is at most this share of its
#: mean was constant in training: summing identical floats leaves a rounding
#: residue (0.1 repeated has std 1.4e-17), which must not read as a deviation
#: of 1e16 standard deviations.
_CONSTANT_RTOL = 1e-10


def _constant(means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """Which features held one value on every training event."""
    return stds <= _CONSTANT_RTOL * np.abs(means)


def _zscores(values: np.ndarray, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """Deviations in training standard deviations; +-inf where a constant feature changed."""
    constant = np.broadcast_to(_constant(means, stds), values.shape)
    diff = values - means
    z = diff / np.where(constant, 1.0, stds)
    # A feature that never varied in training: any change is off the scale. The
    # tolerance absorbs the rounding of the training mean itself.
    same = np.abs(diff) <= _CONSTANT_RTOL * np.maximum(np.abs(values), np.abs(means))
    off_scale = np.copysign(np.inf, diff)
    return np.where(constant, np.where(same, 0.0, off_scale), z)


def _shown(value: float) -> str:
    """A feature value as an analyst would write it: ``3``, ``0.25``, ``1.5e+09``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _order(z: np.ndarray, values: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Features of one event, most unusual first.

    Finite deviations rank by size. A feature constant in training that changed
    (``z`` infinite) outranks all of them; among several such features, the
    larger change relative to the training value comes first (0 -> 3 before
    0 -> 1), then column order.
    """
    off_scale = np.isinf(z)
    change = np.abs(values - means) / np.maximum(np.abs(means), 1.0)
    size = np.where(off_scale, change, np.abs(z))
    # lexsort sorts by the last key first: off-scale features, then size, then column.
    return np.lexsort((np.arange(len(z)), -size, ~off_scale))


def _sentence(name: str, z: float, value: float, mean: float) -> str:
    if np.isinf(z):
        return f"{name} = {_shown(value)} (always {_shown(mean)} in training)"
    return f"{name} is {z:+.2f} std from normal"


def explain_top(
    X_test_df: pd.DataFrame,
    y_test: ArrayLike,
    scores: ArrayLike,
    means: pd.Series,
    stds: pd.Series,
    feature_cols: Sequence[str],
    top_m: int = 10,
    max_features: int = 3,
    min_abs_z: float = 2.0,
) -> list[Explanation]:
    """Z-score narratives for the ``top_m`` highest-scoring events.

    Parameters
    ----------
    X_test_df : pandas.DataFrame
        Unscaled features of the evaluated events; its index identifies them.
    y_test : array-like
        0/1 labels of the same events.
    scores : array-like
        Anomaly scores, higher = more anomalous.
    means, stds : pandas.Series
        Baseline from :func:`compute_feature_stats`.
    feature_cols : sequence of str
        Features to consider.
    top_m : int, default=10
        Number of events to explain.
    max_features : int, default=3
        At most this many deviations per event.
    min_abs_z : float, default=2.0
        Deviations smaller than this are left out, except that an event with
        none that large still gets its largest one.

    Returns
    -------
    list of Explanation
        Highest score first. A feature that was constant in training and
        differs now is listed before every finite deviation, as
        ``<feature> = <value> (always <training value> in training)``.
    """
    if isinstance(top_m, bool) or not isinstance(top_m, int) or top_m < 1:
        raise ParameterError(f"top_m must be a positive integer, got {top_m!r}")
    _check_aligned(X_test_df, y_test, scores)
    cols = list(feature_cols)
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y_test)
    order = np.argsort(-s, kind="stable")[:top_m]
    X = X_test_df[cols].to_numpy(dtype=float)[order]
    mu = means[cols].to_numpy(dtype=float)
    z = _zscores(X, mu, stds[cols].to_numpy(dtype=float))
    out: list[Explanation] = []
    for row, pos in enumerate(order):
        by_size = _order(z[row], X[row], mu)
        keep = [j for j in by_size[:max_features] if abs(z[row, j]) >= min_abs_z] or [by_size[0]]
        label = X_test_df.index[pos]
        out.append(
            Explanation(
                index=label.item() if hasattr(label, "item") else label,
                true_label=int(y[pos]),
                score=float(s[pos]),
                explanations=[_sentence(cols[j], z[row, j], X[row, j], mu[j]) for j in keep],
                zscores={cols[j]: float(z[row, j]) for j in keep},
            )
        )
    return out


def explain_top_anomalies(
    X_test_df: pd.DataFrame,
    y_test: ArrayLike,
    scores: ArrayLike,
    means: pd.Series,
    stds: pd.Series,
    feature_cols: Sequence[str],
    top_m: int = 10,
    max_features: int = 3,
    min_abs_z: float = 2.0,
) -> list[dict[str, Any]]:
    """Z-score narratives for the ``top_m`` highest-scoring events, as plain dicts.

    The seed's form of :func:`explain_top`, with the same parameters.

    Returns
    -------
    list of dict
        Highest score first, each with ``index`` (the event's index label),
        ``true_label`` (0/1), ``score``, ``explanations`` (strings, largest
        deviation first) and ``zscores`` (feature -> z of the listed ones).
    """
    return [
        e.to_dict()
        for e in explain_top(
            X_test_df, y_test, scores, means, stds, feature_cols, top_m, max_features, min_abs_z
        )
    ]


def deviant_feature_counts(
    explanations: Sequence[Explanation] | Sequence[Mapping[str, Any]],
) -> pd.Series:
    """How often each feature appears in a list of local explanations.

    Parameters
    ----------
    explanations : sequence of Explanation or of dict
        Output of :func:`explain_top` or :func:`explain_top_anomalies`.

    Returns
    -------
    pandas.Series
        Feature -> count, most frequent first (ties by name).
    """
    counts = Counter(
        f for e in explanations for f in (e.zscores if isinstance(e, Explanation) else e["zscores"])
    )
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.Series(dict(items), dtype=np.int64, name="count")
