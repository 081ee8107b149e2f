"""Baselines of each user's own training history, and the features read against them.

Every per-user table has one row per training user plus a last row for the
population (all training events pooled), which users absent from training, or
with too little history for a stable baseline, get instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.features.columns import MS_PER_DAY, MS_PER_HOUR, Events
from soc_anomaly.features.windows import KeyOrder

__all__ = [
    "MIN_LOG_SCALE",
    "daily_distinct",
    "first_seen",
    "fit_user_tables",
    "hour_weekday",
    "lookup",
    "pair_keys",
    "robust_z",
]

#: Smallest spread (natural-log units) a byte baseline may have: a user whose
#: uploads are all the same size would otherwise make a 1% change a huge z.
MIN_LOG_SCALE = 0.25
#: MAD to standard deviation for a normal distribution.
_MAD_TO_SD = 1.4826
#: 1970-01-01 was a Thursday; with this shift Monday is weekday 0.
_EPOCH_WEEKDAY = 3


def hour_weekday(ev: Events) -> tuple[np.ndarray, np.ndarray]:
    """Local hour (0-23) and weekday (Monday 0) of each event, on the device's clock."""
    local = ev.local_ms
    return (local // MS_PER_HOUR) % 24, (local // MS_PER_DAY + _EPOCH_WEEKDAY) % 7


def _rarity_table(
    row: np.ndarray, slot: np.ndarray, n_rows: int, n_slots: int, prior_weight: float
) -> np.ndarray:
    """-log10 of each user's smoothed slot frequency; the last row is the population's.

    A user's frequencies are shrunk towards the population's with ``prior_weight``
    pseudo-events, so a user with few events is not called rare at every new hour.
    """
    counts = np.bincount(row * n_slots + slot, minlength=n_rows * n_slots).reshape(n_rows, n_slots)
    pop = counts.sum(axis=0)
    pop_p = (pop + 1.0) / (pop.sum() + n_slots)
    p = (counts + prior_weight * pop_p) / (counts.sum(axis=1, keepdims=True) + prior_weight)
    table = np.vstack([p, pop_p])
    return -np.log10(table)


def _robust(values: np.ndarray, group: np.ndarray, n_groups: int, min_count: int):
    """Median and MAD-based scale of ``values`` per group; the last entry is the pooled one.

    Groups with fewer than ``min_count`` values get the pooled median and scale.
    """
    loc = np.full(n_groups + 1, np.nan)
    scale = np.full(n_groups + 1, np.nan)
    if len(values):
        pooled = float(np.median(values))
        pooled_mad = float(np.median(np.abs(values - pooled)))
        loc[-1], scale[-1] = pooled, max(_MAD_TO_SD * pooled_mad, MIN_LOG_SCALE)
        s = pd.Series(values)
        by = s.groupby(group)
        med = by.median()
        size = by.size()
        mad = (s - med.reindex(group).to_numpy()).abs().groupby(group).median()
        ok = size.index[(size >= min_count) & (size.index < n_groups)].to_numpy()
        loc[ok] = med.loc[ok].to_numpy()
        scale[ok] = np.maximum(_MAD_TO_SD * mad.loc[ok].to_numpy(), MIN_LOG_SCALE)
    else:
        loc[-1], scale[-1] = 0.0, 1.0
    loc[np.isnan(loc)] = loc[-1]
    scale[np.isnan(scale)] = scale[-1]
    return loc, scale


def _median_per(values: np.ndarray, group: np.ndarray, n_groups: int, min_count: int):
    """Median per group, the pooled median last; small groups get the pooled one."""
    out = np.full(n_groups + 1, np.nan)
    out[-1] = float(np.median(values)) if len(values) else 0.0
    if len(values):
        by = pd.Series(values).groupby(group)
        med, size = by.median(), by.size()
        ok = size.index[(size >= min_count) & (size.index < n_groups)].to_numpy()
        out[ok] = med.loc[ok].to_numpy()
    out[np.isnan(out)] = out[-1]
    return out


def daily_distinct(ko: KeyOrder, day: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Distinct ``dst`` of each event's key so far on its local ``day``, the event included.

    An unknown ``dst`` (code -1) is no evidence of a new destination: it is not
    counted, and its event gets the known count, at least 1 (its destination,
    whichever it was, counts as one already seen that day).
    """
    day_s, dst_s = day[ko.order], dst[ko.order]
    grp = np.lexsort((dst_s, day_s, ko.key))
    first = np.ones(len(grp), dtype=bool)
    first[1:] = (
        (ko.key[grp[1:]] != ko.key[grp[:-1]])
        | (day_s[grp[1:]] != day_s[grp[:-1]])
        | (dst_s[grp[1:]] != dst_s[grp[:-1]])
    )
    first &= dst_s[grp] >= 0
    is_first = np.empty(len(grp), dtype=bool)
    is_first[grp] = first
    csum = np.concatenate([[0], np.cumsum(is_first, dtype=np.int64)])
    seg = np.ones(len(grp), dtype=bool)
    seg[1:] = (ko.key[1:] != ko.key[:-1]) | (day_s[1:] != day_s[:-1])
    seg_start = np.maximum.accumulate(np.where(seg, np.arange(len(seg)), 0))
    # At least 1: an event with an unknown destination still contacted one.
    out = np.maximum(csum[1:] - csum[seg_start], 1)
    res = np.empty_like(out)
    res[ko.order] = out
    return res


def pair_keys(user: np.ndarray, value: np.ndarray, n_values: int) -> np.ndarray:
    """One int64 per (user, value) pair of codes."""
    return user.astype(np.int64) * (n_values + 1) + value


def lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each of ``keys`` in ``table`` (distinct int64), -1 where absent.

    A hash lookup: for millions of keys in random order it is several times faster
    than a binary search, which misses the cache on every probe.
    """
    if len(table) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    return pd.Index(table).get_indexer(keys)


def first_seen(
    user: np.ndarray, value: np.ndarray, present: np.ndarray, seen: np.ndarray, n_values: int
) -> np.ndarray:
    """1.0 where a present value was never seen with the user in training, else 0.0.

    ``user`` and ``value`` are fitted codes (-1 unseen); ``present`` marks non-null
    values; ``seen`` is the sorted training pair keys. A user without training
    history is judged against the population: 1 only if nobody had the value.
    """
    keys = pair_keys(np.maximum(user, 0), value, n_values)
    known_pair = lookup(seen, keys) >= 0
    new = np.where(user >= 0, (value < 0) | ~known_pair, value < 0)
    return (new & present).astype(np.float64)


def robust_z(x: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(x - loc) / scale``, 0 where ``x`` is NaN."""
    z = (x - loc) / scale
    return np.where(np.isnan(z), 0.0, z)


def fit_user_tables(
    ev: Events,
    user: np.ndarray,
    n_users: int,
    out24: np.ndarray,
    daily: np.ndarray,
    prior_weight: float,
    min_history: int,
) -> dict[str, np.ndarray]:
    """Per-user baselines of the training events, each with a last population row.

    Parameters
    ----------
    ev : Events
        The training events.
    user : ndarray of int64
        Fitted user codes, 0..n_users-1.
    n_users : int
        Number of training users.
    out24 : ndarray
        Each event's outbound bytes of its user over the previous 24 hours.
    daily : ndarray
        Each event's distinct destinations of its user so far that local day.
    prior_weight : float
        Pseudo-events of the population's hour and weekday profile in each user's.
    min_history : int
        Fewer connections (outbound connections, active days) than this and a user
        gets the population's byte (24-hour byte, daily destination) baseline.

    Returns
    -------
    dict of str to ndarray
        ``hour_rarity`` (n_users + 1, 24), ``weekday_rarity`` (n_users + 1, 7), and per
        user ``bytes_in_loc``, ``bytes_in_scale``, ``bytes_out_loc``, ``bytes_out_scale``
        (natural log of 1 + bytes), ``out24_median`` (bytes) and ``daily_dst_usual``.
    """
    hour, weekday = hour_weekday(ev)
    tables = {
        "hour_rarity": _rarity_table(user, hour, n_users, 24, prior_weight),
        "weekday_rarity": _rarity_table(user, weekday, n_users, 7, prior_weight),
    }
    net = ev.is_net
    for name, values in (("bytes_in", ev.bytes_in), ("bytes_out", ev.bytes_out)):
        ok = net & ~np.isnan(values)
        loc, scale = _robust(np.log1p(values[ok]), user[ok], n_users, min_history)
        tables[f"{name}_loc"], tables[f"{name}_scale"] = loc, scale
    out = ev.outbound & ~np.isnan(ev.bytes_out)
    tables["out24_median"] = _median_per(out24[out], user[out], n_users, min_history)
    # The usual number of destinations a day: the median over the user's active days
    # of the day's final distinct count (the largest running count of that day).
    day = ev.local_ms // MS_PER_DAY
    day_key = user * (int(day.max() - day.min()) + 1 if len(day) else 1) + (day - day.min())
    per_day = pd.Series(daily).groupby(day_key).max()
    day_user = pd.Series(user).groupby(day_key).first()
    tables["daily_dst_usual"] = _median_per(
        per_day.to_numpy(dtype=float), day_user.to_numpy(), n_users, min_history
    )
    return tables
