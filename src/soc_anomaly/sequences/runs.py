"""Events grouped by entity, in time order within each: what every history reads.

:class:`Runs` sorts a set of events by entity once (a linear radix sort where
the codes fit 16 bits) and then gives any per-event values' histories: each
event's entity's previous values, most recent first, with what a stream
carried in front (:func:`soc_anomaly.sequences.ngram.histories` for one array).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Runs"]


def _stable_order(entity: np.ndarray) -> np.ndarray:
    """``np.argsort(entity, kind="stable")``; a radix sort when the codes fit 16 bits."""
    if len(entity) and np.issubdtype(entity.dtype, np.integer):
        low, high = int(entity.min()), int(entity.max())
        if high - low < 2**16:
            # numpy sorts 16-bit integers stably by radix, in linear time.
            return np.argsort((entity - low).astype(np.uint16), kind="stable")
    return np.argsort(entity, kind="stable")


@dataclass(frozen=True)
class Runs:
    """Events grouped by entity, time order kept within each: what every history reads.

    Attributes
    ----------
    order : numpy.ndarray of intp
        The events sorted by entity (stable).
    group : numpy.ndarray of intp
        The entity group of each sorted position, 0 to ``n_groups - 1`` in entity order.
    rank : numpy.ndarray of intp
        Each sorted position's place within its entity's run (0: its first event).
    last : numpy.ndarray of intp
        Each group's last event (time order position).
    position : numpy.ndarray of intp
        Each event's sorted position (the inverse of ``order``).
    """

    order: np.ndarray
    group: np.ndarray
    rank: np.ndarray
    last: np.ndarray
    position: np.ndarray

    @classmethod
    def of(cls, entity: np.ndarray) -> Runs:
        """The runs of ``entity`` codes (events in time order)."""
        entity = np.asarray(entity)
        n = len(entity)
        order = _stable_order(entity)
        e = entity[order]
        start = np.r_[0, np.flatnonzero(e[1:] != e[:-1]) + 1] if n else np.zeros(0, np.intp)
        sizes = np.diff(np.r_[start, n])
        group = np.repeat(np.arange(len(start)), sizes)
        rank = np.arange(n) - np.repeat(start, sizes)
        position = np.empty_like(order)
        position[order] = np.arange(n)
        last = order[np.r_[start[1:], n] - 1] if n else start
        return cls(order, group, rank, last, position)

    def histories(
        self,
        values: np.ndarray,
        depth: int,
        before: np.ndarray | None = None,
        fill: float = -1,
    ) -> np.ndarray:
        """:func:`histories` of these events, ``before`` given per group (n_groups, depth).

        The result is Fortran-ordered: each step back is contiguous.
        """
        values = np.asarray(values)
        n = len(values)
        if n == 0 or depth == 0:
            return np.full((n, depth), fill, dtype=values.dtype)
        a, rank = values[self.order], self.rank
        # Built in entity order, one contiguous row per step back (row k - 1 is the runs
        # shifted by k), then each row put back in time order by a contiguous gather:
        # several times faster than scattering the columns of a row-major result.
        ordered = np.full((depth, n), fill, dtype=values.dtype)
        for k in range(1, min(depth, n - 1) + 1):
            np.copyto(ordered[k - 1, k:], a[:-k], where=rank[k:] >= k)
        if before is not None:
            # The first ``depth`` events of each entity also read what the stream carried.
            carried = np.asarray(before, dtype=values.dtype)
            near = np.flatnonzero(rank < depth)
            for k in range(1, depth + 1):
                back = k - rank[near] - 1  # steps into the carried history
                reach = (back >= 0) & (back < depth)
                at = near[reach]
                ordered[k - 1, at] = carried[self.group[at], back[reach]]
        out = np.empty((depth, n), dtype=values.dtype)
        for k in range(depth):
            np.take(ordered[k], self.position, out=out[k])
        return out.T
