"""Candidate events linked into incidents, and each day's incidents raised up to the budget.

An analyst triages incidents, not events: a spray over 150 accounts is one
attack, and a subtle campaign is several mildly unusual events that only add
up together. :class:`IncidentLinker` turns scored events into incidents:

**Candidates.** An event whose calibrated score (0-100) is at least
``candidate_score`` (97 by default, below the usual alert threshold of 99) is a
candidate: weak evidence that may add up with other events.

**Linking.** A candidate joins an open incident when it shares an entity with
that incident's last event of that entity (source host, source address,
account, destination; in that order of preference, see
:data:`~soc_anomaly.incidents.entities.LINK_ORDER`) within ``window_hours``,
and the incident began at most ``span_hours`` before; else it opens a new
incident. Links are transitive: a chain of events each sharing something with
the one before stays one incident (an attacker's address, then the account it
took over, then the host that account used). Common entities (the single
sign-on service, an office's NAT egress, the VPN: see
:func:`~soc_anomaly.incidents.entities.common_entities`) never link. An
event that could join two open incidents joins the first in that order of
preference instead of merging them: two attacks that touch one victim account
stay two incidents. A failed logon links through its source (and a rare
destination) but not through the account it tried: the account is the victim,
and unrelated attackers (a stuffing botnet, a sprayer) can try one account on
the same day; a successful logon, or a connection, links through its account.

**Score.** Each candidate's evidence is how far into the tail of normal
training scores it lies, beyond the candidate level:
``e = -log10(1 - s / 100) - (-log10(1 - c / 100))`` for calibrated score
``s`` and candidate score ``c`` (``1 - s / 100`` floored at 1e-12), so a score
of 99 adds 0.48 over a candidate level of 97, and 99.99 adds 2.48. A *unit* is one
principal (the account, or the source endpoint of a flow without one) in one
clock hour, and holds its best evidence. The incident's score is

    S = e_max + tail_weight * (sum of its units' evidence - e_max)

with ``e_max`` its best unit: one extreme event counts in full, and every
further principal-hour of weak evidence adds a quarter of its own (by
default), so breadth and persistence add up without letting a busy account's
many near-misses outrank one event far in the tail.

**The daily queue.** The analysts handle ``incidents_per_day`` incidents a day
per 500 staff (scaled to the staff of the training window). When a UTC day
ends, the day's incidents that had an event that day and were not raised
before are ranked by score (ties by first event, then number) and the top
ones up to the budget are raised; an incident raised once spends no budget
again however many events join it later. An incident's ``raised_at`` is the
moment its score first reached the lowest raised score of that day (not before
the day began): when the evidence that raised it was there.

Everything is causal and keyed by event order, so a stream gives the same
incidents whatever its chunk size (:meth:`IncidentLinker.link` carries a
:class:`LinkerState`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from soc_anomaly.errors import DataError, ParameterError, check_range
from soc_anomaly.incidents.entities import (
    ENTITY_KINDS,
    LINK_ORDER,
    common_entities,
    event_entities,
    principals,
)
from soc_anomaly.incidents.queue import (
    LinkedChunk,
    LinkerState,
    LinkResult,
    close_day,
    open_incident,
)
from soc_anomaly.incidents.reading import column_values, event_ms, no_cyclic_gc
from soc_anomaly.incidents.records import TALLY_COLUMNS, Incident

__all__ = ["IncidentLinker", "LinkResult", "LinkedChunk", "LinkerState"]

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
_FLOOR = 1e-12
_AUTH = 3002  # OCSF Authentication


def evidence(scores: np.ndarray, candidate_score: float) -> np.ndarray:
    """Each calibrated score's evidence beyond the candidate level (see the module)."""
    s = np.asarray(scores, dtype=float)
    level = -math.log10(1.0 - candidate_score / 100.0)
    return -np.log10(np.maximum(1.0 - s / 100.0, _FLOOR)) - level


