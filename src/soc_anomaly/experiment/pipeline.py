"""The detection run: data -> split -> detectors -> metrics, explanations, plots.

One orchestrator that the command line, the scripts and any notebook call
instead of re-wiring the steps. :func:`run_detection` returns everything it
computed in a :class:`~soc_anomaly.experiment.results.DetectionResult`; its
``to_dict()`` is the content of ``metrics.json``, which is also rewritten with the
results so far as detectors finish (at most every 30 s, and at once when the run is
stopped or a detector fails: :mod:`~soc_anomaly.experiment.checkpoint`), so a stopped
run keeps what finished.

Every detector of a run sees the same split. Each detector's scores are also
calibrated to 0-100 against its own normal training scores, so one threshold
means the same false-alarm rate for all of them. With ``seeds > 1`` the whole
run (data generation when the data is synthetic, split, detector seeds) is
repeated and the comparison reports mean and standard deviation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from soc_anomaly.data.io import check_writable_dir, check_writable_file, load_events, write_json
from soc_anomaly.data.schema import resolve_feature_cols
from soc_anomaly.data.split import split_by_time, split_train_test
from soc_anomaly.detectors.names import LSTM_DETECTORS, SEQUENCE_DETECTORS
from soc_anomaly.detectors.progress import count_rows
from soc_anomaly.detectors.registry import detector_for_rows
from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.explain import (
    compute_feature_stats,
)
from soc_anomaly.evaluation.importance import permutation_importance
from soc_anomaly.experiment.checkpoint import Checkpoint
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.detector_run import SplitData, run_detector
from soc_anomaly.experiment.enterprise import load_world
from soc_anomaly.experiment.evaluated_events import (
    add_note,
    attack_types,
    budget_rate,
    test_events,
)
from soc_anomaly.experiment.progress import StepReporter, tick_of
from soc_anomaly.experiment.progress import quiet as _quiet
from soc_anomaly.experiment.rescoring import ChangedRowsScorer
from soc_anomaly.experiment.results import (
    DatasetSummary,
    DetectionResult,
    SeedRun,
)
from soc_anomaly.experiment.saved_runs import save_run
from soc_anomaly.experiment.world_split import WorldSplit
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

__all__ = ["IMPORTANCE_MAX_ROWS", "run_detection"]

#: Test events the permutation importance rescores at most (a seeded sample above).
IMPORTANCE_MAX_ROWS = 10_000


def _load(config: DetectConfig, df: pd.DataFrame | None, seed: int) -> tuple[pd.DataFrame, str]:
    if df is not None:
        return df, "a DataFrame passed by the caller"
    if config.data_path is not None:
        return load_events(config.data_path), str(config.data_path)
    frame = generate_synthetic_soc_dataset(
        n_users=config.resolved_n_users,
        events_per_user=config.events_per_user,
        anomaly_fraction=config.anomaly_fraction,
        random_state=seed,
    )
    return frame, (
        f"generated in memory (n_users={config.resolved_n_users}, events_per_user="
        f"{config.events_per_user}, anomaly_fraction={config.anomaly_fraction:g}, "
        f"random_state={seed})"
    )


def _resolve_detector(name: str, n_train: int, notes: list[str]) -> str:
    """Swap a detector for its faster replacement above its cut-over (as train does)."""
    chosen, note = detector_for_rows(name, n_train)
    if note is not None:
        add_note(notes, note)
    return chosen


def _run_seed(
    config: DetectConfig,
    df: pd.DataFrame,
    source: str,
    features: list[str],
    seed: int,
    notes: list[str],
    step: StepReporter,
    world: WorldSplit | None = None,
    finished: Callable[[SeedRun, int], None] | None = None,
) -> SeedRun:
    """One seed's split and every detector on it; ``finished(run so far, planned)``
    is called after each detector."""
    with step("Splitting and scaling" if world is None else "Splitting by time and scaling"):
        if world is None:
            split = split_train_test(df, features, config.label_col, config.test_size, seed)
        else:
            split = split_by_time(
                df, features, world.table.train_mask, config.label_col, log_scale=True
            )
    y_test = split.y_test
    if config.k > len(y_test):
        raise ParameterError(
            f"--k={config.k} exceeds the {len(y_test)} test events; expected k <= {len(y_test)}"
        )
    kinds = attack_types(df, split)
    means, stds = compute_feature_stats(split.X_train_df, features)
    if world is None:
        feature_sets = {"": features}
        budget = config.alerts_per_day
        rate = budget_rate(config, df, split, notes)
    else:
        feature_sets = world.table.feature_sets
        budget = world.alerts_per_day(config.alerts_per_day)
        rate = budget_rate(
            replace(config, alerts_per_day=budget, events_per_day=world.events_per_day(split)),
            df,
            split,
            notes,
        )
    data = SplitData(
        split,
        features,
        feature_sets,
        kinds,
        means,
        stds,
        rate,
        budget,
        None if world is None else world.evaluation(split, budget, config.incidents_per_day),
        {} if world is None else dict(world.table.transformers),
        {} if world is None else dict(world.table.detector_inputs),
    )
    names = [_resolve_detector(n, len(split.X_train_df), notes) for n in config.detectors]
    labels, counts = np.unique(kinds[y_test == 1], return_counts=True)
    dataset = DatasetSummary(
        source=source,
        n_events=len(df),
        n_anomalies=int(df[config.label_col].sum()),
        n_train=len(split.X_train_df),
        n_test=len(y_test),
        n_test_anomalies=int(y_test.sum()),
        test_anomalies_by_attack={str(a): int(c) for a, c in zip(labels, counts, strict=True)},
    )
    run = SeedRun(
        seed,
        dataset,
        y_test,
        kinds,
        split.test_index,
        [],
        split.X_test_df,
        test_events(config, df, split, world),
    )
    planned = _planned(names, feature_sets, notes, config.drop_features)
    for name, feature_set in planned:
        model = run_detector(name, feature_set, config, seed, data, step)
        run = replace(run, models=[*run.models, model])
        if finished is not None:
            finished(run, len(planned))
    return run


def _lstm_seed(config: DetectConfig, seed: int) -> int | None:
    """The seed of the next-action LSTM when an lstm detector runs on the entity features."""
    from soc_anomaly.detectors.markov import LSTM_COLUMNS

    wanted = any(n in LSTM_DETECTORS for n in config.detectors)
    wanted &= not set(LSTM_COLUMNS) & set(config.drop_features)
    return seed if wanted and config.features in ("entity", "both") else None


def _planned(
    names: list[str],
    feature_sets: dict[str, object],
    notes: list[str],
    drop: tuple[str, ...] = (),
) -> list[tuple[str, str]]:
    """(detector, feature set) pairs to run: sequence detectors on the entity features only,
    and only where their columns are not dropped."""
    from soc_anomaly.detectors.markov import LSTM_COLUMNS, SEQUENCE_COLUMNS

    reads = {"markov": SEQUENCE_COLUMNS, "lstm": LSTM_COLUMNS}
    for name in dict.fromkeys(names):
        if set(reads.get(name, ())) & set(drop):
            add_note(notes, f"{name}: reads {', '.join(reads[name])}, left out by --drop-features")
    names = [n for n in names if not set(reads.get(n, ())) & set(drop)]
    if not names:
        raise ParameterError("--drop-features leaves no detector to run; expected fewer")
    planned, skipped = [], []
    for feature_set in feature_sets:
        for name in dict.fromkeys(names):
            if name in SEQUENCE_DETECTORS and feature_set != "entity":
                skipped.append((name, feature_set or "seed"))
            else:
                planned.append((name, feature_set))
    for name, feature_set in dict.fromkeys(skipped):
        notes.append(
            f"{name}: reads the entity features' action sequences; not run on the "
            f"{feature_set} features"
        )
    if not planned:
        raise ParameterError(
            f"{', '.join(dict.fromkeys(n for n, _ in skipped))} read(s) the entity features' "
            "action sequences; expected the enterprise world with --features entity or both"
        )
    return planned


def _importance_rows(run: SeedRun, notes: list[str]) -> np.ndarray:
    """Test rows the permutation importance scores: all, or a seeded sample of large sets.

    Each feature is shuffled and the whole set rescored ``repeats`` times per
    detector; on the enterprise world's quarter of a million test events that
    would take longer than the run itself, and a uniform sample keeps the
    attack share, so PR AUC drops are comparable.
    """
    n = len(run.y_test)
    if n <= IMPORTANCE_MAX_ROWS:
        return np.arange(n)
    rows = np.random.default_rng(run.seed).choice(n, IMPORTANCE_MAX_ROWS, replace=False)
    rows.sort()
    if run.y_test[rows].min() == run.y_test[rows].max():
        return np.arange(n)  # a sample of one class has no PR AUC; use every row
    add_note(
        notes,
        f"permutation importance on a random {IMPORTANCE_MAX_ROWS:,} of the {n:,} test events",
    )
    return rows


def _with_importance(
    run: SeedRun, config: DetectConfig, notes: list[str], step: StepReporter
) -> SeedRun:
    """``run`` with the permutation importance of each of its detectors."""
    models = []
    rows = _importance_rows(run, notes)
    sample = run.X_test_df.iloc[rows]
    for m in run.models:
        shuffles = 1 + len(m.feature_cols) * config.importance_repeats
        with (
            step(f"Permutation importance of {m.name}") as entered,
            count_rows(tick_of(entered), shuffles),
        ):
            # Scaled by the model itself, as it scores: no scaled copy of every
            # test (or training) event is needed.
            matrix = m.model.scale(m.model.feature_matrix(sample[m.feature_cols]))
            importance = permutation_importance(
                ChangedRowsScorer(m.estimator, matrix),
                matrix,
                run.y_test[rows],
                m.feature_cols,
                n_repeats=config.importance_repeats,
                random_state=run.seed,
            )
        models.append(replace(m, importance=importance))
    return replace(run, models=models)


def _run_seeds(
    config: DetectConfig,
    df: pd.DataFrame | None,
    notes: list[str],
    step: StepReporter,
    checkpoint: Checkpoint,
) -> tuple[list[str], list[SeedRun]]:
    """The feature columns, and every seed's run (each detector checkpointed as it finishes)."""
    runs: list[SeedRun] = []
    features: list[str] = []
    frame: pd.DataFrame | None = df
    world: WorldSplit | None = None
    for i in range(config.seeds):
        seed = config.random_state + i
        if config.enterprise:
            if i == 0 or config.data_path is None:
                with step("Loading events" if i == 0 else f"Generating the world for seed {seed}"):
                    world_data = load_world(
                        data_path=config.data_path,
                        manifest_path=config.manifest_path,
                        n_users=config.resolved_n_users,
                        days=config.days,
                        intensity=config.intensity,
                        seed=seed,
                        features=config.features,
                    )
                with step(
                    f"Computing {config.features} features of {len(world_data.events):,} events"
                ):
                    world = WorldSplit.build(
                        world_data, config.features, _lstm_seed(config, seed), config.drop_features
                    )
            assert world is not None
            frame, source = world.table.table, world.data.source
            features = world.feature_cols
        elif i == 0 or (df is None and config.data_path is None):
            with step("Loading events" if i == 0 else f"Generating events for seed {seed}"):
                frame, source = _load(config, df, seed)
            features = resolve_feature_cols(frame, config.label_col, config.feature_cols)
        assert frame is not None

        def finished(run: SeedRun, planned: int, cols: list[str] = features) -> None:
            checkpoint.detector_finished(cols, runs, run, planned)

        runs.append(_run_seed(config, frame, source, features, seed, notes, step, world, finished))
        checkpoint.seed_finished(features, runs)
    return features, runs


