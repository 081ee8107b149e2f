"""The console report of ``diff``: settings that changed and the metric deltas."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from soc_anomaly.experiment.run_diff import ABSENT, RunDiff
from soc_anomaly.reporting.console import out

__all__ = ["print_run_diff"]


def _show(value: Any) -> str:
    return "(absent)" if value is ABSENT else repr(value)


def print_run_diff(result: RunDiff) -> None:
    """Print the configuration changes, then every metric's before, after and delta."""
    changes = Table(title=f"Configuration: {result.before} -> {result.after}", title_justify="left")
    for col in ("Setting", "Before", "After"):
        changes.add_column(col)
    for key, old, new in result.config_changes:
        changes.add_row(key, _show(old), _show(new))
    if result.config_changes:
        out.print(changes)
    else:
        out.print("Configuration: identical")

    deltas = Table(title="Metric deltas (after - before)", title_justify="left")
    for col in ("Detector", "Metric", "Before", "After", "Delta"):
        deltas.add_column(col, justify="left" if col in ("Detector", "Metric") else "right")
    for row in result.metric_deltas.itertuples(index=False):
        integer = str(row.metric).endswith((".tp", ".fp"))
        fmt = "{:,.0f}" if integer else "{:.4f}"
        deltas.add_row(
            row.detector,
            row.metric,
            fmt.format(row.before),
            fmt.format(row.after),
            ("{:+,.0f}" if integer else "{:+.4f}").format(row.delta),
        )
    out.print(deltas)
