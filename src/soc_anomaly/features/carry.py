"""What a stream carries from chunk to chunk so later events get the same features.

Scoring a stream chunk by chunk gives exactly the features of scoring it whole
when each chunk is read with a :class:`StreamContext` of what came before:

* ``rows``, the earlier events that windows can still reach: the last 24 hours
  (the failure, MFA, byte and new-destination windows); the events of each
  user's current local day (``daily_dst_hosts_ratio``: with UTC offsets of at
  most 18 hours, every event whose local time is on or after the local day
  that began 18 hours before the latest event); and each user's last logon
  with coordinates (travel speed and the gap);
* ``beacons``, each (user, destination) pair's last ``beacon_intervals``
  connection times (:class:`~soc_anomaly.features.beacons.BeaconState`;
  ``beacon_regularity`` reads nothing else of them);
* ``sequences``, each entity's last actions, their times and surprises
  (:class:`~soc_anomaly.sequences.state.SequenceState`; the sequence features
  read nothing else of the past).

So the carried state is bounded by a day of traffic and the number of users
and pairs, not by the length of the stream. It requires the stream to be in
time order from one chunk to the next (:class:`~soc_anomaly.model.stream.StreamScorer`
checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soc_anomaly.features.beacons import BeaconState
from soc_anomaly.features.columns import (
    MAX_UTC_OFFSET_MIN,
    MS_PER_DAY,
    MS_PER_HOUR,
    Events,
    read_events,
)
from soc_anomaly.features.compute import connections
from soc_anomaly.sequences.state import SequenceState

if TYPE_CHECKING:
    from soc_anomaly.features.transformer import EntityFeatures

__all__ = [
    "LATEST_UTC_OFFSET_MS",
    "StreamContext",
    "carry_state",
    "join",
    "merge_contexts",
    "next_context",
    "window_rows",
]

#: The westernmost UTC offset accepted (-18:00, as ISO 8601 and OCSF allow; -12:00 is
#: the westernmost in use): the earliest a local day can begin, relative to UTC.
LATEST_UTC_OFFSET_MS = MAX_UTC_OFFSET_MIN * 60_000


@dataclass
class StreamContext:
    """The state a stream carries into its next chunk (see the module docstring).

    Attributes
    ----------
    rows : pandas.DataFrame
        Earlier raw events the windows and travel still read, in time order.
    beacons : BeaconState
        Each pair's last connection times.
    sequences : SequenceState
        Each entity's last actions.
    """

    rows: pd.DataFrame
    beacons: BeaconState
    sequences: SequenceState

    def __len__(self) -> int:
        return len(self.rows) + len(self.beacons) + len(self.sequences)


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


def window_rows(ev: Events) -> np.ndarray:
    """Positions in the table (time order) of the events later windows and travel may read."""
    if len(ev) == 0:
        return np.zeros(0, dtype=np.int64)
    latest = int(ev.time.max())
    keep = ev.time >= latest - 24 * MS_PER_HOUR
    day_start = (latest - LATEST_UTC_OFFSET_MS) // MS_PER_DAY * MS_PER_DAY
    keep |= ev.local_ms >= day_start
    located = ev.is_auth & ~np.isnan(ev.lat) & ~np.isnan(ev.lon)
    keep |= _last_per_key(ev.codes["user"], located, 1)
    return np.flatnonzero(keep) if ev.order is None else ev.order[np.flatnonzero(keep)]


def _window_rows(events: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``events`` later windows and travel may still read, in time order."""
    return events.iloc[window_rows(read_events(events))].reset_index(drop=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    # Text columns stay categorical across chunks (their codes are what the
    # features read; object columns would be hashed again on every chunk).
    for name in frames[0].columns:
        if all(isinstance(f[name].dtype, pd.CategoricalDtype) for f in frames if name in f):
            cats = pd.api.types.union_categoricals([f[name] for f in frames if name in f])
            frames = [
                f.assign(**{name: pd.Categorical(f[name], categories=cats.categories)})
                if name in f
                else f
                for f in frames
            ]
    return pd.concat(frames, ignore_index=True)


def join(context: StreamContext | None, events: pd.DataFrame) -> pd.DataFrame:
    """The carried rows followed by ``events``: what a chunk's windows read."""
    if context is None or not len(context.rows):
        return events.reset_index(drop=True)
    return _concat([context.rows, events])


def carry_state(
    context: StreamContext | None,
    combined: pd.DataFrame,
    ev: Events,
    own: np.ndarray,
    beacon_intervals: int,
    sequences: SequenceState,
) -> StreamContext:
    """The state after a chunk, from the events its features were read from.

    Parameters
    ----------
    context : StreamContext or None
        The state before the chunk.
    combined : pandas.DataFrame
        The carried rows followed by the chunk (:func:`join`).
    ev : Events
        ``read_events(combined)``.
    own : numpy.ndarray of int
        Time-order positions in ``ev`` of the chunk's events.
    beacon_intervals : int
        The featuriser's ``beacon_intervals``.
    sequences : SequenceState
        The sequence state after the chunk (the featuriser computed it).
    """
    beacons = context.beacons if context is not None else BeaconState.empty(beacon_intervals)
    return StreamContext(
        combined.iloc[window_rows(ev)].reset_index(drop=True),
        beacons.advance(*connections(ev, own)),
        sequences,
    )


def next_context(
    context: StreamContext | None, events: pd.DataFrame, featurizer: EntityFeatures
) -> StreamContext:
    """The state after ``events`` (the chunk following ``context``).

    Parameters
    ----------
    context : StreamContext or None
        The state before the chunk (None at the start of a stream).
    events : pandas.DataFrame
        The chunk's raw events.
    featurizer : EntityFeatures
        The fitted featuriser (its sequence model gives the carried surprises).
    """
    from soc_anomaly.features.compute import advance_sequences

    combined = join(context, events)
    ev = read_events(combined)
    own = np.arange(len(combined)) >= len(combined) - len(events)
    if ev.order is not None:
        own = own[ev.order]
    mine = np.flatnonzero(own)
    before = None if context is None else context.sequences
    sequences = advance_sequences(featurizer, ev, mine, before)
    return carry_state(context, combined, ev, mine, featurizer.beacon_intervals, sequences)


def merge_contexts(
    earlier: StreamContext | None, later: StreamContext, featurizer: EntityFeatures
) -> StreamContext:
    """The state after two consecutive stretches of a stream, from each one's own state.

    The state of a stretch keeps everything of it later events can reach, so
    folding the states of consecutive time partitions gives the state a single
    pass would hold (:mod:`soc_anomaly.model.dask_engine`).
    """
    from soc_anomaly.features.sequence_features import rescore_state

    if earlier is None:
        return later
    rows = _window_rows(_concat([earlier.rows, later.rows]))
    sequences = rescore_state(featurizer, earlier.sequences.merge(later.sequences))
    return StreamContext(rows, earlier.beacons.merge(later.beacons), sequences)
