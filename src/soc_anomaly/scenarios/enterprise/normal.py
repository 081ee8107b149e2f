"""Everyday activity: the logons and connections of every user, day after day.

Each user works to a pattern (office hours with weekends off, night shifts on a
five-on two-off rotation, or office hours with on-call weeks), from the office
or from home, at a personal rate. Per user and day the generator draws how
many logons and connections happen, when (inside the user's local working
window, with a little spill into the evening) and where to: the identity
provider first, then the user's services; the user's own file shares,
databases and websites for connections, with volumes around the destination's
norm scaled by the user's habits. Everything is vectorised over all events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.enterprise.entities import (
    COMMON_SERVICES,
    DEPARTMENTS,
    INTERNAL_SERVERS,
    Organisation,
)
from soc_anomaly.scenarios.enterprise.places import (
    CITIES,
    CITY_LAT,
    CITY_LON,
    VPN_EGRESS,
)
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
    Vocabulary,
)

__all__ = ["DAY_MS", "HOUR_MS", "Calendar", "corporate_nat_ip", "normal_events"]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: Services users log in to with a second factor.
MFA_SERVICES = frozenset({"sso", "vpn"})
#: How many internal servers and external sites make up a user's usual destinations.
USUAL_INTERNAL = 5
USUAL_EXTERNAL = 7


def corporate_nat_ip(office: int) -> str:
    """The public address an office's traffic leaves the corporate network from."""
    return f"203.0.113.{office + 10}"


