"""Headline numbers of a detector on one split, and their comparison over seeds.

:class:`ModelSummary` is what ``metrics.json`` records per detector and seed;
:func:`rank_over_seeds` turns the summaries of several seeds into the ranked
:class:`ComparisonRow` table of ``detect``.

The ranking compares PR AUC as the reports show it (:data:`RANK_DIGITS`
decimals): a difference nobody can see decides nothing. Detectors that show
the same PR AUC are ranked by fewer false alerts at the operating point (see
:func:`operating_false_alerts`), then by name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from soc_anomaly.evaluation.campaigns import CampaignReport
from soc_anomaly.evaluation.threshold_lab import ThresholdReport

__all__ = [
    "RANK_DIGITS",
    "ComparisonRow",
    "MeanStd",
    "ModelSummary",
    "operating_false_alerts",
    "rank_over_seeds",
    "shown_pr_auc",
]

#: Decimals of the PR AUC in every report, and so in the ranking.
RANK_DIGITS = 3


def shown_pr_auc(value: float) -> str:
    """The PR AUC as the reports print it (:data:`RANK_DIGITS` decimals)."""
    return f"{value:.{RANK_DIGITS}f}"


def operating_false_alerts(
    threshold: ThresholdReport | None, campaigns: CampaignReport | None
) -> int | None:
    """False alerts at the operating point, the ranking's tie-break.

    Parameters
    ----------
    threshold : ThresholdReport or None
        The detector at the percentile of normal training scores, where every
        alerting event is one alert.
    campaigns : CampaignReport or None
        The campaign headline (the daily alert queue on the enterprise world).

    Returns
    -------
    int or None
        The queue's alerts holding no attack event when there is a campaign
        headline that counts them, else the false positives at ``threshold``;
        None when neither is known.
    """
    if campaigns is not None and campaigns.false_alerts is not None:
        return campaigns.false_alerts
    return None if threshold is None else threshold.fp


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
    #: False alerts at the operating point (see :func:`operating_false_alerts`).
    false_alerts: int | None = None

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
    """One detector in the comparison over seeds; ``rank`` 1 comes first.

    ``rank`` orders by PR AUC as shown, then by fewer false alerts (see
    :func:`rank_over_seeds`).
    """

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
    #: False alerts at the operating point over seeds; None when not known.
    false_alerts: MeanStd | None = None

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
        if self.false_alerts is not None:
            row["false_alerts_mean"] = self.false_alerts.mean
            row["false_alerts_std"] = self.false_alerts.std
        row["rank"] = self.rank
        return row


def rank_over_seeds(
    models: list[tuple[str, str]], per_seed: list[list[ModelSummary]]
) -> list[ComparisonRow]:
    """Each detector's mean and standard deviation over seeds, ranked.

    Parameters
    ----------
    models : list of (detector, name)
        The detectors, in run order.
    per_seed : list of list of ModelSummary
        For each seed, the summary of every detector in the same order.

    Returns
    -------
    list of ComparisonRow
        On a world with campaigns, most campaigns caught in the headline queue
        (the incident queue) first; then best mean PR AUC at :data:`RANK_DIGITS`
        decimals (values that print the same are tied, so 0.9999999 ties with 1.0); among those,
        fewer mean false alerts first (unknown last), then by name. ``rank`` 1
        is the best; detectors equal on both PR AUC as shown and false alerts
        share a rank (1, 1, 3), the name only ordering them.
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
                false_alerts=None
                if any(s.false_alerts is None for s in summaries)
                else MeanStd.of([float(s.false_alerts or 0) for s in summaries]),
            )
        )
    rows.sort(key=lambda r: (*_rank_key(r), r.name))
    ranked: list[ComparisonRow] = []
    for i, row in enumerate(rows):
        tied = i > 0 and _rank_key(rows[i - 1]) == _rank_key(row)
        ranked.append(replace(row, rank=ranked[-1].rank if tied else i + 1))
    return ranked


def _rank_key(row: ComparisonRow) -> tuple[float, float, float]:
    """Campaigns caught in the headline queue (more first; only on a world with
    campaigns), PR AUC as shown (higher first), then false alerts (fewer first,
    unknown last)."""
    shown = float(shown_pr_auc(row.pr_auc.mean))
    # An undefined PR AUC (no attack among the evaluated events) ranks last.
    best_first = np.inf if np.isnan(shown) else -shown
    # Recall as a count of campaigns would differ by seed; the mean recall rounded to
    # 1e-9 keeps float noise from splitting a tie.
    caught = 0.0 if row.campaign_recall is None else -round(row.campaign_recall.mean, 9)
    return caught, best_first, np.inf if row.false_alerts is None else row.false_alerts.mean


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
