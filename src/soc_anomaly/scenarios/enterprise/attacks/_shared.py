"""Helpers shared by several attack families' injectors.

Logon scenarios (credential, MFA, access) use the working-hours timing, new
device ids, user agents and attacker locations; network scenarios
(exfiltration, lateral movement, beaconing, account takeover) use the time
windows, new external destinations, connection volumes and internal targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.enterprise.attacks.base import (
    AttackContext,
    CampaignSpec,
    Technique,
)
from soc_anomaly.scenarios.enterprise.entities import (
    UA_KIND,
    USER_AGENTS,
)
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS
from soc_anomaly.scenarios.enterprise.places import (
    ATTACKER_CITIES,
    CITY_LAT,
    CITY_LON,
)
from soc_anomaly.scenarios.enterprise.schema import AUTH_CLASS_UID, NETWORK_CLASS_UID, EventBatch

VALID_ACCOUNTS = Technique("T1078", "Valid Accounts", "Initial Access")
EXFIL_ALT_PROTOCOL = Technique("T1048", "Exfiltration Over Alternative Protocol", "Exfiltration")

#: Clients of scripted attacks: HTTP libraries and a headless browser.
SCRIPTED_AGENTS: tuple[str, ...] = (
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.109 Safari/537.36",
)
#: The staff's own computer browsers (the user agents of laptops and desktops).
BROWSER_AGENTS: tuple[str, ...] = tuple(
    ua for ua, kind in zip(USER_AGENTS, UA_KIND, strict=True) if kind != "phone"
)
#: Grid points per working window when looking for an ordinary hour.
_GRID = 97
#: First octets of cloud and hosting address ranges, for destinations the world did not have.
_CLOUD_PREFIXES = np.array([13, 20, 34, 35, 52, 104, 142, 151, 162, 185])
#: Sites of normal traffic that take uploads; a subtle exfiltration prefers one the victim
#: has never used, so the destination is new for the victim but not for the company.
_STORAGE_SITES = ("dropbox.com", "s3.amazonaws.com", "docs.google.com")
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_ALNUM = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def in_span(batch: EventBatch, spec: CampaignSpec) -> EventBatch:
    """The events of ``batch`` inside the campaign's ``[start_ms, end_ms]`` (a campaign
    near the end of a short calendar gets a truncated span; what did not fit is dropped)."""
    t = batch["time"]
    return batch.take((t >= spec.start_ms) & (t <= spec.end_ms))


# -- logon timing, devices, agents and places -------------------------------------------


def logon_hour_range(ctx: AttackContext) -> tuple[float, float]:
    """Clock hours ``[lo, hi)`` whose logons are within the normal 1st-99th percentile."""
    lo, hi = ctx.bounds[(AUTH_CLASS_UID, "local_hour")]
    return float(np.ceil(lo)), float(np.floor(hi)) + 1.0


def working_hours(
    ctx: AttackContext, users: np.ndarray, rng: np.random.Generator, span_h: float = 0.0
) -> np.ndarray:
    """Per user, a clock hour from which ``span_h`` hours stay inside the user's working
    window and inside the normal range of logon hours (a subtle campaign needs both)."""
    users = np.atleast_1d(np.asarray(users, np.int64))
    rows = ctx.org.users
    first = rows["start_hour"].to_numpy(float)[users] + 0.25
    last = np.maximum(first + rows["shift_hours"].to_numpy(float)[users] - 0.5 - span_h, first)
    step = (last - first) / (_GRID - 1)
    clock = (first[:, None] + np.arange(_GRID)[None, :] * step[:, None]) % 24.0
    lo, hi = logon_hour_range(ctx)
    # A span must not run past the last ordinary hour (nor wrap round midnight). A cell
    # whose two ends are both fine is fine throughout, so a time anywhere inside it is.
    ok = (clock >= lo) & (clock + span_h < hi - 1e-3)
    cell = ok[:, :-1] & ok[:, 1:]
    pick = np.argmax(np.where(cell, rng.random(cell.shape), -1.0), axis=1)
    rows_ = np.arange(len(users))
    hours = (clock[rows_, pick] + rng.random(len(users)) * step) % 24.0
    # A night shift may have no ordinary hour at all in a world whose logons rarely run
    # past midnight: then any ordinary hour will do.
    fallback = rng.uniform(lo, max(hi - span_h - 1e-2, lo), len(users))
    return np.where(cell.any(axis=1), hours, fallback)


def next_local_time(from_ms: int, tz_min: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """The first moment at or after ``from_ms`` when a clock at ``tz_min`` shows ``hours``."""
    local = from_ms + np.asarray(tz_min, np.int64) * 60_000
    target = (np.asarray(hours, float) * HOUR_MS).astype(np.int64)
    return from_ms + (target - local % DAY_MS) % DAY_MS


def working_start(
    ctx: AttackContext, spec: CampaignSpec, rng: np.random.Generator, span_h: float
) -> int:
    """The first moment after the start, inside the victim's working window and the normal
    logon hours, that leaves ``span_h`` hours (so a campaign needs ``1 + span_h/24`` days)."""
    hour = working_hours(ctx, np.array([spec.victim]), rng, span_h)
    tz = np.array([ctx.user_row(spec.victim)["tz_offset_min"]])
    return int(next_local_time(spec.start_ms, tz, hour)[0])


def new_device_ids(ctx: AttackContext, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` device ids no device has had yet, numbered on from the last one seen, as the
    identity provider numbers any new device (a benign new laptop looks the same)."""
    numbers = [
        int(v[4:])
        for v in ctx.vocab["device_id"].values
        if v.startswith("DEV-") and v[4:].isdigit()
    ]
    top = max(numbers, default=len(ctx.org.devices))
    ids = top + np.cumsum(rng.integers(1, 4, n))
    return np.char.add("DEV-", np.char.zfill(ids.astype(str), 6))


