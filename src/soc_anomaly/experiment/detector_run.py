"""One detector on one split: fit, score, calibrate, threshold, explain, evaluate campaigns.

:func:`run_detector` is the inner step of
:func:`~soc_anomaly.experiment.pipeline.run_detection`: every detector of a
seed sees the same :class:`SplitData`, on one of its feature sets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.split import TrainTestSplit
from soc_anomaly.detectors import DetectorSpec, get_detector
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.detectors.progress import count_rows
from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.explain import Explanation, explain_top, global_feature_correlations
from soc_anomaly.evaluation.metrics import evaluate_scores
from soc_anomaly.evaluation.threshold_lab import ThresholdReport, percentile_sweep, threshold_lab
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.progress import StepReporter, tick_of
from soc_anomaly.experiment.results import ModelResult
from soc_anomaly.experiment.world_split import WorldEvaluation
from soc_anomaly.incidents import LinkResult
from soc_anomaly.model.fitted import AnomalyModel

__all__ = ["SplitData", "run_detector"]


@dataclass(frozen=True)
class SplitData:
    """One seed's split, and what every detector of that seed is evaluated with."""

    split: TrainTestSplit
    feature_cols: list[str]
    #: Columns of each feature set the detectors run on, by set name ("" for a plain table).
    feature_sets: dict[str, list[str]]
    #: Attack type of each test event.
    attack_types: np.ndarray
    #: Normal baseline of the explanations: per-feature mean and std of the training rows.
    means: pd.Series
    stds: pd.Series
    #: Events a day of the evaluated stream, for the alert-budget rule; None skips the rule.
    events_per_day: float | None
    #: Budget of the alert-budget rule, alerts a day.
    alerts_per_day: float | None
    #: The enterprise world's campaigns and raw events; None for a plain table.
    world: WorldEvaluation | None = None
    #: The fitted featuriser of each feature set of raw events (none for a plain table).
    featurizers: dict[str, Any] = field(default_factory=dict)
    #: Detectors whose input on the entity features is more (``lstm``): their columns
    #: and featuriser (:class:`~soc_anomaly.experiment.enterprise.WorldTable`).
    detector_inputs: dict[str, tuple[list[str], Any]] = field(default_factory=dict)

    def columns(self, feature_set: str) -> np.ndarray:
        """Positions of a feature set's columns in the split's arrays."""
        return np.array([self.feature_cols.index(c) for c in self.feature_sets[feature_set]])

    def inputs(self, detector: str, feature_set: str) -> tuple[list[str], Any]:
        """The columns detector ``detector`` reads on ``feature_set``, and their featuriser."""
        if feature_set == "entity" and detector in self.detector_inputs:
            return self.detector_inputs[detector]
        return self.feature_sets[feature_set], self.featurizers.get(feature_set)


@dataclass(frozen=True)
class _Scored:
    """A fitted model, its scores and how long fitting and scoring took."""

    model: AnomalyModel
    train_scores: np.ndarray
    test_scores: np.ndarray
    fit_seconds: float
    score_seconds: float


def _fit_and_score(
    spec: DetectorSpec,
    config: DetectConfig,
    seed: int,
    data: SplitData,
    feature_set: str,
    step: StepReporter,
) -> _Scored:
    """Fit the production model object on the split's training rows and score the test rows.

    The lab fits the same :class:`~soc_anomaly.model.AnomalyModel` that
    ``soc-anomaly train`` saves (scaler, detector, calibration, threshold), on
    the features the run computed once for all its detectors.
    """
    cols, featurizer = data.inputs(spec.name, feature_set)
    train_feats = data.split.X_train_df[cols]
    what = f" on {feature_set} features" if feature_set else ""
    read = None
    if featurizer is not None and config.drop_features:
        out = featurizer.get_feature_names_out()
        read = [str(c) for c in out if c not in config.drop_features]
    model = AnomalyModel(
        detector=spec.name,
        features=feature_set if feature_set in ("seed", "entity") else "table",
        feature_cols=read,
        threshold_percentile=config.threshold_percentile,
        contamination=config.anomaly_fraction,
        random_state=seed,
    )
    # Detectors that count their rows (the neighbour searches) report them
    # through the step: training rows scored while fitting, then test rows.
    fitting = f"Fitting {spec.display_name} on {len(train_feats):,} normal events{what}"
    with step(fitting) as entered, count_rows(tick_of(entered), len(train_feats)):
        model.fit_features(train_feats, featurizer)
    test_matrix = model.feature_matrix(data.split.X_test_df[cols])
    scoring = f"Scoring {len(test_matrix):,} test events with {spec.display_name}{what}"
    with step(scoring) as entered, count_rows(tick_of(entered), len(test_matrix)):
        t0 = time.perf_counter()
        test_scores = model.raw_scores(test_matrix)
        score_seconds = time.perf_counter() - t0
        train_scores = model.training_scores(train_feats)
    return _Scored(model, train_scores, test_scores, model.fit_seconds_, score_seconds)


