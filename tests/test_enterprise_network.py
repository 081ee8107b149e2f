"""Behaviour of the enterprise world's network attack scenarios: exfiltration, lateral
movement, beaconing and the account-takeover chain."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.scenarios.enterprise.attacks import SCENARIOS
from soc_anomaly.scenarios.enterprise.checks import normal_bounds, subtle_violations
from soc_anomaly.scenarios.enterprise.world import World, generate_world

NETWORK_SCENARIOS = (
    "bulk_exfiltration",
    "low_and_slow_exfiltration",
    "lateral_movement",
    "beaconing",
    "account_takeover",
)
INTENSITIES = ("blatant", "moderate", "subtle")
DAY_MS = 86_400_000
SEED = 7


@functools.cache
def _world(scenario: str, intensity: str, seed: int = SEED) -> World:
    # A blatant beaconing campaign alone takes most of a small world's room for attacks.
    campaigns = 1 if (scenario, intensity) == ("beaconing", "blatant") else 2
    return generate_world(
        n_users=120,
        days=14,
        scenarios=(scenario,),
        intensity=intensity,
        campaigns=campaigns,
        random_state=seed,
    )


def _ms(times: pd.Series) -> np.ndarray:
    return times.dt.tz_localize(None).to_numpy().astype("datetime64[ms]").astype(np.int64)


def _local_day(events: pd.DataFrame) -> np.ndarray:
    return (_ms(events["time"]) + events["timezone_offset"].to_numpy(np.int64) * 60_000) // DAY_MS


def _campaigns(world: World) -> list[tuple[pd.Series, pd.DataFrame]]:
    assert len(world.campaigns) > 0
    events = world.events
    return [
        (row, events[events["campaign_id"] == row["campaign_id"]])
        for _, row in world.campaigns.iterrows()
    ]


def _victim(attack: pd.DataFrame) -> str:
    users = attack.loc[attack["class_uid"] == 4001, "user"].astype(str).unique()
    assert len(users) == 1
    return str(users[0])


def _normal_before(world: World, user: str, before: pd.Timestamp) -> pd.DataFrame:
    e = world.events
    return e[(e["label"] == 0) & (e["user"].astype(str) == user) & (e["time"] < before)]


def _daily_outbound(world: World, user: str, before: pd.Timestamp) -> float:
    """Median bytes a user sent to the internet per active local day before ``before``."""
    normal = _normal_before(world, user, before)
    out = normal[normal["direction"] == "Outbound"]
    return float(out.groupby(_local_day(out))["bytes_out"].sum().median())


# -- exfiltration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intensity", "factor"), [("blatant", 500.0), ("moderate", 20.0), ("subtle", 3.0)]
)
def test_bulk_exfiltration_sends_a_day_of_uploads_far_above_the_victims_usual(
    intensity: str, factor: float
) -> None:
    world = _world("bulk_exfiltration", intensity)
    for row, attack in _campaigns(world):
        victim = _victim(attack)
        assert (attack["direction"] == "Outbound").all()
        assert attack["dst_host"].nunique() == 1
        host = str(attack["dst_host"].iloc[0])
        assert host not in set(_normal_before(world, victim, row["start"])["dst_host"].astype(str))
        t = _ms(attack["time"])
        assert t.max() - t.min() < DAY_MS
        assert attack["bytes_out"].sum() > factor * _daily_outbound(world, victim, row["start"])


def test_bulk_exfiltration_subtle_uploads_sit_in_the_evening_after_work() -> None:
    world = _world("bulk_exfiltration", "subtle")
    users = world.users.set_index("user")
    for _, attack in _campaigns(world):
        assert 20 <= len(attack) <= 40
        user = users.loc[_victim(attack)]
        hour = ((_ms(attack["time"]) // 60_000 + int(user["tz_offset_min"])) % 1440) / 60.0
        end = (user["start_hour"] + user["shift_hours"]) % 24
        # Within a few hours after the end of the working window.
        assert (((hour - end) % 24 < 3.5) | ((end - hour) % 24 < 1.5)).all()


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_low_and_slow_sends_near_identical_chunks_to_one_host_over_days(intensity: str) -> None:
    world = _world("low_and_slow_exfiltration", intensity)
    for row, attack in _campaigns(world):
        assert attack["dst_host"].nunique() == 1
        assert (attack["direction"] == "Outbound").all()
        days = _local_day(attack)
        assert len(np.unique(days)) >= 3
        size = attack["bytes_out"].to_numpy()
        # Every chunk is capped just under one limit.
        assert (size.max() - size.min()) / size.max() < 0.025
        daily = attack.groupby(days)["bytes_out"].sum()
        if intensity == "blatant":
            assert daily.min() > 1e9
        elif intensity == "subtle":
            baseline = _daily_outbound(world, _victim(attack), row["start"])
            assert daily.median() > 2.0 * baseline
            assert (
                size.max()
                <= normal_bounds(world.events)
                .query("class_uid == 4001 and field == 'bytes_out'")["p99"]
                .iloc[0]
            )


# -- lateral movement -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("intensity", "low", "high"), [("blatant", 60, 100), ("moderate", 20, 30), ("subtle", 4, 8)]
)
def test_lateral_movement_reaches_hosts_the_victim_never_touched(
    intensity: str, low: int, high: int
) -> None:
    world = _world("lateral_movement", intensity)
    for row, attack in _campaigns(world):
        victim = _victim(attack)
        before = _normal_before(world, victim, row["start"])
        touched = set(before.loc[before["class_uid"] == 4001, "dst_host"].astype(str))
        hosts = set(attack["dst_host"].astype(str))
        assert low <= len(hosts) <= high
        assert not hosts & touched
        net, auth = attack[attack["class_uid"] == 4001], attack[attack["class_uid"] == 3002]
        assert (net["direction"] == "Lateral").all()
        assert len(auth) == len(net)
        assert set(auth["logon_type"].astype(str)) <= {"Network", "Remote Interactive"}
        failures = (auth["status"] == "Failure").mean()
        t = _ms(attack["time"])
        if intensity == "blatant":
            assert t.max() - t.min() <= 11 * 60_000
            assert failures > 0.25
        elif intensity == "subtle":
            assert failures == 0
            assert set(attack["dst_port"]) <= {22, 445, 3389}
            assert t.max() - t.min() <= 12 * 3_600_000


# -- beaconing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intensity", "period_s"),
    [("blatant", (10, 30)), ("moderate", (270, 330)), ("subtle", (900, 1800))],
)
def test_beaconing_is_regular_small_and_to_one_host(
    intensity: str, period_s: tuple[float, float]
) -> None:
    world = _world("beaconing", intensity)
    for _, attack in _campaigns(world):
        assert attack["dst_host"].nunique() == 1
        assert (attack["dst_port"] == 443).all()
        assert len(attack) >= 20
        gaps = np.diff(np.sort(_ms(attack["time"]))) / 1000.0
        # A subtle implant sleeps with the laptop: leave the nights out.
        gaps = gaps[gaps < 3 * np.median(gaps)]
        assert period_s[0] <= np.median(gaps) <= period_s[1]
        assert gaps.std() / gaps.mean() < 0.3
        size = attack["bytes_out"].to_numpy(float)
        assert size.std() / size.mean() < 0.05
        assert size.max() < 5_000


def test_subtle_beaconing_only_while_the_victim_works() -> None:
    world = _world("beaconing", "subtle")
    users = world.users.set_index("user")
    for _, attack in _campaigns(world):
        user = users.loc[_victim(attack)]
        hour = ((_ms(attack["time"]) // 1000 + 60 * int(user["tz_offset_min"])) % 86_400) / 3600
        # Start and length of the window are rounded to 0.01 h (36 s).
        assert (((hour - user["start_hour"] + 0.01) % 24) <= user["shift_hours"] + 0.02).all()
        if user["weekends_off"]:
            assert ((_local_day(attack) - _local_day(world.events.iloc[:1])[0]) % 7 < 5).all()


# -- account takeover -----------------------------------------------------------------


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_account_takeover_runs_its_five_steps_in_order(intensity: str) -> None:
    world = _world("account_takeover", intensity)
    expected = {1: "T1110.003", 2: "T1078", 3: "T1018", 4: "T1074", 5: "T1048"}
    for row, attack in _campaigns(world):
        assert sorted(attack["step"].unique()) == [1, 2, 3, 4, 5]
        assert (
            dict(zip(attack["step"], attack["mitre_technique"].astype(str), strict=True))
            == expected
        )
        ends = attack.groupby("step")["time"].agg(["min", "max"])
        assert (ends["max"].iloc[:-1].to_numpy() <= ends["min"].iloc[1:].to_numpy()).all()
        assert ends["max"].max() - ends["min"].min() <= pd.Timedelta(days=5)

        victim = _victim(attack)
        spray, logon = attack[attack["step"] == 1], attack[attack["step"] == 2]
        assert spray["user"].nunique() >= 5 and victim in set(spray["user"].astype(str))
        assert spray["src_ip"].nunique() == 1
        before = _normal_before(world, victim, row["start"])
        before_auth = before[before["class_uid"] == 3002]
        assert not set(logon["src_country"].astype(str)) & set(
            before_auth["src_country"].astype(str)
        )
        assert not set(logon["device_id"].astype(str)) & set(before["device_id"].astype(str))
        assert (logon["status"] == "Success").all() and (logon["user"].astype(str) == victim).all()
        discovery = attack[attack["step"] == 3]
        assert discovery["dst_host"].nunique() >= 8
        staging = attack[attack["step"] == 4]
        assert set(staging["dst_host"].astype(str)) <= {"fs-01", "fs-02", "db-crm-01", "db-erp-01"}
        assert (staging["bytes_in"] > staging["bytes_out"]).all()
        exfil = attack[attack["step"] == 5]
        assert exfil["dst_host"].nunique() == 1
        assert str(exfil["dst_host"].iloc[0]) not in set(before["dst_host"].astype(str))


# -- across scenarios -----------------------------------------------------------------


def _loudness(scenario: str, attack: pd.DataFrame) -> float:
    if scenario in ("bulk_exfiltration", "low_and_slow_exfiltration"):
        return float(attack["bytes_out"].sum())
    if scenario == "lateral_movement":
        t = _ms(attack["time"])
        return attack["dst_host"].nunique() / max(t.max() - t.min(), 60_000)
    if scenario == "beaconing":
        t = _ms(attack["time"])
        return len(attack) / (t.max() - t.min())
    return float(attack.loc[attack["step"] == 4, "bytes_in"].sum())


@pytest.mark.parametrize("scenario", NETWORK_SCENARIOS)
def test_blatant_is_louder_than_subtle(scenario: str) -> None:
    blatant = [_loudness(scenario, a) for _, a in _campaigns(_world(scenario, "blatant"))]
    subtle = [_loudness(scenario, a) for _, a in _campaigns(_world(scenario, "subtle"))]
    assert min(blatant) > 10 * max(subtle)


@pytest.mark.parametrize("intensity", INTENSITIES)
@pytest.mark.parametrize("scenario", NETWORK_SCENARIOS)
def test_campaigns_stay_within_their_declared_event_bound(scenario: str, intensity: str) -> None:
    world = _world(scenario, intensity)
    bound = SCENARIOS[scenario].max_events[intensity]
    assert (world.campaigns["n_events"] <= bound).all()
    assert (world.campaigns["n_events"] > 0).all()


@pytest.mark.parametrize("seed", [SEED, 11, 12])
@pytest.mark.parametrize("scenario", NETWORK_SCENARIOS)
def test_subtle_campaigns_stay_within_the_normal_ranges(scenario: str, seed: int) -> None:
    world = _world(scenario, "subtle", seed)
    assert world.events["label"].sum() > 0
    violations = subtle_violations(world.events, world.campaigns)
    assert violations.empty, violations.head().to_string()
