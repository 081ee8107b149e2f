"""OCSF 1.5.0 JSON Lines export: valid records, declared fields, faithful values, safe writes.

The records are checked against the pydantic models of ``ocsf-emitter`` (generated
from OCSF 1.5.0). Those models accept unknown keys (``extra='allow'``), so a
misspelled field would pass validation silently; every key path is therefore
also resolved against the models' declared fields.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import ocsf_emitter
import pandas as pd
import pytest
from ocsf_emitter import models
from pydantic import BaseModel

from soc_anomaly.data import ocsf
from soc_anomaly.data.ocsf import OCSF_VERSION, ocsf_records, write_ocsf_jsonl
from soc_anomaly.errors import DataError
from soc_anomaly.scenarios.enterprise import generate_world

AUTH, NETWORK = 3002, 4001
MODELS: dict[int, type[BaseModel]] = {AUTH: models.Authentication, NETWORK: models.NetworkActivity}
TRUTH = ("label", "campaign_id", "attack_type", "mitre_technique", "step", "benign_tag")
# How the file's lines are expected to look: what json.dumps makes, compact, UTF-8.
COMPACT: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False, "allow_nan": False}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_world(n_users=60, days=10, campaigns=6, random_state=5).events


@pytest.fixture(scope="module")
def records(events: pd.DataFrame) -> list[dict[str, Any]]:
    return list(ocsf_records(events))


@pytest.fixture(scope="module")
def written(events: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ocsf_jsonl(events, tmp_path_factory.mktemp("ocsf") / "events.jsonl")


@pytest.fixture(scope="module")
def lines(written: Path) -> list[str]:
    return written.read_text(encoding="utf-8").splitlines()


# --- the declared-field check --------------------------------------------------------


def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    """The pydantic models an annotation admits, and whether it is a list of them."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        is_list = False
        for arg in typing.get_args(annotation):
            sub, sub_list = _models_in(arg)
            found += sub
            is_list = is_list or sub_list
        return found, is_list
    if origin is list:
        return _models_in(typing.get_args(annotation)[0])[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], False
    return [], False


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias, info.validation_alias, info.serialization_alias):
            return info
    return None


def _undeclared(value: Any, model: type[BaseModel], where: str) -> Iterator[str]:
    """Key paths in ``value`` that ``model`` (recursively) does not declare."""
    # OCSF's free-form ``object`` type (e.g. ``unmapped``) is a model with no
    # declared fields: anything goes below it, by the standard's design.
    if not model.model_fields:
        return
    for key, sub in value.items():
        info = _field(model, key)
        if info is None:
            yield f"{where}{key}"
            continue
        sub_models, is_list = _models_in(info.annotation)
        items = sub if is_list else [sub]
        for item in items:
            if isinstance(item, dict):
                if not sub_models:
                    yield f"{where}{key} (an object where {info.annotation} is declared)"
                # A union of several models would be ambiguous; OCSF fields have one.
                for sub_model in sub_models[:1]:
                    yield from _undeclared(item, sub_model, f"{where}{key}.")


# In valid JSON an unescaped '"' never occurs inside a string, so ':"' starts a
# string value (a key follows '{' or ','); what is left after a ':' up to the
# next ',', bracket or brace is a number, true, false or null.
_STRING_VALUE = re.compile(r':"(?:[^"\\]|\\.)*"')
_SCALAR_VALUE = re.compile(r":[^,{}\[\]]+")
_NULL = re.compile(r"[:\[,]null\b")


def _without_strings(line: str) -> str:
    return _STRING_VALUE.sub(":", line)


def _shapes(lines: list[str]) -> dict[str, int]:
    """The distinct key structures of the lines (values blanked), each with a line number.

    Records of one structure have the same key paths, so checking one of each
    checks them all, at the cost of two regular expressions per line.
    """
    shapes: dict[str, int] = {}
    for i, line in enumerate(lines):
        shapes.setdefault(_SCALAR_VALUE.sub(":", _without_strings(line)), i)
    return shapes


def _has_null(line: str) -> bool:
    return _NULL.search(_without_strings(line)) is not None


