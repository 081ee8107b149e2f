"""The incident linker's rules on small hand-built event tables (issue 18, items 2 and 9).

Each case builds raw events with the enterprise world's columns and gives their
calibrated scores (0-100) directly, so every rule of the module docstring of
:mod:`soc_anomaly.incidents.linker` is checked on events small enough to reason about.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.incidents import LINK_ORDER, IncidentLinker, common_entities
from soc_anomaly.incidents.linker import evidence
from soc_anomaly.scenarios import generate_world

T0 = pd.Timestamp("2026-01-12", tz="UTC")  # midnight UTC, a Monday
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
VPN = "198.51.100.1"  # the corporate VPN egress: every account's logons come through it
SSO = "sso.corp.example"  # the single sign-on service every account logs on to
COLUMNS = (
    "time",
    "class_uid",
    "user",
    "src_ip",
    "src_host",
    "dst_host",
    "dst_ip",
    "status",
    "is_mfa",
    "bytes_out",
    "direction",
    "label",
    "campaign_id",
    "benign_tag",
)


def logon(
    hours: float,
    user: str | None,
    src_ip: str | None = None,
    *,
    host: str | None = None,
    dst: str = SSO,
    status: str = "Success",
    mfa: bool = False,
    campaign: str | None = None,
) -> dict[str, object]:
    """One authentication event ``hours`` after T0."""
    return {
        "time": T0 + pd.Timedelta(hours=hours),
        "class_uid": 3002,
        "user": user,
        "src_ip": src_ip,
        "src_host": host,
        "dst_host": dst,
        "dst_ip": None,
        "status": status,
        "is_mfa": mfa,
        "bytes_out": None,
        "direction": None,
        "label": int(campaign is not None),
        "campaign_id": campaign,
        "benign_tag": "none",
    }


def flow(
    hours: float,
    host: str | None,
    dst: str,
    *,
    user: str | None = None,
    src_ip: str | None = None,
    bytes_out: float = 1_000.0,
    direction: str = "Lateral",
) -> dict[str, object]:
    """One network flow ``hours`` after T0 (no account unless ``user`` is given)."""
    return {
        "time": T0 + pd.Timedelta(hours=hours),
        "class_uid": 4001,
        "user": user,
        "src_ip": src_ip,
        "src_host": host,
        "dst_host": dst,
        "dst_ip": None,
        "status": "Success",
        "is_mfa": None,
        "bytes_out": bytes_out,
        "direction": direction,
        "label": 0,
        "campaign_id": None,
        "benign_tag": "none",
    }


def table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Raw events with the world's columns, ``time`` as UTC datetimes."""
    events = pd.DataFrame(rows, columns=list(COLUMNS))
    events["time"] = pd.to_datetime(events["time"], utc=True).dt.as_unit("ms")
    return events


def training(n_accounts: int = 12) -> pd.DataFrame:
    """A training window: every account logs on to the SSO through the VPN from its own host."""
    rows = [logon(-48 + i / 10, f"staff{i}", VPN, host=f"WS-{i:03d}") for i in range(n_accounts)]
    return table(rows)


@pytest.fixture(scope="module")
def linker() -> IncidentLinker:
    return IncidentLinker(candidate_score=95.0).fit(training())


def e(score: float, candidate: float = 95.0) -> float:
    """The evidence of one calibrated score, from the docstring's formula."""
    return -math.log10(1 - score / 100) + math.log10(1 - candidate / 100)


# -- candidates and the score -----------------------------------------------------------------


