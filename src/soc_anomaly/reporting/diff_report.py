"""The console report of ``diff``: settings that changed and the metrics that moved."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from soc_anomaly.experiment.run_diff import ABSENT, RunDiff
from soc_anomaly.reporting.console import out

__all__ = ["print_run_diff"]


def _show(value: Any) -> str:
    return "(absent)" if value is ABSENT else repr(value)


def _is_count(metric: str) -> bool:
    return metric.endswith((".tp", ".fp", ".caught", ".false_positives"))


def _number(value: float, count: bool, sign: str = "") -> str:
    """A metric (rates to 4 decimals) or a count (whole, or to 1 decimal as a mean over seeds)."""
    if not count:
        return f"{value:{sign}.4f}"
    return f"{value:{sign},.0f}" if float(value).is_integer() else f"{value:{sign},.1f}"


def _value(mean: float, std: float, count: bool) -> str:
    """``0.8123 ± 0.0100`` over several seeds, ``0.8123`` for one."""
    if math.isnan(mean):
        return "nan"
    text = _number(mean, count)
    if math.isnan(std):
        return text
    return f"{text} ± {std:,.1f}" if count else f"{text} ± {std:.4f}"


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def print_run_diff(result: RunDiff) -> None:
    """Print the configuration changes, the detectors not compared, and the metrics that moved.

    Metrics are means over each run's seeds (``± std`` when a run has several).
    Only the metrics that changed for some detector are listed; the others are
    counted, and every one is in ``run_diff.json``.
    """
    changes = Table(title=f"Configuration: {result.before} -> {result.after}", title_justify="left")
    for col in ("Setting", "Before", "After"):
        changes.add_column(col)
    for key, old, new in result.config_changes:
        changes.add_row(key, _show(old), _show(new))
    if result.config_changes:
        out.print(changes)
    else:
        out.print("Configuration: identical (output locations aside)")
    for side, names in (("before", result.only_before), ("after", result.only_after)):
        if names:
            out.print(f"Only in the {side} run, not compared: {', '.join(names)}")

    moved = result.changed_metrics()
    everything = result.metric_deltas
    n_metrics = everything["metric"].nunique()
    n_detectors = everything["detector"].nunique()
    if moved.empty:
        out.print(
            f"Metrics: no change in any of the {n_metrics} metrics of {n_detectors} "
            f"detector{'s' if n_detectors != 1 else ''} "
            f"({_seeds(result.seeds_before)} before, {_seeds(result.seeds_after)} after)"
        )
        return
    if result.seeds_before > 1 or result.seeds_after > 1:
        before, after = _seeds(result.seeds_before), _seeds(result.seeds_after)
        what = f"mean ± std over {before} before, {after} after"
    else:
        what = "one seed each"
    deltas = Table(
        title=f"Metrics that changed (after - before; {what})",
        title_justify="left",
    )
    for col in ("Detector", "Metric", "Before", "After", "Delta"):
        deltas.add_column(col, justify="left" if col in ("Detector", "Metric") else "right")
    for row in moved.itertuples(index=False):
        count = _is_count(str(row.metric))
        deltas.add_row(
            row.detector,
            row.metric,
            _value(row.before, row.before_std, count),
            _value(row.after, row.after_std, count),
            "nan" if math.isnan(row.delta) else _number(row.delta, count, "+"),
        )
    out.print(deltas)
    unchanged = n_metrics - moved["metric"].nunique()
    if unchanged:
        out.print(f"{unchanged} other metric{'s' if unchanged != 1 else ''} unchanged.")
