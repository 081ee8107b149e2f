"""Benign activity of machines and administrators: the ``backup_upload`` and
``admin_many_hosts`` oddities of :mod:`soc_anomaly.scenarios.enterprise.benign`,
and administrators' everyday (untagged) sessions to their own servers."""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.entities import BACKUP_TARGET, Organisation
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS, Calendar
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
    Vocabulary,
)

__all__ = ["admin_sessions", "backups"]


def _computer_of(org: Organisation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dev = org.devices
    comp = dev[dev["kind"] != "phone"].groupby("user").head(1).set_index("user")
    comp = comp.reindex(range(len(org.users)))
    return (comp["hostname"].to_numpy(), comp["ip"].to_numpy(), comp["device_id"].to_numpy())


def backups(
    org: Organisation, cal: Calendar, rng: np.random.Generator, vocab: dict[str, Vocabulary]
) -> list[EventBatch]:
    """Nightly uploads to the backup vault from about 2% of the workstations."""
    users = org.users
    hosts, ips, devs = _computer_of(org)
    who = np.flatnonzero(rng.random(len(users)) < 0.02)
    out = []
    vault_ip = "52.216.40.17"
    for u in who:
        tz = int(users["tz_offset_min"].iat[u])
        days = np.arange(cal.days)
        t = (
            cal.start_ms
            + days * DAY_MS
            - tz * 60_000
            + (rng.uniform(1.9, 2.3, cal.days) * HOUR_MS).astype(np.int64)
        )
        size = rng.lognormal(np.log(float(rng.uniform(200e6, 900e6))), 0.25, cal.days)
        b_out = np.round(size).astype(np.int64)
        b_in = np.round(size * 0.004).astype(np.int64)
        out.append(
            EventBatch.build(
                cal.days,
                vocab,
                time=t,
                timezone_offset=tz,
                class_uid=NETWORK_CLASS_UID,
                user=np.full(cal.days, u),
                src_ip=ips[u],
                src_host=hosts[u],
                device_id=devs[u],
                dst_host=BACKUP_TARGET[0],
                dst_ip=vault_ip,
                dst_port=BACKUP_TARGET[1],
                status="Success",
                bytes_out=b_out,
                bytes_in=b_in,
                packets=(b_out + b_in) // 1400,
                duration_ms=(b_out // rng.uniform(2e6, 6e6, cal.days) * 1000).astype(np.int64),
                direction="Outbound",
                benign_tag="backup_upload",
            )
        )
    return out


def admin_sessions(
    org: Organisation, cal: Calendar, rng: np.random.Generator, vocab: dict[str, Vocabulary]
) -> list[EventBatch]:
    """Everyday sessions of administrators to their usual servers, and patch days."""
    users = org.users
    hosts, ips, devs = _computer_of(org)
    admin = org.servers[org.servers["kind"] == "admin"].reset_index(drop=True)
    out = []
    for u in np.flatnonzero(users["privileged"].to_numpy()):
        tz = int(users["tz_offset_min"].iat[u])
        start_h = float(users["start_hour"].iat[u])
        usual = rng.choice(len(admin), size=3, replace=False)
        days = np.flatnonzero(rng.random(cal.days) < 0.6)
        n_per = rng.integers(1, 4, len(days))
        day = np.repeat(days, n_per)
        srv = usual[rng.integers(0, 3, len(day))]
        tags = np.full(len(day), "none", dtype=object)
        patch_days = rng.choice(cal.days, size=min(2, cal.days), replace=False)
        for pd_ in patch_days[: int(rng.integers(1, 3))]:
            k = int(rng.integers(10, 31))
            day = np.r_[day, np.full(k, pd_)]
            srv = np.r_[srv, rng.choice(len(admin), size=k, replace=False)]
            tags = np.r_[tags, np.full(k, "admin_many_hosts", dtype=object)]
        n = len(day)
        if n == 0:
            continue
        t = (
            cal.start_ms
            + day * DAY_MS
            - tz * 60_000
            + ((start_h + rng.uniform(0.5, 6.0, n)) * HOUR_MS).astype(np.int64)
        )
        port = admin["port"].to_numpy()[srv]
        common = {
            "timezone_offset": tz,
            "user": np.full(n, u),
            "device_id": devs[u],
            "dst_host": admin["host"].to_numpy()[srv],
            "dst_ip": admin["ip"].to_numpy()[srv],
            "dst_port": port,
            "status": "Success",
            "benign_tag": tags,
        }
        out.append(
            EventBatch.build(
                n,
                vocab,
                time=t,
                class_uid=AUTH_CLASS_UID,
                src_ip=ips[u],
                src_host=hosts[u],
                logon_type=np.where(port == 3389, "Remote Interactive", "Network"),
                is_mfa=0,
                **common,
            )
        )
        b_out = np.round(rng.lognormal(np.log(40e3), 0.8, n)).astype(np.int64)
        b_in = np.round(rng.lognormal(np.log(400e3), 0.8, n)).astype(np.int64)
        out.append(
            EventBatch.build(
                n,
                vocab,
                time=t + 800,
                class_uid=NETWORK_CLASS_UID,
                src_ip=ips[u],
                src_host=hosts[u],
                bytes_out=b_out,
                bytes_in=b_in,
                packets=(b_out + b_in) // 1300 + 8,
                duration_ms=(rng.lognormal(np.log(20 * 60e3), 0.7, n)).astype(np.int64),
                direction="Lateral",
                **common,
            )
        )
    return out
