"""Generate the enterprise world: an organisation, its everyday activity, benign
oddities and attack campaigns, with a ground-truth manifest.

The one seed is split with :class:`numpy.random.SeedSequence` into independent
streams (entities, normal activity, benign oddities, the campaign schedule,
and one stream per campaign), so the same arguments always give the same
tables, byte for byte once written.

Campaigns start in the second half of the period: the first half is a clean
history from which per-user baselines can be learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soc_anomaly import config as _config
from soc_anomaly.errors import ParameterError, check_positive_int, check_seed
from soc_anomaly.scenarios.enterprise.attacks import (
    INTENSITIES,
    SCENARIOS,
    AttackContext,
    CampaignSpec,
    UserHistory,
)
from soc_anomaly.scenarios.enterprise.benign import benign_events
from soc_anomaly.scenarios.enterprise.entities import build_organisation
from soc_anomaly.scenarios.enterprise.normal import DAY_MS, HOUR_MS, Calendar, normal_events
from soc_anomaly.scenarios.enterprise.schema import (
    AUTH_CLASS_UID,
    NETWORK_CLASS_UID,
    SUBTLE_FIELDS,
    EventBatch,
    Vocabulary,
    local_hour,
    new_vocabularies,
    to_frame,
)

__all__ = [
    "DEFAULT_CAMPAIGNS_PER_SCENARIO",
    "DEFAULT_WORLD_DAYS",
    "DEFAULT_WORLD_USERS",
    "INTENSITY_CHOICES",
    "MANIFEST_COLUMNS",
    "World",
    "WorldConfig",
    "generate_world",
]

#: What ``intensity`` accepts: one intensity for every campaign, or ``mixed``.
INTENSITY_CHOICES: tuple[str, ...] = (*INTENSITIES, "mixed")
# Staff accounts and days of the default world: defined in soc_anomaly.config (which the
# command line reads without importing numpy), re-exported here.
DEFAULT_WORLD_USERS = _config.DEFAULT_WORLD_USERS
DEFAULT_WORLD_DAYS = _config.DEFAULT_WORLD_DAYS
#: Campaigns per scenario when no count is given (one per intensity under ``mixed``).
DEFAULT_CAMPAIGNS_PER_SCENARIO = 3
#: The most attack events a world takes, as a share of its normal events.
MAX_ATTACK_SHARE = 0.2
#: First day of the simulated period (a Monday).
DEFAULT_START = "2026-01-05"
#: Columns of the ground-truth manifest, one row per campaign.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "scenario",
    "intensity",
    "techniques",
    "victims",
    "sources",
    "start",
    "end",
    "n_events",
)


@dataclass(frozen=True)
class WorldConfig:
    """The knobs of :func:`generate_world` (see there)."""

    n_users: int = DEFAULT_WORLD_USERS
    days: int = DEFAULT_WORLD_DAYS
    intensity: str = "mixed"
    campaigns: int | None = None
    scenarios: tuple[str, ...] | None = None
    random_state: int = 42
    start: str = DEFAULT_START

    def scenario_names(self) -> tuple[str, ...]:
        """The scenarios campaigns are drawn from."""
        return tuple(self.scenarios) if self.scenarios else tuple(SCENARIOS)

    def n_campaigns(self) -> int:
        """How many campaigns the world holds."""
        if self.campaigns is not None:
            return self.campaigns
        return DEFAULT_CAMPAIGNS_PER_SCENARIO * len(self.scenario_names())


@dataclass
class World:
    """A generated enterprise world.

    Attributes
    ----------
    events : pandas.DataFrame
        Raw authentication and network events in time order, with the columns of
        :data:`~soc_anomaly.scenarios.enterprise.schema.EVENT_COLUMNS`.
    campaigns : pandas.DataFrame
        The ground-truth manifest, one row per campaign (:data:`MANIFEST_COLUMNS`).
    users : pandas.DataFrame
        The organisation's users and their attributes (department, role, office,
        working pattern, privileged flag, ...).
    config : WorldConfig
        The arguments it was generated with.
    attack_start : pandas.Timestamp
        No campaign starts before this moment (the middle of the period).
    """

    events: pd.DataFrame
    campaigns: pd.DataFrame
    users: pd.DataFrame
    config: WorldConfig
    attack_start: pd.Timestamp
    notes: list[str] = field(default_factory=list)


def _check(config: WorldConfig) -> None:
    check_positive_int("n_users", config.n_users)
    check_positive_int("days", config.days)
    check_seed("random_state", config.random_state)
    if config.campaigns is not None:
        check_positive_int("campaigns", config.campaigns)
    if config.intensity not in INTENSITY_CHOICES:
        raise ParameterError(
            f"unknown intensity {config.intensity!r}; expected one of "
            f"{', '.join(INTENSITY_CHOICES)}"
        )
    unknown = [s for s in config.scenario_names() if s not in SCENARIOS]
    if unknown:
        raise ParameterError(
            f"unknown scenario(s) {', '.join(map(repr, unknown))}; expected any of "
            f"{', '.join(SCENARIOS)}"
        )
    try:
        start = np.datetime64(config.start, "D")
    except ValueError:
        raise ParameterError(
            f"start must be a date like 2026-01-05, got {config.start!r}"
        ) from None
    del start


def _bounds(events: EventBatch) -> dict[tuple[int, str], tuple[float, float]]:
    """1st and 99th percentile of every subtle-checked field, per event class."""
    out: dict[tuple[int, str], tuple[float, float]] = {}
    for class_uid, fields in SUBTLE_FIELDS.items():
        rows = events["class_uid"] == class_uid
        for name in fields:
            if name == "local_hour":
                values = local_hour(events["time"][rows], events["timezone_offset"][rows])
            else:
                values = events[name][rows]
                # Nulls are NaN in float columns and -1 in integer ones.
                values = values[np.isfinite(values) if values.dtype.kind == "f" else values >= 0]
            if len(values) == 0:
                continue
            lo, hi = np.percentile(values, [1.0, 99.0])
            out[(class_uid, name)] = (float(lo), float(hi))
    return out


def _schedule(
    config: WorldConfig, cal: Calendar, n_users: int, n_normal: int, rng: np.random.Generator
) -> list[tuple[str, str, int, int, int]]:
    """(scenario, intensity, start_ms, end_ms, victim) per campaign, by start time."""
    names = config.scenario_names()
    n = config.n_campaigns()
    order = rng.permutation(len(names))
    scenario = [names[order[i % len(names)]] for i in range(n)]
    if config.intensity == "mixed":
        offset = {s: int(rng.integers(0, len(INTENSITIES))) for s in names}
        seen: dict[str, int] = {}
        intensity = []
        for s in scenario:
            k = seen.get(s, 0)
            seen[s] = k + 1
            intensity.append(INTENSITIES[(offset[s] + k) % len(INTENSITIES)])
    else:
        intensity = [config.intensity] * n

    needed = sum(SCENARIOS[s].max_events[i] for s, i in zip(scenario, intensity, strict=True))
    room = int(MAX_ATTACK_SHARE * n_normal)
    if needed > room or n > n_users:
        raise ParameterError(
            f"{n} campaign(s) need up to {needed:,} attack events and {n} distinct victims, "
            f"but a world of {config.n_users:,} users over {config.days} day(s) has room for "
            f"{room:,} attack events ({MAX_ATTACK_SHARE:.0%} of its {n_normal:,} normal "
            f"events) and {n_users:,} victims; expected fewer campaigns (--campaigns) or a "
            "larger world (--n-users, --days)"
        )
    victims = rng.choice(n_users, size=n, replace=False)
    window_lo = cal.start_ms + (cal.days // 2) * DAY_MS
    plan = []
    for s, i, v in zip(scenario, intensity, victims, strict=True):
        span = int(SCENARIOS[s].span_days[i] * DAY_MS)
        latest = cal.end_ms - span - HOUR_MS
        if latest <= window_lo:
            # Too short a period for the whole campaign: start it in the first third of
            # the attack window and let the end of the period cut it short.
            latest = window_lo + (cal.end_ms - window_lo) // 3
        start = int(rng.integers(window_lo, latest + 1))
        plan.append((s, i, start, min(start + span, cal.end_ms - 1), int(v)))
    plan.sort(key=lambda p: p[2])
    return plan


def _label(batch: EventBatch, spec: CampaignSpec, vocab: dict[str, Vocabulary]) -> EventBatch:
    scenario = SCENARIOS[spec.scenario]
    steps = batch["step"].astype(np.int64)
    if len(batch) and (steps.min() < 1 or steps.max() > len(scenario.techniques)):
        raise ValueError(f"{spec.scenario} produced steps outside 1..{len(scenario.techniques)}")
    codes = vocab["mitre_technique"].encode([t.id for t in scenario.techniques])
    batch.columns["label"][:] = 1
    batch.columns["campaign_id"][:] = vocab["campaign_id"].code(spec.campaign_id)
    batch.columns["attack_type"][:] = vocab["attack_type"].code(spec.scenario)
    batch.columns["mitre_technique"][:] = codes[steps - 1]
    return batch


def _enforce_subtle(batch: EventBatch, ctx: AttackContext) -> None:
    """Clip a subtle campaign's volumes into the normal 1st-99th percentile range."""
    net = batch["class_uid"] == NETWORK_CLASS_UID
    for name in ("bytes_in", "bytes_out", "packets", "duration_ms"):
        col = batch.columns[name]
        lo, hi = ctx.bounds[(NETWORK_CLASS_UID, name)]
        ok = net & (col >= 0)
        col[ok] = np.clip(col[ok], np.ceil(lo), np.floor(hi)).astype(col.dtype)


