"""Campaigns caught by the daily incident queue (issue 18, item 3), on hand-computed cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.campaigns import CampaignReport
from soc_anomaly.evaluation.incident_queue import incident_queue_report
from soc_anomaly.incidents import Incident, IncidentLinker

T0 = pd.Timestamp("2026-01-12", tz="UTC")  # midnight UTC, a Monday

# (minute after T0, campaign or None, benign tag, incident id or None) of each event.
EVENTS = [
    (600, "C1", "none", "I1"),  # 0  10:00
    (610, "C1", "none", "I1"),  # 1
    (620, "C1", "none", "I1"),  # 2
    (605, "C2", "none", "I1"),  # 3
    (615, "C2", "none", "I1"),  # 4
    (660, None, "vpn_abroad", "I2"),  # 5
    (670, None, "vpn_abroad", "I2"),  # 6
    (680, None, "business_trip", "I2"),  # 7
    (720, "C2", "none", "I3"),  # 8  12:00
    (780, "C2", "none", "I4"),  # 9  13:00
    (840, None, "new_device", None),  # 10 never a candidate
]
MANIFEST = pd.DataFrame(
    {
        "campaign_id": ["C1", "C2", "C9"],  # C9 has no event here: not counted
        "scenario": ["password_spray", "credential_stuffing", "bulk_exfiltration"],
        "intensity": ["blatant", "subtle", "moderate"],
        "start": [T0 + pd.Timedelta(minutes=m) for m in (570, 600, 0)],
    }
)


def minutes(m: float) -> int:
    """Epoch milliseconds ``m`` minutes after T0."""
    return int((T0 + pd.Timedelta(minutes=m)).value // 1_000_000)


def incident(incident_id: str, raised_minute: float, score: float) -> Incident:
    """A raised incident holding the events :data:`EVENTS` gives it."""
    rows = [i for i, ev in enumerate(EVENTS) if ev[3] == incident_id]
    return Incident(
        incident_id=incident_id,
        events=rows,
        entities={"account": [], "host": [], "address": [], "destination": []},
        first_ms=minutes(min(EVENTS[i][0] for i in rows)),
        last_ms=minutes(max(EVENTS[i][0] for i in rows)),
        score=score,
        max_event_score=99.0,
        raised_at_ms=minutes(raised_minute),
        rank=1,
        techniques=[],
        narrative="unusual events within 20 minutes.",
    )


def report(raised: list[Incident], events: list[tuple] = EVENTS) -> CampaignReport:
    return incident_queue_report(
        raised,
        [ev[3] for ev in events],
        times=pd.Series([T0 + pd.Timedelta(minutes=ev[0]) for ev in events]),
        labels=[int(ev[1] is not None) for ev in events],
        campaign_ids=[ev[1] for ev in events],
        benign_tags=[ev[2] for ev in events],
        campaigns=MANIFEST,
        days=2.0,
    )


def test_a_raised_incident_catches_only_its_main_campaign() -> None:
    # I1 holds 3 events of C1 and 2 of C2: it catches C1 alone; I2 holds no campaign event.
    r = report([incident("I1", 630, 1.5), incident("I2", 680, 0.9)])
    assert (r.n_campaigns, r.caught, r.recall) == (2, 1, 0.5)
    c1, c2 = r.outcomes
    assert (c1.campaign_id, c1.caught, c1.alerted_events) == ("C1", True, 3)
    assert c1.time_to_detect_hours == pytest.approx(1.0)  # raised 10:30, C1 began 09:30
    assert c1.first_alert == T0 + pd.Timedelta(minutes=630)
    assert (c2.campaign_id, c2.caught, c2.alerted_events, c2.n_events) == ("C2", False, 0, 4)
    assert r.median_ttd_hours == r.worst_ttd_hours == pytest.approx(1.0)
    assert r.by_scenario["password_spray"].caught == 1
    assert r.by_scenario["credential_stuffing"].caught == 0
    assert r.by_intensity["subtle"].recall == 0.0
    assert "bulk_exfiltration" not in r.by_scenario
    assert (r.alerts, r.alerts_per_day, r.threshold) == (2, 1.0, 0.9)
    # False incidents, counted in incidents by their commonest benign tag.
    assert r.false_positives == r.false_alerts == 1
    assert r.fp_by_benign_tag == {"vpn_abroad": 1, "business_trip": 0, "new_device": 0}
    # Fragmentation: C1's events in 1 incident, C2's in 3 (I1, I3, I4): (1 + 3) / 2.
    assert r.fragmentation == pytest.approx(2.0)
    assert r.purity == pytest.approx(3 / 5)


def test_a_second_incident_catches_the_other_campaign() -> None:
    r = report([incident("I1", 630, 1.5), incident("I3", 750, 0.8)])
    assert r.caught == 2 and r.false_positives == 0
    c2 = r.outcomes[1]
    assert c2.caught and c2.alerted_events == 1
    assert c2.time_to_detect_hours == pytest.approx(2.5)  # raised 12:30, C2 began 10:00
    assert r.median_ttd_hours == pytest.approx(1.75) and r.worst_ttd_hours == pytest.approx(2.5)
    assert r.purity == pytest.approx((3 / 5 + 1) / 2)
    assert r.fragmentation == pytest.approx(2.0)  # raised or not: the same
    # The earliest raised incident of a campaign sets its time to detect.
    r = report([incident("I3", 750, 0.8), incident("I4", 790, 0.7)])
    assert r.outcomes[1].time_to_detect_hours == pytest.approx(2.5)
    assert r.outcomes[1].alerted_events == 2


def test_nothing_raised() -> None:
    r = report([])
    assert (r.caught, r.alerts, r.false_positives, r.purity) == (0, 0, 0, None)
    assert r.threshold == math.inf and r.median_ttd_hours is None
    assert r.fragmentation == pytest.approx(2.0)


def test_a_false_incident_with_tied_tags_counts_under_the_first_name() -> None:
    events = [(600, None, "vpn_abroad", "I1"), (610, None, "business_trip", "I1")]
    raised = incident("I1", 610, 1.0)
    raised.events = [0, 1]
    r = incident_queue_report(
        [raised],
        ["I1", "I1"],
        times=pd.Series([T0 + pd.Timedelta(minutes=ev[0]) for ev in events]),
        labels=[0, 0],
        campaign_ids=[None, None],
        benign_tags=[ev[2] for ev in events],
    )
    assert r.fp_by_benign_tag == {"business_trip": 1, "vpn_abroad": 0}
    assert r.n_campaigns == 0 and r.recall == 0.0 and r.fragmentation is None


def test_a_campaign_joining_an_incident_raised_before_it_began_is_not_detected_before_it() -> None:
    # I1: a normal event at 08:00 raised then; C1's event at 10:00 joins it afterwards.
    events = [(480, None, "none", "I1"), (600, "C1", "none", "I1")]
    raised = incident("I1", 480, 1.0)
    raised.events = [0, 1]
    r = incident_queue_report(
        [raised],
        ["I1", "I1"],
        times=pd.Series([T0 + pd.Timedelta(minutes=ev[0]) for ev in events]),
        labels=[0, 1],
        campaign_ids=[None, "C1"],
        benign_tags=["none", "none"],
        campaigns=MANIFEST,
    )
    (c1,) = r.outcomes
    # Detected when its first event joined the raised incident, not before C1 began.
    assert c1.time_to_detect_hours == pytest.approx(0.5)
    assert r.purity == pytest.approx(0.5)


def test_the_report_round_trips_with_fragmentation_and_purity() -> None:
    r = report([incident("I1", 630, 1.5), incident("I2", 680, 0.9)])
    d = r.to_dict()
    assert d["fragmentation"] == pytest.approx(2.0) and d["purity"] == pytest.approx(0.6)
    assert CampaignReport.from_dict(d) == r
    older = {k: v for k, v in d.items() if k not in ("fragmentation", "purity")}
    back = CampaignReport.from_dict(older)
    assert back.fragmentation is None and back.purity is None and back.caught == r.caught


def test_the_linker_output_feeds_the_report() -> None:
    # A spray (C1, one address) and one stray normal logon, raised by a real linker.
    train = pd.DataFrame(
        {
            "time": [T0 - pd.Timedelta(days=1)] * 3,
            "class_uid": 3002,
            "user": ["a", "b", "c"],
            "src_ip": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            "status": "Success",
        }
    )
    linker = IncidentLinker(candidate_score=95.0).fit(train, n_staff=500)
    rows = [(600 + i, f"victim{i}", "203.0.113.7", "C1", "Failure") for i in range(5)]
    rows.append((700, "a", "192.0.2.1", None, "Success"))
    events = pd.DataFrame(
        {
            "time": [T0 + pd.Timedelta(minutes=r[0]) for r in rows],
            "class_uid": 3002,
            "user": [r[1] for r in rows],
            "src_ip": [r[2] for r in rows],
            "status": [r[4] for r in rows],
            "label": [int(r[3] is not None) for r in rows],
            "campaign_id": [r[3] for r in rows],
            "benign_tag": ["none"] * 5 + ["on_call_night"],
        }
    )
    result = linker.run(events, np.full(len(rows), 99.0))
    r = incident_queue_report(
        result.raised,
        result.incident_ids,
        times=events["time"],
        labels=events["label"],
        campaign_ids=events["campaign_id"],
        benign_tags=events["benign_tag"],
        campaigns=MANIFEST,
    )
    assert (r.caught, r.alerts, r.false_positives) == (1, 2, 1)
    assert r.fp_by_benign_tag == {"on_call_night": 1}
    assert r.fragmentation == 1.0 and r.purity == 1.0
    # The day's cut is the stray logon's score, which the spray reached with its first event.
    assert r.outcomes[0].time_to_detect_hours == pytest.approx(0.5)  # 10:00 - 09:30


def test_incident_ids_read_back_from_a_file_and_stray_rows() -> None:
    ids = pd.array([ev[3] for ev in EVENTS], dtype="string")  # missing ids are pd.NA
    raised = [incident("I1", 630, 1.5), incident("I2", 680, 0.9)]
    r = incident_queue_report(
        raised,
        ids,
        times=pd.Series([T0 + pd.Timedelta(minutes=ev[0]) for ev in EVENTS]),
        labels=[int(ev[1] is not None) for ev in EVENTS],
        campaign_ids=[ev[1] for ev in EVENTS],
        benign_tags=[ev[2] for ev in EVENTS],
        campaigns=MANIFEST,
    )
    assert r == dataclasses.replace(report(raised), alerts_per_day=None)  # no days given
    stray = incident("I1", 630, 1.5)
    stray.events = [0, len(EVENTS)]
    with pytest.raises(ParameterError, match=r"incident I1 holds .* beyond the 11 given") as err:
        report([stray])
    assert "\n" not in str(err.value)
