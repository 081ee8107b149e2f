"""Seeded synthetic SOC telemetry: a user catalog, normal events and injected attacks.

Everything is vectorised with numpy and every random draw comes from one seed:
:func:`numpy.random.SeedSequence` splits it into independent streams for the
user catalog, the normal events and the attacks, so the same arguments always
give the same table, byte for byte once written, and
``generate_user_catalog(n, random_state=s)`` returns the very catalog that
``generate_synthetic_soc_dataset(n, ..., random_state=s)`` drew its events from.

Each event is one login session of a user with the network volume it carried:

========================  ===================================================
column                    meaning
========================  ===================================================
``event_id``              position of the event in time order
``timestamp``             when the session started (user's local time)
``user_id``               who logged in
``country``               country the session came from
``src_lat``/``src_lon``   where the session came from
``hour``                  hour of day of ``timestamp`` (0-23)
``geo_distance``          km between the source and the user's home
``bytes_in``/``bytes_out``  bytes received / sent in the session
``failed_logins``         failed authentication attempts in the session
``successful_logins``     successful authentications (0 or 1)
``device_trust_score``    posture score of the device, 0 (unknown) to 1
``user_risk_score``       the user's risk score from the catalog
``label``                 1 for an injected attack, else 0
``attack_type``           scenario name, ``"normal"`` for benign events
``mitre_technique``       ATT&CK technique id, ``"none"`` for benign events
========================  ===================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.attacks import ATTACK_SCENARIOS, NO_TECHNIQUE, NORMAL_ATTACK_TYPE
from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_RANDOM_STATE,
)
from soc_anomaly.data.schema import ATTACK_TYPE_COL as ATTACK_TYPE_COL
from soc_anomaly.data.schema import EVENT_COLUMNS, USER_COLUMNS
from soc_anomaly.data.schema import FEATURE_COLS as FEATURE_COLS
from soc_anomaly.data.schema import LABEL_COL as LABEL_COL
from soc_anomaly.errors import ParameterError, check_positive_int, check_range, check_seed

__all__ = [
    "EVENT_COLUMNS",
    "USER_COLUMNS",
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "inject_anomalies",
]

EARTH_RADIUS_KM = 6371.0088
#: Sessions start within this many days after ``START_DATE``.
SIMULATED_DAYS = 30
START_DATE = np.datetime64("2026-01-05T00:00:00", "s")

#: Share of high-risk users in the catalog ("about 10%").
HIGH_RISK_SHARE = 0.10
#: Share of users who work a night shift (a SOC runs round the clock).
NIGHT_SHIFT_SHARE = 0.06
#: Minimum distance of an impossible-travel source from the user's home.
IMPOSSIBLE_TRAVEL_MIN_KM = 2500.0

# (city, ISO country code, latitude, longitude). The first block are the
# organisation's offices, where users live; the whole list is where sessions
# can come from.
_CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("New York", "US", 40.7128, -74.0060),
    ("London", "GB", 51.5074, -0.1278),
    ("Frankfurt", "DE", 50.1109, 8.6821),
    ("Singapore", "SG", 1.3521, 103.8198),
    ("Toronto", "CA", 43.6532, -79.3832),
    ("Sydney", "AU", -33.8688, 151.2093),
    ("Sao Paulo", "BR", -23.5505, -46.6333),
    ("Lagos", "NG", 6.5244, 3.3792),
    ("Moscow", "RU", 55.7558, 37.6173),
    ("Beijing", "CN", 39.9042, 116.4074),
    ("Mumbai", "IN", 19.0760, 72.8777),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("Johannesburg", "ZA", -26.2041, 28.0473),
    ("Mexico City", "MX", 19.4326, -99.1332),
    ("Dubai", "AE", 25.2048, 55.2708),
    ("Seoul", "KR", 37.5665, 126.9780),
    ("Buenos Aires", "AR", -34.6037, -58.3816),
    ("Cairo", "EG", 30.0444, 31.2357),
    ("Jakarta", "ID", -6.2088, 106.8456),
    ("Istanbul", "TR", 41.0082, 28.9784),
)
_N_OFFICES = 6
_OFFICE_WEIGHTS = np.array([0.30, 0.22, 0.16, 0.12, 0.12, 0.08])
_CITY_COUNTRY = np.array([c[1] for c in _CITIES])
#: Country codes sessions can come from; events keep them as categorical codes.
COUNTRIES: tuple[str, ...] = tuple(sorted(set(_CITY_COUNTRY)))
_CITY_COUNTRY_CODE = np.searchsorted(COUNTRIES, _CITY_COUNTRY).astype(np.int16)
#: ``attack_type`` categories: code 0 is normal, code i + 1 the i-th scenario.
ATTACK_TYPES: tuple[str, ...] = (NORMAL_ATTACK_TYPE, *ATTACK_SCENARIOS)
_CITY_LAT = np.array([c[2] for c in _CITIES])
_CITY_LON = np.array([c[3] for c in _CITIES])


def _streams(random_state: int) -> tuple[np.random.Generator, ...]:
    """Independent generators for users, normal events and attacks."""
    check_seed(
        "random_state", int(random_state) if isinstance(random_state, np.integer) else random_state
    )
    children = np.random.SeedSequence(int(random_state)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (vectorised)."""
    lat1, lon1, lat2, lon2 = (np.radians(a) for a in (lat1, lon1, lat2, lon2))
    a = (
        np.sin((lat2 - lat1) / 2.0) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _offset_km(
    lat: np.ndarray, lon: np.ndarray, distance_km: np.ndarray, bearing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Point ``distance_km`` away from (lat, lon) along ``bearing`` (radians)."""
    phi1, lam1 = np.radians(lat), np.radians(lon)
    delta = distance_km / EARTH_RADIUS_KM
    phi2 = np.arcsin(np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(bearing))
    lam2 = lam1 + np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(phi1),
        np.cos(delta) - np.sin(phi1) * np.sin(phi2),
    )
    lon2 = (np.degrees(lam2) + 540.0) % 360.0 - 180.0
    return np.degrees(phi2), lon2


def _user_catalog(n_users: int, rng: np.random.Generator) -> pd.DataFrame:
    high = rng.random(n_users) < HIGH_RISK_SHARE
    risk = np.where(high, rng.beta(6.0, 2.0, n_users), rng.beta(2.0, 9.0, n_users))
    night = rng.random(n_users) < NIGHT_SHIFT_SHARE
    start = np.where(night, rng.integers(20, 23, n_users), rng.integers(7, 11, n_users))
    typical = (start + rng.uniform(0.0, 1.5, n_users)) % 24.0
    office = rng.choice(_N_OFFICES, size=n_users, p=_OFFICE_WEIGHTS)
    # Users live around their office, not on top of it.
    home_lat, home_lon = _offset_km(
        _CITY_LAT[office],
        _CITY_LON[office],
        rng.uniform(0.0, 40.0, n_users),
        rng.uniform(0.0, 2.0 * np.pi, n_users),
    )
    return pd.DataFrame(
        {
            "user_id": [f"user_{i:04d}" for i in range(n_users)],
            "risk_score": np.round(risk, 4),
            "is_high_risk": high,
            "night_shift": night,
            "typical_login_hour": np.round(typical, 2),
            "work_start_hour": start.astype(np.int64),
            "work_end_hour": ((start + 9) % 24).astype(np.int64),
            "baseline_bytes_in": np.round(rng.lognormal(np.log(8e6), 0.6, n_users)),
            "baseline_bytes_out": np.round(rng.lognormal(np.log(1.5e6), 0.6, n_users)),
            "home_city": np.array([c[0] for c in _CITIES])[office],
            "home_country": _CITY_COUNTRY[office],
            "home_lat": np.round(home_lat, 5),
            "home_lon": np.round(home_lon, 5),
        }
    )


def generate_user_catalog(
    n_users: int = DEFAULT_N_USERS, random_state: int = DEFAULT_RANDOM_STATE
) -> pd.DataFrame:
    """Generate the synthetic user catalog.

    Parameters
    ----------
    n_users : int, default=200
        Number of users.
    random_state : int, default=42
        Seed; the catalog equals the one the dataset of the same seed uses.

    Returns
    -------
    pandas.DataFrame
        One row per user with the columns in :data:`USER_COLUMNS`: a risk
        score (about 10% of users are high-risk), a typical login hour and a
        working-hours window (a few users work nights), baseline inbound and
        outbound bytes per session, and a home city, country and coordinates.
    """
    check_positive_int("n_users", n_users)
    users_rng, _, _ = _streams(random_state)
    return _user_catalog(n_users, users_rng)


@dataclass
class _Columns:
    """Event columns as numpy arrays, edited in place by the attack injectors."""

    user: np.ndarray
    seconds: np.ndarray
    hour: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray
    bytes_in: np.ndarray
    bytes_out: np.ndarray
    failed: np.ndarray
    success: np.ndarray
    trust: np.ndarray


def _normal_columns(
    users: pd.DataFrame, events_per_user: int, rng: np.random.Generator
) -> _Columns:
    n_users = len(users)
    n = n_users * events_per_user
    user = np.repeat(np.arange(n_users, dtype=np.int32), events_per_user)
    typical = users["typical_login_hour"].to_numpy()[user]
    # Sessions start around the user's usual login time.
    hour = np.floor(typical + rng.normal(0.0, 1.4, n)).astype(np.int64) % 24
    day = rng.integers(0, SIMULATED_DAYS, n)
    seconds = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)

    # Almost always from home (a few km); a small share roams within the region.
    roaming = rng.random(n) < 0.015
    distance = np.where(roaming, rng.uniform(30.0, 600.0, n), rng.exponential(3.0, n))
    lat, lon = _offset_km(
        users["home_lat"].to_numpy()[user],
        users["home_lon"].to_numpy()[user],
        distance,
        rng.uniform(0.0, 2.0 * np.pi, n),
    )
    country = np.searchsorted(COUNTRIES, users["home_country"].to_numpy()).astype(np.int16)[user]

    bytes_in = users["baseline_bytes_in"].to_numpy()[user] * rng.lognormal(0.0, 0.45, n)
    bytes_out = users["baseline_bytes_out"].to_numpy()[user] * rng.lognormal(0.0, 0.45, n)

    # Mostly successful logins; typos cause occasional failures, riskier users
    # a few more; now and then a user gives up without succeeding.
    risk = users["risk_score"].to_numpy()[user]
    failed = rng.poisson(0.05 + 0.15 * risk, n)
    gave_up = rng.random(n) < 0.015
    failed = np.where(gave_up, np.maximum(failed, 1), failed)
    success = (~gave_up).astype(np.int64)

    # Managed devices score high; a few sessions come from a new device.
    new_device = rng.random(n) < 0.04
    trust = np.where(new_device, rng.beta(6.0, 4.0, n), rng.beta(20.0, 1.5, n))

    return _Columns(
        user=user,
        seconds=seconds,
        hour=hour,
        lat=lat,
        lon=lon,
        country=country,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        failed=failed.astype(np.int64),
        success=success,
        trust=trust,
    )


def _exfiltration(c: _Columns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    # Late relative to the user's own schedule: 14-20 h after the usual login.
    typical = users["typical_login_hour"].to_numpy()[u]
    c.hour[rows] = np.floor(typical + rng.uniform(14.0, 20.0, n)).astype(np.int64) % 24
    c.bytes_out[rows] = users["baseline_bytes_out"].to_numpy()[u] * rng.uniform(40.0, 400.0, n)
    c.trust[rows] = rng.uniform(0.02, 0.35, n)
    c.failed[rows] = 0
    c.success[rows] = 1


def _impossible_travel(c: _Columns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    home_lat = users["home_lat"].to_numpy()[u]
    home_lon = users["home_lon"].to_numpy()[u]
    # Pick, per event, a random city far enough from home: random keys with
    # the too-near cities masked out, then the arg-max.
    dist = haversine_km(
        home_lat[:, None], home_lon[:, None], _CITY_LAT[None, :], _CITY_LON[None, :]
    )
    keys = np.where(dist >= IMPOSSIBLE_TRAVEL_MIN_KM, rng.random(dist.shape), -1.0)
    city = keys.argmax(axis=1)
    c.lat[rows], c.lon[rows] = _offset_km(
        _CITY_LAT[city], _CITY_LON[city], rng.exponential(10.0, n), rng.uniform(0, 2 * np.pi, n)
    )
    c.country[rows] = _CITY_COUNTRY_CODE[city]
    c.trust[rows] = rng.uniform(0.3, 0.75, n)
    c.failed[rows] = rng.poisson(0.3, n)
    c.success[rows] = 1


def _brute_force(c: _Columns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    c.hour[rows] = rng.integers(0, 24, n)
    city = rng.integers(0, len(_CITIES), n)
    c.lat[rows], c.lon[rows] = _offset_km(
        _CITY_LAT[city], _CITY_LON[city], rng.exponential(10.0, n), rng.uniform(0, 2 * np.pi, n)
    )
    c.country[rows] = _CITY_COUNTRY_CODE[city]
    c.failed[rows] = rng.integers(20, 51, n)
    c.success[rows] = 0
    # Failed handshakes carry almost no payload.
    c.bytes_in[rows] = users["baseline_bytes_in"].to_numpy()[u] * rng.uniform(0.001, 0.02, n)
    c.bytes_out[rows] = users["baseline_bytes_out"].to_numpy()[u] * rng.uniform(0.001, 0.02, n)
    c.trust[rows] = rng.uniform(0.05, 0.5, n)


_Injector = Callable[[_Columns, np.ndarray, pd.DataFrame, np.random.Generator], None]

#: How each scenario of :data:`soc_anomaly.attacks.ATTACK_SCENARIOS` edits events.
ATTACK_INJECTORS: dict[str, _Injector] = {
    "exfiltration": _exfiltration,
    "impossible_travel": _impossible_travel,
    "brute_force": _brute_force,
}


def _inject(
    c: _Columns,
    users: pd.DataFrame,
    anomaly_fraction: float,
    rng: np.random.Generator,
    attack_types: tuple[str, ...],
) -> np.ndarray:
    """Turn a share of the events into attacks; return each row's attack-type code."""
    n = len(c.user)
    n_anomalies = min(max(1, round(anomaly_fraction * n)), n - 1) if n > 1 else 0
    # Attackers favour risky users: weighted sampling without replacement by
    # Efraimidis-Spirakis keys u**(1/w), vectorised as log(u)/w.
    weights = 1.0 + 4.0 * users["risk_score"].to_numpy()[c.user]
    keys = np.log(rng.random(n)) / weights
    rows = np.sort(np.argpartition(-keys, n_anomalies - 1)[:n_anomalies]) if n_anomalies else []
    kinds = np.zeros(n, dtype=np.int8)
    # An even split of the attacks across the scenarios, in random order.
    per_type = np.array_split(rng.permutation(np.asarray(rows, dtype=np.int64)), len(attack_types))
    for name, type_rows in zip(attack_types, per_type, strict=True):
        type_rows = np.sort(type_rows)
        ATTACK_INJECTORS[name](c, type_rows, users, rng)
        kinds[type_rows] = ATTACK_TYPES.index(name)
    return kinds


def _to_frame(c: _Columns, users: pd.DataFrame, kinds: np.ndarray) -> pd.DataFrame:
    # Attack events may have moved in time (hour changed); recompute the
    # timestamp from the day and the possibly new hour, then order by time.
    day = c.seconds // 86400
    seconds = day * 86400 + c.hour * 3600 + c.seconds % 3600
    order = np.lexsort((c.user, seconds))
    user = c.user[order]
    home_lat = users["home_lat"].to_numpy()[user]
    home_lon = users["home_lon"].to_numpy()[user]
    lat, lon = c.lat[order], c.lon[order]
    kinds = kinds[order]
    label = (kinds != 0).astype(np.int64)
    technique_of_type = [ATTACK_SCENARIOS[t].technique_id for t in ATTACK_TYPES[1:]]
    techniques = list(dict.fromkeys([NO_TECHNIQUE, *technique_of_type]))
    technique_code = np.array([techniques.index(t) for t in [NO_TECHNIQUE, *technique_of_type]])
    return pd.DataFrame(
        {
            "event_id": np.arange(len(order), dtype=np.int64),
            "timestamp": START_DATE + seconds[order].astype("timedelta64[s]"),
            "user_id": pd.Categorical.from_codes(user, categories=users["user_id"]),
            "country": pd.Categorical.from_codes(c.country[order], categories=COUNTRIES),
            "src_lat": np.round(lat, 5),
            "src_lon": np.round(lon, 5),
            "hour": c.hour[order],
            "geo_distance": np.round(haversine_km(home_lat, home_lon, lat, lon), 3),
            "bytes_in": np.round(c.bytes_in[order]).astype(np.int64),
            "bytes_out": np.round(c.bytes_out[order]).astype(np.int64),
            "failed_logins": c.failed[order],
            "successful_logins": c.success[order],
            "device_trust_score": np.round(c.trust[order], 4),
            "user_risk_score": users["risk_score"].to_numpy()[user],
            "label": label,
            "attack_type": pd.Categorical.from_codes(kinds, categories=ATTACK_TYPES),
            "mitre_technique": pd.Categorical.from_codes(
                technique_code[kinds], categories=techniques
            ),
        },
        columns=list(EVENT_COLUMNS),
    )


def generate_normal_events(
    users: pd.DataFrame,
    events_per_user: int = DEFAULT_EVENTS_PER_USER,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> pd.DataFrame:
    """Generate benign sessions only (every ``label`` is 0).

    Parameters
    ----------
    users : pandas.DataFrame
        A catalog from :func:`generate_user_catalog`.
    events_per_user : int, default=200
        Sessions per user.
    random_state : int, default=42
        Seed.

    Returns
    -------
    pandas.DataFrame
        Events with the columns in :data:`EVENT_COLUMNS`, ordered by time.
    """
    check_positive_int("events_per_user", events_per_user)
    _, events_rng, _ = _streams(random_state)
    c = _normal_columns(users, events_per_user, events_rng)
    return _to_frame(c, users, np.zeros(len(c.user), dtype=np.int8))


def inject_anomalies(
    events: pd.DataFrame,
    users: pd.DataFrame,
    anomaly_fraction: float = DEFAULT_ANOMALY_FRACTION,
    random_state: int = DEFAULT_RANDOM_STATE,
    attack_types: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Replace a share of the events with attacks from the scenario table.

    The victims are drawn without replacement, weighted towards high-risk
    users; the attacks are split evenly across ``attack_types``.

    Parameters
    ----------
    events : pandas.DataFrame
        Normal events, e.g. from :func:`generate_normal_events`.
    users : pandas.DataFrame
        The catalog the events were generated from.
    anomaly_fraction : float, default=0.01
        Share of events to turn into attacks, in (0, 0.5).
    random_state : int, default=42
        Seed.
    attack_types : tuple of str, optional
        Scenario names to inject; all of :data:`ATTACK_SCENARIOS` by default.

    Returns
    -------
    pandas.DataFrame
        A new table with the same columns, labelled, ordered by time.
    """
    check_range("anomaly_fraction", anomaly_fraction, 0.0, 0.5)
    attack_types = tuple(attack_types or ATTACK_SCENARIOS)
    unknown = [a for a in attack_types if a not in ATTACK_INJECTORS]
    if unknown:
        raise ParameterError(
            f"unknown attack type(s) {', '.join(unknown)}; expected any of "
            f"{', '.join(ATTACK_INJECTORS)}"
        )
    _, _, attacks_rng = _streams(random_state)
    index = pd.Index(users["user_id"])
    seconds = (
        (events["timestamp"].to_numpy() - START_DATE).astype("timedelta64[s]").astype(np.int64)
    )
    c = _Columns(
        user=index.get_indexer(events["user_id"].astype(str)).astype(np.int32),
        seconds=seconds,
        hour=events["hour"].to_numpy(dtype=np.int64).copy(),
        lat=events["src_lat"].to_numpy(dtype=float).copy(),
        lon=events["src_lon"].to_numpy(dtype=float).copy(),
        country=pd.Categorical(events["country"].astype(str), categories=COUNTRIES)
        .codes.astype(np.int16)
        .copy(),
        bytes_in=events["bytes_in"].to_numpy(dtype=float).copy(),
        bytes_out=events["bytes_out"].to_numpy(dtype=float).copy(),
        failed=events["failed_logins"].to_numpy(dtype=np.int64).copy(),
        success=events["successful_logins"].to_numpy(dtype=np.int64).copy(),
        trust=events["device_trust_score"].to_numpy(dtype=float).copy(),
    )
    if (c.user < 0).any():
        raise ParameterError("events name users that are not in the user catalog")
    if (c.country < 0).any():
        raise ParameterError(f"events name countries outside {', '.join(COUNTRIES)}")
    kinds = _inject(c, users, anomaly_fraction, attacks_rng, attack_types)
    return _to_frame(c, users, kinds)


def generate_synthetic_soc_dataset(
    n_users: int = DEFAULT_N_USERS,
    events_per_user: int = DEFAULT_EVENTS_PER_USER,
    anomaly_fraction: float = DEFAULT_ANOMALY_FRACTION,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> pd.DataFrame:
    """Generate a labelled synthetic SOC dataset.

    ``n_users * events_per_user`` sessions are generated around each user's
    baselines, then ``round(anomaly_fraction * total)`` of them (at least one)
    are replaced by attacks: exfiltration, impossible travel and brute force,
    in equal shares.

    Parameters
    ----------
    n_users : int, default=200
        Number of users in the catalog.
    events_per_user : int, default=200
        Sessions per user.
    anomaly_fraction : float, default=0.01
        Share of the events that are attacks, in (0, 0.5).
    random_state : int, default=42
        The one seed of every random draw.

    Returns
    -------
    pandas.DataFrame
        ``n_users * events_per_user`` rows with the columns in
        :data:`EVENT_COLUMNS`, ordered by time.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If a count is not a positive integer or the fraction is outside (0, 0.5).

    Examples
    --------
    >>> df = generate_synthetic_soc_dataset(n_users=20, events_per_user=50, random_state=1)
    >>> len(df), int(df["label"].sum())
    (1000, 10)
    """
    check_positive_int("n_users", n_users)
    check_positive_int("events_per_user", events_per_user)
    check_range("anomaly_fraction", anomaly_fraction, 0.0, 0.5)
    users_rng, events_rng, attacks_rng = _streams(random_state)
    users = _user_catalog(n_users, users_rng)
    c = _normal_columns(users, events_per_user, events_rng)
    kinds = _inject(c, users, anomaly_fraction, attacks_rng, tuple(ATTACK_SCENARIOS))
    return _to_frame(c, users, kinds)