class IncidentLinker(BaseEstimator):
    """Links candidate events into incidents and raises a daily budget of them.

    See :mod:`soc_anomaly.incidents.linker` for the rules and the score.

    Parameters
    ----------
    candidate_score : float, default=97.0
        Least calibrated score (0-100) of an event that can join an incident.
    window_hours : float, default=24.0
        Longest gap between two events linked through one entity.
    span_hours : float, default=24.0
        Longest time from an incident's first event to one that joins it.
    common_share : float, default=0.01
        Share of the training principals above which an entity is common and
        links nothing (:func:`~soc_anomaly.incidents.entities.common_entities`).
    tail_weight : float, default=0.25
        Weight of the evidence beyond an incident's best unit, in [0, 1].
    incidents_per_day : float, default=10.0
        Incidents the analysts handle a day per 500 staff.

    Attributes
    ----------
    common_ : dict of str to list of str
        The common entities of each kind, learned by :meth:`fit`.
    n_staff_ : int
        Accounts with a successful logon in the training events (their
        principals when none names an account): the organisation's size.
    """

    def __init__(
        self,
        candidate_score: float = 97.0,
        window_hours: float = 24.0,
        span_hours: float = 24.0,
        common_share: float = 0.01,
        tail_weight: float = 0.25,
        incidents_per_day: float = 10.0,
    ) -> None:
        self.candidate_score = candidate_score
        self.window_hours = window_hours
        self.span_hours = span_hours
        self.common_share = common_share
        self.tail_weight = tail_weight
        self.incidents_per_day = incidents_per_day

    def check_params(self) -> None:
        """Raise a one-line :class:`ParameterError` naming a bad parameter."""
        check_range("candidate score", self.candidate_score, 0.0, 100.0)
        for name in ("window_hours", "span_hours", "incidents_per_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ParameterError(
                    f"{name.replace('_', ' ')} must be a positive number, got {value!r}"
                )
            if not math.isfinite(value):
                raise ParameterError(f"{name.replace('_', ' ')} must be finite, got {value!r}")
        check_range("common share", self.common_share, 0.0, 1.0, high_inclusive=True)
        check_range(
            "tail weight", self.tail_weight, 0.0, 1.0, low_inclusive=True, high_inclusive=True
        )

    def fit(self, events: pd.DataFrame, n_staff: int | None = None) -> IncidentLinker:
        """Learn the common entities and the organisation's size from training events.

        Parameters
        ----------
        events : pandas.DataFrame
            The training window's normal raw events.
        n_staff : int, optional
            Staff accounts; default: the accounts with a successful logon in
            ``events`` (their principals when no event names an account).

        Returns
        -------
        IncidentLinker
            This linker.
        """
        self.check_params()
        self.common_ = common_entities(events, self.common_share)
        if n_staff is None:
            ents = event_entities(events)
            ok = (
                events["status"].astype(str).to_numpy() == "Success"
                if "status" in events.columns
                else np.ones(len(events), dtype=bool)
            )
            accounts = ents["account"][ok & ~np.equal(ents["account"], None)]
            if accounts.size:
                n_staff = len(set(accounts.tolist()))
            else:
                _, names = principals(ents)
                n_staff = len(set(names[~np.equal(names, None)].tolist()))
        self.n_staff_ = max(int(n_staff), 1)
        return self

    def per_day(self, incidents_per_day: float | None = None) -> int:
        """Incidents raised a day: ``incidents_per_day`` per 500 staff, at least one.

        Parameters
        ----------
        incidents_per_day : float, optional
            Per 500 staff; default the linker's own.
        """
        rate = self.incidents_per_day if incidents_per_day is None else incidents_per_day
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise ParameterError(f"incidents per day must be a positive number, got {rate!r}")
        if not math.isfinite(rate):
            raise ParameterError(f"incidents per day must be finite, got {rate!r}")
        return max(int(rate * self.n_staff_ / 500.0), 1)

    def start(self, incidents_per_day: float | None = None) -> LinkerState:
        """A fresh stream's state; ``incidents_per_day`` (per 500 staff) overrides the linker's."""
        if not hasattr(self, "common_"):
            raise ParameterError("the incident linker is not fitted; call fit() first")
        self.check_params()  # parameters may have been set since fit()
        return LinkerState(per_day=self.per_day(incidents_per_day))

    # -- the stream -------------------------------------------------------------------------

    def link(self, events: pd.DataFrame, scores: Any, state: LinkerState) -> LinkedChunk:
        """Link one chunk of time-ordered events, carrying ``state`` to the next.

        Parameters
        ----------
        events : pandas.DataFrame
            Raw events, in time order and after those of earlier chunks.
        scores : array-like of shape (n,)
            Their calibrated scores (0-100).
        state : LinkerState
            From :meth:`start`, then from the previous chunk (updated in place).

        Returns
        -------
        LinkedChunk
        """
        s = np.asarray(scores, dtype=float).ravel()
        if s.size != len(events):
            raise ParameterError(f"{s.size} scores for {len(events)} events; expected one each")
        n = len(events)
        ids = np.full(n, None, dtype=object)
        inc_scores = np.full(n, np.nan)
        first_row = state.rows
        state.rows += n
        cand = np.flatnonzero(s >= self.candidate_score)
        closed_before = len(state.done)
        if cand.size:
            with no_cyclic_gc():
                self._link_candidates(
                    events.iloc[cand], s[cand], cand, first_row, state, ids, inc_scores
                )
        return LinkedChunk(ids, inc_scores, state.done[closed_before:])

    def finish(self, state: LinkerState) -> list[Incident]:
        """End the stream: close its last day and every open incident.

        Returns
        -------
        list of Incident
            The raised incidents closed by the end (those not yet returned by :meth:`link`).
        """
        before = len(state.done)
        if state.day is not None:
            close_day(state, state.day, None, self.span_hours, self.window_hours)
        return state.done[before:]

    def run(
        self, events: pd.DataFrame, scores: Any, incidents_per_day: float | None = None
    ) -> LinkResult:
        """Link a whole set of time-ordered events at once (one chunk, then the end).

        Returns
        -------
        LinkResult
        """
        state = self.start(incidents_per_day)
        chunk = self.link(events, scores, state)
        self.finish(state)
        raised = sorted(state.done, key=lambda i: (i.raised_at_ms // _DAY_MS, i.rank))
        return LinkResult(chunk.incident_ids, chunk.incident_scores, raised, state.per_day)

    def _link_candidates(
        self,
        events: pd.DataFrame,
        s: np.ndarray,
        positions: np.ndarray,
        first_row: int,
        state: LinkerState,
        ids: np.ndarray,
        inc_scores: np.ndarray,
    ) -> None:
        ms = event_ms(events)
        ents = event_entities(events)
        p_kind, p_name = principals(ents)
        ev = evidence(s, self.candidate_score).tolist()
        cols = {c: column_values(events, c) for c in TALLY_COLUMNS}
        rows = list(zip(*cols.values(), strict=True))
        common = {k: frozenset(v) for k, v in self.common_.items()}
        window, span = self.window_hours * _HOUR_MS, self.span_hours * _HOUR_MS
        w = float(self.tail_weight)
        lists = {k: ents[k].tolist() for k in ENTITY_KINDS}
        named = [(kind, lists[kind]) for kind in ENTITY_KINDS]
        # Each candidate's link keys, (kind, name) in LINK_ORDER, built column by column:
        # no common entity, and not the account a failed logon tried.
        failed = np.array(
            [
                c == _AUTH and st == "Failure"
                for c, st in zip(cols["class_uid"], cols["status"], strict=True)
            ],
            dtype=bool,
        )
        columns = []
        for kind in LINK_ORDER:
            names = ents[kind].copy()
            drop = np.equal(names, None) | pd.Series(names).isin(common.get(kind, ())).to_numpy()
            if kind == "account":
                drop |= failed
            names[drop] = None
            columns.append(names.tolist())
        link_keys = [
            [(k, n) for k, n in zip(LINK_ORDER, row, strict=True) if n is not None]
            for row in zip(*columns, strict=True)
        ]
        units = list(
            zip(
                [k or "" for k in p_kind.tolist()],
                [n or "" for n in p_name.tolist()],
                (ms // _HOUR_MS).tolist(),
                strict=True,
            )
        )
        ms_list, s_list = ms.tolist(), s.tolist()
        last, open_ = state.last, state.open
        joined_ids: list[str] = []
        joined_scores: list[float] = []
        for j, pos in enumerate(positions.tolist()):
            t = ms_list[j]
            day = t // _DAY_MS
            if state.day is None:
                state.day = day
            elif day < state.day:
                # Checked per candidate, not per chunk, so that one chunk refuses what the
                # same events in chunks of one would (the earlier day is already closed).
                raise DataError(
                    f"the event at row {first_row + pos} goes back to an earlier day than "
                    "the stream had reached; expected events in time order"
                )
            elif day != state.day:
                close_day(state, state.day, day * _DAY_MS, self.span_hours, self.window_hours)
                state.day = day
            keys = link_keys[j]
            inc = None
            for key in keys:
                seen = last.get(key)
                if seen is None or t - seen[1] > window:
                    continue
                cand = open_.get(seen[0])
                if cand is not None and t - cand.first_ms <= span:
                    inc = cand
                    break
            if inc is None:
                inc = open_incident(state, t)
            unit = units[j]
            e = ev[j]
            held = inc.units.get(unit)
            if held is None or e > held:
                inc.unit_sum += e - (held or 0.0)
                inc.units[unit] = e
                inc.unit_max = max(inc.unit_max, e)
            inc.score = inc.unit_max + w * (inc.unit_sum - inc.unit_max)
            inc.max_event_score = max(inc.max_event_score, s_list[j])
            inc.last_ms = t
            inc.active_day = day
            inc.trajectory_ms.append(t)
            inc.trajectory_score.append(inc.score)
            inc.events.append(first_row + pos)
            entities = inc.entities
            for kind, names in named:
                name = names[j]
                if name is not None:
                    entities[kind][name] = None
            inc.tally.add(rows[j])
            link = (inc.number, t)
            for key in keys:
                last[key] = link
            joined_ids.append(inc.incident_id)
            joined_scores.append(inc.score)
        ids[positions] = joined_ids
        inc_scores[positions] = joined_scores
