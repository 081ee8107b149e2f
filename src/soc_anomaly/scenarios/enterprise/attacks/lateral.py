"""Lateral movement: remote logons from the victim's workstation to hosts it never touched.

Each scenario's ATT&CK metadata and its injector sit together here; the
table in :mod:`soc_anomaly.scenarios.enterprise.attacks` collects them.
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    awake_hours,
    fit_volumes,
    in_span,
    internal_targets,
    next_slot,
    normal_ports,
    spread,
)
from soc_anomaly.scenarios.enterprise.attacks.base import (
    AttackContext,
    AttackScenario,
    CampaignSpec,
    Technique,
)
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    EventBatch,
)

__all__ = ["SCENARIOS"]

#: Remote-service ports: SSH, SMB, RDP, WinRM.
REMOTE_PORTS = np.array([22, 445, 3389, 5985])


def _lateral_movement(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    pool = internal_targets(ctx, victim)
    if spec.intensity == "subtle":
        # A handful of new servers over a working day, each on the port it really serves
        # (RDP or SSH for administrators' servers, SMB otherwise), all successful.
        n = min(int(rng.integers(4, 9)), len(pool))
        n_admin = int((pool["kind"] == "admin").sum())
        order = np.r_[rng.permutation(n_admin), n_admin + rng.permutation(len(pool) - n_admin)]
        targets = pool.iloc[order[:n]]
        ports = normal_ports(ctx, targets["port"].to_numpy(), (AUTH_CLASS_UID, NETWORK_CLASS_UID))
        hours = awake_hours(ctx, victim, (AUTH_CLASS_UID, NETWORK_CLASS_UID))
        length = hours[1] - hours[0]
        start = next_slot(ctx, victim, spec.start_ms, hours, length, workdays=True)
        times = spread(start, length, n, rng)
        failed = np.zeros(n, dtype=bool)
    else:
        blatant = spec.intensity == "blatant"
        n = min(int(rng.integers(60, 101) if blatant else rng.integers(20, 31)), len(pool))
        targets = pool.iloc[rng.permutation(len(pool))[:n]]
        # A tool tries whatever remote service answers, not only the host's own port.
        ports = np.where(
            rng.random(n) < 0.5,
            targets["port"].to_numpy(),
            REMOTE_PORTS[rng.integers(0, len(REMOTE_PORTS), n)],
        )
        if blatant:
            start = next_slot(ctx, victim, spec.start_ms, (1.0, 4.5), 10 / 60)
            times = spread(start, 10 / 60, n, rng)
        else:
            times = spread(spec.start_ms, 1.0, n, rng)
        failed = rng.random(n) < (0.5 if blatant else 0.15)

    # A connection to the service, then the logon over it a moment later.
    ok_out = rng.lognormal(np.log(40e3), 0.5, n)
    ok_in = rng.lognormal(np.log(400e3), 0.5, n)
    ok_dur = rng.uniform(1.0, 8.0, n) * 60_000
    bytes_out = np.where(failed, rng.uniform(300, 1500, n), ok_out)
    bytes_in = np.where(failed, rng.uniform(200, 800, n), ok_in)
    duration = np.where(failed, rng.uniform(50, 400, n), ok_dur)
    packets = (bytes_out + bytes_in) // 1300 + rng.integers(6, 12, n)
    vol = {
        "bytes_out": bytes_out,
        "bytes_in": bytes_in,
        "packets": packets,
        "duration_ms": duration,
    }
    vol = fit_volumes(ctx, vol, spec.intensity == "subtle")
    hosts, ips = targets["host"].to_numpy(), targets["ip"].to_numpy()
    conns = ctx.net(
        victim, times, step=1, dst_host=hosts, dst_ip=ips, dst_port=ports, outbound=False, **vol
    )
    comp = ctx.computer(victim)
    logon_at = times + rng.integers(200, 900, n)
    logons = ctx.auth(
        victim,
        logon_at,
        step=1,
        city=int(ctx.user_row(victim)["office"]),
        src_ip=comp["ip"],
        # The workstation itself logs on: no public address, hence no location.
        src_city=None,
        src_country=None,
        src_lat=None,
        src_lon=None,
        src_host=comp["hostname"],
        device_id=comp["device_id"],
        dst_host=hosts,
        dst_ip=ips,
        dst_port=ports,
        logon_type=np.where(ports == 3389, "Remote Interactive", "Network"),
        status=np.where(failed, "Failure", "Success"),
        status_detail=np.where(failed, "Invalid password", None),
    )
    return in_span(EventBatch.concat([conns, logons]), spec)


LATERAL_MOVEMENT = AttackScenario(
    name="lateral_movement",
    title="Lateral movement over remote services",
    techniques=(Technique("T1021", "Remote Services", "Lateral Movement"),),
    description=(
        "Connections and logons from the victim's workstation over SSH, SMB, RDP or WinRM to "
        "internal servers and workstations it has never touched. Blatant: 60-100 hosts in "
        "ten minutes at night, half of the logons failing; moderate: 20-30 hosts in an hour "
        "with some failures; subtle: 4-8 servers over a working day, each on its usual "
        "port, every logon successful."
    ),
    signal="distinct internal destinations per source host per hour/day never contacted "
    "before (first-contact count against the host's own history); remote-logon failures",
    span_days={"blatant": 1.2, "moderate": 0.1, "subtle": 4.2},
    max_events={"blatant": 200, "moderate": 60, "subtle": 16},
    inject=_lateral_movement,
)

SCENARIOS: tuple[AttackScenario, ...] = (LATERAL_MOVEMENT,)
