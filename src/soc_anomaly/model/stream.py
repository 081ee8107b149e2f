"""Score a stream of events chunk by chunk, with the same result as scoring it whole.

:class:`StreamScorer` keeps, between chunks, only what later events' windows
can still reach (:class:`soc_anomaly.features.carry.StreamContext`: about a
day of traffic, each user's last logon and each destination pair's last
connection times), so memory
is bounded by the chunk size and the number of entities, not by the length of
the stream, and the scores, alerts and reasons do not depend on the chunk size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError
from soc_anomaly.features.carry import StreamContext, next_context
from soc_anomaly.features.columns import epoch_ms
from soc_anomaly.model.fitted import AnomalyModel

__all__ = ["StreamScorer"]


class StreamScorer:
    """Score consecutive chunks of one event stream with a fitted model.

    Parameters
    ----------
    model : AnomalyModel
        A fitted model.
    reasons : int, default=5
        At most this many reasons per alert.

    Attributes
    ----------
    history_rows : int
        Events carried to the next chunk (0 for models without windows).

    Examples
    --------
    >>> scorer = StreamScorer(model)  # doctest: +SKIP
    >>> for chunk in chunks:  # doctest: +SKIP
    ...     scored = scorer.score(chunk)
    """

    def __init__(self, model: AnomalyModel, reasons: int = 5) -> None:
        self.model = model
        self.reasons = reasons
        self._context: StreamContext | None = None
        self._latest_ms: int | None = None
        self._seen = 0
        featurizer = getattr(model, "featurizer_", None)
        self._windows = featurizer is not None and hasattr(featurizer, "beacon_intervals")

    def prime(self, context: StreamContext | None) -> None:
        """Start from ``context``: what the stream before this one carried.

        Used to resume a stream, or to score one time partition of a dataset
        with what came before it (:mod:`soc_anomaly.model.dask_engine`).
        """
        if not self._windows or context is None:
            return
        self._context = context
        times = [int(context.beacons.time.max())] if len(context.beacons.time) else []
        if len(context.rows):
            times.append(int(epoch_ms(context.rows["time"]).max()))
        self._latest_ms = max(times) if times else None

    @property
    def context(self) -> StreamContext | None:
        """What is carried into the next chunk."""
        return self._context

    @property
    def history_rows(self) -> int:
        """Events and connection times carried to the next chunk (0 without windows)."""
        return 0 if self._context is None else len(self._context)

    def score(self, events: pd.DataFrame) -> pd.DataFrame:
        """Score the next chunk (see :meth:`AnomalyModel.score` for the columns).

        Raises
        ------
        soc_anomaly.errors.DataError
            If an event of a windowed (entity) model is earlier than an event of
            a previous chunk: the stream must be in time order from chunk to chunk.
        """
        if not self._windows:
            self._seen += len(events)
            return self.model.score(events, reasons=self.reasons)
        if not len(events):
            return self.model.score(events, reasons=self.reasons)
        if "time" in events.columns:
            self._check_order(events)
        out = self.model.score(events, reasons=self.reasons, history=self._context)
        self._context = next_context(self._context, events, self.model.featurizer_.beacon_intervals)
        self._seen += len(events)
        return out

    def _check_order(self, events: pd.DataFrame) -> None:
        ms = epoch_ms(events["time"])
        if self._latest_ms is not None and len(ms):
            early = ms < self._latest_ms
            if early.any():
                row = int(np.flatnonzero(early)[0])
                raise DataError(
                    f"event {self._seen + row + 1} is earlier than an event before it; "
                    "streamed events must be in time order (sort the input by time)"
                )
        if len(ms):
            self._latest_ms = int(ms.max())
