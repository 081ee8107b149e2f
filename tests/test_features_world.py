"""EntityFeatures on a small enterprise world: causality, no leakage, and real signal."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.features import FEATURES, EntityFeatures
from soc_anomaly.scenarios import generate_world


@pytest.fixture(scope="module")
def world():
    # Two campaigns per scenario, intensities in turn.
    return generate_world(n_users=120, days=14, campaigns=20, random_state=7)


@pytest.fixture(scope="module")
def train(world) -> pd.DataFrame:
    events = world.events
    return events[(events["time"] < world.attack_start) & (events["label"] == 0)]


@pytest.fixture(scope="module")
def fitted(world, train) -> EntityFeatures:
    return EntityFeatures().fit(train, users=world.users)


@pytest.fixture(scope="module")
def feats(world, fitted) -> pd.DataFrame:
    return fitted.transform(world.events)


def _state(fe: EntityFeatures) -> dict[str, object]:
    return {k: v for k, v in vars(fe).items() if k.endswith("_")}


def _assert_same(a: object, b: object, where: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif is_dataclass(a):
        for f in fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, pd.Index):
        assert a.equals(b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def test_output_is_finite_float64_in_catalog_order(world, feats) -> None:
    assert list(feats.columns) == list(FEATURES)
    assert feats.index.equals(world.events.index)
    assert (feats.dtypes == np.float64).all()
    assert np.isfinite(feats.to_numpy()).all()


@pytest.mark.parametrize("k", [1, 137, 5_000, 20_011])
def test_causal_prefix_equals_prefix_of_transform(world, fitted, feats, k) -> None:
    prefix = fitted.transform(world.events.iloc[:k])
    pd.testing.assert_frame_equal(prefix, feats.iloc[:k])


def test_deterministic(world, train, feats) -> None:
    again = EntityFeatures().fit(train, users=world.users).transform(world.events)
    pd.testing.assert_frame_equal(again, feats)


def test_no_leakage_from_the_evaluation_period(world, fitted, feats) -> None:
    events = world.events
    later = (events["time"] >= world.attack_start).to_numpy()
    # The evaluation period rewritten: other bytes, every logon failed, half the rows gone.
    changed = events.copy()
    changed.loc[later, "bytes_out"] = changed.loc[later, "bytes_out"] * 7
    changed.loc[later & (events["class_uid"] == 3002).to_numpy(), "status"] = "Failure"
    rng = np.random.default_rng(0)
    changed = changed[~later | (rng.random(len(changed)) < 0.5)]
    early = (changed["time"] < world.attack_start) & (changed["label"] == 0)
    refit = EntityFeatures().fit(changed[early], users=world.users)
    _assert_same(_state(refit), _state(fitted))
    # Rows of the training window get the same features whatever follows them.
    out = refit.transform(changed)
    pd.testing.assert_frame_equal(out[~later[: len(out)]], feats[~later])


def test_new_users_get_population_baselines(world, fitted, feats) -> None:
    events = world.events
    new = ~events["user"].isin(fitted.vocab_["user"]).to_numpy()
    assert new.any()  # credential stuffing tries unknown names
    assert (feats.loc[new, "new_user"] == 1).all()
    assert (feats.loc[~new, "new_user"] == 0).all()
    assert np.isfinite(feats[new].to_numpy()).all()


def _medians(world, feats, scenario: str, feature: str, kind: int) -> tuple[float, float]:
    events = world.events
    kind_rows = (events["class_uid"] == kind).to_numpy()
    attack = kind_rows & (events["attack_type"] == scenario).to_numpy()
    normal = kind_rows & (events["label"] == 0).to_numpy()
    assert attack.sum() >= 5, scenario
    return float(feats.loc[attack, feature].median()), float(feats.loc[normal, feature].median())


@pytest.mark.parametrize(
    ("scenario", "feature", "kind", "ratio", "margin"),
    [
        ("password_spray", "ip_failed_users_1h", 3002, 3.0, 2.0),
        ("password_spray", "ip_failed_users_24h", 3002, 5.0, 5.0),
        ("brute_force", "user_failures_1h", 3002, 5.0, 3.0),
        ("brute_force", "ip_failures_10m", 3002, 5.0, 2.0),
        ("mfa_fatigue", "user_mfa_denials_1h", 3002, 2.0, 2.0),
        ("credential_stuffing", "new_user", 3002, 1.0, 1.0),
        ("beaconing", "beacon_regularity", 4001, 3.0, 10.0),
        ("bulk_exfiltration", "new_dst_host", 4001, 1.0, 1.0),
        ("bulk_exfiltration", "bytes_out_24h_ratio", 4001, 1.0, 0.5),
        ("low_and_slow_exfiltration", "bytes_out_24h_ratio", 4001, 1.0, 1.0),
        ("lateral_movement", "new_dst_host", 4001, 1.0, 1.0),
        ("lateral_movement", "dept_dst_rarity", 4001, 3.0, 0.5),
    ],
)
def test_attack_events_stand_out_on_their_signal(
    world, feats, scenario, feature, kind, ratio, margin
) -> None:
    attack, normal = _medians(world, feats, scenario, feature, kind)
    # Median of the scenario's events against the normal events of the same kind: both
    # a ratio and an absolute margin, since many normal medians are 0.
    assert attack >= normal * ratio and attack >= normal + margin, (attack, normal)


def test_impossible_travel_is_faster_than_normal_logons(world, feats) -> None:
    events = world.events
    moved = feats["travel_speed_kmh"] > 0
    attack = (events["attack_type"] == "impossible_travel").to_numpy() & moved.to_numpy()
    normal = (events["label"] == 0).to_numpy() & moved.to_numpy()
    assert attack.any()
    assert feats.loc[attack, "new_place_speed_kmh"].min() > 500
    # Most normal fast hops (VPN egress, business trips) are between places users know.
    assert (feats.loc[normal, "new_place_speed_kmh"] > 0).mean() < 0.5


def test_explanations_of_attacks_read_right(world, fitted, feats) -> None:
    events = world.events
    spray = events.index[(events["attack_type"] == "password_spray").to_numpy()][-5:]
    out = fitted.explain(events.loc[spray], feats.loc[spray], history=events)
    assert len(out) == len(spray)
    for sentences in out:
        assert 0 < len(sentences) <= 5
        devs = [s.deviation for s in sentences]
        assert devs == sorted(devs, reverse=True) and min(devs) > 0
        assert {s.feature for s in sentences} <= set(FEATURES)
    assert any("tried from" in s.text for s in out[-1])
    values = feats.loc[spray[-1]]
    for s in out[-1]:
        assert s.value == values[s.feature]
