"""A next-action n-gram model per entity, backed off to the population (numpy only).

The probability of an action ``a`` after the entity's last actions ``h`` is
built up from the shortest context to the longest, each level smoothed
towards the one before it by Witten-Bell interpolation::

    p_0(a)      = (c(a) + T_0 / V) / (N + T_0)
    p_n(a | h)  = (c(h_n a) + T(h_n) p_(n-1)(a | h)) / (c(h_n) + T(h_n))

where ``h_n`` is the last ``n`` actions, ``c`` counts training events, ``T``
is the number of distinct actions seen after a context and ``V`` the number of
actions. The population's levels run from order 0 to ``order``; the entity's
own levels (its counts alone) then run from order 1 to ``order`` on top of the
population's longest, so an entity with a long history is judged by its own
habits and a new one by everyone's. A context never seen leaves the level
below unchanged. An entity's first actions have fewer than ``n`` predecessors:
for a session with a real beginning (log sessions) the missing ones are a
"start" symbol, so "the first thing it does" is a context too; for a stream
read from its middle (``unknown_before``) they are unknown, and the levels
that would need them are skipped.

Surprise is ``-log2 p`` in bits: 10 bits is a 1 in 1,024 step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soc_anomaly.errors import DataError
from soc_anomaly.sequences.runs import Runs

__all__ = [
    "MAX_ORDER",
    "NGramTables",
    "distribution",
    "fit_ngram",
    "histories",
    "probability",
]

#: Longest context the model reads.
MAX_ORDER = 3
_KEY_LIMIT = 2**62
#: Events from which ``probability`` looks up each distinct (entity, context, action) once.
_DEDUPE_FROM = 1024


def histories(
    entity: np.ndarray,
    actions: np.ndarray,
    depth: int,
    before: np.ndarray | None = None,
    fill: float = -1,
) -> np.ndarray:
    """Each event's entity's previous actions, most recent first.

    Parameters
    ----------
    entity : numpy.ndarray of int
        Entity code of each event; events in time order.
    actions : numpy.ndarray of int
        Action code of each event.
    depth : int
        Previous actions to return.
    before : numpy.ndarray of int, shape (n_events, depth), optional
        Per event, its entity's actions before these events (most recent
        first, ``fill`` where none): what a stream carried. Only the rows of
        each entity's first event are read.
    fill : scalar, default=-1
        The value where there is no earlier action.

    Returns
    -------
    numpy.ndarray, shape (n_events, depth)
        Column ``k`` is the action ``k + 1`` steps back; ``fill`` where there
        is none. The dtype is that of ``actions`` (any per-event value can be
        shifted so: times, surprises). :meth:`Runs.histories` does the same for
        several value arrays of one set of events without grouping them again.
    """
    runs = Runs.of(entity)
    if before is not None and len(runs.order):
        # One row per group: that of its first event.
        firsts = runs.order[np.flatnonzero(runs.rank == 0)]
        before = np.asarray(before)[firsts]
    return runs.histories(actions, depth, before, fill)


@dataclass
class NGramTables:
    """Training counts of a fitted n-gram model, as sorted keys and counts.

    Levels ``0..order`` are the population's, ``order+1..2*order`` the
    entity's orders ``1..order``. Level ``i``'s slice of the key arrays is
    ``offsets[i]:offsets[i+1]``; keys are sorted within a level.

    Attributes
    ----------
    n_actions : int
        Actions of the vocabulary (``V``).
    order : int
        Longest context.
    n_entities : int
        Entities with own counts (codes ``0..n_entities-1``).
    joint_keys, joint_counts : numpy.ndarray of int64
        (context, action) keys and how often each was seen.
    joint_offsets : numpy.ndarray of int64
        Level boundaries of the joint arrays.
    context_keys, context_counts, context_distinct : numpy.ndarray of int64
        Context keys, events after each, distinct actions after each.
    context_offsets : numpy.ndarray of int64
        Level boundaries of the context arrays.
    """

    n_actions: int
    order: int
    n_entities: int
    joint_keys: np.ndarray
    joint_counts: np.ndarray
    joint_offsets: np.ndarray
    context_keys: np.ndarray
    context_counts: np.ndarray
    context_distinct: np.ndarray
    context_offsets: np.ndarray

    @property
    def n_levels(self) -> int:
        """Population levels plus entity levels."""
        return len(self.context_offsets) - 1

    def level(self, i: int) -> tuple[np.ndarray, ...]:
        """Level ``i``'s joint keys and counts, context keys, counts and distinct counts."""
        j0, j1 = self.joint_offsets[i], self.joint_offsets[i + 1]
        c0, c1 = self.context_offsets[i], self.context_offsets[i + 1]
        return (
            self.joint_keys[j0:j1],
            self.joint_counts[j0:j1],
            self.context_keys[c0:c1],
            self.context_counts[c0:c1],
            self.context_distinct[c0:c1],
        )


