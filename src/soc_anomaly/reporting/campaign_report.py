"""The campaign-level part of ``detect``'s console report (the enterprise world).

What a SOC manager asks of a detector: which campaigns it caught at the
analysts' daily alert budget, how fast, and which legitimate behaviour made
the noise.
"""

from __future__ import annotations

import math

from rich.console import Console

from soc_anomaly.evaluation.campaigns import CampaignReport, GroupRecall
from soc_anomaly.experiment.results import DetectionResult, campaign_headline
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
        (["alerts raised"], [f"{h.alerts:,}" for h in hs]),
        (
            ["alerts a day"],
            ["-" if h.alerts_per_day is None else f"{h.alerts_per_day:,.1f}" for h in hs],
        ),
        (["false alerts"], [_false(h) for h in hs]),
        SECTION,
        (["normal events in alerts"], [f"{h.false_positives:,}" for h in hs]),
    ]
    rows += [([f"  {t}"], [f"{h.fp_by_benign_tag.get(t, 0):,}" for h in hs]) for t in tags]
    print_fitted(
        out,
        f"Campaigns caught at {rule}",
        [Column("", justify="left")],
        [Column(wrap_header(n)) for n in names],
        rows,
        caption="caught/campaigns: caught when any of its events is in a raised alert; TTD: "
        "first alert minus the campaign's start; false alerts: raised alerts holding no "
        "attack event; normal events in alerts: the normal events inside raised alerts "
        "(several can share one alert), by benign oddity ('none': everyday activity)",
    )


def _false(head: CampaignReport) -> str:
    """``"12 of 28"``: false alerts among the raised ones."""
    if head.false_alerts is None:
        return "-"
    return f"{head.false_alerts:,} of {head.alerts:,}"