def test_a_spray_over_many_accounts_is_one_incident_whose_score_grows_with_the_accounts(
    linker: IncidentLinker,
) -> None:
    def spray(n: int) -> tuple[np.ndarray, float]:
        rows = [logon(1 + i / 60, f"victim{i}", "203.0.113.7", status="Failure") for i in range(n)]
        result = linker.run(table(rows), [96.0] * n)
        return result.incident_ids, float(result.incident_scores[-1])

    ids, score10 = spray(10)
    assert len(set(ids)) == 1 and ids[0] == "INC-20260112-0001"
    _, score3 = spray(3)
    # Ten accounts in one clock hour are ten units: S = e + 0.25 * 9 e.
    assert score10 == pytest.approx(e(96) * (1 + 0.25 * 9), rel=1e-12)
    assert score3 == pytest.approx(e(96) * (1 + 0.25 * 2), rel=1e-12)
    assert score10 > score3


def test_one_extreme_event_outranks_a_broad_spray_of_near_candidates(
    linker: IncidentLinker,
) -> None:
    rows = [logon(1 + i / 60, f"victim{i}", "203.0.113.7", status="Failure") for i in range(20)]
    rows.append(logon(1.5, "staff3", "192.0.2.99", host="WS-003"))
    result = linker.run(table(rows), [95.5] * 20 + [99.99])
    spray_score, extreme_score = result.incident_scores[19], result.incident_scores[20]
    assert result.incident_ids[19] != result.incident_ids[20]
    assert extreme_score == pytest.approx(e(99.99)) and extreme_score > spray_score


def test_the_score_formula_on_three_events(linker: IncidentLinker) -> None:
    # a at 99 and b at 97 in one clock hour, then b again at 98 in that hour (one unit, best kept).
    source = "203.0.113.8"
    rows = [
        logon(2.1, "a", source, status="Failure"),
        logon(2.2, "b", source, status="Failure"),
        logon(2.3, "b", source, status="Failure"),
    ]
    result = linker.run(table(rows), [99.0, 97.0, 98.0])
    assert e(99) == pytest.approx(0.69897, abs=1e-5)  # "a score of 99 adds 0.7"
    expected = [e(99), e(99) + 0.25 * e(97), e(99) + 0.25 * e(98)]
    np.testing.assert_allclose(result.incident_scores, expected, rtol=1e-12)
    np.testing.assert_allclose(
        evidence(np.array([99.99, 100.0]), 95.0), [e(99.99), 12 - 1.30103], rtol=1e-5
    )
    # A weaker event in a unit that already holds a stronger one adds nothing.
    again = linker.run(table(rows), [99.0, 98.0, 97.0])
    assert again.incident_scores[2] == pytest.approx(e(99) + 0.25 * e(98), rel=1e-12)
    # Another clock hour of the same account is another unit.
    later = linker.run(
        table([*rows[:2], logon(3.1, "b", source, status="Failure")]), [99.0, 97.0, 98.0]
    )
    assert later.incident_scores[2] == pytest.approx(e(99) + 0.25 * (e(97) + e(98)), rel=1e-12)


def test_events_below_the_candidate_score_join_nothing(linker: IncidentLinker) -> None:
    rows = [logon(1 + i / 60, f"victim{i}", "203.0.113.7", status="Failure") for i in range(4)]
    result = linker.run(table(rows), [94.99, 95.0, 10.0, 99.0])
    assert result.incident_ids[0] is None and result.incident_ids[2] is None
    assert np.isnan(result.incident_scores[[0, 2]]).all()
    assert result.incident_ids[1] == result.incident_ids[3] is not None
    # A score exactly at the candidate level is a candidate with no evidence.
    assert result.incident_scores[1] == 0.0


# -- which entities link ----------------------------------------------------------------------


