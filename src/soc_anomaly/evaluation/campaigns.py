"""Campaign-level evaluation: which campaigns were caught, how fast, at how many alerts a day.

Event recall counts rows; a SOC counts incidents. A campaign is *caught* when
any one of its events alerts (``score >= threshold``), since one alert is
enough to open an investigation, and its *time to detect* (TTD) is the time
from the campaign's start to that first alert. :func:`campaign_report` scores
one threshold, :func:`campaign_lab` one threshold per rule, and
:func:`campaign_table` sets several reports side by side. Every function is
pure: nothing is plotted, printed or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation._campaign_inputs import _HOUR_NS, _prepare, _Prepared

# Manifest columns :func:`campaign_report` reads (the world's manifest has more); defined with
# the input checks that use them, and re-exported here, where callers import them.
from soc_anomaly.evaluation._campaign_inputs import MANIFEST_COLUMNS as MANIFEST_COLUMNS
from soc_anomaly.evaluation._checks import check_number

__all__ = [
    "CampaignOutcome",
    "CampaignReport",
    "GroupRecall",
    "campaign_lab",
    "campaign_report",
    "campaign_table",
]

_GROUPS = ("by_scenario", "by_intensity")


@dataclass(frozen=True)
class CampaignOutcome:
    """What happened to one campaign at one threshold.

    Attributes
    ----------
    campaign_id, scenario, intensity : str
        From the manifest; without one, the scenario is the campaign's most
        frequent attack type (or ``"unknown"``) and the intensity ``"unknown"``.
    n_events : int
        The campaign's events in the evaluated set.
    caught : bool
        Whether any of them alerts.
    first_alert : pandas.Timestamp or None
        Time (UTC) of its earliest alerting event; None when missed.
    time_to_detect_hours : float or None
        ``first_alert`` minus the campaign's start, in hours; None when missed.
    alerted_events : int
        How many of its events alert.
    """

    campaign_id: str
    scenario: str
    intensity: str
    n_events: int
    caught: bool
    first_alert: pd.Timestamp | None
    time_to_detect_hours: float | None
    alerted_events: int


@dataclass(frozen=True)
class GroupRecall:
    """Campaign recall of one scenario or intensity: ``caught / n``, and the median TTD."""

    n: int
    caught: int
    recall: float
    median_ttd_hours: float | None


@dataclass(frozen=True)
class CampaignReport:
    """Campaign-level performance of one threshold.

    Attributes
    ----------
    threshold : float
        Events with ``score >= threshold`` alert.
    n_campaigns, caught : int
        Campaigns with at least one evaluated event, and how many of them were caught.
    recall : float
        ``caught / n_campaigns``; 0.0 when there is no campaign.
    median_ttd_hours, worst_ttd_hours : float or None
        Median and largest time to detect over the caught campaigns; None when none was caught.
    by_scenario, by_intensity : dict of str to GroupRecall
        The same per scenario and per intensity, keys sorted.
    false_positives : int
        Alerting normal (label 0) events: for a daily queue, the normal events
        inside raised alerts (not a count of alerts; see ``false_alerts``).
    fp_by_benign_tag : dict of str to int
        False positives per benign tag (``"none"`` for untagged normal events); every
        tag of the evaluated normal events appears, most false positives first.
    alerts : int
        All alerting events.
    alerts_per_day : float or None
        ``alerts / days``; None when ``days`` was not given and the events span
        under a day (see :func:`campaign_report`).
    outcomes : tuple of CampaignOutcome
        One per counted campaign, in manifest order (by id without a manifest).
    false_alerts : int or None
        Alerts holding no attack event: for a threshold, where each alerting
        event is an alert, ``false_positives``; for a daily queue, the raised
        alerts of no campaign. None in a report saved before it was recorded.
    fragmentation : float or None
        Incident queue only: the mean number of incidents a campaign's linked
        events fall into (1.0 = every campaign is one incident); None otherwise.
    purity : float or None
        Incident queue only: the mean share of a raised incident's events that
        belong to its main campaign, over raised incidents holding any; None otherwise.
    """

    threshold: float
    n_campaigns: int
    caught: int
    recall: float
    median_ttd_hours: float | None
    worst_ttd_hours: float | None
    by_scenario: dict[str, GroupRecall]
    by_intensity: dict[str, GroupRecall]
    false_positives: int
    fp_by_benign_tag: dict[str, int]
    alerts: int
    alerts_per_day: float | None
    outcomes: tuple[CampaignOutcome, ...]
    false_alerts: int | None = None
    fragmentation: float | None = None
    purity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values; ``first_alert`` becomes an ISO 8601 string."""
        d = asdict(self)
        for o in d["outcomes"]:
            o["first_alert"] = None if o["first_alert"] is None else o["first_alert"].isoformat()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignReport:
        """Inverse of :meth:`to_dict`, e.g. for a saved ``metrics.json``.

        Raises
        ------
        soc_anomaly.errors.DataError
            If a field is missing or has the wrong shape.
        """
        try:
            groups = {k: {g: GroupRecall(**v) for g, v in d[k].items()} for k in _GROUPS}
            outcomes = tuple(
                CampaignOutcome(**{**o, "first_alert": _stamp(o["first_alert"])})
                for o in d["outcomes"]
            )
            fp = dict(d["fp_by_benign_tag"])
            return cls(**{**d, **groups, "fp_by_benign_tag": fp, "outcomes": outcomes})
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DataError(
                f"not a campaign report ({type(exc).__name__}: {exc}); "
                "expected a dict written by CampaignReport.to_dict()"
            ) from None


