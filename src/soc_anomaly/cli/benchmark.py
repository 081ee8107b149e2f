"""``soc-anomaly benchmark``: our detectors against published ROC AUCs on real data.

With ``--sequences DIR`` it runs the sequence benchmark instead (markov, lstm and
the unseen-pair baseline on sessions of log keys, against published F1).

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
            "our detector names (iforest,ocsvm,...); with --sequences: markov,lstm,unseen_pair. "
            "Default: all.",
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
            "finished row, so an interrupted run keeps the rows it finished. With --sequences: "
            "a .csv, one row per method (method, precision, recall, f1, fpr, ...).",
        ),
    ] = None,
    sequences: Annotated[
        Path | None,
        typer.Option(
            "--sequences",
            help="Run the sequence benchmark on this folder of sessions (one a line, "
            "space-separated keys): *train*, *test_abnormal* and optionally *test_normal* "
            "(else a seeded 20% of *train* is held out), e.g. "
            "../shared/datasets/sequences/hdfs_deeplog.",
        ),
    ] = None,
    top_g: Annotated[
        int | None,
        typer.Option(
            "--top-g",
            help="With --sequences: a key is normal among the g most probable (default 9).",
        ),
    ] = None,
    window: Annotated[
        int | None,
        typer.Option("--window", help="With --sequences: keys the lstm reads (default 10)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="With --sequences: seed of the held-out split and the lstm (default 0)."
        ),
    ] = None,
) -> None:
    """Rerun the published protocol on real benchmarks and compare with the published AUCs."""
    if sequences is not None:
        if datasets is not None or seeds != 5 or datasets_dir != DEFAULT_DATASETS_DIR:
            raise ParameterError(
                "--sequences runs the sequence benchmark; --datasets-dir, --datasets and "
                "--seeds belong to the table benchmark: drop them or --sequences"
            )
        _sequence_benchmark(sequences, methods, top_g, window, seed, output)
        return
    given = [
        f for f, v in (("--top-g", top_g), ("--window", window), ("--seed", seed)) if v is not None
    ]
    if given:
        raise ParameterError(
            f"{', '.join(given)}: only with --sequences DIR (the sequence benchmark)"
        )
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


def _sequence_benchmark(
    folder: Path,
    methods: str | None,
    top_g: int | None,
    window: int | None,
    seed: int | None,
    output: Path | None,
) -> None:
    """``benchmark --sequences``: read, fit, score, print, and write the CSV if asked."""
    from soc_anomaly.data.io import check_writable_file
    from soc_anomaly.experiment.sequence_benchmark import run_sequence_benchmark
    from soc_anomaly.reporting.sequence_benchmark_report import (
        print_sequence_benchmark,
        write_results_csv,
    )

    if output is not None:
        if output.suffix.lower() != ".csv":
            raise ParameterError(f"--output {output} must end in .csv with --sequences")
        check_writable_file(output, what="--output")
    run = run_sequence_benchmark(
        folder,
        _names("--methods", methods),
        top_g=9 if top_g is None else top_g,
        window=10 if window is None else window,
        seed=0 if seed is None else seed,
        step=step,
    )
    print_sequence_benchmark(run)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_results_csv(run, output)
        out.print(f"Wrote the table to {output}")
