"""The seed scenario: a user catalog, normal sessions and injected attacks, from one seed.

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

import numpy as np
import pandas as pd

from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_RANDOM_STATE,
)
from soc_anomaly.data.schema import EVENT_COLUMNS, NO_TECHNIQUE
from soc_anomaly.errors import ParameterError, check_positive_int, check_range, check_seed
from soc_anomaly.scenarios.geo import haversine_km
from soc_anomaly.scenarios.seed.attacks import (
    ATTACK_INJECTORS,
    ATTACK_SCENARIOS,
    ATTACK_TYPES,
    inject_attacks,
)
from soc_anomaly.scenarios.seed.cities import COUNTRIES
from soc_anomaly.scenarios.seed.events import START_DATE, EventColumns, normal_columns
from soc_anomaly.scenarios.seed.users import user_catalog

__all__ = [
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "inject_anomalies",
]


def _streams(random_state: int) -> tuple[np.random.Generator, ...]:
    """Independent generators for users, normal events and attacks."""
    check_seed(
        "random_state", int(random_state) if isinstance(random_state, np.integer) else random_state
    )
    children = np.random.SeedSequence(int(random_state)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)


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
        One row per user with the columns in
        :data:`~soc_anomaly.data.schema.USER_COLUMNS`: a risk score (about 10%
        of users are high-risk), a typical login hour and a working-hours
        window (a few users work nights), baseline inbound and outbound bytes
        per session, and a home city, country and coordinates.
    """
    check_positive_int("n_users", n_users)
    users_rng, _, _ = _streams(random_state)
    return user_catalog(n_users, users_rng)


def _to_frame(c: EventColumns, users: pd.DataFrame, kinds: np.ndarray) -> pd.DataFrame:
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
        Events with the columns in :data:`~soc_anomaly.data.schema.EVENT_COLUMNS`, ordered by time.
    """
    check_positive_int("events_per_user", events_per_user)
    _, events_rng, _ = _streams(random_state)
    c = normal_columns(users, events_per_user, events_rng)
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
        Scenario names to inject; all of
        :data:`~soc_anomaly.scenarios.seed.attacks.ATTACK_SCENARIOS` by default.

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
    c = EventColumns(
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
    kinds = inject_attacks(c, users, anomaly_fraction, attacks_rng, attack_types)
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
        :data:`~soc_anomaly.data.schema.EVENT_COLUMNS`, ordered by time.

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
    users = user_catalog(n_users, users_rng)
    c = normal_columns(users, events_per_user, events_rng)
    kinds = inject_attacks(c, users, anomaly_fraction, attacks_rng, tuple(ATTACK_SCENARIOS))
    return _to_frame(c, users, kinds)