def test_skeleton_and_null_helpers() -> None:
    line = json.dumps(
        {"a": 'x:"y", {z} :null', "b": {"c": -1.5e-7, "d": [True, None]}, "e": "\\"},
        separators=(",", ":"),
    )
    assert list(_shapes([line])) == ['{"a":,"b":{"c":,"d":[true,null]},"e":}']
    assert _has_null(line)
    assert not _has_null(line.replace("null", "false"))
    assert _has_null('{"a":1,"b":null}')


def test_declared_field_check_catches_misspellings() -> None:
    good = {"src_endpoint": {"ip": "10.0.0.1", "location": {"city": "Oslo"}}}
    assert list(_undeclared(good, models.NetworkActivity, "")) == []
    bad = {"src_endpoint": {"ip": "10.0.0.1", "location": {"cty": "Oslo"}}, "usr": {}}
    assert sorted(_undeclared(bad, models.NetworkActivity, "")) == [
        "src_endpoint.location.cty",
        "usr",
    ]
    listed = {"metadata": {"loggers": [{"name": "x", "nmae": "y"}]}}
    assert list(_undeclared(listed, models.Authentication, "")) == ["metadata.loggers.nmae"]


# --- the records ---------------------------------------------------------------------


def test_one_record_per_row_in_order(events: pd.DataFrame, records: list[dict[str, Any]]) -> None:
    assert len(records) == len(events)
    assert [r["metadata"]["uid"] for r in records] == [str(i) for i in events["event_id"]]
    assert [r["class_uid"] for r in records] == events["class_uid"].tolist()
    assert {r["class_uid"] for r in records} == {AUTH, NETWORK}


def test_every_record_is_valid_ocsf(records: list[dict[str, Any]]) -> None:
    for rec in records:
        instance = MODELS[rec["class_uid"]].model_validate(rec)
        ocsf_emitter.validate(instance)


def test_every_key_is_declared_by_the_model(lines: list[str]) -> None:
    shapes = _shapes(lines)
    representatives = [json.loads(lines[i]) for i in shapes.values()]
    assert {r["class_uid"] for r in representatives} == {AUTH, NETWORK}
    bad = {
        f"{r['class_uid']}: {path}"
        for r in representatives
        for path in _undeclared(r, MODELS[r["class_uid"]], "")
    }
    assert not bad, sorted(bad)


def test_no_nulls_are_written(lines: list[str]) -> None:
    assert not [line for line in lines if _has_null(line)]


def test_file_holds_exactly_the_records(
    events: pd.DataFrame, records: list[dict[str, Any]], lines: list[str]
) -> None:
    # The lines are assembled from fragments, not by json.dumps: they must
    # still be exactly what the standard encoder makes of the records.
    assert len(lines) == len(records) == len(events)
    assert all(line == json.dumps(rec, **COMPACT) for line, rec in zip(lines, records, strict=True))


def test_identity_and_metadata(records: list[dict[str, Any]]) -> None:
    for rec in records:
        assert rec["metadata"]["version"] == OCSF_VERSION == "1.5.0"
        assert rec["metadata"]["product"] == {
            "name": "soc-anomaly world generator",
            "vendor_name": "soc-anomaly",
        }
        assert rec["severity_id"] == 1
        if rec["class_uid"] == AUTH:
            assert (rec["category_uid"], rec["activity_id"], rec["type_uid"]) == (3, 1, 300201)
            assert rec["class_name"] == "Authentication"
            assert rec["category_name"] == "Identity & Access Management"
        else:
            assert (rec["category_uid"], rec["activity_id"], rec["type_uid"]) == (4, 6, 400106)
            assert rec["class_name"] == "Network Activity"


def _sample(events: pd.DataFrame, class_uid: int, n: int = 300) -> np.ndarray:
    rows = np.flatnonzero(events["class_uid"].to_numpy() == class_uid)
    return np.random.default_rng(0).choice(rows, size=min(n, len(rows)), replace=False)


def _epoch_ms(ts: pd.Timestamp) -> int:
    return ts.value // 1_000_000  # Timestamp.value is nanoseconds, whatever the unit


def _opt(value: Any) -> Any:
    return None if pd.isna(value) else value


