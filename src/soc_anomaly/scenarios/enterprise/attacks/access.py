"""Initial access: impossible travel (a valid account used from two places at once).

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    BROWSER_AGENTS,
    SCRIPTED_AGENTS,
    far_attacker_cities,
    in_span,
    location_columns,
    logon_hour_range,
    new_device_ids,
    next_local_time,
    unused_agent,
    working_start,
)
from soc_anomaly.scenarios.enterprise.attacks.base import (
    AttackContext,
    AttackScenario,
    CampaignSpec,
    Technique,
)
from soc_anomaly.scenarios.enterprise.entities import USER_AGENTS
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS
from soc_anomaly.scenarios.enterprise.places import (
    CITIES,
    CITY_LAT,
    CITY_LON,
    N_OFFICES,
)
from soc_anomaly.scenarios.enterprise.schema import AUTH_CLASS_UID, EventBatch
from soc_anomaly.scenarios.geo import haversine_km

__all__ = ["SCENARIOS"]

#: Slowest speed, in km/h, an attacker's logon implies from the victim's real one: well
#: above any airliner (about 900 km/h), so travel cannot explain it.
MIN_SPEED_KMH = 1500.0
#: Continent of each country of the city table (for "another continent").
_CONTINENT = {
    "US": "NA", "CA": "NA", "BR": "SA", "GB": "EU", "DE": "EU", "FR": "EU", "NL": "EU",
    "ES": "EU", "RU": "EU", "UA": "EU", "RO": "EU", "SG": "AS", "IN": "AS", "JP": "AS",
    "AE": "AS", "VN": "AS", "CN": "AS", "AU": "OC", "NG": "AF",
}  # fmt: skip
CITY_CONTINENT = np.array([_CONTINENT.get(c.country, c.country) for c in CITIES])
#: Minutes between the victim's real logon and the attacker's, per intensity.
_DELAY_MIN = {"blatant": (10.0, 30.0), "moderate": (60.0, 120.0), "subtle": (40.0, 120.0)}
#: How many follow-up service logons (``integers`` bounds), per intensity.
_FOLLOW_UPS = {"blatant": (2, 4), "moderate": (1, 3), "subtle": (1, 3)}
#: How soon after the attacker's logon its follow-ups come (minutes).
_FOLLOW_MIN = {"blatant": (2.0, 25.0), "moderate": (2.0, 25.0), "subtle": (5.0, 40.0)}


def _clock(ctx: AttackContext, user: int, time_ms: np.ndarray) -> np.ndarray:
    """Hours (float) on the user's clock at ``time_ms``."""
    tz = int(ctx.user_row(user)["tz_offset_min"])
    return ((np.asarray(time_ms, np.int64) + tz * 60_000) % DAY_MS) / HOUR_MS


def _ordinary(ctx: AttackContext, user: int, time_ms: np.ndarray) -> np.ndarray:
    """Whether each moment is inside the user's working window and the normal logon hours."""
    clock = _clock(ctx, user, time_ms)
    lo, hi = logon_hour_range(ctx)
    row = ctx.user_row(user)
    into_shift = (clock - float(row["start_hour"])) % 24.0
    return (clock >= lo) & (clock < hi) & (into_shift <= float(row["shift_hours"]))


def _server_ip(ctx: AttackContext, host: str) -> str:
    servers = ctx.org.servers
    return str(servers.loc[servers["host"] == host, "ip"].iloc[0])


def _city_pool(
    ctx: AttackContext, spec: CampaignSpec, anchor_lat: float, anchor_lon: float
) -> np.ndarray:
    """Cities the attacker may log in from, before the speed test."""
    office = int(ctx.user_row(spec.victim)["office"])
    if spec.intensity == "blatant":
        return far_attacker_cities(ctx)
    if spec.intensity == "moderate":
        # Somewhere on another continent than both the victim's office and the real logon.
        near = int(np.argmin(haversine_km(anchor_lat, anchor_lon, CITY_LAT, CITY_LON)))
        away = (CITY_CONTINENT != CITY_CONTINENT[office]) & (CITY_CONTINENT != CITY_CONTINENT[near])
        away[:N_OFFICES] = False
        return np.flatnonzero(away)
    # Another office of the company, whose coordinates are as normal as can be.
    (lat_lo, lat_hi), (lon_lo, lon_hi) = (
        ctx.bounds[(AUTH_CLASS_UID, f)] for f in ("src_lat", "src_lon")
    )
    offices = np.arange(N_OFFICES)
    inside = (
        (CITY_LAT[offices] >= lat_lo)
        & (CITY_LAT[offices] <= lat_hi)
        & (CITY_LON[offices] >= lon_lo)
        & (CITY_LON[offices] <= lon_hi)
    )
    pool = offices[inside & (offices != office)]
    return pool if len(pool) else offices[offices != office]


