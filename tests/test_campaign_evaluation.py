"""Campaign-level evaluation: caught or missed, time to detect, false positives by benign tag."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation.campaigns import (
    CampaignReport,
    GroupRecall,
    campaign_lab,
    campaign_report,
    campaign_table,
)
from soc_anomaly.scenarios import generate_world

T0 = pd.Timestamp("2026-01-05", tz="UTC")

# Nine events over two days. C1 (brute force, blatant) starts at 2 h, C2 (spray, subtle) at 4 h,
# C3 (brute force, subtle) at 9 h; C4 starts at 100 h, after the evaluated period.
#          hour label campaign tag              attack type       score
EVENTS = [
    (0, 0, None, "none", "normal", 0.1),
    (1, 0, None, "business_trip", "normal", 0.9),
    (2, 0, None, "password_typo", "normal", 0.2),
    (3, 1, "C1", "none", "brute_force", 0.3),
    (5, 1, "C1", "none", "brute_force", 0.8),
    (6, 1, "C2", "none", "password_spray", 0.5),
    (30, 1, "C2", "none", "password_spray", 0.6),
    (10, 1, "C3", "none", "brute_force", 0.2),
    (48, 0, None, "none", "normal", 0.7),
]
HOURS, LABELS, IDS, TAGS, KINDS, SCORES = (list(c) for c in zip(*EVENTS, strict=True))
TIMES = pd.Series([T0 + pd.Timedelta(hours=h) for h in HOURS])
MANIFEST = pd.DataFrame(
    {
        "campaign_id": ["C1", "C2", "C3", "C4"],
        "scenario": ["brute_force", "password_spray", "brute_force", "mfa_fatigue"],
        "intensity": ["blatant", "subtle", "subtle", "moderate"],
        "start": [T0 + pd.Timedelta(hours=h) for h in (2, 4, 9, 100)],
        "n_events": [2, 2, 1, 5],
    }
)
KW = {"times": TIMES, "labels": LABELS, "campaign_ids": IDS, "benign_tags": TAGS}


def report(threshold: float = 0.6, **changes) -> CampaignReport:
    kwargs = {**KW, "campaigns": MANIFEST, **changes}
    return campaign_report(kwargs.pop("scores", SCORES), threshold, **kwargs)


def by_id(r: CampaignReport) -> dict:
    return {o.campaign_id: o for o in r.outcomes}


# --------------------------------------------------------------------------- caught or missed


def test_one_event_at_the_threshold_catches_its_campaign() -> None:
    # C2's only alerting event scores exactly 0.6: caught at >=, missed just above.
    at = by_id(report(0.6))["C2"]
    assert at.caught and at.alerted_events == 1 and at.n_events == 2
    assert at.first_alert == T0 + pd.Timedelta(hours=30)
    above = by_id(report(float(np.nextafter(0.6, 1.0))))["C2"]
    assert not above.caught and above.alerted_events == 0
    assert above.first_alert is None and above.time_to_detect_hours is None


def test_time_to_detect_from_manifest_start() -> None:
    r = report(0.6)
    o = by_id(r)
    assert o["C1"].time_to_detect_hours == 3.0  # first alert at 5 h, start at 2 h
    assert o["C2"].time_to_detect_hours == 26.0  # first alert at 30 h, start at 4 h
    assert not o["C3"].caught
    assert (r.n_campaigns, r.caught, r.recall) == (3, 2, pytest.approx(2 / 3))
    assert r.median_ttd_hours == 14.5
    assert r.worst_ttd_hours == 26.0
    # At 0.3 C1's first event (3 h) alerts too, so its TTD drops to 1 h.
    assert by_id(report(0.3))["C1"].time_to_detect_hours == 1.0


def test_groups_by_scenario_and_intensity() -> None:
    r = report(0.6)
    assert r.by_scenario == {
        "brute_force": GroupRecall(n=2, caught=1, recall=0.5, median_ttd_hours=3.0),
        "password_spray": GroupRecall(n=1, caught=1, recall=1.0, median_ttd_hours=26.0),
    }
    assert r.by_intensity == {
        "blatant": GroupRecall(n=1, caught=1, recall=1.0, median_ttd_hours=3.0),
        "subtle": GroupRecall(n=2, caught=1, recall=0.5, median_ttd_hours=26.0),
    }


def test_false_positives_by_benign_tag_and_alert_rate() -> None:
    r = report(0.6)
    assert r.alerts == 4 and r.false_positives == 2
    # Every tag of the normal events is listed, zeros included, most false positives first.
    assert r.fp_by_benign_tag == {"business_trip": 1, "none": 1, "password_typo": 0}
    assert list(r.fp_by_benign_tag) == ["business_trip", "none", "password_typo"]
    assert r.alerts_per_day == 2.0  # 4 alerts over the 48 h from the first to the last event
    assert report(0.6, days=4).alerts_per_day == 1.0
    # Null and empty tags are untagged.
    assert report(0.6, benign_tags=["", None, *TAGS[2:]]).fp_by_benign_tag == {
        "none": 2,
        "password_typo": 0,
    }


def test_alerts_per_day_is_none_under_one_day() -> None:
    first_day = [h < 24 for h in HOURS]
    r = campaign_report(
        np.asarray(SCORES)[first_day],
        0.6,
        **{k: np.asarray(v, dtype=object)[first_day] for k, v in KW.items()},
        campaigns=MANIFEST,
    )
    assert r.alerts_per_day is None
    assert r.by_scenario["password_spray"].n == 1  # C2 has one event before 24 h


def test_campaign_without_evaluated_events_is_not_counted() -> None:
    r = report(0.0)
    assert "C4" not in by_id(r) and "mfa_fatigue" not in r.by_scenario
    assert "moderate" not in r.by_intensity
    assert [o.campaign_id for o in r.outcomes] == ["C1", "C2", "C3"]  # manifest order
    assert r.recall == 1.0


def test_no_campaign_at_all() -> None:
    normal = [lab == 0 for lab in LABELS]
    r = campaign_report(
        np.asarray(SCORES)[normal],
        0.5,
        **{k: np.asarray(v, dtype=object)[normal] for k, v in KW.items()},
        campaigns=MANIFEST,
    )
    assert (r.n_campaigns, r.caught, r.recall, r.outcomes) == (0, 0, 0.0, ())
    assert r.median_ttd_hours is None and r.worst_ttd_hours is None
    assert r.false_positives == 2 and campaign_table({"x": r}).loc["x", "all"] == 0.0


def test_without_manifest() -> None:
    r = campaign_report(SCORES, 0.6, **KW, attack_types=KINDS)
    o = by_id(r)
    assert [x.campaign_id for x in r.outcomes] == ["C1", "C2", "C3"]
    assert o["C1"].time_to_detect_hours == 2.0  # from its first event (3 h), not 2 h
    assert o["C2"].time_to_detect_hours == 24.0
    assert {x.intensity for x in r.outcomes} == {"unknown"}
    assert set(r.by_scenario) == {"brute_force", "password_spray"}
    bare = campaign_report(SCORES, 0.6, **KW)
    assert set(bare.by_scenario) == {"unknown"} and bare.by_scenario["unknown"].n == 3


def test_times_as_epoch_ms_naive_or_other_zone() -> None:
    expected = report(0.6)
    ms = TIMES.astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    assert report(0.6, times=ms) == expected
    assert report(0.6, times=TIMES.dt.tz_localize(None).to_numpy()) == expected
    assert report(0.6, times=TIMES.dt.tz_convert("Asia/Kolkata")) == expected
    assert by_id(expected)["C1"].first_alert.tz is not None  # always UTC


def test_manifest_start_as_strings_and_categorical_ids() -> None:
    csv_like = MANIFEST.assign(start=MANIFEST["start"].astype(str))
    ids = pd.Series(IDS, dtype="category")
    assert report(0.6, campaigns=csv_like, campaign_ids=ids) == report(0.6)


# --------------------------------------------------------------------------- serialisation


def test_to_dict_round_trip_through_json() -> None:
    for r in (report(0.6), report(0.95), campaign_report(SCORES, 0.6, **KW)):
        text = json.dumps(r.to_dict())
        back = CampaignReport.from_dict(json.loads(text))
        assert back == r
        assert back.to_dict() == r.to_dict()
    d = report(0.6).to_dict()
    assert d["outcomes"][0]["first_alert"] == "2026-01-05T05:00:00+00:00"
    assert d["by_scenario"]["brute_force"] == {
        "n": 2,
        "caught": 1,
        "recall": 0.5,
        "median_ttd_hours": 3.0,
    }


def test_from_dict_rejects_other_dicts() -> None:
    with pytest.raises(DataError, match=r"^not a campaign report \(KeyError: 'by_scenario'\)"):
        CampaignReport.from_dict({"threshold": 1.0})


# --------------------------------------------------------------------------- lab and table


def test_campaign_lab_one_report_per_rule() -> None:
    lab = campaign_lab(SCORES, {"low": 0.2, "mid": 0.6, "high": 0.95}, **KW, campaigns=MANIFEST)
    assert list(lab) == ["low", "mid", "high"]
    assert lab["mid"] == report(0.6)
    assert [r.recall for r in lab.values()] == [1.0, pytest.approx(2 / 3), 0.0]


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.floats(-5, 5), min_size=len(EVENTS), max_size=len(EVENTS)),
    thresholds=st.lists(st.floats(-6, 6), min_size=2, max_size=6),
)
def test_recall_never_rises_with_threshold(scores: list[float], thresholds: list[float]) -> None:
    rising = sorted([*thresholds, *scores[3:7]])  # campaign scores themselves: the >= boundary
    lab = campaign_lab(scores, {f"t{i}": t for i, t in enumerate(rising)}, **KW, campaigns=MANIFEST)
    reports = list(lab.values())
    for lo, hi in itertools.pairwise(reports):
        assert hi.recall <= lo.recall and hi.alerts <= lo.alerts
        assert hi.false_positives <= lo.false_positives
        for a, b in zip(lo.outcomes, hi.outcomes, strict=True):
            assert b.alerted_events <= a.alerted_events
            if b.caught:  # a higher threshold can only delay the first alert
                assert b.time_to_detect_hours >= a.time_to_detect_hours


def test_campaign_table_layout() -> None:
    bare = campaign_report(SCORES, 0.95, **KW, attack_types=KINDS, campaigns=None)
    table = campaign_table({"iforest": report(0.6), "zscore": bare})
    assert list(table.columns) == ["brute_force", "password_spray", "all", "median TTD (h)"]
    assert list(table.index) == ["iforest", "zscore"] and table.index.name == "detector"
    assert table.loc["iforest"].tolist() == [0.5, 1.0, pytest.approx(2 / 3), 14.5]
    assert table.loc["zscore", "all"] == 0.0 and np.isnan(table.loc["zscore", "median TTD (h)"])
    only_c1 = campaign_table({"x": report(0.7, campaigns=MANIFEST.iloc[[0, 1, 2]])})
    assert only_c1.loc["x", "password_spray"] == 0.0
    assert campaign_table({}, index_name="rule").empty


def test_campaign_table_nan_for_a_scenario_a_report_lacks() -> None:
    c1_only = [i for i, c in enumerate(IDS) if c in (None, "C1")]
    r = campaign_report(
        np.asarray(SCORES)[c1_only],
        0.6,
        **{k: np.asarray(v, dtype=object)[c1_only] for k, v in KW.items()},
        campaigns=MANIFEST,
    )
    table = campaign_table({"all three": report(0.6), "C1 only": r})
    assert np.isnan(table.loc["C1 only", "password_spray"])
    assert table.loc["C1 only", "brute_force"] == 1.0


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("column", ["times", "labels", "campaign_ids", "benign_tags"])
def test_columns_of_another_length(column: str) -> None:
    with pytest.raises(
        ParameterError, match=rf"^{column} has 8 values but scores has 9; expected one per event$"
    ):
        report(**{column: list(KW[column])[:8]})


def test_attack_types_of_another_length() -> None:
    with pytest.raises(ParameterError, match=r"^attack_types has 2 values but scores has 9;"):
        campaign_report(SCORES, 0.6, **KW, attack_types=["a", "b"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scores": [0.1, np.nan, *SCORES[2:]]}, r"^scores has nan at position 1; expected finite"),
        ({"scores": []}, r"^scores is empty; expected at least one score$"),
        ({"threshold": np.inf}, r"^threshold must be a finite number, got inf$"),
        ({"days": 0}, r"^days must be a positive number, got 0$"),
        (
            {"labels": [2, *LABELS[1:]]},
            r"^labels has 2 at position 0; expected 0 \(normal\) or 1 \(attack\)$",
        ),
        (
            {"campaign_ids": [*IDS[:3], None, *IDS[4:]]},
            r"^labels has 1 at position 3 but campaign_ids has no campaign there; "
            r"expected every attack event to name its campaign$",
        ),
        (
            {"campaign_ids": [*IDS[:3], "", *IDS[4:]]},
            r"^labels has 1 at position 3 but campaign_ids has no campaign there",
        ),
        (
            {"campaign_ids": [*IDS[:3], np.nan, *IDS[4:]]},
            r"^labels has 1 at position 3 but campaign_ids has no campaign there",
        ),
        (
            {"campaign_ids": ["C1", *IDS[1:]]},
            r"^labels has 0 at position 0 but campaign_ids has 'C1' there; "
            r"expected campaign events to be labelled 1$",
        ),
        (
            {"times": [str(t) for t in TIMES]},
            r"^times must be datetimes or integer epoch milliseconds, got dtype ",
        ),
        (
            {"times": [pd.NaT, *TIMES[1:]]},
            r"^times has a missing time at position 0; expected every event timed$",
        ),
    ],
)
def test_invalid_arguments(changes: dict, message: str) -> None:
    threshold = changes.pop("threshold", 0.6)
    kwargs = {**KW, "campaigns": MANIFEST, **changes}
    scores = kwargs.pop("scores", SCORES)
    if len(scores) != len(SCORES):  # an empty run is rejected before any column is compared
        kwargs = {k: [] if k in KW else v for k, v in kwargs.items()}
    with pytest.raises(ParameterError, match=message):
        campaign_report(scores, threshold, **kwargs)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            MANIFEST.iloc[[0, 2, 3]],
            r"^campaign_ids has 'C2' \(1 id\(s\) in all\) that is not in the campaigns manifest; "
            r"expected every campaign of the events to have a manifest row$",
        ),
        (
            MANIFEST.drop(columns=["intensity", "start"]),
            r"^campaigns lacks column\(s\) intensity, start; "
            r"expected a manifest with campaign_id, scenario, intensity, start$",
        ),
        (
            pd.concat([MANIFEST, MANIFEST.iloc[[1]]]),
            r"^campaigns lists 'C2' twice; expected one row per campaign$",
        ),
        (
            MANIFEST.assign(start=[MANIFEST["start"][0], pd.NaT, pd.NaT, pd.NaT]),
            r"^campaigns has a missing start; expected one per campaign$",
        ),
        (
            MANIFEST.assign(start="soon"),
            r"^campaigns' start must be timestamps; expected one per campaign$",
        ),
    ],
)
def test_invalid_manifest(manifest: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        report(campaigns=manifest)


def test_campaign_lab_invalid_thresholds() -> None:
    with pytest.raises(ParameterError, match=r"^thresholds is empty; expected at least one"):
        campaign_lab(SCORES, {}, **KW)
    with pytest.raises(ParameterError, match=r"^threshold 'p99' must be a finite number, got nan$"):
        campaign_lab(SCORES, {"p99": float("nan")}, **KW)


# --------------------------------------------------------------------------- a generated world


@pytest.fixture(scope="module")
def world():
    return generate_world(n_users=60, days=14, campaigns=6, random_state=42)


def test_generated_world(world) -> None:
    e, manifest = world.events, world.campaigns
    kw = {
        "times": e["time"],
        "labels": e["label"],
        "campaign_ids": e["campaign_id"],
        "benign_tags": e["benign_tag"],
        "campaigns": manifest,
    }
    perfect = campaign_report(e["label"].to_numpy(dtype=float), 1.0, **kw)
    assert perfect.n_campaigns == len(manifest) and perfect.recall == 1.0
    assert perfect.false_positives == 0 and perfect.alerts == int(e["label"].sum())
    assert sum(perfect.fp_by_benign_tag.values()) == 0 and "none" in perfect.fp_by_benign_tag
    assert [o.n_events for o in perfect.outcomes] == manifest["n_events"].tolist()
    for o, start in zip(perfect.outcomes, manifest["start"], strict=True):
        assert o.alerted_events == o.n_events
        # The first event of each campaign alerts, at (or within a millisecond of) its start.
        assert o.first_alert >= start.floor("ms") and o.time_to_detect_hours < 1e-6
    assert perfect.alerts_per_day == pytest.approx(perfect.alerts / 14, rel=0.01)
    json.dumps(perfect.to_dict())
    # The first week is the clean baseline: no campaign there, so none is counted or missed.
    first_week = (e["time"] < e["time"].min() + pd.Timedelta(days=7)).to_numpy()
    quiet = campaign_report(
        np.zeros(first_week.sum()),
        1.0,
        **{k: v[first_week] if k != "campaigns" else v for k, v in kw.items()},
    )
    assert quiet.n_campaigns == 0 and quiet.alerts == 0
