"""The console report of ``detect``: the ranking, metrics per threshold rule, explanations.

Results go to stdout through :data:`soc_anomaly.reporting.console.out`.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.results import TEST_RULE, TRAIN_RULE, DetectionResult, MeanStd
from soc_anomaly.reporting.campaign_report import print_campaigns
from soc_anomaly.reporting.console import out as default_out

__all__ = ["RULE_LABELS", "print_comparison", "print_report"]


def _f(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


#: Threshold rules in the order they are printed.
RULE_LABELS = {
    TRAIN_RULE: "p{pct} of normal training scores",
    TEST_RULE: "p{pct} of test scores",
    "fbeta": "F{beta} optimum of the PR curve",
    "alert_budget": "{budget} alerts a day",
}


def _rule_label(rule: str, cfg: DetectConfig) -> str:
    label = RULE_LABELS[rule].format(
        pct=f"{cfg.threshold_percentile:g}", beta=f"{cfg.beta:g}", budget=f"{cfg.alerts_per_day:g}"
    )
    # The enterprise world's budget scales with the organisation (see DetectConfig).
    return f"{label} per 500 staff" if rule == "alert_budget" and cfg.enterprise else label


def _pm(value: MeanStd, digits: int, n_seeds: int) -> str:
    text = f"{value.mean:,.{digits}f}"
    return f"{text} ± {value.std:,.{digits}f}" if n_seeds > 1 else text


def print_comparison(result: DetectionResult, console: Console | None = None) -> None:
    """The detectors ranked by PR AUC, with mean ± std over seeds when repeated."""
    out = console if console is not None else default_out
    cfg = result.config
    n = len(result.runs)
    rows = result.comparison()
    attacks = sorted(rows[0].recall_by_attack)
    over = f" (mean ± std over {n} seeds)" if n > 1 else ""
    campaigns = all(row.campaign_recall is not None for row in rows)
    caught = "; campaigns caught by the daily alert queue" if campaigns else ""
    table = Table(
        title=f"Detectors ranked by PR AUC{over}; recall at p{cfg.threshold_percentile:g} "
        f"of normal training scores{caught}",
        title_justify="left",
    )
    for col in ("#", "Detector", "PR AUC", "ROC AUC", f"P@{cfg.k}"):
        table.add_column(col, justify="left" if col == "Detector" else "right", no_wrap=True)
    for attack in attacks:
        table.add_column(f"Recall\n{attack}", justify="right")
    if campaigns:
        table.add_column("Campaigns\ncaught", justify="right")
    table.add_column("Fit (s)", justify="right")
    table.add_column("Test rows/s", justify="right")
    for row in rows:
        caught = [_pm(row.campaign_recall, 2, n)] if campaigns and row.campaign_recall else []
        table.add_row(
            str(row.rank),
            row.name,
            _pm(row.pr_auc, 4, n),
            _pm(row.roc_auc, 4, n),
            _pm(row.precision_at_k, 3, n),
            *(_pm(row.recall_by_attack[a], 3, n) for a in attacks),
            *caught,
            _pm(row.fit_seconds, 2, n),
            _pm(row.scoring_rows_per_second, 0, n),
        )
    out.print(table)
    if n > 1:
        out.print(f"The tables below are for the first seed ({result.runs[0].seed}).\n")


def print_report(
    result: DetectionResult, *, verbose: bool = False, console: Console | None = None
) -> None:
    """Print the metrics, per-attack recall, correlations and top explanations.

    Parameters
    ----------
    result : DetectionResult
        The run to report.
    verbose : bool, default=False
        Print every table; by default the summary and the headline tables.
    console : rich.console.Console, optional
        Where to print; default :data:`soc_anomaly.reporting.console.out`
        (stdout). A recording console captures the report, e.g. for HTML.
    """
    out = console if console is not None else default_out
    cfg = result.config
    ds = result.dataset
    out.print(
        f"\n[bold]Data[/]: {ds.source}\n"
        f"{ds.n_events:,} events, {ds.n_anomalies:,} anomalies; trained on "
        f"{ds.n_train:,} normal events; tested on {ds.n_test:,} events "
        f"({ds.n_test_anomalies:,} anomalies)\n"
    )

    for note in result.notes:
        out.print(f"[yellow]note[/]: {note}")
    print_comparison(result, out)

    names = [m.name for m in result.models]
    table = Table(title="Detection metrics (test events)", title_justify="left")
    table.add_column("Metric")
    for name in names:
        table.add_column(name, justify="right")

    def row(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    row("ROC AUC", [_f(m.metrics.roc_auc, 4) for m in result.models])
    row("PR AUC", [_f(m.metrics.pr_auc, 4) for m in result.models])
    row(f"Precision@{cfg.k}", [_f(m.metrics.precision_at_k) for m in result.models])
    rules = [r for r in RULE_LABELS if r in result.models[0].thresholds]
    for rule in rules:
        table.add_section()
        row(f"[italic]threshold: {_rule_label(rule, cfg)}[/]", ["" for _ in names])
        blocks = [m.thresholds[rule] for m in result.models]
        row("  Threshold", [f"{b.threshold:.4g}" for b in blocks])
        row("  Alerts", [f"{b.alerts:,}" for b in blocks])
        if blocks[0].alerts_per_day is not None:
            row("  Alerts per day", [f"{b.alerts_per_day:,.1f}" for b in blocks])
        row("  True positives", [f"{b.tp:,}" for b in blocks])
        row("  False positives", [f"{b.fp:,}" for b in blocks])
        row("  True negatives", [f"{b.tn:,}" for b in blocks])
        row("  False negatives", [f"{b.fn:,}" for b in blocks])
        row("  Precision", [_f(b.precision) for b in blocks])
        row("  Recall", [_f(b.recall) for b in blocks])
        row("  F1", [_f(b.f1) for b in blocks])
    table.add_section()
    row("Fit time (s)", [_f(m.fit_seconds, 2) for m in result.models])
    row("Scoring (test rows/s)", [f"{m.scoring_rows_per_second:,.0f}" for m in result.models])
    out.print(table)

    attacks = sorted(result.models[0].thresholds[TRAIN_RULE].recall_by_attack or {})
    recall = Table(title="Recall per attack type", title_justify="left")
    recall.add_column("Detector")
    recall.add_column("Threshold")
    for attack in attacks:
        n_attack = ds.test_anomalies_by_attack.get(attack, 0)
        recall.add_column(f"{attack}\n({n_attack:,} events)", justify="right")
    for m in result.models:
        for rule in rules:
            recall.add_row(
                m.name,
                _rule_label(rule, cfg),
                *(_f((m.thresholds[rule].recall_by_attack or {})[a]) for a in attacks),
            )
        recall.add_section()
    out.print(recall)
    print_campaigns(result, out)

    for m in result.models:
        sweep = Table(
            title=f"Threshold sweep of {m.name}: percentile of normal training scores",
            title_justify="left",
        )
        for col in ("Percentile", "Threshold", "Alerts", "Precision", "Recall", "F1", "FPR"):
            sweep.add_column(col, justify="right")
        for r in m.sweep.itertuples(index=False):
            sweep.add_row(
                f"{r.percentile:g}",
                f"{r.threshold:.4g}",
                f"{r.alerts:,}",
                _f(r.precision),
                _f(r.recall),
                _f(r.f1),
                _f(r.false_positive_rate, 4),
            )
        out.print(sweep)

    corr = Table(title="Pearson correlation of each feature with the scores", title_justify="left")
    corr.add_column("Feature")
    for name in names:
        corr.add_column(name, justify="right")
    # With several feature sets a detector has no correlation for the other set's features.
    for feature in dict.fromkeys(f for m in result.models for f in m.correlations.index):
        corr.add_row(
            feature,
            *(
                f"{m.correlations[feature]:+.3f}" if feature in m.correlations.index else ""
                for m in result.models
            ),
        )
    out.print(corr)

    importances = [m for m in result.models if m.importance is not None]
    if importances:
        imp = Table(
            title="Permutation importance: drop in PR AUC when a feature is shuffled "
            f"(mean ± std over {cfg.importance_repeats} repeats)",
            title_justify="left",
        )
        imp.add_column("Feature")
        for m in importances:
            imp.add_column(m.name, justify="right")
        tables = {m.name: m.importance.set_index("feature") for m in importances}
        for feature in dict.fromkeys(f for m in importances for f in m.importance["feature"]):
            imp.add_row(
                feature,
                *(
                    f"{tables[m.name].at[feature, 'importance_mean']:+.4f} ± "
                    f"{tables[m.name].at[feature, 'importance_std']:.4f}"
                    if feature in tables[m.name].index
                    else ""
                    for m in importances
                ),
            )
        out.print(imp)

    for m in result.models:
        out.print(f"\n[bold]Top {len(m.explanations)} alerts of {m.name}[/]")
        for e in m.explanations:
            truth = "ANOMALY" if e.true_label == 1 else "normal"
            out.print(
                f"idx={e.index} | score={e.score:.3f} | "
                f"calibrated={e.calibrated_score:.2f} | true={truth}"
            )
            for line in e.explanations:
                out.print(f"  - {line}")

    out.print()
    if result.plot_paths:
        out.print(f"Wrote {len(result.plot_paths)} plots to {cfg.plots_dir}")
    out.print(f"Wrote metrics to {result.metrics_path}")
    if cfg.save_run is not None:
        out.print(f"Saved the run to {cfg.save_run}")