def test_common_entities_learn_the_cut_exactly() -> None:
    # 250 principals at 1%: cut max(2, ceil(2.5)) = 3; an entity touched by 3 is rare, by 4 common.
    rows = [logon(-10, f"u{i}", f"10.0.0.{i}") for i in range(250)]
    for i in range(3):
        rows.append(logon(-9, f"u{i}", "192.0.2.3", host="HOST-3", dst="srv-3"))
    for i in range(4):
        rows.append(logon(-9, f"u{i}", "192.0.2.4", host="HOST-4", dst="srv-4"))
    common = common_entities(table(rows), 0.01)
    assert "account" not in common  # accounts are never common
    assert common["address"] == ["192.0.2.4"]
    assert common["host"] == ["HOST-4"]
    assert common["destination"] == ["srv-4", SSO]  # sorted
    # Few principals: the cut is at least 2 (an entity of 2 is rare, of 3 common).
    few = [logon(-10, f"u{i}", VPN if i < 3 else "192.0.2.2") for i in range(5)]
    assert common_entities(table(few), 0.01)["address"] == [VPN]
    # A flow without an account counts its source host as the principal.
    flows = [flow(-10, f"WS-{i}", "fileserver") for i in range(3)]
    assert common_entities(table(flows), 0.5)["destination"] == ["fileserver"]  # 3 > max(2, 2)
    assert common_entities(table(flows), 1.0)["destination"] == []  # 3 is not > 3


def test_campaigns_through_the_vpn_and_the_sso_are_not_merged(linker: IncidentLinker) -> None:
    assert VPN in linker.common_["address"] and SSO in linker.common_["destination"]
    rows = [
        logon(1.0, "alice", VPN),
        logon(1.1, "bob", VPN),
        logon(1.2, "alice", VPN),
        logon(1.3, "bob", VPN),
    ]
    ids = linker.run(table(rows), [99.0] * 4).incident_ids
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[0] != ids[1]
    # The same through an address and a service new since training: one incident.
    new = [{**r, "src_ip": "203.0.113.9", "dst_host": "new.example"} for r in rows]
    assert len(set(linker.run(table(new), [99.0] * 4).incident_ids)) == 1
    only_dst = [{**r, "dst_host": "new.example"} for r in rows]
    assert len(set(linker.run(table(only_dst), [99.0] * 4).incident_ids)) == 1


def test_a_chain_across_accounts_is_followed(linker: IncidentLinker) -> None:
    rows = [
        logon(1.0, "victim", "203.0.113.7", status="Failure"),  # address A fails on account X
        logon(1.5, "victim", "203.0.113.7"),  # A gets in as X
        logon(2.0, "victim", VPN, host="WS-EVIL"),  # X logs on from host H (VPN: common)
        flow(3.0, "WS-EVIL", "db-01", src_ip="10.9.0.1"),  # H connects to server S
    ]
    result = linker.run(table(rows), [99.0] * 4)
    assert len(set(result.incident_ids)) == 1
    incident = result.raised[0]
    assert incident.events == [0, 1, 2, 3]
    assert incident.entities == {
        "account": ["victim"],
        "host": ["WS-EVIL"],
        "address": ["203.0.113.7", VPN, "10.9.0.1"],
        "destination": [SSO, "db-01"],
    }


def test_a_failed_logon_does_not_link_through_the_account_it_tried(
    linker: IncidentLinker,
) -> None:
    rows = [
        logon(1.0, "victim", "203.0.113.7", status="Failure"),  # a stuffing bot
        logon(1.1, "victim", "198.51.100.99", status="Failure"),  # a sprayer, unrelated
        logon(1.2, "other", "198.51.100.99", status="Failure"),  # the sprayer again
        logon(1.3, "victim", "203.0.113.7"),  # the bot gets in: its own address links it
    ]
    ids = linker.run(table(rows), [99.0] * 4).incident_ids
    assert ids[0] == ids[3] != ids[1] == ids[2]
    # A success links through its account: a later logon of the victim from elsewhere joins.
    later = [*rows, logon(1.4, "victim", "192.0.2.200")]
    ids = linker.run(table(later), [99.0] * 5).incident_ids
    assert ids[4] == ids[3]


