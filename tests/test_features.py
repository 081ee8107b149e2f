"""EntityFeatures on hand-built event tables: exact values, interface, errors and sentences."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from soc_anomaly.errors import DataError
from soc_anomaly.features import (
    FEATURES,
    REQUIRED_COLUMNS,
    EntityFeatures,
    FeatureInfo,
    FeatureSentence,
)
from soc_anomaly.scenarios.enterprise.schema import EVENT_COLUMNS

T0 = pd.Timestamp("2026-02-02 09:00", tz="UTC")  # a Monday
CITIES = {
    "London": ("GB", 51.5074, -0.1278),
    "New York": ("US", 40.7128, -74.0060),
    "Paris": ("FR", 48.8566, 2.3522),
}


def logon(user, minutes, *, city="London", ip="198.51.100.1", device="DEV-1", status="Success",
          detail=None, dst="sso.corp.example"):  # fmt: skip
    country, lat, lon = CITIES[city]
    return dict(time=T0 + pd.Timedelta(minutes=minutes), timezone_offset=0, class_uid=3002,
                user=user, src_ip=ip, src_city=city, src_country=country, src_lat=lat, src_lon=lon,
                device_id=device, dst_host=dst, status=status, status_detail=detail,
                bytes_in=None, bytes_out=None, direction=None)  # fmt: skip


def conn(user, minutes, *, dst="files.corp.example", sent=1_000, received=5_000,
         direction="Outbound", device="DEV-1"):  # fmt: skip
    return dict(time=T0 + pd.Timedelta(minutes=minutes), timezone_offset=0, class_uid=4001,
                user=user, src_ip="10.0.0.1", src_city=None, src_country=None, src_lat=np.nan,
                src_lon=np.nan, device_id=device, dst_host=dst, status="Success",
                status_detail=None, bytes_in=received, bytes_out=sent,
                direction=direction)  # fmt: skip


def table(rows: list[dict]) -> pd.DataFrame:
    """Raw events in time order, typed like the world's (categoricals, nullable ints)."""
    df = pd.DataFrame(rows).sort_values("time", kind="stable").reset_index(drop=True)
    for col in ("user", "src_ip", "src_city", "src_country", "device_id", "dst_host", "status",
                "status_detail", "direction"):  # fmt: skip
        df[col] = df[col].astype("category")
    for col in ("bytes_in", "bytes_out"):
        df[col] = df[col].astype("Int64")
    df["timezone_offset"] = df["timezone_offset"].astype("int16")
    df["class_uid"] = df["class_uid"].astype("int16")
    return df


def training(users=("alice", "bob", "carol")) -> pd.DataFrame:
    """A week before T0: each user logs on from London on DEV-1 and connects, every day."""
    rows = []
    for day in range(-7, 0):
        for k, user in enumerate(users):
            base = day * 24 * 60 + k
            rows.append(logon(user, base))
            rows.append(conn(user, base + 5, sent=1_000 * (1 + k), received=4_000 + day))
            rows.append(conn(user, base + 30, dst="mail.corp.example", sent=2_000))
    return table(rows)


@pytest.fixture(scope="module")
def fitted() -> EntityFeatures:
    return EntityFeatures().fit(training())


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# --- interface ---------------------------------------------------------------------------


def test_catalog_is_complete_and_named_well() -> None:
    assert len(FEATURES) >= 20
    for name, info in FEATURES.items():
        assert isinstance(info, FeatureInfo) and info.name == name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
        assert info.unit and info.description and info.template
    assert set(REQUIRED_COLUMNS) <= set(EVENT_COLUMNS)


def test_output_columns_dtype_index_and_finiteness(fitted: EntityFeatures) -> None:
    X = table([logon("alice", 10), conn("bob", 11), logon("zed", 12, city="Paris")])
    X.index = [30, 10, 20]
    out = fitted.transform(X)
    assert list(out.columns) == list(FEATURES)
    assert list(fitted.get_feature_names_out()) == list(FEATURES)
    assert list(out.index) == [30, 10, 20]
    assert (out.dtypes == np.float64).all()
    assert np.isfinite(out.to_numpy()).all()


