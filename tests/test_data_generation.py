import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc_anomaly.data.io import write_table
from soc_anomaly.data.schema import EVENT_COLUMNS, FEATURE_COLS, USER_COLUMNS
from soc_anomaly.errors import ParameterError
from soc_anomaly.scenarios.geo import haversine_km, offset_km
from soc_anomaly.scenarios.seed import (
    ATTACK_SCENARIOS,
    IMPOSSIBLE_TRAVEL_MIN_KM,
    generate_normal_events,
    generate_synthetic_soc_dataset,
    generate_user_catalog,
    inject_anomalies,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_dataset_size_and_anomaly_share(default_df):
    assert len(default_df) == 40_000
    assert int(default_df["label"].sum()) == 400
    assert list(default_df.columns) == list(EVENT_COLUMNS)
    counts = default_df.loc[default_df["label"] == 1, "attack_type"].value_counts()
    # An even split across the three scenarios.
    assert sorted(counts[counts > 0].tolist()) == [133, 133, 134]
    assert default_df["user_id"].nunique() == 200
    assert default_df["event_id"].tolist() == list(range(40_000))
    assert default_df["timestamp"].is_monotonic_increasing
    assert (default_df["timestamp"].dt.hour == default_df["hour"]).all()


def test_user_catalog_profile():
    users = generate_user_catalog(n_users=3000, random_state=11)
    assert list(users.columns) == list(USER_COLUMNS)
    assert users["user_id"].is_unique
    assert 0.08 < users["is_high_risk"].mean() < 0.12
    assert users.loc[users["is_high_risk"], "risk_score"].mean() > 0.6
    assert users.loc[~users["is_high_risk"], "risk_score"].mean() < 0.25
    assert users["risk_score"].between(0, 1).all()
    assert users["typical_login_hour"].between(0, 24, inclusive="left").all()
    assert ((users["work_end_hour"] - users["work_start_hour"]) % 24 == 9).all()
    assert (users["baseline_bytes_in"] > 0).all() and (users["baseline_bytes_out"] > 0).all()
    assert users["home_lat"].between(-90, 90).all() and users["home_lon"].between(-180, 180).all()


def test_catalog_is_the_one_the_dataset_used(small_df):
    users = generate_user_catalog(n_users=30, random_state=3).set_index("user_id")
    risk = small_df["user_id"].astype(str).map(users["risk_score"])
    np.testing.assert_array_equal(risk.to_numpy(), small_df["user_risk_score"].to_numpy())


def test_normal_events_follow_each_users_baseline(default_df):
    users = generate_user_catalog().set_index("user_id")
    normal = default_df[default_df["label"] == 0]
    u = normal["user_id"].astype(str)
    assert normal["geo_distance"].median() < 5
    assert (normal["geo_distance"] < 600.5).all()
    assert normal["successful_logins"].mean() > 0.97
    assert normal["failed_logins"].max() <= 10
    assert normal["device_trust_score"].median() > 0.9
    ratio = normal["bytes_out"] / u.map(users["baseline_bytes_out"]).to_numpy()
    assert 0.8 < np.median(ratio) < 1.25
    # Hours cluster around the user's typical login hour (circular distance).
    diff = (normal["hour"] - u.map(users["typical_login_hour"]).to_numpy()) % 24
    circular = np.minimum(diff, 24 - diff)
    assert np.mean(circular <= 4) > 0.95


def test_attack_signatures(default_df):
    users = generate_user_catalog().set_index("user_id")
    by = {name: default_df[default_df["attack_type"] == name] for name in ATTACK_SCENARIOS}

    exfil = by["exfiltration"]
    baseline = exfil["user_id"].astype(str).map(users["baseline_bytes_out"]).to_numpy()
    assert (exfil["bytes_out"] >= 39.9 * baseline).all()
    assert (exfil["device_trust_score"] <= 0.35).all()
    diff = (exfil["hour"] - exfil["user_id"].astype(str).map(users["typical_login_hour"])) % 24
    assert ((diff >= 13) & (diff <= 21)).all()  # late relative to the user's own day

    travel = by["impossible_travel"]
    assert (travel["geo_distance"] >= IMPOSSIBLE_TRAVEL_MIN_KM - 100).all()
    home_country = travel["user_id"].astype(str).map(users["home_country"])
    assert (travel["country"].astype(str) != home_country).all()
    assert (travel["successful_logins"] == 1).all()

    brute = by["brute_force"]
    assert brute["failed_logins"].between(20, 50).all()
    assert (brute["successful_logins"] == 0).all()


def test_geo_distance_is_consistent_with_coordinates(small_df):
    users = generate_user_catalog(n_users=30, random_state=3).set_index("user_id")
    u = small_df["user_id"].astype(str)
    recomputed = haversine_km(
        u.map(users["home_lat"]).to_numpy(),
        u.map(users["home_lon"]).to_numpy(),
        small_df["src_lat"].to_numpy(),
        small_df["src_lon"].to_numpy(),
    )
    np.testing.assert_allclose(recomputed, small_df["geo_distance"], atol=0.01)


def test_haversine_known_distance():
    # London -> New York is about 5,570 km.
    d = haversine_km(
        np.array([51.5074]), np.array([-0.1278]), np.array([40.7128]), np.array([-74.006])
    )
    assert abs(d[0] - 5570) < 15


def test_offset_km_lands_at_the_distance_asked_for():
    lat = np.array([51.5074, -33.8688, 0.0])
    lon = np.array([-0.1278, 151.2093, 179.9])
    distance = np.array([10.0, 2500.0, 100.0])
    lat2, lon2 = offset_km(lat, lon, distance, np.array([0.3, 2.0, np.pi / 2]))
    np.testing.assert_allclose(haversine_km(lat, lon, lat2, lon2), distance, rtol=1e-9)
    assert ((lon2 >= -180.0) & (lon2 < 180.0)).all()  # wrapped across the date line


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_same_seed_same_bytes_and_other_seed_other_data(tmp_path, suffix):
    kwargs = {"n_users": 40, "events_per_user": 60, "anomaly_fraction": 0.02}
    a = write_table(
        generate_synthetic_soc_dataset(**kwargs, random_state=5), tmp_path / f"a{suffix}"
    )
    b = write_table(
        generate_synthetic_soc_dataset(**kwargs, random_state=5), tmp_path / f"b{suffix}"
    )
    c = write_table(
        generate_synthetic_soc_dataset(**kwargs, random_state=6), tmp_path / f"c{suffix}"
    )
    assert _sha(a) == _sha(b)
    assert _sha(a) != _sha(c)


def test_different_seed_changes_values_not_just_order():
    a = generate_synthetic_soc_dataset(n_users=20, events_per_user=40, random_state=1)
    b = generate_synthetic_soc_dataset(n_users=20, events_per_user=40, random_state=2)
    assert not np.allclose(np.sort(a["bytes_out"]), np.sort(b["bytes_out"]))


def test_pieces_compose_into_a_labelled_dataset():
    users = generate_user_catalog(n_users=25, random_state=9)
    normal = generate_normal_events(users, events_per_user=40, random_state=9)
    assert normal["label"].sum() == 0 and len(normal) == 1000
    attacked = inject_anomalies(
        normal, users, anomaly_fraction=0.05, random_state=9, attack_types=("brute_force",)
    )
    assert attacked["label"].sum() == 50
    assert set(attacked.loc[attacked["label"] == 1, "attack_type"].astype(str)) == {"brute_force"}
    assert len(attacked) == len(normal)
    with pytest.raises(ParameterError, match="unknown attack type"):
        inject_anomalies(normal, users, attack_types=("phishing",))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_users": 0}, "n_users must be a positive integer"),
        ({"events_per_user": -1}, "events_per_user must be a positive integer"),
        ({"anomaly_fraction": 0.0}, r"anomaly_fraction must be in \(0, 0.5\)"),
        ({"anomaly_fraction": 0.5}, r"anomaly_fraction must be in \(0, 0.5\)"),
        ({"anomaly_fraction": float("nan")}, r"anomaly_fraction must be in"),
        ({"random_state": -3}, "random_state must be an integer >= 0"),
    ],
)
def test_bad_generation_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        generate_synthetic_soc_dataset(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    n_users=st.integers(1, 15),
    events_per_user=st.integers(1, 30),
    fraction=st.floats(0.001, 0.499),
    seed=st.integers(0, 2**32 - 1),
)
def test_generator_invariants(n_users, events_per_user, fraction, seed):
    df = generate_synthetic_soc_dataset(n_users, events_per_user, fraction, seed)
    n = n_users * events_per_user
    assert len(df) == n
    expected = min(max(1, round(fraction * n)), n - 1) if n > 1 else 0
    assert int(df["label"].sum()) == expected
    assert np.isfinite(df[FEATURE_COLS].to_numpy(dtype=float)).all()
    assert set(df["label"].unique()) <= {0, 1}
    assert pd.api.types.is_datetime64_any_dtype(df["timestamp"])