def test_the_window_and_the_span_split_a_chain() -> None:
    fitted = IncidentLinker(candidate_score=95.0, window_hours=2.0, span_hours=3.0).fit(training())
    chain = [
        logon(1.0, "victim", "203.0.113.7"),
        logon(3.0, "victim", VPN, host="WS-EVIL"),  # 2 h later: within the window
        flow(4.5, "WS-EVIL", "db-01"),  # 1.5 h later, but 3.5 h after the first: beyond the span
    ]
    ids = fitted.run(table(chain), [99.0] * 3).incident_ids
    assert ids[0] == ids[1] != ids[2]
    late = [chain[0], {**chain[1], "time": T0 + pd.Timedelta(hours=3.01)}]
    ids = fitted.run(table(late), [99.0] * 2).incident_ids
    assert ids[0] != ids[1]  # a gap just over the window


def test_an_event_matching_two_incidents_joins_the_first_in_link_order(
    linker: IncidentLinker,
) -> None:
    assert LINK_ORDER == ("host", "address", "account", "destination")
    rows = [
        logon(1.0, "x", "203.0.113.1", host="WS-A"),  # incident 1: host WS-A, account x
        logon(1.1, "y", "203.0.113.2", host="WS-B"),  # incident 2: address .2, account y
        logon(1.2, "y", "203.0.113.3", host="WS-A"),  # host WS-A (1) before account y (2)
        logon(1.3, "x", "203.0.113.2"),  # address .2 (2) before account x (1)
    ]
    result = linker.run(table(rows), [99.0] * 4)
    ids = result.incident_ids
    assert ids[0] != ids[1]
    assert ids[2] == ids[0] and ids[3] == ids[1]
    # Not merged: each keeps its own events.
    assert sorted(len(i.events) for i in linker.run(table(rows), [99.0] * 4, 500).raised) == [2, 2]


# -- the daily queue --------------------------------------------------------------------------


def test_the_daily_budget_scales_with_the_staff() -> None:
    fitted = IncidentLinker(candidate_score=95.0).fit(training(120))
    assert fitted.n_staff_ == 120 and fitted.per_day() == 2  # int(10 * 120 / 500)
    assert fitted.per_day(100) == 24
    assert fitted.per_day(0.1) == 1  # at least one
    assert (
        IncidentLinker(candidate_score=95.0, incidents_per_day=25)
        .fit(training(), n_staff=1000)
        .per_day()
        == 50
    )
    # Failed logons do not make staff.
    failed = table([logon(-5, f"nobody{i}", VPN, status="Failure") for i in range(5)])
    assert IncidentLinker(candidate_score=95.0).fit(pd.concat([training(3), failed])).n_staff_ == 3


def test_each_day_raises_its_top_incidents_ties_by_first_time_then_number() -> None:
    fitted = IncidentLinker(candidate_score=95.0, incidents_per_day=2).fit(
        training(), n_staff=500
    )  # 2 a day
    rows = [
        logon(1.0, "a", "203.0.113.1"),  # 0001: tied with 0002, earlier: raised
        logon(2.0, "b", "203.0.113.2"),  # 0002
        logon(2.0, "c", "203.0.113.3"),  # 0003: same time as 0002, later number
        logon(3.0, "d", "203.0.113.4"),  # 0004: highest: raised first
    ]
    result = fitted.run(table(rows), [99.0, 99.0, 99.0, 99.9])
    assert [i.incident_id for i in result.raised] == ["INC-20260112-0004", "INC-20260112-0001"]
    assert [i.rank for i in result.raised] == [1, 2]
    assert result.per_day == 2
    fitted.incidents_per_day = 3
    result = fitted.run(table(rows), [99.0, 99.0, 99.0, 99.9])
    assert result.raised[-1].incident_id == "INC-20260112-0002"  # before 0003 at the same time
    # Deterministic ids.
    assert list(fitted.run(table(rows), [99.0, 99.0, 99.0, 99.9]).incident_ids) == [
        f"INC-20260112-{k:04d}" for k in (1, 2, 3, 4)
    ]