def _context_keys(hist: np.ndarray, n: int, base: int) -> np.ndarray:
    """Key of the last ``n`` actions (the start symbol where there are fewer)."""
    key = np.zeros(len(hist), dtype=np.int64)
    for k in range(n):
        h = hist[:, k]
        key = key * base + np.where(h < 0, base - 1, h)
    return key


def _level_keys(
    hist: np.ndarray, entity: np.ndarray, level: int, order: int, base: int
) -> np.ndarray:
    """Context keys of a level: the population's (order ``level``) or the entity's."""
    n = level if level <= order else level - order
    key = _context_keys(hist, n, base)
    if level > order:
        key = key + entity.astype(np.int64) * base**order
    return key


def fit_ngram(
    actions: np.ndarray,
    hist: np.ndarray,
    n_actions: int,
    entity: np.ndarray | None = None,
    n_entities: int = 0,
    order: int = MAX_ORDER,
) -> NGramTables:
    """Count the training events' (context, action) pairs.

    Parameters
    ----------
    actions : numpy.ndarray of int
        Action code of each training event, in ``[0, n_actions)``.
    hist : numpy.ndarray of int, shape (n_events, >= order)
        Each event's previous actions (:func:`histories`).
    n_actions : int
        Size of the vocabulary.
    entity : numpy.ndarray of int, optional
        Entity code of each event in ``[0, n_entities)``, -1 for none; without
        it the model is the population's alone.
    n_entities : int, default=0
        Entities with own counts.
    order : int, default=3
        Longest context, 1 to :data:`MAX_ORDER`.

    Returns
    -------
    NGramTables
    """
    if not 1 <= order <= MAX_ORDER:
        raise DataError(f"n-gram order {order}; expected 1 to {MAX_ORDER}")
    actions = np.asarray(actions, dtype=np.int64)
    if len(actions) and (actions.min() < 0 or actions.max() >= n_actions):
        raise DataError(f"action codes outside [0, {n_actions})")
    base = n_actions + 1
    if max(n_entities, 1) * base ** (order + 1) >= _KEY_LIMIT:
        raise DataError(f"{n_entities:,} entities of {n_actions} actions exceed the key range")
    if entity is None:
        entity, n_entities = np.full(len(actions), -1, dtype=np.int64), 0
    entity = np.asarray(entity, dtype=np.int64)
    joint, jcount, ctx, ccount, cdist = [], [], [], [], []
    levels = order + 1 + (order if n_entities else 0)
    for level in range(levels):
        rows = np.arange(len(actions)) if level <= order else np.flatnonzero(entity >= 0)
        key = _level_keys(hist[rows], entity[rows], level, order, base)
        jk, jc = np.unique(key * n_actions + actions[rows], return_counts=True)
        ck, start, cd = np.unique(jk // n_actions, return_index=True, return_counts=True)
        cc = np.add.reduceat(jc, start) if len(jc) else np.zeros(0, dtype=np.int64)
        joint.append(jk), jcount.append(jc), ctx.append(ck), ccount.append(cc), cdist.append(cd)

    def offsets(parts: list[np.ndarray]) -> np.ndarray:
        return np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64)

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    return NGramTables(
        n_actions=int(n_actions),
        order=int(order),
        n_entities=int(n_entities),
        joint_keys=cat(joint),
        joint_counts=cat(jcount),
        joint_offsets=offsets(joint),
        context_keys=cat(ctx),
        context_counts=cat(ccount),
        context_distinct=cat(cdist),
        context_offsets=offsets(ctx),
    )


