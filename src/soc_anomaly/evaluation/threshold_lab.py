"""The threshold lab: every rule on the same scores, and how each one performs.

:func:`threshold_report` scores one threshold against labels,
:func:`threshold_lab` runs every rule of :mod:`soc_anomaly.evaluation.thresholds`
at once and :func:`percentile_sweep` tabulates precision and recall against
the percentile. Every function is pure: nothing is plotted, printed or written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation._checks import (
    check_labelled,
    check_number,
    check_percentile,
    check_positive,
    check_scores,
    plain,
)
from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.metrics import (
    attack_type_codes,
    confusion_at_threshold,
    recall_by_attack,
    threshold_at_percentile,
)
from soc_anomaly.evaluation.thresholds import (
    by_alert_budget,
    by_evaluated_percentile,
    by_fbeta,
    by_normal_percentile,
)

__all__ = [
    "DEFAULT_SWEEP_PERCENTILES",
    "ThresholdReport",
    "percentile_sweep",
    "threshold_lab",
    "threshold_report",
]

#: Default grid of :func:`percentile_sweep`: every whole percentile from 90 to 99,
#: then 99.5 and 99.9 (alert shares of 10% down to 0.1%), where SOC thresholds live.
DEFAULT_SWEEP_PERCENTILES: tuple[float, ...] = (
    *(float(p) for p in range(90, 100)),
    99.5,
    99.9,
)


@dataclass(frozen=True)
class ThresholdReport:
    """How one threshold performs on labelled scores.

    Attributes
    ----------
    name : str
        Human-readable label, e.g. ``"normal p99"``.
    rule : str
        Rule that chose the threshold, e.g. ``"normal_percentile"``.
    threshold : float
        Events with ``score >= threshold`` alert.
    n_events : int
        Number of evaluated events.
    alerts, tp, fp, tn, fn : int
        Alert count and confusion matrix.
    precision, recall, f1, false_positive_rate : float
        Derived rates; 0.0 when the denominator is empty.
    alert_share : float
        ``alerts / n_events``.
    alerts_per_day : float or None
        ``alert_share * events_per_day`` when the event rate was given.
    recall_by_attack : dict of str to float, or None
        Recall of each attack type when attack types were given.
    """

    name: str
    rule: str
    threshold: float
    n_events: int
    alerts: int
    tp: int
    fp: int
    tn: int
    fn: int
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    alert_share: float
    alerts_per_day: float | None = None
    recall_by_attack: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as plain ``str``/``int``/``float``/``None``/``dict`` values, JSON-ready."""
        return asdict(self)


def threshold_report(
    name: str,
    rule: str,
    threshold: float,
    y_true: ArrayLike,
    scores: ArrayLike,
    attack_types: ArrayLike | None = None,
    events_per_day: float | None = None,
) -> ThresholdReport:
    """Score one threshold against labels.

    Parameters
    ----------
    name : str
        Label of the report, e.g. ``"normal p99"``.
    rule : str
        Rule that chose the threshold, e.g. ``"normal_percentile"``.
    threshold : float
        Alert when ``score >= threshold``; must be finite.
    y_true : array-like of shape (n,)
        0/1 labels (one class only is allowed; its missing rates are 0.0).
    scores : array-like of shape (n,)
        Anomaly scores.
    attack_types : array-like of str of shape (n,), optional
        Scenario of each event (``"normal"`` for benign ones); adds per-attack recall.
    events_per_day : float, optional
        Event rate (> 0); adds the expected alerts per day.

    Returns
    -------
    ThresholdReport

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On a non-finite threshold, a non-positive ``events_per_day``, or
        labels, scores and attack types that differ in length or are invalid.
    """
    t = check_number("threshold", threshold)
    rate = None if events_per_day is None else check_positive("events_per_day", events_per_day)
    y, s = check_labelled(y_true, scores)
    by_attack = None
    if attack_types is not None:
        kinds = (
            attack_types
            if isinstance(attack_types, pd.Categorical)
            else np.asarray(attack_types, dtype=object).ravel()
        )
        if kinds.size != s.size:
            raise ParameterError(
                f"attack_types has {kinds.size} values but scores has {s.size}; "
                "expected one attack type per score"
            )
        by_attack = recall_by_attack(kinds, s, t)
    m = confusion_at_threshold(y, s, t)
    share = m["alerts"] / s.size
    return ThresholdReport(
        name=str(name),
        rule=str(rule),
        threshold=t,
        n_events=int(s.size),
        alerts=int(m["alerts"]),
        tp=int(m["tp"]),
        fp=int(m["fp"]),
        tn=int(m["tn"]),
        fn=int(m["fn"]),
        precision=float(m["precision"]),
        recall=float(m["recall"]),
        f1=float(m["f1"]),
        false_positive_rate=float(m["false_positive_rate"]),
        alert_share=float(share),
        alerts_per_day=None if rate is None else float(share * rate),
        recall_by_attack=by_attack,
    )


