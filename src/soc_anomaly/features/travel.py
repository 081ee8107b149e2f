"""Travel between a user's consecutive logons: great-circle speed and the gap.

Only authentication events with coordinates take part; an event's previous
logon is the same user's last such event before it in time order (causal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soc_anomaly.features.columns import MS_PER_HOUR

__all__ = ["EARTH_RADIUS_KM", "MIN_GAP_H", "Travel", "haversine_km", "previous_login"]

EARTH_RADIUS_KM = 6371.0088
#: Gaps shorter than a minute count as a minute, so two logons in the same
#: millisecond from far apart give a large but finite speed.
MIN_GAP_H = 1.0 / 60.0


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray):
    """Great-circle distance in kilometres between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass
class Travel:
    """Per event: speed (km/h), gap (h), distance (km) and the previous logon's position.

    ``prev`` is -1 where there is no previous logon (and for events without
    coordinates); speed and gap are 0 there.
    """

    speed_kmh: np.ndarray
    gap_h: np.ndarray
    distance_km: np.ndarray
    prev: np.ndarray

    def take(self, rows: np.ndarray) -> Travel:
        """The values of the events at positions ``rows`` (``prev`` still indexes all events)."""
        return Travel(
            self.speed_kmh[rows], self.gap_h[rows], self.distance_km[rows], self.prev[rows]
        )


def previous_login(
    user: np.ndarray,
    time: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    is_auth: np.ndarray,
    min_travel_km: float,
) -> Travel:
    """Speed from each logon's previous logon of the same user (events in time order).

    Parameters
    ----------
    user : ndarray of int64
        User code per event.
    time : ndarray of int64
        Epoch milliseconds, non-decreasing.
    lat, lon : ndarray of float64
        Source coordinates (NaN where unknown).
    is_auth : ndarray of bool
        Authentication events.
    min_travel_km : float
        Distances below this give speed 0: addresses of one metropolitan area
        geolocate tens of kilometres apart, which over a minute is hundreds of km/h.

    Returns
    -------
    Travel
    """
    n = len(user)
    speed, gap, dist = np.zeros(n), np.zeros(n), np.zeros(n)
    prev = np.full(n, -1, dtype=np.int64)
    pos = np.flatnonzero(is_auth & ~np.isnan(lat) & ~np.isnan(lon))
    if len(pos) > 1:
        pos = pos[np.argsort(user[pos], kind="stable")]
        has = np.zeros(len(pos), dtype=bool)
        has[1:] = user[pos[1:]] == user[pos[:-1]]
        cur, before = pos[1:][has[1:]], pos[:-1][has[1:]]
        d = haversine_km(lat[before], lon[before], lat[cur], lon[cur])
        g = (time[cur] - time[before]) / MS_PER_HOUR
        dist[cur], gap[cur], prev[cur] = d, g, before
        speed[cur] = np.where(d >= min_travel_km, d / np.maximum(g, MIN_GAP_H), 0.0)
    return Travel(speed, gap, dist, prev)


def fit_places(
    user: np.ndarray, lat: np.ndarray, lon: np.ndarray, mask: np.ndarray, n_users: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's distinct logon places in training (coordinates rounded to 0.1 degree).

    Returns ``offsets`` (n_users + 1; user ``u``'s places are ``offsets[u]:offsets[u+1]``)
    and the places' latitudes and longitudes.
    """
    ok = mask & ~np.isnan(lat) & ~np.isnan(lon)
    cells = np.unique(
        np.stack([user[ok], np.round(lat[ok] * 10), np.round(lon[ok] * 10)], axis=1), axis=0
    )
    counts = np.bincount(cells[:, 0].astype(np.int64), minlength=n_users)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return offsets, cells[:, 1] / 10.0, cells[:, 2] / 10.0


def km_from_known(
    user: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    offsets: np.ndarray,
    place_lat: np.ndarray,
    place_lon: np.ndarray,
) -> np.ndarray:
    """Distance from each point to its user's nearest training place (inf if none).

    ``user`` holds fitted codes (-1: a user without training places).
    """
    out = np.full(len(user), np.inf)
    known = user >= 0
    if not known.any():
        return out
    rows = np.flatnonzero(known)
    start, stop = offsets[user[rows]], offsets[user[rows] + 1]
    n = stop - start
    owner = np.repeat(np.arange(len(rows)), n)
    place = np.repeat(start, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    d = haversine_km(lat[rows][owner], lon[rows][owner], place_lat[place], place_lon[place])
    best = np.full(len(rows), np.inf)
    np.minimum.at(best, owner, d)
    out[rows] = best
    return out
