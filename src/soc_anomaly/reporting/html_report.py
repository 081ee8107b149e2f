"""``detect --report``: one self-contained HTML file of a detection run.

The page holds the summary (data, the detectors ranked), a table of contents,
the alerts each threshold rule raises, the campaigns caught (enterprise
world), the top alerts with who, when and why, every figure of the run
embedded as a PNG data URI, the whole terminal report, the configuration and
the data summary. It needs no network and runs no JavaScript (see
:mod:`soc_anomaly.reporting.html_page`).

The terminal report is recorded from
:func:`soc_anomaly.reporting.detect_report.print_report` as it stands, so the
page always carries what the console prints, whatever that is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from soc_anomaly.evaluation.campaigns import CampaignReport, GroupRecall
from soc_anomaly.evaluation.explain import Explanation
from soc_anomaly.experiment.results import (
    HEADLINE_RULE,
    DetectionResult,
    MeanStd,
    ModelResult,
    SeedRun,
    campaign_headline,
)
from soc_anomaly.reporting.html_page import (
    Markup,
    Section,
    check_report_path,
    definition_list,
    esc,
    figure_from_file,
    number,
    page,
    table,
    write_page,
)

__all__ = [
    "TERMINAL_WIDTH",
    "check_report_path",
    "detect_report_html",
    "event_rows",
    "write_detect_report",
]

#: Columns of the recorded terminal report. Its tables are laid out (or split) for
#: this width; 140 columns of the page's 12 px monospace fill its 1,056 px column.
TERMINAL_WIDTH = 140
#: Shown for a value that is missing or does not apply.
_NONE = "\N{EN DASH}"


def write_detect_report(result: DetectionResult, path: Path) -> Path:
    """Write the HTML report of a detection run to ``path``, atomically.

    Parameters
    ----------
    result : DetectionResult
        The run, as :func:`soc_anomaly.experiment.run_detection` returns it.
    path : pathlib.Path
        Destination ending in ``.html`` or ``.htm``, in an existing folder.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If ``path`` is not a writable ``.html``/``.htm`` file name (nothing is
        written then).
    """
    path = check_report_path(Path(path))
    return write_page(detect_report_html(result), path)


def detect_report_html(result: DetectionResult) -> str:
    """The HTML report of a detection run, as a string (see :func:`write_detect_report`)."""
    cfg = result.config
    sections = [
        Section("summary", "Summary", _summary(result)),
        Section("thresholds", "Alerts per threshold rule", _thresholds(result)),
    ]
    if any(campaign_headline(m.campaigns) is not None for m in result.models):
        sections.append(Section("campaigns", "Campaigns", _campaigns(result)))
    sections += [
        Section("top-alerts", "Top alerts and why", _top_alerts(result)),
        Section("figures", "Figures", _figures(result)),
        Section("terminal", "Terminal report", _terminal(result)),
        Section("configuration", "Configuration", _configuration(result)),
        Section("data", "Data", _data(result)),
    ]
    names = ", ".join(m.name for m in result.models)
    seeds = (
        f"{cfg.seeds} seeds from {cfg.random_state}"
        if cfg.seeds > 1
        else f"seed {cfg.random_state}"
    )
    subtitle = f"soc-anomaly detect · {cfg.scenario} scenario · {names} · {seeds}"
    return page("Anomaly detection report", subtitle, sections)


# --- summary ------------------------------------------------------------------------


def _pm(value: MeanStd | None, digits: int, n_seeds: int, *, percent: bool = False) -> str:
    """Mean, and ± std when the run was repeated over seeds."""
    if value is None:
        return "n/a"
    text = number(value.mean, digits, percent=percent)
    return f"{text} ± {number(value.std, digits, percent=percent)}" if n_seeds > 1 else text


def _summary(result: DetectionResult) -> Markup:
    cfg = result.config
    ds = result.dataset
    n = len(result.runs)
    rows = result.comparison()
    best = rows[0]
    head = (
        f"Best detector by PR AUC: <strong>{esc(best.name)}</strong> with PR AUC "
        f"{esc(_pm(best.pr_auc, 3, n))} and ROC AUC {esc(_pm(best.roc_auc, 3, n))}"
    )
    if best.campaign_recall is not None:
        head += f"; it caught {esc(_pm(best.campaign_recall, 0, n, percent=True))} of the campaigns"
    over = f" (mean ± std over {n} seeds)" if n > 1 else ""
    facts = definition_list(
        [
            ("Data", ds.source),
            ("Events", f"{ds.n_events:,} ({ds.n_anomalies:,} anomalies)"),
            ("Trained on", f"{ds.n_train:,} normal events"),
            ("Tested on", f"{ds.n_test:,} events ({ds.n_test_anomalies:,} anomalies)"),
            ("Detectors", ", ".join(m.name for m in result.models)),
        ]
    )
    campaigns = all(r.campaign_recall is not None for r in rows)
    headers = ["#", "Detector", "PR AUC", "ROC AUC", f"P@{cfg.k}"]
    headers += ["Campaigns caught"] if campaigns else []
    headers += ["Fit (s)", "Test rows/s"]
    body = [
        [
            r.rank,
            r.name,
            _pm(r.pr_auc, 3, n),
            _pm(r.roc_auc, 3, n),
            _pm(r.precision_at_k, 3, n),
            *([_pm(r.campaign_recall, 2, n)] if campaigns else []),
            _pm(r.fit_seconds, 2, n),
            _pm(r.scoring_rows_per_second, 0, n),
        ]
        for r in rows
    ]
    ranking = table(
        headers,
        body,
        numeric=[0, *range(2, len(headers))],
        caption=f"Detectors ranked by PR AUC{over}"
        + ("; campaigns caught by the daily alert queue." if campaigns else "."),
    )
    # Attack types as rows: there can be a dozen of them, and few detectors.
    attacks = sorted({a for r in rows for a in r.recall_by_attack})
    by_attack = [
        [
            a,
            ds.test_anomalies_by_attack.get(a, 0),
            *(_pm(r.recall_by_attack.get(a), 3, n) for r in rows),
        ]
        for a in attacks
    ]
    recall = table(
        ["Attack type", "Test events", *(r.name for r in rows)],
        by_attack,
        numeric=range(1, len(rows) + 2),
        row_headers=True,
        caption=f"Share of each attack type's test events that alert at "
        f"p{cfg.threshold_percentile:g} of the normal training scores{over}.",
    )
    notes = "".join(f'<p class="note">{esc(note)}</p>' for note in result.notes)
    return Markup(
        f'<p class="headline">{head}.</p>{facts}{notes}<h3>Detectors ranked</h3>{ranking}'
        f"<h3>Recall per attack type</h3>{recall}"
    )


# --- thresholds ---------------------------------------------------------------------


def _thresholds(result: DetectionResult) -> Markup:
    headers = [
        "Rule",
        "Detector",
        "Threshold",
        "Alerts",
        "Alerts a day",
        "True pos.",
        "False pos.",
        "Precision",
        "Recall",
        "F1",
    ]
    rows = []
    for rule in result.models[0].thresholds:
        for m in result.models:
            t = m.thresholds.get(rule)
            if t is None:
                continue
            rows.append(
                [
                    t.name,
                    m.name,
                    f"{t.threshold:.4g}",
                    t.alerts,
                    number(t.alerts_per_day, 1),
                    t.tp,
                    t.fp,
                    number(t.precision),
                    number(t.recall),
                    number(t.f1),
                ]
            )
    return table(
        headers,
        rows,
        numeric=range(2, len(headers)),
        caption="Each rule picks a threshold on the detector's scores; an event alerts when "
        "its score reaches it. Counts are over the test events"
        + (" of the first seed." if len(result.runs) > 1 else "."),
    )


# --- campaigns ----------------------------------------------------------------------


def _hours(value: float | None) -> str:
    return _NONE if value is None or pd.isna(value) else f"{value:,.1f}"


def _campaigns(result: DetectionResult) -> Markup:
    cfg = result.config
    heads: dict[str, CampaignReport] = {}
    for m in result.models:
        head = campaign_headline(m.campaigns)
        if head is not None:
            heads[m.name] = head
    names = list(heads)
    if HEADLINE_RULE in (result.models[0].campaigns or {}):
        rule = (
            f"a daily queue of {cfg.alerts_per_day:g} alerts a day per 500 staff "
            "(one alert per user and hour)"
        )
    else:
        rule = f"p{cfg.threshold_percentile:g} of the normal training scores"

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
    rows.append(["alerts a day", *(number(h.alerts_per_day, 1) for h in heads.values())])
    for tag in dict.fromkeys(t for h in heads.values() for t in h.fp_by_benign_tag):
        rows.append(
            [
                f"false positives: {tag}",
                *(f"{h.fp_by_benign_tag.get(tag, 0):,}" for h in heads.values()),
            ]
        )
    rows.append(["false positives: total", *(f"{h.false_positives:,}" for h in heads.values())])
    overview = table(
        ["", *names],
        rows,
        numeric=range(1, len(names) + 1),
        row_headers=True,
        caption="caught/campaigns: a campaign is caught when any of its events alerts; time to "
        "detect: first alert minus the campaign's start; false positives by benign oddity "
        "('none': everyday activity).",
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


def _when(value: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS``, in UTC when it carries a zone."""
    if value is None or pd.isna(value):
        return _NONE
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _zoned(values: pd.Series) -> bool:
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


