"""``detect --report``: one self-contained HTML file of a detection run.

The page holds the summary (data, the detectors ranked), a table of contents,
the alerts each threshold rule raises, the campaigns caught and the chosen
detector's strongest incidents with their timelines (enterprise world), the
top alerts with who, when and why, every figure of the run
embedded as a PNG data URI, the whole terminal report, the configuration and
the data summary. It needs no network and runs no JavaScript (see
:mod:`soc_anomaly.reporting.html_page`).

The terminal report is recorded from
:func:`soc_anomaly.reporting.detect_report.print_report` as it stands, so the
page always carries what the console prints, whatever that is.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from soc_anomaly.experiment.results import (
    DetectionResult,
    MeanStd,
    campaign_headline,
)
from soc_anomaly.reporting.html_alerts import (
    campaigns_section,
    event_rows,
    top_alerts_section,
    when,
    zoned,
)
from soc_anomaly.reporting.html_incidents import has_incidents, incidents_section
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
from soc_anomaly.reporting.report_notes import (
    budget_note,
    data_label,
    false_alerts_text,
    false_alerts_where,
    headline_label,
    tie_note,
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
        sections.append(Section("campaigns", "Campaigns", campaigns_section(result)))
    if has_incidents(result):
        sections.append(Section("incidents", "Top incidents", incidents_section(result)))
    sections += [
        Section("top-alerts", "Top alerts and why", top_alerts_section(result)),
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
    # The page escapes the subtitle: a file name is data.
    subtitle = f"soc-anomaly detect · {data_label(result)} · {names} · {seeds}"
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
        f"Use <strong>{esc(best.name)}</strong>, ranked first: PR AUC "
        f"{esc(_pm(best.pr_auc, 3, n))} and ROC AUC {esc(_pm(best.roc_auc, 3, n))}"
    )
    if best.campaign_recall is not None:
        head += f"; it caught {esc(_pm(best.campaign_recall, 0, n, percent=True))} of the campaigns"
    tie = tie_note(result, rows)
    if tie is not None:
        head += f" ({esc(tie)})"
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
    with_false = all(r.false_alerts is not None for r in rows)
    headers = ["#", "Detector", "PR AUC", "ROC AUC", f"P@{cfg.k}"]
    headers += ["False alerts"] if with_false else []
    headers += ["Campaigns caught"] if campaigns else []
    headers += ["Fit (s)", "Test rows/s"]
    body = [
        [
            r.rank,
            r.name,
            _pm(r.pr_auc, 3, n),
            _pm(r.roc_auc, 3, n),
            _pm(r.precision_at_k, 3, n),
            *([false_alerts_text(r.false_alerts, n)] if with_false else []),
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
        caption=(
            "Detectors ranked by campaigns caught, then PR AUC as shown"
            if campaigns
            else "Detectors ranked by PR AUC as shown"
        )
        + f"{over}; equal ones by fewer false alerts "
        f"{false_alerts_where(result)}"
        + ("" if with_false else " (unknown here, so by name)")
        + "; equal on both share a rank"
        + (f"; campaigns caught by {headline_label(result)}." if campaigns else "."),
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
    notes = [budget_note(result, rule) for rule in result.models[0].thresholds]
    return Markup(
        table(
            headers,
            rows,
            numeric=range(2, len(headers)),
            caption="Each rule picks a threshold on the detector's scores; an event alerts when "
            "its score reaches it. Counts are over the test events"
            + (" of the first seed." if len(result.runs) > 1 else "."),
        )
        + "".join(f'<p class="note">{esc(note)}</p>' for note in notes if note)
    )


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
        zone = " (UTC)" if zoned(times) else ""
        facts.append(("Test window", f"{when(times.min())} to {when(times.max())}{zone}"))
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