@dataclass(frozen=True)
class Calendar:
    """The simulated period.

    Attributes
    ----------
    start_ms : int
        Midnight UTC of the first day, in ms since the epoch.
    days : int
        Number of days.
    """

    start_ms: int
    days: int

    @property
    def first_weekday(self) -> int:
        """Day of the week of the first day (0 is Monday)."""
        # 1970-01-01 was a Thursday.
        return int((self.start_ms // DAY_MS + 3) % 7)

    @property
    def end_ms(self) -> int:
        """End of the last day (exclusive)."""
        return self.start_ms + self.days * DAY_MS

    def local_midnight(self, day: np.ndarray, tz_offset_min: np.ndarray) -> np.ndarray:
        """UTC ms of local midnight of ``day`` (index) for users at ``tz_offset_min``."""
        return (
            self.start_ms
            + np.asarray(day, np.int64) * DAY_MS
            - np.asarray(tz_offset_min, np.int64) * 60_000
        )


@dataclass
class _UserDays:
    """Per (user, day): whether and when the user works, and from where."""

    user: np.ndarray
    day: np.ndarray
    works: np.ndarray
    start_ms: np.ndarray
    length_ms: np.ndarray
    remote: np.ndarray


def _user_days(org: Organisation, cal: Calendar, rng: np.random.Generator) -> _UserDays:
    users = org.users
    n_users = len(users)
    user = np.repeat(np.arange(n_users, dtype=np.int32), cal.days)
    day = np.tile(np.arange(cal.days, dtype=np.int32), n_users)
    weekday = (day + cal.first_weekday) % 7
    pattern = users["pattern"].to_numpy()[user]
    night = pattern == "night_shift"
    rotation = rng.integers(0, 7, n_users)[user]
    weekend = weekday >= 5
    weekends_off = users["weekends_off"].to_numpy()[user]
    day_works = np.where(weekend, ~weekends_off & (rng.random(len(user)) < 0.5), True)
    works = np.where(night, (day + rotation) % 7 < 5, day_works)
    # Leave, sick days and the odd day off.
    works &= rng.random(len(user)) >= 0.04
    tz = users["tz_offset_min"].to_numpy()[user]
    start_hour = users["start_hour"].to_numpy()[user] + rng.normal(0.0, 0.4, len(user))
    length_h = users["shift_hours"].to_numpy()[user] + rng.normal(0.0, 0.6, len(user))
    start_ms = cal.local_midnight(day, tz) + (start_hour * HOUR_MS).astype(np.int64)
    remote = (rng.random(len(user)) < users["remote_share"].to_numpy()[user]) & ~night
    return _UserDays(
        user=user,
        day=day,
        works=works,
        start_ms=start_ms,
        length_ms=(np.clip(length_h, 4.0, 12.0) * HOUR_MS).astype(np.int64),
        remote=remote,
    )


def _event_times(
    ud: _UserDays, counts: np.ndarray, rng: np.random.Generator, first_at_start: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Times of ``counts[i]`` events of user-day ``i``; returns (user-day index, ms)."""
    idx = np.repeat(np.arange(len(counts)), counts)
    n = len(idx)
    frac = rng.beta(1.3, 1.3, n)
    # A few events spill into the evening (mail on the phone, a late fix).
    spill = rng.random(n) < 0.03
    offset = np.where(
        spill, ud.length_ms[idx] + rng.uniform(0.5, 3.5, n) * HOUR_MS, frac * ud.length_ms[idx]
    )
    # Days off: a handful of events at a random daytime hour.
    off = ~ud.works[idx]
    offset = np.where(off, rng.uniform(1.0, 11.0, n) * HOUR_MS, offset)
    if first_at_start:
        first = np.r_[True, idx[1:] != idx[:-1]] if n else np.zeros(0, bool)
        offset = np.where(first & ~off, rng.uniform(0.0, 0.25, n) * HOUR_MS, offset)
    return idx, ud.start_ms[idx] + offset.astype(np.int64)


def _services_by_department() -> tuple[list[str], np.ndarray, np.ndarray]:
    """All service names; per department its services (padded index rows) and their count."""
    names = list(dict.fromkeys([*COMMON_SERVICES, *(s for d in DEPARTMENTS for s in d[3])]))
    rows = [[names.index(s) for s in (*COMMON_SERVICES, *d[3])] for d in DEPARTMENTS]
    width = max(len(r) for r in rows)
    table = np.array([r + [r[0]] * (width - len(r)) for r in rows])
    return names, table, np.array([len(r) for r in rows])


def _auth_events(
    org: Organisation,
    ud: _UserDays,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
) -> EventBatch:
    users = org.users
    rate = users["auth_rate"].to_numpy()[ud.user]
    counts = rng.poisson(np.where(ud.works, rate, 0.4))
    counts = np.where(ud.works, np.maximum(counts, 1), counts)
    idx, t = _event_times(ud, counts, rng, first_at_start=True)
    n = len(idx)
    u = ud.user[idx]
    first = np.r_[True, idx[1:] != idx[:-1]] if n else np.zeros(0, bool)

    # Where the identity provider sees the logon from: the office, home, or the VPN.
    office = users["office"].to_numpy()[u]
    remote = ud.remote[idx] | ~ud.works[idx]
    vpn = remote & (rng.random(n) < 0.25)
    vpn_city = np.array([c for c, _ in VPN_EGRESS])
    vpn_ip = np.array([ip for _, ip in VPN_EGRESS])
    # The VPN egress nearest the user's office.
    nearest = np.argmin(
        np.abs(CITY_LAT[vpn_city][None, :] - CITY_LAT[:, None])
        + np.abs(CITY_LON[vpn_city][None, :] - CITY_LON[:, None]),
        axis=1,
    )[office]
    city = np.where(vpn, vpn_city[nearest], office)
    ip_vocab = vocab["src_ip"]
    nat_codes = ip_vocab.encode([corporate_nat_ip(o) for o in range(len(CITIES))])
    home_codes = ip_vocab.encode(users["home_ip"].to_numpy())
    vpn_codes = ip_vocab.encode(vpn_ip)
    src_ip = np.where(vpn, vpn_codes[nearest], np.where(remote, home_codes[u], nat_codes[office]))
    lat = np.where(remote & ~vpn, users["home_lat"].to_numpy()[u], CITY_LAT[city])
    lon = np.where(remote & ~vpn, users["home_lon"].to_numpy()[u], CITY_LON[city])
    city_codes = vocab["src_city"].encode([c.name for c in CITIES])
    country_codes = vocab["src_country"].encode([c.country for c in CITIES])

    # Device: mostly the laptop, sometimes the phone or the second computer.
    dev = org.devices
    first_dev = np.searchsorted(dev["user"].to_numpy(), np.arange(len(users)))
    n_dev = np.bincount(dev["user"].to_numpy(), minlength=len(users))
    pick = np.where(rng.random(n) < 0.8, 0, rng.integers(0, 3, n))
    dev_row = first_dev[u] + np.minimum(pick, n_dev[u] - 1)
    dev_codes = vocab["device_id"].encode(dev["device_id"].to_numpy())
    ua_codes = vocab["user_agent"].encode(dev["user_agent"].to_numpy())
    # A phone has no host name: null, not the text "nan" (which read as a managed host).
    hostnames = dev["hostname"].to_numpy(dtype=object)
    host_codes = vocab["src_host"].encode(np.where(pd.isna(hostnames), None, hostnames))

    # Service: the identity provider first thing, then the user's department's services.
    names, table, n_services = _services_by_department()
    dept_index = {d[0]: i for i, d in enumerate(DEPARTMENTS)}
    dept = np.array([dept_index[d] for d in users["department"]])[u]
    pick = (rng.random(n) * n_services[dept]).astype(np.int64)
    service = np.where(first, names.index("sso"), table[dept, pick])
    servers = org.servers.set_index("host")
    svc_hosts = [f"{s}.corp.example" for s in names]
    svc_host_codes = vocab["dst_host"].encode(svc_hosts)
    svc_ip_codes = vocab["dst_ip"].encode(servers.loc[svc_hosts, "ip"].to_numpy())
    mfa = np.isin(service, [names.index(s) for s in MFA_SERVICES]) & (first | (rng.random(n) < 0.5))

    return EventBatch.build(
        n,
        vocab,
        time=t,
        timezone_offset=users["tz_offset_min"].to_numpy()[u],
        class_uid=AUTH_CLASS_UID,
        user=u,
        src_ip=src_ip,
        src_host=host_codes[dev_row],
        src_city=city_codes[city],
        src_country=country_codes[city],
        src_lat=np.round(lat, 4),
        src_lon=np.round(lon, 4),
        device_id=dev_codes[dev_row],
        user_agent=ua_codes[dev_row],
        dst_host=svc_host_codes[service],
        dst_ip=svc_ip_codes[service],
        dst_port=443,
        logon_type="Network",
        is_mfa=mfa.astype(np.int8),
        status="Success",
    )


def _destinations(org: Organisation, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per user, the usual internal servers and external sites (indices), most used first."""
    users = org.users
    n_users = len(users)
    dept = users["department"].to_numpy()
    allowed = np.array(
        [[not depts or d in depts for (*_x, depts) in INTERNAL_SERVERS] for d in dept]
    )
    keys = np.where(allowed, rng.random(allowed.shape), -1.0)
    internal = np.argsort(-keys, axis=1)[:, :USUAL_INTERNAL]
    n_ext = len(org.external)
    external = np.argsort(rng.random((n_users, n_ext)), axis=1)[:, :USUAL_EXTERNAL]
    return internal, external


def _network_events(
    org: Organisation,
    ud: _UserDays,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
) -> EventBatch:
    users = org.users
    rate = users["net_rate"].to_numpy()[ud.user]
    counts = rng.poisson(np.where(ud.works, rate, 1.0))
    idx, t = _event_times(ud, counts, rng, first_at_start=False)
    n = len(idx)
    u = ud.user[idx]
    internal, external = _destinations(org, rng)

    # The usual destinations with Zipf-like preference; now and then somewhere new.
    is_ext = rng.random(n) < 0.55
    rank_int = np.minimum(rng.zipf(1.6, n) - 1, USUAL_INTERNAL - 1)
    rank_ext = np.minimum(rng.zipf(1.6, n) - 1, USUAL_EXTERNAL - 1)
    new_site = rng.random(n) < 0.02
    ext_site = np.where(new_site, rng.integers(0, len(org.external), n), external[u, rank_ext])
    int_srv = internal[u, rank_int]

    ext = org.external
    int_hosts = [s[0] for s in INTERNAL_SERVERS]
    srv = org.servers.set_index("host")
    host_codes_ext = vocab["dst_host"].encode(ext["host"].to_numpy())
    host_codes_int = vocab["dst_host"].encode(int_hosts)
    ip_codes_ext = vocab["dst_ip"].encode(ext["ip"].to_numpy())
    ip_codes_int = vocab["dst_ip"].encode(srv.loc[int_hosts, "ip"].to_numpy())
    port_ext = ext["port"].to_numpy()
    port_int = np.array([s[1] for s in INTERNAL_SERVERS])
    kib_out = np.where(
        is_ext,
        ext["kib_out"].to_numpy()[ext_site],
        np.array([s[2] for s in INTERNAL_SERVERS])[int_srv],
    )
    kib_in = np.where(
        is_ext,
        ext["kib_in"].to_numpy()[ext_site],
        np.array([s[3] for s in INTERNAL_SERVERS])[int_srv],
    )
    scale = users["upload_scale"].to_numpy()[u]
    bytes_out = np.round(kib_out * 1024 * scale * rng.lognormal(0.0, 0.9, n)).astype(np.int64)
    bytes_in = np.round(kib_in * 1024 * rng.lognormal(0.0, 0.9, n)).astype(np.int64)
    bytes_out = np.maximum(bytes_out, 200)
    bytes_in = np.maximum(bytes_in, 200)
    packets = ((bytes_in + bytes_out) // 1300 + 4 + rng.poisson(3.0, n)).astype(np.int32)
    duration = np.round(
        np.maximum(50.0, (bytes_in + bytes_out) / rng.lognormal(np.log(2e5), 0.8, n) * 1000.0)
    ).astype(np.int64)

    # The source is the user's computer (laptop, or the desktop where there is one).
    dev = org.devices
    computers = dev[dev["kind"] != "phone"]
    first_comp = computers.groupby("user").head(1)
    comp_row = np.full(len(users), -1, dtype=np.int64)
    comp_row[first_comp["user"].to_numpy()] = np.arange(len(first_comp))
    comp_host = vocab["src_host"].encode(first_comp["hostname"].to_numpy())
    comp_ip = vocab["src_ip"].encode(first_comp["ip"].to_numpy())
    comp_dev = vocab["device_id"].encode(first_comp["device_id"].to_numpy())
    row = comp_row[u]

    return EventBatch.build(
        n,
        vocab,
        time=t,
        timezone_offset=users["tz_offset_min"].to_numpy()[u],
        class_uid=NETWORK_CLASS_UID,
        user=u,
        src_ip=comp_ip[row],
        src_host=comp_host[row],
        device_id=comp_dev[row],
        dst_host=np.where(is_ext, host_codes_ext[ext_site], host_codes_int[int_srv]),
        dst_ip=np.where(is_ext, ip_codes_ext[ext_site], ip_codes_int[int_srv]),
        dst_port=np.where(is_ext, port_ext[ext_site], port_int[int_srv]),
        status="Success",
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        packets=packets,
        duration_ms=duration,
        direction=np.where(
            is_ext, vocab["direction"].code("Outbound"), vocab["direction"].code("Lateral")
        ).astype(np.int32),
    )


def normal_events(
    org: Organisation,
    cal: Calendar,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
) -> tuple[EventBatch, EventBatch]:
    """Every user's everyday logons and connections over the calendar.

    Parameters
    ----------
    org : Organisation
        The entities.
    cal : Calendar
        The simulated period.
    rng : numpy.random.Generator
        The normal events' random stream.
    vocab : dict of str to Vocabulary
        The world's vocabularies, extended with the strings used here.

    Returns
    -------
    (EventBatch, EventBatch)
        Authentication events and network events, each in user-day order
        (the world sorts everything by time at the end).
    """
    # The user column's codes are user positions, so its vocabulary is the user list.
    user_codes = vocab["user"].encode(org.users["user"].to_numpy())
    if not np.array_equal(user_codes, np.arange(len(org.users))):
        raise ValueError("the user vocabulary must start with the organisation's users")
    ud = _user_days(org, cal, rng)
    auth = _auth_events(org, ud, rng, vocab)
    net = _network_events(org, ud, rng, vocab)
    # Clip to the calendar: a night shift's last hours would spill past the end.
    auth = auth.take((auth["time"] >= cal.start_ms) & (auth["time"] < cal.end_ms))
    net = net.take((net["time"] >= cal.start_ms) & (net["time"] < cal.end_ms))
    return auth, net
