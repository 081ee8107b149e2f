"""What a detection run computed: per detector, per seed, and for the whole run.

:meth:`DetectionResult.to_dict` is the JSON document written as
``metrics.json`` and stored by :func:`soc_anomaly.experiment.saved_runs.save_run`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly import __version__
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.experiment.config import DetectConfig

__all__ = [
    "COMPARISON_RULE",
    "TEST_RULE",
    "TRAIN_RULE",
    "DetectionResult",
    "ModelResult",
    "SeedRun",
]

#: Keys of the two percentile threshold rules in results and ``metrics.json``
#: (the threshold lab's rule names).
TEST_RULE = "evaluated_percentile"
TRAIN_RULE = "normal_percentile"
#: The rule whose per-attack recall the comparison table reports: the one an
#: analyst can set before seeing any attack.
COMPARISON_RULE = TRAIN_RULE


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
