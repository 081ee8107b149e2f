"""The daily alert queue: one alert per user and clock hour, the day's top alerts raised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.alert_queue import QUEUE_RULE, daily_queue, queue_report
from soc_anomaly.evaluation.campaigns import campaign_report

T0 = pd.Timestamp("2026-01-05", tz="UTC")  # midnight UTC, a Monday
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR


def at(*minutes: float) -> pd.Series:
    """Times ``minutes`` after T0 (UTC midnight)."""
    return pd.Series([T0 + pd.Timedelta(minutes=m) for m in minutes])


def queue(events: list[tuple[float, str, float]], per_day: float) -> tuple[list[bool], int]:
    """``daily_queue`` of (minute, entity, score) rows, the mask as a plain list."""
    minutes, entities, scores = zip(*events, strict=True)
    alerted, n = daily_queue(list(scores), at(*minutes), list(entities), per_day)
    assert alerted.dtype == bool and alerted.shape == (len(events),)
    return alerted.tolist(), n


# --------------------------------------------------------------------------- suppression


def test_one_users_events_in_one_clock_hour_are_one_alert() -> None:
    events = [
        (10 * 60 + 5, "alice", 0.9),
        (10 * 60 + 30, "alice", 0.1),  # low, but in the same user-hour as the 0.9
        (10 * 60 + 59, "alice", 0.2),
        (11 * 60 + 1, "alice", 0.3),  # two minutes later, but the next clock hour
        (9 * 60 + 59, "alice", 0.05),
    ]
    assert queue(events, 1) == ([True, True, True, False, False], 1)
    # With room for everything, each clock hour is still one alert.
    assert queue(events, 10) == ([True] * 5, 3)


def test_another_user_in_the_same_hour_is_another_alert() -> None:
    events = [(10 * 60 + 5, "alice", 0.9), (10 * 60 + 10, "bob", 0.8), (10 * 60 + 20, "alice", 0)]
    assert queue(events, 1) == ([True, False, True], 1)
    assert queue(events, 2) == ([True, True, True], 2)


def test_an_alert_is_scored_by_its_highest_event() -> None:
    # alice's hour holds one 0.9 among lows; bob's hour a steady 0.5: alice's alert wins.
    events = [(60, "alice", 0.0), (61, "alice", 0.9), (62, "alice", 0.0)]
    events += [(120 + k, "bob", 0.5) for k in range(5)]
    assert queue(events, 1) == ([True] * 3 + [False] * 5, 1)


def test_entities_are_compared_as_strings_and_may_be_numbers() -> None:
    alerted, n = daily_queue([0.9, 0.1, 0.5], at(0, 1, 2), [7, 7, 8], 1)
    assert alerted.tolist() == [True, True, False] and n == 1


# --------------------------------------------------------------------------- daily capacity


def test_capacity_is_per_utc_day() -> None:
    # A busy Monday (five users, high scores) and a quiet Tuesday (one low alert).
    monday = [(10 * 60 + k, user, 0.9 - k / 10) for k, user in enumerate("abcde")]
    tuesday = [(24 * 60 + 30, "f", 0.01)]
    alerted, n = queue(monday + tuesday, 2)
    assert alerted == [True, True, False, False, False, True] and n == 3


def test_days_split_at_utc_midnight() -> None:
    # 23:30 and 00:30 UTC are two days, each with room for one alert.
    assert queue([(23 * 60 + 30, "a", 0.9), (24 * 60 + 30, "b", 0.1)], 1) == ([True, True], 2)
    # The same two instants read in New York (18:30 and 19:30 local, one local day) are
    # still two UTC days; two local instants on either side of local midnight one UTC day.
    ny = at(23 * 60 + 30, 24 * 60 + 30).dt.tz_convert("America/New_York")
    assert daily_queue([0.9, 0.1], ny, ["a", "b"], 1)[1] == 2
    local = at(4 * 60 + 30, 5 * 60 + 30).dt.tz_convert("America/New_York")  # 23:30, 00:30 EST
    assert daily_queue([0.9, 0.1], local, ["a", "b"], 1)[1] == 1


def test_times_as_epoch_ms_naive_or_zoned_agree() -> None:
    scores, entities = [0.3, 0.9, 0.5, 0.8], ["a", "b", "a", "c"]
    zoned = at(10, 20, 24 * 60 + 10, 24 * 60 + 70)
    expected = daily_queue(scores, zoned, entities, 1)
    epoch_ms = pd.DatetimeIndex(zoned).as_unit("ms").asi8
    naive = zoned.dt.tz_localize(None)
    for times in (epoch_ms, naive, zoned.dt.tz_convert("Asia/Tokyo")):
        alerted, n = daily_queue(scores, times, entities, 1)
        assert alerted.tolist() == expected[0].tolist() and n == expected[1] == 2


@pytest.mark.parametrize(
    ("per_day", "raised"),
    [(0.3, 1), (1, 1), (1.99, 1), (2, 2), (2.9, 2), (3.0, 3), (50, 4)],
)
def test_per_day_rounds_down_to_at_least_one(per_day: float, raised: int) -> None:
    events = [(60 * k, user, 1.0 - k / 10) for k, user in enumerate("abcd")]
    alerted, n = queue(events, per_day)
    assert n == raised
    assert alerted == [k < raised for k in range(4)]  # the highest-scoring first


# --------------------------------------------------------------------------- ties


def test_ties_go_to_the_earlier_alert_whatever_the_row_order() -> None:
    early, late = (9 * 60, "bob", 0.7), (15 * 60, "alice", 0.7)
    assert queue([early, late], 1) == ([True, False], 1)
    assert queue([late, early], 1) == ([False, True], 1)
    # Deterministic: the same inputs give the same alerts every time.
    first = queue([late, early, (16 * 60, "carol", 0.7)], 2)
    assert all(queue([late, early, (16 * 60, "carol", 0.7)], 2) == first for _ in range(3))
    assert first == ([True, True, False], 2)


def test_tie_inside_an_alert_takes_its_earliest_top_event() -> None:
    # alice's two 0.7 events: the alert's time is 09:10 (earlier than bob's 09:20), so it wins.
    events = [(9 * 60 + 50, "alice", 0.7), (9 * 60 + 20, "bob", 0.7), (9 * 60 + 10, "alice", 0.7)]
    assert queue(events, 1) == ([True, False, True], 1)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("scores", "times", "entities", "per_day", "message"),
    [
        ([0.1, 0.2], at(0), ["a", "b"], 1, "times has 1 values but scores has 2"),
        ([0.1, 0.2], at(0, 1), ["a"], 1, r"entities has shape \(1,\) but scores has \(2,\)"),
        ([0.1, np.nan], at(0, 1), ["a", "b"], 1, "scores has non-finite values"),
        ([0.1, np.inf], at(0, 1), ["a", "b"], 1, "scores has non-finite values"),
        ([0.1, 0.2], at(0, 1), ["a", "b"], 0, "per_day must be a positive number, got 0"),
        ([0.1, 0.2], at(0, 1), ["a", "b"], -2.5, "per_day must be a positive number, got -2.5"),
        ([0.1, 0.2], at(0, 1), ["a", "b"], np.nan, "per_day must be a finite number"),
        ([0.1, 0.2], at(0, 1), ["a", "b"], True, "per_day must be a number, got True"),
        ([0.1, 0.2], [None, T0], ["a", "b"], 1, "times has a missing time at position 0"),
    ],
)
def test_invalid_arguments(scores, times, entities, per_day, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        daily_queue(scores, times, entities, per_day)


def test_queue_report_passes_the_same_errors_on() -> None:
    kw = {"times": at(0, 1), "labels": [0, 0], "campaign_ids": [None, None]}
    with pytest.raises(ParameterError, match="per_day must be a positive number"):
        queue_report([0.1, 0.2], entities=["a", "b"], per_day=0, benign_tags=["", ""], **kw)
    with pytest.raises(ParameterError, match="benign_tags has 1 values but scores has 2"):
        queue_report([0.1, 0.2], entities=["a", "b"], per_day=1, benign_tags=[""], **kw)


# --------------------------------------------------------------------------- queue_report

# Two days, one alert a day. Monday: alice's 10:00 hour holds a 0.9 normal event (a business
# trip), a 0.05 event of campaign C1 and a 0.1 normal one; bob's C2 event at 11:00 scores 0.8
# but is the day's second alert. Tuesday: bob's 0.4 C2 event at 09:00 is the day's top alert.
#          minute      user    label campaign tag              score
REPORT_EVENTS = [
    (10 * 60 + 5, "alice", 0, None, "business_trip", 0.9),
    (10 * 60 + 20, "alice", 1, "C1", "none", 0.05),
    (10 * 60 + 40, "alice", 0, None, "none", 0.1),
    (11 * 60, "bob", 1, "C2", "none", 0.8),
    (12 * 60, "carol", 0, None, "none", 0.3),
    (33 * 60, "bob", 1, "C2", "none", 0.4),
    (39 * 60, "carol", 0, None, "password_typo", 0.2),
]
R_MIN, R_USER, R_LABEL, R_ID, R_TAG, R_SCORE = (list(c) for c in zip(*REPORT_EVENTS, strict=True))
R_KW = {"times": at(*R_MIN), "labels": R_LABEL, "campaign_ids": R_ID, "benign_tags": R_TAG}
R_MANIFEST = pd.DataFrame(
    {
        "campaign_id": ["C1", "C2"],
        "scenario": ["brute_force", "password_spray"],
        "intensity": ["subtle", "blatant"],
        "start": [T0 + pd.Timedelta(hours=10), T0 + pd.Timedelta(hours=11)],
    }
)


def test_queue_alerts_of_the_report_events() -> None:
    alerted, n = daily_queue(R_SCORE, R_KW["times"], R_USER, 1)
    assert alerted.tolist() == [True, True, True, False, False, True, False] and n == 2


def test_a_campaign_is_caught_through_the_alert_it_shares() -> None:
    r = queue_report(R_SCORE, entities=R_USER, per_day=1, campaigns=R_MANIFEST, **R_KW)
    c1, c2 = r.outcomes
    # C1's own event scores 0.05, but it is in alice's raised 10:00 alert.
    assert c1.campaign_id == "C1" and c1.caught and c1.alerted_events == 1
    assert c1.first_alert == T0 + pd.Timedelta(minutes=10 * 60 + 20)
    assert c1.time_to_detect_hours == pytest.approx(20 / 60)
    # C2's 0.8 on Monday lost to alice's 0.9; its 0.4 on Tuesday had the day to itself.
    assert c2.caught and c2.alerted_events == 1 and c2.n_events == 2
    assert c2.time_to_detect_hours == pytest.approx(22.0)
    assert (r.n_campaigns, r.caught, r.recall) == (2, 2, 1.0)
    assert r.median_ttd_hours == pytest.approx((20 / 60 + 22) / 2)
    assert r.worst_ttd_hours == pytest.approx(22.0)
    # With room for two alerts a day, C2 is caught on Monday.
    fast = queue_report(R_SCORE, entities=R_USER, per_day=2, campaigns=R_MANIFEST, **R_KW)
    assert fast.outcomes[1].time_to_detect_hours == pytest.approx(0.0)


def test_alerts_count_alerts_and_false_positives_count_normal_events_in_them() -> None:
    r = queue_report(R_SCORE, entities=R_USER, per_day=1, days=2, campaigns=R_MANIFEST, **R_KW)
    assert r.alerts == 2  # alice's Monday 10:00 and bob's Tuesday 09:00, four events in all
    assert r.alerts_per_day == pytest.approx(1.0)
    # alice's 0.9 (business trip) and 0.1 (untagged) rode in her alert; carol never alerted.
    assert r.false_positives == 2
    assert r.fp_by_benign_tag == {"business_trip": 1, "none": 1, "password_typo": 0}
    # Four events are in those two alerts; a threshold report would count each event.
    assert daily_queue(R_SCORE, R_KW["times"], R_USER, 1)[0].sum() == 4
    assert campaign_report(R_SCORE, 0.4, campaigns=R_MANIFEST, **R_KW).alerts == 3
    # Without days the period is first to last event: 10:05 Monday to 15:00 Tuesday.
    span = queue_report(R_SCORE, entities=R_USER, per_day=1, **R_KW)
    assert span.alerts_per_day == pytest.approx(2 / ((39 * 60 - 10 * 60 - 5) / (24 * 60)))


def test_threshold_is_the_lowest_raised_score() -> None:
    # One event per alert: the lowest raised score is the lowest raised alert.
    scores = [0.9, 0.6, 0.7, 0.2, 0.3]
    kw = {
        "times": at(60, 120, 24 * 60, 24 * 60 + 60, 48 * 60),
        "labels": [0, 1, 0, 0, 1],
        "campaign_ids": [None, "C1", None, None, "C2"],
        "benign_tags": ["none"] * 5,
    }
    r = queue_report(scores, entities=list("abcde"), per_day=1, **kw)
    assert r.threshold == 0.3 and r.alerts == 3
    assert [o.caught for o in r.outcomes] == [False, True]
    r2 = queue_report(scores, entities=list("abcde"), per_day=2, **kw)
    assert r2.threshold == 0.2 and r2.alerts == 5 and r2.recall == 1.0


def test_queue_report_round_trips_like_a_campaign_report() -> None:
    r = queue_report(R_SCORE, entities=R_USER, per_day=1, campaigns=R_MANIFEST, **R_KW)
    assert type(r).from_dict(r.to_dict()) == r
    assert QUEUE_RULE == "daily_queue"


# --------------------------------------------------------------------------- properties

EVENT = st.tuples(
    st.integers(0, 3 * MS_PER_DAY - 1),  # within three UTC days of T0, in ms
    st.sampled_from(["a", "b", "c", "d"]),
    st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(-5, 5)),  # ties are common
)


@settings(max_examples=25, deadline=None)
@given(
    events=st.lists(EVENT, min_size=1, max_size=40),
    budgets=st.lists(st.floats(0.01, 12), min_size=2, max_size=3),
)
def test_more_capacity_never_unraises_an_alert(
    events: list[tuple[int, str, float]], budgets: list[float]
) -> None:
    offsets, entities, scores = (list(c) for c in zip(*events, strict=True))
    times = T0.value // 1_000_000 + np.asarray(offsets, dtype=np.int64)  # epoch ms
    hours = times // MS_PER_HOUR
    days = len(set((times // MS_PER_DAY).tolist()))
    groups = list(zip(hours.tolist(), entities, strict=True))
    previous, previous_n = np.zeros(len(events), dtype=bool), 0
    for per_day in sorted(budgets):
        alerted, n = daily_queue(scores, times, entities, per_day)
        assert not (previous & ~alerted).any()  # monotone in per_day
        assert previous_n <= n <= max(int(per_day), 1) * days
        # An alert is a whole (user, hour): its events are raised together, and counted once.
        raised = {g for g, a in zip(groups, alerted, strict=True) if a}
        assert all(a == (g in raised) for g, a in zip(groups, alerted, strict=True))
        assert n == len(raised)
        previous, previous_n = alerted, n
    # Enough capacity raises every alert.
    assert daily_queue(scores, times, entities, len(events))[0].all()


def test_ties_on_score_and_time_go_to_the_first_entity_whatever_the_row_order() -> None:
    for entities in (["b", "a"], ["a", "b"]):
        alerted, n = daily_queue([1.0, 1.0], at(0, 0), entities, per_day=1)
        assert n == 1
        assert [e for e, hit in zip(entities, alerted, strict=True) if hit] == ["a"]


def test_queue_threshold_is_the_lowest_raised_alert_score() -> None:
    # Day 1: alert u1 (0.9, carrying a 0.05 event) and alert u2 (0.4); one slot a day.
    times = at(0, 1, 30, 24 * 60)
    report = queue_report(
        [0.9, 0.05, 0.3, 0.4],
        entities=["u1", "u1", "u2", "u3"],
        per_day=1,
        times=times,
        labels=[0, 0, 0, 0],
        campaign_ids=[None] * 4,
        benign_tags=["none"] * 4,
    )
    assert report.alerts == 2
    assert report.threshold == pytest.approx(0.4)
    assert report.false_positives == 3  # u1's two events and u3's
