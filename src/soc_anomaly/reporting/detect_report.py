"""The console report of ``detect``: a summary first, then the tables.

The default report answers what an analyst asks first (which detector, at
which threshold, how many alerts a day, what it catches and misses), then
ranks the detectors, shows the operating point and the top alerts with who,
when and why. ``--verbose`` adds every threshold rule, the recall per attack
type, the threshold sweeps, correlations, permutation importance and every
detector's top alerts. Every table fits the console width (see
:mod:`soc_anomaly.reporting.tables`). Results go to stdout through
:data:`soc_anomaly.reporting.console.out` unless a console is given.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from rich.console import Console

from soc_anomaly.detectors.names import cli_name
from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.results import (
    TRAIN_RULE,
    ComparisonRow,
    DetectionResult,
    ModelResult,
    campaign_headline,
)
from soc_anomaly.reporting.campaign_report import print_campaigns
from soc_anomaly.reporting.console import out as default_out
from soc_anomaly.reporting.detail_tables import (
    print_correlations,
    print_importance,
    print_recall_by_attack,
    print_rule_table,
    print_sweep,
)
from soc_anomaly.reporting.incident_report import print_top_incidents
from soc_anomaly.reporting.report_format import (
    RULE_LABELS,
    calibrated_text,
    count,
    pct,
    per_day,
    pm,
    print_wrapped,
    ranks,
    rate,
    rule_label,
    score_digits,
)
from soc_anomaly.reporting.report_notes import (
    false_alerts_text,
    false_alerts_where,
    headline_label,
    queue_line,
    tie_note,
)
from soc_anomaly.reporting.tables import Column, print_fitted

__all__ = [
    "RULE_LABELS",
    "calibrated_text",
    "print_comparison",
    "print_report",
    "print_summary",
    "print_top_alerts",
    "ranks",
    "score_digits",
]


def _by_name(result: DetectionResult) -> dict[str, ModelResult]:
    return {m.name: m for m in result.models}


def _operating_rule(result: DetectionResult) -> str:
    """The rule the summary recommends, one that needs no labels.

    On the enterprise world, the alert budget (the daily queue's capacity,
    which the campaign figures use too); elsewhere the percentile of normal
    training scores.
    """
    rules = result.models[0].thresholds
    return "alert_budget" if result.config.enterprise and "alert_budget" in rules else TRAIN_RULE


def _split_attacks(recall: dict[str, float]) -> tuple[list[str], list[str], list[str]]:
    caught = [a for a, r in recall.items() if r >= 0.5]
    partly = [a for a, r in recall.items() if 0 < r < 0.5]
    missed = [a for a, r in recall.items() if r == 0]
    return caught, partly, missed


def _listing(recall: dict[str, float], names: list[str]) -> str:
    return ", ".join(f"{a} ({pct(recall[a])})" for a in names) or "none"


def _train_command(model: ModelResult, cfg: DetectConfig) -> str:
    """The ``train`` command that fits the recommended detector on the same features."""
    short = cli_name(model.name) or model.detector
    if not model.feature_set:  # a table's own columns: train reads them from a file
        chosen = f" --feature-cols {','.join(cfg.feature_cols)}" if cfg.feature_cols else ""
        return f"soc-anomaly train --detector {short} --features table --data-path FILE{chosen}"
    return f"soc-anomaly train --detector {short} --features {model.feature_set}"


def print_summary(result: DetectionResult, console: Console | None = None) -> None:
    """What to use and what it gives: detector, threshold, alerts a day, catches and misses."""
    out = console if console is not None else default_out
    cfg = result.config
    rows = result.comparison()
    best_row = rows[0]
    best = _by_name(result)[best_row.name]
    rule = _operating_rule(result)
    report: ThresholdReport = best.thresholds[rule]
    calibrated = float(best.calibrator.transform(np.array([report.threshold]))[0])
    n = len(result.runs)
    over = f", mean of {n} seeds" if n > 1 else ""
    tie = tie_note(result, rows)
    lines = [
        f"[bold]Use {best.name}[/] (PR AUC {pm(best_row.pr_auc, '.3f', n)}{over})",
        *([f"  {tie}"] if tie else []),
        f"  train it: {_train_command(best, cfg)}",
        f"  alert at {rule_label(rule, cfg)}: raw score >= {report.threshold:.4g}, "
        f"calibrated >= {calibrated_text(calibrated)} of 100",
    ]
    attacks = result.dataset.n_test_anomalies
    # A budget far below the attack events caps recall whatever the detector: say so.
    capped = (
        f" (at most {count(report.alerts)} of {count(attacks)} attack events fit the budget)"
        if rule == "alert_budget" and 0 < report.alerts < attacks
        else ""
    )
    if report.alerts_per_day is not None:
        lines.append(
            f"  {report.alerts_per_day:,.1f} alerts a day ({count(report.alerts)} over the "
            f"evaluated events), precision {rate(report.precision)}, recall "
            f"{rate(report.recall)}{capped}"
        )
    else:
        lines.append(
            f"  {count(report.alerts)} alerts over the evaluated events (no event times, so "
            f"no rate a day), precision {rate(report.precision)}, recall {rate(report.recall)}"
        )
    head = campaign_headline(best.campaigns)
    recall = report.recall_by_attack or {}
    if head is not None:
        # On the world, a campaign is caught by any of its events alerting: event
        # recall per attack type would understate what a capped queue achieves.
        by = head.by_scenario
        ttd = "" if head.median_ttd_hours is None else f", median {head.median_ttd_hours:,.1f} h"
        queue = queue_line(result, best.name)
        lines.append(
            f"  campaigns: {head.caught} of {head.n_campaigns} caught "
            f"({pct(head.recall)}{ttd} to detect) by {headline_label(result)}"
            + (f": {queue}" if queue else "")
        )
        groups = {
            "caught": [f"{s} {g.caught}/{g.n}" for s, g in by.items() if g.caught == g.n],
            "partly": [f"{s} {g.caught}/{g.n}" for s, g in by.items() if 0 < g.caught < g.n],
            "missed": [f"{s} {g.caught}/{g.n}" for s, g in by.items() if g.caught == 0],
        }
        for label, names in groups.items():
            if names or label != "partly":
                lines.append(f"  {label}: {', '.join(names) or 'none'}")
    elif recall and not (len(recall) == 1 and "anomaly" in recall):
        caught, partly, missed = _split_attacks(recall)
        lines.append(f"  catches: {_listing(recall, caught)}")
        if partly:
            lines.append(f"  partly: {_listing(recall, partly)}")
        lines.append(f"  misses: {_listing(recall, missed)}")
    if len(rows) > 1 and not tie:
        runner = rows[1]
        lines.append(f"  runner-up: {runner.name} (PR AUC {pm(runner.pr_auc, '.3f', n)})")
    out.print("\n[bold]Summary[/]")
    out.print(lines[0], soft_wrap=False)  # the console wraps this one at its width
    for line in lines[1:]:
        print_wrapped(out, line)
    if n > 1:
        out.print(f"  The tables below are for the first seed ({result.runs[0].seed}).")


def print_comparison(
    result: DetectionResult, console: Console | None = None, *, verbose: bool = False
) -> None:
    """The detectors ranked by PR AUC as shown, then fewer false alerts, mean ± std over seeds.

    The recall and alerts a day are at the summary's threshold rule, the false
    alerts where the ranking counts them (see
    :func:`soc_anomaly.experiment.summary.rank_over_seeds`); ``verbose`` adds
    the recall per attack type and the fit and scoring speeds.
    """
    out = console if console is not None else default_out
    cfg = result.config
    n = len(result.runs)
    rows = result.comparison()
    rule = _operating_rule(result)
    attacks = sorted(rows[0].recall_by_attack) if verbose else []
    over = f" (mean ± std over {n} seeds)" if n > 1 else ""
    campaigns = all(row.campaign_recall is not None for row in rows)
    at_rule = {m.name: m.thresholds[rule] for m in result.models}
    with_rate = next(iter(at_rule.values())).alerts_per_day is not None
    with_false = all(row.false_alerts is not None for row in rows)
    values = [
        Column("PR AUC"),
        Column("ROC AUC"),
        Column(f"P@{cfg.k}"),
        # On the world, campaigns caught replace the event recall, which a small
        # budget caps whatever the detector (the operating-point table shows it).
        *([] if campaigns else [Column("Recall")]),
        *([Column("Alerts\na day")] if with_rate else []),
        *([Column("False\nalerts")] if with_false else []),
        *([Column("Campaigns\ncaught")] if campaigns else []),
        *(Column(f"Recall\n{a}") for a in attacks),
        *([Column("Fit\n(s)"), Column("Test\nrows/s")] if verbose else []),
    ]

    def cells(row: ComparisonRow) -> list[str]:
        at = at_rule[row.name]
        caught = [pm(row.campaign_recall, ".2f", n)] if campaigns and row.campaign_recall else []
        return [
            pm(row.pr_auc, ".3f", n),
            pm(row.roc_auc, ".3f", n),
            pm(row.precision_at_k, ".3f", n),
            *([] if campaigns else [rate(at.recall)]),
            *([per_day(at.alerts_per_day)] if with_rate else []),
            *([false_alerts_text(row.false_alerts, n)] if with_false else []),
            *caught,
            *(pm(row.recall_by_attack[a], ".3f", n) for a in attacks),
            *(
                [pm(row.fit_seconds, ".2f", n), pm(row.scoring_rows_per_second, ",.0f", n)]
                if verbose
                else []
            ),
        ]

    by_attack = (
        f"; recall per attack type at p{cfg.threshold_percentile:g} of normal training scores"
        if verbose
        else ""
    )
    print_fitted(
        out,
        ("Detectors ranked by campaigns caught" if campaigns else "Detectors ranked by PR AUC")
        + over,
        [Column("#"), Column("Detector", justify="left", wrap=True)],
        values,
        [([str(row.rank), row.name], cells(row)) for row in rows],
        caption=("Alerts a day" if campaigns else "Recall and alerts a day")
        + f" at {rule_label(rule, cfg)}"
        + (" (first seed)" if n > 1 else "")
        + by_attack
        + (f"; campaigns caught by {headline_label(result)}" if campaigns else "")
        + (
            ". Ranked by campaigns caught, then PR AUC as shown"
            if campaigns
            else ". Ranked by PR AUC as shown"
        )
        + "; equal ones by fewer false alerts "
        f"{false_alerts_where(result)}"
        + ("" if with_false else " (unknown here, so by name)")
        + "; equal on both share a rank.",
    )


def _identity(result: DetectionResult) -> tuple[pd.Index, pd.DataFrame]:
    run = result.runs[0]
    return run.X_test_df.index, run.test_events


def _event_line(events: pd.DataFrame, position: int, true_label: int) -> str:
    """``event 123 | user_0042 | 2026-01-12 03:14 | exfiltration`` from what is known."""
    if events.empty:
        return "attack" if true_label == 1 else "normal"
    row = events.iloc[position]
    parts = [f"event {row['event_id']}"]
    if not pd.isna(row["user"]):
        parts.append(str(row["user"]))
    if not pd.isna(row["time"]):
        parts.append(pd.Timestamp(row["time"]).strftime("%Y-%m-%d %H:%M"))
    truth = str(row["attack_type"]) if true_label == 1 else "normal"
    if true_label == 1 and not pd.isna(row["campaign_id"]) and str(row["campaign_id"]):
        truth += f" ({row['campaign_id']})"
    tag = row["benign_tag"]
    if true_label == 0 and not pd.isna(tag) and str(tag) not in ("", "none"):
        truth += f" (benign {tag})"
    parts.append(truth)
    return "  ".join(parts)


def print_top_alerts(
    result: DetectionResult,
    m: ModelResult,
    console: Console | None = None,
    reasons: int | None = 3,
) -> None:
    """The detector's top alerts: rank (ties shared), calibrated and raw score, who, when, why."""
    out = console if console is not None else default_out
    explained = m.explanations
    if not explained:
        return
    index, events = _identity(result)
    positions = index.get_indexer([e.index for e in explained])
    raw = [e.score for e in explained]
    calibrated = [
        e.calibrated_score if e.calibrated_score is not None else math.nan for e in explained
    ]
    digits = score_digits(calibrated)
    out.print(
        f"\n[bold]Top {len(explained)} alerts of {m.name}[/] "
        "(calibrated score 0-100, raw score; equal scores share a rank)",
        soft_wrap=False,
    )
    for rank, e, pos, cal in zip(
        ranks([(s,) for s in raw]), explained, positions, calibrated, strict=True
    ):
        who = _event_line(events, int(pos), e.true_label) if pos >= 0 else f"row {e.index}"
        print_wrapped(out, f"{rank:>3}. {cal:.{digits}f} (raw {e.score:.4g})  {who}")
        shown = e.explanations if reasons is None else e.explanations[:reasons]
        for line in shown:
            print_wrapped(out, f"       - {line}")
        if len(e.explanations) > len(shown):
            print_wrapped(out, f"       - and {len(e.explanations) - len(shown)} more (--verbose)")


