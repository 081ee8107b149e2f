"""Headline numbers of a detector on one split, and their comparison over seeds.

:class:`ModelSummary` is what ``metrics.json`` records per detector and seed;
:func:`rank_over_seeds` turns the summaries of several seeds into the ranked
:class:`ComparisonRow` table of ``detect``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["ComparisonRow", "MeanStd", "ModelSummary", "rank_over_seeds"]


@dataclass(frozen=True)
class ModelSummary:
    """The headline numbers of one detector on one split."""

    detector: str
    roc_auc: float
    pr_auc: float
    k: int
    precision_at_k: float
    recall_by_attack: dict[str, float] | None
    fit_seconds: float
    score_seconds: float
    scoring_rows_per_second: float
    #: Campaign-level headline (enterprise world): the daily alert queue's results.
    campaign_recall: float | None = None
    campaign_median_ttd_hours: float | None = None
    campaign_recall_by_scenario: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The summary as ``metrics.json`` holds it."""
        return asdict(self)


@dataclass(frozen=True)
class MeanStd:
    """Mean and (population) standard deviation of one number over seeds."""

    mean: float
    std: float

    @classmethod
    def of(cls, values: list[float]) -> MeanStd:
        """Summarise ``values``."""
        array = np.array(values, dtype=float)
        return cls(float(array.mean()), float(array.std()))


@dataclass(frozen=True)
class ComparisonRow:
    """One detector in the comparison over seeds; ``rank`` 1 has the best PR AUC."""

    detector: str
    name: str
    pr_auc: MeanStd
    roc_auc: MeanStd
    precision_at_k: MeanStd
    fit_seconds: MeanStd
    scoring_rows_per_second: MeanStd
    recall_by_attack: dict[str, MeanStd]
    rank: int = 0
    #: Campaign recall of the daily alert queue, overall and per scenario (enterprise world).
    campaign_recall: MeanStd | None = None
    campaign_recall_by_scenario: dict[str, MeanStd] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The row as ``metrics.json`` holds it: ``<metric>_mean`` and ``<metric>_std``."""
        row: dict[str, Any] = {"detector": self.detector, "name": self.name}
        for key in (
            "pr_auc",
            "roc_auc",
            "precision_at_k",
            "fit_seconds",
            "scoring_rows_per_second",
        ):
            value: MeanStd = getattr(self, key)
            row[f"{key}_mean"], row[f"{key}_std"] = value.mean, value.std
        row["recall_by_attack_mean"] = {a: v.mean for a, v in self.recall_by_attack.items()}
        row["recall_by_attack_std"] = {a: v.std for a, v in self.recall_by_attack.items()}
        if self.campaign_recall is not None:
            row["campaign_recall_mean"] = self.campaign_recall.mean
            row["campaign_recall_std"] = self.campaign_recall.std
            by = self.campaign_recall_by_scenario
            row["campaign_recall_by_scenario_mean"] = {a: v.mean for a, v in by.items()}
            row["campaign_recall_by_scenario_std"] = {a: v.std for a, v in by.items()}
        row["rank"] = self.rank
        return row


def rank_over_seeds(
    models: list[tuple[str, str]], per_seed: list[list[ModelSummary]]
) -> list[ComparisonRow]:
    """Each detector's mean and standard deviation over seeds, best PR AUC first.

    Parameters
    ----------
    models : list of (detector, name)
        The detectors, in run order.
    per_seed : list of list of ModelSummary
        For each seed, the summary of every detector in the same order.

    Returns
    -------
    list of ComparisonRow
        Best PR AUC first (then ROC AUC, then name); ``rank`` 1 is the best, and
        detectors with equal PR and ROC AUC share a rank.
    """
    rows = []
    for i, (detector, name) in enumerate(models):
        summaries = [seed[i] for seed in per_seed]
        attacks = sorted(summaries[0].recall_by_attack or {})
        rows.append(
            ComparisonRow(
                detector=detector,
                name=name,
                pr_auc=MeanStd.of([s.pr_auc for s in summaries]),
                roc_auc=MeanStd.of([s.roc_auc for s in summaries]),
                precision_at_k=MeanStd.of([s.precision_at_k for s in summaries]),
                fit_seconds=MeanStd.of([s.fit_seconds for s in summaries]),
                scoring_rows_per_second=MeanStd.of([s.scoring_rows_per_second for s in summaries]),
                recall_by_attack={
                    a: MeanStd.of([(s.recall_by_attack or {})[a] for s in summaries])
                    for a in attacks
                },
                **_campaign_comparison(summaries),
            )
        )
    rows.sort(key=lambda r: (-r.pr_auc.mean, -r.roc_auc.mean, r.name))
    # Equal PR and ROC AUC share a rank (1, 1, 3): the name only orders the ties.
    ranked: list[ComparisonRow] = []
    for i, row in enumerate(rows):
        prev = rows[i - 1] if i else None
        tied = prev is not None and (prev.pr_auc.mean, prev.roc_auc.mean) == (
            row.pr_auc.mean,
            row.roc_auc.mean,
        )
        ranked.append(replace(row, rank=ranked[-1].rank if tied else i + 1))
    return ranked


def _campaign_comparison(per_seed: list[ModelSummary]) -> dict[str, Any]:
    """Campaign recall over seeds; a scenario missing from a seed's world is left out of it."""
    if any(s.campaign_recall is None for s in per_seed):
        return {}
    scenarios = sorted({k for s in per_seed for k in s.campaign_recall_by_scenario or {}})
    return {
        "campaign_recall": MeanStd.of([float(s.campaign_recall or 0.0) for s in per_seed]),
        "campaign_recall_by_scenario": {
            k: MeanStd.of(
                [
                    s.campaign_recall_by_scenario[k]
                    for s in per_seed
                    if k in (s.campaign_recall_by_scenario or {})
                ]
            )
            for k in scenarios
        },
    }
