"""The detection run: data -> split -> detectors -> metrics, explanations, plots.

One orchestrator that the command line, the scripts and any notebook call
instead of re-wiring the steps. :func:`run_detection` returns everything it
computed in a :class:`DetectionResult`; :meth:`DetectionResult.to_dict` is
the content of ``metrics.json``.

Every detector of a run sees the same split. Each detector's scores are also
calibrated to 0-100 against its own normal training scores, so one threshold
means the same false-alarm rate for all of them. With ``seeds > 1`` the whole
run (data generation when the data is synthetic, split, detector seeds) is
repeated and the comparison reports mean and standard deviation.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly import __version__
from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_PLOTS_DIR,
    DEFAULT_PRECISION_K,
    DEFAULT_RANDOM_STATE,
    DEFAULT_TEST_SIZE,
    DEFAULT_THRESHOLD_PERCENTILE,
    DEFAULT_TOP_EXPLANATIONS,
)
from soc_anomaly.data.io import check_writable_dir, check_writable_file, load_events, write_json
from soc_anomaly.data.schema import (
    ATTACK_TYPE_COL,
    LABEL_COL,
    NORMAL_ATTACK_TYPE,
    resolve_feature_cols,
)
from soc_anomaly.data.split import split_train_test
from soc_anomaly.detectors import anomaly_scores, get_detector, training_anomaly_scores
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.ocsvm import OCSVM_EXACT_MAX_ROWS
from soc_anomaly.errors import (
    ParameterError,
    check_positive_int,
    check_range,
    check_seed,
)
from soc_anomaly.evaluation.explain import (
    compute_feature_stats,
    deviant_feature_counts,
    explain_top_anomalies,
    global_feature_correlations,
)
from soc_anomaly.evaluation.importance import permutation_importance
from soc_anomaly.evaluation.metrics import evaluate_model
from soc_anomaly.evaluation.threshold_lab import percentile_sweep, threshold_lab
from soc_anomaly.evaluation.thresholds import events_per_day
from soc_anomaly.runs import save_run
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

__all__ = ["DetectConfig", "DetectionResult", "ModelResult", "SeedRun", "run_detection"]

#: Keys of the two percentile threshold rules in results and ``metrics.json``
#: (the threshold lab's rule names).
TEST_RULE = "evaluated_percentile"
TRAIN_RULE = "normal_percentile"
#: Default alert budget of the threshold lab.
DEFAULT_ALERTS_PER_DAY = 10.0
#: Default shuffles per feature of the permutation importance.
DEFAULT_IMPORTANCE_REPEATS = 3
#: The rule whose per-attack recall the comparison table reports: the one an
#: analyst can set before seeing any attack.
COMPARISON_RULE = TRAIN_RULE

StepReporter = Callable[[str], AbstractContextManager[Any]]


@dataclass
class DetectConfig:
    """Settings of one detection run.

    Attributes
    ----------
    data_path : pathlib.Path or None
        Events to evaluate (``.csv``, ``.parquet`` or ``.npz`` with ``X``/``y``);
        None generates the synthetic dataset (``n_users``, ``events_per_user``,
        ``anomaly_fraction``, ``random_state``) in memory.
    k : int
        ``k`` of precision@k.
    threshold_percentile : float
        Percentile, in (0, 100), of both percentile threshold rules.
    plots_dir : pathlib.Path
        Folder of the PNGs (created if missing).
    metrics_path : pathlib.Path or None
        Where ``metrics.json`` goes; ``plots_dir / "metrics.json"`` if None.
    anomaly_fraction : float
        Expected anomaly share, in (0, 0.5): the detectors' ``contamination``
        (and OneClassSVM's ``nu``), and the share of attacks when data is
        generated.
    random_state : int
        Seed of the generated data, the split and the detectors; seed ``i`` of
        a multi-seed run uses ``random_state + i``.
    test_size : float
        Share of normal events held out for testing.
    top_explanations : int
        Top alerts explained per detector.
    detectors : tuple of str
        Registered detector names to run.
    n_users, events_per_user : int
        Size of generated data.
    plots : bool
        Write the PNGs.
    seeds : int
        Repeat the run over this many seeds.
    label_col : str
        Column of 0/1 labels.
    feature_cols : tuple of str or None
        Feature columns; None takes the toolkit's event features when the
        table has them, else every numeric column but the label.
    beta : float
        Beta of the threshold lab's F-beta rule.
    alerts_per_day : float or None
        Budget of the threshold lab's alert-budget rule; None skips the rule.
    events_per_day : float or None
        Events a day in the evaluated stream, for the budget rule; None
        measures it from the ``timestamp`` column when there is one.
    importance_repeats : int
        Shuffles per feature of the permutation importance (first seed only);
        0 skips it.
    save_run : pathlib.Path or None
        Also store the run (config, metrics, per-event scores) in this folder
        for ``soc-anomaly diff``.
    """

    data_path: Path | None = None
    k: int = DEFAULT_PRECISION_K
    threshold_percentile: float = DEFAULT_THRESHOLD_PERCENTILE
    plots_dir: Path = DEFAULT_PLOTS_DIR
    metrics_path: Path | None = None
    anomaly_fraction: float = DEFAULT_ANOMALY_FRACTION
    random_state: int = DEFAULT_RANDOM_STATE
    test_size: float = DEFAULT_TEST_SIZE
    top_explanations: int = DEFAULT_TOP_EXPLANATIONS
    detectors: tuple[str, ...] = ("iforest", "ocsvm")
    n_users: int = DEFAULT_N_USERS
    events_per_user: int = DEFAULT_EVENTS_PER_USER
    plots: bool = True
    seeds: int = 1
    label_col: str = LABEL_COL
    feature_cols: tuple[str, ...] | None = None
    beta: float = 1.0
    alerts_per_day: float | None = DEFAULT_ALERTS_PER_DAY
    events_per_day: float | None = None
    importance_repeats: int = DEFAULT_IMPORTANCE_REPEATS
    save_run: Path | None = None

    def validate(self) -> None:
        """Check every setting; raise one-line errors naming the flag."""
        check_positive_int("--k", self.k)
        check_range("--threshold-percentile", self.threshold_percentile, 0.0, 100.0)
        check_range("--anomaly-fraction", self.anomaly_fraction, 0.0, 0.5)
        check_range("test size", self.test_size, 0.0, 1.0)
        check_positive_int("--top", self.top_explanations)
        check_positive_int("--n-users", self.n_users)
        check_positive_int("--events-per-user", self.events_per_user)
        check_positive_int("--seeds", self.seeds)
        check_seed("--random-state", self.random_state)
        if not self.detectors:
            raise ParameterError("no detectors selected; expected at least one")
        for name in self.detectors:
            get_detector(name)
        if self.feature_cols is not None and not self.feature_cols:
            raise ParameterError("--feature-cols is empty; expected column names")
        check_range("--beta", self.beta, 0.0, math.inf)
        if isinstance(self.importance_repeats, bool) or self.importance_repeats < 0:
            raise ParameterError(
                f"--importance-repeats must be an integer >= 0, got {self.importance_repeats!r}"
            )
        if self.alerts_per_day is not None:
            check_range("--alerts-per-day", self.alerts_per_day, 0.0, math.inf)
        if self.events_per_day is not None:
            check_range("--events-per-day", self.events_per_day, 0.0, math.inf)

    @property
    def resolved_metrics_path(self) -> Path:
        """Where ``metrics.json`` is written."""
        return Path(self.metrics_path or Path(self.plots_dir) / "metrics.json")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        d = asdict(self)
        for key in ("data_path", "plots_dir", "metrics_path", "save_run"):
            d[key] = None if d[key] is None else str(d[key])
        d["detectors"] = list(self.detectors)
        d["feature_cols"] = None if self.feature_cols is None else list(self.feature_cols)
        return d


@dataclass
class ModelResult:
    """What one detector produced on one split."""

    detector: str
    name: str
    estimator: Any
    test_scores: np.ndarray
    train_scores: np.ndarray
    calibrated_test_scores: np.ndarray
    fit_seconds: float
    score_seconds: float
    metrics: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    correlations: pd.Series
    explanations: list[dict[str, Any]]
    sweep: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    importance: pd.DataFrame | None = field(repr=False, default=None)
    calibrator: ScoreCalibrator = field(repr=False, default_factory=ScoreCalibrator)

    @property
    def scoring_rows_per_second(self) -> float:
        """Test events scored per second.

        Only the test events are timed: neighbour detectors reuse leave-one-out
        training scores from ``fit``, so counting training rows would flatter them.
        """
        rows = len(self.test_scores)
        return rows / self.score_seconds if self.score_seconds > 0 else math.inf

    def summary(self) -> dict[str, Any]:
        """The headline numbers of this detector, JSON-ready."""
        return {
            "detector": self.detector,
            "roc_auc": self.metrics["roc_auc"],
            "pr_auc": self.metrics["pr_auc"],
            "k": self.metrics["k"],
            "precision_at_k": self.metrics["precision_at_k"],
            "recall_by_attack": self.thresholds[COMPARISON_RULE]["recall_by_attack"],
            "fit_seconds": self.fit_seconds,
            "score_seconds": self.score_seconds,
            "scoring_rows_per_second": self.scoring_rows_per_second,
        }


@dataclass
class SeedRun:
    """One split of the data and every detector's result on it."""

    seed: int
    dataset: dict[str, Any]
    y_test: np.ndarray
    attack_types_test: np.ndarray
    test_index: pd.Index
    models: list[ModelResult]
    X_test: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 0)))
    X_test_df: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


