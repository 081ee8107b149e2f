"""Sentences the console and HTML reports of ``detect`` share.

Why the first detector is first when others show the same PR AUC, where its
false alerts were counted, why an event-level alert budget shows a precision
of 1.000 and a tiny recall, and whose data a run was on. Plain text: the HTML
report escapes it.
"""

from __future__ import annotations

from pathlib import Path

from soc_anomaly.experiment.results import (
    BUDGET_RULE,
    EVENT_QUEUE_RULE,
    HEADLINE_RULE,
    TRAIN_RULE,
    ComparisonRow,
    DetectionResult,
    MeanStd,
    headline_rule,
)
from soc_anomaly.experiment.summary import shown_pr_auc
from soc_anomaly.reporting.report_format import rule_label

__all__ = [
    "budget_note",
    "data_label",
    "false_alerts_text",
    "false_alerts_where",
    "headline_label",
    "queue_line",
    "queue_name",
    "tie_note",
]


def headline_label(result: DetectionResult) -> str:
    """What the campaign headline is: the incident queue, the event queue or a threshold."""
    cfg = result.config
    rule = headline_rule(result.models[0].campaigns)
    if rule == HEADLINE_RULE:
        return (
            f"a daily queue of {cfg.incidents_per_day:g} incidents a day per 500 staff "
            "(events linked by the rare entities they share)"
        )
    if rule == EVENT_QUEUE_RULE:
        return (
            f"a daily queue of {cfg.alerts_per_day:g} alerts a day per 500 staff "
            "(one alert per user and hour)"
        )
    return f"p{cfg.threshold_percentile:g} of normal training scores"


def queue_name(rule: str | None) -> str | None:
    """``"the daily incident queue"`` or ``"the daily alert queue"``; None for a threshold."""
    return {
        HEADLINE_RULE: "the daily incident queue",
        EVENT_QUEUE_RULE: "the daily alert queue",
    }.get(rule or "")


def false_alerts_where(result: DetectionResult) -> str:
    """Where the ranking counts false alerts: the incident or event queue, else the
    normal percentile."""
    rule = headline_rule(result.models[0].campaigns)
    if rule == HEADLINE_RULE:
        return "in the daily incident queue"
    if rule == EVENT_QUEUE_RULE:
        return "in the daily alert queue"
    return f"at {rule_label(TRAIN_RULE, result.config)}"


def false_alerts_text(value: MeanStd | None, n_seeds: int) -> str:
    """False alerts as a count, or a mean (± std) over seeds; ``-`` when unknown."""
    if value is None:
        return "-"
    if n_seeds == 1:
        return f"{value.mean:,.0f}"
    return f"{value.mean:,.1f} ± {value.std:,.1f}"


def _mean(value: MeanStd | None, n_seeds: int) -> str:
    if value is None:
        return "unknown"
    return f"{value.mean:,.0f}" if n_seeds == 1 else f"{value.mean:,.1f}"


def tie_note(result: DetectionResult, rows: list[ComparisonRow] | None = None) -> str | None:
    """Why the first detector comes first among those showing the same PR AUC.

    Returns
    -------
    str or None
        E.g. ``"tied on PR AUC 1.000 with kNN distance, Mahalanobis; first for
        fewer false alerts at p99 of normal training scores: 80 against 85, 90"``;
        None when no other detector shows the first one's PR AUC.
    """
    rows = result.comparison() if rows is None else rows
    n = len(result.runs)
    best = rows[0]
    shown = shown_pr_auc(best.pr_auc.mean)
    tied = [r for r in rows[1:] if shown_pr_auc(r.pr_auc.mean) == shown]
    if not tied:
        return None
    head = f"tied on PR AUC {shown} with {', '.join(r.name for r in tied)}"
    if best.false_alerts is None:
        return f"{head}; first by name (false alerts unknown)"
    where = false_alerts_where(result)
    mine = _mean(best.false_alerts, n)
    if all(r.rank == best.rank for r in tied):
        return f"{head}; as many false alerts {where} ({mine}), so first by name"
    theirs = ", ".join(_mean(r.false_alerts, n) for r in tied)
    by_name = ", then by name" if any(r.rank == best.rank for r in tied) else ""
    return f"{head}; first for fewer false alerts {where}: {mine} against {theirs}{by_name}"


def budget_note(result: DetectionResult, rule: str) -> str | None:
    """Why an event-level alert budget shows precision near 1 and recall near 0.

    A budget of a few alerts a day is tiny beside the thousands of attack
    events a campaign world holds: recall cannot exceed alerts / attack events
    whatever the detector. Returns None for another rule, or when the budget
    is no smaller than the attack events.
    """
    if rule != BUDGET_RULE:
        return None
    reports = [m.thresholds[rule] for m in result.models if rule in m.thresholds]
    attacks = result.dataset.n_test_anomalies
    if not reports or attacks == 0:
        return None
    alerts = max(r.alerts for r in reports)
    if alerts >= attacks:
        return None
    note = (
        f"Event level: at most {alerts:,} alerts over the evaluated events against "
        f"{attacks:,} attack events, so recall cannot exceed {alerts / attacks:.3f} "
        "whatever the detector"
    )
    if all(f"{r.precision:.3f}" == "1.000" for r in reports):
        note += ", and precision 1.000 only says that every alerting event is an attack"
    if headline_rule(result.models[0].campaigns) in (HEADLINE_RULE, EVENT_QUEUE_RULE):
        note += "; the campaign table shows what the daily queue catches"
    return note + "."


def queue_line(result: DetectionResult, name: str) -> str | None:
    """``"28 incidents raised, 12 of them false (no attack event)"`` for one detector."""
    m = next(m for m in result.models if m.name == name)
    rule = headline_rule(m.campaigns)
    if rule not in (HEADLINE_RULE, EVENT_QUEUE_RULE) or m.campaigns is None:
        return None
    head = m.campaigns[rule]
    if head.false_alerts is None:
        return None
    what = "incidents" if rule == HEADLINE_RULE else "alerts"
    return f"{head.alerts:,} {what} raised, {head.false_alerts:,} of them false (no attack event)"


def data_label(result: DetectionResult) -> str:
    """Whose data the run was on: ``"your data: events.csv"`` or ``"seed scenario"``."""
    cfg = result.config
    kind = " (enterprise world events)" if cfg.enterprise else ""
    if cfg.data_path is not None:
        return f"your data: {Path(cfg.data_path).name}{kind}"
    if result.dataset.source.startswith("a DataFrame"):
        return f"your data: a DataFrame{kind}"
    return f"{cfg.scenario} scenario"
