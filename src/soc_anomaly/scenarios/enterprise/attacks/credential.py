"""Credential access: brute force, password spraying, credential stuffing.

Each scenario's ATT&CK metadata and its injector sit together here; the table in
:mod:`soc_anomaly.scenarios.enterprise.attacks` collects them (MFA fatigue is in ``mfa``).
"""

from __future__ import annotations

import numpy as np

from soc_anomaly.scenarios.enterprise.attacks._shared import (
    BROWSER_AGENTS,
    SCRIPTED_AGENTS,
    VALID_ACCOUNTS,
    far_attacker_cities,
    in_span,
    location_columns,
    logon_hour_range,
    new_device_ids,
    next_local_time,
    working_hours,
    working_start,
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
    CITIES,
    CITY_TZ,
    N_OFFICES,
    random_public_ips,
)
from soc_anomaly.scenarios.enterprise.schema import EventBatch

__all__ = ["SCENARIOS"]

#: A legacy-protocol mail client, the classic vehicle of password spraying (no MFA prompt).
LEGACY_CLIENT = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
#: Browsers of a residential botnet: the staff's browsers plus a few older versions.
BOT_AGENTS: tuple[str, ...] = (
    *USER_AGENTS,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
)


# -- brute force -------------------------------------------------------------------------


def _brute_force(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    if spec.intensity == "subtle":
        # A handful of guesses over an afternoon, through a proxy in the victim's own
        # country, inside working hours: only the failures per user over hours stand out.
        n = int(rng.integers(10, 21))
        start = working_start(ctx, spec, rng, span_h=5.0)
        times = start + np.sort(rng.uniform(0.0, 5.0, n) * HOUR_MS).astype(np.int64)
        office = int(ctx.user_row(victim)["office"])
        ip, city = ctx.attacker_ips(1, rng, cities=np.array([office]))
    else:
        n, minutes = (
            (int(rng.integers(200, 401)), 15.0)
            if spec.intensity == "blatant"
            else (int(rng.integers(40, 81)), 90.0)
        )
        times = spec.start_ms + np.sort(rng.uniform(0.0, minutes, n) * 60_000).astype(np.int64)
        ip, city = ctx.attacker_ips(1, rng)
    succeeded = bool(rng.random() < 0.5)
    # Every logon carries a client and a device: an empty one would give a moderate or
    # subtle campaign away on its own (every normal logon has both).
    if spec.intensity == "blatant":
        agent = "python-requests/2.32.3"
    else:
        agent = BROWSER_AGENTS[int(rng.integers(0, len(BROWSER_AGENTS)))]
    device = new_device_ids(ctx, rng, 1)[0]
    guesses = ctx.auth(
        victim,
        times,
        step=1,
        city=city[0],
        src_ip=ip[0],
        status="Failure",
        status_detail="Invalid password",
        user_agent=agent,
        device_id=device,
        **location_columns(ctx, city[0], spec.intensity == "subtle"),
    )
    if not succeeded:
        return in_span(guesses, spec)
    last = times[-1] + int(rng.uniform(5, 60) * 1000)
    success = ctx.auth(
        victim,
        np.array([last]),
        step=2,
        city=city[0],
        src_ip=ip[0],
        is_mfa=0,
        user_agent=agent,
        device_id=device,
        **location_columns(ctx, city[0], spec.intensity == "subtle"),
    )
    return in_span(EventBatch.concat([guesses, success]), spec)


BRUTE_FORCE = AttackScenario(
    name="brute_force",
    title="Brute force (password guessing)",
    techniques=(
        Technique("T1110.001", "Brute Force: Password Guessing", "Credential Access"),
        VALID_ACCOUNTS,
    ),
    description=(
        "Repeated failed logons against one account from one address, in about half of "
        "the campaigns followed by a success from that address. Blatant: 200-400 guesses "
        "in 15 minutes from a hosting range abroad with a scripted client; moderate: "
        "40-80 in 90 minutes; subtle: 10-20 over an afternoon from the victim's own "
        "country, in working hours."
    ),
    signal="failures per user and per source address in the last 10 minutes / hour; a "
    "success right after a run of failures",
    # A subtle campaign waits for the victim's next working day: up to a day, then 5 hours.
    span_days={"blatant": 0.05, "moderate": 0.1, "subtle": 1.25},
    max_events={"blatant": 401, "moderate": 81, "subtle": 21},
    inject=_brute_force,
)


# -- password spraying -------------------------------------------------------------------


def _password_spray(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    n_users = ctx.org.n_users
    subtle = spec.intensity == "subtle"
    lo, hi = {"blatant": (150, 201), "moderate": (50, 71), "subtle": (20, 31)}[spec.intensity]
    n = max(min(int(rng.integers(lo, hi)), n_users - 1), 1)
    others = np.delete(np.arange(n_users), victim)
    office = int(ctx.user_row(victim)["office"])
    if subtle:
        # A sprayer working from the office's country goes after that office's staff first
        # (the victim's colleagues), then anyone else.
        elsewhere = ctx.org.users["office"].to_numpy()[others] != office
        targets = np.r_[victim, others[np.argsort(elsewhere + rng.random(len(others)))[: n - 1]]]
    else:
        targets = np.r_[victim, rng.choice(others, n - 1, replace=False)]

    if subtle:
        # One guess per user, each inside that user's working hours, over one day: one
        # failure per account is what a typo looks like; only the count per source shows.
        user = targets
        tz = ctx.org.users["tz_offset_min"].to_numpy()[user]
        times = next_local_time(spec.start_ms, tz, working_hours(ctx, user, rng))
        ip, city = ctx.attacker_ips(1, rng, cities=np.array([office]))
        agent = BROWSER_AGENTS[int(rng.integers(0, len(BROWSER_AGENTS)))]
    else:
        # Round after round, one password per round, every target once per round.
        blatant = spec.intensity == "blatant"
        rounds = int(rng.integers(1, 4)) if blatant else int(rng.integers(1, 3))
        user = np.concatenate([rng.permutation(targets) for _ in range(rounds)])
        minutes = 5.0 if blatant else 60.0
        times = spec.start_ms + np.sort(rng.uniform(0.0, minutes * 60_000, len(user))).astype(
            np.int64
        )
        if blatant:
            ip, city = ctx.attacker_ips(1, rng, cities=far_attacker_cities(ctx))
            agent = SCRIPTED_AGENTS[int(rng.integers(0, len(SCRIPTED_AGENTS)))]
        else:
            ip, city = ctx.attacker_ips(1, rng)
            agent = LEGACY_CLIENT
    # A legacy mail client sprays the mail service itself, where no second factor is asked.
    host = "mail.corp.example" if spec.intensity == "moderate" else "sso.corp.example"
    servers = ctx.org.servers

    success = np.zeros(len(user), dtype=bool)
    if rng.random() < 0.35:
        # One of the victim's guesses hits; the sprayer stops trying that account.
        mine = np.flatnonzero(user == victim)
        hit = mine[int(rng.integers(0, len(mine)))]
        success[hit] = True
        keep = ~((user == victim) & (times > times[hit]))
        user, times, success = user[keep], times[keep], success[keep]
    batch = ctx.auth(
        user,
        times,
        step=np.where(success, 2, 1),
        city=city[0],
        src_ip=ip[0],
        status=np.where(success, "Success", "Failure"),
        status_detail=np.where(success, None, "Invalid password"),
        user_agent=agent,
        device_id=new_device_ids(ctx, rng, 1)[0],
        dst_host=host,
        dst_ip=str(servers.loc[servers["host"] == host, "ip"].iloc[0]),
        **location_columns(ctx, city[0], subtle),
    )
    return in_span(batch, spec)


PASSWORD_SPRAY = AttackScenario(
    name="password_spray",
    title="Password spraying",
    techniques=(
        Technique("T1110.003", "Brute Force: Password Spraying", "Credential Access"),
        VALID_ACCOUNTS,
    ),
    description=(
        "One source address tries one to three common passwords against many accounts, "
        "each account seeing one failed logon per password ('Invalid password'); in about "
        "a third of the campaigns one guess succeeds. Blatant: 150-200 users in 5 minutes "
        "from a hosting range abroad with a scripted client; moderate: 50-70 users in an "
        "hour from a legacy mail client against the mail service; subtle: 20-30 users (the "
        "victim's colleagues first), one failure each, spread over a day inside each "
        "user's working hours, from a residential address in the office's country with an "
        "ordinary browser."
    ),
    signal="distinct users with failed logons per source address in the last hour / day; "
    "a success from an address that failed for other users",
    # A subtle spray takes one day; each guess at the next working hour of its target.
    span_days={"blatant": 0.02, "moderate": 0.05, "subtle": 1.0},
    max_events={"blatant": 600, "moderate": 140, "subtle": 30},
    inject=_password_spray,
)


# -- credential stuffing -----------------------------------------------------------------

#: Name parts of a leaked list, none of them a name the organisation's accounts use.
_LEAK_FIRST = np.array(
    "john mike dave kate lisa mark jess ryan amy chris steve laura josh nick ella greg tina "
    "matt rob sue".split()
)
_LEAK_LAST = np.array(
    "doe jones miller davis wilson taylor clark lewis hall allen wright scott green baker "
    "adams nelson carter mitchell roberts turner".split()
)


def _leaked_names(ctx: AttackContext, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` account names from a leaked list (``j.doe87``, ``mike_smith``, ``kate1990``)
    that no one in the organisation has."""
    pick = rng.integers(0, len(_LEAK_FIRST), n)
    first, initial = _LEAK_FIRST[pick], _LEAK_FIRST.astype("U1")[pick]
    last = _LEAK_LAST[rng.integers(0, len(_LEAK_LAST), n)]
    number = rng.integers(1, 100, n).astype(str)
    year = rng.integers(1965, 2005, n).astype(str)
    forms = np.stack(
        [
            np.char.add(np.char.add(np.char.add(initial, "."), last), number),
            np.char.add(np.char.add(first, "_"), last),
            np.char.add(first, year),
            np.char.add(np.char.add(first, last), number),
        ]
    )
    names = forms[rng.integers(0, len(forms), n), np.arange(n)].astype(object)
    # Org accounts are "first.last[N]"; a clash is unlikely, but never a real account.
    clash = np.isin(names, ctx.org.users["user"].to_numpy())
    names[clash] = np.char.add(names[clash].astype(str), "_x")
    return names


def _credential_stuffing(spec: CampaignSpec, ctx: AttackContext) -> EventBatch:
    rng = spec.rng
    victim = spec.victim
    users = ctx.org.users
    n_users = ctx.org.n_users
    intensity = spec.intensity
    subtle = intensity == "subtle"
    lo, hi = {"blatant": (1000, 2001), "moderate": (250, 351), "subtle": (60, 121)}[intensity]
    n = int(rng.integers(lo, hi))

    # The leaked list: a share of its pairs are the organisation's accounts (one or two
    # passwords each, from older breaches); the rest are strangers' names.
    n_accounts = int(min(max(round(rng.uniform(0.2, 0.3) * n), 1), n_users))
    others = np.delete(np.arange(n_users), victim)
    accounts = np.r_[victim, rng.choice(others, n_accounts - 1, replace=False)]
    real = np.repeat(accounts, rng.integers(1, 3, n_accounts))[:n]
    n_unknown = n - len(real)
    names = _leaked_names(ctx, rng, n_unknown)
    code = np.r_[real, ctx.vocab["user"].encode(names)].astype(np.int64)
    is_real = np.arange(n) < len(real)
    perm = rng.permutation(n)
    code, is_real = code[perm], is_real[perm]

    # Each pair's proxy city: a subtle botnet stays in the office countries, real accounts
    # from their own office's city (geo-targeted residential proxies).
    pool = {
        "blatant": np.arange(N_OFFICES, len(CITIES)),
        "moderate": np.arange(len(CITIES)),
        "subtle": np.arange(N_OFFICES),
    }[intensity]
    city = pool[rng.integers(0, len(pool), n)]
    own_office = users["office"].to_numpy()[np.where(is_real, code, victim)]
    if subtle:
        city = np.where(is_real, own_office, city)
    tz = np.where(
        is_real, users["tz_offset_min"].to_numpy()[np.where(is_real, code, victim)], CITY_TZ[city]
    )

    if subtle:
        # Each pair at an ordinary hour on its account's clock (working hours for staff,
        # office hours for a stranger), within one day.
        h_lo, h_hi = logon_hour_range(ctx)
        hours = rng.uniform(max(h_lo, 9.0), max(min(h_hi, 18.0) - 0.1, max(h_lo, 9.0)), n)
        hours[is_real] = working_hours(ctx, code[is_real], rng, span_h=0.06)
        times = next_local_time(spec.start_ms, tz, hours)
        key = tz
    else:
        minutes = 30.0 if intensity == "blatant" else 180.0
        times = spec.start_ms + rng.uniform(0.0, minutes * 60_000, n).astype(np.int64)
        key = np.zeros(n, dtype=np.int64)
    order = np.lexsort((times, key))
    code, is_real, city, tz, times, key = (a[order] for a in (code, is_real, city, tz, times, key))
    # One or two pairs per address; a second pair follows within seconds to minutes, on the
    # same clock (subtle addresses never mix time zones).
    starts = np.cumsum(rng.integers(1, 3, n))
    new = np.zeros(n, dtype=bool)
    new[starts[starts < n]] = True
    new[0] = True
    new[1:] |= key[1:] != key[:-1]
    group = np.cumsum(new) - 1
    head = np.flatnonzero(new)
    second = ~new
    times[second] = times[head[group[second]]] + rng.uniform(15e3, 180e3, second.sum()).astype(
        np.int64
    )
    n_addr = len(head)
    addr_city = city[head]
    city = addr_city[group]
    tz = np.where(is_real, tz, CITY_TZ[city])
    addr_ip = random_public_ips(addr_city, rng)
    agents = (
        SCRIPTED_AGENTS + BOT_AGENTS
        if intensity == "blatant"
        else (BOT_AGENTS if intensity == "moderate" else BROWSER_AGENTS)
    )
    addr_agent = np.array(agents)[rng.integers(0, len(agents), n_addr)]
    addr_device = new_device_ids(ctx, rng, n_addr)

    # A few reused passwords work (the victim's first): that pair's last try succeeds.
    n_hits = {
        "blatant": int(rng.integers(2, 5)),
        "moderate": int(rng.integers(1, 3)),
        "subtle": int(rng.random() < 0.6),
    }[intensity]
    success = np.zeros(n, dtype=bool)
    for u in accounts[:n_hits]:
        mine = np.flatnonzero(code == u)
        if len(mine):
            success[mine[np.argmax(times[mine])]] = True
    status_detail = np.where(success, None, np.where(is_real, "Invalid password", "Unknown user"))
    batch = ctx.auth(
        np.where(is_real, code, victim),
        times,
        step=np.where(success, 2, 1),
        city=city,
        src_ip=addr_ip[group],
        timezone_offset=tz,
        status=np.where(success, "Success", "Failure"),
        status_detail=status_detail,
        user_agent=addr_agent[group],
        device_id=addr_device[group],
        **location_columns(ctx, city, subtle),
    )
    # Unknown accounts are new strings of the user vocabulary (``auth`` needs a real user
    # for the time zone, given explicitly here).
    batch.columns["user"][:] = code
    return in_span(batch, spec)


CREDENTIAL_STUFFING = AttackScenario(
    name="credential_stuffing",
    title="Credential stuffing",
    techniques=(
        Technique("T1110.004", "Brute Force: Credential Stuffing", "Credential Access"),
        VALID_ACCOUNTS,
    ),
    description=(
        "Leaked username/password pairs replayed from many addresses (a residential proxy "
        "network or botnet), one or two tries per address: most names do not exist in the "
        "organisation ('Unknown user'), staff accounts fail with 'Invalid password', and a "
        "few reused passwords succeed. Blatant: 1,000-2,000 tries in 30 minutes from all "
        "over the world, many scripted clients; moderate: 250-350 over 3 hours; subtle: "
        "60-120 over a day at ordinary hours from the office countries with browsers."
    ),
    signal="failed logons for unknown accounts per hour across the organisation; new "
    "source addresses with one or two failures each; a success from an address first seen",
    span_days={"blatant": 0.05, "moderate": 0.15, "subtle": 1.05},
    max_events={"blatant": 2000, "moderate": 350, "subtle": 120},
    inject=_credential_stuffing,
)

SCENARIOS: tuple[AttackScenario, ...] = (BRUTE_FORCE, PASSWORD_SPRAY, CREDENTIAL_STUFFING)
