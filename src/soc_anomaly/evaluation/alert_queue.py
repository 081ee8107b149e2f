"""A SOC's daily alert queue: one alert per user and hour, the day's top alerts raised.

A single threshold over a whole evaluation period lets one loud campaign spend
the period's alert budget: a credential-stuffing burst of 1,500 events in
half an hour takes two weeks of "10 alerts a day" and every other campaign goes
unseen. Analysts do not work that way. Their tools group related events into
one alert (Elastic Security suppresses alerts by a field over a time window,
Microsoft Sentinel groups alerts on the same entities into one incident), and
their capacity is a number of alerts a day. :func:`daily_queue` models both:

* **Suppression.** The alerting events of one entity (by default the account)
  within one clock hour (UTC) form one alert, scored by its highest event.
* **A daily capacity.** Each UTC day the ``per_day`` highest-scoring alerts of
  that day are raised (ties broken by time, then entity), the rest are not.

:func:`queue_report` evaluates the raised alerts as
:func:`~soc_anomaly.evaluation.campaigns.campaign_report` evaluates a
threshold: a campaign is caught when any of its events is in a raised alert.
Unlike a threshold, the queue looks at a whole day's scores before raising
that day's alerts, as a team triaging a daily list does; a stream would raise
an alert once it is among the day's top so far.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation._campaign_inputs import _prepare, _utc
from soc_anomaly.evaluation._checks import check_positive
from soc_anomaly.evaluation.campaigns import CampaignReport, _report

__all__ = ["QUEUE_RULE", "daily_queue", "queue_report"]

#: Rule name of the daily queue in campaign results (beside the threshold rules).
QUEUE_RULE = "daily_queue"
_HOUR_NS = 3_600_000_000_000
_DAY_NS = 24 * _HOUR_NS


def _queue(
    scores: ArrayLike, times: ArrayLike, entities: ArrayLike, per_day: float
) -> tuple[np.ndarray, int, float, np.ndarray]:
    """The daily queue: events in raised alerts, raised alerts, lowest raised alert
    score, and each event's alert (user and hour) number."""
    s = np.asarray(scores, dtype=float)
    if not np.isfinite(s).all():
        raise ParameterError("scores has non-finite values; expected finite anomaly scores")
    ns = _utc("times", times, s.size)
    ent = np.asarray(entities, dtype=object)
    if ent.shape != s.shape:
        raise ParameterError(
            f"entities has shape {ent.shape} but scores has {s.shape}; expected one per event"
        )
    capacity = max(int(check_positive("per_day", per_day)), 1)
    hour = ns // _HOUR_NS
    entity_code = pd.factorize(pd.Series(ent, dtype=object).astype(str), sort=True)[0]
    # One int64 key per (hour, entity): factorizing it numbers the groups in order of first
    # appearance, as a MultiIndex of the pair would, without building a tuple per event.
    key = hour * (int(entity_code.max(initial=0)) + 1) + entity_code
    group = pd.factorize(key, sort=False)[0]
    alerts = pd.DataFrame({"group": group, "score": s, "ns": ns, "entity": entity_code})
    # An alert's score is its best event's; ties go to the earlier alert, then to
    # the entity first in sorted order, so row order never decides.
    best = alerts.sort_values(
        ["score", "ns", "entity"], ascending=[False, True, True], kind="stable"
    ).drop_duplicates("group")
    best["day"] = best["ns"] // _DAY_NS
    # Rows are in score order already, so a running count per day ranks them.
    best["rank"] = best.groupby("day").cumcount()
    raised = best.loc[best["rank"] < capacity]
    lowest = float(raised["score"].min()) if len(raised) else float("inf")
    return np.isin(group, raised["group"].to_numpy()), len(raised), lowest, group


def daily_queue(
    scores: ArrayLike, times: ArrayLike, entities: ArrayLike, per_day: float
) -> tuple[np.ndarray, int]:
    """Which events are in the alerts a daily queue of ``per_day`` raises.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous.
    times : array-like of shape (n,)
        Event times: datetimes (naive ones taken as UTC) or int64 epoch milliseconds.
    entities : array-like of shape (n,)
        The entity an alert is about (e.g. the account) of each event, compared as
        text: events without one (None, NaN) share the entity ``"None"``/``"nan"``.
    per_day : float
        Alerts the analysts handle a day, > 0; rounded down to whole alerts, at least 1.

    Returns
    -------
    alerted : numpy.ndarray of bool, shape (n,)
        Events that belong to a raised alert.
    n_alerts : int
        Raised alerts.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On columns of different lengths, non-finite scores or a non-positive ``per_day``.
    """
    alerted, n_alerts, _, _ = _queue(scores, times, entities, per_day)
    return alerted, n_alerts


def queue_report(
    scores: ArrayLike,
    *,
    entities: ArrayLike,
    per_day: float,
    times: ArrayLike,
    labels: ArrayLike,
    campaign_ids: ArrayLike,
    benign_tags: ArrayLike,
    campaigns: pd.DataFrame | None = None,
    attack_types: ArrayLike | None = None,
    days: float | None = None,
) -> CampaignReport:
    """Which campaigns a daily queue of ``per_day`` alerts catches, and how fast.

    Parameters
    ----------
    scores, entities, per_day
        See :func:`daily_queue`.
    times, labels, campaign_ids, benign_tags, campaigns, attack_types, days
        See :func:`~soc_anomaly.evaluation.campaigns.campaign_report`.

    Returns
    -------
    CampaignReport
        ``threshold`` is the lowest score of a raised alert, an alert scoring as
        its best event (``inf`` when none was raised); ``alerts`` counts the raised
        alerts (not events), ``false_alerts`` the raised alerts holding no attack
        event, and ``false_positives`` the normal events inside raised alerts.
    """
    alerted, n_alerts, lowest, group = _queue(scores, times, entities, per_day)
    p = _prepare(scores, times, labels, campaign_ids, benign_tags, campaigns, attack_types, days)
    # An alert is true when any of its events is an attack (every attack event
    # belongs to a campaign), false otherwise.
    true_alerts = np.unique(group[alerted & ~p.normal]).size
    return _report(p, lowest, alerted, n_alerts, n_alerts - true_alerts)
