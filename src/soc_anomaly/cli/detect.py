"""``soc-anomaly detect``: train, evaluate, explain and plot.

Only light modules are imported at the top (the help is built from them); the
run's modules, which load numpy, pandas and scikit-learn, are imported when
the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc_anomaly.cli._console import step
from soc_anomaly.cli._options import split_feature_cols
from soc_anomaly.config import (
    DEFAULT_ALERTS_PER_DAY,
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_IMPORTANCE_REPEATS,
    DEFAULT_INCIDENTS_PER_DAY,
    DEFAULT_N_USERS,
    DEFAULT_PLOTS_DIR,
    DEFAULT_PRECISION_K,
    DEFAULT_RANDOM_STATE,
    DEFAULT_THRESHOLD_PERCENTILE,
    DEFAULT_TOP_EXPLANATIONS,
    DEFAULT_WORLD_DAYS,
    DEFAULT_WORLD_USERS,
    LABEL_COL,
)
from soc_anomaly.detectors.names import detector_choices, parse_detector_names


def detect(
    data_path: Annotated[
        Path | None,
        typer.Option(
            "--data-path",
            help="Events to evaluate (.csv, .parquet, or .npz with X and y; with --scenario "
            "enterprise, a file of the world's raw events). Default: generate the data.",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="k of precision@k.")] = DEFAULT_PRECISION_K,
    threshold_percentile: Annotated[
        float,
        typer.Option(
            "--threshold-percentile", help="Alert at this percentile of the scores, in (0, 100)."
        ),
    ] = DEFAULT_THRESHOLD_PERCENTILE,
    plots_dir: Annotated[
        Path, typer.Option("--plots-dir", help="Folder for the PNGs.")
    ] = DEFAULT_PLOTS_DIR,
    metrics_path: Annotated[
        Path | None,
        typer.Option(
            "--metrics-path", help="Where to write metrics.json. Default: PLOTS_DIR/metrics.json."
        ),
    ] = None,
    anomaly_fraction: Annotated[
        float,
        typer.Option(
            "--anomaly-fraction",
            help="Expected anomaly share, in (0, 0.5): the models' contamination/nu, and the "
            "attack share of generated data.",
        ),
    ] = DEFAULT_ANOMALY_FRACTION,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed of generated data, split and models.")
    ] = DEFAULT_RANDOM_STATE,
    top: Annotated[
        int, typer.Option("--top", help="Top alerts to explain per model.")
    ] = DEFAULT_TOP_EXPLANATIONS,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the PNGs.")] = True,
    detectors: Annotated[
        str,
        typer.Option(
            "--detectors",
            help=f"Comma-separated detectors to compare, or 'all' ({detector_choices()}).",
        ),
    ] = "iforest,ocsvm",
    seeds: Annotated[
        int,
        typer.Option(
            "--seeds",
            help="Repeat over this many seeds (random-state, +1, ...); report mean ± std.",
        ),
    ] = 1,
    label_col: Annotated[
        str, typer.Option("--label-col", help="Column of 0/1 labels (1 = anomaly).")
    ] = LABEL_COL,
    feature_cols: Annotated[
        str | None,
        typer.Option(
            "--feature-cols",
            help="Comma-separated feature columns. Default: the event features, or every "
            "numeric column but the label for other tables.",
        ),
    ] = None,
    beta: Annotated[
        float, typer.Option("--beta", help="Beta of the F-beta threshold rule (labelled data).")
    ] = 1.0,
    alerts_per_day: Annotated[
        float,
        typer.Option(
            "--alerts-per-day",
            help="Alert budget of the budget threshold rule; on the enterprise world, per 500 "
            "staff, and the capacity of the daily alert queue (beside the incident queue).",
        ),
    ] = DEFAULT_ALERTS_PER_DAY,
    incidents_per_day: Annotated[
        float,
        typer.Option(
            "--incidents-per-day",
            help="On the enterprise world, incidents the analysts handle a day per 500 staff: "
            "the capacity of the incident queue.",
        ),
    ] = DEFAULT_INCIDENTS_PER_DAY,
    events_per_day: Annotated[
        float | None,
        typer.Option(
            "--events-per-day",
            help="Events a day in the evaluated stream. Default: measured from --timestamp-col.",
        ),
    ] = None,
    importance_repeats: Annotated[
        int,
        typer.Option(
            "--importance-repeats",
            help="Shuffles per feature for permutation importance; 0 skips it.",
        ),
    ] = DEFAULT_IMPORTANCE_REPEATS,
    save_run: Annotated[
        Path | None,
        typer.Option("--save-run", help="Also store the run here, for 'soc-anomaly diff'."),
    ] = None,
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="seed (labelled sessions, random split) or enterprise (the world's raw events, "
            "split by time: the first half of the days trains).",
        ),
    ] = "seed",
    n_users: Annotated[
        int | None,
        typer.Option(
            "--n-users",
            help=f"Users of generated data: default {DEFAULT_N_USERS} (seed), "
            f"{DEFAULT_WORLD_USERS} (enterprise).",
        ),
    ] = None,
    days: Annotated[
        int,
        typer.Option("--days", help="Days of the generated world (enterprise)."),
    ] = DEFAULT_WORLD_DAYS,
    intensity: Annotated[
        str,
        typer.Option(
            "--intensity",
            help="Campaign intensity of the generated world (enterprise): blatant, moderate, "
            "subtle or mixed.",
        ),
    ] = "mixed",
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="Enterprise: seed (the seed's columns from raw events), entity (per-entity "
            "features) or both (every detector on each, side by side).",
        ),
    ] = "entity",
    manifest_path: Annotated[
        Path | None,
        typer.Option(
            "--manifest-path",
            help="Campaign manifest of an enterprise --data-path. Default: "
            "<stem>_campaigns.csv beside it, if there.",
        ),
    ] = None,
    drop_features: Annotated[
        str | None,
        typer.Option(
            "--drop-features",
            help="Enterprise world: comma-separated features to leave out of every "
            "feature set, to measure what they add.",
        ),
    ] = None,
    timestamp_col: Annotated[
        str,
        typer.Option(
            "--timestamp-col",
            help="Column of event times for alerts a day (datetimes, or epoch seconds or "
            "milliseconds).",
        ),
    ] = "timestamp",
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Print every table, not only the summary and headline ones."
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write a self-contained HTML report (figures embedded) to this file.",
        ),
    ] = None,
) -> None:
    """Train detectors on normal events, then compare, evaluate and explain them."""
    # Checked before the heavy imports: a typo fails at once.
    names = parse_detector_names(detectors)
    columns = split_feature_cols(feature_cols)
    from soc_anomaly.experiment.config import DetectConfig
    from soc_anomaly.experiment.pipeline import run_detection
    from soc_anomaly.reporting.detect_report import print_report

    config = DetectConfig(
        data_path=data_path,
        k=k,
        threshold_percentile=threshold_percentile,
        plots_dir=plots_dir,
        metrics_path=metrics_path,
        anomaly_fraction=anomaly_fraction,
        random_state=random_state,
        top_explanations=top,
        plots=plots,
        detectors=names,
        seeds=seeds,
        label_col=label_col,
        feature_cols=columns,
        beta=beta,
        alerts_per_day=alerts_per_day,
        incidents_per_day=incidents_per_day,
        events_per_day=events_per_day,
        importance_repeats=importance_repeats,
        save_run=save_run,
        scenario=scenario,
        n_users=n_users,
        days=days,
        intensity=intensity,
        features=features,
        manifest_path=manifest_path,
        drop_features=split_feature_cols(drop_features, "--drop-features") or (),
        timestamp_col=timestamp_col,
    )
    if report is not None:
        from soc_anomaly.reporting.html_page import check_report_path

        # Before the run, which may take minutes: a bad path fails in a second.
        check_report_path(report)
    from soc_anomaly.experiment.checkpoint import sigterm_interrupts

    # Stopped, the run writes its finished detectors and raises RunInterrupted, whose
    # message (where they are) the command line prints as its one line.
    with sigterm_interrupts():
        result = run_detection(config, step=step)
    print_report(result, verbose=verbose)
    if report is not None:
        from soc_anomaly.reporting.html_report import write_detect_report

        with step(f"Writing the HTML report to {report}"):
            write_detect_report(result, report)
