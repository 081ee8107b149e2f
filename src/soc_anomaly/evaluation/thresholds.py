"""Threshold rules: where to draw the alert line on anomaly scores.

Scores are higher = more anomalous and an event alerts when
``score >= threshold``. A detector only ranks events; where the alert line is
drawn is a separate decision, and this module collects the usual ways to draw
it so they can be compared side by side:

=========================  ==================================================
rule                       the threshold is ...
=========================  ==================================================
:func:`by_normal_percentile`  a percentile of the normal *training* scores,
                           fixed before any attack is seen (deployable)
:func:`by_evaluated_percentile`  a percentile of the evaluated scores (a fixed
                           share of the evaluated events alerts)
:func:`by_fbeta`           the F-beta optimum on the precision-recall curve
                           (needs labels: an upper bound, not a deployable rule)
:func:`by_alert_budget`    the lowest threshold whose alert rate fits an
                           analyst budget of alerts per day
=========================  ==================================================

:func:`events_per_day` measures the event rate the budget rule needs. The
reports that score these thresholds against labels are in
:mod:`soc_anomaly.evaluation.threshold_lab`. Every function is pure: nothing
is plotted, printed or written.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation._checks import (
    check_labelled,
    check_percentile,
    check_positive,
    check_scores,
    plain,
)
from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.metrics import threshold_at_percentile

__all__ = [
    "by_alert_budget",
    "by_evaluated_percentile",
    "by_fbeta",
    "by_normal_percentile",
    "events_per_day",
]

# Relative tolerance under which two F-beta values count as a tie.
_FBETA_TIE_RTOL = 1e-12


def by_normal_percentile(train_scores: ArrayLike, percentile: float) -> float:
    """Threshold at a percentile of the normal training scores.

    The threshold is fixed from normal behaviour alone, before any attack is
    seen, so it is the rule a deployed detector can actually use: about
    ``100 - percentile`` % of *normal* events alert, whatever the attack rate.

    Parameters
    ----------
    train_scores : array-like of shape (n,)
        Scores of the normal training events (higher = more anomalous).
    percentile : float
        In (0, 100); e.g. 99 lets about 1% of normal events alert.

    Returns
    -------
    float
        The score at ``percentile`` of ``train_scores`` (linear interpolation).

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If ``percentile`` is outside (0, 100) or the scores are empty or not finite.

    Examples
    --------
    >>> by_normal_percentile([0.0, 1.0, 2.0, 3.0, 4.0], 75)
    3.0
    """
    check_percentile(percentile)
    s = check_scores("train_scores", train_scores)
    return threshold_at_percentile(s, percentile)


def by_evaluated_percentile(scores: ArrayLike, percentile: float) -> float:
    """Threshold at a percentile of the evaluated scores.

    About ``100 - percentile`` % of the evaluated events alert, attacks
    included; the threshold therefore moves with the attack rate of the very
    data it is judged on.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores of the evaluated events.
    percentile : float
        In (0, 100).

    Returns
    -------
    float
        The score at ``percentile`` of ``scores`` (linear interpolation).

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If ``percentile`` is outside (0, 100) or the scores are empty or not finite.
    """
    check_percentile(percentile)
    s = check_scores("scores", scores)
    return threshold_at_percentile(s, percentile)


def by_fbeta(
    y_true: ArrayLike,
    scores: ArrayLike,
    beta: float = 1.0,
    curves: RankingCurves | None = None,
) -> float:
    """The threshold that maximises F-beta on the precision-recall curve.

    Needs labels, so it measures the best a detector could do at a single
    threshold rather than giving a rule one could deploy blind.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        0/1 labels; both classes must be present.
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous.
    beta : float, default=1.0
        Weight of recall relative to precision, > 0: ``beta > 1`` favours
        recall, ``beta < 1`` precision.
    curves : RankingCurves, optional
        The curves of these labels and scores, if already computed.

    Returns
    -------
    float
        One of the distinct values of ``scores``: the candidate threshold of
        :func:`sklearn.metrics.precision_recall_curve` with the highest
        ``F_beta = (1 + beta**2) P R / (beta**2 P + R)``. Ties (equal within a
        relative 1e-12) go to the highest threshold, i.e. the fewest alerts.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If ``beta <= 0``, the inputs differ in length, a score is not finite,
        a label is not 0/1 or only one class is present.

    Examples
    --------
    >>> by_fbeta([0, 0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5])
    0.3
    """
    b = check_positive("beta", beta)
    y, s = check_labelled(y_true, scores)
    n_anomalies = int(y.sum())
    if n_anomalies in (0, y.size):
        only = "0 (normal)" if n_anomalies == 0 else "1 (anomaly)"
        raise ParameterError(
            f"y_true holds only label {only}; F-beta needs both normal and anomalous events"
        )
    if curves is None or len(curves.pr_thresholds) != len(curves.recall) - 1:
        curves = RankingCurves.of(y, s)  # none given, or thinned for a plot
    precision, recall, thresholds = curves.precision, curves.recall, curves.pr_thresholds
    # The last point (precision 1, recall 0) has no threshold.
    precision, recall = precision[:-1], recall[:-1]
    b2 = b * b
    num = (1.0 + b2) * precision * recall
    den = b2 * precision + recall
    f = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    ties = np.flatnonzero(f >= f.max() * (1.0 - _FBETA_TIE_RTOL))
    # precision_recall_curve returns thresholds in increasing order.
    best = ties[np.argmax(thresholds[ties])]
    return float(thresholds[best])


def _max_alerts(n: int, alerts_per_day: float, events_per_day: float) -> int:
    """``floor(n * alerts_per_day / events_per_day)``, exact on the numbers as written.

    Each float is read as its shortest decimal form (``0.29`` is 29/100, not the
    binary float just below it), so a budget that divides evenly is met exactly.
    """
    share = Fraction(repr(alerts_per_day)) / Fraction(repr(events_per_day))
    return math.floor(share * n)


def by_alert_budget(scores: ArrayLike, alerts_per_day: float, events_per_day: float) -> float:
    """The lowest threshold whose alerts fit a daily alert budget.

    With ``events_per_day`` events a day scoring like ``scores``, at most a
    share ``alerts_per_day / events_per_day`` of the events may alert. On the
    ``n`` given scores that is at most ``k = floor(n * share)`` alerts; the
    threshold is the lowest one that gives at most ``k`` alerts.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores representative of the daily stream (e.g. the evaluated events).
    alerts_per_day : float
        How many alerts the analysts can handle a day, > 0.
    events_per_day : float
        How many events arrive a day, > 0 and >= ``alerts_per_day``; see
        :func:`events_per_day`.

    Returns
    -------
    float
        A value of ``scores``. Tied scores alert together, so when a tie
        straddles the budget the whole tied group is left out and fewer than
        ``k`` events alert: the budget is never exceeded on ``scores``. When
        even the top score (or top tied group) does not fit, the threshold is
        the next float above the maximum score and nothing alerts.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If either rate is not a positive finite number, the budget exceeds the
        events per day, or the scores are empty or not finite.

    Examples
    --------
    >>> by_alert_budget([1.0, 2.0, 3.0, 3.0, 4.0], alerts_per_day=2, events_per_day=5)
    4.0
    """
    a = check_positive("alerts_per_day", alerts_per_day)
    e = check_positive("events_per_day", events_per_day)
    if a > e:
        raise ParameterError(
            f"alerts_per_day={plain(alerts_per_day)!r} exceeds "
            f"events_per_day={plain(events_per_day)!r}; expected at most one alert per event"
        )
    s = check_scores("scores", scores)
    k = _max_alerts(s.size, a, e)
    if k >= s.size:
        return float(s.min())
    desc = np.sort(s)[::-1]
    # Every score tied with the (k+1)-th highest must stay below the threshold.
    above = s[s > desc[k]]
    if above.size == 0:
        return float(np.nextafter(desc[0], np.inf))
    return float(above.min())


def events_per_day(timestamps: pd.Series | pd.DatetimeIndex | ArrayLike) -> float:
    """Mean number of events a day, for :func:`by_alert_budget`.

    The rate is the number of events divided by the time from the first to
    the last event, in days. Elapsed time rather than calendar dates is used
    so that partial first and last days (a 7-day export taken at 14:30) do
    not understate the rate, which would loosen an alert budget.

    Parameters
    ----------
    timestamps : pandas.Series of datetime64
        When each event happened, in any order; time zones are allowed.
        A DatetimeIndex or an array of datetimes is accepted too.

    Returns
    -------
    float
        Events per day.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If ``timestamps`` is empty, not datetimes, has a missing value (NaT),
        or spans less than one day.

    Examples
    --------
    >>> ts = pd.Series(pd.date_range("2026-01-05", periods=5, freq="12h"))
    >>> events_per_day(ts)
    2.5
    """
    ts = timestamps if isinstance(timestamps, pd.Series) else pd.Series(timestamps)
    if not pd.api.types.is_datetime64_any_dtype(ts.dtype):
        raise ParameterError(
            f"timestamps must be datetimes, got dtype {ts.dtype}; "
            "expected a pandas datetime Series (see pandas.to_datetime)"
        )
    if ts.size == 0:
        raise ParameterError("timestamps is empty; expected events spanning at least one day")
    missing = ts.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ParameterError(
            f"timestamps has a missing value (NaT) at position {i}; expected a time for every event"
        )
    first, last = ts.min(), ts.max()
    days = (last - first) / pd.Timedelta(days=1)
    if days < 1:
        raise ParameterError(
            f"timestamps span {last - first} (from {first} to {last}); "
            "expected events spanning at least one day to measure events per day"
        )
    return float(ts.size / days)
