"""Command and control: an implant beaconing over HTTPS at a regular interval.

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    awake_hours,
    cloud_ip,
    fit_volumes,
    in_span,
    new_host,
    next_slot,
)
from soc_anomaly.scenarios.enterprise.attacks.base import (
    AttackContext,
    AttackScenario,
    CampaignSpec,
    Technique,
)
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS
from soc_anomaly.scenarios.enterprise.schema import EventBatch

__all__ = ["SCENARIOS"]

#: (shortest period s, longest period s, jitter as a share of the period, shortest and
#: longest run in days) per intensity.
_PLAN = {
    "blatant": (10.0, 30.0, 0.05, 1.0, 1.1),
    "moderate": (300.0, 300.0, 0.10, 1.0, 3.0),
    "subtle": (900.0, 1800.0, 0.20, 2.0, 4.0),
}
_CDN_TEMPLATES = (
    "{}.cloudfront.net",
    "{}.azureedge.net",
    "static-{}.akamaized.net",
    "cdn-{}.fastly.net",
)


def _beaconing(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    p_lo, p_hi, jitter, d_lo, d_hi = _PLAN[spec.intensity]
    period_ms = rng.uniform(p_lo, p_hi) * 1000.0
    subtle = spec.intensity == "subtle"
    if subtle:
        # The laptop is only awake in working hours: beacon through each working window of
        # a few working days, and sleep in between.
        hours = awake_hours(ctx, victim)
        length = hours[1] - hours[0]
        windows, t = [], spec.start_ms
        for _ in range(int(rng.integers(int(d_lo), int(d_hi) + 1))):
            start = next_slot(ctx, victim, t, hours, length, workdays=True)
            windows.append((start, start + int(length * HOUR_MS)))
            t = windows[-1][1] + 1
        first, last = windows[0][0], windows[-1][1]
    else:
        first = spec.start_ms + int(rng.uniform(0.0, 60_000.0))
        last = first + int(rng.uniform(d_lo, d_hi) * DAY_MS)
    last = min(last, spec.end_ms)
    # One beacon per period, each gap off by up to ``jitter`` of the period either way.
    n = max(int((last - first) // period_ms), 1)
    gaps = period_ms * (1.0 + rng.uniform(-jitter, jitter, n))
    times = first + np.cumsum(np.r_[0.0, gaps[:-1]]).astype(np.int64)
    keep = times <= last
    if subtle:
        starts = np.array([w[0] for w in windows])
        ends = np.array([w[1] for w in windows])
        k = np.searchsorted(starts, times, side="right") - 1
        keep &= (k >= 0) & (times < ends[np.maximum(k, 0)])
    times = times[keep]
    n = len(times)

    # Check-ins are small and nearly the same size every time.
    base_out, base_in = rng.uniform(600, 2500), rng.uniform(1500, 6000)
    bytes_out = base_out * rng.uniform(0.97, 1.03, n)
    bytes_in = base_in * rng.uniform(0.97, 1.03, n)
    vol = {
        "bytes_out": bytes_out,
        "bytes_in": bytes_in,
        "packets": (bytes_out + bytes_in) // 1300 + rng.integers(6, 9, n),
        "duration_ms": rng.uniform(80, 400, n),
    }
    if subtle:
        host, ip = new_host(ctx, rng, str(rng.choice(_CDN_TEMPLATES))), cloud_ip(rng)
    else:
        template = "{}.duckdns.org" if spec.intensity == "blatant" else "api.{}.com"
        host, ip = new_host(ctx, rng, template), str(ctx.attacker_ips(1, rng)[0][0])
    vol = fit_volumes(ctx, vol, subtle)
    batch = ctx.net(
        victim, times, step=1, dst_host=host, dst_ip=ip, dst_port=443, outbound=True, **vol
    )
    return in_span(batch, spec)


BEACONING = AttackScenario(
    name="beaconing",
    title="C2 beaconing over HTTPS",
    techniques=(
        Technique("T1071.001", "Application Layer Protocol: Web Protocols", "Command and Control"),
    ),
    description=(
        "Periodic HTTPS check-ins from the victim's workstation to one external host, with "
        "small, nearly constant request and response sizes. Blatant: every 10-30 s around "
        "the clock for a day or more to a dynamic-DNS host; moderate: every 5 minutes with "
        "10% jitter for one to three days; subtle: every 15-30 minutes with 20% jitter, only "
        "while the laptop is awake in working hours, to a CDN-like host, sizes in the normal "
        "range."
    ),
    signal="regularity of the inter-connection intervals per (user, destination): low "
    "coefficient of variation over many connections; a new destination contacted every day",
    span_days={"blatant": 1.15, "moderate": 3.05, "subtle": 7.0},
    # Blatant: 1.1 days / 10 s; moderate: 3 days / 5 min; subtle: four windows of at most
    # 10 hours (the longest shift) at one beacon per 12 min at the soonest, plus one each.
    max_events={"blatant": 9_504, "moderate": 864, "subtle": 204},
    inject=_beaconing,
)

SCENARIOS: tuple[AttackScenario, ...] = (BEACONING,)