def test_authentication_values_round_trip(
    events: pd.DataFrame, records: list[dict[str, Any]]
) -> None:
    for i in _sample(events, AUTH):
        row, rec = events.iloc[i], records[i]
        assert rec["time"] == _epoch_ms(row["time"])
        assert rec["timezone_offset"] == row["timezone_offset"]
        assert rec["user"] == {"name": row["user"]}
        src = rec["src_endpoint"]
        assert src["ip"] == row["src_ip"]
        assert src.get("hostname") == _opt(row["src_host"])
        assert src.get("uid") == _opt(row["device_id"])
        loc = src.get("location", {})
        assert loc.get("city") == _opt(row["src_city"])
        assert loc.get("country") == _opt(row["src_country"])
        assert loc.get("lat") == _opt(row["src_lat"])
        assert loc.get("long") == _opt(row["src_lon"])
        assert rec.get("http_request", {}).get("user_agent") == _opt(row["user_agent"])
        assert rec["dst_endpoint"] == {
            "hostname": row["dst_host"],
            "ip": row["dst_ip"],
            "port": row["dst_port"],
        }
        assert rec["service"] == {"name": row["dst_host"]}
        assert rec["logon_type"] == row["logon_type"]
        logon_ids = {"Interactive": 2, "Network": 3, "Remote Interactive": 10}
        assert rec["logon_type_id"] == logon_ids[row["logon_type"]]
        assert rec["is_mfa"] is bool(row["is_mfa"])
        assert rec["status"] == row["status"]
        assert rec["status_id"] == {"Success": 1, "Failure": 2}[row["status"]]
        assert rec.get("status_detail") == _opt(row["status_detail"])
        assert "traffic" not in rec and "connection_info" not in rec


def test_network_values_round_trip(events: pd.DataFrame, records: list[dict[str, Any]]) -> None:
    for i in _sample(events, NETWORK):
        row, rec = events.iloc[i], records[i]
        assert rec["time"] == _epoch_ms(row["time"])
        assert rec["timezone_offset"] == row["timezone_offset"]
        assert "user" not in rec  # Network Activity 1.5.0 has no user: see src_endpoint.owner
        src = rec["src_endpoint"]
        assert src["owner"] == {"name": row["user"]}
        assert src["ip"] == row["src_ip"]
        assert src.get("hostname") == _opt(row["src_host"])
        assert src.get("uid") == _opt(row["device_id"])
        assert rec["dst_endpoint"] == {
            "hostname": row["dst_host"],
            "ip": row["dst_ip"],
            "port": row["dst_port"],
        }
        assert rec["traffic"] == {
            "bytes_in": row["bytes_in"],
            "bytes_out": row["bytes_out"],
            "packets": row["packets"],
            "bytes": row["bytes_in"] + row["bytes_out"],
        }
        assert rec["duration"] == row["duration_ms"]
        assert rec["connection_info"] == {
            "protocol_name": "tcp",
            "direction": row["direction"],
            "direction_id": {"Inbound": 1, "Outbound": 2, "Lateral": 3}[row["direction"]],
        }
        assert rec["status_id"] == 1
        assert "logon_type" not in rec and "is_mfa" not in rec


def test_ground_truth_travels_in_unmapped(
    events: pd.DataFrame, records: list[dict[str, Any]]
) -> None:
    truth = {c: [_opt(v) for v in events[c].tolist()] for c in TRUTH}
    for c in TRUTH:
        assert [rec["unmapped"].get(c) for rec in records] == truth[c], c
    assert sum(rec["unmapped"]["label"] for rec in records) == int(events["label"].sum()) > 0
    assert any("campaign_id" in rec["unmapped"] for rec in records)


def test_awkward_text_is_escaped(events: pd.DataFrame, tmp_path: Path) -> None:
    odd = events.head(300).copy()
    names = ['say "hi"\\ \n', "tab\tand\x00nul", "ünïcødé ☃ \u2028", "plain"]
    odd["user"] = pd.Categorical([names[i % 4] for i in range(len(odd))])
    records = list(ocsf_records(odd))
    got = [r.get("user", r["src_endpoint"].get("owner"))["name"] for r in records]
    assert got == odd["user"].tolist()
    text = write_ocsf_jsonl(odd, tmp_path / "odd.jsonl").read_text(encoding="utf-8")
    assert text.split("\n")[:-1] == [json.dumps(r, **COMPACT) for r in records]