def test_missing_columns_raise_one_line_naming_them(fitted: EntityFeatures) -> None:
    X = training().drop(columns=["src_ip", "bytes_out"])
    with pytest.raises(DataError) as err:
        EntityFeatures().fit(X)
    message = str(err.value)
    assert "src_ip" in message and "bytes_out" in message and "\n" not in message
    with pytest.raises(DataError, match="src_ip"):
        fitted.transform(X)


def test_empty_training_window_is_a_data_error() -> None:
    with pytest.raises(DataError, match="empty"):
        EntityFeatures().fit(training().iloc[:0])


def test_empty_transform_gives_an_empty_table(fitted: EntityFeatures) -> None:
    out = fitted.transform(training().iloc[:0])
    assert out.shape == (0, len(FEATURES)) and list(out.columns) == list(FEATURES)


def test_transform_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        EntityFeatures().transform(training())


def test_clone_and_get_params() -> None:
    fe = EntityFeatures(min_travel_km=50.0, beacon_intervals=6)
    params = fe.get_params()
    assert params["min_travel_km"] == 50.0 and params["beacon_intervals"] == 6
    twin = clone(fe)
    assert twin is not fe and twin.get_params() == params
    assert not hasattr(twin, "vocab_")


def test_integer_epoch_ms_and_shuffled_rows(fitted: EntityFeatures) -> None:
    X = table([logon("alice", m, status="Failure") for m in range(0, 30, 3)] + [conn("bob", 4)])
    expected = fitted.transform(X)
    as_ms = X.copy()
    as_ms["time"] = pd.DatetimeIndex(X["time"]).as_unit("ms").asi8  # int64 epoch ms
    pd.testing.assert_frame_equal(fitted.transform(as_ms), expected)
    shuffled = X.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(fitted.transform(shuffled), expected.loc[shuffled.index])


# --- exact values ------------------------------------------------------------------------


def test_travel_speed_between_two_known_cities(fitted: EntityFeatures) -> None:
    X = table([logon("alice", 0, city="London"), logon("alice", 25, city="New York")])
    out = fitted.transform(X)
    km = haversine(*CITIES["London"][1:], *CITIES["New York"][1:])
    assert out["travel_speed_kmh"].iloc[0] == 0.0
    assert out["travel_speed_kmh"].iloc[1] == pytest.approx(km / (25 / 60), rel=1e-9)
    assert out["hours_since_prev_login"].iloc[1] == pytest.approx(25 / 60)
    # New York is not where alice logged on from in training; London was.
    assert out["new_place_speed_kmh"].iloc[1] == out["travel_speed_kmh"].iloc[1]
    assert out["new_country"].tolist() == [0.0, 1.0]


def test_speed_is_zero_within_a_metro_area(fitted: EntityFeatures) -> None:
    near = logon("alice", 1)
    near["src_lat"] += 0.3  # about 33 km north
    out = fitted.transform(table([logon("alice", 0), near]))
    assert out["travel_speed_kmh"].tolist() == [0.0, 0.0]


def test_failures_in_the_last_ten_minutes_and_hour(fitted: EntityFeatures) -> None:
    minutes = [0, 3, 6, 9, 12, 70]
    X = table(
        [logon("alice", m, status="Failure", detail="Invalid password") for m in minutes]
        + [logon("alice", 13), conn("alice", 14)]
    )
    out = fitted.transform(X)
    assert X["time"].is_monotonic_increasing  # minutes 0, 3, 6, 9, 12, 13, 14, 70
    # (t - 10 min, t]: at 12 min the failure at 0 has left the window, at 13 the one at 3.
    assert out["user_failures_10m"].tolist() == [1, 2, 3, 4, 4, 3, 3, 1]
    assert out["user_failures_1h"].tolist() == [1, 2, 3, 4, 5, 5, 5, 2]
    assert out["ip_failures_10m"].tolist() == [1, 2, 3, 4, 4, 3, 0, 1]  # 14: another address