def test_an_incident_raised_once_spends_no_budget_again() -> None:
    fitted = IncidentLinker(candidate_score=95.0, incidents_per_day=1).fit(
        training(), n_staff=500
    )  # 1 a day
    rows = [
        logon(20.0, "x", "203.0.113.1"),  # day 1: raised
        logon(26.0, "x", "203.0.113.1"),  # day 2: joins it, higher again
        logon(27.0, "y", "203.0.113.2"),  # day 2: a weaker incident, raised on day 2
    ]
    result = fitted.run(table(rows), [99.0, 99.99, 96.0])
    assert result.incident_ids[0] == result.incident_ids[1] == "INC-20260112-0001"
    assert result.incident_ids[2] == "INC-20260113-0001"
    assert [i.incident_id for i in result.raised] == ["INC-20260112-0001", "INC-20260113-0001"]
    first = result.raised[0]
    assert first.events == [0, 1] and first.raised_at_ms == _ms(20.0)
    assert first.score == pytest.approx(e(99.99) + 0.25 * e(99))


def _ms(hours: float) -> int:
    return int((T0 + pd.Timedelta(hours=hours)).value // 1_000_000)


def test_raised_at_is_when_the_score_first_reached_the_days_cut() -> None:
    fitted = IncidentLinker(candidate_score=95.0, incidents_per_day=2).fit(
        training(), n_staff=500
    )  # 2 a day
    rows = [
        logon(9.0, "c", "203.0.113.3"),  # C: 97, not raised
        logon(10.0, "a", "203.0.113.1"),  # A: weak at first ...
        logon(11.0, "b", "203.0.113.2"),  # B: 99, the day's cut
        logon(12.0, "a", "203.0.113.1"),  # ... A passes the cut only here
    ]
    result = fitted.run(table(rows), [97.0, 96.0, 99.0, 99.9])
    raised = {i.incident_id: i for i in result.raised}
    a, b = raised["INC-20260112-0002"], raised["INC-20260112-0003"]
    assert (a.rank, b.rank) == (1, 2)
    assert a.raised_at_ms == _ms(12.0) and b.raised_at_ms == _ms(11.0)
    assert a.to_dict()["raised_at"] == "2026-01-12T12:00:00+00:00"


def test_raised_at_is_not_before_the_day_it_was_raised() -> None:
    fitted = IncidentLinker(candidate_score=95.0, incidents_per_day=1).fit(
        training(), n_staff=500
    )  # 1 a day
    rows = [
        logon(20.0, "x", "203.0.113.1"),  # day 1: X, raised
        logon(21.0, "y", "203.0.113.2"),  # day 1: Y, second: not raised
        logon(25.0, "y", "203.0.113.2"),  # day 2: joins Y with no evidence (score 95)
    ]
    result = fitted.run(table(rows), [99.9, 99.0, 95.0])
    y = result.raised[1]
    assert y.incident_id == "INC-20260112-0002" and y.score == pytest.approx(e(99))
    assert y.raised_at_ms == _ms(24.0)  # reached its score on day 1, raised when day 2 began


# -- streams ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_world() -> tuple[IncidentLinker, pd.DataFrame, np.ndarray]:
    """A linker fitted on a small world's training days, and every 20th later event, scored.

    Half the scores are candidates (from a fixed RNG), so incidents form and span days;
    few rows keep chunks of one row fast.
    """
    world = generate_world(n_users=40, days=8, random_state=3, campaigns=3)
    events = world.events
    train = events[(events["time"] < world.attack_start) & (events["label"] == 0)]
    fitted = IncidentLinker(candidate_score=95.0).fit(train)
    later = events[events["time"] >= world.attack_start]
    scored = later.loc[:, list(COLUMNS)].iloc[::20].reset_index(drop=True)
    rng = np.random.default_rng(0)
    n = len(scored)
    scores = np.where(rng.random(n) < 0.5, rng.uniform(94, 100, n), rng.uniform(0, 90, n))
    return fitted, scored, scores


def _stream(
    fitted: IncidentLinker, events: pd.DataFrame, scores: np.ndarray, bounds: list[int]
) -> tuple[list[object], np.ndarray, list[dict[str, object]]]:
    """Link ``events`` in chunks ending at ``bounds``: ids, incident scores, raised incidents."""
    state = fitted.start(60)  # 4 a day for the world's 40 staff
    ids: list[object] = []
    inc_scores: list[float] = []
    closed = []
    for lo, hi in zip([0, *bounds[:-1]], bounds, strict=True):
        chunk = fitted.link(events.iloc[lo:hi], scores[lo:hi], state)
        ids.extend(chunk.incident_ids)
        inc_scores.extend(chunk.incident_scores)
        closed.extend(chunk.closed)
    closed.extend(fitted.finish(state))
    raised = sorted((i.to_dict() for i in closed), key=lambda d: d["incident_id"])
    return ids, np.asarray(inc_scores), raised


def test_a_stream_gives_the_same_incidents_whatever_its_chunk_size(small_world) -> None:
    fitted, events, scores = small_world
    n = len(events)
    ids, inc_scores, raised = _stream(fitted, events, scores, [n])
    days = {d["raised_at"][:10] for d in raised}
    assert len(days) >= 3 and any(d["n_events"] > 1 for d in raised)
    uneven = np.cumsum(np.random.default_rng(1).integers(1, 40, n)).tolist()
    for bounds in ([*range(1, n), n], [*range(7, n, 7), n], [*[b for b in uneven if b < n], n]):
        other = _stream(fitted, events, scores, bounds)
        assert other[0] == ids
        np.testing.assert_array_equal(other[1], inc_scores)
        assert other[2] == raised
    whole = fitted.run(events, scores, 60)
    assert list(whole.incident_ids) == ids
    assert sorted(i.incident_id for i in whole.raised) == [d["incident_id"] for d in raised]


def test_events_going_back_to_an_earlier_day_are_refused(linker: IncidentLinker) -> None:
    state = linker.start()
    linker.link(table([logon(30.0, "x", "203.0.113.1")]), [99.0], state)
    with pytest.raises(DataError, match="earlier day") as err:
        linker.link(table([logon(20.0, "x", "203.0.113.1")]), [99.0], state)
    assert "\n" not in str(err.value)
    # Within one chunk as well, as the same events in chunks of one would be.
    back = table([logon(30.0, "x", "203.0.113.1"), logon(20.0, "y", "203.0.113.2")])
    with pytest.raises(DataError, match="earlier day"):
        linker.run(back, [99.0, 99.0])
    # A non-candidate going back says nothing about incidents: accepted.
    state = linker.start()
    linker.link(table([logon(30.0, "x", "203.0.113.1")]), [99.0], state)
    linker.link(table([logon(20.0, "x", "203.0.113.1")]), [1.0], state)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"window_hours": 0}, "window hours"),
        ({"window_hours": -1.0}, "window hours"),
        ({"window_hours": float("nan")}, "window hours"),
        ({"span_hours": 0.0}, "span hours"),
        ({"span_hours": float("inf")}, "span hours"),
        ({"incidents_per_day": 0}, "incidents per day"),
        ({"incidents_per_day": -3}, "incidents per day"),
        ({"candidate_score": 0.0}, "candidate score"),
        ({"candidate_score": 100.0}, "candidate score"),
        ({"candidate_score": float("nan")}, "candidate score"),
        ({"common_share": 0.0}, "common share"),
        ({"common_share": 1.01}, "common share"),
        ({"tail_weight": 1.5}, "tail weight"),
    ],
)
def test_bad_parameters_are_refused_in_one_line_naming_them(
    params: dict[str, float], named: str
) -> None:
    with pytest.raises(ParameterError, match=named) as err:
        IncidentLinker(**params).fit(training())
    assert "\n" not in str(err.value)
    # Set after fitting, they are refused when a stream starts.
    fitted = IncidentLinker(candidate_score=95.0).fit(training())
    fitted.set_params(**params)
    with pytest.raises(ParameterError, match=named):
        fitted.start()


