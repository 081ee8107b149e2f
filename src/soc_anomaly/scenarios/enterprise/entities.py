"""Who and what lives in the enterprise world: users, devices, hosts, services, egress.

Every table is drawn from one :class:`numpy.random.Generator` with vectorised
numpy, so the same seed always gives the same organisation. Addresses use
documentation and private ranges for the company's own networks, and
plausible public prefixes per country for home ISPs and attackers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.enterprise.places import (
    CITIES,
    CITY_LAT,
    CITY_LON,
    CITY_TZ,
    N_OFFICES,
    OFFICE_WEIGHTS,
    public_ips,
    random_public_ips,
)

__all__ = ["Organisation", "build_organisation"]


# (department, share of staff, roles, services they log in to beyond the common ones)
DEPARTMENTS: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Engineering", 0.28, ("developer", "sre", "qa"), ("git", "ci", "jira")),
    ("Sales", 0.16, ("account_exec", "sales_ops"), ("crm",)),
    ("Support", 0.12, ("support_agent", "support_lead"), ("crm", "jira")),
    ("Finance", 0.09, ("accountant", "controller"), ("erp",)),
    ("IT", 0.08, ("sysadmin", "helpdesk", "netadmin"), ("jira", "git")),
    ("Operations", 0.09, ("soc_analyst", "noc_operator"), ("jira",)),
    ("HR", 0.06, ("recruiter", "hr_partner"), ("hris",)),
    ("Marketing", 0.07, ("marketer", "designer"), ("crm",)),
    ("Legal", 0.03, ("counsel",), ("erp",)),
    ("Executive", 0.02, ("executive",), ("erp", "crm")),
)
#: Roles that hold privileged (administrator) accounts.
PRIVILEGED_ROLES = frozenset({"sysadmin", "netadmin", "sre"})
#: Roles that work night shifts, and roles that take on-call weeks.
NIGHT_ROLES = frozenset({"soc_analyst", "noc_operator", "support_agent"})
ON_CALL_ROLES = frozenset({"sre", "sysadmin", "netadmin"})
PATTERNS = ("office_hours", "night_shift", "on_call")

#: Services every user logs in to; departments add their own (DEPARTMENTS).
COMMON_SERVICES = ("sso", "mail", "vpn", "chat", "wiki")
SERVICE_PORTS = {
    "sso": 443,
    "mail": 443,
    "vpn": 443,
    "chat": 443,
    "wiki": 443,
    "git": 443,
    "ci": 443,
    "jira": 443,
    "crm": 443,
    "erp": 443,
    "hris": 443,
}

#: External destinations of normal traffic: (host, port, median KiB out, median KiB in).
EXTERNAL_SITES: tuple[tuple[str, int, float, float], ...] = (
    ("outlook.office365.com", 443, 40.0, 300.0),
    ("teams.microsoft.com", 443, 150.0, 900.0),
    ("github.com", 443, 60.0, 500.0),
    ("slack.com", 443, 20.0, 120.0),
    ("salesforce.com", 443, 30.0, 400.0),
    ("zoom.us", 443, 2500.0, 9000.0),
    ("docs.google.com", 443, 50.0, 250.0),
    ("s3.amazonaws.com", 443, 300.0, 600.0),
    ("cdn.jsdelivr.net", 443, 4.0, 350.0),
    ("pypi.org", 443, 5.0, 2500.0),
    ("registry.npmjs.org", 443, 5.0, 1800.0),
    ("www.linkedin.com", 443, 15.0, 700.0),
    ("news.ycombinator.com", 443, 3.0, 90.0),
    ("update.microsoft.com", 443, 8.0, 6000.0),
    ("dropbox.com", 443, 200.0, 400.0),
)
#: Internal servers: (name, port, median KiB out, median KiB in, departments; empty = all).
INTERNAL_SERVERS: tuple[tuple[str, int, float, float, tuple[str, ...]], ...] = (
    ("fs-01", 445, 400.0, 1500.0, ()),
    ("fs-02", 445, 400.0, 1500.0, ("Finance", "Legal", "HR", "Executive")),
    ("print-01", 9100, 600.0, 2.0, ()),
    ("db-crm-01", 5432, 6.0, 80.0, ("Sales", "Support", "Marketing")),
    ("db-erp-01", 1433, 6.0, 120.0, ("Finance", "Legal", "Executive")),
    ("git-01", 22, 30.0, 900.0, ("Engineering", "IT")),
    ("ci-01", 443, 15.0, 200.0, ("Engineering",)),
    ("jira-01", 443, 10.0, 150.0, ("Engineering", "IT", "Support", "Operations")),
    ("wiki-01", 443, 5.0, 200.0, ()),
    ("siem-01", 443, 10.0, 400.0, ("Operations", "IT")),
    ("k8s-api-01", 6443, 10.0, 60.0, ("Engineering", "IT")),
    ("dc-01", 389, 2.0, 6.0, ()),
    ("dc-02", 88, 2.0, 4.0, ()),
)
#: Servers only administrators reach with RDP or SSH (admin sessions, lateral movement).
ADMIN_SERVERS = tuple(
    f"srv-{role}-{i:02d}" for role in ("app", "db", "web", "ops") for i in range(1, 13)
)
#: Where scheduled backups upload to.
BACKUP_TARGET = ("backup.vault-storage.net", 443)
_FIRST = (
    "alex",
    "sam",
    "maria",
    "li",
    "omar",
    "anna",
    "raj",
    "chen",
    "lucas",
    "emma",
    "noah",
    "olga",
    "ivan",
    "sara",
    "jon",
    "mia",
    "ali",
    "yuki",
    "ana",
    "ben",
    "eva",
    "kofi",
    "lea",
    "tom",
    "nina",
    "paul",
    "zoe",
    "hugo",
    "ines",
    "kai",
)
_LAST = (
    "smith",
    "garcia",
    "nguyen",
    "khan",
    "muller",
    "rossi",
    "tanaka",
    "silva",
    "patel",
    "kim",
    "novak",
    "brown",
    "cohen",
    "dubois",
    "ivanova",
    "okafor",
    "lopez",
    "berg",
    "walsh",
    "sato",
    "reyes",
    "fischer",
    "moreau",
    "singh",
    "hansen",
    "costa",
    "ahmed",
    "young",
    "park",
    "weber",
)
_UA = (
    (
        "laptop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/131.0 Safari/537.36",
    ),
    (
        "laptop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/18.1 Safari/605.1.15",
    ),
    (
        "laptop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
    ),
    ("desktop", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    (
        "phone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148",
    ),
    (
        "phone",
        "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/131.0 Mobile Safari/537.36",
    ),
)
UA_KIND = np.array([k for k, _ in _UA])
USER_AGENTS = tuple(ua for _, ua in _UA)


@dataclass
class Organisation:
    """The world's entities as tables and arrays, indexed by position.

    Attributes
    ----------
    users : pandas.DataFrame
        One row per user (see :func:`build_organisation` for the columns).
    devices : pandas.DataFrame
        One row per device: ``device_id``, ``user`` (position), ``kind``,
        ``hostname`` (None for phones), ``ip``, ``user_agent``.
    servers : pandas.DataFrame
        Internal servers and services: ``host``, ``ip``, ``port``, ``kind``.
    external : pandas.DataFrame
        External sites of normal traffic: ``host``, ``ip``, ``port``, KiB medians.
    """

    users: pd.DataFrame
    devices: pd.DataFrame
    servers: pd.DataFrame
    external: pd.DataFrame

    @property
    def n_users(self) -> int:
        """Number of users."""
        return len(self.users)


def _user_names(n: int, rng: np.random.Generator) -> list[str]:
    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    seen: dict[str, int] = {}
    names = []
    for f, la in zip(first, last, strict=True):
        base = f"{_FIRST[f]}.{_LAST[la]}"
        k = seen.get(base, 0)
        seen[base] = k + 1
        names.append(base if k == 0 else f"{base}{k + 1}")
    return names


def build_organisation(n_users: int, rng: np.random.Generator) -> Organisation:
    """Draw the organisation.

    Parameters
    ----------
    n_users : int
        Number of staff accounts.
    rng : numpy.random.Generator
        The entities' random stream.

    Returns
    -------
    Organisation
        ``users`` has: ``user``, ``department``, ``role``, ``office`` (city
        index), ``office_city``, ``country``, ``tz_offset_min``, ``home_lat``,
        ``home_lon``, ``home_ip``, ``pattern`` (office_hours, night_shift,
        on_call), ``weekends_off``, ``start_hour`` / ``shift_hours`` (local
        working window), ``remote_share`` (share of days worked from home),
        ``privileged``, ``travel_propensity`` (business trips per month),
        ``auth_rate`` / ``net_rate`` (events per working day), ``upload_scale``
        (the user's typical outbound volume, a multiplier).
    """
    dept_names = np.array([d[0] for d in DEPARTMENTS])
    dept = rng.choice(len(DEPARTMENTS), size=n_users, p=[d[1] for d in DEPARTMENTS])
    role_pick = rng.integers(0, 1 << 30, n_users)
    role = np.array(
        [
            DEPARTMENTS[d][2][p % len(DEPARTMENTS[d][2])]
            for d, p in zip(dept, role_pick, strict=True)
        ]
    )
    office = rng.choice(N_OFFICES, size=n_users, p=OFFICE_WEIGHTS)
    night_capable = np.isin(role, list(NIGHT_ROLES))
    on_call_capable = np.isin(role, list(ON_CALL_ROLES))
    pattern = np.where(
        night_capable & (rng.random(n_users) < 0.45),
        "night_shift",
        np.where(on_call_capable & (rng.random(n_users) < 0.6), "on_call", "office_hours"),
    )
    night = pattern == "night_shift"
    start_hour = np.where(night, rng.uniform(21.0, 23.0, n_users), rng.uniform(7.0, 10.0, n_users))
    # Support and operations staff work some weekends; everyone else has them off.
    weekends_off = ~(night_capable & (rng.random(n_users) < 0.5))
    home_lat = CITY_LAT[office] + rng.normal(0.0, 0.12, n_users)
    home_lon = CITY_LON[office] + rng.normal(0.0, 0.15, n_users)
    privileged = np.isin(role, list(PRIVILEGED_ROLES)) | (dept_names[dept] == "Executive")
    users = pd.DataFrame(
        {
            "user": _user_names(n_users, rng),
            "department": dept_names[dept],
            "role": role,
            "office": office.astype(np.int64),
            "office_city": np.array([c.name for c in CITIES])[office],
            "country": np.array([c.country for c in CITIES])[office],
            "tz_offset_min": CITY_TZ[office],
            "home_lat": np.round(home_lat, 4),
            "home_lon": np.round(home_lon, 4),
            "home_ip": random_public_ips(office, rng),
            "pattern": pattern,
            "weekends_off": weekends_off,
            "start_hour": np.round(start_hour, 2),
            "shift_hours": np.round(rng.uniform(8.0, 10.0, n_users), 2),
            "remote_share": np.round(rng.beta(2.0, 3.0, n_users), 3),
            "privileged": privileged,
            "travel_propensity": np.round(rng.gamma(0.6, 0.5, n_users), 3),
            "auth_rate": np.round(rng.lognormal(np.log(7.0), 0.35, n_users), 2),
            "net_rate": np.round(rng.lognormal(np.log(32.0), 0.45, n_users), 2),
            "upload_scale": np.round(rng.lognormal(0.0, 0.5, n_users), 3),
        }
    )

    # One to three devices: a laptop always, then a phone and/or a second computer.
    n_dev = 1 + (rng.random(n_users) < 0.7) + (rng.random(n_users) < 0.15)
    owner = np.repeat(np.arange(n_users), n_dev)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_dev) - n_dev, n_dev)
    kind = np.where(rank == 0, "laptop", np.where(rank == 1, "phone", "desktop"))
    ua_choice = np.empty(len(owner), dtype=np.int64)
    for k in ("laptop", "phone", "desktop"):
        options = np.flatnonzero(UA_KIND == k) if k != "desktop" else np.array([0, 3])
        sel = kind == k
        ua_choice[sel] = options[rng.integers(0, len(options), sel.sum())]
    dev_no = np.arange(len(owner))
    office_of = office[owner]
    city_code = np.array(["NYC", "LON", "FRA", "SIN", "TOR", "BLR"])[office_of]
    hostname = np.where(
        kind == "phone",
        None,
        np.char.add(
            np.char.add(np.char.add("WS-", city_code), "-"), np.char.zfill(dev_no.astype(str), 5)
        ).astype(object),
    )
    ip = np.array(
        [
            f"10.{o + 1}.{(d >> 8) & 255}.{(d & 255) or 1}"
            for o, d in zip(office_of, dev_no + 10, strict=True)
        ]
    )
    devices = pd.DataFrame(
        {
            "device_id": np.char.add("DEV-", np.char.zfill(dev_no.astype(str), 6)),
            "user": owner.astype(np.int64),
            "kind": kind,
            "hostname": hostname,
            "ip": ip,
            "user_agent": np.array(USER_AGENTS)[ua_choice],
        }
    )

    server_rows = [
        (f"{svc}.corp.example", f"10.100.0.{i + 10}", SERVICE_PORTS[svc], "service")
        for i, svc in enumerate(SERVICE_PORTS)
    ]
    server_rows += [
        (name, f"10.100.1.{i + 10}", port, "server")
        for i, (name, port, *_rest) in enumerate(INTERNAL_SERVERS)
    ]
    server_rows += [
        (name, f"10.100.2.{i + 10}", 3389 if "app" in name or "db" in name else 22, "admin")
        for i, name in enumerate(ADMIN_SERVERS)
    ]
    servers = pd.DataFrame(server_rows, columns=["host", "ip", "port", "kind"])
    ext_ips = public_ips(
        rng.choice(np.array([13, 20, 34, 52, 104, 140, 151, 162]), size=len(EXTERNAL_SITES)), rng
    )
    external = pd.DataFrame(
        {
            "host": [s[0] for s in EXTERNAL_SITES],
            "ip": ext_ips,
            "port": [s[1] for s in EXTERNAL_SITES],
            "kib_out": [s[2] for s in EXTERNAL_SITES],
            "kib_in": [s[3] for s in EXTERNAL_SITES],
        }
    )
    return Organisation(users=users, devices=devices, servers=servers, external=external)
