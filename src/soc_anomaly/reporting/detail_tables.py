"""The tables ``detect --verbose`` adds: every threshold rule, recall per attack
type, threshold sweeps, correlations and permutation importance.

Each fits the console width (:func:`soc_anomaly.reporting.tables.print_fitted`).
"""

from __future__ import annotations

import numpy as np
from rich.console import Console

from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.experiment.results import TEST_RULE, TRAIN_RULE, DetectionResult, ModelResult
from soc_anomaly.reporting.report_format import (
    calibrated_text,
    count,
    per_day,
    print_wrapped,
    rate,
    rule_label,
)
from soc_anomaly.reporting.report_notes import budget_note
from soc_anomaly.reporting.tables import Column, print_fitted, wrap_header

__all__ = [
    "RULE_SHORT",
    "print_correlations",
    "print_importance",
    "print_recall_by_attack",
    "print_rule_table",
    "print_sweep",
]


def _rule_rows(
    blocks: list[ThresholdReport], with_rate: bool
) -> list[tuple[list[str], list[str]] | None]:
    rows: list[tuple[list[str], list[str]] | None] = [
        (["Threshold (raw)"], [f"{b.threshold:.4g}" for b in blocks]),
        (["Alerts"], [count(b.alerts) for b in blocks]),
    ]
    if with_rate:
        rows.append((["Alerts a day"], [per_day(b.alerts_per_day) for b in blocks]))
    rows += [
        (["True positives"], [count(b.tp) for b in blocks]),
        (["False positives"], [count(b.fp) for b in blocks]),
        (["False negatives"], [count(b.fn) for b in blocks]),
        (["Precision"], [rate(b.precision) for b in blocks]),
        (["Recall"], [rate(b.recall) for b in blocks]),
        (["F1"], [rate(b.f1) for b in blocks]),
    ]
    return rows


def print_rule_table(result: DetectionResult, rule: str, out: Console) -> None:
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
        f"At {rule_label(rule, cfg)} (test events)",
        [Column("", justify="left")],
        [Column(wrap_header(m.name)) for m in result.models],
        rows,
    )
    note = budget_note(result, rule)
    if note is not None:
        print_wrapped(out, note)


#: Short names of the threshold rules, for column headers.
RULE_SHORT = {
    TRAIN_RULE: "normal\np{pct}",
    TEST_RULE: "test\np{pct}",
    "fbeta": "F{beta}\noptimum",
    "alert_budget": "{budget}\na day",
}


def print_recall_by_attack(result: DetectionResult, rules: list[str], out: Console) -> None:
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


def print_sweep(m: ModelResult, out: Console) -> None:
    rows = [
        (
            [f"{r.percentile:g}"],
            [
                f"{r.threshold:.4g}",
                count(r.alerts),
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


def print_correlations(result: DetectionResult, out: Console) -> None:
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


def print_importance(result: DetectionResult, out: Console) -> None:
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
