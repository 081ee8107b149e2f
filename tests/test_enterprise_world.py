"""The enterprise world: determinism, ground truth, the ATT&CK table, the subtle property."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.errors import ParameterError
from soc_anomaly.scenarios.enterprise import (
    BENIGN_TAGS,
    EVENT_COLUMNS,
    INTENSITIES,
    MANIFEST_COLUMNS,
    SCENARIOS,
    generate_world,
)
from soc_anomaly.scenarios.enterprise.checks import normal_bounds, subtle_violations

#: The scenarios the toolkit promises, with the technique of their first step.
PROMISED = {
    "brute_force": "T1110.001",
    "password_spray": "T1110.003",
    "credential_stuffing": "T1110.004",
    "mfa_fatigue": "T1621",
    "impossible_travel": "T1078",
    "bulk_exfiltration": "T1048",
    "low_and_slow_exfiltration": "T1030",
    "lateral_movement": "T1021",
    "beaconing": "T1071.001",
    "account_takeover": "T1110.003",
}
TACTICS = {
    "Reconnaissance",
    "Resource Development",
    "Initial Access",
    "Execution",
    "Persistence",
    "Privilege Escalation",
    "Defense Evasion",
    "Credential Access",
    "Discovery",
    "Lateral Movement",
    "Collection",
    "Command and Control",
    "Exfiltration",
    "Impact",
}


@pytest.fixture(scope="module")
def world():
    """A default-size world (500 users, 30 days, every scenario at every intensity)."""
    return generate_world(random_state=7)


def test_default_world_shape(world) -> None:
    events = world.events
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert list(world.campaigns.columns) == list(MANIFEST_COLUMNS)
    assert events["time"].is_monotonic_increasing
    assert np.array_equal(events["event_id"].to_numpy(), np.arange(len(events)))
    assert set(events["class_uid"].unique()) == {3002, 4001}
    assert events["user"].astype(str).nunique() >= 500
    # Three campaigns per scenario, one at each intensity.
    counts = world.campaigns.groupby(["scenario", "intensity"]).size()
    assert len(world.campaigns) == 3 * len(SCENARIOS)
    assert (counts == 1).all() and len(counts) == 3 * len(SCENARIOS)
    # A realistic rhythm: weekdays are busier than weekends, days than nights.
    local = events["time"].dt.tz_localize(None) + pd.to_timedelta(
        events["timezone_offset"].astype(int), unit="min"
    )
    per_weekday = np.bincount(local.dt.day_of_week, minlength=7)
    assert per_weekday[:5].min() > 3 * per_weekday[5:].max()
    per_hour = np.bincount(local.dt.hour, minlength=24)
    assert per_hour[10:16].min() > 5 * per_hour[2:5].max()


def test_fields_by_class(world) -> None:
    events = world.events
    auth = events[events["class_uid"] == 3002]
    net = events[events["class_uid"] == 4001]
    assert auth["bytes_out"].isna().all() and net["bytes_out"].notna().all()
    assert net["logon_type"].isna().all() and auth["logon_type"].notna().all()
    # Logons from the internet are geolocated; logons between internal hosts are not.
    internal = auth["src_ip"].astype(str).str.startswith("10.")
    assert auth.loc[~internal, ["src_lat", "src_lon", "src_country"]].notna().all().all()
    assert auth.loc[internal, "src_lat"].isna().all() and internal.any()
    assert set(auth["status"].astype(str)) == {"Success", "Failure"}
    assert set(net["direction"].astype(str)) <= {"Outbound", "Lateral"}
    failed = auth[auth["status"] == "Failure"]
    assert failed["status_detail"].notna().all()


def test_benign_oddities_are_tagged_and_normal(world) -> None:
    events = world.events
    tags = events["benign_tag"].astype(str)
    assert set(BENIGN_TAGS) <= set(tags.unique())
    assert (events.loc[tags != "none", "label"] == 0).all()
    # A business trip's logons come from somewhere other than the office country.
    trip = events[tags == "business_trip"]
    home = world.users.set_index("user")["country"]
    assert (
        trip["src_country"].astype(str).to_numpy() != home.loc[trip["user"].astype(str)].to_numpy()
    ).mean() > 0.5


def test_manifest_matches_labelled_events(world) -> None:
    events = world.events
    attacks = events[events["label"] == 1]
    assert events["campaign_id"].notna().sum() == len(attacks)
    assert int(world.campaigns["n_events"].sum()) == len(attacks)
    for row in world.campaigns.itertuples(index=False):
        mine = attacks[attacks["campaign_id"] == row.campaign_id]
        assert len(mine) == row.n_events > 0
        assert set(mine["attack_type"].astype(str)) == {row.scenario}
        assert mine["time"].min() == row.start and mine["time"].max() == row.end
        assert row.start >= world.attack_start
        accounts = set(mine["user"].astype(str)) & set(world.users["user"])
        assert accounts == set(row.victims.split(";"))
        assert set(mine["mitre_technique"].astype(str)) == set(row.techniques.split(";"))
        assert row.n_events <= SCENARIOS[row.scenario].max_events[row.intensity]
    normal = events[events["label"] == 0]
    assert (normal["attack_type"] == "normal").all() and (normal["step"] == 0).all()
    assert (normal["mitre_technique"] == "none").all()


def test_attack_table() -> None:
    assert set(PROMISED) <= set(SCENARIOS)
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.techniques[0].id == PROMISED.get(name, scenario.techniques[0].id)
        for technique in scenario.techniques:
            assert re.fullmatch(r"T\d{4}(\.\d{3})?", technique.id), technique
            assert technique.tactic in TACTICS, technique
            assert technique.name
        assert len(scenario.description) > 80 and scenario.signal
        assert set(scenario.span_days) == set(INTENSITIES) == set(scenario.max_events)
    chain = SCENARIOS["account_takeover"]
    assert len(chain.techniques) >= 4


def test_event_techniques_follow_their_step(world) -> None:
    attacks = world.events[world.events["label"] == 1]
    for (scenario, step), part in attacks.groupby(["attack_type", "step"], observed=True):
        expected = SCENARIOS[scenario].techniques[int(step) - 1].id
        assert set(part["mitre_technique"].astype(str)) == {expected}


@pytest.mark.parametrize("scenario", sorted(PROMISED))
def test_subtle_stays_within_normal_ranges(scenario: str) -> None:
    for seed, (n_users, days) in enumerate([(150, 14), (400, 21)]):
        world = generate_world(
            n_users=n_users,
            days=days,
            scenarios=[scenario],
            intensity="subtle",
            campaigns=3,
            random_state=seed,
        )
        assert len(world.campaigns) == 3
        bad = subtle_violations(world.events, world.campaigns)
        assert bad.empty, bad.head(10).to_string()


def test_blatant_breaks_the_normal_ranges() -> None:
    """The check above is not vacuous: blatant campaigns leave the normal ranges."""
    world = generate_world(n_users=300, days=14, intensity="blatant", campaigns=10, random_state=3)
    as_subtle = world.campaigns.assign(intensity="subtle")
    bad = subtle_violations(world.events, as_subtle)
    assert bad["attack_type"].nunique() >= 5


def test_normal_bounds_are_from_normal_events(world) -> None:
    bounds = normal_bounds(world.events).set_index(["class_uid", "field"])
    net = world.events[(world.events["class_uid"] == 4001) & (world.events["label"] == 0)]
    p99 = np.percentile(net["bytes_out"].to_numpy(dtype=float), 99)
    assert bounds.loc[(4001, "bytes_out"), "p99"] == pytest.approx(p99)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path) -> None:
    kwargs = {"n_users": 200, "days": 14, "campaigns": 5}
    a = generate_world(**kwargs, random_state=11)
    b = generate_world(**kwargs, random_state=11)
    c = generate_world(**kwargs, random_state=12)
    paths = []
    for name, w in (("a", a), ("b", b), ("c", c)):
        path = tmp_path / f"{name}.parquet"
        w.events.to_parquet(path, index=False)
        paths.append(path.read_bytes())
    assert paths[0] == paths[1]
    assert paths[0] != paths[2]
    pd.testing.assert_frame_equal(a.campaigns, b.campaigns)
    assert not a.events["user"].astype(str).equals(c.events["user"].astype(str))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"intensity": "loud"},
            r"unknown intensity 'loud'; expected one of blatant, "
            r"moderate, subtle, mixed",
        ),
        (
            {"scenarios": ["phishing"]},
            r"unknown scenario\(s\) 'phishing'; expected any of "
            r"brute_force",
        ),
        ({"days": 0}, r"days must be a positive integer, got 0"),
        ({"n_users": -3}, r"n_users must be a positive integer, got -3"),
        ({"campaigns": 0}, r"campaigns must be a positive integer, got 0"),
        (
            {"n_users": 5, "days": 2, "campaigns": 40},
            r"40 campaign\(s\) need up to .* attack "
            r"events .* has room for",
        ),
    ],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    args = {"n_users": 50, "days": 5} | kwargs
    with pytest.raises(ParameterError, match=match):
        generate_world(**args)
