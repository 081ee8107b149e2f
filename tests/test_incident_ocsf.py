"""Raised incidents as OCSF 1.5.0 Incident Findings (class 2005): valid against the schema
(``ocsf-emitter``), every key declared, faithful to the incident, event values as data."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocsf_emitter
import pandas as pd
import pytest
from ocsf_emitter import models
from pydantic import BaseModel

from soc_anomaly.features.explain import quote
from soc_anomaly.incidents import TECHNIQUES, Incident
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.findings import severity
from soc_anomaly.model.incident_findings import EventFact, equivalent_score, incident_finding


@pytest.fixture(scope="module")
def scored(scoring_world, tmp_path_factory) -> dict[str, Any]:
    """The fixture's later events scored once: rows, Detection Findings, both incident files."""
    root = tmp_path_factory.mktemp("incident_ocsf")
    src = root / "later.parquet"
    scoring_world.later.to_parquet(src, index=False)
    out: dict[str, Any] = {}
    for fmt in ("jsonl", "ocsf"):
        code = run_cli_plain(
            "score", "--model-dir", str(scoring_world.model_dir), "--input", str(src),
            "--output", str(root / f"{fmt}.out"), "--format", fmt, "--quiet",
            "--incidents", str(root / f"inc_{fmt}.jsonl"), "--incidents-per-day", "200",
        )  # fmt: skip
        assert code == 0
        out[fmt] = [json.loads(x) for x in (root / f"inc_{fmt}.jsonl").read_text().splitlines()]
    out["findings"] = [json.loads(x) for x in (root / "ocsf.out").read_text().splitlines()]
    out["rows"] = pd.read_json(root / "jsonl.out", lines=True)
    out["candidate"] = AnomalyModel.load(scoring_world.model_dir).linker_.candidate_score
    return out


def run_cli_plain(*argv: str) -> int:
    from soc_anomaly.cli import main

    return main(list(argv))


def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        is_list = False
        for arg in typing.get_args(annotation):
            sub, sub_list = _models_in(arg)
            found, is_list = found + sub, is_list or sub_list
        return found, is_list
    if origin is list:
        return _models_in(typing.get_args(annotation)[0])[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], False
    return [], False


def _undeclared(value: dict[str, Any], model: type[BaseModel], where: str) -> Iterator[str]:
    """Key paths the OCSF models do not declare (they accept unknown keys silently)."""
    for key, sub in value.items():
        info = model.model_fields.get(key)
        if info is None:
            yield f"{where}{key}"
            continue
        sub_models, is_list = _models_in(info.annotation)
        for item in sub if is_list else [sub]:
            if isinstance(item, dict) and sub_models and sub_models[0].model_fields:
                yield from _undeclared(item, sub_models[0], f"{where}{key}.")


def test_every_record_is_a_valid_incident_finding(scored) -> None:
    records = scored["ocsf"]
    assert len(records) == len(scored["jsonl"]) > 1
    for rec in records:
        ocsf_emitter.validate(models.IncidentFinding.model_validate(rec))
        assert list(_undeclared(rec, models.IncidentFinding, "")) == []
        assert (rec["class_uid"], rec["category_uid"], rec["activity_id"]) == (2005, 2, 1)
        assert rec["type_uid"] == 200501 and rec["status_id"] == 1
        assert rec["metadata"]["profiles"] == ["incident"]