def _plan(spec: CampaignSpec, ctx: AttackContext) -> tuple[int, int] | None:
    """(attacker logon time, city) after one of the victim's real logons, or None.

    The victim's real logons from the anchor up to the attacker's logon must all be far
    enough for ``MIN_SPEED_KMH``, so the speed from whichever of them comes last before
    the attacker's logon is impossible too.
    """
    rng = spec.rng
    logons = ctx.history.logons(spec.victim)
    # Sessions on internal servers carry no location; only located logons count.
    located = np.isfinite(logons["src_lat"])
    t, lat, lon = (logons[k][located] for k in ("time", "src_lat", "src_lon"))
    lo_min, hi_min = _DELAY_MIN[spec.intensity]
    delay = (rng.uniform(lo_min, hi_min, len(t)) * 60_000).astype(np.int64)
    attack = t + delay
    soon = int(_FOLLOW_MIN[spec.intensity][1] * 60_000)
    fits = (t >= spec.start_ms) & (attack + soon <= spec.end_ms)
    if spec.intensity == "subtle":
        fits &= _ordinary(ctx, spec.victim, attack) & _ordinary(ctx, spec.victim, attack + soon)
    best = fits
    if spec.intensity == "blatant":
        # Best if the attacker can come back at the victim's next 03:00 (for 45 minutes).
        tz_ms = int(ctx.user_row(spec.victim)["tz_offset_min"]) * 60_000
        night = (3 * HOUR_MS - (attack + tz_ms) % DAY_MS) % DAY_MS + 45 * 60_000
        best = fits & (attack + night <= spec.end_ms)
    order = np.r_[
        rng.permutation(np.flatnonzero(best)), rng.permutation(np.flatnonzero(fits & ~best))
    ]
    for i in order:
        between = (t >= t[i]) & (t < attack[i])
        pool = _city_pool(ctx, spec, float(lat[i]), float(lon[i]))
        km = haversine_km(
            lat[between][:, None],
            lon[between][:, None],
            CITY_LAT[pool][None, :],
            CITY_LON[pool][None, :],
        ).min(axis=0)
        far = pool[km >= MIN_SPEED_KMH * delay[i] / HOUR_MS]
        if len(far):
            return int(attack[i]), int(far[rng.integers(0, len(far))])
    return None


def _impossible_travel(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    subtle = spec.intensity == "subtle"
    plan = _plan(spec, ctx)
    if plan is None:
        # The victim did not log in during the window (leave, a long weekend): the stolen
        # account is still used, at the victim's usual hours, without a real logon to race.
        home = int(ctx.user_row(victim)["office"])
        when = working_start(ctx, spec, rng, span_h=1.0)
        pool = _city_pool(ctx, spec, float(CITY_LAT[home]), float(CITY_LON[home]))
        plan = (when, int(pool[rng.integers(0, len(pool))]))
    when, city = plan
    ip, _ = ctx.attacker_ips(1, rng, cities=np.array([city]))
    if spec.intensity == "blatant":
        agent = SCRIPTED_AGENTS[int(rng.integers(0, 3))]
    else:
        agent = unused_agent(ctx, victim, rng, USER_AGENTS if not subtle else BROWSER_AGENTS)

    k = int(rng.integers(*_FOLLOW_UPS[spec.intensity]))
    lo, hi = _FOLLOW_MIN[spec.intensity]
    follow = when + np.sort(rng.uniform(lo, hi, k) * 60_000).astype(np.int64)
    if spec.intensity == "blatant":
        # Back at the victim's next 03:00 to read mail, if the window reaches it.
        tz = np.array([int(ctx.user_row(victim)["tz_offset_min"])])
        back = int(next_local_time(when, tz, np.array([3.0]))[0])
        if back + 45 * 60_000 <= spec.end_ms:
            follow = back + np.sort(rng.uniform(0.0, 0.75 * HOUR_MS, k)).astype(np.int64)
    services = np.array(["mail", "chat", "wiki"])[rng.integers(0, 3, k)]
    services[0] = "mail"
    hosts = ["sso.corp.example", *np.char.add(services, ".corp.example").tolist()]
    times = np.r_[when, follow]
    batch = ctx.auth(
        victim,
        times,
        step=1,
        city=city,
        src_ip=ip[0],
        dst_host=np.array(hosts),
        dst_ip=np.array([_server_ip(ctx, h) for h in hosts]),
        # The identity provider asked for a second factor the first time (the attacker had
        # it, or a session cookie); a scripted client logs in without one.
        is_mfa=np.r_[int(spec.intensity != "blatant"), np.zeros(k, dtype=int)],
        user_agent=agent,
        device_id=new_device_ids(ctx, rng, 1)[0],
        **location_columns(ctx, city, subtle),
    )
    return in_span(batch, spec)


IMPOSSIBLE_TRAVEL = AttackScenario(
    name="impossible_travel",
    title="Impossible travel (valid account used from afar)",
    techniques=(Technique("T1078", "Valid Accounts", "Initial Access"),),
    description=(
        "A successful logon to the victim's account from far away, from a device and user "
        "agent the victim never used, shortly after one of the victim's own logons, so the "
        "implied speed between the two is thousands of km/h; the attacker then opens mail "
        "and another service. Blatant: from a hosting range abroad with a scripted client "
        "10-30 minutes after the real logon, back at 03:00 the next night; moderate: from "
        "another continent 1-2 hours after; subtle: from another office city of the "
        "company, 40-120 minutes after, in working hours, with a common browser."
    ),
    signal="speed between consecutive successful logons of a user (km/h); a device or "
    "user agent new to the user at a location new to the user",
    # Blatant waits for the victim's next 03:00 after the logon it follows.
    span_days={"blatant": 3.0, "moderate": 3.0, "subtle": 3.0},
    max_events={"blatant": 4, "moderate": 3, "subtle": 3},
    inject=_impossible_travel,
)

SCENARIOS: tuple[AttackScenario, ...] = (IMPOSSIBLE_TRAVEL,)