def test_distinct_users_failing_from_one_address(fitted: EntityFeatures) -> None:
    ip = "203.0.113.9"
    rows = [logon(u, m, ip=ip, status="Failure", detail="Invalid password")
            for m, u in [(0, "alice"), (1, "bob"), (2, "alice"), (3, "carol"), (4, "dave"),
                         (70, "erin")]]  # fmt: skip
    rows.append(logon("bob", 5, ip=ip))  # a success does not count
    out = fitted.transform(table(rows))
    # Minutes 0-5, then erin at 70, when the others have left the hour.
    assert out["ip_failed_users_1h"].tolist() == [1, 2, 2, 3, 4, 4, 1]
    assert out["ip_failed_users_24h"].tolist() == [1, 2, 2, 3, 4, 4, 5]
    assert out["ip_failures_1h"].tolist() == [1, 2, 3, 4, 5, 5, 1]


def test_first_seen_device_address_and_destination(fitted: EntityFeatures) -> None:
    rows = [logon("alice", 0), logon("alice", 1, device="DEV-9"), logon("alice", 2, device=None),
            logon("alice", 3, ip="192.0.2.77"), conn("alice", 4, dst="evil.example")]  # fmt: skip
    out = fitted.transform(table(rows))
    assert out["new_device"].tolist() == [0, 1, 0, 0, 0]
    assert out["new_src_ip"].tolist() == [0, 0, 0, 1, 0]  # the connection's 10.0.0.1 is known
    assert out["new_dst_host"].tolist() == [0, 0, 0, 0, 1]
    assert out["new_user"].tolist() == [0] * 5


def test_mfa_denials_counted_apart_from_bad_passwords(fitted: EntityFeatures) -> None:
    details = ["MFA push denied", "Invalid password", "MFA push timed out", "MFA push denied"]
    rows = [logon("bob", m, status="Failure", detail=d) for m, d in enumerate(details)]
    rows.append(logon("bob", 90))
    out = fitted.transform(table(rows))
    assert out["user_mfa_denials_1h"].tolist() == [1, 1, 2, 3, 0]
    assert out["user_failures_1h"].tolist() == [1, 2, 3, 4, 0]


DAY = 24 * 60  # minutes


def test_failures_and_mfa_denials_over_24_hours(fitted: EntityFeatures) -> None:
    bad, denied, unanswered = "Invalid password", "MFA push denied", "MFA push timed out"
    push_over_network = {**conn("bob", 800), "status": "Failure", "status_detail": denied}
    X = table(
        [
            logon("bob", 0, status="Failure", detail=bad),
            logon("alice", 30, status="Failure", detail=bad),  # another user's failure
            logon("bob", 60, status="Failure", detail=denied),
            logon("bob", 600, status="Failure", detail=unanswered),
            logon("bob", 700),
            push_over_network,  # not a logon: counted by neither
            logon("bob", DAY, status="Failure", detail=bad),  # 24 h after the first failure
            logon("bob", DAY + 60, status="Failure", detail=denied),  # 24 h after the 60
            logon("bob", DAY + 600),  # 24 h after the 600
        ]
    )
    out = fitted.transform(X)
    assert X["time"].is_monotonic_increasing
    # (t - 24 h, t]: at DAY the failure at 0 has left the window, at DAY + 60 the one at 60,
    # at DAY + 600 the one at 600; alice's failure is hers alone.
    assert out["user_failures_24h"].tolist() == [1, 1, 2, 3, 3, 3, 3, 3, 2]
    assert out["user_mfa_denials_24h"].tolist() == [0, 0, 1, 2, 2, 2, 2, 2, 1]
    # The 1-hour windows of the same events, for contrast.
    assert out["user_failures_1h"].tolist() == [1, 1, 1, 1, 0, 0, 1, 1, 0]
    assert out["user_mfa_denials_1h"].tolist() == [0, 0, 1, 1, 0, 0, 0, 1, 0]


def new_destination_rows() -> list[dict]:
    """alice contacts three destinations new to her, then only known ones a day later.

    In training alice logged on to sso.corp.example and connected to files.corp.example
    and mail.corp.example.
    """
    return [
        conn("alice", 0, dst="new1.example", sent=1_000),
        conn("bob", 5, dst="new1.example", sent=10**6),  # new to bob too; his own window
        conn("carol", 6, dst="mail.corp.example", sent=100),  # known to carol
        conn("alice", 10, sent=5_000),  # files.corp.example, known
        conn("alice", 20, dst="new1.example", sent=2_000),  # new1 again: one destination
        conn("alice", 30, dst="new2.example", sent=7_000, direction="Inbound"),
        logon("alice", 40, dst="new3.example"),  # a logon's destination counts, no bytes
        conn("alice", DAY, sent=500),  # 24 h after the first new1: it left the window
        conn("alice", DAY + 20, sent=500),  # 24 h after the second new1: new1 left
        conn("zed", DAY + 30, sent=100),  # no history: files.corp.example is known to all
        conn("zed", DAY + 31, dst="zed.example", sent=300),  # nobody ever contacted it
    ]