def test_the_record_says_what_the_incident_holds(scored) -> None:
    for rec, inc in zip(scored["ocsf"], scored["jsonl"], strict=True):
        head = rec["finding_info_list"][0]
        assert head["uid"] == inc["incident_id"] == rec["metadata"]["correlation_uid"]
        assert head["title"] == rec["message"] == inc["narrative"]
        assert head["types"] == ["Incident"]
        assert rec["count"] == head["related_events_count"] == inc["n_events"]
        first = pd.Timestamp(inc["first_time"]).value // 10**6
        last = pd.Timestamp(inc["last_time"]).value // 10**6
        assert (rec["start_time"], rec["end_time"]) == (first, last)
        assert rec["time"] == pd.Timestamp(inc["raised_at"]).value // 10**6
        rows = scored["rows"].iloc[inc["events"]]
        assert [e["uid"] for e in head["related_events"]] == rows["event_id"].astype(str).tolist()
        uids = {t["uid"] for t in inc["techniques"]}
        named = {a.get("sub_technique", a["technique"])["uid"] for a in rec.get("attacks", [])}
        assert named == uids
        # The file's score is rounded to 4 places: either side of a band's edge will do.
        bands = {
            severity(equivalent_score(inc["score"] + d, scored["candidate"]))[0]
            for d in (-1e-4, 1e-4)
        }
        assert rec["severity_id"] in bands


def test_alerting_events_are_listed_as_their_detection_findings(scored) -> None:
    detection_uids = {f["finding_info"]["uid"] for f in scored["findings"]}
    listed = 0
    for rec, inc in zip(scored["ocsf"], scored["jsonl"], strict=True):
        rows = scored["rows"].iloc[inc["events"]]
        found = [fi["uid"] for fi in rec["finding_info_list"][1:]]
        assert len(found) == int(rows["alert"].sum())
        # The same uid as the Detection Finding score --format ocsf writes for the event.
        assert set(found) <= detection_uids
        listed += len(found)
    assert listed > 0


def test_sub_techniques_sit_under_their_technique() -> None:
    incident = _incident(techniques=["T1110.003", "T1078"])
    rec = incident_finding(incident, [], {"model_sha256": "a" * 64}, 95.0)
    assert rec["attacks"][0]["technique"] == {"uid": "T1110", "name": "Brute Force"}
    assert rec["attacks"][0]["sub_technique"] == {
        "uid": "T1110.003",
        "name": TECHNIQUES["T1110.003"][0],
    }
    assert rec["attacks"][1] == {
        "version": rec["attacks"][1]["version"],
        "technique": {"uid": "T1078", "name": "Valid Accounts"},
    }


@pytest.mark.parametrize(("score", "band"), [(0.0, 2), (0.7, 3), (1.7, 4), (2.7, 5), (9.0, 5)])
def test_the_severity_is_that_of_an_event_with_the_incidents_evidence(
    score: float, band: int
) -> None:
    rec = incident_finding(_incident(score=score), [], {}, 95.0)
    assert rec["severity_id"] == band


def test_event_values_stay_data(tmp_path: Path) -> None:
    hostile = 'eve"}\n{"class_uid":1,\u202e=cmd'
    fact = EventFact(0, 'id"\n', 3002, 0, 99.95, True, hostile, None, "203.0.113.9", None)
    rec = incident_finding(
        _incident(entities={"account": [hostile]}), [fact], {"model_sha256": "b" * 64}, 95.0
    )
    ocsf_emitter.validate(models.IncidentFinding.model_validate(rec))
    assert rec["observables"][0]["value"] == hostile
    title = rec["finding_info_list"][1]["title"]
    assert title == f"Anomalous logon by {quote(hostile)}" and "\n" not in title
    assert rec["finding_info_list"][0]["related_events"][0]["uid"] == 'id"\n'
    line = json.dumps(rec, ensure_ascii=False)
    assert "\n" not in line and json.loads(line) == rec


def _incident(
    *,
    score: float = 1.0,
    techniques: list[str] | None = None,
    entities: dict[str, list[str]] | None = None,
) -> Incident:
    names = {"account": [], "host": [], "address": [], "destination": []} | (entities or {})
    return Incident(
        incident_id="INC-20260101-0001",
        events=[0],
        entities=names,
        first_ms=1_767_225_600_000,
        last_ms=1_767_229_200_000,
        score=score,
        max_event_score=99.0,
        raised_at_ms=1_767_229_200_000,
        rank=1,
        techniques=techniques or [],
        narrative="unusual events within 60 minutes.",
    )
