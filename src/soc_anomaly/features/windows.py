"""Causal sliding-window aggregates per key, vectorised.

Events are in time order; "causal" means an event's value depends only on the
events at or before its own position (so a tie in time is broken by row
order, and the first ``k`` events always get the same values whether or not
later events are present). Each key's events are laid out contiguously with a
stable sort, so a window is a contiguous range found with one
``np.searchsorted`` and a sum over it is a difference of cumulative sums.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KeyOrder", "regularity"]

# A composite sort key packs (key, time since the first event) into one int64:
# 2**41 ms is about 70 years, leaving 22 bits for the key.
_TIME_BITS = 41
_MAX_KEYS = 1 << (62 - _TIME_BITS)
# Pair expansion for distinct counts is done in chunks of about this many pairs,
# so memory stays bounded whatever the window holds.
_CHUNK_PAIRS = 4_000_000


class KeyOrder:
    """Events grouped by key (stable, so time order within a key) for window queries.

    Parameters
    ----------
    key : ndarray of int64
        Key code per event (events in time order); -1 is a key of its own, the
        caller decides what it means.
    time : ndarray of int64
        Epoch milliseconds, non-decreasing.
    """

    def __init__(self, key: np.ndarray, time: np.ndarray) -> None:
        if len(key) and int(key.max()) >= _MAX_KEYS:
            raise ValueError(f"at most {_MAX_KEYS:,} distinct keys are supported")
        self.order = np.argsort(key, kind="stable")
        self.key = key[self.order]
        t0 = int(time[0]) if len(time) else 0
        self.rel = time[self.order] - t0
        self.comp = (self.key << _TIME_BITS) + self.rel

    def window_start(self, window_ms: int) -> np.ndarray:
        """Per sorted event, the sorted index of its key's first event in ``(t - window, t]``."""
        lower = np.maximum(self.rel - window_ms + 1, 0)
        return np.searchsorted(self.comp, (self.key << _TIME_BITS) + lower, side="left")

    def _unsort(self, sorted_values: np.ndarray) -> np.ndarray:
        out = np.empty_like(sorted_values)
        out[self.order] = sorted_values
        return out

    def window_sum(self, values: np.ndarray, window_ms: int) -> np.ndarray:
        """Sum of ``values`` over the same key's events in ``(t - window, t]``, up to each event.

        Integer or boolean ``values`` are summed exactly in int64.
        """
        v = values[self.order]
        dtype = np.float64 if v.dtype.kind == "f" else np.int64
        csum = np.concatenate([[0], np.cumsum(v, dtype=dtype)])
        lo = self.window_start(window_ms)
        hi = np.arange(1, len(v) + 1)
        return self._unsort(csum[hi] - csum[lo])

    def window_distinct(self, flag: np.ndarray, other: np.ndarray, window_ms: int) -> np.ndarray:
        """Distinct ``other`` codes among the same key's flagged events in ``(t - window, t]``.

        Parameters
        ----------
        flag : ndarray of bool
            Events that count (e.g. failed logons).
        other : ndarray of int64
            What is counted distinctly (e.g. the user).
        window_ms : int
            Window length.

        Returns
        -------
        ndarray of int64
            One count per event (time order), the event itself included when flagged.
        """
        fs = flag[self.order]
        cflag = np.concatenate([[0], np.cumsum(fs, dtype=np.int64)])
        # The flagged events, in (key, time) order, are positions 0..m-1; an event's
        # window holds flagged positions [lo_f, hi_f).
        lo_f = cflag[self.window_start(window_ms)]
        hi_f = cflag[1:]
        idx_f = np.flatnonzero(fs)
        key_f = self.key[idx_f]
        other_f = other[self.order][idx_f]
        # prev[j]: previous flagged position with the same key and the same `other`.
        grp = np.lexsort((other_f, key_f))
        prev = np.full(len(idx_f), -1, dtype=np.int64)
        same = (key_f[grp[1:]] == key_f[grp[:-1]]) & (other_f[grp[1:]] == other_f[grp[:-1]])
        prev[grp[1:][same]] = grp[:-1][same]
        # In a window [lo, hi), `other` values are distinct at the positions whose
        # previous occurrence lies before lo. Only windows of two or more need counting,
        # and many events share one window, so each distinct window is counted once.
        out = hi_f - lo_f
        need = out >= 2
        if need.any():
            width = len(idx_f) + 1
            uniq, inverse = np.unique(lo_f[need] * width + hi_f[need], return_inverse=True)
            counts = _distinct_in_ranges(uniq // width, uniq % width, prev)
            out[need] = counts[inverse]
        return self._unsort(out)


def _distinct_in_ranges(lo: np.ndarray, hi: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """For each range ``[lo, hi)``, the positions whose ``prev`` is below ``lo``."""
    lengths = hi - lo
    out = np.zeros(len(lo), dtype=np.int64)
    ends = np.cumsum(lengths)
    start = 0
    while start < len(lo):
        # The largest run of ranges whose pairs fit in one chunk (at least one range).
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + _CHUNK_PAIRS, side="right")), start + 1)
        n = lengths[start:stop]
        owner = np.repeat(np.arange(stop - start), n)
        offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        pos = lo[start:stop][owner] + offset
        first = prev[pos] < lo[start:stop][owner]
        out[start:stop] = np.bincount(owner, weights=first, minlength=stop - start)
        start = stop
    return out


