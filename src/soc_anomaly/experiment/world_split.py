"""The enterprise world ready for a run: its featurised split, and what evaluation needs.

:class:`WorldSplit` holds the world's events, their features and the time cut
(built by :func:`~soc_anomaly.experiment.enterprise.build_world_table`);
:class:`WorldEvaluation` carries the evaluated events' times, campaigns, tags
and accounts to the campaign-level evaluation and the explanations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.split import TrainTestSplit
from soc_anomaly.evaluation.alert_queue import QUEUE_RULE, queue_report
from soc_anomaly.evaluation.campaigns import CampaignReport, campaign_lab
from soc_anomaly.evaluation.explain import Explanation
from soc_anomaly.evaluation.incident_queue import INCIDENT_RULE, incident_queue_report
from soc_anomaly.experiment.enterprise import WorldData, WorldTable, build_world_table
from soc_anomaly.incidents import IncidentLinker, LinkResult

__all__ = ["WorldEvaluation", "WorldSplit"]


@dataclass(frozen=True)
class WorldEvaluation:
    """What the evaluated events of the world need besides labels and scores.

    Attributes
    ----------
    times, campaign_ids, benign_tags : numpy.ndarray
        Of each evaluated event, in the split's test order.
    labels : numpy.ndarray
        0/1 label of each evaluated event.
    campaigns : pandas.DataFrame or None
        The campaign manifest.
    days : float
        Length of the evaluated period in days.
    events : pandas.DataFrame
        The raw events (every event: explanations look back at a user's history).
    features : pandas.DataFrame
        The featurised table, indexed like ``events``.
    entity : object or None
        The fitted :class:`~soc_anomaly.features.EntityFeatures`, when computed.
    users : numpy.ndarray
        Account of each evaluated event: the entity of the daily queue's alerts.
    alerts_per_day : float or None
        Capacity of the daily queue (the organisation's alert budget); None skips it.
    linker : IncidentLinker or None
        Fitted on the training window's normal events: links the evaluated
        events into incidents (the headline queue); None skips it.
    """

    times: np.ndarray
    labels: np.ndarray
    campaign_ids: np.ndarray
    benign_tags: np.ndarray
    campaigns: pd.DataFrame | None
    days: float
    events: pd.DataFrame
    features: pd.DataFrame
    entity: Any
    users: np.ndarray
    alerts_per_day: float | None
    linker: IncidentLinker | None = None
    test_index: pd.Index | None = None

    def incidents(self, calibrated: np.ndarray) -> LinkResult | None:
        """The evaluated events linked into incidents by their calibrated scores."""
        if self.linker is None or self.test_index is None:
            return None
        return self.linker.run(self.events.loc[self.test_index], calibrated)

    def campaign_lab(
        self,
        scores: np.ndarray,
        thresholds: dict[str, float],
        incidents: LinkResult | None = None,
    ) -> dict[str, CampaignReport]:
        """Campaign-level results of ``scores``: the incident queue, the daily event
        queue, then each rule's threshold.

        The incident queue
        (:func:`~soc_anomaly.evaluation.incident_queue.incident_queue_report`)
        evaluates ``incidents`` (:meth:`incidents` of the calibrated scores); the
        event queue (:func:`~soc_anomaly.evaluation.alert_queue.queue_report`)
        raises ``alerts_per_day`` alerts a day, one per user and hour; it is
        skipped when there is no budget.
        """
        truth = {
            "times": self.times,
            "labels": self.labels,
            "campaign_ids": self.campaign_ids,
            "benign_tags": self.benign_tags,
            "campaigns": self.campaigns,
            "days": self.days,
        }
        out: dict[str, CampaignReport] = {}
        if incidents is not None:
            out[INCIDENT_RULE] = incident_queue_report(
                incidents.raised, incidents.incident_ids, **truth
            )
        if self.alerts_per_day is not None:
            out[QUEUE_RULE] = queue_report(
                scores, entities=self.users, per_day=self.alerts_per_day, **truth
            )
        out.update(campaign_lab(scores, thresholds, **truth))
        return out

    def explain_top(
        self,
        X_test_df: pd.DataFrame,
        y_test: np.ndarray,
        scores: np.ndarray,
        top_m: int,
        order: np.ndarray | None = None,
        read: list[str] | None = None,
    ) -> list[Explanation]:
        """The ``top_m`` highest-scoring events (or the first ``top_m`` of ``order``,
        positions of the events to explain), each explained against its user's baseline
        by the features ``read`` (default: all).

        The sentences come from the per-entity features, furthest from the
        user's own baseline first; ``zscores`` holds each listed feature's
        deviation.
        """
        if order is None:
            order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
        order = order[:top_m]
        rows = X_test_df.index[order]
        cols = list(self.entity.get_feature_names_out())
        keep = set(cols if read is None else read)
        sentences = self.entity.explain(
            self.events.loc[rows],
            self.features.loc[rows, cols],
            top=5 + len(cols) - len(keep & set(cols)),
            history=self.events,
        )
        sentences = [[s for s in said if s.feature in keep][:5] for said in sentences]
        return [
            Explanation(
                index=row,
                true_label=int(y_test[i]),
                score=float(scores[i]),
                explanations=[s.text for s in said],
                zscores={s.feature: float(s.deviation) for s in said},
            )
            for i, row, said in zip(order, rows, sentences, strict=True)
        ]


@dataclass(frozen=True)
class WorldSplit:
    """The world's events, their features and the time cut, ready for a run."""

    data: WorldData
    table: WorldTable
    n_staff: int

    @classmethod
    def build(
        cls,
        data: WorldData,
        features: str,
        lstm_seed: int | None = None,
        drop: tuple[str, ...] = (),
    ) -> WorldSplit:
        """Featurise ``data`` with the sets of ``features`` (see :func:`build_world_table`)."""
        table, n_staff = build_world_table(data, features, lstm_seed, drop)
        return cls(data, table, n_staff)

    @property
    def feature_cols(self) -> list[str]:
        """Every feature set's columns, then the columns only a detector reads, in table order."""
        cols = [c for cols in self.table.feature_sets.values() for c in cols]
        extra = [c for cols, _ in self.table.detector_inputs.values() for c in cols]
        return list(dict.fromkeys([*cols, *extra]))

    def alerts_per_day(self, per_500_staff: float | None) -> float | None:
        """The organisation's daily alert budget: ``per_500_staff`` scaled to its size."""
        if per_500_staff is None:
            return None
        return per_500_staff * max(self.n_staff, 1) / 500.0

    def events_per_day(self, split: TrainTestSplit) -> float:
        """Evaluated events a day."""
        return len(split.y_test) / self.table.evaluated_days

    def linker(self, incidents_per_day: float) -> IncidentLinker:
        """An incident linker fitted on the training window's normal events."""
        events = self.data.events.loc[self.table.train_mask]
        if "label" in events.columns:
            events = events.loc[events["label"].to_numpy() == 0]
        return IncidentLinker(incidents_per_day=incidents_per_day).fit(events, self.n_staff)

    def evaluation(
        self,
        split: TrainTestSplit,
        alerts_per_day: float | None,
        incidents_per_day: float | None = None,
    ) -> WorldEvaluation:
        """The evaluated events' times, campaigns and tags, in the split's test order;
        with ``incidents_per_day`` (per 500 staff), the linker of the incident queue."""
        test = self.table.table.loc[split.test_index]
        # datetime64 in UTC: a zoned column's to_numpy() is an object array of Timestamps,
        # slow to build and slower to read back on every rule's campaign results.
        stamps = pd.DatetimeIndex(test["time"])
        if stamps.tz is not None:
            stamps = stamps.tz_convert("UTC").tz_localize(None)
        return WorldEvaluation(
            times=stamps.to_numpy(),
            labels=split.y_test,
            campaign_ids=test["campaign_id"].to_numpy(),
            benign_tags=test["benign_tag"].to_numpy(),
            campaigns=self.data.campaigns,
            days=self.table.evaluated_days,
            events=self.data.events,
            features=self.table.table,
            entity=self.table.transformers.get("entity"),
            users=self.data.events.loc[split.test_index, "user"].astype(str).to_numpy(),
            alerts_per_day=alerts_per_day,
            linker=None if incidents_per_day is None else self.linker(incidents_per_day),
            test_index=split.test_index,
        )