def test_new_destinations_and_bytes_sent_to_them_over_24_hours(fitted: EntityFeatures) -> None:
    X = table(new_destination_rows())
    out = fitted.transform(X)
    assert X["time"].is_monotonic_increasing
    assert out["new_dst_host"].tolist() == [1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1]
    # Distinct new destinations of the user in (t - 24 h, t].
    assert out["new_dst_hosts_24h"].tolist() == [1, 1, 0, 1, 1, 2, 3, 3, 2, 0, 1]
    # log10(1 + outbound bytes to new destinations in (t - 24 h, t]): the inbound
    # connection to new2 and the logon to new3 send none, known destinations don't count.
    sent = [1_000, 10**6, 0, 1_000, 3_000, 3_000, 3_000, 2_000, 0, 0, 300]
    np.testing.assert_allclose(
        out["new_dst_bytes_out_24h"].to_numpy(), np.log10(np.array(sent) + 1.0), rtol=1e-12
    )


def test_new_destination_windows_are_causal(fitted: EntityFeatures) -> None:
    rows = new_destination_rows()
    X = table(rows)
    full = fitted.transform(X)
    for k in (1, 5, 8):
        head = fitted.transform(X.iloc[:k])
        pd.testing.assert_frame_equal(head, full.iloc[:k])


def test_beacon_regularity_rises_with_a_clock(fitted: EntityFeatures) -> None:
    clock = [conn("alice", 15 * k, dst="c2.example") for k in range(10)]
    jitter = [conn("bob", m, dst="cdn.example") for m in (0, 1, 9, 10, 40, 41, 80, 200, 203, 300)]
    out = fitted.transform(table(clock + jitter))
    X = table(clock + jitter)
    alice = out[(X["user"] == "alice").to_numpy()]["beacon_regularity"].to_numpy()
    bob = out[(X["user"] == "bob").to_numpy()]["beacon_regularity"].to_numpy()
    assert (alice[:4] == 0).all()  # under min_beacon_intervals
    assert alice[-1] == pytest.approx(8 / 0.05)  # 8 equal intervals: CV 0
    assert bob[-1] < 10 < alice[-1]


def test_new_user_gets_population_baselines(fitted: EntityFeatures) -> None:
    X = table([logon("zed", 0, device="DEV-1"), logon("zed", 1, device="DEV-NEW"),
               conn("zed", 2, sent=10**9)])  # fmt: skip
    out = fitted.transform(X)
    assert out["new_user"].tolist() == [1, 1, 1]
    # Judged against the population: DEV-1 is known to the organisation, DEV-NEW is not.
    assert out["new_device"].tolist() == [0, 1, 0]
    population = fitted.user_tables_["hour_rarity"][-1, 9]
    assert out["hour_rarity"].iloc[0] == pytest.approx(population)
    assert out["bytes_out_z"].iloc[2] > 5
    assert np.isfinite(out.to_numpy()).all()


def test_user_baselines_are_the_users_own(fitted: EntityFeatures) -> None:
    # In training alice sends 1,000 or 2,000 bytes per connection, carol 3,000 or 2,000.
    out = fitted.transform(table([conn("alice", 0, sent=3_000), conn("carol", 1, sent=3_000)]))
    alice, carol = out["bytes_out_z"]
    assert alice > carol + 0.5 and 0 < carol < 1


