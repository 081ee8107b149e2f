"""``score --report``: a self-contained HTML report of a scoring run, built while streaming.

:class:`~soc_anomaly.reporting.score_collector.ScoreReportCollector` keeps
what the report shows while the events stream, in bounded memory;
:func:`write_score_report` turns it, the run's
:class:`~soc_anomaly.model.scoring.ScoreSummary` and the model's manifest
into one HTML file (see :mod:`soc_anomaly.reporting.html_page`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.model.findings import reason_list
from soc_anomaly.model.scoring import ID_COLUMNS, ScoreSummary
from soc_anomaly.reporting.html_page import (
    Markup,
    Section,
    check_report_path,
    definition_list,
    esc,
    figure_from_bytes,
    number,
    page,
    table,
    write_page,
)
from soc_anomaly.reporting.score_collector import (
    DEFAULT_TOP_ALERTS,
    HISTOGRAM_BINS,
    ScoreReportCollector,
)

__all__ = [
    "DEFAULT_TOP_ALERTS",
    "HISTOGRAM_BINS",
    "ScoreReportCollector",
    "ScoreRunInfo",
    "score_histogram_png",
    "score_report_html",
    "write_score_report",
]

#: Users listed by alert count.
TOP_USERS = 15
_NONE = "\N{EN DASH}"
# figure_style's colour-blind-safe truth colours (grey normal, vermillion attacks),
# written out: importing figure_style would load matplotlib for every command.
_NORMAL_COLOR = "#9E9E9E"
_ALERT_COLOR = "#D55E00"


@dataclass(frozen=True)
class ScoreRunInfo:
    """How a scoring run was called, as the report describes it.

    Attributes
    ----------
    model_dir : pathlib.Path
        The model bundle.
    input_path, output_path : str
        Where events came from and results went (``-``: standard input/output).
    input_format, output_format : str
        Their formats.
    alerts_only : bool
        Only alerting events were written.
    label_col : str or None
        Column of labels evaluated against.
    chunk_rows : int or None
        Events read and scored at a time.
    """

    model_dir: Path
    input_path: str
    input_format: str
    output_path: str
    output_format: str
    alerts_only: bool = False
    label_col: str | None = None
    chunk_rows: int | None = None


def write_score_report(
    path: Path,
    collector: ScoreReportCollector,
    summary: ScoreSummary,
    manifest: Mapping[str, Any],
    info: ScoreRunInfo,
) -> Path:
    """Write the HTML report of a scoring run to ``path``, atomically.

    Parameters
    ----------
    path : pathlib.Path
        Destination ending in ``.html`` or ``.htm``, in an existing folder.
    collector : ScoreReportCollector
        What was gathered while streaming.
    summary : ScoreSummary
        The run's counts, timing and (with labels) evaluation.
    manifest : mapping
        The model bundle's manifest.
    info : ScoreRunInfo
        The run's inputs and outputs.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = check_report_path(Path(path))
    return write_page(score_report_html(collector, summary, manifest, info), path)


def score_report_html(
    collector: ScoreReportCollector,
    summary: ScoreSummary,
    manifest: Mapping[str, Any],
    info: ScoreRunInfo,
) -> str:
    """The HTML report of a scoring run, as a string (see :func:`write_score_report`)."""
    detector = manifest.get("detector", {}).get("name", "?")
    sections = [
        Section("summary", "Summary", _summary(collector, summary, manifest, info)),
        Section("scores", "Score distribution", _distribution(collector, manifest)),
        Section("top-alerts", "Top alerts and why", _top_alerts(collector)),
    ]
    if collector.alerts_by_user:
        sections.append(Section("users", "Users with the most alerts", _users(collector)))
    if summary.evaluation is not None:
        sections.append(Section("evaluation", "Against the labels", _evaluation(summary, info)))
    sections += [
        Section("model", "Model", _model(manifest, info)),
        Section("input", "Input and output", _input(summary, info)),
    ]
    subtitle = f"soc-anomaly score · {detector} ({manifest.get('features', '?')} features)"
    return page("Scoring report", subtitle, sections)


def _where(path: str, stream: str) -> str:
    return stream if path == "-" else path


