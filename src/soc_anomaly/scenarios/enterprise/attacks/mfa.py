"""Credential access: MFA fatigue (push bombing until the victim approves).

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    BROWSER_AGENTS,
    SCRIPTED_AGENTS,
    VALID_ACCOUNTS,
    far_attacker_cities,
    in_span,
    location_columns,
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
from soc_anomaly.scenarios.enterprise.normal import HOUR_MS
from soc_anomaly.scenarios.enterprise.places import (
    ATTACKER_CITIES,
    CITIES,
    N_OFFICES,
)
from soc_anomaly.scenarios.enterprise.schema import EventBatch

__all__ = ["SCENARIOS"]


def _mfa_fatigue(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    row = ctx.user_row(victim)
    tz = np.array([row["tz_offset_min"]])
    start_h, shift_h = float(row["start_hour"]), float(row["shift_hours"])
    subtle = spec.intensity == "subtle"
    if spec.intensity == "blatant":
        # In the middle of the victim's night (the afternoon for a night shift), hoping a
        # sleepy tap approves one of dozens of pushes.
        n = int(rng.integers(30, 61))
        hour = (start_h + shift_h + (24.0 - shift_h) * 0.6 + rng.uniform(-0.75, 0.75)) % 24
        span_h = rng.uniform(10.0, 15.0) / 60.0
        t0 = int(next_local_time(spec.start_ms, tz, np.array([hour]))[0])
        ip, city = ctx.attacker_ips(1, rng, cities=far_attacker_cities(ctx))
        agent = SCRIPTED_AGENTS[-1]
    elif spec.intensity == "moderate":
        # An evening, after the victim has left work, from a home connection abroad.
        n = int(rng.integers(15, 26))
        hour = (start_h + shift_h + rng.uniform(1.5, 4.0)) % 24
        span_h = rng.uniform(50.0, 70.0) / 60.0
        t0 = int(next_local_time(spec.start_ms, tz, np.array([hour]))[0])
        country = row["country"]
        abroad = np.array(
            [
                i
                for i in range(N_OFFICES, len(CITIES))
                if CITIES[i].country != country and i not in ATTACKER_CITIES
            ]
        )
        ip, city = ctx.attacker_ips(1, rng, cities=abroad)
        agent = unused_agent(ctx, victim, rng, BROWSER_AGENTS)
    else:
        # A few pushes over an afternoon, from the victim's country, while at work: a
        # denied push now and then is what a distracted user produces too.
        n = int(rng.integers(4, 9))
        span_h = rng.uniform(2.0, 3.0)
        t0 = working_start(ctx, spec, rng, span_h)
        ip, city = ctx.attacker_ips(1, rng, cities=np.array([int(row["office"])]))
        agent = unused_agent(ctx, victim, rng, BROWSER_AGENTS)
    approved = bool(rng.random() < 0.8)
    times = t0 + np.sort(rng.uniform(0.0, span_h * HOUR_MS, n + approved)).astype(np.int64)
    success = np.arange(len(times)) == n
    detail = np.where(rng.random(len(times)) < 0.5, "MFA push denied", "MFA push timed out")
    batch = ctx.auth(
        victim,
        times,
        step=np.where(success, 2, 1),
        city=city[0],
        src_ip=ip[0],
        is_mfa=1,
        status=np.where(success, "Success", "Failure"),
        status_detail=np.where(success, None, detail),
        user_agent=agent,
        device_id=new_device_ids(ctx, rng, 1)[0],
        **location_columns(ctx, city[0], subtle),
    )
    return in_span(batch, spec)


MFA_FATIGUE = AttackScenario(
    name="mfa_fatigue",
    title="MFA fatigue (push bombing)",
    techniques=(
        Technique("T1621", "Multi-Factor Authentication Request Generation", "Credential Access"),
        VALID_ACCOUNTS,
    ),
    description=(
        "With the victim's password in hand, the attacker logs in to the identity provider "
        "again and again, each time sending an MFA push that the victim denies or ignores "
        "('MFA push denied' / 'MFA push timed out'), until in most campaigns one push is "
        "approved. Blatant: 30-60 pushes in 10-15 minutes in the victim's night from a "
        "hosting range abroad; moderate: 15-25 over an hour in the evening from abroad; "
        "subtle: 4-8 over two to three working hours from the victim's own country."
    ),
    signal="MFA denials and timeouts per user in the last hour; an MFA success right after "
    "a run of denials, from an address or device the user never used",
    # Blatant and moderate wait for the victim's night or evening: up to a day.
    span_days={"blatant": 1.02, "moderate": 1.06, "subtle": 1.15},
    max_events={"blatant": 61, "moderate": 26, "subtle": 9},
    inject=_mfa_fatigue,
)

SCENARIOS: tuple[AttackScenario, ...] = (MFA_FATIGUE,)
