"""``soc-anomaly diff``: what changed between two saved runs (the before/after lab).

Only light modules are imported at the top (the help is built from them); the
saved runs' readers, which load pandas, are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc_anomaly.cli._console import out, step
from soc_anomaly.config import DEFAULT_PLOTS_DIR


def diff(
    run_a: Annotated[Path, typer.Argument(help="Folder of the 'before' run (detect --save-run).")],
    run_b: Annotated[Path, typer.Argument(help="Folder of the 'after' run.")],
    plots_dir: Annotated[
        Path, typer.Option("--plots-dir", help="Folder for run_diff.png and run_diff.json.")
    ] = DEFAULT_PLOTS_DIR,
) -> None:
    """Compare two saved runs: setting changes, and the metrics that moved per shared detector.

    Metrics are means over each run's seeds; output locations are not settings.
    """
    from soc_anomaly.data.io import check_writable_dir, check_writable_file, write_json
    from soc_anomaly.experiment.run_diff import diff_runs
    from soc_anomaly.experiment.saved_runs import load_run
    from soc_anomaly.reporting.diff_report import print_run_diff

    check_writable_dir(plots_dir, what="plots folder", create=False)
    check_writable_file(plots_dir / "run_diff.json", what="diff file")
    before, after = load_run(run_a), load_run(run_b)
    result = diff_runs(before, after)
    print_run_diff(result)

    plots_dir.mkdir(parents=True, exist_ok=True)
    png = plots_dir / "run_diff.png"
    moved = result.changed_metrics()
    with step("Writing the diff"):
        data = write_json(result.to_dict(), plots_dir / "run_diff.json")
        if moved.empty:
            # A figure of nothing but zeros says less than one line, and a
            # figure left from an earlier diff would contradict this one.
            png.unlink(missing_ok=True)
        else:
            # Figures pull in matplotlib: imported only once there is something to draw.
            from soc_anomaly.reporting.lab_figures import plot_run_diff

            plot_run_diff(moved, png)
    if moved.empty:
        out.print("No metric changed, so no run_diff.png was drawn.")
        out.print(f"Wrote {data}")
    else:
        out.print(f"Wrote {png} and {data}")