def _stamp(iso: str | None) -> pd.Timestamp | None:
    return None if iso is None else pd.Timestamp(iso)


def _median(hours: list[float]) -> float | None:
    return float(np.median(hours)) if hours else None


def _groups(outcomes: list[CampaignOutcome], key: str) -> dict[str, GroupRecall]:
    out = {}
    for name in sorted({getattr(o, key) for o in outcomes}):
        members = [o for o in outcomes if getattr(o, key) == name]
        caught = [o.time_to_detect_hours for o in members if o.time_to_detect_hours is not None]
        out[name] = GroupRecall(
            n=len(members),
            caught=len(caught),
            recall=len(caught) / len(members),
            median_ttd_hours=_median(caught),
        )
    return out


def _outcomes(p: _Prepared, first_ns: np.ndarray, alerted: np.ndarray) -> list[CampaignOutcome]:
    """One outcome per campaign of ``p``: caught where ``first_ns`` (its first alert, ns
    since the epoch) is set (>= 0), with ``alerted`` of its events alerting."""
    n_events = np.bincount(p.code, minlength=len(p.ids))
    caught = first_ns >= 0
    ttd_hours = (first_ns - p.start_ns) / _HOUR_NS
    return [
        CampaignOutcome(
            campaign_id=cid,
            scenario=p.scenario[i],
            intensity=p.intensity[i],
            n_events=int(n_events[i]),
            caught=bool(caught[i]),
            first_alert=pd.Timestamp(int(first_ns[i]), unit="ns", tz="UTC") if caught[i] else None,
            time_to_detect_hours=float(ttd_hours[i]) if caught[i] else None,
            alerted_events=int(alerted[i]),
        )
        for i, cid in enumerate(p.ids)
    ]


def _report(
    p: _Prepared,
    threshold: float,
    alert: np.ndarray | None = None,
    n_alerts: int | None = None,
    false_alerts: int | None = None,
) -> CampaignReport:
    """The report of one threshold, or of a given alert mask counting ``n_alerts`` alerts
    of which ``false_alerts`` hold no attack event."""
    if alert is None:
        alert = p.scores >= threshold
    hit = alert[p.event_index]
    n_ids = len(p.ids)
    n_alerted = np.bincount(p.code, weights=hit.astype(float), minlength=n_ids).astype(np.int64)
    # Events are time-ordered: a campaign's first index among the hits is its first alert.
    first_ns = np.full(n_ids, -1, dtype=np.int64)
    hit_codes, first_hit = np.unique(p.code[hit], return_index=True)
    first_ns[hit_codes] = p.event_ns[hit][first_hit]
    outcomes = _outcomes(p, first_ns, n_alerted)
    ttd = [o.time_to_detect_hours for o in outcomes if o.time_to_detect_hours is not None]
    fp_tags = pd.Series(p.tags[alert & p.normal]).value_counts()
    fp = {t: int(fp_tags.get(t, 0)) for t in p.tag_names}
    alerts = int(alert.sum()) if n_alerts is None else n_alerts
    false_positives = int((alert & p.normal).sum())
    return CampaignReport(
        threshold=threshold,
        n_campaigns=n_ids,
        caught=len(ttd),
        recall=len(ttd) / n_ids if n_ids else 0.0,
        median_ttd_hours=_median(ttd),
        worst_ttd_hours=max(ttd) if ttd else None,
        by_scenario=_groups(outcomes, "scenario"),
        by_intensity=_groups(outcomes, "intensity"),
        false_positives=false_positives,
        fp_by_benign_tag=dict(sorted(fp.items(), key=lambda kv: (-kv[1], kv[0]))),
        alerts=alerts,
        alerts_per_day=None if p.days is None else alerts / p.days,
        outcomes=tuple(outcomes),
        # Under a threshold every alerting event is its own alert.
        false_alerts=false_positives if false_alerts is None else false_alerts,
    )