def _finish(result: DetectionResult, step: StepReporter) -> DetectionResult:
    """``result`` with its permutation importance and plots, as the settings ask."""
    config = result.config
    if config.importance_repeats:
        runs = [_with_importance(result.runs[0], config, result.notes, step), *result.runs[1:]]
        result = replace(result, runs=runs)
    if config.plots:
        # The one call from here up into reporting/, imported only by runs that
        # plot: it keeps matplotlib out of every other run.
        from soc_anomaly.reporting.plots import write_plots

        with step("Writing plots"):
            result = replace(result, plot_paths=write_plots(result))
    return result


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
    soc_anomaly.experiment.checkpoint.RunInterrupted
        A ``KeyboardInterrupt`` that came after at least one detector had
        finished: ``metrics.json`` holds the finished detectors' results
        (written when the run stopped, ``"complete": false``), and the
        exception says where.
    """
    config = config or DetectConfig()
    config.validate()
    if config.plots:
        check_writable_dir(Path(config.plots_dir), what="plots folder", create=False)
    check_writable_file(config.resolved_metrics_path, what="metrics file")
    if config.save_run is not None:
        check_writable_dir(Path(config.save_run), what="--save-run folder", create=False)

    if config.enterprise and df is not None:
        raise ParameterError(
            "a DataFrame cannot be passed with scenario='enterprise'; expected data_path to "
            "a file of the world's raw events, or nothing to generate the world"
        )
    notes: list[str] = []
    checkpoint = Checkpoint(config, notes)
    try:
        features, runs = _run_seeds(config, df, notes, step, checkpoint)
        result = _finish(DetectionResult(config, features, runs, notes), step)
    except KeyboardInterrupt:
        # Ctrl-C (or SIGTERM made one): the finished detectors go to disk.
        raise checkpoint.interrupted() from None
    except Exception:
        # A detector that fails leaves the ones that finished before it.
        checkpoint.flush()
        raise
    document = result.to_dict()
    config.resolved_metrics_path.parent.mkdir(parents=True, exist_ok=True)
    result = replace(result, metrics_path=write_json(document, config.resolved_metrics_path))
    if config.save_run is not None:
        with step(f"Saving the run to {config.save_run}"):
            save_run(config.save_run, document, result.scores_frame())
    return result
