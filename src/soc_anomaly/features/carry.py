"""The events a stream must carry forward so later events get the same features.

Scoring a stream chunk by chunk gives exactly the features of scoring it whole
when each chunk is transformed together with the earlier events its windows
can still reach. For :class:`~soc_anomaly.features.EntityFeatures` those are:

* the last 24 hours (the failure, MFA, byte and new-destination windows);
* the events of each user's current local day (``daily_dst_hosts_ratio``):
  with UTC offsets from -12:00 to +14:00, every event whose local time is on or
  after the local day that began 12 hours before the latest event;
* each user's last logon with coordinates (travel speed and the gap);
* each (user, destination) pair's last ``beacon_intervals`` connections
  (``beacon_regularity``).

So the carried history is bounded by a day of traffic and the number of users
and pairs, not by the length of the stream. It requires the stream to be in
time order from one chunk to the next (:class:`~soc_anomaly.model.stream.StreamScorer`
checks it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.features.columns import MS_PER_DAY, MS_PER_HOUR, read_events
from soc_anomaly.features.history import pair_keys

__all__ = ["LATEST_UTC_OFFSET_MS", "carry_mask"]

#: The westernmost UTC offset in use (-12:00): the earliest a local day can begin.
LATEST_UTC_OFFSET_MS = 12 * MS_PER_HOUR


def _last_per_key(key: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Rows among ``mask`` that are among the last ``n`` of their key (rows in time order)."""
    out = np.zeros(len(key), dtype=bool)
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return out
    order = pos[np.argsort(key[pos], kind="stable")]
    k = key[order]
    # Rank from the end of each key's run: rows with fewer than n later rows of the key stay.
    end = np.r_[np.flatnonzero(k[1:] != k[:-1]), len(k) - 1]
    run_end = np.repeat(end, np.diff(np.r_[-1, end]))
    out[order[run_end - np.arange(len(k)) < n]] = True
    return out


def carry_mask(events: pd.DataFrame, beacon_intervals: int) -> np.ndarray:
    """Rows of ``events`` that later events' features may still read.

    Parameters
    ----------
    events : pandas.DataFrame
        Raw events seen so far (the carried history and the latest chunk).
    beacon_intervals : int
        The featuriser's ``beacon_intervals``.

    Returns
    -------
    numpy.ndarray of bool
        One flag per row of ``events``, in its row order.
    """
    ev = read_events(events)
    if len(ev) == 0:
        return np.zeros(0, dtype=bool)
    latest = int(ev.time.max())
    keep = ev.time >= latest - 24 * MS_PER_HOUR
    day_start = (latest - LATEST_UTC_OFFSET_MS) // MS_PER_DAY * MS_PER_DAY
    keep |= ev.local_ms >= day_start
    user = ev.codes["user"]
    located = ev.is_auth & ~np.isnan(ev.lat) & ~np.isnan(ev.lon)
    keep |= _last_per_key(user, located, 1)
    pair = pair_keys(user, ev.codes["dst_host"], len(ev.categories["dst_host"]))
    keep |= _last_per_key(pair, ev.is_net, beacon_intervals)
    return ev.restore(keep)
