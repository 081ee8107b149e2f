"""Exfiltration: bulk uploads to a host nobody uses, and low-and-slow transfers under a limit.

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    EXFIL_ALT_PROTOCOL,
    awake_hours,
    cloud_ip,
    hours_within,
    in_span,
    new_host,
    next_slot,
    spread,
    storage_destination,
    upload_volumes,
)
from soc_anomaly.scenarios.enterprise.attacks.base import (
    AttackContext,
    AttackScenario,
    CampaignSpec,
    Technique,
)
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS
from soc_anomaly.scenarios.enterprise.schema import NETWORK_CLASS_UID, EventBatch

__all__ = ["SCENARIOS"]

MIB = 1 << 20


def typical_daily_outbound(ctx: AttackContext, user: int, before_ms: int) -> float:
    """The median over the user's active days before ``before_ms`` of bytes sent to the
    internet (connections to anything but the company's own servers)."""
    conn = ctx.history.connections(user)
    keep = conn["time"] < before_ms
    internal = set(ctx.org.servers["host"])
    hosts = ctx.vocab["dst_host"].decode(conn["dst_host"][keep])
    outbound = np.array([h not in internal for h in hosts], dtype=bool)
    if not outbound.any():
        return 5e6
    local = (
        conn["time"][keep][outbound]
        + conn["timezone_offset"][keep][outbound].astype(np.int64) * 60_000
    )
    days, sums = np.unique(local // DAY_MS, return_inverse=True)
    daily = np.bincount(sums, weights=conn["bytes_out"][keep][outbound], minlength=len(days))
    return float(np.median(daily))


# -- bulk exfiltration ----------------------------------------------------------------


def _bulk_exfiltration(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    subtle = spec.intensity == "subtle"
    if spec.intensity == "blatant":
        # A few huge archives over SFTP/FTP/HTTPS around 03:00, to a host nobody knows.
        n = int(rng.integers(1, 4))
        host, ip = new_host(ctx, rng, "files.{}.io"), str(ctx.attacker_ips(1, rng)[0][0])
        port = int(rng.choice([22, 21, 443]))
        start = next_slot(ctx, victim, spec.start_ms, (2.9, 4.0), 0.75)
        times = spread(start, 0.75, n, rng)
        size = rng.uniform(5e9, 50e9, n)
    elif spec.intensity == "moderate":
        n = int(rng.integers(5, 11))
        host, ip, port = new_host(ctx, rng, "upload.{}.net"), cloud_ip(rng), 443
        start = next_slot(ctx, victim, spec.start_ms, (0.5, 5.0), 4.5)
        times = spread(start, 4.5, n, rng)
        size = rng.uniform(200e6, 1e9, n)
    else:
        # Many uploads each the size of a big normal one, through one evening right after
        # work, to storage the victim never used: only the day's total is unusual, at six
        # to ten times the victim's usual day where 20-40 uploads allow it.
        _, p99 = ctx.bounds[(NETWORK_CLASS_UID, "bytes_out")]
        size = p99 * rng.uniform(0.5, 0.97, 40)
        goal = typical_daily_outbound(ctx, victim, spec.start_ms) * rng.uniform(6.0, 10.0)
        n = int(np.clip(np.searchsorted(np.cumsum(size), goal) + 1, 20, 40))
        size = size[:n]
        host, ip = storage_destination(ctx, victim, rng)
        port = 443
        row = ctx.user_row(victim)
        end_h = float(row["start_hour"]) + float(row["shift_hours"])
        hours = hours_within(ctx, (end_h, end_h + 3.0), min_hours=1.5)
        start = next_slot(ctx, victim, spec.start_ms, hours, hours[1] - hours[0], workdays=True)
        times = spread(start, hours[1] - hours[0], n, rng)
    vol = upload_volumes(ctx, size, rng, subtle)
    batch = ctx.net(
        victim, times, step=1, dst_host=host, dst_ip=ip, dst_port=port, outbound=True, **vol
    )
    return in_span(batch, spec)


BULK_EXFILTRATION = AttackScenario(
    name="bulk_exfiltration",
    title="Bulk exfiltration to a new external host",
    techniques=(EXFIL_ALT_PROTOCOL,),
    description=(
        "Large uploads from the victim's workstation to an external host the victim has "
        "never used. Blatant: one to three archives of 5-50 GB around 03:00 local time over "
        "SFTP, FTP or HTTPS to a never-seen host; moderate: 5-10 uploads of 200 MB-1 GB at "
        "night, comparable to a nightly backup but to an unknown host; subtle: 20-40 uploads "
        "each the size of a large normal upload, over the evening right after work, to a "
        "cloud storage site that is new for the victim."
    ),
    signal="outbound bytes per user over 24 hours against the user's own baseline; bytes to "
    "a destination never seen for the user (or the company)",
    span_days={"blatant": 1.2, "moderate": 1.3, "subtle": 4.2},
    max_events={"blatant": 3, "moderate": 10, "subtle": 40},
    inject=_bulk_exfiltration,
)


# -- low and slow ---------------------------------------------------------------------


def _low_and_slow(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    n_days = int(rng.integers(5, 11))
    subtle = spec.intensity == "subtle"
    if spec.intensity == "blatant":
        # 1-1.6 GB a night in chunks just under 512 MiB.
        limit = 512 * MIB
        per_day = rng.integers(2, 4, n_days)
        host, ip = new_host(ctx, rng, "sync.{}.io"), str(ctx.attacker_ips(1, rng)[0][0])
        hours = (1.0, 5.0)
    elif spec.intensity == "moderate":
        # About 200 MB an evening in 10 MiB chunks.
        limit = 10 * MIB
        per_day = rng.integers(18, 23, n_days)
        host, ip = new_host(ctx, rng, "{}.drop-files.net"), cloud_ip(rng)
        hours = (19.0, 23.9)
    else:
        # Three to twenty chunks a day under a round limit below the normal 99th
        # percentile, adding up to a few times the victim's own daily upload, spread over
        # the working day.
        lo, p99 = ctx.bounds[(NETWORK_CLASS_UID, "bytes_out")]
        target = typical_daily_outbound(ctx, victim, spec.start_ms) * rng.uniform(3.0, 5.0)
        raw = max(min(0.9 * p99, target / 3.0), 2.0 * lo)
        unit = next(u for u in (MIB, 100_000, 10_000, 1_000, 1) if raw >= 2 * u)
        limit = int(raw // unit) * unit
        k = int(np.clip(np.ceil(target / limit), 3, 20))
        per_day = np.clip(k + rng.integers(-1, 2, n_days), 3, 20)
        host, ip = storage_destination(ctx, victim, rng)
        hours = awake_hours(ctx, victim)
    length = hours[1] - hours[0]
    times, t = [], spec.start_ms
    for count in per_day:
        start = next_slot(ctx, victim, t, hours, length, workdays=subtle)
        if start + length * HOUR_MS > spec.end_ms:
            break
        times.append(spread(start, length, int(count), rng))
        t = start + int(length * HOUR_MS) + 1
    if not times:
        # The calendar ends too soon for a whole day: start as soon as allowed.
        start = next_slot(ctx, victim, spec.start_ms, hours, 0.0, workdays=subtle)
        times.append(spread(start, length, int(per_day[0]), rng))
    time_ms = np.concatenate(times)
    # Each chunk is capped just under the same limit, as a transfer tool's split size.
    size = limit * (1.0 - rng.uniform(0.0005, 0.02, len(time_ms)))
    vol = upload_volumes(ctx, size, rng, subtle)
    batch = ctx.net(
        victim, time_ms, step=1, dst_host=host, dst_ip=ip, dst_port=443, outbound=True, **vol
    )
    return in_span(batch, spec)


LOW_AND_SLOW_EXFILTRATION = AttackScenario(
    name="low_and_slow_exfiltration",
    title="Low-and-slow exfiltration under a size limit",
    techniques=(Technique("T1030", "Data Transfer Size Limits", "Exfiltration"),),
    description=(
        "For five to ten days in a row, a few uploads a day from the victim's workstation to "
        "one external destination, every one capped just under the same size. Blatant: "
        "1-1.6 GB a night in chunks just under 512 MiB to a never-seen host; moderate: about "
        "200 MB an evening in 10 MiB chunks; subtle: 3-20 chunks a day under the normal 99th "
        "percentile adding up to three to five times the victim's usual daily upload, in "
        "working hours, to cloud storage new for the victim."
    ),
    signal="outbound bytes per user and destination per day against the user's baseline, "
    "sustained over days; many uploads of one near-identical size to one destination",
    span_days={"blatant": 11.0, "moderate": 11.0, "subtle": 14.5},
    max_events={"blatant": 30, "moderate": 220, "subtle": 200},
    inject=_low_and_slow,
)

SCENARIOS: tuple[AttackScenario, ...] = (BULK_EXFILTRATION, LOW_AND_SLOW_EXFILTRATION)
