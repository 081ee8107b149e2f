"""The feature matrix: causal aggregates of the events themselves, read against fitted baselines.

:func:`causal_aggregates` needs only the events (it is computed the same way at
fit and at transform time); :func:`assemble` combines it with the fitted state
of an :class:`~soc_anomaly.features.EntityFeatures` into one column per feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from soc_anomaly.features.beacons import NO_TIME, BeaconState, pair_names
from soc_anomaly.features.catalog import FEATURES
from soc_anomaly.features.columns import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Events
from soc_anomaly.features.history import (
    daily_distinct,
    first_seen,
    hour_weekday,
    pair_keys,
    robust_z,
)
from soc_anomaly.features.peers import department_codes
from soc_anomaly.features.travel import Travel, km_from_known, previous_login
from soc_anomaly.features.windows import KeyOrder, regularity

if TYPE_CHECKING:
    from soc_anomaly.features.sequence_features import SequenceColumns
    from soc_anomaly.features.transformer import EntityFeatures
    from soc_anomaly.sequences.state import SequenceState

__all__ = [
    "CV_FLOOR",
    "Aggregates",
    "advance_sequences",
    "assemble",
    "causal_aggregates",
    "connections",
    "names_of_pairs",
    "sequences_of",
]

#: Added to the coefficient of variation of beacon intervals so a perfect clock stays finite.
CV_FLOOR = 0.05
_10M, _1H, _24H = 10 * MS_PER_MINUTE, MS_PER_HOUR, 24 * MS_PER_HOUR


@dataclass
class Aggregates:
    """Quantities of each event computed from the events alone (time order)."""

    windows: dict[str, np.ndarray]
    travel: Travel
    out24: np.ndarray
    daily: np.ndarray
    beacon: np.ndarray
    beacon_count: np.ndarray
    beacon_mean_s: np.ndarray
    beacon_cv: np.ndarray
    #: The events in (user, time) order, for further per-user windows (not kept by take).
    by_user: KeyOrder | None = None

    def take(self, rows: np.ndarray) -> Aggregates:
        """The quantities of the events at time-order positions ``rows``."""
        return Aggregates(
            {name: w[rows] for name, w in self.windows.items()},
            self.travel.take(rows),
            *(getattr(self, name)[rows] for name in _ROW_ARRAYS),
        )


#: Aggregates' per-event arrays after ``windows`` and ``travel``, in field order.
_ROW_ARRAYS = ("out24", "daily", "beacon", "beacon_count", "beacon_mean_s", "beacon_cv")


def names_of_pairs(ev: Events, keys: np.ndarray) -> np.ndarray:
    """The :func:`~soc_anomaly.features.beacons.pair_names` of pair keys of ``ev``."""
    width = len(ev.categories["dst_host"]) + 1
    # key = user * width + dst, with dst -1 for a null destination.
    user = (keys + 1) // width
    dst = keys - user * width
    dst_names = np.append(ev.categories["dst_host"].to_numpy(dtype=object), None)
    return pair_names(ev.categories["user"].to_numpy(dtype=object)[user], dst_names[dst])


def connections(ev: Events, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair name and time of the network events among ``rows`` (time-order positions)."""
    rows = rows[ev.is_net[rows] & (ev.codes["dst_host"][rows] >= 0)]
    pair = pair_keys(
        ev.codes["user"][rows], ev.codes["dst_host"][rows], len(ev.categories["dst_host"])
    )
    keys, inverse = np.unique(pair, return_inverse=True)
    return names_of_pairs(ev, keys)[inverse], ev.time[rows]