def _manifest_row(
    spec: CampaignSpec, batch: EventBatch, vocab: dict[str, Vocabulary], n_users: int
) -> dict:
    scenario = SCENARIOS[spec.scenario]
    steps = sorted(set(batch["step"].tolist()))
    auth = batch["class_uid"] == AUTH_CLASS_UID
    outbound = (batch["class_uid"] == NETWORK_CLASS_UID) & (
        batch["direction"] == vocab["direction"].code("Outbound")
    )
    # Victims are the organisation's accounts; names an attacker guessed that do not
    # exist (credential stuffing) are nobody's account.
    codes = np.unique(batch["user"])
    users = vocab["user"].decode(codes[codes < n_users])
    sources = [
        *vocab["src_ip"].decode(np.unique(batch["src_ip"][auth])),
        *vocab["dst_host"].decode(np.unique(batch["dst_host"][outbound])),
    ]
    return {
        "campaign_id": spec.campaign_id,
        "scenario": spec.scenario,
        "intensity": spec.intensity,
        "techniques": ";".join(dict.fromkeys(scenario.techniques[s - 1].id for s in steps)),
        "victims": ";".join(sorted(str(u) for u in users)),
        "sources": ";".join(sorted(str(s) for s in sources if s is not None)),
        "start": pd.Timestamp(int(batch["time"].min()), unit="ms", tz="UTC"),
        "end": pd.Timestamp(int(batch["time"].max()), unit="ms", tz="UTC"),
        "n_events": len(batch),
    }


