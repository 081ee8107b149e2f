"""``soc-anomaly diff``: what changed between two saved runs (the before/after lab)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from soc_anomaly.cli._console import out, step
from soc_anomaly.config import DEFAULT_PLOTS_DIR
from soc_anomaly.data.io import check_writable_dir, check_writable_file, write_json
from soc_anomaly.experiment.run_diff import ABSENT, diff_runs
from soc_anomaly.experiment.saved_runs import load_run


def _show(value: Any) -> str:
    return "(absent)" if value is ABSENT else repr(value)


def diff(
    run_a: Annotated[Path, typer.Argument(help="Folder of the 'before' run (detect --save-run).")],
    run_b: Annotated[Path, typer.Argument(help="Folder of the 'after' run.")],
    plots_dir: Annotated[
        Path, typer.Option("--plots-dir", help="Folder for run_diff.png and run_diff.json.")
    ] = DEFAULT_PLOTS_DIR,
) -> None:
    """Compare two saved runs: configuration changes and metric deltas per detector."""
    check_writable_dir(plots_dir, what="plots folder", create=False)
    check_writable_file(plots_dir / "run_diff.json", what="diff file")
    before, after = load_run(run_a), load_run(run_b)
    result = diff_runs(before, after)

    changes = Table(title=f"Configuration: {run_a} -> {run_b}", title_justify="left")
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

    from soc_anomaly.visualization import plot_run_diff

    plots_dir.mkdir(parents=True, exist_ok=True)
    with step("Writing the diff"):
        png = plot_run_diff(result.metric_deltas, plots_dir / "run_diff.png")
        data = write_json(result.to_dict(), plots_dir / "run_diff.json")
    out.print(f"Wrote {png} and {data}")