def campaign_report(
    scores: ArrayLike,
    threshold: float,
    *,
    times: ArrayLike,
    labels: ArrayLike,
    campaign_ids: ArrayLike,
    benign_tags: ArrayLike,
    campaigns: pd.DataFrame | None = None,
    attack_types: ArrayLike | None = None,
    days: float | None = None,
) -> CampaignReport:
    """Which campaigns one threshold catches, how fast, and at what alert load.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Anomaly scores of the evaluated events (higher = more anomalous); finite.
    threshold : float
        Alert when ``score >= threshold``; finite.
    times : array-like of shape (n,)
        When each event happened: datetimes (naive ones are taken as UTC) or int64
        epoch milliseconds.
    labels : array-like of shape (n,)
        1 for attack events, 0 for normal ones.
    campaign_ids : array-like of shape (n,)
        Campaign of each attack event; null, NaN, None or ``""`` for normal events.
    benign_tags : array-like of shape (n,)
        Benign oddity of each event (``"none"``, null or ``""`` when untagged).
    campaigns : pandas.DataFrame, optional
        The manifest, with at least ``campaign_id, scenario, intensity, start``;
        ``start`` may be timestamps or strings (a manifest read from CSV). The
        TTD is measured from ``start``; without a manifest, from the campaign's
        first evaluated event, which understates it when the campaign began before.
    attack_types : array-like of shape (n,), optional
        Used only without a manifest: a campaign's scenario is its commonest attack type.
    days : float, optional
        Length of the evaluated period for ``alerts_per_day``; > 0. Default: the
        time from the first to the last event, as in
        :func:`~soc_anomaly.evaluation.thresholds.events_per_day`, and
        ``alerts_per_day`` is None when that is under one day (a rate extrapolated
        from hours would mislead).

    Returns
    -------
    CampaignReport
        Only campaigns with at least one evaluated event count: one wholly
        outside the evaluated period was not missed, it was not there.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On columns of another length than ``scores``, empty or non-finite scores,
        a non-finite threshold, a non-positive ``days``, untimed events, labels
        other than 0/1, an attack event without a campaign id or a normal event with one.
    soc_anomaly.errors.DataError
        On a manifest lacking a column, listing a campaign twice, without a start,
        or missing a campaign that the events name.
    """
    t = check_number("threshold", threshold)
    p = _prepare(scores, times, labels, campaign_ids, benign_tags, campaigns, attack_types, days)
    return _report(p, t)


def campaign_lab(
    scores: ArrayLike,
    thresholds: Mapping[str, float],
    *,
    times: ArrayLike,
    labels: ArrayLike,
    campaign_ids: ArrayLike,
    benign_tags: ArrayLike,
    campaigns: pd.DataFrame | None = None,
    attack_types: ArrayLike | None = None,
    days: float | None = None,
) -> dict[str, CampaignReport]:
    """One :func:`campaign_report` per threshold rule, on the same events.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Anomaly scores of the evaluated events.
    thresholds : mapping of str to float
        Rule name (e.g. ``"normal p99"``) to its threshold; at least one.
    times, labels, campaign_ids, benign_tags, campaigns, attack_types, days
        As in :func:`campaign_report`; checked once for all thresholds.

    Returns
    -------
    dict of str to CampaignReport
        In the order of ``thresholds``.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On an empty ``thresholds``, a non-finite threshold, or any error of
        :func:`campaign_report`.
    """
    if not thresholds:
        raise ParameterError("thresholds is empty; expected at least one rule name and threshold")
    checked = {str(k): check_number(f"threshold {k!r}", v) for k, v in thresholds.items()}
    p = _prepare(scores, times, labels, campaign_ids, benign_tags, campaigns, attack_types, days)
    return {name: _report(p, t) for name, t in checked.items()}


def campaign_table(
    reports: Mapping[str, CampaignReport], *, index_name: str = "detector"
) -> pd.DataFrame:
    """Campaign recall per scenario and median TTD, one row per report, for a console table.

    Parameters
    ----------
    reports : mapping of str to CampaignReport
        E.g. one report per detector, or the output of :func:`campaign_lab`.
    index_name : str, default="detector"
        Name of the index, which holds the keys of ``reports`` in their order.

    Returns
    -------
    pandas.DataFrame
        Columns: every scenario of any report (sorted), then ``"all"`` (overall
        campaign recall) and ``"median TTD (h)"``. Recalls are floats in [0, 1];
        a scenario a report has no campaign of, and the TTD of a report that
        caught nothing, are NaN.
    """
    scenarios = sorted({s for r in reports.values() for s in r.by_scenario})
    columns = [*scenarios, "all", "median TTD (h)"]
    rows = [
        [
            *(r.by_scenario[s].recall if s in r.by_scenario else np.nan for s in scenarios),
            r.recall,
            np.nan if r.median_ttd_hours is None else r.median_ttd_hours,
        ]
        for r in reports.values()
    ]
    index = pd.Index([str(k) for k in reports], name=index_name)
    return pd.DataFrame(rows, index=index, columns=columns, dtype=float)