def generate_world(
    n_users: int = DEFAULT_WORLD_USERS,
    days: int = DEFAULT_WORLD_DAYS,
    *,
    intensity: str = "mixed",
    campaigns: int | None = None,
    scenarios: Sequence[str] | None = None,
    random_state: int = 42,
    start: str = DEFAULT_START,
) -> World:
    """Generate an enterprise world with labelled attack campaigns.

    Parameters
    ----------
    n_users : int, default=500
        Staff accounts.
    days : int, default=30
        Length of the period in days.
    intensity : {"mixed", "blatant", "moderate", "subtle"}, default="mixed"
        How loud the campaigns are; ``mixed`` gives each scenario's campaigns
        the three intensities in turn.
    campaigns : int, optional
        Number of campaigns; three per scenario by default.
    scenarios : sequence of str, optional
        Restrict campaigns to these scenarios (all by default).
    random_state : int, default=42
        The one seed of every random draw.
    start : str, default="2026-01-05"
        First day of the period (UTC).

    Returns
    -------
    World
        Events, manifest, users and the configuration.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On an unknown intensity or scenario, a count that is not positive, or
        more campaigns than the world has room for.

    Examples
    --------
    >>> world = generate_world(n_users=50, days=14, campaigns=4, random_state=1)
    >>> int(world.events["label"].sum()) == int(world.campaigns["n_events"].sum())
    True
    """
    config = WorldConfig(
        n_users=n_users,
        days=days,
        intensity=intensity,
        campaigns=campaigns,
        scenarios=tuple(scenarios) if scenarios else None,
        random_state=random_state,
        start=start,
    )
    _check(config)
    seeds = np.random.SeedSequence(config.random_state).spawn(5)
    ent_rng, normal_rng, benign_rng, plan_rng = (np.random.default_rng(s) for s in seeds[:4])
    campaign_seeds = seeds[4].spawn(config.n_campaigns())

    cal = Calendar(int(np.datetime64(config.start, "ms").astype(np.int64)), config.days)
    org = build_organisation(config.n_users, ent_rng)
    vocab = new_vocabularies()
    auth, net = normal_events(org, cal, normal_rng, vocab)
    base = EventBatch.concat([auth, net, *benign_events(org, cal, benign_rng, vocab, auth, net)])
    del auth, net
    # A typo burst before the first logon or a backup in the first night (UTC) could
    # fall before the period; nothing may fall outside it.
    inside = (base["time"] >= cal.start_ms) & (base["time"] < cal.end_ms)
    if not inside.all():
        base = base.take(inside)
    plan = _schedule(config, cal, config.n_users, len(base), plan_rng)

    ctx = AttackContext(
        org=org, cal=cal, vocab=vocab, history=UserHistory(base), bounds=_bounds(base)
    )
    attack_batches, rows = [], []
    for k, ((scenario, level, t0, t1, victim), seed) in enumerate(
        zip(plan, campaign_seeds, strict=True), start=1
    ):
        spec = CampaignSpec(
            campaign_id=f"C{k:03d}",
            scenario=scenario,
            intensity=level,
            start_ms=t0,
            end_ms=t1,
            victim=victim,
            rng=np.random.default_rng(seed),
        )
        batch = SCENARIOS[scenario].inject(spec, ctx)
        if len(batch) and not (t0 <= batch["time"].min() and batch["time"].max() <= t1):
            raise ValueError(f"{scenario} produced events outside its campaign's time window")
        batch = batch.take((batch["time"] >= cal.start_ms) & (batch["time"] < cal.end_ms))
        if len(batch) == 0:
            continue
        if level == "subtle":
            _enforce_subtle(batch, ctx)
        attack_batches.append(_label(batch, spec, vocab))
        rows.append(_manifest_row(spec, batch, vocab, config.n_users))

    everything = EventBatch.concat([base, *attack_batches])
    del base, attack_batches
    order = np.argsort(everything["time"], kind="stable")
    for name in list(everything.columns):
        everything.columns[name] = everything.columns[name][order]
    del order
    events = to_frame(everything, vocab)
    manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    manifest["n_events"] = manifest["n_events"].astype(np.int64)
    return World(
        events=events,
        campaigns=manifest,
        users=org.users,
        config=config,
        attack_start=pd.Timestamp(cal.start_ms + (cal.days // 2) * DAY_MS, unit="ms", tz="UTC"),
    )