def regularity(
    key: np.ndarray,
    time: np.ndarray,
    mask: np.ndarray,
    n_intervals: int,
    min_intervals: int,
    cv_floor: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How clock-like each key's recent events are: intervals / (CV + floor).

    Parameters
    ----------
    key : ndarray of int64
        Key per event (e.g. a (user, destination) pair code), events in time order.
    time : ndarray of int64
        Epoch milliseconds, non-decreasing.
    mask : ndarray of bool
        Events that take part (others get 0).
    n_intervals : int
        Intervals looked at: those between the event and its key's previous
        ``n_intervals`` events.
    min_intervals : int
        Fewer intervals than this give 0.
    cv_floor : float
        Added to the coefficient of variation so a perfect clock stays finite.

    Returns
    -------
    value, count, mean_s, cv : ndarray
        The feature, the intervals it used, their mean in seconds and their
        coefficient of variation, per event.
    """
    n = len(key)
    value = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    mean_s = np.zeros(n)
    cv_out = np.zeros(n)
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return value, count, mean_s, cv_out
    order = pos[np.argsort(key[pos], kind="stable")]
    k = key[order]
    t = time[order] / 1000.0
    m = len(order)
    start = np.ones(m, dtype=bool)
    start[1:] = k[1:] != k[:-1]
    # Index of each event's group start, and its rank within the group.
    gstart = np.maximum.accumulate(np.where(start, np.arange(m), 0))
    rank = np.arange(m) - gstart
    d = np.zeros(m)
    d[1:] = np.diff(t)
    cnt = np.minimum(rank, n_intervals)
    total = np.zeros(m)
    for lag in range(min(n_intervals, m)):
        total[lag:] += np.where(cnt[lag:] > lag, d[: m - lag], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, total / np.maximum(cnt, 1), 0.0)
    sq = np.zeros(m)
    for lag in range(min(n_intervals, m)):
        dev = d[: m - lag] - mean[lag:]
        sq[lag:] += np.where(cnt[lag:] > lag, dev * dev, 0.0)
    std = np.sqrt(sq / np.maximum(cnt, 1))
    cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), 0.0)
    val = np.where(cnt >= min_intervals, cnt / (cv + cv_floor), 0.0)
    value[order] = val
    count[order] = cnt
    mean_s[order] = mean
    cv_out[order] = cv
    return value, count, mean_s, cv_out
