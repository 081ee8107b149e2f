"""``soc-anomaly benchmark``: our detectors against published ROC AUCs on real data.

Only light modules are imported at the top (the help is built from them); the
protocol, which loads pandas and scikit-learn, is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soc_anomaly.cli._console import out, step
from soc_anomaly.errors import ParameterError, check_positive_int

if TYPE_CHECKING:
    import pandas as pd

#: Where the shared benchmark files sit relative to a checkout's working folder.
DEFAULT_DATASETS_DIR = Path("../shared/datasets")


def _names(flag: str, text: str | None) -> list[str] | None:
    """Names from a comma-separated flag value; None means all."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ParameterError(f"{flag} {text!r} names nothing; expected comma-separated names")
    return names


def benchmark(
    datasets_dir: Annotated[
        Path,
        typer.Option(
            "--datasets-dir",
            help="Folder with the .npz benchmarks and published_auc.csv "
            "(the default is relative to the current folder).",
        ),
    ] = DEFAULT_DATASETS_DIR,
    datasets: Annotated[
        str | None,
        typer.Option(
            "--datasets",
            help="Comma-separated dataset names (e.g. thyroid,cardio). Default: every .npz.",
        ),
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            help="Comma-separated published methods (IForest,OCSVM,LOF,KNN,MCD,CBLOF,PCA) or "
            "our detector names (iforest,ocsvm,...). Default: all.",
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", help="Seeds 0..N-1 per dataset and method (published: 5).")
    ] = 5,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Also write the table to this .csv (or .parquet) file, rewritten after each "
            "finished row, so an interrupted run keeps the rows it finished.",
        ),
    ] = None,
) -> None:
    """Rerun the published protocol on real benchmarks and compare with the published AUCs."""
    from soc_anomaly.data.io import check_writable_file, table_format, write_table
    from soc_anomaly.experiment.benchmark import benchmark as run_published_benchmark
    from soc_anomaly.reporting.benchmark_report import print_table

    check_positive_int("--seeds", seeds)
    dataset_names = _names("--datasets", datasets)
    method_names = _names("--methods", methods)
    finished = 0

    def save(table: pd.DataFrame) -> None:
        # The whole table each time, atomically: the file always holds every
        # finished row and never half of one.
        nonlocal finished
        assert output is not None  # only passed on when there is an output
        output.parent.mkdir(parents=True, exist_ok=True)
        write_table(table, output)
        finished = len(table)

    if output is not None:
        # Reject an unusable path before minutes of fitting, not after.
        table_format(output)
        check_writable_file(output, what="--output")
    try:
        table = run_published_benchmark(
            datasets_dir,
            dataset_names,
            method_names,
            seeds=seeds,
            step=step,
            on_row=None if output is None else save,
        )
    except KeyboardInterrupt:
        if output is not None and finished:
            # The command line prints this message as its one interrupted line.
            raise KeyboardInterrupt(f"{output} keeps the {finished} finished rows") from None
        raise
    print_table(table, seeds)
    if output is not None:
        out.print(f"Wrote the table to {output}")
