"""Credential attacks and impossible travel in the enterprise world: what their events show."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.scenarios.enterprise import SCENARIOS, World, generate_world
from soc_anomaly.scenarios.enterprise.checks import subtle_violations
from soc_anomaly.scenarios.enterprise.places import (
    ATTACKER_CITIES,
    CITIES,
    N_OFFICES,
)
from soc_anomaly.scenarios.geo import haversine_km

MINE = ("password_spray", "credential_stuffing", "mfa_fatigue", "impossible_travel")
INTENSITIES = ("blatant", "moderate", "subtle")
N_USERS = 120
MFA_FAILURES = {"MFA push denied", "MFA push timed out"}


@cache
def _world(
    scenario: str, intensity: str, seed: int = 5, n_users: int = N_USERS, days: int = 10
) -> World:
    return generate_world(
        n_users=n_users,
        days=days,
        scenarios=(scenario,),
        intensity=intensity,
        campaigns=2,
        random_state=seed,
    )


def _campaigns(world: World) -> list[pd.DataFrame]:
    """Each campaign's events, in time order (every campaign must have some)."""
    attacks = world.events[world.events["label"] == 1]
    assert len(world.campaigns) == 2
    parts = [attacks[attacks["campaign_id"] == c] for c in world.campaigns["campaign_id"]]
    assert all(len(p) for p in parts)
    return parts


def _text(part: pd.DataFrame, column: str) -> np.ndarray:
    return part[column].astype(str).to_numpy()


def _check_steps(part: pd.DataFrame, first: str) -> None:
    """Failures are step 1 (the credential technique), successes step 2 (Valid Accounts)."""
    success = _text(part, "status") == "Success"
    assert np.array_equal(part["step"].to_numpy() == 2, success)
    technique = _text(part, "mitre_technique")
    assert set(technique[~success]) == {first}
    assert set(technique[success]) <= {"T1078"}
    assert part.loc[~success, "status_detail"].notna().all()


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_password_spray_is_one_address_against_many_users(intensity: str) -> None:
    world = _world("password_spray", intensity)
    # Everyone but one user at most (a blatant spray is bigger than this organisation).
    lo, hi = {"blatant": (150, 200), "moderate": (50, 70), "subtle": (20, 30)}[intensity]
    cap = len(world.users) - 1
    for part in _campaigns(world):
        assert part["src_ip"].nunique() == 1 and part["device_id"].nunique() == 1
        assert min(lo, cap) <= part["user"].nunique() <= min(hi, cap)
        service = "mail" if intensity == "moderate" else "sso"
        assert (_text(part, "dst_host") == f"{service}.corp.example").all()
        _check_steps(part, "T1110.003")
        failed = part[part["status"] == "Failure"]
        assert set(_text(failed, "status_detail")) == {"Invalid password"}
        assert (part["status"] == "Success").sum() <= 1
        per_user = failed.groupby(failed["user"].astype(str), observed=True).size()
        # One guess per password (at most three), and one guess only when subtle.
        assert per_user.max() <= (1 if intensity == "subtle" else 3)
        if intensity == "blatant":
            assert set(_text(part, "src_city")) <= {CITIES[c].name for c in ATTACKER_CITIES}
            assert not _text(part, "user_agent")[0].startswith("Mozilla/5.0 (Windows")


def test_subtle_spray_targets_colleagues_in_working_hours() -> None:
    world = _world("password_spray", "subtle")
    users = world.users.set_index("user")
    for part in _campaigns(world):
        # The victim's colleagues first (the source is in their office's city), then others.
        office = _text(part, "src_city")[0]
        targets = users.loc[_text(part, "user")]
        colleagues = (world.users["office_city"] == office).sum()
        assert (targets["office_city"] == office).sum() == min(len(targets), colleagues)
        local = part["time"].dt.tz_localize(None) + pd.to_timedelta(
            part["timezone_offset"].astype(int), unit="min"
        )
        clock = (local.dt.hour + local.dt.minute / 60.0).to_numpy()
        into_shift = (clock - targets["start_hour"].to_numpy()) % 24.0
        assert (into_shift <= targets["shift_hours"].to_numpy()).mean() >= 0.9
        assert _text(part, "user_agent")[0].startswith("Mozilla/5.0")


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_credential_stuffing_is_many_addresses_and_unknown_users(intensity: str) -> None:
    world = _world("credential_stuffing", intensity)
    staff = set(world.users["user"])
    size = {"blatant": (1000, 2000), "moderate": (250, 350), "subtle": (60, 120)}[intensity]
    for part in _campaigns(world):
        assert size[0] <= len(part) <= size[1]
        _check_steps(part, "T1110.004")
        per_address = part.groupby(part["src_ip"].astype(str), observed=True).size()
        assert per_address.max() <= 2 and len(per_address) >= len(part) / 2
        known = np.isin(_text(part, "user"), list(staff))
        detail = _text(part, "status_detail")
        assert (detail[~known] == "Unknown user").all()
        assert 0.5 < (~known).mean() < 0.95
        failed_staff = known & (_text(part, "status") == "Failure")
        assert set(detail[failed_staff]) == {"Invalid password"}
        # Successes only for real accounts: a few when loud.
        hits = (_text(part, "status") == "Success").sum()
        assert not (~known & (_text(part, "status") == "Success")).any()
        assert hits <= 4 and (hits >= 1 or intensity == "subtle")
        if intensity == "subtle":
            assert set(_text(part, "src_country")) <= {c.country for c in CITIES[:N_OFFICES]}


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_mfa_fatigue_is_pushes_denied_then_approved(intensity: str) -> None:
    world = _world("mfa_fatigue", intensity)
    size = {"blatant": (30, 60), "moderate": (15, 25), "subtle": (4, 8)}[intensity]
    for part in _campaigns(world):
        assert part["user"].nunique() == 1 and part["src_ip"].nunique() == 1
        assert part["is_mfa"].all()
        assert (_text(part, "dst_host") == "sso.corp.example").all()
        _check_steps(part, "T1621")
        status = _text(part, "status")
        failed = status == "Failure"
        assert size[0] <= failed.sum() <= size[1]
        assert set(_text(part, "status_detail")[failed]) <= MFA_FAILURES
        # An approval, if any, is the last push.
        assert (status == "Success").sum() <= 1 and not (status[:-1] == "Success").any()
        if intensity == "blatant":
            # In the victim's night: outside the working window.
            victim = world.users.set_index("user").loc[_text(part, "user")[0]]
            local = part["time"].dt.tz_localize(None) + pd.Timedelta(
                minutes=int(victim["tz_offset_min"])
            )
            clock = (local.dt.hour + local.dt.minute / 60.0).to_numpy()
            into_shift = (clock - float(victim["start_hour"])) % 24
            assert (into_shift > float(victim["shift_hours"])).all()