def _when(stamp: pd.Timestamp | None) -> str:
    if stamp is None:
        return _NONE
    if stamp.tzinfo is not None:
        return stamp.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _summary(
    collector: ScoreReportCollector,
    summary: ScoreSummary,
    manifest: Mapping[str, Any],
    info: ScoreRunInfo,
) -> Markup:
    rate = summary.alerts / summary.events if summary.events else 0.0
    threshold = manifest.get("threshold", {})
    head = (
        f"{summary.events:,} events scored, <strong>{summary.alerts:,} alerts</strong> "
        f"({number(rate, 2, percent=True)}) at a calibrated score of "
        f"{esc(number(threshold.get('calibrated'), 2))} or more"
    )
    ev = summary.evaluation
    if ev is not None:
        head += (
            f"; against the labels: precision {esc(number(ev['precision'], 1, percent=True))}, "
            f"recall {esc(number(ev['recall'], 1, percent=True))}"
        )
    speed = summary.events / summary.seconds if summary.seconds else None
    facts: list[tuple[str, object]] = [
        ("Model", f"{manifest.get('detector', {}).get('name', '?')} in {info.model_dir}"),
        ("Input", _where(info.input_path, "standard input")),
        ("Events", f"{summary.events:,}"),
        ("Alerts", f"{summary.alerts:,} ({number(rate, 2, percent=True)} of the events)"),
        ("Time range", f"{_when(collector.first_time)} to {_when(collector.last_time)}"),
        (
            "Results",
            f"{summary.written:,} written to {_where(info.output_path, 'standard output')}",
        ),
        ("Took", f"{summary.seconds:.1f} s ({number(speed, 0)} events/s)"),
    ]
    if summary.skipped:
        facts.append(("Skipped", f"{summary.skipped:,} malformed line(s)"))
    return Markup(f'<p class="headline">{head}.</p>{definition_list(facts)}')


