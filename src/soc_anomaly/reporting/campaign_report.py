"""The campaign-level part of ``detect``'s console report (the enterprise world).

What a SOC manager asks of a detector: which campaigns it caught at the
analysts' daily alert budget, how fast, and which legitimate behaviour made
the noise.
"""

from __future__ import annotations

import math

from rich.console import Console

from soc_anomaly.evaluation.campaigns import CampaignReport, GroupRecall
from soc_anomaly.experiment.results import (
    HEADLINE_RULE,
    DetectionResult,
    campaign_headline,
    headline_rule,
)
from soc_anomaly.reporting.console import out as default_out
from soc_anomaly.reporting.report_notes import headline_label
from soc_anomaly.reporting.tables import SECTION, Column, print_fitted, wrap_header

__all__ = ["print_campaigns"]


def _hours(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.1f}"


def _rule_of(result: DetectionResult) -> str:
    return headline_label(result)


def print_campaigns(result: DetectionResult, console: Console | None = None) -> None:
    """Print campaign recall per scenario and intensity, time to detect, and the noise."""
    out = console if console is not None else default_out
    heads: dict[str, CampaignReport] = {}
    for m in result.models:
        head = campaign_headline(m.campaigns)
        if head is not None:
            heads[m.name] = head
    if not heads:
        return
    rule = _rule_of(result)
    incidents = headline_rule(result.models[0].campaigns) == HEADLINE_RULE
    unit = "incident" if incidents else "alert"
    names = list(heads)
    scenarios = sorted({s for h in heads.values() for s in h.by_scenario})
    intensities = sorted({i for h in heads.values() for i in h.by_intensity})
    tags = list(dict.fromkeys(t for h in heads.values() for t in h.fp_by_benign_tag))

    def group(g: dict[str, GroupRecall], key: str) -> str:
        return f"{g[key].caught}/{g[key].n}" if key in g else "-"

    hs = [heads[n] for n in names]
    rows: list[tuple[list[str], list[str]] | None] = [
        ([s], [group(h.by_scenario, s) for h in hs]) for s in scenarios
    ]
    rows.append(SECTION)
    rows += [([i], [group(h.by_intensity, i) for h in hs]) for i in intensities]
    rows.append(SECTION)
    rows += [
        (["[bold]all campaigns[/]"], [f"{h.caught}/{h.n_campaigns} ({h.recall:.0%})" for h in hs]),
        (["median TTD (h)"], [_hours(h.median_ttd_hours) for h in hs]),
        (["worst TTD (h)"], [_hours(h.worst_ttd_hours) for h in hs]),
        SECTION,
        ([f"{unit}s raised"], [f"{h.alerts:,}" for h in hs]),
        (
            [f"{unit}s a day"],
            ["-" if h.alerts_per_day is None else f"{h.alerts_per_day:,.1f}" for h in hs],
        ),
        ([f"false {unit}s"], [_false(h) for h in hs]),
        SECTION,
    ]
    if incidents:
        rows.append((["false incidents by oddity"], ["" for _ in hs]))
    else:
        rows.append((["normal events in alerts"], [f"{h.false_positives:,}" for h in hs]))
    rows += [([f"  {t}"], [f"{h.fp_by_benign_tag.get(t, 0):,}" for h in hs]) for t in tags]
    if incidents:
        rows.append(SECTION)
        rows.append((["incidents a campaign"], [_hours(h.fragmentation) for h in hs]))
        rows.append((["purity"], ["-" if h.purity is None else f"{h.purity:.2f}" for h in hs]))
    print_fitted(
        out,
        f"Campaigns caught at {rule}",
        [Column("", justify="left")],
        [Column(wrap_header(n)) for n in names],
        rows,
        caption=INCIDENT_CAPTION if incidents else ALERT_CAPTION,
    )


#: What the rows of the campaign table mean, for an event queue or a threshold.
ALERT_CAPTION = (
    "caught/campaigns: caught when any of its events is in a raised alert; TTD: "
    "first alert minus the campaign's start; false alerts: raised alerts holding no "
    "attack event; normal events in alerts: the normal events inside raised alerts "
    "(several can share one alert), by benign oddity ('none': everyday activity)"
)
#: The same for the incident queue.
INCIDENT_CAPTION = (
    "caught/campaigns: caught when a raised incident's main campaign (the one most of "
    "its campaign events belong to) is it; TTD: the incident's raise (when its score "
    "reached the day's cut) minus the campaign's start; false incidents: raised incidents "
    "holding no attack event, by their events' commonest benign oddity ('none': everyday "
    "activity); incidents a campaign: the incidents its linked events fall into (mean); "
    "purity: the share of a raised incident's events from its main campaign (mean)"
)


def _false(head: CampaignReport) -> str:
    """``"12 of 28"``: false alerts among the raised ones."""
    if head.false_alerts is None:
        return "-"
    return f"{head.false_alerts:,} of {head.alerts:,}"
