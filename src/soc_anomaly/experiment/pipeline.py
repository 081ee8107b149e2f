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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.io import check_writable_dir, check_writable_file, load_events, write_json
from soc_anomaly.data.schema import ATTACK_TYPE_COL, NORMAL_ATTACK_TYPE, resolve_feature_cols
from soc_anomaly.data.split import TrainTestSplit, split_train_test
from soc_anomaly.detectors import (
    DetectorSpec,
    anomaly_scores,
    get_detector,
    training_anomaly_scores,
)
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.ocsvm import OCSVM_EXACT_MAX_ROWS
from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.explain import (
    Explanation,
    compute_feature_stats,
    explain_top,
    global_feature_correlations,
)
from soc_anomaly.evaluation.importance import permutation_importance
from soc_anomaly.evaluation.metrics import evaluate_scores
from soc_anomaly.evaluation.threshold_lab import (
    ThresholdReport,
    percentile_sweep,
    threshold_lab,
)
from soc_anomaly.evaluation.thresholds import events_per_day
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.progress import StepReporter
from soc_anomaly.experiment.progress import quiet as _quiet
from soc_anomaly.experiment.results import (
    DatasetSummary,
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


@dataclass(frozen=True)
class _SeedData:
    """One seed's split, and what every detector of that seed is evaluated with."""

    split: TrainTestSplit
    feature_cols: list[str]
    #: Attack type of each test event.
    attack_types: np.ndarray
    #: Normal baseline of the explanations: per-feature mean and std of the training rows.
    means: pd.Series
    stds: pd.Series
    #: Events a day of the evaluated stream, for the alert-budget rule; None skips the rule.
    events_per_day: float | None


@dataclass(frozen=True)
class _Scored:
    """A fitted detector, its scores and how long fitting and scoring took."""

    estimator: Any
    train_scores: np.ndarray
    test_scores: np.ndarray
    fit_seconds: float
    score_seconds: float


def _fit_and_score(
    spec: DetectorSpec, config: DetectConfig, seed: int, data: _SeedData, step: StepReporter
) -> _Scored:
    X_train, X_test = data.split.X_train, data.split.X_test
    with step(f"Fitting {spec.display_name} on {len(X_train):,} normal events"):
        estimator = spec.build(config.anomaly_fraction, seed, data.feature_cols)
        t0 = time.perf_counter()
        estimator.fit(X_train)
        fit_seconds = time.perf_counter() - t0
    with step(f"Scoring {len(X_test):,} test events with {spec.display_name}"):
        t0 = time.perf_counter()
        test_scores = anomaly_scores(estimator, X_test)
        score_seconds = time.perf_counter() - t0
        train_scores = training_anomaly_scores(estimator, X_train)
    return _Scored(estimator, train_scores, test_scores, fit_seconds, score_seconds)


def _threshold_reports(
    config: DetectConfig, data: _SeedData, scored: _Scored
) -> dict[str, ThresholdReport]:
    """Every rule of the threshold lab, by rule name."""
    reports = threshold_lab(
        data.split.y_test,
        scored.test_scores,
        scored.train_scores,
        percentile=config.threshold_percentile,
        beta=config.beta,
        alerts_per_day=config.alerts_per_day if data.events_per_day else None,
        events_per_day=data.events_per_day,
        attack_types=data.attack_types,
    )
    return {r.rule: r for r in reports}


def _explanations(
    config: DetectConfig, data: _SeedData, scores: np.ndarray, calibrator: ScoreCalibrator
) -> list[Explanation]:
    """The top alerts explained, each with its calibrated score."""
    y_test = data.split.y_test
    top = explain_top(
        data.split.X_test_df,
        y_test,
        scores,
        data.means,
        data.stds,
        data.feature_cols,
        top_m=min(config.top_explanations, len(y_test)),
    )
    return [
        replace(e, calibrated_score=float(calibrator.transform(np.array([e.score]))[0]))
        for e in top
    ]


def _run_detector(
    name: str, config: DetectConfig, seed: int, data: _SeedData, step: StepReporter
) -> ModelResult:
    spec = get_detector(name)
    scored = _fit_and_score(spec, config, seed, data, step)
    calibrator = ScoreCalibrator().fit(scored.train_scores)
    y_test, scores = data.split.y_test, scored.test_scores
    return ModelResult(
        detector=name,
        name=spec.display_name,
        estimator=scored.estimator,
        test_scores=scores,
        train_scores=scored.train_scores,
        calibrated_test_scores=calibrator.transform(scores),
        fit_seconds=scored.fit_seconds,
        score_seconds=scored.score_seconds,
        metrics=evaluate_scores(
            spec.display_name, y_test, scores, config.k, config.threshold_percentile
        ),
        thresholds=_threshold_reports(config, data, scored),
        correlations=global_feature_correlations(
            data.split.X_test_df, y_test, scores, data.feature_cols, spec.display_name
        ),
        explanations=_explanations(config, data, scores, calibrator),
        sweep=percentile_sweep(y_test, scores, scored.train_scores),
        calibrator=calibrator,
    )


def _attack_types(df: pd.DataFrame, split: TrainTestSplit) -> np.ndarray:
    """Attack type of each test event."""
    if ATTACK_TYPE_COL in df.columns:
        return df.loc[split.test_index, ATTACK_TYPE_COL].astype(str).to_numpy()
    # Labelled data without scenario names: all anomalies form one group.
    return np.where(split.y_test == 1, "anomaly", NORMAL_ATTACK_TYPE)


def _budget_rate(
    config: DetectConfig, df: pd.DataFrame, split: TrainTestSplit, notes: list[str]
) -> float | None:
    """Events a day for the alert-budget rule, or None (with a note) to skip the rule."""
    rate = config.events_per_day
    if rate is None and "timestamp" in df.columns and config.alerts_per_day is not None:
        rate = _stream_rate(df.loc[split.test_index, "timestamp"], notes)
    if rate is not None and config.alerts_per_day is not None and config.alerts_per_day > rate:
        # A budget above the event rate alerts on everything: nothing to learn.
        _note(
            notes,
            f"alert-budget threshold skipped: {config.alerts_per_day:g} alerts a day exceeds "
            f"the {rate:,.1f} test events a day",
        )
        return None
    return rate


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
        split = split_train_test(df, features, config.label_col, config.test_size, seed)
    y_test = split.y_test
    if config.k > len(y_test):
        raise ParameterError(
            f"--k={config.k} exceeds the {len(y_test)} test events; expected k <= {len(y_test)}"
        )
    kinds = _attack_types(df, split)
    means, stds = compute_feature_stats(split.X_train_df, features)
    data = _SeedData(split, features, kinds, means, stds, _budget_rate(config, df, split, notes))
    names = [_resolve_detector(n, len(split.X_train), notes) for n in config.detectors]
    models = [_run_detector(name, config, seed, data, step) for name in dict.fromkeys(names)]
    labels, counts = np.unique(kinds[y_test == 1], return_counts=True)
    dataset = DatasetSummary(
        source=source,
        n_events=len(df),
        n_anomalies=int(df[config.label_col].sum()),
        n_train=len(split.X_train),
        n_test=len(y_test),
        n_test_anomalies=int(y_test.sum()),
        test_anomalies_by_attack={str(a): int(c) for a, c in zip(labels, counts, strict=True)},
    )
    return SeedRun(
        seed, dataset, y_test, kinds, split.test_index, models, split.X_test, split.X_test_df
    )


def _with_importance(
    run: SeedRun, config: DetectConfig, features: list[str], step: StepReporter
) -> SeedRun:
    """``run`` with the permutation importance of each of its detectors."""
    models = []
    for m in run.models:
        with step(f"Permutation importance of {m.name}"):
            importance = permutation_importance(
                m.estimator,
                run.X_test,
                run.y_test,
                features,
                n_repeats=config.importance_repeats,
                random_state=run.seed,
            )
        models.append(replace(m, importance=importance))
    return replace(run, models=models)


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

    if config.importance_repeats:
        runs[0] = _with_importance(runs[0], config, features, step)
    result = DetectionResult(config, features, runs, notes)
    if config.plots:
        # The one call from here up into reporting/, imported only by runs that
        # plot: it keeps matplotlib out of every other run.
        from soc_anomaly.reporting.plots import write_plots

        with step("Writing plots"):
            result = replace(result, plot_paths=write_plots(result))
    document = result.to_dict()
    config.resolved_metrics_path.parent.mkdir(parents=True, exist_ok=True)
    result = replace(result, metrics_path=write_json(document, config.resolved_metrics_path))
    if config.save_run is not None:
        with step(f"Saving the run to {config.save_run}"):
            save_run(config.save_run, document, result.scores_frame())
    return result
