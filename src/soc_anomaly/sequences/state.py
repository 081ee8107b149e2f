"""What a stream carries of each entity's sequence: its last actions, their times and surprises.

The sequence features of an event read its entity's last few actions however
old, so a stream keeps exactly those per entity ever seen: what it carries
grows with the number of entities, not with the events, and scoring chunk by
chunk gives the scores of scoring the whole stream at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NO_TIME", "SequenceState"]

#: Marks an empty time slot.
NO_TIME = np.iinfo(np.int64).min


@dataclass
class SequenceState:
    """Each entity's last actions, most recent first.

    Attributes
    ----------
    entities : pandas.Index
        Entity keys, one per row.
    actions : numpy.ndarray of int64, shape (n_entities, depth)
        Last actions, most recent first; -1 where the entity had fewer.
    times : numpy.ndarray of int64, shape (n_entities, depth)
        Their epoch milliseconds (:data:`NO_TIME` where none).
    surprise : numpy.ndarray of float64, shape (n_entities, window - 1)
        The surprise of the last ``window - 1`` actions (0 where none), for the
        window sums.
    """

    entities: pd.Index
    actions: np.ndarray
    times: np.ndarray
    surprise: np.ndarray

    @classmethod
    def empty(cls, depth: int, window: int) -> SequenceState:
        """No entity yet; ``depth`` actions and ``window - 1`` surprises per entity."""
        return cls(
            pd.Index([], dtype=object),
            np.zeros((0, depth), dtype=np.int64),
            np.zeros((0, depth), dtype=np.int64),
            np.zeros((0, window - 1)),
        )

    def __len__(self) -> int:
        return len(self.entities)

    def lookup(self, names: pd.Index | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The carried actions, times and surprises of each of ``names`` (empty rows when new)."""
        rows = self.entities.get_indexer(pd.Index(names, dtype=object))
        seen = rows >= 0
        out_a = np.full((len(rows), self.actions.shape[1]), -1, dtype=np.int64)
        out_t = np.full((len(rows), self.times.shape[1]), NO_TIME, dtype=np.int64)
        out_s = np.zeros((len(rows), self.surprise.shape[1]))
        out_a[seen], out_t[seen], out_s[seen] = (
            self.actions[rows[seen]],
            self.times[rows[seen]],
            self.surprise[rows[seen]],
        )
        return out_a, out_t, out_s

    def update(
        self, names: pd.Index, actions: np.ndarray, times: np.ndarray, surprise: np.ndarray
    ) -> SequenceState:
        """The state with the rows of ``names`` replaced (or added) by these.

        Parameters
        ----------
        names : pandas.Index
            Distinct entity keys.
        actions, times, surprise : numpy.ndarray
            Their new rows (shapes as the attributes').
        """
        if len(names) == 0:
            return self
        rows = self.entities.get_indexer(pd.Index(names, dtype=object))
        new = rows < 0
        entities = self.entities
        arrays = [self.actions, self.times, self.surprise]
        if new.any():
            entities = entities.append(pd.Index(np.asarray(names, dtype=object)[new]))
            rows[new] = np.arange(len(self.entities), len(entities))
            pads = (-1, NO_TIME, 0.0)
            arrays = [
                np.vstack([a, np.full((int(new.sum()), a.shape[1]), pad, dtype=a.dtype)])
                for a, pad in zip(arrays, pads, strict=True)
            ]
        else:
            arrays = [a.copy() for a in arrays]
        for a, values in zip(arrays, (actions, times, surprise), strict=True):
            a[rows] = values
        return SequenceState(entities, *arrays)

    def merge(self, later: SequenceState) -> SequenceState:
        """The state after two consecutive stretches of a stream, this one first.

        ``later`` was computed from an empty state: an entity's later row is
        completed with its earlier actions where it had fewer than ``depth``.
        The surprises are left as ``later`` has them: they depend on the
        sequence model, which scores the merged actions again
        (:func:`~soc_anomaly.features.sequence_features.rescore_state`).
        """
        if len(later) == 0:
            return self
        a, t, _ = self.lookup(later.entities)
        depth = a.shape[1]
        n_later = (later.actions >= 0).sum(axis=1)
        acts, times = later.actions.copy(), later.times.copy()
        for i in np.flatnonzero(n_later < depth):
            k = int(n_later[i])
            acts[i, k:] = a[i, : depth - k]
            times[i, k:] = t[i, : depth - k]
        return self.update(later.entities, acts, times, later.surprise)
