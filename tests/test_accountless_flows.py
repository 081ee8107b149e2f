"""Network flows that name no account (AWS VPC flow logs, Zeek ``conn``): read, scored against
their source endpoint's baselines, explained by that endpoint, refused without one (issue 18)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ocsf_emitter
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli
from fastapi.testclient import TestClient
from ocsf_emitter import models

from soc_anomaly.data.ocsf_input import ocsf_to_events
from soc_anomaly.errors import DataError
from soc_anomaly.features import EntityFeatures
from soc_anomaly.features.entity_keys import SEP
from soc_anomaly.features.seed_columns import SeedColumns
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.chunks import complete_raw_events
from soc_anomaly.model.stream import StreamScorer
from soc_anomaly.scenarios import generate_world

DST = {"ip": "203.0.113.50", "port": 443}
BIG = 9_000_000_000  # bytes sent: far beyond any training connection


@dataclass(frozen=True)
class FlowWorld:
    """A small world whose network events lost their account on a few hosts, and a bundle."""

    events: pd.DataFrame
    hosts: list[str]  # hosts whose flows name no account; the first's name no host either
    address: str  # the first host's address: its flows are keyed by it
    last_ms: int
    model_dir: Path
    model: AnomalyModel


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> FlowWorld:
    world = generate_world(n_users=40, days=6, campaigns=3, random_state=3)
    events = world.events.copy()
    for name in ("user", "src_host"):
        events[name] = events[name].astype(object)
    hosts = sorted(events["src_host"].dropna().unique())[:3]
    flow = (events["class_uid"] == 4001) & events["src_host"].isin(hosts)
    events.loc[flow, "user"] = None
    by_address = flow & (events["src_host"] == hosts[0])
    events.loc[by_address, "src_host"] = None
    address = str(events.loc[by_address, "src_ip"].mode().iloc[0])
    train = events[events["time"] < world.attack_start]
    out = tmp_path_factory.mktemp("flows") / "entity"
    model = AnomalyModel(detector="iforest", features="entity").fit(train, users=world.users)
    model.save(out)
    last = int(events["time"].max().value // 1_000_000)
    return FlowWorld(events, hosts, address, last, out, model)


def _vpc(flows: FlowWorld, ip: str = "10.250.9.9", sent: int = BIG) -> dict:
    """An AWS VPC flow log record as OCSF: endpoints and traffic, no account, no host name."""
    return {
        "class_uid": 4001,
        "activity_id": 6,
        "time": flows.last_ms,
        "src_endpoint": {"ip": ip, "port": 51544},
        "dst_endpoint": DST,
        "traffic": {"bytes_in": 1200, "bytes_out": sent, "packets": 9000},
        "connection_info": {"direction": "Outbound"},
    }


def _zeek(flows: FlowWorld, host: str, sent: int = BIG) -> dict:
    """A Zeek ``conn`` record as OCSF: a source address and host name, no account."""
    return {
        "class_uid": 4001,
        "time": flows.last_ms,
        "src_endpoint": {"ip": "10.1.2.3", "hostname": host},
        "dst_endpoint": DST,
        "traffic": {"bytes_in": 300, "bytes_out": sent},
        "connection_info": {"direction": "Outbound"},
    }


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _features(flows: FlowWorld, frame: pd.DataFrame) -> pd.DataFrame:
    return flows.model.featurizer_.transform(complete_raw_events(frame))


# --- end to end ---------------------------------------------------------------------------


def test_vpc_and_zeek_records_are_scored_and_explained_by_their_source(
    capsys, flows, tmp_path
) -> None:
    src = _write(tmp_path / "flows.jsonl", [_vpc(flows), _zeek(flows, flows.hosts[1])])
    out = tmp_path / "scores.jsonl"
    code, _, err = run_cli(
        capsys, "score", "--model-dir", str(flows.model_dir), "--input", str(src),
        "--input-format", "ocsf", "--output", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["user"] for r in rows] == [None, None]
    assert all(np.isfinite(r["score"]) and r["alert"] for r in rows)
    vpc, zeek = (" ".join(r["reasons"]) for r in rows)
    assert 'source address "10.250.9.9"' in vpc
    assert f'source host "{flows.hosts[1]}"' in zeek
    for text in (vpc, zeek):
        assert "None" not in text and "null" not in text and "this user" not in text


def test_findings_of_a_flow_name_its_source_endpoint(capsys, flows, tmp_path) -> None:
    src = _write(tmp_path / "flows.jsonl", [_vpc(flows), _zeek(flows, flows.hosts[1])])
    code, out, err = run_cli(
        capsys, "score", "--model-dir", str(flows.model_dir), "--input", str(src),
        "--input-format", "ocsf", "--format", "ocsf", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 2
    for rec in records:
        ocsf_emitter.validate(models.DetectionFinding.model_validate(rec))
    titles = [r["finding_info"]["title"] for r in records]
    assert titles == [
        'Anomalous connection by source address "10.250.9.9" to "203.0.113.50"',
        f'Anomalous connection by source host "{flows.hosts[1]}" to "203.0.113.50"',
    ]
    targets = [r["anomaly_analyses"][0]["analysis_targets"][0] for r in records]
    assert targets == [
        {"name": "10.250.9.9", "type": "IP Address"},
        {"name": flows.hosts[1], "type": "Device"},
    ]


def test_the_service_scores_a_flat_flow_without_an_account(flows) -> None:
    from soc_anomaly.service import create_app

    body = [
        {"time": flows.last_ms, "class_uid": 4001, "src_ip": "10.250.9.9",
         "dst_host": "203.0.113.50", "bytes_out": BIG, "direction": "Outbound"},
    ]  # fmt: skip
    answer = TestClient(create_app(flows.model_dir)).post("/v1/score", json=body)
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["alert"]
    assert any('source address "10.250.9.9"' in r for r in result["reasons"])


def test_a_flat_flow_with_an_address_only_is_read_from_every_table_format(
    capsys, flows, tmp_path
) -> None:
    rows = pd.DataFrame(
        {"time": [pd.Timestamp(flows.last_ms, unit="ms", tz="UTC")] * 2, "class_uid": [4001] * 2,
         "user": [None, None], "src_ip": ["10.250.9.9", flows.address], "bytes_out": [BIG, 10]}
    )  # fmt: skip
    scored = {}
    for name, write in (("csv", rows.to_csv), ("parquet", rows.to_parquet)):
        src, out = tmp_path / f"flows.{name}", tmp_path / f"{name}.jsonl"
        write(src, index=False)
        code, _, err = run_cli(
            capsys, "score", "--model-dir", str(flows.model_dir), "--input", str(src),
            "--output", str(out), "--quiet",
        )  # fmt: skip
        assert code == 0, err
        scored[name] = [json.loads(line)["score"] for line in out.read_text().splitlines()]
    assert scored["csv"] == pytest.approx(scored["parquet"])
    assert scored["csv"][0] > scored["csv"][1]


def test_a_stream_of_flows_scores_the_same_whatever_its_chunks(flows) -> None:
    events = flows.events
    later = events[events["time"] >= events["time"].quantile(0.7)].reset_index(drop=True)
    assert later["user"].isna().sum() > 100
    whole = flows.model.score(later)
    scorer = StreamScorer(flows.model)
    got = pd.concat([scorer.score(later.iloc[i : i + 997]) for i in range(0, len(later), 997)])
    np.testing.assert_array_equal(got["raw_score"].to_numpy(), whole["raw_score"].to_numpy())
    assert got["reasons"].tolist() == whole["reasons"].tolist()


# --- baselines of a typed entity -----------------------------------------------------------


def test_a_flow_is_read_against_its_source_endpoints_history(flows) -> None:
    frame = ocsf_to_events(
        [
            _zeek(flows, flows.hosts[1], sent=2_000),  # a host with history
            _vpc(flows, ip=flows.address, sent=2_000),  # an address with history
            _vpc(flows, sent=2_000),  # an address never seen
        ]
    )
    new = _features(flows, frame)["new_user"].tolist()
    assert new == [0.0, 0.0, 1.0]
    keys = set(flows.model.featurizer_.vocab_["user"])
    assert SEP + "h" + flows.hosts[1] in keys and SEP + "i" + flows.address in keys
    # The address of a host with a name is not a baseline: the name is.
    assert SEP + "h" + flows.hosts[0] not in keys


def test_an_account_named_like_a_host_shares_nothing_with_it(flows) -> None:
    host = flows.hosts[1]
    as_host = ocsf_to_events([_zeek(flows, host, sent=2_000)])
    forged = []
    for name in (host, SEP + "h" + host):
        record = _zeek(flows, host, sent=2_000)
        record["user"] = {"name": name}
        forged.append(record)
    as_accounts = ocsf_to_events(forged)
    assert _features(flows, as_host)["new_user"].tolist() == [0.0]
    got = _features(flows, as_accounts)
    assert got["new_user"].tolist() == [1.0, 1.0]
    # Nor does a host named like an account share the account's baselines.
    account = str(flows.events["user"].dropna().iloc[0])
    assert _features(flows, ocsf_to_events([_zeek(flows, account)]))["new_user"].tolist() == [1.0]
    sentences = flows.model.featurizer_.explain(as_accounts, got, top=30)
    said = [s.text for s in sentences[1] if s.feature == "new_user"]
    assert said == [f'the account "\\u001fh{host}" has no history in the training window']


def test_explanations_of_accounts_keep_their_wording(flows) -> None:
    events = flows.events
    fe: EntityFeatures = flows.model.featurizer_

    def said(rows: pd.DataFrame) -> list[str]:
        return [s.text for row in fe.explain(rows, fe.transform(rows), top=30) for s in row]

    texts = said(events[events["user"].notna()].tail(400))
    assert any("this user" in t for t in texts)
    assert not any("source host" in t or "source address" in t for t in texts)
    texts = said(events[events["user"].isna()].tail(400))
    assert any("source host" in t or "source address" in t for t in texts)
    assert not any("this user" in t or "None" in t for t in texts)


def test_the_seed_features_read_flows_without_an_account(flows) -> None:
    frame = complete_raw_events(ocsf_to_events([_vpc(flows), _zeek(flows, flows.hosts[1])]))
    events = flows.events
    got = SeedColumns().fit(events[events["time"] < events["time"].median()]).transform(frame)
    assert np.isfinite(got.to_numpy()).all()
    assert got["device_trust_score"].tolist() == [0.0, 1.0]


# --- refused --------------------------------------------------------------------------------


def test_a_flow_naming_no_source_endpoint_is_refused_by_its_line(capsys, flows, tmp_path) -> None:
    bare = _vpc(flows)
    del bare["src_endpoint"]
    src = _write(tmp_path / "flows.jsonl", [_vpc(flows), bare])
    code, _, err = run_cli(
        capsys, "score", "--model-dir", str(flows.model_dir), "--input", str(src),
        "--input-format", "ocsf", "--output", str(tmp_path / "out.jsonl"),
    )  # fmt: skip
    assert_one_line_error(
        code, err, r"^error: line 2: the OCSF network record names no account and no source "
        r"endpoint; expected one of user\.name, .*src_endpoint\.hostname or src_endpoint\.ip",
    )  # fmt: skip
    assert not (tmp_path / "out.jsonl").exists()


def test_a_logon_without_an_account_is_still_refused(flows) -> None:
    logon = {"class_uid": 3002, "time": flows.last_ms, "src_endpoint": {"ip": "10.0.0.7"}}
    with pytest.raises(DataError, match=r"^line 1: the OCSF record names no account; expected"):
        ocsf_to_events([logon])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_flat_flow_naming_no_source_endpoint_is_refused(capsys, flows, tmp_path, fmt) -> None:
    rows = pd.DataFrame(
        {"time": ["2026-01-10T10:00:00Z"] * 3, "class_uid": [4001] * 3,
         "user": ["alice", None, None], "src_ip": ["10.0.0.1", "10.0.0.2", None],
         "dst_host": ["db-01"] * 3}
    )  # fmt: skip
    src = tmp_path / f"flows.{fmt}"
    if fmt == "csv":
        rows.to_csv(src, index=False)
    else:
        rows.to_json(src, orient="records", lines=True)
    code, _, err = run_cli(
        capsys, "score", "--model-dir", str(flows.model_dir), "--input", str(src),
        "--output", str(tmp_path / "out.jsonl"),
    )  # fmt: skip
    where = "event 3" if fmt == "csv" else "line 3"
    assert_one_line_error(
        code, err, rf"^error: {where}: the network event names no account and no source endpoint"
    )


def test_the_transformer_names_what_an_event_lacks(flows) -> None:
    fe: EntityFeatures = flows.model.featurizer_
    frame = complete_raw_events(ocsf_to_events([_vpc(flows)]))
    with pytest.raises(DataError, match="a network event names no user, src_host or src_ip"):
        fe.transform(frame.assign(src_ip=None))
    with pytest.raises(DataError, match="user has nulls on events that are not network events"):
        fe.transform(frame.assign(class_uid=3002))