def unused_agent(
    ctx: AttackContext, user: int, rng: np.random.Generator, pool: tuple[str, ...]
) -> str:
    """A user agent from ``pool`` that none of the user's devices has."""
    dev = ctx.org.devices
    own = set(dev.loc[dev["user"] == user, "user_agent"])
    options = [ua for ua in pool if ua not in own] or list(pool)
    return options[int(rng.integers(0, len(options)))]


def far_attacker_cities(ctx: AttackContext) -> np.ndarray:
    """Attacker cities outside the normal latitude/longitude range (all if none is)."""
    (lat_lo, lat_hi), (lon_lo, lon_hi) = (
        ctx.bounds[(AUTH_CLASS_UID, f)] for f in ("src_lat", "src_lon")
    )
    lat, lon = CITY_LAT[ATTACKER_CITIES], CITY_LON[ATTACKER_CITIES]
    far = (lat < lat_lo) | (lat > lat_hi) | (lon < lon_lo) | (lon > lon_hi)
    return ATTACKER_CITIES[far] if far.any() else ATTACKER_CITIES


def location_columns(
    ctx: AttackContext, city: np.ndarray | int, subtle: bool
) -> dict[str, np.ndarray]:
    """``src_lat``/``src_lon`` of ``city``; for a subtle campaign kept in the normal range
    (an office city of a small world can sit a hair outside it)."""
    lat, lon = CITY_LAT[np.asarray(city)], CITY_LON[np.asarray(city)]
    if subtle:
        lat = ctx.within(AUTH_CLASS_UID, "src_lat", lat)
        lon = ctx.within(AUTH_CLASS_UID, "src_lon", lon)
    return {"src_lat": np.asarray(lat), "src_lon": np.asarray(lon)}


# -- network time windows -----------------------------------------------------------------