def test_a_budget_override_must_be_positive(linker: IncidentLinker) -> None:
    with pytest.raises(ParameterError, match="incidents per day"):
        linker.start(0)
    assert (
        IncidentLinker(candidate_score=95.0, common_share=1.0).fit(training()).common_["address"]
        == []
    )


def test_an_unfitted_linker_and_mismatched_scores_are_refused(linker: IncidentLinker) -> None:
    with pytest.raises(ParameterError, match="not fitted"):
        IncidentLinker().start()
    with pytest.raises(ParameterError, match="2 scores for 1 events"):
        linker.link(table([logon(1.0, "x", "203.0.113.1")]), [99.0, 99.0], linker.start())


# -- techniques and the narrative -------------------------------------------------------------


def test_a_spray_suggests_password_spraying_and_names_its_source(linker: IncidentLinker) -> None:
    rows = [logon(1 + i / 60, f"victim{i}", "203.0.113.7", status="Failure") for i in range(13)]
    rows.append(logon(1.5, "victim4", "203.0.113.7"))
    (incident,) = linker.run(table(rows), [99.0] * 14).raised
    assert incident.techniques == ["T1110.003", "T1078"]
    assert incident.narrative == (
        '13 accounts ("victim0", "victim1", "victim10" and 10 more) failed 13 logons from '
        'source "203.0.113.7"; then 1 logon succeeded within 30 minutes.'
    )
    assert incident.to_dict()["techniques"][0] == {"uid": "T1110.003", "name": "Password Spraying"}


