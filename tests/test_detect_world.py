"""``detect`` on the enterprise world: the time split, the seed columns from raw events,
the campaign-level results in the report, metrics.json and diff, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.io import write_table
from soc_anomaly.data.split import split_by_time
from soc_anomaly.errors import DataError
from soc_anomaly.experiment.enterprise import training_cut
from soc_anomaly.features.seed_columns import SEED_COLUMNS, SeedColumns
from soc_anomaly.scenarios import generate_world
from soc_anomaly.scenarios.geo import haversine_km

SMALL_WORLD = ["--scenario", "enterprise", "--n-users", "150", "--days", "14"]


@pytest.fixture(scope="module")
def world():
    return generate_world(n_users=200, days=14, random_state=5)


@pytest.fixture(scope="module")
def world_file(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "events.parquet"
    write_table(world.events, path)
    write_table(world.campaigns, path.with_name("events_campaigns.csv"))
    return path


def test_training_cut_is_half_the_days_and_before_every_campaign(world) -> None:
    cut = training_cut(world.events["time"])
    assert cut == world.attack_start
    assert cut == pd.Timestamp("2026-01-12", tz="UTC")  # 2026-01-05 + 14 // 2 days
    assert (world.campaigns["start"] >= cut).all()


def test_training_cut_refuses_a_single_day() -> None:
    times = pd.Series(pd.to_datetime(["2026-01-05 01:00", "2026-01-05 20:00"], utc=True))
    with pytest.raises(DataError, match=r"span 1 day\(s\); expected at least 2 days"):
        training_cut(times)


def test_split_by_time_trains_on_normal_events_before_the_cut_only() -> None:
    df = pd.DataFrame(
        {"x": np.arange(8.0), "label": [0, 1, 0, 0, 0, 1, 0, 0]},
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    train = np.array([True, True, True, True, False, False, False, False])
    split = split_by_time(df, ["x"], train)
    # The attack inside the training window is neither trained on nor evaluated.
    assert list(split.X_train_df.index) == [10, 12, 13]
    assert list(split.test_index) == [14, 15, 16, 17]
    assert list(split.y_test) == [0, 1, 0, 0]
    np.testing.assert_allclose(split.scaler.mean_, [np.mean([0, 2, 3])])


def test_split_by_time_needs_both_classes_after_the_cut() -> None:
    df = pd.DataFrame({"x": np.arange(6.0), "label": [0, 0, 0, 1, 0, 0]})
    with pytest.raises(DataError, match=r"evaluated period .* has no anomalies"):
        split_by_time(df, ["x"], np.array([True, True, True, True, False, False]))


def test_seed_columns_from_raw_events(world) -> None:
    events = world.events
    cut = training_cut(events["time"])
    fit_rows = events[(events["time"] < cut) & (events["label"] == 0)]
    seed = SeedColumns().fit(fit_rows)
    feats = seed.transform(events)
    assert list(feats.columns) == list(SEED_COLUMNS)
    assert np.isfinite(feats.to_numpy()).all()
    auth = (events["class_uid"] == 3002).to_numpy()
    failed = auth & (events["status"].astype(str) == "Failure").to_numpy()
    np.testing.assert_array_equal(feats["failed_logins"].to_numpy(), failed.astype(float))
    # Connections carry bytes, logons do not.
    assert (feats.loc[auth, ["bytes_in", "bytes_out"]] == 0).all().all()
    net = ~auth
    np.testing.assert_array_equal(
        feats.loc[net, "bytes_out"].to_numpy(), events.loc[net, "bytes_out"].to_numpy(float)
    )
    # Local hour follows the device's time zone.
    local = events["time"] + pd.to_timedelta(events["timezone_offset"].astype(int), unit="m")
    np.testing.assert_array_equal(feats["hour"].to_numpy(), local.dt.hour.to_numpy(float))
    # A logon's distance is from the user's most frequent training location.
    row = events.index[auth & events["src_lat"].notna().to_numpy()][0]
    user = str(events.at[row, "user"])
    mine = fit_rows[(fit_rows["user"].astype(str) == user) & fit_rows["src_lat"].notna()]
    home = mine.groupby([mine["src_lat"].round(3), mine["src_lon"].round(3)]).size().idxmax()
    expected = haversine_km(
        np.array([events.at[row, "src_lat"]]),
        np.array([events.at[row, "src_lon"]]),
        np.array([home[0]]),
        np.array([home[1]]),
    )[0]
    assert feats.at[row, "geo_distance"] == pytest.approx(expected)
    # Attack logons from far away stand out on the seed's distance.
    travel = (events["attack_type"] == "impossible_travel").to_numpy() & auth
    assert feats.loc[travel, "geo_distance"].median() > 1_000


def test_seed_features_run_reports_campaigns_and_metrics(capsys, tmp_path, world_file) -> None:
    metrics = tmp_path / "m.json"
    code, out, err = run_cli(
        capsys,
        "detect",
        "--scenario",
        "enterprise",
        "--data-path",
        str(world_file),
        "--features",
        "seed",
        # Two detectors, one of them instant: the diff below compares more than one.
        "--detectors",
        "iforest,mahalanobis",
        "--no-plots",
        "--importance-repeats",
        "0",
        "--metrics-path",
        str(metrics),
        "--save-run",
        str(tmp_path / "run_a"),
    )
    assert code == 0, err
    assert "Splitting by time" in err
    # Rich wraps long titles at the console width.
    assert "Campaigns caught at a daily queue of 10 incidents a day per 500 staff" in " ".join(
        out.split()
    )
    doc = json.loads(metrics.read_text())
    model = doc["models"]["IsolationForest"]
    assert model["feature_set"] == "seed"
    assert model["feature_cols"] == list(SEED_COLUMNS)
    budget = model["campaigns"]["alert_budget"]
    assert budget["n_campaigns"] == 30
    assert 0 <= budget["caught"] <= 30
    assert set(budget["by_intensity"]) == {"blatant", "moderate", "subtle"}
    # The daily queue: 10 a day per 500 staff is 4 alerts a day for 200 staff, 7 days.
    queue = model["campaigns"]["daily_queue"]
    assert queue["alerts"] == 4 * 7
    assert queue["alerts_per_day"] == pytest.approx(4.0, rel=0.01)
    # The incident queue, the headline: at most 4 incidents a day (fewer on a quiet day).
    incidents = model["campaigns"]["incident_queue"]
    assert 0 < incidents["alerts"] <= 4 * 7
    assert model["campaign_recall"] == incidents["recall"]
    assert len(model["raised_incidents"]) == incidents["alerts"]
    # The budget scales with the organisation: 10 a day per 500 staff, 200 staff here.
    assert model["thresholds"]["alert_budget"]["alerts_per_day"] <= 10 * 200 / 500 + 1e-9
    assert doc["comparison"][0]["campaign_recall_mean"] == pytest.approx(
        doc["models"][doc["comparison"][0]["name"]]["campaign_recall"]
    )
    # A second run with another budget; diff compares the campaign results.
    code, out, err = run_cli(
        capsys,
        "detect",
        "--scenario",
        "enterprise",
        "--data-path",
        str(world_file),
        "--features",
        "seed",
        "--detectors",
        "iforest,mahalanobis",
        "--no-plots",
        "--importance-repeats",
        "0",
        "--alerts-per-day",
        "40",
        "--metrics-path",
        str(tmp_path / "m2.json"),
        "--save-run",
        str(tmp_path / "run_b"),
    )
    assert code == 0, err
    code, out, err = run_cli(
        capsys,
        "diff",
        str(tmp_path / "run_a"),
        str(tmp_path / "run_b"),
        "--plots-dir",
        str(tmp_path / "diff"),
    )
    assert code == 0, err
    deltas = json.loads((tmp_path / "diff" / "run_diff.json").read_text())["metric_deltas"]
    recall = [d for d in deltas if d["metric"] == "campaigns.daily_queue.recall"]
    assert len(recall) == 2
    # A four times larger queue cannot catch fewer campaigns.
    assert all(d["after"] >= d["before"] for d in recall)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--scenario", "enterprise", "--features", "raw"], r"unknown --features 'raw'"),
        (["--scenario", "corporate"], r"unknown --scenario 'corporate'; expected one of seed"),
        (["--scenario", "enterprise", "--intensity", "loud"], r"unknown --intensity 'loud'"),
        (["--days", "7"], r"--days applies to --scenario enterprise only"),
        (["--features", "both"], r"--features applies to --scenario enterprise only"),
        (["--scenario", "enterprise", "--days", "0"], r"--days"),
        (
            ["--scenario", "enterprise", "--feature-cols", "a,b"],
            r"--feature-cols does not apply to --scenario enterprise",
        ),
        (
            ["--scenario", "enterprise", "--n-users", "20", "--days", "1"],
            r"expected at least 2 days to split by time|room",
        ),
    ],
)
def test_bad_world_settings(capsys, tmp_path, argv, pattern) -> None:
    metrics = tmp_path / "m.json"
    code, _, err = run_cli(capsys, "detect", *argv, "--no-plots", "--metrics-path", str(metrics))
    assert_one_line_error(code, err, pattern)
    assert not metrics.exists()


@pytest.mark.parametrize(
    ("features", "dropped", "pattern"),
    [
        ("seed", ["src_lat", "bytes_out"], r"src_lat, bytes_out that --features seed needs"),
        ("entity", ["status_detail"], r"status_detail that --features entity needs"),
        ("both", ["direction", "src_host"], r"src_host, direction that --features both needs"),
    ],
)
def test_file_without_raw_columns_names_them(capsys, tmp_path, world, features, dropped, pattern):
    path = tmp_path / "thin.csv"
    write_table(world.events.drop(columns=dropped).head(500), path)
    metrics = tmp_path / "m.json"
    code, _, err = run_cli(
        capsys,
        "detect",
        "--scenario",
        "enterprise",
        "--data-path",
        str(path),
        "--features",
        features,
        "--no-plots",
        "--metrics-path",
        str(metrics),
    )
    assert_one_line_error(code, err, r"lacks column\(s\) " + pattern)
    assert not metrics.exists()
