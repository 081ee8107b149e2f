"""Account takeover: a chain of five steps, each only mildly unusual on its own.

A password spray finds the victim's password; the attacker logs in as the victim
from a new country on a new device, looks around the internal network from the
victim's workstation, stages data from the file servers and databases there, and
uploads it to a new external host. Subtle campaigns keep every event inside the
normal ranges, so only the sequence gives them away.

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    EXFIL_ALT_PROTOCOL,
    awake_hours,
    cloud_ip,
    fit_volumes,
    in_span,
    internal_targets,
    new_host,
    next_slot,
    normal_ports,
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
from soc_anomaly.scenarios.enterprise.entities import USER_AGENTS
from soc_anomaly.scenarios.enterprise.normal import HOUR_MS
from soc_anomaly.scenarios.enterprise.places import (
    ATTACKER_CITIES,
    CITIES,
    CITY_LAT,
    CITY_LON,
    N_OFFICES,
    TRAVEL_CITIES,
)
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
)

__all__ = ["SCENARIOS"]

#: Where staged data is read from: (host, port).
_STAGING_SOURCES = (("fs-01", 445), ("fs-02", 445), ("db-crm-01", 5432), ("db-erp-01", 1433))
_SCRIPT_AGENTS = {"blatant": "python-requests/2.32.3", "moderate": "Go-http-client/1.1"}
_ATTACKER_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"

#: Per intensity: spray targets (low, high), spray hours, discovery hosts (low, high) and
#: minutes, staging reads (low, high) and bytes per read (low, high), exfiltration uploads
#: (low, high) and bytes per upload (low, high); subtle volumes are shares of the normal
#: 99th percentile.
_PLAN = {
    "blatant": ((40, 81), 5 / 60, (60, 101), 5.0, (5, 16), (1e9, 5e9), (1, 4), (2e9, 10e9)),
    "moderate": ((15, 31), 0.5, (25, 41), 20.0, (10, 21), (50e6, 200e6), (3, 7), (100e6, 500e6)),
    "subtle": ((6, 13), 1.5, (8, 16), 45.0, (10, 21), (0.4, 0.95), (8, 16), (0.5, 0.97)),
}
#: Hours the attacker waits before steps 2, 3, 4 and 5 (low, high); a subtle step may also
#: wait for the victim's next working hours.
_GAPS = {
    "blatant": ((0.5, 3.0), (0.1, 1.0), (0.2, 1.0), (0.3, 2.0)),
    "moderate": ((2.0, 20.0), (0.1, 2.0), (0.3, 3.0), (0.5, 6.0)),
    "subtle": ((1.0, 16.0), (0.1, 1.0), (0.2, 1.5), (0.3, 2.0)),
}


def _new_country_city(
    ctx: AttackContext, victim: int, rng: np.random.Generator, intensity: str
) -> int:
    """A city (index into CITIES) in a country the victim has never logged in from.

    Blatant: an attacker's usual hosting location; moderate: a city staff travel
    to; subtle: another office's city whose coordinates are within the normal range.
    """
    seen = ctx.vocab["src_city"].decode(np.unique(ctx.history.logons(victim)["src_city"]))
    country_of = {c.name: c.country for c in CITIES}
    seen_countries = {country_of[str(c)] for c in seen if c is not None}
    seen_countries.add(str(ctx.user_row(victim)["country"]))
    if intensity == "blatant":
        pool = ATTACKER_CITIES
    elif intensity == "moderate":
        pool = TRAVEL_CITIES
    else:
        pool = np.arange(N_OFFICES)
        lat_lo, lat_hi = ctx.bounds[(AUTH_CLASS_UID, "src_lat")]
        lon_lo, lon_hi = ctx.bounds[(AUTH_CLASS_UID, "src_lon")]
        normal = (
            (CITY_LAT[pool] >= lat_lo)
            & (CITY_LAT[pool] <= lat_hi)
            & (CITY_LON[pool] >= lon_lo)
            & (CITY_LON[pool] <= lon_hi)
        )
        pool = pool[normal] if normal.any() else pool
    new = np.array([CITIES[c].country not in seen_countries for c in pool])
    # A victim who has been everywhere gets a country other than their own.
    if not new.any():
        new = np.array([CITIES[c].country != ctx.user_row(victim)["country"] for c in pool])
    pool = pool[new] if new.any() else pool
    return int(pool[rng.integers(0, len(pool))])


def _new_device(ctx: AttackContext, rng: np.random.Generator) -> str:
    taken = set(ctx.vocab["device_id"].values)
    while True:
        device = f"DEV-{int(rng.integers(900_000, 1_000_000)):06d}"
        if device not in taken:
            return device


def _account_takeover(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    level = spec.intensity
    subtle = level == "subtle"
    spray_n, spray_h, disc_n, disc_min, stage_n, stage_b, exfil_n, exfil_b = _PLAN[level]
    gap_ms = [int(rng.uniform(lo, hi) * HOUR_MS) for lo, hi in _GAPS[level]]
    users = ctx.org.users
    city = _new_country_city(ctx, victim, rng, level)
    ip = ctx.attacker_ips(1, rng, cities=np.array([city]))[0][0]
    auth_hours = awake_hours(ctx, victim, (AUTH_CLASS_UID,))
    net_hours = awake_hours(ctx, victim, (NETWORK_CLASS_UID,))

    def at(after_ms: int, hours: tuple[float, float], span_h: float) -> int:
        # Subtle steps wait for the victim's working hours; loud ones just go.
        if subtle:
            return next_slot(ctx, victim, after_ms, hours, span_h, workdays=True)
        return int(after_ms)

    # Step 1: one address tries one password against many accounts; the victim's works.
    # A subtle spray sticks to the victim's office time zone, so every local hour is normal.
    others = np.flatnonzero(np.arange(len(users)) != victim)
    if subtle:
        tz = users["tz_offset_min"].to_numpy()
        others = others[tz[others] == tz[victim]]
    n_spray = min(int(rng.integers(*spray_n)), len(others) + 1)
    targets = np.r_[rng.choice(others, n_spray - 1, replace=False), victim]
    targets = targets[rng.permutation(n_spray)]
    hit = targets == victim
    t1 = at(spec.start_ms, auth_hours, spray_h)
    times1 = spread(t1, spray_h, n_spray, rng)
    spray = ctx.auth(
        targets,
        times1,
        step=1,
        city=city,
        src_ip=ip,
        status=np.where(hit, "Success", "Failure"),
        status_detail=np.where(hit, None, "Invalid password"),
        user_agent=_SCRIPT_AGENTS.get(level, USER_AGENTS[0]),
    )
    end1 = int(times1[-1])

    # Step 2: the attacker's own logon as the victim, from the same address, on a device
    # and browser the victim never used: the identity provider, then the VPN.
    own = set(ctx.org.devices.loc[ctx.org.devices["user"] == victim, "user_agent"])
    agents = [ua for ua in USER_AGENTS if ua not in own] or list(USER_AGENTS)
    agent = _ATTACKER_BROWSER if level == "blatant" else agents[rng.integers(0, len(agents))]
    t2 = at(end1 + gap_ms[0], auth_hours, 0.25)
    times2 = t2 + np.array([0, int(rng.uniform(20, 300) * 1000)])
    services = ["sso.corp.example", "vpn.corp.example"]
    servers = ctx.org.servers.set_index("host")
    logon = ctx.auth(
        victim,
        times2,
        step=2,
        city=city,
        src_ip=ip,
        dst_host=np.array(services),
        dst_ip=servers.loc[services, "ip"].to_numpy(),
        device_id=_new_device(ctx, rng),
        user_agent=agent,
        is_mfa=0 if level == "blatant" else 1,
    )

    # Step 3: discovery, from the victim's workstation: short probes of many internal hosts.
    pool = internal_targets(ctx, victim)
    n_disc = min(int(rng.integers(*disc_n)), len(pool))
    probed = pool.iloc[rng.permutation(len(pool))[:n_disc]]
    ports = probed["port"].to_numpy()
    if subtle:
        ports = normal_ports(ctx, ports, (NETWORK_CLASS_UID,))
    else:
        ports = np.where(
            rng.random(n_disc) < 0.5,
            ports,
            np.array([135, 445, 3389, 22])[rng.integers(0, 4, n_disc)],
        )
    t3 = at(int(times2[-1]) + gap_ms[1], net_hours, disc_min / 60)
    times3 = spread(t3, disc_min / 60, n_disc, rng)
    probe = {
        "bytes_out": rng.uniform(300, 2000, n_disc),
        "bytes_in": rng.uniform(300, 3000, n_disc),
        "packets": rng.integers(6, 14, n_disc),
        "duration_ms": rng.uniform(20, 800, n_disc),
    }
    probe = fit_volumes(ctx, probe, subtle)
    discovery = ctx.net(
        victim,
        times3,
        step=3,
        dst_host=probed["host"].to_numpy(),
        dst_ip=probed["ip"].to_numpy(),
        dst_port=ports,
        outbound=False,
        **probe,
    )

    # Step 4: staging: large reads from the file servers and databases to the workstation.
    n_stage = int(rng.integers(*stage_n))
    src = rng.integers(0, len(_STAGING_SOURCES), n_stage)
    hosts = np.array([h for h, _ in _STAGING_SOURCES])[src]
    stage_h = 1.0 if level == "blatant" else 2.0
    t4 = at(int(times3[-1]) + gap_ms[2], net_hours, stage_h)
    times4 = spread(t4, stage_h, n_stage, rng)
    if subtle:
        read = ctx.bounds[(NETWORK_CLASS_UID, "bytes_in")][1] * rng.uniform(*stage_b, n_stage)
    else:
        read = rng.uniform(*stage_b, n_stage)
    reads = {
        "bytes_in": read,
        "bytes_out": rng.uniform(2e3, 20e3, n_stage),
        "packets": read // 1300 + rng.integers(6, 20, n_stage),
        # A LAN read at 20-100 MB/s.
        "duration_ms": read / rng.uniform(20e6, 100e6, n_stage) * 1000 + 50,
    }
    reads = fit_volumes(ctx, reads, subtle)
    staging = ctx.net(
        victim,
        times4,
        step=4,
        dst_host=hosts,
        dst_ip=servers.loc[hosts, "ip"].to_numpy(),
        dst_port=np.array([p for _, p in _STAGING_SOURCES])[src],
        outbound=False,
        **reads,
    )

    # Step 5: the staged data leaves for a host new to the victim.
    n_exfil = int(rng.integers(*exfil_n))
    if subtle:
        host, dst_ip = storage_destination(ctx, victim, rng)
        size = ctx.bounds[(NETWORK_CLASS_UID, "bytes_out")][1] * rng.uniform(*exfil_b, n_exfil)
    else:
        host, dst_ip = (
            new_host(ctx, rng, "{}.transfer.sh" if level == "blatant" else "share.{}.net"),
            cloud_ip(rng),
        )
        size = rng.uniform(*exfil_b, n_exfil)
    t5 = at(int(times4[-1]) + gap_ms[3], net_hours, 1.5)
    times5 = spread(t5, 1.5, n_exfil, rng)
    exfil = ctx.net(
        victim,
        times5,
        step=5,
        dst_host=host,
        dst_ip=dst_ip,
        dst_port=443,
        outbound=True,
        **upload_volumes(ctx, size, rng, subtle),
    )
    return in_span(EventBatch.concat([spray, logon, discovery, staging, exfil]), spec)


ACCOUNT_TAKEOVER = AttackScenario(
    name="account_takeover",
    title="Account takeover chain",
    techniques=(
        Technique("T1110.003", "Brute Force: Password Spraying", "Credential Access"),
        Technique("T1078", "Valid Accounts", "Initial Access"),
        Technique("T1018", "Remote System Discovery", "Discovery"),
        Technique("T1074", "Data Staged", "Collection"),
        EXFIL_ALT_PROTOCOL,
    ),
    description=(
        "Five steps over one to three days: a password spray from one address that succeeds "
        "for the victim, the victim's logon from that address in a new country on a new "
        "device, probes of many internal hosts from the victim's workstation, large reads "
        "from file servers and databases, then uploads to a new external host. Blatant: "
        "40-80 sprayed accounts in minutes from a hosting range abroad, 60-100 probes, "
        "gigabytes staged and sent; subtle: a handful of accounts in the victim's office "
        "time zone, another office's country, every volume and hour within the normal range."
    ),
    signal="the sequence per user: a spray hit, then a first logon from a new country and "
    "device, then new internal destinations, inbound volume from file servers and outbound "
    "volume to a new host within hours to days",
    span_days={"blatant": 0.5, "moderate": 1.6, "subtle": 6.0},
    max_events={"blatant": 200, "moderate": 98, "subtle": 64},
    inject=_account_takeover,
)

SCENARIOS: tuple[AttackScenario, ...] = (ACCOUNT_TAKEOVER,)
