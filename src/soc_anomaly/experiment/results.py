"""What a detection run computed: per detector, per seed, and for the whole run.

:meth:`DetectionResult.to_dict` is the JSON document written as
``metrics.json`` and stored by :func:`soc_anomaly.experiment.saved_runs.save_run`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly import __version__
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.evaluation.alert_queue import QUEUE_RULE
from soc_anomaly.evaluation.campaigns import CampaignReport
from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.explain import Explanation
from soc_anomaly.evaluation.incident_queue import INCIDENT_RULE
from soc_anomaly.evaluation.metrics import ModelEvaluation
from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.evaluated_events import BUDGET_SKIPPED
from soc_anomaly.experiment.summary import (
    ComparisonRow,
    MeanStd,
    ModelSummary,
    operating_false_alerts,
    rank_over_seeds,
)
from soc_anomaly.incidents import Incident

__all__ = [
    "BUDGET_RULE",
    "COMPARISON_RULE",
    "EVENT_QUEUE_RULE",
    "HEADLINE_RULE",
    "PERCENTILE_RULES",
    "TEST_RULE",
    "TRAIN_RULE",
    "ComparisonRow",
    "DatasetSummary",
    "DetectionResult",
    "MeanStd",
    "ModelResult",
    "ModelSummary",
    "SeedRun",
    "campaign_headline",
    "headline_rule",
]

#: Keys of the two percentile threshold rules in results and ``metrics.json``
#: (the threshold lab's rule names).
TEST_RULE = "evaluated_percentile"
TRAIN_RULE = "normal_percentile"
#: The rule whose per-attack recall the comparison table reports: the one an
#: analyst can set before seeing any attack.
COMPARISON_RULE = TRAIN_RULE
#: The rules whose threshold is a percentile; ``metrics.json`` records it beside them.
PERCENTILE_RULES = (TEST_RULE, TRAIN_RULE)
#: The threshold rule of the analysts' alert budget.
BUDGET_RULE = "alert_budget"
#: The campaign-level headline: what the daily incident queue of the analysts'
#: budget catches (see :mod:`soc_anomaly.evaluation.incident_queue`).
HEADLINE_RULE = INCIDENT_RULE
#: The daily event queue, kept beside the headline for comparison (and the
#: headline of a saved run from before incidents).
EVENT_QUEUE_RULE = QUEUE_RULE


def headline_rule(campaigns: dict[str, CampaignReport] | None) -> str | None:
    """The rule of the campaign headline: the incident queue, else the event queue,
    else the normal percentile; None without campaign results."""
    for rule in (HEADLINE_RULE, EVENT_QUEUE_RULE, TRAIN_RULE):
        if campaigns and rule in campaigns:
            return rule
    return None


def campaign_headline(campaigns: dict[str, CampaignReport] | None) -> CampaignReport | None:
    """The campaign report of :func:`headline_rule`."""
    rule = headline_rule(campaigns)
    return None if rule is None or campaigns is None else campaigns[rule]


@dataclass(frozen=True)
class DatasetSummary:
    """Where the events came from and how they were split.

    Attributes
    ----------
    source : str
        The file, or how the events were generated.
    n_events, n_anomalies : int
        Events in the table, and anomalies among them.
    n_train : int
        Normal events the detectors were fitted on.
    n_test, n_test_anomalies : int
        Evaluated events, and anomalies among them (every anomaly).
    test_anomalies_by_attack : dict of str to int
        Evaluated anomalies per attack type.
    """

    source: str
    n_events: int
    n_anomalies: int
    n_train: int
    n_test: int
    n_test_anomalies: int
    test_anomalies_by_attack: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The summary as ``metrics.json`` holds it."""
        return asdict(self)


@dataclass(frozen=True)
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
    metrics: ModelEvaluation
    thresholds: dict[str, ThresholdReport]
    correlations: pd.Series
    explanations: list[Explanation]
    sweep: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    importance: pd.DataFrame | None = field(repr=False, default=None)
    calibrator: ScoreCalibrator = field(repr=False, default_factory=ScoreCalibrator)
    #: The feature set the detector ran on ("" for a plain table), and its columns.
    feature_set: str = ""
    feature_cols: list[str] = field(default_factory=list)
    #: Campaign-level results per threshold rule (the enterprise world only).
    campaigns: dict[str, CampaignReport] | None = field(repr=False, default=None)
    #: The fitted production model (:class:`~soc_anomaly.model.AnomalyModel`) the
    #: scores came from; ``model.save(dir)`` makes it a bundle ``score`` can use.
    model: Any = field(repr=False, default=None)
    #: ROC and precision-recall curves of the test scores, thinned for plotting.
    curves: RankingCurves | None = field(repr=False, default=None)
    #: The incidents the daily incident queue raised (the enterprise world only),
    #: by day then rank; their ``events`` are positions among the test events.
    incidents: list[Incident] | None = field(repr=False, default=None)

    @property
    def scoring_rows_per_second(self) -> float:
        """Test events scored per second.

        Only the test events are timed: neighbour detectors reuse leave-one-out
        training scores from ``fit``, so counting training rows would flatter them.
        """
        rows = len(self.test_scores)
        return rows / self.score_seconds if self.score_seconds > 0 else math.inf

    def summary(self) -> ModelSummary:
        """The headline numbers of this detector."""
        return ModelSummary(
            detector=self.detector,
            roc_auc=self.metrics.roc_auc,
            pr_auc=self.metrics.pr_auc,
            k=self.metrics.k,
            precision_at_k=self.metrics.precision_at_k,
            recall_by_attack=self.thresholds[COMPARISON_RULE].recall_by_attack,
            fit_seconds=self.fit_seconds,
            score_seconds=self.score_seconds,
            scoring_rows_per_second=self.scoring_rows_per_second,
            **_campaign_summary(self.campaigns),
            false_alerts=operating_false_alerts(
                self.thresholds.get(COMPARISON_RULE), campaign_headline(self.campaigns)
            ),
        )

    def to_dict(self, percentile: float) -> dict[str, Any]:
        """This detector's entry under ``models`` in ``metrics.json``.

        ``percentile`` is recorded beside the rules of :data:`PERCENTILE_RULES`.
        """
        thresholds = {}
        for rule, report in self.thresholds.items():
            block = report.to_dict()
            if rule in PERCENTILE_RULES:
                block["percentile"] = percentile
            thresholds[rule] = block
        return {
            **self.summary().to_dict(),
            "thresholds": thresholds,
            "threshold_sweep": self.sweep.to_dict(orient="records"),
            "permutation_importance": None
            if self.importance is None
            else self.importance.to_dict(orient="records"),
            "feature_correlations": self.correlations.to_dict(),
            "top_explanations": [e.to_dict() for e in self.explanations],
            "feature_set": self.feature_set,
            "feature_cols": list(self.feature_cols),
            "campaigns": None
            if self.campaigns is None
            else {rule: report.to_dict() for rule, report in self.campaigns.items()},
            # Raised incidents without their event lists (a beacon can hold thousands).
            "raised_incidents": None
            if self.incidents is None
            else [{k: v for k, v in i.to_dict().items() if k != "events"} for i in self.incidents],
        }