def _regularity(
    ev: Events,
    pair: np.ndarray,
    beacon_intervals: int,
    min_beacon_intervals: int,
    prior: BeaconState | None,
    own: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``regularity`` of every connection, or with ``prior``: of the ``own`` rows only,
    their pairs' earlier connection times read from ``prior`` (the other rows get 0)."""
    # Connections to an unknown destination are no pair's: they take no part.
    to_known = ev.is_net & (ev.codes["dst_host"] >= 0)
    if prior is None or own is None:
        return regularity(pair, ev.time, to_known, beacon_intervals, min_beacon_intervals, CV_FLOOR)
    rows = np.flatnonzero(own & to_known)
    keys = np.unique(pair[rows])
    earlier = prior.lookup(names_of_pairs(ev, keys))
    slot = earlier != NO_TIME
    key = np.concatenate([np.repeat(keys, prior.n)[slot.ravel()], pair[rows]])
    time = np.concatenate([earlier.ravel()[slot.ravel()], ev.time[rows]])
    got = regularity(
        key, time, np.ones(len(key), dtype=bool), beacon_intervals, min_beacon_intervals, CV_FLOOR
    )
    n_prior = int(slot.sum())
    out = tuple(np.zeros(len(ev), dtype=a.dtype) for a in got)
    for full, part in zip(out, got, strict=True):
        full[rows] = part[n_prior:]
    return out  # type: ignore[return-value]


def causal_aggregates(
    ev: Events,
    min_travel_km: float,
    beacon_intervals: int,
    min_beacon_intervals: int,
    prior: BeaconState | None = None,
    own: np.ndarray | None = None,
) -> Aggregates:
    """Every window, travel and regularity quantity of ``ev`` (see the module docstring).

    With ``prior`` (a stream's carried pairs) and ``own`` (the chunk's rows, in
    time order), ``beacon_regularity`` of the own rows reads its pairs' earlier
    connections from ``prior`` instead of ``ev``.
    """
    user, ip = ev.codes["user"], ev.codes["src_ip"]
    by_user = KeyOrder(user, ev.time)
    by_ip = KeyOrder(ip, ev.time)
    has_ip = ip >= 0
    fail = ev.failure & ev.is_auth
    windows = {
        "user_failures_10m": by_user.window_sum(fail, _10M),
        "user_failures_1h": by_user.window_sum(fail, _1H),
        "user_failures_24h": by_user.window_sum(fail, _24H),
        "ip_failures_10m": np.where(has_ip, by_ip.window_sum(fail, _10M), 0),
        "ip_failures_1h": np.where(has_ip, by_ip.window_sum(fail, _1H), 0),
        "ip_failed_users_1h": np.where(has_ip, by_ip.window_distinct(fail, user, _1H), 0),
        "ip_failed_users_24h": np.where(has_ip, by_ip.window_distinct(fail, user, _24H), 0),
        "user_mfa_denials_1h": by_user.window_sum(ev.mfa_denied & ev.is_auth, _1H),
        "user_mfa_denials_24h": by_user.window_sum(ev.mfa_denied & ev.is_auth, _24H),
    }
    sent = np.where(ev.outbound & ev.is_net, np.nan_to_num(ev.bytes_out, nan=0.0), 0.0)
    out24 = by_user.window_sum(sent.astype(np.int64), _24H).astype(np.float64)
    day = ev.local_ms // MS_PER_DAY
    daily = daily_distinct(by_user, day, ev.codes["dst_host"])
    travel = previous_login(user, ev.time, ev.lat, ev.lon, ev.is_auth, min_travel_km)
    n_dst = len(ev.categories["dst_host"])
    pair = pair_keys(user, ev.codes["dst_host"], n_dst)
    beacon, count, mean_s, cv = _regularity(
        ev, pair, beacon_intervals, min_beacon_intervals, prior, own
    )
    return Aggregates(windows, travel, out24, daily, beacon, count, mean_s, cv, by_user)


def _new_place_speed(
    est: EntityFeatures, ev: Events, user: np.ndarray, travel: Travel
) -> np.ndarray:
    """The travel speed where the logon is far from every training place of the user."""
    out = np.zeros(len(ev))
    rows = np.flatnonzero(travel.speed_kmh > 0)
    km = km_from_known(user[rows], ev.lat[rows], ev.lon[rows], *est.places_)
    out[rows] = np.where(km > est.min_travel_km, travel.speed_kmh[rows], 0.0)
    return out


def _new_destinations(
    ev: Events, new_dst: np.ndarray, by_user: KeyOrder | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per event, over the user's last 24 hours: distinct destinations new to the user,
    and log10(1 + outbound bytes sent to them).

    A lateral move touches several hosts the user never touched, and an exfiltration
    sends to a place the user never used; one such event is common, many in a day are not.
    """
    if by_user is None:
        by_user = KeyOrder(ev.codes["user"], ev.time)
    hosts = by_user.window_distinct(new_dst, ev.codes["dst_host"], _24H).astype(np.float64)
    sent = np.where(new_dst & ev.outbound & ev.is_net, np.nan_to_num(ev.bytes_out, nan=0.0), 0.0)
    volume = by_user.window_sum(sent.astype(np.int64), _24H).astype(np.float64)
    return hosts, np.log10(volume + 1.0)


def _first_seen(est: EntityFeatures, ev: Events, user: np.ndarray, column: str) -> np.ndarray:
    """1.0 where the event's ``column`` value was never seen with its user in training."""
    vocab = est.vocab_[column]
    value = ev.fitted_codes(column, vocab)
    return first_seen(user, value, ev.codes[column] >= 0, est.seen_[column], len(vocab))


#: Features an unknown raw value leaves at the training median (a typical event's
#: value) rather than at either end of their range, by the raw column; counts over a
#: window (True) keep a higher value that the window's known values give.
_NEUTRAL: dict[str, dict[str, bool]] = {
    "dst_host": {"daily_dst_hosts_ratio": True, "dept_dst_rarity": False},
    "direction": {"bytes_out_24h_ratio": True},
}
#: Row of :data:`~soc_anomaly.features.deviation.LEVELS` read as the median (level 0.3:
#: the 49.9th percentile of the training values).
MEDIAN_LEVEL = 3


def _neutral_where_unknown(
    est: EntityFeatures, cols: dict[str, np.ndarray], column: str, unknown: np.ndarray
) -> None:
    """Set the :data:`_NEUTRAL` features of raw ``column`` to their training median
    where it is ``unknown``, so an unknown is no evidence to one-sided and two-sided
    detectors alike. Before the sketch of training values exists (during ``fit``), the
    values stay as computed (an unknown counts for nothing).
    """
    sketch = getattr(est, "deviation_sketch_", None)
    if sketch is None or not unknown.any():
        return
    names = list(FEATURES)
    for name, floor in _NEUTRAL[column].items():
        median = float(sketch[names.index(name), MEDIAN_LEVEL])
        if not np.isfinite(median):
            continue
        value = np.maximum(cols[name], median) if floor else median
        cols[name] = np.where(unknown, value, cols[name])


def user_rows(est: EntityFeatures, ev: Events) -> np.ndarray:
    """Row of each event's user in the fitted per-user tables (the population if new)."""
    user = ev.fitted_codes("user", est.vocab_["user"])
    return np.where(user >= 0, user, len(est.vocab_["user"]))


def sequences_of(est: EntityFeatures, part: Events, state: SequenceState | None) -> SequenceColumns:
    """The sequence quantities of ``part``'s events, read after ``state``."""
    from soc_anomaly.features.sequence_features import sequence_columns

    user = part.fitted_codes("user", est.vocab_["user"])
    new_device = _first_seen(est, part, user, "device_id")
    new_dst = _first_seen(est, part, user, "dst_host")
    return sequence_columns(est, part, user, new_device, new_dst, state)


def advance_sequences(
    est: EntityFeatures, ev: Events, rows: np.ndarray, state: SequenceState | None
) -> SequenceState:
    """The sequence state after the events at time-order positions ``rows``."""
    return sequences_of(est, ev.take(rows), state).state


def sequence_context_at(est: EntityFeatures, ev: Events, pos: np.ndarray) -> dict:
    """:func:`~soc_anomaly.features.sequence_features.sequence_context` of the events at
    time-order positions ``pos`` of ``ev``, read from their entities' events in ``ev``."""
    from soc_anomaly.features.sequence_features import sequence_context

    # Only the explained events' entities: a few accounts of a long history.
    keep = np.flatnonzero(np.isin(ev.codes["user"], ev.codes["user"][pos]))
    seq = sequences_of(est, ev.take(keep), None)
    at = np.searchsorted(keep, pos)
    return sequence_context(seq.actions[at], seq.history[at])


def assemble(
    est: EntityFeatures,
    ev: Events,
    agg: Aggregates,
    rows: np.ndarray | None = None,
    sequences: SequenceState | None = None,
    out: dict[str, SequenceColumns] | None = None,
) -> np.ndarray:
    """The feature matrix, one row per feature (:data:`FEATURES` order), events in time order.

    With ``rows`` (time-order positions), only those events' columns: a stream
    chunk is read after the carried events its windows need, but only its own
    events are featurised. ``sequences`` is what the stream carried of each
    entity's actions; ``out["sequences"]``, when ``out`` is given, receives
    the events' :class:`~soc_anomaly.features.sequence_features.SequenceColumns`.
    """
    from soc_anomaly.features.sequence_features import sequence_columns

    tables, vocab = est.user_tables_, est.vocab_
    # The new-destination windows count earlier events' first sightings: over all events.
    user = ev.fitted_codes("user", vocab["user"])
    new_dst = _first_seen(est, ev, user, "dst_host")
    new_dst_hosts, new_dst_bytes = _new_destinations(ev, new_dst > 0, agg.by_user)
    # Outbound bytes over 24 hours are unknown where the window holds a connection of
    # unknown direction (logons have no direction: they are not connections).
    no_direction = ev.is_net & ~ev.direction_known
    out24_unknown = np.zeros(len(ev), dtype=bool)
    if no_direction.any():
        by_user = agg.by_user or KeyOrder(ev.codes["user"], ev.time)
        out24_unknown = by_user.window_sum(no_direction, _24H) > 0
    if rows is not None:
        out24_unknown = out24_unknown[rows]
        ev, agg, user = ev.take(rows), agg.take(rows), user[rows]
        new_dst, new_dst_hosts, new_dst_bytes = (
            new_dst[rows],
            new_dst_hosts[rows],
            new_dst_bytes[rows],
        )
    row = np.where(user >= 0, user, len(vocab["user"]))
    hour, weekday = hour_weekday(ev)
    cols: dict[str, np.ndarray] = {
        "hour_rarity": tables["hour_rarity"][row, hour],
        "weekday_rarity": tables["weekday_rarity"][row, weekday],
    }
    for feature, column in (
        ("new_country", "src_country"),
        ("new_device", "device_id"),
        ("new_src_ip", "src_ip"),
    ):
        cols[feature] = _first_seen(est, ev, user, column)
    cols["new_dst_host"] = new_dst
    cols["new_user"] = (user < 0).astype(np.float64)
    net = ev.is_net
    for name, values in (("bytes_in", ev.bytes_in), ("bytes_out", ev.bytes_out)):
        z = robust_z(np.log1p(values), tables[f"{name}_loc"][row], tables[f"{name}_scale"][row])
        cols[f"{name}_z"] = np.where(net, z, 0.0)
    cols["daily_dst_hosts_ratio"] = agg.daily / np.maximum(tables["daily_dst_usual"][row], 1.0)
    cols["travel_speed_kmh"] = agg.travel.speed_kmh
    cols["new_place_speed_kmh"] = _new_place_speed(est, ev, user, agg.travel)
    cols["hours_since_prev_login"] = agg.travel.gap_h
    cols.update({k: v.astype(np.float64) for k, v in agg.windows.items()})
    cols["bytes_out_24h_ratio"] = np.log10(agg.out24 + 1.0) - np.log10(
        tables["out24_median"][row] + 1.0
    )
    cols["beacon_regularity"] = agg.beacon
    cols["new_dst_hosts_24h"], cols["new_dst_bytes_out_24h"] = new_dst_hosts, new_dst_bytes
    peers = est.peers_
    group = department_codes(peers, ev.fitted_codes("user", peers.members))
    dst = ev.fitted_codes("dst_host", vocab["dst_host"])
    known_dst = ev.codes["dst_host"] >= 0
    cols["dept_dst_rarity"] = peers.rarity(group, dst, len(vocab["dst_host"]), known_dst)[0]
    _neutral_where_unknown(est, cols, "dst_host", ~known_dst)
    _neutral_where_unknown(est, cols, "direction", out24_unknown)
    z = robust_z(np.log1p(ev.bytes_out), peers.bytes_out_loc[group], peers.bytes_out_scale[group])
    cols["dept_bytes_out_z"] = np.where(net, z, 0.0)
    seq = sequence_columns(est, ev, user, cols["new_device"], new_dst, sequences)
    cols["action_surprise"], cols["window_surprise"] = seq.surprise, seq.window
    if out is not None:
        out["sequences"] = seq
    # One row per feature: stacking contiguous columns is a plain copy, and the
    # transpose is the (events, features) layout a DataFrame keeps as one block.
    out = np.stack([np.asarray(cols[name], dtype=np.float64) for name in FEATURES])
    # Guard the documented promise (all finite) against any degenerate input.
    if not np.isfinite(out).all():
        np.nan_to_num(out, copy=False, nan=0.0, posinf=np.finfo(np.float64).max, neginf=0.0)
    return out
