"""Benign oddities: unusual but innocent activity that makes false positives realistic.

Each oddity's events carry its name in ``benign_tag`` (and ``label`` 0):

``business_trip``
    A user works from another city for two to five days; logons come from a
    hotel address there, after a gap long enough for the flight.
``vpn_abroad``
    For a day a user's logons leave through a corporate VPN egress in another
    country.
``new_device``
    A user starts using a new device (new id and user agent); its first three
    days of logons are tagged.
``password_typo``
    Two to six failed logons within a couple of minutes, then a success, from
    the user's usual address and device.
``on_call_night``
    On-call engineers are paged at night: an MFA logon over the VPN and a burst
    of connections to servers, between 01:00 and 04:00 local time.
``backup_upload``
    A few workstations run a nightly backup that uploads hundreds of megabytes
    to a cloud vault around 02:00 local time.
``admin_many_hosts``
    On a patch day an administrator logs in to 10-30 servers in a few hours.

Administrators' everyday remote sessions to their usual servers are generated
here too, untagged: they are normal for them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.benign_admin import admin_sessions, backups
from soc_anomaly.scenarios.enterprise.entities import (
    USER_AGENTS,
    Organisation,
)
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS, Calendar
from soc_anomaly.scenarios.enterprise.places import (
    CITIES,
    CITY_KM,
    CITY_LAT,
    CITY_LON,
    TRAVEL_CITIES,
    VPN_EGRESS,
    random_public_ips,
)
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
    Vocabulary,
)

__all__ = ["BENIGN_TAGS", "benign_events"]

#: Every ``benign_tag`` value but ``none``.
BENIGN_TAGS: tuple[str, ...] = (
    "business_trip",
    "vpn_abroad",
    "new_device",
    "password_typo",
    "on_call_night",
    "backup_upload",
    "admin_many_hosts",
)
#: Cruising speed plus airport time used to space a trip's first logon.
_FLIGHT_KMH = 750.0
_AIRPORT_H = 4.0


class _ByUser:
    """Row ranges of each user in a batch ordered by user (as normal events are)."""

    def __init__(self, batch: EventBatch, n_users: int) -> None:
        self.bounds = np.searchsorted(batch["user"], np.arange(n_users + 1))

    def rows(self, user: int) -> slice:
        return slice(int(self.bounds[user]), int(self.bounds[user + 1]))


def _trips(
    org: Organisation,
    cal: Calendar,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
    auth: EventBatch,
    by_user: _ByUser,
) -> None:
    users = org.users
    n_trips = rng.poisson(users["travel_propensity"].to_numpy() * cal.days / 30.0)
    drop = np.zeros(len(auth), dtype=bool)
    tag = vocab["benign_tag"].code("business_trip")
    for u in np.flatnonzero(n_trips):
        office = int(users["office"].iat[u])
        rows = by_user.rows(int(u))
        t = auth["time"][rows]
        for _ in range(int(n_trips[u])):
            dest = int(rng.choice(TRAVEL_CITIES[TRAVEL_CITIES != office]))
            length = int(rng.integers(2, 6))
            if cal.days <= length + 1:
                continue
            first_day = int(rng.integers(1, cal.days - length))
            t0 = cal.start_ms + first_day * DAY_MS
            t1 = t0 + length * DAY_MS
            flight = int((CITY_KM[office, dest] / _FLIGHT_KMH + _AIRPORT_H) * HOUR_MS)
            away = (t >= t0) & (t < t1)
            in_flight = ((t >= t0 - flight) & (t < t0)) | ((t >= t1) & (t < t1 + flight))
            idx = np.flatnonzero(away) + rows.start
            drop[np.flatnonzero(in_flight) + rows.start] = True
            hotel = random_public_ips(np.array([dest]), rng)[0]
            auth.columns["src_ip"][idx] = vocab["src_ip"].code(hotel)
            auth.columns["src_city"][idx] = vocab["src_city"].code(CITIES[dest].name)
            auth.columns["src_country"][idx] = vocab["src_country"].code(CITIES[dest].country)
            auth.columns["src_lat"][idx] = CITY_LAT[dest]
            auth.columns["src_lon"][idx] = CITY_LON[dest]
            auth.columns["benign_tag"][idx] = tag
    # Nobody logs in from the plane.
    keep = auth.take(~drop)
    auth.columns.clear()
    auth.columns.update(keep.columns)


def _vpn_abroad(
    org: Organisation,
    cal: Calendar,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
    auth: EventBatch,
    by_user: _ByUser,
) -> None:
    users = org.users
    who = np.flatnonzero(rng.random(len(users)) < 0.05)
    tag = vocab["benign_tag"].code("vpn_abroad")
    for u in who:
        country = users["country"].iat[u]
        options = [k for k, (c, _ip) in enumerate(VPN_EGRESS) if CITIES[c].country != country]
        city, ip = VPN_EGRESS[int(rng.choice(options))]
        day = int(rng.integers(0, cal.days))
        rows = by_user.rows(int(u))
        t = auth["time"][rows]
        idx = (
            np.flatnonzero(
                (t >= cal.start_ms + day * DAY_MS) & (t < cal.start_ms + (day + 1) * DAY_MS)
            )
            + rows.start
        )
        idx = idx[auth["benign_tag"][idx] == vocab["benign_tag"].code("none")]
        auth.columns["src_ip"][idx] = vocab["src_ip"].code(ip)
        auth.columns["src_city"][idx] = vocab["src_city"].code(CITIES[city].name)
        auth.columns["src_country"][idx] = vocab["src_country"].code(CITIES[city].country)
        auth.columns["src_lat"][idx] = CITY_LAT[city]
        auth.columns["src_lon"][idx] = CITY_LON[city]
        auth.columns["benign_tag"][idx] = tag


def _new_devices(
    org: Organisation,
    cal: Calendar,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
    auth: EventBatch,
    by_user: _ByUser,
) -> None:
    users = org.users
    who = np.flatnonzero(rng.random(len(users)) < 0.08)
    tag = vocab["benign_tag"].code("new_device")
    none = vocab["benign_tag"].code("none")
    next_id = len(org.devices)
    for u in who:
        day = int(rng.integers(1, max(cal.days, 2)))
        t_new = cal.start_ms + day * DAY_MS
        rows = by_user.rows(int(u))
        t = auth["time"][rows]
        after = np.flatnonzero((t >= t_new) & (rng.random(len(t)) < 0.6)) + rows.start
        dev = vocab["device_id"].code(f"DEV-{next_id:06d}")
        next_id += 1
        auth.columns["device_id"][after] = dev
        auth.columns["user_agent"][after] = vocab["user_agent"].code(
            USER_AGENTS[int(rng.integers(0, len(USER_AGENTS)))]
        )
        auth.columns["src_host"][after] = -1
        first_days = after[
            (auth["time"][after] < t_new + 3 * DAY_MS) & (auth["benign_tag"][after] == none)
        ]
        auth.columns["benign_tag"][first_days] = tag


def _typos(rng: np.random.Generator, vocab: dict[str, Vocabulary], auth: EventBatch) -> EventBatch:
    """Failure bursts before a share of the successful logons."""
    anchors = np.flatnonzero(rng.random(len(auth)) < 0.012)
    k = rng.integers(2, 7, len(anchors))
    src = np.repeat(anchors, k)
    burst = auth.take(src)
    pos = np.arange(len(src)) - np.repeat(np.cumsum(k) - k, k)
    before = (np.repeat(k, k) - pos) * rng.uniform(8.0, 25.0, len(src)) * 1000
    burst.columns["time"] = auth["time"][src] - before.astype(np.int64)
    burst.columns["status"][:] = vocab["status"].code("Failure")
    burst.columns["status_detail"][:] = vocab["status_detail"].code("Invalid password")
    burst.columns["is_mfa"][:] = 0
    burst.columns["benign_tag"][:] = vocab["benign_tag"].code("password_typo")
    return burst


def _on_call_nights(
    org: Organisation, cal: Calendar, rng: np.random.Generator, vocab: dict[str, Vocabulary]
) -> list[EventBatch]:
    users = org.users
    out = []
    servers = org.servers[org.servers["kind"] != "service"].reset_index(drop=True)
    vpn_ip = str(org.servers.loc[org.servers["host"] == "vpn.corp.example", "ip"].iloc[0])
    for u in np.flatnonzero(users["pattern"].to_numpy() == "on_call"):
        week = int(rng.integers(0, 4))
        nights = [d for d in range(cal.days) if (d // 7) % 4 == week and rng.random() < 0.3]
        tz = int(users["tz_offset_min"].iat[u])
        office = int(users["office"].iat[u])
        for d in nights:
            t0 = cal.start_ms + d * DAY_MS - tz * 60_000 + int(rng.uniform(1.0, 3.5) * HOUR_MS)
            vpn = min(range(len(VPN_EGRESS)), key=lambda k: CITY_KM[office, VPN_EGRESS[k][0]])
            city, ip = VPN_EGRESS[vpn]
            login = EventBatch.build(
                1,
                vocab,
                time=np.array([t0]),
                timezone_offset=tz,
                class_uid=AUTH_CLASS_UID,
                user=np.array([u]),
                src_ip=ip,
                src_city=CITIES[city].name,
                src_country=CITIES[city].country,
                src_lat=CITY_LAT[city],
                src_lon=CITY_LON[city],
                dst_host="vpn.corp.example",
                dst_ip=vpn_ip,
                dst_port=443,
                logon_type="Network",
                is_mfa=1,
                status="Success",
                benign_tag="on_call_night",
            )
            n = int(rng.integers(5, 31))
            pick = rng.integers(0, len(servers), n)
            b_out = np.round(rng.lognormal(np.log(20e3), 1.0, n)).astype(np.int64)
            b_in = np.round(rng.lognormal(np.log(150e3), 1.0, n)).astype(np.int64)
            conns = EventBatch.build(
                n,
                vocab,
                time=t0 + np.sort(rng.uniform(1.0, 90.0, n) * 60_000).astype(np.int64),
                timezone_offset=tz,
                class_uid=NETWORK_CLASS_UID,
                user=np.full(n, u),
                src_ip=ip,
                dst_host=servers["host"].to_numpy()[pick],
                dst_ip=servers["ip"].to_numpy()[pick],
                dst_port=servers["port"].to_numpy()[pick],
                status="Success",
                bytes_out=b_out,
                bytes_in=b_in,
                packets=(b_out + b_in) // 1300 + 6,
                duration_ms=(b_out + b_in) // 150 + 100,
                direction="Lateral",
                benign_tag="on_call_night",
            )
            out += [login, conns]
    return out


def benign_events(
    org: Organisation,
    cal: Calendar,
    rng: np.random.Generator,
    vocab: dict[str, Vocabulary],
    auth: EventBatch,
    net: EventBatch,
) -> list[EventBatch]:
    """Add the benign oddities to a world's normal events.

    Parameters
    ----------
    org, cal, rng, vocab
        The organisation, the period, the oddities' random stream and the vocabularies.
    auth, net : EventBatch
        The normal authentication and network events, ordered by user; trips,
        VPN days and new devices edit ``auth`` in place (a trip also removes the
        logons that would fall during its flights).

    Returns
    -------
    list of EventBatch
        The oddities' additional events.
    """
    del net  # connections leave from the laptop's internal address wherever it is
    by_user = _ByUser(auth, len(org.users))
    _trips(org, cal, rng, vocab, auth, by_user)
    by_user = _ByUser(auth, len(org.users))
    _vpn_abroad(org, cal, rng, vocab, auth, by_user)
    _new_devices(org, cal, rng, vocab, auth, by_user)
    extra = [_typos(rng, vocab, auth)]
    extra += _on_call_nights(org, cal, rng, vocab)
    extra += backups(org, cal, rng, vocab)
    extra += admin_sessions(org, cal, rng, vocab)
    return [b for b in extra if len(b)]