def _campaign_summary(campaigns: dict[str, CampaignReport] | None) -> dict[str, Any]:
    head = campaign_headline(campaigns)
    if head is None:
        return {}
    return {
        "campaign_recall": head.recall,
        "campaign_median_ttd_hours": head.median_ttd_hours,
        "campaign_recall_by_scenario": {k: g.recall for k, g in head.by_scenario.items()},
    }


#: Columns of :attr:`SeedRun.test_events`: the event's id (its row when the
#: table has no ``event_id``), user and time (missing when the table has none),
#: attack type ("normal" for normal events), and on the enterprise world the
#: campaign and the benign oddity tag (empty otherwise).
TEST_EVENT_COLUMNS = ("event_id", "user", "time", "attack_type", "campaign_id", "benign_tag")


@dataclass(frozen=True)
class SeedRun:
    """One split of the data and every detector's result on it."""

    seed: int
    dataset: DatasetSummary
    y_test: np.ndarray
    attack_types_test: np.ndarray
    test_index: pd.Index
    models: list[ModelResult]
    X_test_df: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    #: Who and when each test event is, in test order (see :data:`TEST_EVENT_COLUMNS`).
    test_events: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


@dataclass(frozen=True)
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
    #: False for the results so far that a run writes as detectors finish
    #: (see :mod:`soc_anomaly.experiment.checkpoint`).
    complete: bool = True

    # The first run's pieces, under the names a single-seed caller expects.
    @property
    def dataset(self) -> DatasetSummary:
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

    def comparison(self) -> list[ComparisonRow]:
        """Per detector, mean and standard deviation over seeds, best PR AUC first."""
        return rank_over_seeds(
            [(m.detector, m.name) for m in self.runs[0].models],
            [[m.summary() for m in run.models] for run in self.runs],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written as ``metrics.json``.

        Besides the settings, data summary, comparison and per-detector
        results, ``complete`` is False in the results so far that a run
        writes as detectors finish (a note says how many it holds), and
        ``skipped_rules`` maps each threshold rule the run had to
        skip to why (today only ``alert_budget``, e.g. when the events have
        no timestamp column); it is empty when every rule ran. Each seed's
        entry under ``seeds`` holds its detectors' headline numbers, the
        precision, recall, F1, TP and FP of every threshold rule and, on the
        enterprise world, each rule's campaign recall, catches, median time to
        detect and false positives, so runs of several seeds can be compared on
        their means (see :func:`soc_anomaly.experiment.run_diff.diff_runs`).
        """
        from soc_anomaly.experiment.run_diff import CAMPAIGN_METRICS, THRESHOLD_METRICS

        budget_reasons = [
            n.removeprefix(BUDGET_SKIPPED) for n in self.notes if n.startswith(BUDGET_SKIPPED)
        ]

        def seed_entry(m: ModelResult) -> dict[str, Any]:
            # What a diff of two runs compares, per seed (the full blocks are
            # kept for the first seed only, under "models").
            entry: dict[str, Any] = m.summary().to_dict()
            entry["thresholds"] = {
                rule: {k: getattr(report, k) for k in THRESHOLD_METRICS}
                for rule, report in m.thresholds.items()
            }
            if m.campaigns is not None:
                entry["campaigns"] = {
                    rule: {
                        **{k: getattr(report, k) for k in CAMPAIGN_METRICS},
                        "by_scenario": {
                            name: {"recall": group.recall}
                            for name, group in report.by_scenario.items()
                        },
                    }
                    for rule, report in m.campaigns.items()
                }
            return entry

        percentile = self.config.threshold_percentile
        return _json_safe(
            {
                "soc_anomaly_version": __version__,
                "complete": self.complete,
                "config": self.config.to_dict(),
                "feature_cols": self.feature_cols,
                "notes": self.notes,
                "skipped_rules": {BUDGET_RULE: "; ".join(budget_reasons)} if budget_reasons else {},
                "dataset": self.dataset.to_dict(),
                "comparison": [row.to_dict() for row in self.comparison()],
                "models": {m.name: m.to_dict(percentile) for m in self.models},
                "seeds": [
                    {
                        "seed": run.seed,
                        "dataset": run.dataset.to_dict(),
                        "models": {m.name: seed_entry(m) for m in run.models},
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
