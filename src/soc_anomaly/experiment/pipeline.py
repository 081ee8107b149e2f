"""The detection run: data -> split -> detectors -> metrics, explanations, plots.

One orchestrator that the command line, the scripts and any notebook call
instead of re-wiring the steps. :func:`run_detection` returns everything it
computed in a :class:`~soc_anomaly.experiment.results.DetectionResult`; its
``to_dict()`` is the content of ``metrics.json``.

Every detector of a run sees the same split. Each detector's scores are also
calibrated to 0-100 against its own normal training scores, so one threshold
means the same false-alarm rate for all of them. With ``seeds > 1`` the whole
run (data generation when the data is synthetic, split, detector seeds) is
repeated and the comparison reports mean and standard deviation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.io import check_writable_dir, check_writable_file, load_events, write_json
from soc_anomaly.data.schema import ATTACK_TYPE_COL, NORMAL_ATTACK_TYPE, resolve_feature_cols
from soc_anomaly.data.split import split_train_test
from soc_anomaly.detectors import anomaly_scores, get_detector, training_anomaly_scores
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.ocsvm import OCSVM_EXACT_MAX_ROWS
from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.explain import (
    compute_feature_stats,
    explain_top_anomalies,
    global_feature_correlations,
)
from soc_anomaly.evaluation.importance import permutation_importance
from soc_anomaly.evaluation.metrics import evaluate_model
from soc_anomaly.evaluation.threshold_lab import percentile_sweep, threshold_lab
from soc_anomaly.evaluation.thresholds import events_per_day
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.progress import StepReporter
from soc_anomaly.experiment.progress import quiet as _quiet
from soc_anomaly.experiment.results import (
    TEST_RULE,
    TRAIN_RULE,
    DetectionResult,
    ModelResult,
    SeedRun,
)
from soc_anomaly.experiment.saved_runs import save_run
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

__all__ = ["run_detection"]


def _load(config: DetectConfig, df: pd.DataFrame | None, seed: int) -> tuple[pd.DataFrame, str]:
    if df is not None:
        return df, "a DataFrame passed by the caller"
    if config.data_path is not None:
        return load_events(config.data_path), str(config.data_path)
    frame = generate_synthetic_soc_dataset(
        n_users=config.n_users,
        events_per_user=config.events_per_user,
        anomaly_fraction=config.anomaly_fraction,
        random_state=seed,
    )
    return frame, (
        f"generated in memory (n_users={config.n_users}, events_per_user="
        f"{config.events_per_user}, anomaly_fraction={config.anomaly_fraction:g}, "
        f"random_state={seed})"
    )


def _stream_rate(timestamps: pd.Series, notes: list[str]) -> float | None:
    """Events a day of the evaluated stream, or None (with a note) if unknown."""
    try:
        return events_per_day(pd.to_datetime(timestamps))
    except (ParameterError, ValueError, TypeError) as exc:
        _note(notes, f"alert-budget threshold skipped: {exc}")
        return None


def _note(notes: list[str], note: str) -> None:
    """Record a note once, however many seeds run into it."""
    if note not in notes:
        notes.append(note)


def _resolve_detector(name: str, n_train: int, notes: list[str]) -> str:
    """Swap the exact OCSVM for the subsampled one above its cut-over."""
    if name == "ocsvm" and n_train > OCSVM_EXACT_MAX_ROWS:
        _note(
            notes,
            f"ocsvm: {n_train:,} training rows exceed the exact fit's cut-over of "
            f"{OCSVM_EXACT_MAX_ROWS:,}; ran ocsvm_approx instead",
        )
        return "ocsvm_approx"
    return name


def _run_detector(
    name: str,
    config: DetectConfig,
    seed: int,
    split: dict[str, Any],
    step: StepReporter,
) -> ModelResult:
    spec = get_detector(name)
    X_train, X_test = split["X_train"], split["X_test"]
    y_test, kinds = split["y_test"], split["kinds"]
    pct = config.threshold_percentile
    with step(f"Fitting {spec.display_name} on {len(X_train):,} normal events"):
        estimator = spec.build(config.anomaly_fraction, seed, split["feature_cols"])
        t0 = time.perf_counter()
        estimator.fit(X_train)
        fit_seconds = time.perf_counter() - t0
    with step(f"Scoring {len(X_test):,} test events with {spec.display_name}"):
        t0 = time.perf_counter()
        test_scores = anomaly_scores(estimator, X_test)
        score_seconds = time.perf_counter() - t0
        train_scores = training_anomaly_scores(estimator, X_train)
    calibrator = ScoreCalibrator().fit(train_scores)
    metrics = evaluate_model(spec.display_name, y_test, test_scores, config.k, pct)
    reports = threshold_lab(
        y_test,
        test_scores,
        train_scores,
        percentile=pct,
        beta=config.beta,
        alerts_per_day=config.alerts_per_day if split["events_per_day"] else None,
        events_per_day=split["events_per_day"],
        attack_types=kinds,
    )
    thresholds = {r.rule: r.to_dict() for r in reports}
    for rule in (TEST_RULE, TRAIN_RULE):
        thresholds[rule]["percentile"] = pct
    features = split["feature_cols"]
    explanations = explain_top_anomalies(
        split["X_test_df"],
        y_test,
        test_scores,
        split["means"],
        split["stds"],
        features,
        top_m=min(config.top_explanations, len(y_test)),
    )
    for e in explanations:
        e["calibrated_score"] = float(calibrator.transform(np.array([e["score"]]))[0])
    return ModelResult(
        detector=name,
        name=spec.display_name,
        estimator=estimator,
        test_scores=test_scores,
        train_scores=train_scores,
        calibrated_test_scores=calibrator.transform(test_scores),
        fit_seconds=fit_seconds,
        score_seconds=score_seconds,
        metrics=metrics,
        thresholds=thresholds,
        correlations=global_feature_correlations(
            split["X_test_df"], y_test, test_scores, features, spec.display_name
        ),
        explanations=explanations,
        sweep=percentile_sweep(y_test, test_scores, train_scores),
        calibrator=calibrator,
    )


def _run_seed(
    config: DetectConfig,
    df: pd.DataFrame,
    source: str,
    features: list[str],
    seed: int,
    notes: list[str],
    step: StepReporter,
) -> SeedRun:
    with step("Splitting and scaling"):
        data = split_train_test(df, features, config.label_col, config.test_size, seed)
    X_train, X_test, y_test = data.X_train, data.X_test, data.y_test
    X_train_df, X_test_df = data.X_train_df, data.X_test_df
    if config.k > len(y_test):
        raise ParameterError(
            f"--k={config.k} exceeds the {len(y_test)} test events; expected k <= {len(y_test)}"
        )
    if ATTACK_TYPE_COL in df.columns:
        kinds = df.loc[X_test_df.index, ATTACK_TYPE_COL].astype(str).to_numpy()
    else:
        # Labelled data without scenario names: all anomalies form one group.
        kinds = np.where(y_test == 1, "anomaly", NORMAL_ATTACK_TYPE)
    means, stds = compute_feature_stats(X_train_df, features)
    rate = config.events_per_day
    if rate is None and "timestamp" in df.columns and config.alerts_per_day is not None:
        rate = _stream_rate(df.loc[X_test_df.index, "timestamp"], notes)
    if rate is not None and config.alerts_per_day is not None and config.alerts_per_day > rate:
        # A budget above the event rate alerts on everything: nothing to learn.
        _note(
            notes,
            f"alert-budget threshold skipped: {config.alerts_per_day:g} alerts a day exceeds "
            f"the {rate:,.1f} test events a day",
        )
        rate = None
    split = {
        "events_per_day": rate,
        "X_train": X_train,
        "X_test": X_test,
        "y_test": y_test,
        "kinds": kinds,
        "X_test_df": X_test_df,
        "means": means,
        "stds": stds,
        "feature_cols": features,
    }
    names = [_resolve_detector(n, len(X_train), notes) for n in config.detectors]
    models = [_run_detector(name, config, seed, split, step) for name in dict.fromkeys(names)]
    labels, counts = np.unique(kinds[y_test == 1], return_counts=True)
    dataset = {
        "source": source,
        "n_events": len(df),
        "n_anomalies": int(df[config.label_col].sum()),
        "n_train": len(X_train),
        "n_test": len(y_test),
        "n_test_anomalies": int(y_test.sum()),
        "test_anomalies_by_attack": {str(a): int(c) for a, c in zip(labels, counts, strict=True)},
    }
    return SeedRun(seed, dataset, y_test, kinds, X_test_df.index, models, X_test, X_test_df)


def run_detection(
    config: DetectConfig | None = None,
    df: pd.DataFrame | None = None,
    step: StepReporter = _quiet,
) -> DetectionResult:
    """Run the whole detection flow.

    Parameters
    ----------
    config : DetectConfig, optional
        Settings; the defaults reproduce the seed configuration.
    df : pandas.DataFrame, optional
        Events to use instead of ``config.data_path`` or generated data.
    step : callable, optional
        ``step(description)`` returns a context manager wrapped around each
        step; the command line uses it to show progress.

    Returns
    -------
    DetectionResult
        Metrics, thresholds, explanations, and the paths written.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        On bad settings, unusable data, or an output path that cannot be
        written (checked before any work is done).
    """
    config = config or DetectConfig()
    config.validate()
    if config.plots:
        check_writable_dir(Path(config.plots_dir), what="plots folder", create=False)
    check_writable_file(config.resolved_metrics_path, what="metrics file")
    if config.save_run is not None:
        check_writable_dir(Path(config.save_run), what="--save-run folder", create=False)

    notes: list[str] = []
    runs: list[SeedRun] = []
    features: list[str] = []
    frame: pd.DataFrame | None = df
    for i in range(config.seeds):
        seed = config.random_state + i
        if i == 0 or (df is None and config.data_path is None):
            with step("Loading events" if i == 0 else f"Generating events for seed {seed}"):
                frame, source = _load(config, df, seed)
            features = resolve_feature_cols(frame, config.label_col, config.feature_cols)
        assert frame is not None
        runs.append(_run_seed(config, frame, source, features, seed, notes, step))

    first = runs[0]
    if config.importance_repeats:
        for m in first.models:
            with step(f"Permutation importance of {m.name}"):
                m.importance = permutation_importance(
                    m.estimator,
                    first.X_test,
                    first.y_test,
                    features,
                    n_repeats=config.importance_repeats,
                    random_state=first.seed,
                )
    result = DetectionResult(config, features, runs, notes)
    if config.plots:
        # The one call from here up into reporting/, imported only by runs that
        # plot: it keeps matplotlib out of every other run.
        from soc_anomaly.reporting.plots import write_plots

        with step("Writing plots"):
            result.plot_paths = write_plots(result)
    document = result.to_dict()
    config.resolved_metrics_path.parent.mkdir(parents=True, exist_ok=True)
    result.metrics_path = write_json(document, config.resolved_metrics_path)
    if config.save_run is not None:
        with step(f"Saving the run to {config.save_run}"):
            save_run(config.save_run, document, result.scores_frame())
    return result
