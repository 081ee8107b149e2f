"""What ``soc-anomaly score`` prints on stderr: progress while it runs, and its closing lines."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from soc_anomaly.cli._console import err

if TYPE_CHECKING:
    from soc_anomaly.model.scoring import ScoreSummary

__all__ = ["Progress", "final_lines", "incident_line"]


class Progress:
    """A line on stderr at most every two seconds (and never when quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def __call__(self, summary: ScoreSummary) -> None:
        now = time.perf_counter()
        if self.quiet or now - self.last < 2.0:
            return
        self.last = now
        rate = summary.events / summary.seconds if summary.seconds else 0.0
        err.print(
            f"scored {summary.events:,} events, {summary.alerts:,} alerts "
            f"({summary.seconds:.1f} s, {rate:,.0f} events/s)",
            soft_wrap=True,
        )


def incident_line(summary: ScoreSummary) -> str:
    """How many incidents were raised, over how many days, at what budget (and where to)."""
    stream = summary.incidents
    assert stream is not None
    days = 0
    if summary.first_time is not None and summary.last_time is not None:
        first, last = (t.tz_convert("UTC") if t.tzinfo else t
                       for t in (summary.first_time, summary.last_time))  # fmt: skip
        days = (last.normalize() - first.normalize()).days + 1
    wrote = ""
    if stream.writer is not None:
        what = "Incident Findings" if stream.writer.fmt == "ocsf" else "incidents"
        wrote = f"; wrote {stream.writer.written:,} {what} to {stream.writer.path}"
    return (
        f"Raised {stream.raised:,} incident(s) over {days:,} day(s) at {stream.per_day:,} a day "
        f"({stream.rate:g} a day per 500 staff, {stream.staff:,} staff){wrote}"
    )


def final_lines(
    summary: ScoreSummary, output_path: str, fmt: str, manifest: dict, quiet: bool
) -> None:
    """The closing lines on stderr: what was scored and written, notes, the evaluation."""
    where = "standard output" if output_path == "-" else output_path
    what = "findings" if fmt == "ocsf" else "rows"
    if summary.events == 0:
        # Said even when quiet: an empty result is easy to mistake for a failure.
        kind = {"csv": "with its header", "parquet": "with its schema"}.get(fmt, "(no line)")
        held = (
            f"skipped {summary.skipped:,} malformed line(s)"
            if summary.skipped
            else "the input holds none"
        )
        err.print(
            f"Scored 0 events ({held}); wrote an empty {fmt} output {kind} to {where}",
            soft_wrap=True,
        )
        sys.stderr.flush()
        return
    skipped = f", skipped {summary.skipped:,} malformed line(s)" if summary.skipped else ""
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    if not quiet or summary.skipped:
        err.print(
            f"Scored {summary.events:,} events with {manifest['detector']['name']} "
            f"({manifest['features']} features): {summary.alerts:,} alerts; wrote "
            f"{summary.written:,} {what} to {where}{skipped} ({summary.seconds:.1f} s, "
            f"{rate:,.0f} events/s)",
            soft_wrap=True,
        )
    if summary.incidents is not None and not quiet:
        err.print(incident_line(summary), soft_wrap=True)
    # Said even when quiet: values were changed before scoring (text cut, counts clipped).
    for line in summary.notes.lines():
        err.print(f"note: {line}", soft_wrap=True)
    ev = summary.evaluation
    if ev is not None:

        def pct(v: float | int | None) -> str:
            return "n/a" if v is None else f"{100 * float(v):.1f}%"

        def auc(v: float | int | None) -> str:
            return "n/a" if v is None else f"{float(v):.3f}"

        err.print(
            f"Against the labels: {ev['attacks']:,} attack events, {ev['true_positives']:,} "
            f"alerted; precision {pct(ev['precision'])}, recall {pct(ev['recall'])}, "
            f"ROC AUC {auc(ev['roc_auc'])}, PR AUC {auc(ev['pr_auc'])}",
            soft_wrap=True,
        )
    sys.stderr.flush()
