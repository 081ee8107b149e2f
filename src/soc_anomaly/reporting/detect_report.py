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
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rich.console import Console

from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.results import (
    TEST_RULE,
    TRAIN_RULE,
    ComparisonRow,
    DetectionResult,
    MeanStd,
    ModelResult,
    campaign_headline,
)
from soc_anomaly.reporting.campaign_report import print_campaigns
from soc_anomaly.reporting.console import out as default_out
from soc_anomaly.reporting.tables import Column, print_fitted, wrap_header

__all__ = ["RULE_LABELS", "print_comparison", "print_report", "ranks", "score_digits"]

#: Threshold rules in the order they are printed.
RULE_LABELS = {
    TRAIN_RULE: "p{pct} of normal training scores",
    TEST_RULE: "p{pct} of test scores",
    "fbeta": "F{beta} optimum of the PR curve",
    "alert_budget": "{budget} alerts a day",
}


def rate(value: float) -> str:
    """A share or a rank metric (precision, recall, AUC): three decimals."""
    return f"{value:.3f}"


def _count(value: int) -> str:
    return f"{value:,}"


def _per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _rule_label(rule: str, cfg: DetectConfig) -> str:
    label = RULE_LABELS[rule].format(
        pct=f"{cfg.threshold_percentile:g}", beta=f"{cfg.beta:g}", budget=f"{cfg.alerts_per_day:g}"
    )
    # The enterprise world's budget scales with the organisation (see DetectConfig).
    return f"{label} per 500 staff" if rule == "alert_budget" and cfg.enterprise else label


def _pm(value: MeanStd, fmt: str, n_seeds: int) -> str:
    text = format(value.mean, fmt)
    return f"{text} ± {format(value.std, fmt)}" if n_seeds > 1 else text


def ranks(keys: Sequence[tuple[float, ...]]) -> list[int]:
    """Competition ranks of already sorted keys: equal keys share a rank (1, 1, 3)."""
    out: list[int] = []
    for i, key in enumerate(keys):
        out.append(out[-1] if i and key == keys[i - 1] else i + 1)
    return out


def score_digits(values: Sequence[float], lowest: int = 1, highest: int = 4) -> int:
    """Fewest decimals (within bounds) that print distinct values distinctly.

    When even ``highest`` decimals cannot (scores so far above every training
    score that they all round to 100), ``lowest``: more digits would not help,
    and the raw scores printed beside them tell the alerts apart.
    """
    distinct = sorted(set(float(v) for v in values))
    for digits in range(lowest, highest + 1):
        if len({f"{v:.{digits}f}" for v in distinct}) == len(distinct):
            return digits
    return lowest


def calibrated_text(
    value: float, saturated: str = "100 (above every normal training score)"
) -> str:
    """A calibrated threshold or score: one decimal, more when it would read 100.

    ``saturated`` is printed for a value that rounds to 100 even at four decimals.
    """
    for digits in range(1, 5):
        text = f"{value:.{digits}f}"
        if float(text) < 100.0:
            return text
    return saturated


