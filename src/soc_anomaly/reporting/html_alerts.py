"""The campaign and top-alert sections of the ``detect`` HTML report.

Campaigns caught per scenario and intensity with every campaign's outcome
(the enterprise world), and each detector's top alerts named by event, user,
time and truth with their reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from soc_anomaly.evaluation.campaigns import CampaignReport, GroupRecall
from soc_anomaly.evaluation.explain import Explanation
from soc_anomaly.experiment.results import (
    HEADLINE_RULE,
    DetectionResult,
    ModelResult,
    SeedRun,
    campaign_headline,
    headline_rule,
)
from soc_anomaly.reporting.campaign_report import ALERT_CAPTION, INCIDENT_CAPTION
from soc_anomaly.reporting.html_page import Markup, esc, number, table
from soc_anomaly.reporting.report_notes import headline_label

__all__ = ["campaigns_section", "event_rows", "top_alerts_section", "when", "zoned"]

#: Shown for a value that is missing or does not apply.
_NONE = "\N{EN DASH}"


# --- campaigns ----------------------------------------------------------------------


def _hours(value: float | None) -> str:
    return _NONE if value is None or pd.isna(value) else f"{value:,.1f}"


def campaigns_section(result: DetectionResult) -> Markup:
    heads: dict[str, CampaignReport] = {}
    for m in result.models:
        head = campaign_headline(m.campaigns)
        if head is not None:
            heads[m.name] = head
    names = list(heads)
    rule = headline_label(result)

    def group(groups: dict[str, GroupRecall], key: str) -> str:
        return f"{groups[key].caught}/{groups[key].n}" if key in groups else _NONE

    rows: list[list[Any]] = []
    for s in sorted({s for h in heads.values() for s in h.by_scenario}):
        rows.append([f"scenario: {s}", *(group(heads[n].by_scenario, s) for n in names)])
    for i in sorted({i for h in heads.values() for i in h.by_intensity}):
        rows.append([f"intensity: {i}", *(group(heads[n].by_intensity, i) for n in names)])
    rows.append(
        ["all campaigns", *(f"{h.caught}/{h.n_campaigns} ({h.recall:.0%})" for h in heads.values())]
    )
    rows.append(
        ["median time to detect (h)", *(_hours(h.median_ttd_hours) for h in heads.values())]
    )
    rows.append(["worst time to detect (h)", *(_hours(h.worst_ttd_hours) for h in heads.values())])
    incidents = headline_rule(result.models[0].campaigns) == HEADLINE_RULE
    unit = "incident" if incidents else "alert"
    rows.append([f"{unit}s raised", *(f"{h.alerts:,}" for h in heads.values())])
    rows.append([f"{unit}s a day", *(number(h.alerts_per_day, 1) for h in heads.values())])
    rows.append(
        [
            f"false {unit}s (no attack event)",
            *(
                _NONE if h.false_alerts is None else f"{h.false_alerts:,} of {h.alerts:,}"
                for h in heads.values()
            ),
        ]
    )
    noise = "false incidents" if incidents else "normal events in alerts"
    if not incidents:
        rows.append([noise, *(f"{h.false_positives:,}" for h in heads.values())])
    for tag in dict.fromkeys(t for h in heads.values() for t in h.fp_by_benign_tag):
        rows.append(
            [
                f"{noise}: {tag}",
                *(f"{h.fp_by_benign_tag.get(tag, 0):,}" for h in heads.values()),
            ]
        )
    overview = table(
        ["", *names],
        rows,
        numeric=range(1, len(names) + 1),
        row_headers=True,
        caption=(INCIDENT_CAPTION if incidents else ALERT_CAPTION) + ".",
    )
    return Markup(
        f"<p>Campaigns caught at {esc(rule)}.</p>{overview}"
        f"<h3>Every campaign</h3>{_campaign_outcomes(heads)}"
    )


def _campaign_outcomes(heads: dict[str, CampaignReport]) -> Markup:
    """One row per campaign: what it was, and when (or whether) each detector caught it."""
    names = list(heads)
    per_model = {n: {o.campaign_id: o for o in h.outcomes} for n, h in heads.items()}
    first = next(iter(heads.values()))
    rows = []
    for o in first.outcomes:
        cells: list[Any] = [o.campaign_id, o.scenario, o.intensity, o.n_events]
        for n in names:
            mine = per_model[n].get(o.campaign_id)
            if mine is None or not mine.caught:
                cells.append("missed")
            else:
                cells.append(
                    f"after {_hours(mine.time_to_detect_hours)} h "
                    f"({mine.alerted_events:,}/{mine.n_events:,} events alert)"
                )
        rows.append(cells)
    return table(["Campaign", "Scenario", "Intensity", "Events", *names], rows, numeric=[3])


# --- top alerts ---------------------------------------------------------------------


def when(value: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS``, in UTC when it carries a zone."""
    if value is None or pd.isna(value):
        return _NONE
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def zoned(values: pd.Series) -> bool:
    """Whether the times carry a zone (then shown in UTC)."""
    return isinstance(values.dtype, pd.DatetimeTZDtype)