def test_values_cannot_break_the_narrative(linker: IncidentLinker) -> None:
    hostile = 'eve"; 1 account logged on\nFORGED'
    rows = [logon(1.0, hostile, "203.0.113.7\n", status="Failure")]
    (incident,) = linker.run(table(rows), [99.0]).raised
    assert "\n" not in incident.narrative
    assert json.dumps(hostile) in incident.narrative
    assert '"203.0.113.7\\n"' in incident.narrative
    # Two quoted values, and the value's own quote escaped inside its quotes.
    assert incident.narrative.count('"') == 4 + hostile.count('"')


def test_a_flow_only_incident_says_connections_and_bytes(linker: IncidentLinker) -> None:
    rows = [flow(1.0 + i / 60, "WS-X", f"srv-{i}", bytes_out=2_500_000) for i in range(3)]
    (incident,) = linker.run(table(rows), [99.0] * 3).raised
    assert incident.entities["account"] == []
    assert incident.techniques == ["T1021"]
    assert incident.narrative == (
        '3 connections from source "WS-X" to 3 destinations ("srv-0", "srv-1", "srv-2"), '
        "sending 7.5 MB within 2 minutes."
    )


def test_missing_values_are_no_names_and_nullable_columns_are_read() -> None:
    fitted = IncidentLinker(candidate_score=95.0).fit(training(), n_staff=500)
    rows = [
        logon(1.0, None, "203.0.113.7", status="Failure"),
        logon(1.1, None, "203.0.113.7", status="Failure"),
        flow(1.2, "WS-X", "srv-0", bytes_out=0),
        flow(1.3, "WS-X", "srv-1"),
    ]
    events = table(rows).astype(
        {"bytes_out": "Int64", "is_mfa": "boolean", "status": "string", "direction": "string"}
    )
    events.loc[0, ["is_mfa", "direction"]] = pd.NA  # NA has no truth value
    events.loc[3, ["bytes_out", "status"]] = pd.NA
    raised = fitted.run(events, [99.0] * 4).raised
    assert [i.narrative for i in raised] == [
        'an unnamed account failed 2 logons from source "203.0.113.7" within 6 minutes.',
        '2 connections from source "WS-X" to 2 destinations ("srv-0", "srv-1") within 6 minutes.',
    ]
    assert all("None" not in i.narrative for i in raised)
