"""The connection times a stream keeps per (user, destination) pair for ``beacon_regularity``.

``beacon_regularity`` of a connection reads the times of its pair's previous
``beacon_intervals`` connections, however old. A stream keeps exactly those,
as one row of times per pair ever seen (a pair is named by the length of
``user``, a mark, ``user`` and the destination), so what it carries grows with the number of
pairs, not with the events, and a chunk's strings are hashed once per pair it
touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NO_TIME", "BeaconState", "pair_names"]

#: Marks an empty slot of a pair's row of times.
NO_TIME = np.iinfo(np.int64).min
_SEP = "\x1f"
_NULL = "\x00"


def pair_names(users: np.ndarray, dsts: np.ndarray) -> np.ndarray:
    """One string per (user, destination); a null destination is its own value.

    The user's length leads, so a name is one pair's whatever the values hold
    (a separator inside a user or destination cannot make two pairs one).
    """
    null = pd.isna(dsts)
    d = np.where(null, "", dsts.astype(object))
    # Object marks: a numpy text array would drop the NUL.
    mark = np.where(null, np.array(_NULL, dtype=object), np.array(_SEP, dtype=object))
    return np.asarray(
        [f"{len(u)}{m}{u}{v}" for u, m, v in zip(users, mark, d, strict=True)], dtype=object
    )


def _last_n(keys: np.ndarray, times: np.ndarray, n: int, n_rows: int) -> np.ndarray:
    """A (n_rows, n) table of each key's last ``n`` times (oldest first, NO_TIME padding).

    ``keys`` and ``times`` are in time order within each key.
    """
    out = np.full((n_rows, n), NO_TIME, dtype=np.int64)
    if len(keys) == 0:
        return out
    order = np.argsort(keys, kind="stable")
    k, t = keys[order], times[order]
    end = np.r_[np.flatnonzero(k[1:] != k[:-1]), len(k) - 1]
    run_end = np.repeat(end, np.diff(np.r_[-1, end]))
    back = run_end - np.arange(len(k))  # 0 for a key's last time
    keep = back < n
    out[k[keep], n - 1 - back[keep]] = t[keep]
    return out


@dataclass
class BeaconState:
    """Each pair's last connection times.

    Attributes
    ----------
    pairs : pandas.Index
        Pair names (:func:`pair_names`), one per row of ``times``.
    times : numpy.ndarray of int64, shape (n_pairs, n)
        Each pair's last ``n`` connection times in epoch ms, oldest first;
        :data:`NO_TIME` where the pair had fewer.
    """

    pairs: pd.Index
    times: np.ndarray

    @classmethod
    def empty(cls, n: int) -> BeaconState:
        """No pair yet, ``n`` times per pair."""
        return cls(pd.Index([], dtype=object), np.zeros((0, n), dtype=np.int64))

    @property
    def n(self) -> int:
        """Times kept per pair."""
        return self.times.shape[1]

    def __len__(self) -> int:
        return int((self.times != NO_TIME).sum())

    def lookup(self, names: np.ndarray) -> np.ndarray:
        """The rows of times of ``names`` (all NO_TIME for a pair not seen)."""
        rows = self.pairs.get_indexer(pd.Index(names, dtype=object))
        out = np.full((len(names), self.n), NO_TIME, dtype=np.int64)
        seen = rows >= 0
        out[seen] = self.times[rows[seen]]
        return out

    def advance(self, names: np.ndarray, times: np.ndarray) -> BeaconState:
        """The state after connections of pairs ``names`` at ``times`` (time order).

        Parameters
        ----------
        names : ndarray of str
            Pair name of each connection.
        times : ndarray of int64
            Their epoch ms, in time order within each pair, after every kept time.
        """
        if len(names) == 0:
            return self
        codes, uniques = pd.factorize(np.asarray(names, dtype=object))
        rows = self.pairs.get_indexer(pd.Index(uniques, dtype=object))
        new = rows < 0
        pairs, table = self.pairs, self.times
        if new.any():
            pairs = pairs.append(pd.Index(uniques[new], dtype=object))
            table = np.vstack([table, np.full((int(new.sum()), self.n), NO_TIME, np.int64)])
            rows[new] = np.arange(len(self.pairs), len(pairs))
        touched = rows  # one state row per distinct pair of the chunk
        kept = table[touched]
        slot = kept != NO_TIME
        local = np.arange(len(touched))
        keys = np.concatenate([np.repeat(local, self.n)[slot.ravel()], codes.astype(np.int64)])
        stamps = np.concatenate([kept.ravel()[slot.ravel()], np.asarray(times, dtype=np.int64)])
        table = table.copy() if table is self.times else table
        table[touched] = _last_n(keys, stamps, self.n, len(touched))
        return BeaconState(pairs, table)

    def merge(self, later: BeaconState) -> BeaconState:
        """The state of two consecutive stretches of a stream, this one first."""
        slot = later.times != NO_TIME
        names = np.repeat(later.pairs.to_numpy(dtype=object), later.n)[slot.ravel()]
        return self.advance(names, later.times.ravel()[slot.ravel()])