def threshold_lab(
    y_true: ArrayLike,
    scores: ArrayLike,
    train_scores: ArrayLike,
    *,
    percentile: float = 99.0,
    beta: float = 1.0,
    alerts_per_day: float | None = None,
    events_per_day: float | None = None,
    attack_types: ArrayLike | None = None,
    curves: RankingCurves | None = None,
) -> list[ThresholdReport]:
    """Every threshold rule on the same scores, one report each.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        0/1 labels of the evaluated events.
    scores : array-like of shape (n,)
        Scores of the evaluated events.
    train_scores : array-like
        Scores of the normal training events, for :func:`by_normal_percentile`.
    percentile : float, default=99.0
        Percentile of both percentile rules, in (0, 100).
    beta : float, default=1.0
        ``beta`` of :func:`by_fbeta`, > 0.
    alerts_per_day : float, optional
        Budget of :func:`by_alert_budget`; the budget rule is skipped when None.
        Requires ``events_per_day``.
    events_per_day : float, optional
        Event rate; adds alerts per day to every report.
    attack_types : array-like of str of shape (n,), optional
        Adds per-attack recall to every report.
    curves : RankingCurves, optional
        The curves of ``y_true`` and ``scores``, if already computed (the
        F-beta rule reads them).

    Returns
    -------
    list of ThresholdReport
        In this order, with ``rule``: ``"normal_percentile"``,
        ``"evaluated_percentile"``, ``"fbeta"`` (skipped when ``y_true`` has a
        single class) and ``"alert_budget"`` (skipped when ``alerts_per_day``
        is None).

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On any invalid argument, including ``alerts_per_day`` without
        ``events_per_day``. Every argument is checked even when its rule is skipped.
    """
    check_percentile(percentile)
    b = check_positive("beta", beta)
    rate = None if events_per_day is None else check_positive("events_per_day", events_per_day)
    if alerts_per_day is not None and rate is None:
        raise ParameterError(
            f"alerts_per_day={plain(alerts_per_day)!r} needs events_per_day, got None; "
            "expected the number of events a day (see events_per_day())"
        )
    y, s = check_labelled(y_true, scores)
    if attack_types is not None and not isinstance(attack_types, pd.Categorical):
        # Coded once for the four reports, not hashed again by each.
        attack_types = attack_type_codes(attack_types)

    def report(name: str, rule: str, threshold: float) -> ThresholdReport:
        return threshold_report(
            name, rule, threshold, y, s, attack_types=attack_types, events_per_day=rate
        )

    p = f"{percentile:g}"
    reports = [
        report(f"normal p{p}", "normal_percentile", by_normal_percentile(train_scores, percentile)),
        report(f"evaluated p{p}", "evaluated_percentile", by_evaluated_percentile(s, percentile)),
    ]
    if np.unique(y).size == 2:
        reports.append(report(f"F{b:g} optimum", "fbeta", by_fbeta(y, s, b, curves)))
    if alerts_per_day is not None and rate is not None:  # rate is set: checked above
        t = by_alert_budget(s, alerts_per_day, rate)
        reports.append(report(f"budget {plain(alerts_per_day):g}/day", "alert_budget", t))
    return reports


def percentile_sweep(
    y_true: ArrayLike,
    scores: ArrayLike,
    reference_scores: ArrayLike,
    percentiles: ArrayLike | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 with the threshold at each percentile of reference scores.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        0/1 labels of the evaluated events.
    scores : array-like of shape (n,)
        Scores of the evaluated events.
    reference_scores : array-like
        Scores the thresholds are taken from: the normal training scores (the
        deployable choice) or ``scores`` itself.
    percentiles : array-like of float, optional
        Each in (0, 100); sorted and de-duplicated. Default
        :data:`DEFAULT_SWEEP_PERCENTILES`: 90, 91, ..., 99, 99.5, 99.9.

    Returns
    -------
    pandas.DataFrame
        One row per percentile, ascending, with columns ``percentile,
        threshold, alerts, precision, recall, f1, false_positive_rate``.
        Thresholds never decrease down the rows, so ``alerts``, ``recall``
        and ``false_positive_rate`` never increase.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On a percentile outside (0, 100), an empty grid, or invalid labels and scores.
    """
    y, s = check_labelled(y_true, scores)
    ref = check_scores("reference_scores", reference_scores)
    if percentiles is None:
        grid = np.asarray(DEFAULT_SWEEP_PERCENTILES)
    else:
        raw = np.asarray(percentiles).ravel()
        if raw.size == 0:
            raise ParameterError("percentiles is empty; expected at least one value in (0, 100)")
        for p in raw:
            check_percentile(p, "each percentile")
        grid = np.unique(raw.astype(float))
    columns = ["threshold", "alerts", "precision", "recall", "f1", "false_positive_rate"]
    rows = []
    for p in grid:
        m = confusion_at_threshold(y, s, threshold_at_percentile(ref, float(p)))
        rows.append({"percentile": float(p), **{c: m[c] for c in columns}})
    return pd.DataFrame(rows, columns=["percentile", *columns])