def hours_within(
    ctx: AttackContext,
    want: tuple[float, float],
    class_uids: Sequence[int] = (NETWORK_CLASS_UID,),
    min_hours: float = 1.0,
) -> tuple[float, float]:
    """The part of the local hours ``want`` (``end`` may pass 24) normal for every class.

    Returns ``[a, b)`` with ``0 <= a < b <= 24``; when less than ``min_hours`` is
    left, the closest range of that length inside the normal hours instead.
    """
    lo = max(ctx.bounds[(c, "local_hour")][0] for c in class_uids)
    # The bound is on the whole hour, so the last normal hour may be used to its end.
    hi = min(ctx.bounds[(c, "local_hour")][1] for c in class_uids) + 0.99
    start, end = want[0] % 24.0, want[0] % 24.0 + (want[1] - want[0])
    best = (0.0, 0.0)
    for shift in (-24.0, 0.0, 24.0):
        a, b = max(start + shift, lo), min(end + shift, hi)
        if b - a > best[1] - best[0]:
            best = (a, b)
    if best[1] - best[0] >= min(min_hours, hi - lo):
        return best
    length = min(min_hours, hi - lo)
    a = float(np.clip(start, lo, hi - length))
    return a, a + length


def awake_hours(
    ctx: AttackContext, user: int, class_uids: Sequence[int] = (NETWORK_CLASS_UID,)
) -> tuple[float, float]:
    """The user's local working window, cut to the hours normal for ``class_uids``."""
    row = ctx.user_row(user)
    start = float(row["start_hour"])
    return hours_within(ctx, (start, start + float(row["shift_hours"])), class_uids, min_hours=2.0)