def _print_wrapped(out: Console, line: str) -> None:
    """Print a plain line wrapped at the console width, keeping its indent."""
    indent = " " * (len(line) - len(line.lstrip(" ")))
    for part in textwrap.wrap(
        line.strip(),
        out.width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
    ):
        out.print(part, markup=False, highlight=False)


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
    return ", ".join(f"{a} ({_pct(recall[a])})" for a in names) or "none"


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
    tied = [r.name for r in rows[1:] if r.rank == best_row.rank]
    lines = [
        f"[bold]Use {best.name}[/] (PR AUC {_pm(best_row.pr_auc, '.3f', n)}{over}"
        + (f"; tied with {', '.join(tied)}" if tied else "")
        + ")",
        f"  alert at {_rule_label(rule, cfg)}: raw score >= {report.threshold:.4g}, "
        f"calibrated >= {calibrated_text(calibrated)} of 100",
    ]
    if report.alerts_per_day is not None:
        lines.append(
            f"  {report.alerts_per_day:,.1f} alerts a day ({_count(report.alerts)} over the "
            f"evaluated events), precision {rate(report.precision)}, recall {rate(report.recall)}"
        )
    else:
        lines.append(
            f"  {_count(report.alerts)} alerts over the evaluated events (no event times, so "
            f"no rate a day), precision {rate(report.precision)}, recall {rate(report.recall)}"
        )
    head = campaign_headline(best.campaigns)
    recall = report.recall_by_attack or {}
    if head is not None:
        # On the world, a campaign is caught by any of its events alerting: event
        # recall per attack type would understate what a capped queue achieves.
        by = head.by_scenario
        ttd = "" if head.median_ttd_hours is None else f", median {head.median_ttd_hours:,.1f} h"
        lines.append(
            f"  campaigns: {head.caught} of {head.n_campaigns} caught "
            f"({_pct(head.recall)}{ttd} to detect) by the daily alert queue"
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
    if len(rows) > 1 and not tied:
        runner = rows[1]
        lines.append(f"  runner-up: {runner.name} (PR AUC {_pm(runner.pr_auc, '.3f', n)})")
    out.print("\n[bold]Summary[/]")
    out.print(lines[0], soft_wrap=False)  # the console wraps this one at its width
    for line in lines[1:]:
        _print_wrapped(out, line)
    if n > 1:
        out.print(f"  The tables below are for the first seed ({result.runs[0].seed}).")


def print_comparison(
    result: DetectionResult, console: Console | None = None, *, verbose: bool = False
) -> None:
    """The detectors ranked by PR AUC (ties share a rank), mean ± std over seeds.

    The recall and alerts a day are at the summary's threshold rule; ``verbose``
    adds the recall per attack type and the fit and scoring speeds.
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
    values = [
        Column("PR AUC"),
        Column("ROC AUC"),
        Column(f"P@{cfg.k}"),
        Column("Recall"),
        *([Column("Alerts\na day")] if with_rate else []),
        *([Column("Campaigns\ncaught")] if campaigns else []),
        *(Column(f"Recall\n{a}") for a in attacks),
        *([Column("Fit\n(s)"), Column("Test\nrows/s")] if verbose else []),
    ]

    def cells(row: ComparisonRow) -> list[str]:
        at = at_rule[row.name]
        caught = [_pm(row.campaign_recall, ".2f", n)] if campaigns and row.campaign_recall else []
        return [
            _pm(row.pr_auc, ".3f", n),
            _pm(row.roc_auc, ".3f", n),
            _pm(row.precision_at_k, ".3f", n),
            rate(at.recall),
            *([_per_day(at.alerts_per_day)] if with_rate else []),
            *caught,
            *(_pm(row.recall_by_attack[a], ".3f", n) for a in attacks),
            *(
                [_pm(row.fit_seconds, ".2f", n), _pm(row.scoring_rows_per_second, ",.0f", n)]
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
        f"Detectors ranked by PR AUC{over}",
        [Column("#"), Column("Detector", justify="left", wrap=True)],
        values,
        [([str(row.rank), row.name], cells(row)) for row in rows],
        caption=f"Recall and alerts a day at {_rule_label(rule, cfg)}"
        + (" (first seed)" if n > 1 else "")
        + by_attack
        + ("; campaigns caught by the daily alert queue" if campaigns else "")
        + ". Equal scores share a rank.",
    )


def _rule_rows(
    blocks: list[ThresholdReport], with_rate: bool
) -> list[tuple[list[str], list[str]] | None]:
    rows: list[tuple[list[str], list[str]] | None] = [
        (["Threshold (raw)"], [f"{b.threshold:.4g}" for b in blocks]),
        (["Alerts"], [_count(b.alerts) for b in blocks]),
    ]
    if with_rate:
        rows.append((["Alerts a day"], [_per_day(b.alerts_per_day) for b in blocks]))
    rows += [
        (["True positives"], [_count(b.tp) for b in blocks]),
        (["False positives"], [_count(b.fp) for b in blocks]),
        (["False negatives"], [_count(b.fn) for b in blocks]),
        (["Precision"], [rate(b.precision) for b in blocks]),
        (["Recall"], [rate(b.recall) for b in blocks]),
        (["F1"], [rate(b.f1) for b in blocks]),
    ]
    return rows


def _print_rule(result: DetectionResult, rule: str, out: Console) -> None:
    cfg = result.config
    blocks = [m.thresholds[rule] for m in result.models]
    calibrated = [
        float(m.calibrator.transform(np.array([m.thresholds[rule].threshold]))[0])
        for m in result.models
    ]
    rows = _rule_rows(blocks, blocks[0].alerts_per_day is not None)
    rows.insert(1, (["Threshold (0-100)"], [calibrated_text(c, "100") for c in calibrated]))
    print_fitted(
        out,
        f"At {_rule_label(rule, cfg)} (test events)",
        [Column("", justify="left")],
        [Column(wrap_header(m.name)) for m in result.models],
        rows,
    )


#: Short names of the threshold rules, for column headers.
RULE_SHORT = {
    TRAIN_RULE: "normal\np{pct}",
    TEST_RULE: "test\np{pct}",
    "fbeta": "F{beta}\noptimum",
    "alert_budget": "{budget}\na day",
}


def _print_recall_by_attack(result: DetectionResult, rules: list[str], out: Console) -> None:
    cfg = result.config
    ds = result.dataset
    attacks = sorted(result.models[0].thresholds[TRAIN_RULE].recall_by_attack or {})
    headers = [
        Column(
            RULE_SHORT[r].format(
                pct=f"{cfg.threshold_percentile:g}",
                beta=f"{cfg.beta:g}",
                budget=f"{cfg.alerts_per_day:g}",
            )
        )
        for r in rules
    ]
    for m in result.models:
        rows = [
            (
                [a, f"{ds.test_anomalies_by_attack.get(a, 0):,}"],
                [rate((m.thresholds[r].recall_by_attack or {})[a]) for r in rules],
            )
            for a in attacks
        ]
        print_fitted(
            out,
            f"Recall per attack type of {m.name}, by threshold rule",
            [Column("Attack type", justify="left"), Column("Events")],
            headers,
            rows,
        )


def _print_sweep(m: ModelResult, out: Console) -> None:
    rows = [
        (
            [f"{r.percentile:g}"],
            [
                f"{r.threshold:.4g}",
                _count(r.alerts),
                rate(r.precision),
                rate(r.recall),
                rate(r.f1),
                f"{r.false_positive_rate:.4f}",
            ],
        )
        for r in m.sweep.itertuples(index=False)
    ]
    print_fitted(
        out,
        f"Threshold sweep of {m.name}: percentile of normal training scores",
        [Column("Percentile")],
        [Column(c) for c in ("Threshold", "Alerts", "Precision", "Recall", "F1", "FPR")],
        rows,
    )


def _print_correlations(result: DetectionResult, out: Console) -> None:
    models = result.models
    features = list(dict.fromkeys(f for m in models for f in m.correlations.index))
    # With several feature sets a detector has no correlation for the other set's features.
    rows = [
        (
            [f],
            [f"{m.correlations[f]:+.3f}" if f in m.correlations.index else "" for m in models],
        )
        for f in features
    ]
    print_fitted(
        out,
        "Pearson correlation of each feature with the scores",
        [Column("Feature", justify="left")],
        [Column(wrap_header(m.name)) for m in models],
        rows,
    )


def _print_importance(result: DetectionResult, out: Console) -> None:
    cfg = result.config
    models = [m for m in result.models if m.importance is not None]
    if not models:
        return
    tables = {m.name: m.importance.set_index("feature") for m in models}  # type: ignore[union-attr]
    features = list(dict.fromkeys(f for m in models for f in m.importance["feature"]))  # type: ignore[index]
    rows = []
    for f in features:
        cells = []
        for m in models:
            t = tables[m.name]
            cells.append(
                f"{t.at[f, 'importance_mean']:+.3f} ± {t.at[f, 'importance_std']:.3f}"
                if f in t.index
                else ""
            )
        rows.append(([f], cells))
    print_fitted(
        out,
        "Permutation importance: drop in PR AUC when a feature is shuffled "
        f"(mean ± std over {cfg.importance_repeats} repeats)",
        [Column("Feature", justify="left")],
        [Column(wrap_header(m.name)) for m in models],
        rows,
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
        _print_wrapped(out, f"{rank:>3}. {cal:.{digits}f} (raw {e.score:.4g})  {who}")
        shown = e.explanations if reasons is None else e.explanations[:reasons]
        for line in shown:
            _print_wrapped(out, f"       - {line}")
        if len(e.explanations) > len(shown):
            _print_wrapped(out, f"       - and {len(e.explanations) - len(shown)} more (--verbose)")


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
    _print_wrapped(out, f"Data: {ds.source}")
    _print_wrapped(
        out,
        f"{ds.n_events:,} events, {ds.n_anomalies:,} attacks; trained on {ds.n_train:,} normal "
        f"events; evaluated on {ds.n_test:,} events ({ds.n_test_anomalies:,} attacks)",
    )
    for note in result.notes:
        _print_wrapped(out, f"note: {note}")
    print_summary(result, out)
    out.print()
    print_comparison(result, out, verbose=verbose)
    rules = [r for r in RULE_LABELS if r in result.models[0].thresholds]
    for rule in rules if verbose else [_operating_rule(result)]:
        _print_rule(result, rule, out)
    if verbose:
        _print_recall_by_attack(result, rules, out)
    print_campaigns(result, out)
    if verbose:
        for m in result.models:
            _print_sweep(m, out)
        _print_correlations(result, out)
        _print_importance(result, out)
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
        _print_wrapped(
            out,
            "--verbose adds every threshold rule, recall per attack type, the threshold "
            "sweeps, correlations, permutation importance and every detector's top alerts.",
        )