def test_department_peers(fitted: EntityFeatures) -> None:
    users = pd.DataFrame({"user": ["alice", "bob", "carol"], "department": ["IT", "IT", "HR"]})
    rows = [conn(u, k, dst="hr-portal.example") for k, u in enumerate(["alice", "bob", "carol"])]
    fe = EntityFeatures().fit(table(training().to_dict("records") + rows[2:]), users=users)
    out = fe.transform(table(rows))
    # carol's department (HR, 1 user) knows the portal; alice's and bob's (IT) do not.
    assert out["dept_dst_rarity"].iloc[0] == pytest.approx(-math.log10(1 / 4))
    assert out["dept_dst_rarity"].iloc[2] == pytest.approx(-math.log10(2 / 3))
    # Without a users table the population of 3 is everyone's peer group.
    out = (
        EntityFeatures().fit(table(training().to_dict("records") + rows[2:])).transform(table(rows))
    )
    assert out["dept_dst_rarity"].iloc[0] == pytest.approx(-math.log10(2 / 5))


# --- sentences ---------------------------------------------------------------------------


def test_sentences_name_speed_city_and_device(fitted: EntityFeatures) -> None:
    X = table([logon("alice", 0, city="London"),
               logon("alice", 25, city="New York", device="DEV-9", ip="192.0.2.5")])  # fmt: skip
    feats = fitted.transform(X)
    rows = X.index[1:]
    [sentences] = fitted.explain(X.loc[rows], feats.loc[rows], history=X)
    assert all(isinstance(s, FeatureSentence) for s in sentences)
    texts = [s.text for s in sentences]
    travel = next(t for t in texts if "km/h" in t)
    # Event values are quoted: a value cannot end its sentence or forge another.
    assert '"London", 25 min earlier' in travel
    assert any('first event from this device ("DEV-9")' in t for t in texts)
    assert any('first logon from "US"' in t for t in texts)
    devs = [s.deviation for s in sentences]
    assert devs == sorted(devs, reverse=True) and min(devs) > 0
    # Without the history the city is omitted, the rest is the same.
    [bare] = fitted.explain(X.loc[rows], feats.loc[rows])
    assert "London" not in " ".join(s.text for s in bare)
    assert any("km/h from the previous login (25 min earlier)" in s.text for s in bare)


def test_explain_keeps_top_and_only_deviating_features(fitted: EntityFeatures) -> None:
    X = table([logon("carol", m, status="Failure", detail="Invalid password", ip="203.0.113.4")
               for m in range(8)] + [conn("alice", 60 * 24 * 2)])  # fmt: skip
    feats = fitted.transform(X)
    out = fitted.explain(X, feats, top=2)
    assert len(out) == len(X)
    assert all(len(s) <= 2 for s in out)
    # The eighth failure in a row: told by the failure window or by the sequence it ends.
    said = " ".join(s.text for s in out[7])
    assert "8 failed logons" in said or "after 7 failed logons (bad password)" in said
    assert out[-1] == [] or all(s.deviation > 0 for s in out[-1])


def test_sentences_of_new_destinations_over_24_hours(fitted: EntityFeatures) -> None:
    X = table(new_destination_rows())
    feats = fitted.transform(X)
    said = [{s.feature: s.text for s in row} for row in fitted.explain(X, feats, top=len(FEATURES))]
    # alice's connection to files.corp.example a day later: new1 (at minute 20), new2 and
    # new3 are in her last 24 hours, and 2,000 bytes went to new1.
    assert said[7]["new_dst_hosts_24h"] == (
        "3 destinations this user never contacted before, in the last 24 hours"
    )
    assert said[7]["new_dst_bytes_out_24h"] == (
        "2.0 KB sent in the last 24 hours to destinations this user never used before"
    )
    # The first new destination, in the singular.
    assert said[3]["new_dst_hosts_24h"] == (
        "1 destination this user never contacted before, in the last 24 hours"
    )
    assert said[3]["new_dst_bytes_out_24h"].startswith("1.0 KB sent in the last 24 hours")
    assert said[10]["new_dst_bytes_out_24h"].startswith("300 B sent")
    # An event that is itself a first contact says so; the count is of the same family and
    # gives way to it.
    assert said[6]["new_dst_host"] == 'first contact with "new3.example" for this user'
    assert "new_dst_hosts_24h" not in said[6]
    # Nothing sent to new destinations in the window: no byte sentence.
    assert "new_dst_bytes_out_24h" not in said[8]
    assert said[8]["new_dst_hosts_24h"].startswith("2 destinations")