def print_report(
    result: DetectionResult, *, verbose: bool = False, console: Console | None = None
) -> None:
    """Print the summary, then the detector ranking, operating point and top alerts.

    Parameters
    ----------
    result : DetectionResult
        The run to report.
    verbose : bool, default=False
        Also print every threshold rule, recall per attack type, the threshold
        sweeps, correlations, permutation importance and every detector's top
        alerts with all their reasons.
    console : rich.console.Console, optional
        Where to print; default :data:`soc_anomaly.reporting.console.out`
        (stdout). A recording console captures the report, e.g. for HTML.
    """
    out = console if console is not None else default_out
    cfg = result.config
    ds = result.dataset
    out.print()
    print_wrapped(out, f"Data: {ds.source}")
    print_wrapped(
        out,
        f"{ds.n_events:,} events, {ds.n_anomalies:,} attacks; trained on {ds.n_train:,} normal "
        f"events; evaluated on {ds.n_test:,} events ({ds.n_test_anomalies:,} attacks)",
    )
    for note in result.notes:
        print_wrapped(out, f"note: {note}")
    print_summary(result, out)
    print_top_incidents(result, out)
    out.print()
    print_comparison(result, out, verbose=verbose)
    rules = [r for r in RULE_LABELS if r in result.models[0].thresholds]
    for rule in rules if verbose else [_operating_rule(result)]:
        print_rule_table(result, rule, out)
    if verbose:
        print_recall_by_attack(result, rules, out)
    print_campaigns(result, out)
    if verbose:
        for m in result.models:
            print_sweep(m, out)
        print_correlations(result, out)
        print_importance(result, out)
    best = _by_name(result)[result.comparison()[0].name]
    for m in result.models if verbose else [best]:
        print_top_alerts(result, m, out, reasons=None if verbose else 3)

    out.print()
    if result.plot_paths:
        out.print(f"Wrote {len(result.plot_paths)} plots to {cfg.plots_dir}")
    out.print(f"Wrote metrics to {result.metrics_path}")
    if cfg.save_run is not None:
        out.print(f"Saved the run to {cfg.save_run}")
    if not verbose:
        print_wrapped(
            out,
            "--verbose adds every threshold rule, recall per attack type, the threshold "
            "sweeps, correlations, permutation importance and every detector's top alerts.",
        )
