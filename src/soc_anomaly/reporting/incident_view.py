"""What the reports say of a detection run's raised incidents: which, in what order, and the truth.

Shared by the terminal report (:mod:`soc_anomaly.reporting.incident_report`)
and the HTML report (:mod:`soc_anomaly.reporting.html_incidents`). The
incidents shown are those of the chosen detector (ranked first) on the first
seed, strongest first: by score, then raised earlier, then by id. A daily queue
lists a day at a time; across a whole run the strongest incidents say more
than the first days' ones.

The truth of an incident (known on the enterprise world) is judged as the
incident queue's evaluation judges it
(:mod:`soc_anomaly.evaluation.incident_queue`): its *main campaign* is the one
most of its campaign events belong to (ties: the first in the manifest); an
incident holding no campaign event is a false one, named by its events'
commonest benign tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from soc_anomaly.evaluation.campaigns import CampaignOutcome
from soc_anomaly.experiment.results import DetectionResult, ModelResult, campaign_headline
from soc_anomaly.incidents import TECHNIQUES, Incident

__all__ = [
    "IncidentTruth",
    "chosen_model",
    "incident_truth",
    "listed",
    "outcomes_of",
    "raised_time",
    "sources",
    "technique_names",
    "top_incidents",
]

#: Names listed in a cell before "and N more".
SHOWN_NAMES = 3


@dataclass(frozen=True)
class IncidentTruth:
    """What an incident's events really were.

    Attributes
    ----------
    campaign_id : str or None
        Its main campaign; None when it holds no campaign event (a false incident)
        or the truth is unknown.
    scenario, intensity : str
        The main campaign's scenario and intensity ("" when unknown).
    main_events : int
        Its events from the main campaign.
    n_events : int
        Its events.
    benign_tag : str or None
        A false incident's commonest benign tag ("none": everyday activity).
    known : bool
        Whether the events' truth is known at all.
    """

    campaign_id: str | None
    scenario: str
    intensity: str
    main_events: int
    n_events: int
    benign_tag: str | None
    known: bool = True

    def text(self) -> str:
        """One line: ``C07 account_takeover (subtle), 12 of 14 events`` or ``none (false): ...``."""
        if not self.known:
            return "unknown"
        if self.campaign_id is None:
            tag = self.benign_tag or "none"
            what = "everyday activity" if tag == "none" else f"benign {tag}"
            return f"none (false): {what}"
        kind = " ".join(
            x for x in (self.scenario, f"({self.intensity})" if self.intensity else "") if x
        )
        return (
            f"{self.campaign_id} {kind}".rstrip()
            + f", {self.main_events:,} of {self.n_events:,} events"
        )


def chosen_model(result: DetectionResult) -> ModelResult | None:
    """The first-ranked detector of the first seed, when it raised incidents (else None)."""
    if not result.runs:
        return None
    name = result.comparison()[0].name
    m = next((m for m in result.runs[0].models if m.name == name), None)
    return m if m is not None and m.incidents is not None else None


def top_incidents(incidents: Sequence[Incident], n: int) -> list[Incident]:
    """The ``n`` strongest incidents: by score, then raised earlier, then by id."""

    def key(i: Incident) -> tuple[float, int, str]:
        at = i.raised_at_ms if i.raised_at_ms is not None else i.first_ms
        return (-i.score, at, i.incident_id)

    return sorted(incidents, key=key)[: max(n, 0)]


def _present(value: object) -> bool:
    return not (value is None or pd.isna(value) or str(value) == "")  # type: ignore[arg-type]


def incident_truth(
    incident: Incident, events: pd.DataFrame, outcomes: Sequence[CampaignOutcome] = ()
) -> IncidentTruth:
    """The truth of ``incident`` from the run's test events (positions ``incident.events``).

    Parameters
    ----------
    incident : Incident
        A raised incident of the run.
    events : pandas.DataFrame
        :attr:`SeedRun.test_events` (``campaign_id``, ``benign_tag``, ``attack_type``).
    outcomes : sequence of CampaignOutcome, default=()
        The campaigns in manifest order, for ties and each campaign's scenario
        and intensity.
    """
    n = len(incident.events)
    if (
        events.empty
        or "campaign_id" not in events
        or max(incident.events, default=-1) >= len(events)
    ):
        return IncidentTruth(None, "", "", 0, n, None, known=False)
    rows = events.iloc[list(incident.events)]
    campaign = rows["campaign_id"]
    held = campaign[[_present(c) for c in campaign]].astype(str)
    if held.empty:
        tags = rows["benign_tag"] if "benign_tag" in rows else pd.Series(dtype=object)
        tags = tags.fillna("none").astype(str).replace("", "none")
        counts = tags.value_counts()
        top = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if len(counts) else "none"
        known = bool(rows["attack_type"].notna().all()) if "attack_type" in rows else True
        return IncidentTruth(None, "", "", 0, n, top, known=known)
    order = {o.campaign_id: k for k, o in enumerate(outcomes)}
    counts = held.value_counts()
    main = min(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))[0]
    outcome = next((o for o in outcomes if o.campaign_id == main), None)
    if outcome is not None:
        scenario, intensity = outcome.scenario, outcome.intensity
    else:
        attack = rows.loc[campaign.astype(str) == main, "attack_type"]
        scenario, intensity = (str(attack.iloc[0]) if len(attack) else ""), ""
    return IncidentTruth(main, scenario, intensity, int(counts[main]), n, None)


def outcomes_of(m: ModelResult) -> tuple[CampaignOutcome, ...]:
    """The detector's campaigns in manifest order (from its headline), or none."""
    head = campaign_headline(m.campaigns)
    return () if head is None else tuple(head.outcomes)


def listed(names: Sequence[str], shown: int = SHOWN_NAMES) -> str:
    """``a, b, c and 4 more``; an en dash for none."""
    if not names:
        return "\N{EN DASH}"
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(str(n) for n in names[:shown]) + more


def sources(incident: Incident) -> list[str]:
    """The incident's source hosts, then its source addresses."""
    return [*incident.entities.get("host", []), *incident.entities.get("address", [])]


def technique_names(incident: Incident) -> list[str]:
    """``T1110.003 Password Spraying`` for each technique the incident suggests."""
    return [f"{t} {TECHNIQUES[t][0]}" if t in TECHNIQUES else t for t in incident.techniques]


def raised_time(incident: Incident) -> pd.Timestamp | None:
    """When the incident was raised, in UTC (None if it was not)."""
    if incident.raised_at_ms is None:
        return None
    return pd.Timestamp(int(incident.raised_at_ms), unit="ms", tz="UTC")