def _threshold_reports(
    config: DetectConfig, data: SplitData, scored: _Scored, curves: RankingCurves | None
) -> dict[str, ThresholdReport]:
    """Every rule of the threshold lab, by rule name."""
    reports = threshold_lab(
        data.split.y_test,
        scored.test_scores,
        scored.train_scores,
        percentile=config.threshold_percentile,
        beta=config.beta,
        alerts_per_day=data.alerts_per_day if data.events_per_day else None,
        events_per_day=data.events_per_day,
        attack_types=data.attack_types,
        curves=curves,
    )
    return {r.rule: r for r in reports}


def _explanations(
    config: DetectConfig,
    data: SplitData,
    feature_set: str,
    scores: np.ndarray,
    calibrator: ScoreCalibrator,
    incidents: LinkResult | None = None,
    read: list[str] | None = None,
) -> list[Explanation]:
    """The top alerts explained, each with its calibrated score: with incidents, the
    best event of each of the highest-scoring incidents, so one burst is listed once.
    ``read``: the features the model reads, the only ones an entity sentence names."""
    y_test = data.split.y_test
    top_m = min(config.top_explanations, len(y_test))
    if data.world is not None and feature_set == "entity":
        top = data.world.explain_top(
            data.split.X_test_df, y_test, scores, top_m, _incident_order(scores, incidents), read
        )
    else:
        cols = data.feature_sets[feature_set]
        top = explain_top(
            data.split.X_test_df, y_test, scores, data.means, data.stds, cols, top_m=top_m
        )
    return [
        replace(e, calibrated_score=float(calibrator.transform(np.array([e.score]))[0]))
        for e in top
    ]


def _incident_order(scores: np.ndarray, incidents: LinkResult | None) -> np.ndarray | None:
    """Positions of the best event of each incident, highest incident score first."""
    if incidents is None:
        return None
    linked = np.flatnonzero(~pd.isna(incidents.incident_ids))
    if linked.size == 0:
        return None
    frame = pd.DataFrame(
        {
            "pos": linked,
            "incident": incidents.incident_ids[linked].astype(str),
            "score": np.asarray(scores, dtype=float)[linked],
        }
    )
    final = frame.groupby("incident")["pos"].transform("max")
    frame["incident_score"] = incidents.incident_scores[final.to_numpy()]
    best = frame.sort_values(["score", "pos"], ascending=[False, True]).drop_duplicates("incident")
    best = best.sort_values(["incident_score", "score", "pos"], ascending=[False, False, True])
    return best["pos"].to_numpy()


def run_detector(
    name: str,
    feature_set: str,
    config: DetectConfig,
    seed: int,
    data: SplitData,
    step: StepReporter,
) -> ModelResult:
    """Fit detector ``name`` on a feature set of the split and evaluate it.

    Parameters
    ----------
    name : str
        Registered detector name.
    feature_set : str
        Key of ``data.feature_sets``.
    config : DetectConfig
        The run's settings.
    seed : int
        The detector's seed.
    data : SplitData
        The split and what it is evaluated with.
    step : callable
        Progress reporter.

    Returns
    -------
    ModelResult
    """
    spec = get_detector(name)
    scored = _fit_and_score(spec, config, seed, data, feature_set, step)
    calibrator = scored.model.calibrator_
    y_test, scores = data.split.y_test, scored.test_scores
    cols, _ = data.inputs(name, feature_set)
    # With several feature sets each detector appears once per set, so the set
    # goes into its key and name.
    several = len(data.feature_sets) > 1
    # One sort of the scores for every ranking metric and curve figure.
    curves = RankingCurves.of(y_test, scores) if 0 < y_test.sum() < len(y_test) else None
    thresholds = _threshold_reports(config, data, scored, curves)
    calibrated = calibrator.transform(scores)
    incidents = None if data.world is None else data.world.incidents(calibrated)
    return ModelResult(
        detector=f"{name}@{feature_set}" if several else name,
        name=f"{spec.display_name} ({feature_set})" if several else spec.display_name,
        feature_set=feature_set,
        feature_cols=list(cols),
        estimator=scored.model.detector_,
        model=scored.model,
        test_scores=scores,
        train_scores=scored.train_scores,
        calibrated_test_scores=calibrated,
        fit_seconds=scored.fit_seconds,
        score_seconds=scored.score_seconds,
        metrics=evaluate_scores(
            spec.display_name, y_test, scores, config.k, config.threshold_percentile, curves=curves
        ),
        curves=None if curves is None else curves.for_plot(),
        thresholds=thresholds,
        correlations=global_feature_correlations(
            data.split.X_test_df, y_test, scores, cols, spec.display_name
        ),
        explanations=_explanations(
            config, data, feature_set, scores, calibrator, incidents, scored.model.feature_names_
        ),
        sweep=percentile_sweep(y_test, scores, scored.train_scores),
        calibrator=calibrator,
        incidents=None if incidents is None else incidents.raised,
        campaigns=None
        if data.world is None
        else data.world.campaign_lab(
            scores, {r: t.threshold for r, t in thresholds.items()}, incidents
        ),
    )