def _top_alerts(result: DetectionResult) -> Markup:
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
    zoned = "time" in run.test_events and _zoned(run.test_events["time"])
    headers = [
        "#",
        "Event",
        "User",
        "Time (UTC)" if zoned else "Time",
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
                _when(ev["time"]) if ev is not None else _NONE,
                _truth(e, ev),
                *([_text(ev["campaign_id"]) if ev is not None else _NONE] if campaigns else []),
                f"{e.score:.4g}",
                _calibrated(e.calibrated_score),
                reasons,
            ]
        )
    score_col = headers.index("Score")
    return table(headers, rows, numeric=[0, score_col, score_col + 1], nowrap=[1, 2, 3])


# --- figures, terminal, configuration, data ------------------------------------------


def _caption(path: Path) -> str:
    words = path.stem.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _figures(result: DetectionResult) -> Markup:
    cfg = result.config
    if not cfg.plots:
        return Markup('<p class="note">Figures were turned off for this run (--no-plots).</p>')
    if not result.plot_paths:
        return Markup('<p class="note">The run wrote no figures.</p>')
    items = [
        f'<li><a href="#figure-{i}">Figure {i}: {esc(_caption(Path(p)))}</a></li>'
        for i, p in enumerate(result.plot_paths, start=1)
    ]
    figures = [
        figure_from_file(
            Path(p), f"Figure {i}: {_caption(Path(p))} ({Path(p).name})", f"figure-{i}"
        )
        for i, p in enumerate(result.plot_paths, start=1)
    ]
    return Markup(
        f"<p>{len(figures)} figures, also written to {esc(cfg.plots_dir)}.</p>"
        f'<ol class="figure-list">{"".join(items)}</ol>{"".join(figures)}'
    )