def score_histogram_png(collector: ScoreReportCollector, threshold: float | None) -> bytes:
    """The calibrated-score histogram as PNG bytes: all of 0-100, and the top points.

    Counts are on a log scale: normal traffic spreads evenly over 0-100 while
    the alerts are a sliver at the top.
    """
    from matplotlib.figure import Figure

    edges = np.linspace(0.0, 100.0, collector.bins + 1)
    coarse = max(1, collector.bins // 100)  # 1-point bins for the whole range
    lo = 95.0 if threshold is None else float(np.clip(np.floor(threshold) - 4.0, 0.0, 95.0))
    fig = Figure(figsize=(10, 3.6))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    colors = (_NORMAL_COLOR, _ALERT_COLOR)
    start = round(lo / 100.0 * collector.bins)
    for (group, counts), color in zip(collector.counts.items(), colors, strict=True):
        label = f"{group} ({int(counts.sum()):,})"
        full = counts[: len(counts) // coarse * coarse].reshape(-1, coarse).sum(axis=1)
        left.stairs(
            full, edges[::coarse][: len(full) + 1], fill=True, alpha=0.55, color=color, label=label
        )
        right.stairs(counts[start:], edges[start:], fill=True, alpha=0.55, color=color)
    for ax, title in ((left, "All events"), (right, f"Top of the scale ({lo:g}-100)")):
        if threshold is not None:
            ax.axvline(threshold, color="black", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("Calibrated score (0-100)")
        ax.grid(alpha=0.3)
    left.set_xlim(0, 100)
    right.set_xlim(lo, 100)
    left.set_ylabel("Events (log scale)")
    handles, labels = left.get_legend_handles_labels()
    if threshold is not None:
        handles.append(left.lines[-1])
        labels.append(f"alert threshold ({threshold:.2f})")
    left.legend(handles, labels, fontsize=9, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _distribution(collector: ScoreReportCollector, manifest: Mapping[str, Any]) -> Markup:
    if not collector.events:
        return Markup('<p class="note">No events were scored.</p>')
    threshold = manifest.get("threshold", {}).get("calibrated")
    png = score_histogram_png(collector, None if threshold is None else float(threshold))
    split = "by label" if collector.label_col else "alerting or not"
    caption = (
        f"Calibrated scores of the {collector.events:,} events, {split}: the share of the "
        "model's normal training events scoring lower. The dashed line is the alert threshold."
    )
    return figure_from_bytes(png, caption, alt="Histogram of calibrated scores", anchor="figure-1")


#: Headings of the identifying columns in the alert table.
_ID_HEADINGS = {"event_id": "Event", "time": "Time", "user": "User"}


def _top_alerts(collector: ScoreReportCollector) -> Markup:
    top = collector.top_alerts
    if not len(top):
        return Markup("<p>No event alerted.</p>")
    ids = [c for c in ID_COLUMNS if c in top.columns]
    label = collector.label_col if collector.label_col in top.columns else None
    zoned = "time" in top.columns and any(
        isinstance(t, pd.Timestamp) and t.tzinfo is not None for t in top["time"]
    )
    headers = ["#", "Row"]
    headers += [_ID_HEADINGS[c] + (" (UTC)" if c == "time" and zoned else "") for c in ids]
    headers += ["Label"] if label else []
    headers += ["Score", "Raw score", "Why"]
    rows = []
    for rank, d in enumerate(top.to_dict("records"), start=1):
        reasons = reason_list(d["reasons"])
        why = Markup("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in reasons) + "</ul>")
        cells: list[object] = [rank, int(d["row"]), *(_cell(d[c]) for c in ids)]
        if label:
            cells.append(_label(d[label]))
        cells += [f"{d['score']:.4f}", f"{d['raw_score']:.4g}", why if reasons else _NONE]
        rows.append(cells)
    score_col = headers.index("Score")
    many = collector.alerts > len(top)
    shown = f"The {len(top):,} highest-scoring alerts" if many else "Every alert"
    return table(
        headers,
        rows,
        numeric=[0, 1, score_col, score_col + 1],
        nowrap=range(2, score_col),
        caption=f"{shown} of {collector.alerts:,}, by raw score. Row: the event's place in the "
        "input (1 = first).",
    )


def _label(value: Any) -> Markup:
    if str(value) in ("1", "1.0", "True"):
        return Markup('<span class="tag attack">attack</span>')
    return Markup('<span class="tag normal">normal</span>')


def _cell(value: Any) -> str:
    """An identifying value for the alert table; times without the zone (see the heading)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return _NONE
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert("UTC") if value.tzinfo is not None else value
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _users(collector: ScoreReportCollector) -> Markup:
    most = collector.alerts_by_user.most_common(TOP_USERS)
    return table(
        ["User", "Alerts"],
        most,
        numeric=[1],
        caption=f"{len(collector.alerts_by_user):,} users alerted; the top {len(most)} shown.",
    )


def _evaluation(summary: ScoreSummary, info: ScoreRunInfo) -> Markup:
    ev = summary.evaluation or {}
    rows = [
        ("Events", ev.get("events")),
        ("Attack events (label 1)", ev.get("attacks")),
        ("Alerts", ev.get("alerts")),
        ("Attack events alerted (true positives)", ev.get("true_positives")),
        ("Precision", number(ev.get("precision"), 1, percent=True)),
        ("Recall", number(ev.get("recall"), 1, percent=True)),
        ("ROC AUC", number(ev.get("roc_auc"), 4)),
        ("PR AUC", number(ev.get("pr_auc"), 4)),
    ]
    return table(
        ["Measure", "Value"],
        [[k, _NONE if v is None else v] for k, v in rows],
        numeric=[1],
        row_headers=True,
        caption=f"The scores against the 0/1 labels of column {info.label_col!r}; the AUCs "
        "need both classes.",
    )


def _model(manifest: Mapping[str, Any], info: ScoreRunInfo) -> Markup:
    detector = manifest.get("detector", {})
    threshold = manifest.get("threshold", {})
    training = manifest.get("training", {})
    names = manifest.get("feature_names", [])
    versions = manifest.get("versions", {})
    facts: list[tuple[str, object]] = [
        ("Bundle", str(info.model_dir)),
        ("Detector", f"{detector.get('name', '?')} ({detector.get('class', '?')})"),
        ("Features", f"{manifest.get('features', '?')}: {len(names)} columns"),
        (
            "Threshold",
            f"{threshold.get('rule', '?')} at p{threshold.get('percentile', '?')}: "
            f"raw {number(threshold.get('raw'), 4)}, calibrated "
            f"{number(threshold.get('calibrated'), 2)}",
        ),
        ("Training window", f"{training.get('start') or _NONE} to {training.get('end') or _NONE}"),
        ("Training events", number(training.get("rows"))),
        ("Training data SHA-256", training.get("sha256", _NONE)),
        ("Model SHA-256", manifest.get("model_sha256", _NONE)),
        ("Seed", manifest.get("random_state", _NONE)),
        ("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()) or _NONE),
    ]
    params = table(
        ["Parameter", "Value"],
        [[k, str(v)] for k, v in sorted(detector.get("parameters", {}).items())],
        row_headers=True,
    )
    features = Markup(
        '<ol class="features">' + "".join(f"<li>{esc(n)}</li>" for n in names) + "</ol>"
    )
    return Markup(
        f"{definition_list(facts)}<h3>Detector parameters</h3>{params}"
        f"<h3>Feature columns, in order</h3>{features}"
    )


def _input(summary: ScoreSummary, info: ScoreRunInfo) -> Markup:
    facts: list[tuple[str, object]] = [
        ("Input", _where(info.input_path, "standard input")),
        ("Input format", info.input_format),
        ("Output", _where(info.output_path, "standard output")),
        ("Output format", info.output_format),
        (
            "Written",
            f"{summary.written:,} " + ("findings" if info.output_format == "ocsf" else "rows"),
        ),
        ("Alerts only", "yes" if info.alerts_only else "no"),
        ("Label column", info.label_col or _NONE),
        ("Chunk size", number(info.chunk_rows) if info.chunk_rows else _NONE),
        ("Malformed lines skipped", f"{summary.skipped:,}"),
    ]
    return definition_list(facts)