@pytest.mark.parametrize("intensity", INTENSITIES)
@pytest.mark.parametrize("seed", [5, 6])
def test_impossible_travel_is_too_fast_from_a_new_device(intensity: str, seed: int) -> None:
    world = _world("impossible_travel", intensity, seed)
    events = world.events
    offices = {c.name for c in CITIES[:N_OFFICES]}
    for part in _campaigns(world):
        assert (part["status"] == "Success").all() and (part["step"] == 1).all()
        assert part["src_ip"].nunique() == 1 and 2 <= len(part) <= 4
        first = part.iloc[0]
        assert first["dst_host"] == "sso.corp.example"
        assert set(_text(part.iloc[1:], "dst_host")) <= {
            "mail.corp.example",
            "chat.corp.example",
            "wiki.corp.example",
        }
        mine = events[(events["user"] == first["user"]) & (events["time"] < first["time"])]
        before = mine[
            (mine["class_uid"] == 3002) & (mine["status"] == "Success") & mine["src_lat"].notna()
        ]
        prev = before.iloc[-1]
        km = haversine_km(prev["src_lat"], prev["src_lon"], first["src_lat"], first["src_lon"])
        hours = (first["time"] - prev["time"]).total_seconds() / 3600.0
        assert km / hours > 1000.0
        assert first["device_id"] not in set(_text(mine, "device_id"))
        assert first["user_agent"] not in set(_text(mine, "user_agent"))
        if intensity == "blatant":
            assert first["src_city"] in {CITIES[c].name for c in ATTACKER_CITIES}
            assert 10 <= hours * 60 <= 30
        elif intensity == "subtle":
            home = world.users.set_index("user").loc[first["user"], "office_city"]
            assert first["src_city"] in offices - {home}
            assert hours <= 2.0


@pytest.mark.parametrize("scenario", ["password_spray", "credential_stuffing", "mfa_fatigue"])
def test_blatant_is_louder_than_subtle(scenario: str) -> None:
    def rate(intensity: str) -> float:
        parts = _campaigns(_world(scenario, intensity))
        return min(
            len(p) / max((p["time"].max() - p["time"].min()).total_seconds() / 3600, 1 / 60)
            for p in parts
        )

    assert rate("blatant") > 20 * max(rate("subtle"), 1.0)
    assert rate("blatant") > rate("moderate") > rate("subtle")


@pytest.mark.parametrize("scenario", MINE)
@pytest.mark.parametrize("intensity", INTENSITIES)
def test_campaigns_keep_to_their_span_and_bound(scenario: str, intensity: str) -> None:
    world = _world(scenario, intensity)
    meta = SCENARIOS[scenario]
    for row in world.campaigns.itertuples(index=False):
        assert row.n_events <= meta.max_events[intensity]
        assert (row.end - row.start) <= pd.Timedelta(days=meta.span_days[intensity])
        assert row.start >= world.attack_start


@pytest.mark.parametrize("scenario", MINE)
def test_subtle_stays_within_normal_ranges(scenario: str) -> None:
    for seed, (n_users, days) in enumerate([(60, 7), (120, 10), (220, 14)]):
        world = _world(scenario, "subtle", seed, n_users, days)
        bad = subtle_violations(world.events, world.campaigns)
        assert bad.empty, bad.head(10).to_string()