def _terminal(result: DetectionResult) -> Markup:
    """The console report (every table), recorded and converted to styled HTML."""
    from soc_anomaly.reporting.detect_report import print_report

    console = Console(record=True, width=TERMINAL_WIDTH, file=io.StringIO(), highlight=False)
    print_report(result, verbose=True, console=console)
    # Rich escapes the text; inline styles keep the colours without a stylesheet.
    recorded = console.export_html(
        inline_styles=True,
        code_format='<pre class="terminal" style="color:{foreground};'
        'background-color:{background}">{code}</pre>',
    )
    return Markup(
        "<p>What <code>soc-anomaly detect --verbose</code> prints, every table included.</p>"
        + recorded
    )


def _setting(value: Any) -> str:
    if value is None:
        return f"{_NONE} (default)"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or _NONE
    return str(value)


def _configuration(result: DetectionResult) -> Markup:
    rows = [[key, _setting(value)] for key, value in result.config.to_dict().items()]
    return table(["Setting", "Value"], rows, row_headers=True)


def _data(result: DetectionResult) -> Markup:
    ds = result.dataset
    run = result.runs[0]
    facts: list[tuple[str, object]] = [
        ("Source", ds.source),
        ("Events", f"{ds.n_events:,}"),
        ("Anomalies", f"{ds.n_anomalies:,}"),
        ("Training events (normal)", f"{ds.n_train:,}"),
        ("Test events", f"{ds.n_test:,}"),
        ("Test anomalies", f"{ds.n_test_anomalies:,}"),
    ]
    times = run.test_events["time"] if "time" in run.test_events else pd.Series(dtype=object)
    if len(times) and times.notna().any():
        zone = " (UTC)" if _zoned(times) else ""
        facts.append(("Test window", f"{_when(times.min())} to {_when(times.max())}{zone}"))
    facts.append(("Feature columns", ", ".join(result.feature_cols) or _NONE))
    if result.metrics_path is not None:
        facts.append(("Metrics file", str(result.metrics_path)))
    by_attack = table(
        ["Attack type", "Test events"],
        sorted(ds.test_anomalies_by_attack.items()),
        numeric=[1],
        caption="Anomalies among the test events, per attack type.",
    )
    return Markup(f"{definition_list(facts)}{by_attack}")