def _lookup(
    keys: np.ndarray, values: tuple[np.ndarray, ...], query: np.ndarray
) -> list[np.ndarray]:
    """Each of ``values`` at each ``query`` key (0 where absent), as floats; ``keys`` sorted."""
    if len(keys) == 0:
        return [np.zeros(len(query)) for _ in values]
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    hit = keys[at] == query
    return [np.where(hit, v[at], 0).astype(np.float64) for v in values]


def probability(
    tables: NGramTables,
    actions: np.ndarray,
    hist: np.ndarray,
    entity: np.ndarray | None = None,
    *,
    unknown_before: bool = False,
) -> np.ndarray:
    """p(action | the entity's previous actions) of each event (see the module docstring).

    Parameters
    ----------
    tables : NGramTables
        The fitted counts.
    actions : numpy.ndarray of int
        Action of each event.
    hist : numpy.ndarray of int, shape (n_events, >= order)
        Previous actions (:func:`histories`).
    entity : numpy.ndarray of int, optional
        Entity code of each event (-1, or a code outside the fitted entities:
        the population's estimate alone).
    unknown_before : bool, default=False
        A history slot of -1 is an action not seen (a stream read from the
        middle, as security events are), not the start of the sequence: the
        levels whose context reaches it are skipped, so the estimate rests on
        the actions known. False: -1 is the start symbol (sessions with a real
        beginning, as log sessions have).

    Returns
    -------
    numpy.ndarray of float64
        In (0, 1].
    """
    actions = np.asarray(actions, dtype=np.int64)
    n, V, order = len(actions), tables.n_actions, tables.order
    base = V + 1
    if entity is None:
        entity = np.full(n, -1, dtype=np.int64)
    entity = np.asarray(entity, dtype=np.int64)
    own = (entity >= 0) & (entity < tables.n_entities)
    if n > _DEDUPE_FROM and (tables.n_entities + 1) * base ** (order + 1) < _KEY_LIMIT:
        # Events repeat a few (entity, context, action) triples: look each up once.
        who = np.where(own, entity, -1) + 1
        triple = (who * base**order + _context_keys(hist, order, base)) * V + actions
        _, first, inverse = np.unique(triple, return_index=True, return_inverse=True)
        if len(first) < n // 2:
            rows = (actions[first], hist[first], entity[first])
            return _probability(tables, *rows, unknown_before)[inverse]
    return _probability(tables, actions, hist, entity, unknown_before)


def _probability(
    tables: NGramTables,
    actions: np.ndarray,
    hist: np.ndarray,
    entity: np.ndarray,
    unknown_before: bool = False,
) -> np.ndarray:
    """:func:`probability` of every event, looked up one by one."""
    n, V, order = len(actions), tables.n_actions, tables.order
    base = V + 1
    own = (entity >= 0) & (entity < tables.n_entities)
    # How many of each event's last actions are known (all ``order`` if -1 is a start).
    known = np.full(n, order)
    if unknown_before:
        missing = np.asarray(hist)[:, :order] < 0
        known = np.where(missing.any(axis=1), np.argmax(missing, axis=1), order)
    p = np.full(n, 1.0 / V)
    for level in range(tables.n_levels):
        jk, jc, ck, cc, cd = tables.level(level)
        rows = slice(None) if level <= order else np.flatnonzero(own)
        a = actions[rows]
        key = _level_keys(hist[rows], entity[rows], level, order, base)
        seen, distinct = _lookup(ck, (cc, cd), key)
        (count,) = _lookup(jk, (jc,), key * V + a)
        prev = p[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            mixed = (count + distinct * prev) / (seen + distinct)
        # A level whose context reaches an action not seen leaves the estimate as it was.
        reach = level if level <= order else level - order
        p[rows] = np.where((seen > 0) & (known[rows] >= reach), mixed, prev)
    return p


def distribution(
    tables: NGramTables, hist: np.ndarray, entity: np.ndarray | None = None
) -> np.ndarray:
    """p(a | previous actions) of every action ``a``: shape (n_events, n_actions).

    Used to rank the action that happened among all (DeepLog's top-g rule).
    """
    n, V = len(hist), tables.n_actions
    out = np.empty((n, V))
    for a in range(V):
        out[:, a] = probability(tables, np.full(n, a), hist, entity)
    return out