@dataclass
class DetectionResult:
    """Everything a detection run computed.

    ``runs[0]`` is the run at ``config.random_state``; explanations, plots and
    the per-detector detail come from it. ``comparison`` summarises all runs.
    """

    config: DetectConfig
    feature_cols: list[str]
    runs: list[SeedRun]
    notes: list[str] = field(default_factory=list)
    plot_paths: list[Path] = field(default_factory=list)
    metrics_path: Path | None = None

    # The first run's pieces, under the names a single-seed caller expects.
    @property
    def dataset(self) -> dict[str, Any]:
        """Summary of the (first run's) data and split."""
        return self.runs[0].dataset

    @property
    def y_test(self) -> np.ndarray:
        """Labels of the first run's test events."""
        return self.runs[0].y_test

    @property
    def attack_types_test(self) -> np.ndarray:
        """Attack type of each of the first run's test events."""
        return self.runs[0].attack_types_test

    @property
    def models(self) -> list[ModelResult]:
        """The first run's detector results."""
        return self.runs[0].models

    def scores_frame(self) -> pd.DataFrame:
        """One row per test event of the first run: label, attack type, each detector's
        raw and calibrated score."""
        run = self.runs[0]
        frame = pd.DataFrame(
            {"event": run.test_index, "label": run.y_test, "attack_type": run.attack_types_test}
        )
        for m in run.models:
            frame[f"{m.detector}_score"] = m.test_scores
            frame[f"{m.detector}_calibrated"] = m.calibrated_test_scores
        return frame

    def comparison(self) -> list[dict[str, Any]]:
        """Per detector, mean and standard deviation over seeds, best PR AUC first."""
        rows = []
        for i, first in enumerate(self.runs[0].models):
            per_seed = [run.models[i].summary() for run in self.runs]
            row: dict[str, Any] = {"detector": first.detector, "name": first.name}
            for key in (
                "pr_auc",
                "roc_auc",
                "precision_at_k",
                "fit_seconds",
                "scoring_rows_per_second",
            ):
                values = np.array([s[key] for s in per_seed], dtype=float)
                row[f"{key}_mean"] = float(values.mean())
                row[f"{key}_std"] = float(values.std())
            attacks = sorted(per_seed[0]["recall_by_attack"])
            row["recall_by_attack_mean"] = {
                a: float(np.mean([s["recall_by_attack"][a] for s in per_seed])) for a in attacks
            }
            row["recall_by_attack_std"] = {
                a: float(np.std([s["recall_by_attack"][a] for s in per_seed])) for a in attacks
            }
            rows.append(row)
        rows.sort(key=lambda r: (-r["pr_auc_mean"], -r["roc_auc_mean"], r["name"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written as ``metrics.json``."""
        return _json_safe(
            {
                "soc_anomaly_version": __version__,
                "config": self.config.to_dict(),
                "feature_cols": self.feature_cols,
                "notes": self.notes,
                "dataset": self.dataset,
                "comparison": self.comparison(),
                "models": {
                    m.name: {
                        **m.summary(),
                        "thresholds": m.thresholds,
                        "threshold_sweep": m.sweep.to_dict(orient="records"),
                        "permutation_importance": None
                        if m.importance is None
                        else m.importance.to_dict(orient="records"),
                        "feature_correlations": m.correlations.to_dict(),
                        "top_explanations": m.explanations,
                    }
                    for m in self.models
                },
                "seeds": [
                    {
                        "seed": run.seed,
                        "dataset": run.dataset,
                        "models": {m.name: m.summary() for m in run.models},
                    }
                    for run in self.runs
                ],
                "plots": [str(p) for p in self.plot_paths],
            }
        )


def _json_safe(obj: Any) -> Any:
    """Plain Python types only; non-finite floats become strings JSON can hold."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


@contextlib.contextmanager
def _quiet(_: str) -> Iterator[None]:
    yield


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
        with step("Writing plots"):
            result.plot_paths = write_plots(result)
    document = result.to_dict()
    config.resolved_metrics_path.parent.mkdir(parents=True, exist_ok=True)
    result.metrics_path = write_json(document, config.resolved_metrics_path)
    if config.save_run is not None:
        with step(f"Saving the run to {config.save_run}"):
            save_run(config.save_run, document, result.scores_frame())
    return result


def write_plots(result: DetectionResult) -> list[Path]:
    """Write the run's figures into ``config.plots_dir``.

    Returns
    -------
    list of pathlib.Path
        The files written, in :func:`soc_anomaly.visualization.plot_names` order.
    """
    # Plotting pulls in matplotlib; only runs that plot pay for the import.
    from soc_anomaly import visualization as viz

    cfg = result.config
    out = Path(cfg.plots_dir)
    check_writable_dir(out, what="plots folder", create=True)
    pct = cfg.threshold_percentile
    test_label = f"p{pct:g} of test scores"
    train_label = f"p{pct:g} of normal training scores"
    paths = [
        viz.plot_feature_correlations(
            m.correlations, m.name, out / f"feature_correlations_{viz.slug(m.name)}.png"
        )
        for m in result.models
    ]
    scores = {m.name: m.test_scores for m in result.models}
    paths.append(
        viz.plot_score_histograms(
            scores,
            result.y_test,
            {
                m.name: {
                    f"threshold: {test_label}": m.thresholds[TEST_RULE]["threshold"],
                    f"threshold: {train_label}": m.thresholds[TRAIN_RULE]["threshold"],
                }
                for m in result.models
            },
            out / "score_histograms.png",
        )
    )
    paths.append(
        viz.plot_confusion_matrices(
            {
                f"threshold at {test_label}": {
                    m.name: m.thresholds[TEST_RULE] for m in result.models
                },
                f"threshold at {train_label}": {
                    m.name: m.thresholds[TRAIN_RULE] for m in result.models
                },
            },
            out / "confusion_matrices.png",
        )
    )
    paths.append(
        viz.plot_model_comparison(
            viz.model_comparison_values(
                {m.name: m.metrics for m in result.models},
                {m.name: m.thresholds[TRAIN_RULE] for m in result.models},
                cfg.k,
                pct,
            ),
            out / "model_comparison.png",
        )
    )
    paths.append(viz.plot_roc_curves(scores, result.y_test, out / "roc_curves.png"))
    paths.append(
        viz.plot_deviant_features(
            {m.name: deviant_feature_counts(m.explanations) for m in result.models},
            cfg.top_explanations,
            out / "deviant_features_top_anomalies.png",
        )
    )
    paths.append(viz.plot_pr_curves(scores, result.y_test, out / "pr_curves.png"))
    paths.append(
        viz.plot_threshold_tradeoff(
            {m.name: m.sweep for m in result.models}, out / "threshold_tradeoff.png"
        )
    )
    recall = pd.DataFrame(
        {m.name: m.thresholds[COMPARISON_RULE]["recall_by_attack"] for m in result.models}
    ).T
    paths.append(viz.plot_recall_heatmap(recall, train_label, out / "recall_by_attack_heatmap.png"))
    importances = {m.name: m.importance for m in result.models if m.importance is not None}
    if importances:
        paths.append(
            viz.plot_permutation_importance(importances, out / "permutation_importance.png")
        )
    return paths
