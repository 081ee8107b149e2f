"""What a stream of linked events carries, and the daily queue that raises incidents.

:class:`LinkerState` is the state :class:`~soc_anomaly.incidents.IncidentLinker`
carries from chunk to chunk: the open incidents, the last incident of every
entity, the day reached. :func:`close_day` is the daily queue (see
:mod:`soc_anomaly.incidents.linker` for its rule): it raises a day's top
incidents and retires those that can take no more events.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

import numpy as np

from soc_anomaly.incidents.entities import ENTITY_KINDS
from soc_anomaly.incidents.records import Incident, Tally, empty_entities, narrative

__all__ = ["LinkResult", "LinkedChunk", "LinkerState", "close_day", "open_incident"]

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


@dataclass(slots=True)
class _Open:
    """An incident that may still take events."""

    number: int
    incident_id: str
    first_ms: int
    last_ms: int = 0
    units: dict[tuple[str, str, int], float] = field(default_factory=dict)
    unit_sum: float = 0.0
    unit_max: float = 0.0
    score: float = 0.0
    max_event_score: float = 0.0
    trajectory_ms: list[int] = field(default_factory=list)
    trajectory_score: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    # One ordered set (a dict) of names per kind of ENTITY_KINDS, written out: this runs
    # once per incident.
    entities: dict[str, dict[str, None]] = field(
        default_factory=lambda: {"account": {}, "host": {}, "address": {}, "destination": {}}
    )
    tally: Tally = field(default_factory=Tally)
    active_day: int = -1
    raised_at_ms: int | None = None
    rank: int | None = None

    def record(self) -> Incident:
        names = {k: list(self.entities.get(k, {})) for k in ENTITY_KINDS}
        return Incident(
            incident_id=self.incident_id,
            events=list(self.events),
            entities=names or empty_entities(),
            first_ms=self.first_ms,
            last_ms=self.last_ms,
            score=self.score,
            max_event_score=self.max_event_score,
            raised_at_ms=self.raised_at_ms,
            rank=self.rank,
            techniques=self.tally.techniques(),
            narrative=narrative(self.tally, names, self.first_ms, self.last_ms),
        )


@dataclass
class LinkerState:
    """What a stream carries from one chunk to the next.

    Attributes
    ----------
    per_day : int
        Incidents raised a day.
    rows : int
        Rows seen so far (the next chunk's first row number).
    """

    per_day: int
    rows: int = 0
    day: int | None = None
    open: dict[int, _Open] = field(default_factory=dict)
    last: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    numbers: int = 0
    per_first_day: dict[int, int] = field(default_factory=dict)
    done: list[Incident] = field(default_factory=list)
    raised: int = 0


@dataclass(frozen=True)
class LinkedChunk:
    """One chunk's events as the linker saw them.

    Attributes
    ----------
    incident_ids : numpy.ndarray of object
        The incident of each event; None for an event below the candidate score.
    incident_scores : numpy.ndarray of float
        Its incident's score just after the event joined; NaN for non-candidates.
    closed : list of Incident
        Raised incidents that can take no more events, in the order they closed.
    """

    incident_ids: np.ndarray
    incident_scores: np.ndarray
    closed: list[Incident]


@dataclass(frozen=True)
class LinkResult:
    """Incidents of a whole set of events (:meth:`IncidentLinker.run`).

    Attributes
    ----------
    incident_ids, incident_scores : numpy.ndarray
        As in :class:`LinkedChunk`, for every event.
    raised : list of Incident
        Every raised incident, by the day it was raised, then rank.
    per_day : int
        The daily budget the queue used.
    """

    incident_ids: np.ndarray
    incident_scores: np.ndarray
    raised: list[Incident]
    per_day: int


def open_incident(state: LinkerState, t: int) -> _Open:
    """A new incident, first event at ``t`` (epoch ms), numbered in its first day."""
    day = t // _DAY_MS
    seq = state.per_first_day.get(day, 0) + 1
    state.per_first_day[day] = seq
    stamp = time.strftime("%Y%m%d", time.gmtime(day * 86_400))
    inc = _Open(number=state.numbers, incident_id=f"INC-{stamp}-{seq:04d}", first_ms=t)
    state.numbers += 1
    state.open[inc.number] = inc
    return inc


def close_day(
    state: LinkerState,
    day: int,
    next_day_ms: int | None,
    span_hours: float,
    window_hours: float,
) -> None:
    """Raise ``day``'s top incidents, then retire what can take no more events.

    ``next_day_ms`` is the start of the next day with an event (None at the end
    of the stream, which retires every incident).
    """
    eligible = [i for i in state.open.values() if i.active_day == day and i.raised_at_ms is None]
    eligible.sort(key=lambda i: (-i.score, i.first_ms, i.number))
    top = eligible[: state.per_day]
    if top:
        cut = top[-1].score
        for rank, inc in enumerate(top, start=1):
            # Scores only grow, so the first one at the cut is when it got there.
            k = bisect.bisect_left(inc.trajectory_score, cut)
            inc.raised_at_ms = max(
                inc.trajectory_ms[min(k, len(inc.trajectory_ms) - 1)], day * _DAY_MS
            )
            inc.rank = rank
        state.raised += len(top)
    span = span_hours * _HOUR_MS
    window = window_hours * _HOUR_MS
    for number in list(state.open):
        inc = state.open[number]
        if next_day_ms is None or next_day_ms - inc.first_ms > span:
            del state.open[number]
            if inc.raised_at_ms is not None:
                state.done.append(inc.record())
    if next_day_ms is not None:
        stale = [k for k, (_, t) in state.last.items() if next_day_ms - t > window]
        for k in stale:
            del state.last[k]