def _plain(column: pd.Series) -> pd.Series:
    """The column as a CSV reader would give it: object text, float ints with NaN."""
    if isinstance(column.dtype, pd.CategoricalDtype | pd.BooleanDtype):
        return column.astype(object)
    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and column.dtype.kind in "iu":
        return column.astype("float64")
    return column


def test_plain_dtypes_give_the_same_records(
    events: pd.DataFrame, records: list[dict[str, Any]]
) -> None:
    head = events.head(3000)
    plain = pd.DataFrame({name: _plain(column) for name, column in head.items()})
    plain["time"] = plain["time"].dt.tz_localize(None)  # naive, read as UTC
    assert not any(isinstance(d, pd.CategoricalDtype) for d in plain.dtypes)
    assert plain["bytes_in"].dtype == "float64"
    assert list(ocsf_records(plain)) == records[: len(head)]


def test_every_column_is_written_somewhere(events: pd.DataFrame) -> None:
    sources = {
        getattr(src, "column", src)
        for fields in ocsf.OCSF_FIELDS.values()
        for _, src in fields
        if isinstance(src, str) or hasattr(src, "column")
    }
    assert set(events.columns) - sources == {"class_uid"}  # a constant of each class


def test_missing_column_and_unknown_class_are_one_line_errors(events: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"lacks column.*dst_ip") as err:
        ocsf_records(events.drop(columns=["dst_ip"]))
    assert "\n" not in str(err.value)
    odd = events.head(3).copy()
    odd["class_uid"] = np.array([AUTH, 1001, NETWORK], dtype=np.int16)
    with pytest.raises(DataError, match="class_uid 1001") as err:
        ocsf_records(odd)
    assert "\n" not in str(err.value)


# --- writing ---------------------------------------------------------------------------


def test_write_is_deterministic(events: pd.DataFrame, written: Path, tmp_path: Path) -> None:
    again = write_ocsf_jsonl(events, tmp_path / "again.ndjson")
    data = written.read_bytes()
    assert again.read_bytes() == data
    assert data.endswith(b"\n") and data.count(b"\n") == len(events)
    assert [p.name for p in tmp_path.iterdir()] == ["again.ndjson"]  # no temporary left
    assert [p.name for p in written.parent.iterdir()] == ["events.jsonl"]


@pytest.mark.parametrize("name", ["events.csv", "events.jsonl.gz", "events", "events.txt"])
def test_bad_ending_is_refused_and_writes_nothing(
    events: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    target = tmp_path / name
    with pytest.raises(DataError) as err:
        write_ocsf_jsonl(events, target)
    message = str(err.value)
    assert "\n" not in message
    assert str(target) in message
    for ending in (".jsonl", ".json", ".ndjson"):
        assert ending in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", [True, False])
def test_failure_midway_leaves_no_partial_file(
    events: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    target = tmp_path / "events.jsonl"
    if existing:
        target.write_text("previous export\n", encoding="utf-8")
    # An infinite latitude cannot be written as JSON; put it late in the table
    # and make chunks small, so several chunks reach the file before it fails.
    broken = events.copy()
    auth_rows = np.flatnonzero(broken["class_uid"].to_numpy() == AUTH)
    broken.loc[auth_rows[len(auth_rows) * 3 // 4], "src_lat"] = np.inf
    monkeypatch.setattr(ocsf, "_CHUNK_ROWS", 4000)
    written: list[int] = []
    real_chunks = ocsf._chunks

    def counting_chunks(frame: pd.DataFrame) -> Iterator[list[str]]:
        for lines in real_chunks(frame):
            written.append(len(lines))
            yield lines

    monkeypatch.setattr(ocsf, "_chunks", counting_chunks)
    with pytest.raises(DataError, match="src_lat holds an infinite value") as err:
        write_ocsf_jsonl(broken, target)
    assert "\n" not in str(err.value)
    assert sum(written) >= 4000  # it failed midway, after writing whole chunks
    if existing:
        assert target.read_text(encoding="utf-8") == "previous export\n"
        assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]
    else:
        assert list(tmp_path.iterdir()) == []