def _calibrated(value: float | None) -> str:
    """Two decimals, or as many as it takes not to show a score under 100 as 100.00."""
    if value is None or pd.isna(value):
        return _NONE
    for digits in (2, 4, 6):
        text = f"{value:.{digits}f}"
        if value >= 100 or float(text) < 100:
            return text
    return text


def _text(value: Any) -> str:
    return _NONE if value is None or pd.isna(value) or str(value) == "" else str(value)


def event_rows(run: SeedRun, explanations: Sequence[Explanation]) -> list[pd.Series | None]:
    """The :attr:`SeedRun.test_events` row of each explained alert (None if unknown).

    An explanation's ``index`` is the event's label in the evaluated table
    (``run.test_index``); ``test_events`` is positional, in the same order.
    """
    events = run.test_events
    index = pd.Index(run.test_index)
    if events.empty or not index.is_unique or len(index) != len(events):
        return [None] * len(explanations)
    positions = index.get_indexer([e.index for e in explanations])
    return [None if p < 0 else events.iloc[int(p)] for p in positions]


def _truth(e: Explanation, event: pd.Series | None) -> Markup:
    if e.true_label == 1:
        kind = _text(event["attack_type"]) if event is not None else "anomaly"
        return Markup(f'<span class="tag attack">{esc(kind)}</span>')
    tag = _text(event["benign_tag"]) if event is not None and "benign_tag" in event else _NONE
    extra = f" ({esc(tag)})" if tag not in (_NONE, "none") else ""
    return Markup(f'<span class="tag normal">normal</span>{extra}')


def top_alerts_section(result: DetectionResult) -> Markup:
    run = result.runs[0]
    parts = [
        "<p>The highest-scoring test events of each detector"
        + (f" (first seed, {run.seed})" if len(result.runs) > 1 else "")
        + ", with the features furthest from normal. Calibrated: the share of normal "
        "training events scoring lower, 0-100.</p>"
    ]
    for m in result.models:
        parts.append(f"<h3>{esc(m.name)}</h3>{_alert_table(run, m)}")
    return Markup("".join(parts))


def _alert_table(run: SeedRun, m: ModelResult) -> Markup:
    if not m.explanations:
        return Markup("<p>No alerts were explained.</p>")
    events = event_rows(run, m.explanations)
    campaigns = any(ev is not None and _text(ev.get("campaign_id")) != _NONE for ev in events)
    in_utc = "time" in run.test_events and zoned(run.test_events["time"])
    headers = [
        "#",
        "Event",
        "User",
        "Time (UTC)" if in_utc else "Time",
        "Truth",
        *(["Campaign"] if campaigns else []),
        "Score",
        "Calibrated",
        "Why",
    ]
    rows = []
    for rank, (e, ev) in enumerate(zip(m.explanations, events, strict=True), start=1):
        reasons = Markup(
            "<ul>" + "".join(f"<li>{esc(s)}</li>" for s in e.explanations) + "</ul>"
            if e.explanations
            else _NONE
        )
        rows.append(
            [
                rank,
                _text(ev["event_id"]) if ev is not None else str(e.index),
                _text(ev["user"]) if ev is not None else _NONE,
                when(ev["time"]) if ev is not None else _NONE,
                _truth(e, ev),
                *([_text(ev["campaign_id"]) if ev is not None else _NONE] if campaigns else []),
                f"{e.score:.4g}",
                _calibrated(e.calibrated_score),
                reasons,
            ]
        )
    score_col = headers.index("Score")
    return table(headers, rows, numeric=[0, score_col, score_col + 1], nowrap=[1, 2, 3])
