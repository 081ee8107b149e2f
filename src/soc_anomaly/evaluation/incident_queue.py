"""Campaigns caught by the daily incident queue, beside the event queue.

:func:`incident_queue_report` evaluates what an
:class:`~soc_anomaly.incidents.IncidentLinker` raised, in the shape of a
:class:`~soc_anomaly.evaluation.campaigns.CampaignReport` so that tools
reading ``metrics.json`` keep working, counted in incidents:

* a raised incident **catches only its main campaign**, the campaign most of
  its campaign events belong to (ties: the first in the manifest), so merging
  unrelated events into large incidents cannot inflate recall; its time to
  detect is the incident's ``raised_at`` (or, when the campaign's first event
  in it came later, that event's time: a campaign is not detected before it
  joined the incident) minus the campaign's start;
* ``alerts`` are the raised incidents, ``false_alerts`` and
  ``false_positives`` the raised incidents holding no campaign event, and
  ``fp_by_benign_tag`` counts those by their events' commonest benign tag;
* ``fragmentation`` is the mean number of incidents (raised or not) a
  campaign's candidate events fall into, over the campaigns with any, and
  ``purity`` the mean share of a raised incident's events that belong to its
  main campaign, over the raised incidents that hold a campaign event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation._campaign_inputs import _prepare
from soc_anomaly.evaluation.campaigns import (
    CampaignReport,
    _groups,
    _median,
    _outcomes,
)
from soc_anomaly.incidents import Incident

__all__ = ["INCIDENT_RULE", "incident_queue_report"]

#: Rule name of the incident queue in campaign results.
INCIDENT_RULE = "incident_queue"


def incident_queue_report(
    raised: list[Incident],
    incident_ids: ArrayLike,
    *,
    times: ArrayLike,
    labels: ArrayLike,
    campaign_ids: ArrayLike,
    benign_tags: ArrayLike,
    campaigns: pd.DataFrame | None = None,
    days: float | None = None,
) -> CampaignReport:
    """Which campaigns the raised incidents catch, and how fast.

    Parameters
    ----------
    raised : list of Incident
        The raised incidents; their ``events`` are positions in the other columns.
    incident_ids : array-like of shape (n,)
        Every event's incident id (None for events that joined none).
    times, labels, campaign_ids, benign_tags, campaigns, days
        As in :func:`~soc_anomaly.evaluation.campaigns.campaign_report`.

    Returns
    -------
    CampaignReport
        ``threshold`` is the lowest raised incident score (``inf`` when none);
        ``alerted_events`` of an outcome counts its events inside raised
        incidents whose main campaign it is.
    """
    ids = np.asarray(incident_ids, dtype=object).ravel()
    # pd.isna, not truth: ids read back from a file hold pandas' NA, which has no truth value.
    has_id = ~np.asarray(pd.isna(ids), dtype=bool)
    p = _prepare(
        has_id.astype(float),
        times,
        labels,
        campaign_ids,
        benign_tags,
        campaigns,
        None,
        days,
    )
    n_ids = len(p.ids)
    code = np.full(ids.size, -1, dtype=np.int64)
    code[p.event_index] = p.code
    row_ns = np.zeros(ids.size, dtype=np.int64)
    row_ns[p.event_index] = p.event_ns
    first_ns = np.full(n_ids, -1, dtype=np.int64)
    alerted = np.zeros(n_ids, dtype=np.int64)
    false_tags: dict[str, int] = dict.fromkeys(p.tag_names, 0)
    purities = []
    for inc in raised:
        rows = np.asarray(inc.events, dtype=np.int64)
        if rows.size == 0 or rows.min() < 0 or rows.max() >= ids.size:
            raise ParameterError(
                f"incident {inc.incident_id} holds no event or an event beyond the "
                f"{ids.size:,} given; expected its events to be rows of these events"
            )
        held = code[rows]
        held = held[held >= 0]
        if held.size == 0:
            tags = pd.Series(p.tags[rows]).value_counts()
            top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            false_tags[top] = false_tags.get(top, 0) + 1
            continue
        counts = np.bincount(held, minlength=n_ids)
        main = int(np.argmax(counts))  # ties: the first in manifest order
        purities.append(counts[main] / rows.size)
        alerted[main] += counts[main]
        # An incident raised on normal events before the campaign's joined it saw the
        # campaign only from its first event there (a negative time to detect otherwise).
        joined = int(row_ns[rows[code[rows] == main]].min())
        at = max(int(inc.raised_at_ms) * 1_000_000, joined)
        if first_ns[main] < 0 or at < first_ns[main]:
            first_ns[main] = at
    outcomes = _outcomes(p, first_ns, alerted)
    ttd = [o.time_to_detect_hours for o in outcomes if o.time_to_detect_hours is not None]
    # Fragmentation: the incidents each campaign's candidate events fall into.
    linked = has_id & (code >= 0)
    frag = (
        pd.DataFrame({"c": code[linked], "i": ids[linked].astype(str)}).groupby("c")["i"].nunique()
    )
    n_false = sum(false_tags.values())
    return CampaignReport(
        threshold=min((i.score for i in raised), default=float("inf")),
        n_campaigns=n_ids,
        caught=len(ttd),
        recall=len(ttd) / n_ids if n_ids else 0.0,
        median_ttd_hours=_median(ttd),
        worst_ttd_hours=max(ttd) if ttd else None,
        by_scenario=_groups(outcomes, "scenario"),
        by_intensity=_groups(outcomes, "intensity"),
        false_positives=n_false,
        fp_by_benign_tag=dict(sorted(false_tags.items(), key=lambda kv: (-kv[1], kv[0]))),
        alerts=len(raised),
        alerts_per_day=None if p.days is None else len(raised) / p.days,
        outcomes=tuple(outcomes),
        false_alerts=n_false,
        fragmentation=float(frag.mean()) if len(frag) else None,
        purity=float(np.mean(purities)) if purities else None,
    )
