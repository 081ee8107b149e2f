"""Score a stream of events chunk by chunk, with the same result as scoring it whole.

:class:`StreamScorer` keeps, between chunks, only what later events' windows
can still reach (:class:`soc_anomaly.features.carry.StreamContext`: about a
day of traffic, each user's last logon and each destination pair's last
connection times), so memory
is bounded by the chunk size and the number of entities, not by the length of
the stream, and the scores, alerts and reasons do not depend on the chunk size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError
from soc_anomaly.features.beacons import NO_TIME
from soc_anomaly.features.carry import StreamContext, next_context
from soc_anomaly.features.columns import epoch_ms
from soc_anomaly.model.chunks import complete_raw_events
from soc_anomaly.model.fitted import AnomalyModel, PreparedChunk

__all__ = ["StreamScorer", "history_context", "worked_in_order"]


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
        self._primed_ms: int | None = None
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
        stamps = context.beacons.times[context.beacons.times != NO_TIME]
        times = [int(stamps.max())] if len(stamps) else []
        if len(context.rows):
            times.append(int(epoch_ms(context.rows["time"]).max()))
        self._latest_ms = self._primed_ms = max(times) if times else None

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
        return self.model.finish_chunk(self.prepare(events), reasons=self.reasons)

    def prepare(self, events: pd.DataFrame) -> PreparedChunk:
        """The sequential half of :meth:`score`: check the order, featurise, carry on.

        :meth:`AnomalyModel.finish_chunk` completes it; :meth:`score_chunks`
        runs the two halves of consecutive chunks at the same time.
        """
        if self._windows and len(events) and "time" in events.columns:
            self._check_order(events)
        prepared = self.model.prepare_chunk(events, self._context)
        if self._windows and len(events):
            self._context = prepared.next_context
        self._seen += len(events)
        return prepared

    def score_chunks(
        self, chunks: Iterable[pd.DataFrame]
    ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """Score consecutive chunks, reading and featurising each next one meanwhile.

        Yields ``(events, scored)`` per chunk, in order (``events`` as given,
        without the columns scoring adds as unknown). Reading and featurising
        are sequential (each chunk needs the state the previous one left); the
        detector's scores and the reasons of a chunk need only the chunk, so
        they run while the next chunk is read and featurised in a second
        thread: the two halves use both cores where one would wait.
        """
        source = iter(chunks)

        def step() -> tuple[pd.DataFrame, PreparedChunk] | None:
            events = next(source, None)
            return None if events is None else (events, self.prepare(events))

        pool = ThreadPoolExecutor(1)
        finished = False
        try:
            ahead = pool.submit(step)
            while True:
                step_result = ahead.result()
                if step_result is None:
                    finished = True
                    return
                given, prepared = step_result
                ahead = pool.submit(step)
                # Featurising takes a core: the scores use the others until it is done.
                core_free = threading.Event()
                ahead.add_done_callback(lambda _, free=core_free: free.set())
                try:
                    yield (
                        given,
                        self.model.finish_chunk(
                            prepared, reasons=self.reasons, core_free=core_free
                        ),
                    )
                except BaseException:
                    ahead.cancel()
                    raise
        finally:
            # Interrupted or failed: do not wait for the read-ahead, which may be
            # blocked reading a pipe that stays open (the command exits without it).
            pool.shutdown(wait=finished, cancel_futures=True)

    def _check_order(self, events: pd.DataFrame) -> None:
        ms = epoch_ms(events["time"])
        if self._latest_ms is not None and len(ms):
            early = ms < self._latest_ms
            if early.any():
                row = int(np.flatnonzero(early)[0])
                if self._latest_ms == self._primed_ms:
                    last = pd.Timestamp(self._latest_ms, unit="ms", tz="UTC").isoformat()
                    raise DataError(
                        f"event {self._seen + row + 1} is earlier than the end of the history "
                        f"before the stream ({last}); expected events after the history"
                    )
                raise DataError(
                    f"event {self._seen + row + 1} is earlier than an event before it; "
                    "streamed events must be in time order (sort the input by time)"
                )
        if len(ms):
            self._latest_ms = int(ms.max())


def history_context(model: AnomalyModel, chunks: Iterable[pd.DataFrame]) -> StreamContext | None:
    """What a stream carries after ``chunks``: events before those scored, not scored.

    The streaming form of :meth:`AnomalyModel.score`'s ``history``: the entity
    features' windows (failures over 24 hours, the previous logon, ...) read
    these events. :meth:`StreamScorer.prime` starts a stream from the result.

    Parameters
    ----------
    model : AnomalyModel
        A fitted model.
    chunks : iterable of pandas.DataFrame
        The history's raw events, in time order from chunk to chunk.

    Returns
    -------
    StreamContext or None
        None for ``seed`` and ``table`` models, whose features are per event
        (the history is not read then), or for a history without events.
    """
    featurizer = getattr(model, "featurizer_", None)
    if featurizer is None or not hasattr(featurizer, "beacon_intervals"):
        return None
    context: StreamContext | None = None
    for events in chunks:
        if len(events):
            raw = complete_raw_events(events)
            context = next_context(context, raw, featurizer)
    return context


def worked_in_order(
    results: Iterable[tuple[pd.DataFrame, pd.DataFrame]],
    work: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame],
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """``(events, work(events, scored))`` of each chunk of ``results``, in order.

    ``work`` (e.g. linking a chunk into incidents: sequential Python work whose state
    passes from chunk to chunk) runs in its own thread while the caller writes the
    chunk before and the next one is scored, which releases the GIL for the detector's
    compiled pass: on the 10M-event benchmark this hides most of the linking instead
    of adding it.
    """
    pool = ThreadPoolExecutor(1)
    waiting: tuple[pd.DataFrame, Future[pd.DataFrame]] | None = None
    try:
        for events, scored in results:
            done = pool.submit(work, events, scored)
            if waiting is not None:
                yield waiting[0], waiting[1].result()
            waiting = (events, done)
        if waiting is not None:
            yield waiting[0], waiting[1].result()
    finally:
        # At most one chunk is being worked on: waiting for it bounds the clean-up.
        pool.shutdown(wait=True, cancel_futures=True)