def next_slot(
    ctx: AttackContext,
    user: int,
    after_ms: int,
    hours: tuple[float, float],
    span_h: float,
    *,
    workdays: bool = False,
) -> int:
    """The first UTC ms at or after ``after_ms`` that starts ``span_h`` hours (capped at
    ``b - a``) inside the user's local hours ``[a, b)``, ending before ``b`` the same day;
    ``workdays`` skips weekends for a user who has them off (an asleep laptop is silent)."""
    a, b = hours
    span_h = min(span_h, b - a)
    tz_ms = int(ctx.user_row(user)["tz_offset_min"]) * 60_000
    weekends_off = workdays and bool(ctx.user_row(user)["weekends_off"])
    local = int(after_ms) + tz_ms
    day = local - local % DAY_MS
    hour = (local - day) / HOUR_MS
    if hour <= a:
        slot = day + int(a * HOUR_MS)
    elif hour <= b - span_h:
        slot = local
    else:
        day += DAY_MS
        slot = day + int(a * HOUR_MS)
    # The calendar starts on a Monday at midnight UTC, so local day numbers count from it.
    while weekends_off and ((day - ctx.cal.start_ms) // DAY_MS) % 7 >= 5:
        day += DAY_MS
        slot = day + int(a * HOUR_MS)
    return slot - tz_ms


def spread(start_ms: int, hours: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` sorted UTC ms spread uniformly over ``hours`` hours from ``start_ms``."""
    return start_ms + np.sort((rng.uniform(0.0, hours, n) * HOUR_MS).astype(np.int64))


# -- destinations and volumes -------------------------------------------------------------


def _token(rng: np.random.Generator, n: int) -> str:
    return str(rng.choice(_LETTERS)) + "".join(rng.choice(_ALNUM, n - 1))


def cloud_ip(rng: np.random.Generator) -> str:
    """An address in a cloud or hosting range."""
    a = int(rng.choice(_CLOUD_PREFIXES))
    b, c, d = rng.integers(0, 256), rng.integers(0, 256), rng.integers(1, 255)
    return f"{a}.{b}.{c}.{d}"


def new_host(ctx: AttackContext, rng: np.random.Generator, template: str) -> str:
    """A host name nobody in the world has used: ``template`` with a random label in ``{}``."""
    taken = set(ctx.vocab["dst_host"].values)
    while True:
        host = template.format(_token(rng, int(rng.integers(6, 10))))
        if host not in taken:
            return host


def victim_hosts(ctx: AttackContext, user: int) -> set[str]:
    """Every destination host of the user's normal connections."""
    codes = np.unique(ctx.history.connections(user)["dst_host"])
    return {str(h) for h in ctx.vocab["dst_host"].decode(codes)}


def storage_destination(ctx: AttackContext, user: int, rng: np.random.Generator) -> tuple[str, str]:
    """A storage ``(host, ip)`` the user never connected to: a storage site of normal
    traffic if one is left (familiar to the company), else a new cloud storage account."""
    used = victim_hosts(ctx, user)
    ext = ctx.org.external
    unused = ext[ext["host"].isin(_STORAGE_SITES) & ~ext["host"].isin(list(used))]
    if len(unused):
        row = unused.iloc[int(rng.integers(0, len(unused)))]
        return str(row["host"]), str(row["ip"])
    return new_host(ctx, rng, "{}.blob.core.windows.net"), cloud_ip(rng)


def upload_volumes(
    ctx: AttackContext, bytes_out: np.ndarray, rng: np.random.Generator, subtle: bool
) -> dict[str, np.ndarray]:
    """``bytes_out``/``bytes_in``/``packets``/``duration_ms`` of uploads of ``bytes_out``
    bytes; a subtle upload's every value is kept inside the normal range."""
    bytes_out = np.asarray(bytes_out, np.float64)
    n = len(bytes_out)
    # The receiver only acknowledges: a fraction of a percent comes back.
    bytes_in = bytes_out * rng.uniform(0.002, 0.01, n) + rng.uniform(600, 4000, n)
    # Upload throughput of a workstation: a few MB/s to a few tens of MB/s.
    duration = (bytes_out + bytes_in) / rng.uniform(2e6, 4e7, n) * 1000.0 + 50.0
    packets = (bytes_out + bytes_in) // 1300 + rng.integers(4, 10, n)
    values = {
        "bytes_out": bytes_out,
        "bytes_in": bytes_in,
        "packets": packets,
        "duration_ms": duration,
    }
    return fit_volumes(ctx, values, subtle)


def fit_volumes(
    ctx: AttackContext, values: dict[str, np.ndarray], subtle: bool
) -> dict[str, np.ndarray]:
    """Connection volumes as integers, each kept inside the normal 1st-99th percentile
    when ``subtle`` (rounding inwards, so an integer stays inside a fractional bound)."""
    out = {}
    for name, v in values.items():
        v = np.round(np.asarray(v, np.float64))
        if subtle:
            lo, hi = ctx.bounds[(NETWORK_CLASS_UID, name)]
            v = np.clip(v, np.ceil(lo), np.floor(hi))
        out[name] = v.astype(np.int64)
    return out


# -- internal targets ---------------------------------------------------------------------


def internal_targets(ctx: AttackContext, user: int) -> pd.DataFrame:
    """Internal hosts the user's computer has never connected to.

    Columns ``host``, ``ip``, ``port`` (the host's own service port; 445 for a
    workstation) and ``kind`` (``admin``, ``server`` or ``workstation``):
    administrators' servers first, then the other servers, then the other
    users' workstations.
    """
    servers = ctx.org.servers
    servers = servers.loc[servers["kind"] != "service", ["host", "ip", "port", "kind"]]
    servers = servers.sort_values("kind", key=lambda k: k != "admin", kind="stable")
    dev = ctx.org.devices
    ws = dev[dev["hostname"].notna() & (dev["user"] != user)]
    workstations = pd.DataFrame(
        {
            "host": ws["hostname"].to_numpy(),
            "ip": ws["ip"].to_numpy(),
            "port": 445,
            "kind": "workstation",
        }
    )
    pool = pd.concat([servers, workstations], ignore_index=True)
    return pool[~pool["host"].isin(list(victim_hosts(ctx, user)))].reset_index(drop=True)


def normal_ports(
    ctx: AttackContext, ports: np.ndarray, class_uids: tuple[int, ...], fallback: int = 445
) -> np.ndarray:
    """``ports``, any outside the normal ``dst_port`` range of a class replaced by
    ``fallback`` (SMB, inside it in any world with file shares)."""
    ports = np.asarray(ports)
    ok = np.ones(len(ports), dtype=bool)
    for c in class_uids:
        lo, hi = ctx.bounds[(c, "dst_port")]
        ok &= (ports >= lo) & (ports <= hi)
    return np.where(ok, ports, fallback)
