"""The seed attacks: each one's MITRE ATT&CK metadata beside the code that injects it.

Every injected anomaly carries the ``name`` of its scenario in the
``attack_type`` column and the scenario's ``technique_id`` in the
``mitre_technique`` column. :data:`ATTACK_SCENARIOS` is the single source of
both, so a label can always be traced back to a documented technique.

Adding a seed attack is one :class:`SeedAttack` here: the metadata and an
injector that edits the chosen rows of :class:`EventColumns` in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soc_anomaly.data.schema import NO_TECHNIQUE, NORMAL_ATTACK_TYPE
from soc_anomaly.scenarios.geo import haversine_km, offset_km
from soc_anomaly.scenarios.seed.cities import CITIES, CITY_COUNTRY_CODE, CITY_LAT, CITY_LON
from soc_anomaly.scenarios.seed.events import EventColumns

__all__ = [
    "ATTACK_INJECTORS",
    "ATTACK_SCENARIOS",
    "ATTACK_TYPES",
    "IMPOSSIBLE_TRAVEL_MIN_KM",
    "NORMAL_ATTACK_TYPE",
    "NO_TECHNIQUE",
    "SEED_ATTACKS",
    "AttackScenario",
    "SeedAttack",
    "inject_attacks",
    "technique_for",
]

#: Minimum distance of an impossible-travel source from the user's home.
IMPOSSIBLE_TRAVEL_MIN_KM = 2500.0


@dataclass(frozen=True)
class AttackScenario:
    """One injectable attack and where it sits in MITRE ATT&CK.

    Attributes
    ----------
    name : str
        Value of the ``attack_type`` column.
    technique_id : str
        MITRE ATT&CK technique (or sub-technique) id, e.g. ``"T1110.001"``.
    technique_name : str
        The technique's name in ATT&CK.
    tactic : str
        The ATT&CK tactic the behaviour serves.
    description : str
        What the injected events look like, in analyst terms.
    """

    name: str
    technique_id: str
    technique_name: str
    tactic: str
    description: str


#: ``injector(columns, rows, users, rng)`` turns ``rows`` of ``columns`` into the attack.
Injector = Callable[[EventColumns, np.ndarray, pd.DataFrame, np.random.Generator], None]


@dataclass(frozen=True)
class SeedAttack:
    """A seed attack: what it is and how it edits events."""

    scenario: AttackScenario
    inject: Injector = field(repr=False)


# -- exfiltration ---------------------------------------------------------------


def _exfiltration(c: EventColumns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    # Late relative to the user's own schedule: 14-20 h after the usual login.
    typical = users["typical_login_hour"].to_numpy()[u]
    c.hour[rows] = np.floor(typical + rng.uniform(14.0, 20.0, n)).astype(np.int64) % 24
    c.bytes_out[rows] = users["baseline_bytes_out"].to_numpy()[u] * rng.uniform(40.0, 400.0, n)
    c.trust[rows] = rng.uniform(0.02, 0.35, n)
    c.failed[rows] = 0
    c.success[rows] = 1


EXFILTRATION = SeedAttack(
    AttackScenario(
        name="exfiltration",
        technique_id="T1048",
        technique_name="Exfiltration Over Alternative Protocol",
        tactic="Exfiltration",
        description=(
            "a session far outside the user's working hours from an untrusted device "
            "that sends 40-400x the user's usual outbound volume"
        ),
    ),
    _exfiltration,
)


# -- impossible travel -------------------------------------------------------------


def _impossible_travel(c: EventColumns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    home_lat = users["home_lat"].to_numpy()[u]
    home_lon = users["home_lon"].to_numpy()[u]
    # Pick, per event, a random city far enough from home: random keys with
    # the too-near cities masked out, then the arg-max.
    dist = haversine_km(home_lat[:, None], home_lon[:, None], CITY_LAT[None, :], CITY_LON[None, :])
    keys = np.where(dist >= IMPOSSIBLE_TRAVEL_MIN_KM, rng.random(dist.shape), -1.0)
    city = keys.argmax(axis=1)
    c.lat[rows], c.lon[rows] = offset_km(
        CITY_LAT[city], CITY_LON[city], rng.exponential(10.0, n), rng.uniform(0, 2 * np.pi, n)
    )
    c.country[rows] = CITY_COUNTRY_CODE[city]
    c.trust[rows] = rng.uniform(0.3, 0.75, n)
    c.failed[rows] = rng.poisson(0.3, n)
    c.success[rows] = 1


IMPOSSIBLE_TRAVEL = SeedAttack(
    AttackScenario(
        name="impossible_travel",
        technique_id="T1078",
        technique_name="Valid Accounts",
        tactic="Initial Access",
        description=(
            "a successful login from another country thousands of kilometres from the "
            "user's home, at the user's usual hour"
        ),
    ),
    _impossible_travel,
)


# -- brute force ---------------------------------------------------------------------


def _brute_force(c: EventColumns, rows: np.ndarray, users: pd.DataFrame, rng) -> None:
    n = len(rows)
    u = c.user[rows]
    c.hour[rows] = rng.integers(0, 24, n)
    city = rng.integers(0, len(CITIES), n)
    c.lat[rows], c.lon[rows] = offset_km(
        CITY_LAT[city], CITY_LON[city], rng.exponential(10.0, n), rng.uniform(0, 2 * np.pi, n)
    )
    c.country[rows] = CITY_COUNTRY_CODE[city]
    c.failed[rows] = rng.integers(20, 51, n)
    c.success[rows] = 0
    # Failed handshakes carry almost no payload.
    c.bytes_in[rows] = users["baseline_bytes_in"].to_numpy()[u] * rng.uniform(0.001, 0.02, n)
    c.bytes_out[rows] = users["baseline_bytes_out"].to_numpy()[u] * rng.uniform(0.001, 0.02, n)
    c.trust[rows] = rng.uniform(0.05, 0.5, n)


BRUTE_FORCE = SeedAttack(
    AttackScenario(
        name="brute_force",
        technique_id="T1110.001",
        technique_name="Brute Force: Password Guessing",
        tactic="Credential Access",
        description="a storm of 20-50 failed logins with no success, at any hour, from anywhere",
    ),
    _brute_force,
)


# -- the table -------------------------------------------------------------------------

#: The seed attacks, in the order their ``attack_type`` codes are assigned.
SEED_ATTACKS: tuple[SeedAttack, ...] = (EXFILTRATION, IMPOSSIBLE_TRAVEL, BRUTE_FORCE)

#: Scenario name -> its ATT&CK metadata.
ATTACK_SCENARIOS: dict[str, AttackScenario] = {a.scenario.name: a.scenario for a in SEED_ATTACKS}

#: Scenario name -> how it edits events.
ATTACK_INJECTORS: dict[str, Injector] = {a.scenario.name: a.inject for a in SEED_ATTACKS}

#: ``attack_type`` categories: code 0 is normal, code i + 1 the i-th scenario.
ATTACK_TYPES: tuple[str, ...] = (NORMAL_ATTACK_TYPE, *ATTACK_SCENARIOS)


def technique_for(attack_type: str) -> str:
    """Return the MITRE technique id recorded for ``attack_type``.

    Parameters
    ----------
    attack_type : str
        A scenario name from :data:`ATTACK_SCENARIOS` or ``"normal"``.

    Returns
    -------
    str
        The technique id, or ``"none"`` for normal events.
    """
    if attack_type == NORMAL_ATTACK_TYPE:
        return NO_TECHNIQUE
    return ATTACK_SCENARIOS[attack_type].technique_id


def inject_attacks(
    c: EventColumns,
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
