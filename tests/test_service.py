"""The REST scoring service, end to end: a real uvicorn process started with ``soc-anomaly serve``.

One server runs for the whole module (limits lowered so that the 413 bodies
stay small); the model is trained once per session. The schemathesis run is
derandomised and bounded, so it is the same few dozen requests every time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import schemathesis
from cli_helpers import assert_one_line_error, run_cli
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from service_helpers import serving

from soc_anomaly.data.ocsf import ocsf_records
from soc_anomaly.model import AnomalyModel, read_manifest
from soc_anomaly.scenarios import generate_world

MAX_EVENTS = 500
MAX_BYTES = 1_000_000
TRUTH = ["label", "campaign_id", "attack_type", "mitre_technique", "step", "benign_tag"]


@pytest.fixture(scope="session")
def service_world():
    return generate_world(n_users=120, days=14, campaigns=20, random_state=7)


@pytest.fixture(scope="session")
def service_model_dir(tmp_path_factory: pytest.TempPathFactory, service_world) -> Path:
    """An entity iforest fitted on the world's normal events before the attacks, saved."""
    w = service_world
    train = w.events[(w.events.time < w.attack_start) & (w.events.label == 0)]
    directory = tmp_path_factory.mktemp("service") / "model"
    AnomalyModel(detector="iforest", features="entity").fit(train, users=w.users).save(directory)
    return directory


@pytest.fixture(scope="session")
def model(service_model_dir: Path) -> AnomalyModel:
    return AnomalyModel.load(service_model_dir)


@pytest.fixture(scope="session")
def events(service_world) -> pd.DataFrame:
    """300 raw events around the first attack, without the ground truth."""
    ev = service_world.events
    first = int(np.flatnonzero(ev["label"].to_numpy() == 1)[0])
    return ev.iloc[first - 150 : first + 150].drop(columns=TRUTH).reset_index(drop=True)


def _flat_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready flat events: ISO 8601 times, nulls for missing cells, exact floats."""
    out = frame.astype(object).where(frame.notna(), None)
    out["time"] = [t.isoformat() for t in frame["time"]]
    return json.loads(json.dumps(out.to_dict("records"), default=lambda v: v.item()))


@pytest.fixture(scope="module")
def server(service_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``soc-anomaly serve`` on a free port of 127.0.0.1; stopped at teardown."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    args = ["--model-dir", str(service_model_dir), "--port", "0"]
    args += ["--max-events", str(MAX_EVENTS), "--max-bytes", str(MAX_BYTES)]
    with serving(args, log) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


def _check_scores(body: dict[str, Any], expected: pd.DataFrame, ids: list[Any]) -> None:
    results = body["results"]
    assert body["events"] == len(results) == len(expected)
    assert body["alerts"] == int(expected["alert"].sum()) > 0
    assert [r["index"] for r in results] == list(range(len(expected)))
    assert [r.get("event_id") for r in results] == ids
    np.testing.assert_allclose([r["score"] for r in results], expected["score"], rtol=0, atol=1e-9)
    assert [r["alert"] for r in results] == expected["alert"].tolist()
    for r, reasons in zip(results, expected["reasons"], strict=True):
        assert r["reasons"] == reasons
        assert bool(r["reasons"]) == r["alert"]


def test_flat_events_score_as_in_process(client, model, service_model_dir, events) -> None:
    response = client.post("/v1/score", json=_flat_records(events))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == read_manifest(service_model_dir)["model_sha256"][:16]
    _check_scores(body, model.score(events), events["event_id"].tolist())


def test_ocsf_records_score_as_in_process(client, model, events) -> None:
    records = list(ocsf_records(events))
    response = client.post("/v1/score", json=records)
    assert response.status_code == 200, response.text
    # metadata.uid is text in OCSF, and is echoed as sent.
    _check_scores(response.json(), model.score(events), [str(i) for i in events["event_id"]])


def test_alerts_as_ocsf_detection_findings(client, model, events) -> None:
    response = client.post("/v1/score", params={"format": "ocsf"}, json=_flat_records(events))
    assert response.status_code == 200, response.text
    body = response.json()
    scored = model.score(events)
    alerting = events.loc[scored["alert"], "event_id"].astype(str).tolist()
    assert body["alerts"] == len(body["findings"]) == len(alerting)
    assert {f["class_uid"] for f in body["findings"]} == {2004}
    related = [f["finding_info"]["related_events"][0]["uid"] for f in body["findings"]]
    assert related == alerting


def test_model_manifest_and_health(client, service_model_dir) -> None:
    manifest = read_manifest(service_model_dir)
    assert client.get("/v1/model").json() == manifest
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["model"] == manifest["model_sha256"][:16]
    assert (health["max_events"], health["max_bytes"]) == (MAX_EVENTS, MAX_BYTES)


def _flat(**changes: Any) -> dict[str, Any]:
    event = {
        "event_id": 7,
        "time": "2026-01-20T09:15:00Z",
        "timezone_offset": 0,
        "class_uid": 3002,
        "user": "alice",
        "src_ip": "203.0.113.7",
        "src_country": "GB",
        "src_lat": 51.5,
        "src_lon": -0.12,
        "device_id": "DEV-1",
        "dst_host": "vpn",
        "status": "Success",
        "status_detail": None,
        "bytes_in": None,
        "bytes_out": None,
        "direction": None,
    }
    return {**event, **changes}


def _ocsf(**changes: Any) -> dict[str, Any]:
    record = {
        "class_uid": 3002,
        "time": 1768900500000,
        "user": {"name": "alice"},
        "src_endpoint": {"ip": "203.0.113.7"},
        "metadata": {"uid": "e1"},
    }
    return {**record, **changes}


BAD_BODIES = [
    pytest.param(b"", 400, r"the body is empty", id="empty-body"),
    pytest.param(b"events please", 400, r"not valid JSON", id="not-json"),
    pytest.param(b'[{"time": NaN}]', 400, r"not valid JSON", id="nan"),
    pytest.param(b"[" * 5000, 400, r"not valid JSON", id="deeply-nested"),
    pytest.param(b'{"events": []}', 422, r"the body is an object; expected a JSON array", id="obj"),
    pytest.param(b"[]", 422, r"the array is empty", id="empty-array"),
    pytest.param(b'[{}, "x"]', 422, r"record 2 is a string; expected an object", id="not-obj"),
    pytest.param([{"user": "alice"}], 422, r"no time, class_uid columns; expected", id="cols"),
    pytest.param([_flat(time="yesterday")], 422, r"record 1: time .yesterday.", id="bad-time"),
    pytest.param([_flat(), _flat(time=5)], 422, r"record 2: time is epoch milli", id="mixed-t"),
    pytest.param([_flat(time=1e300)], 422, r"record 1: time is a number 1e\+300", id="time-range"),
    pytest.param([_flat(bytes_in="lots")], 422, r'record 1: bytes_in is a string "lots"', id="str"),
    pytest.param([_flat(user=["a"])], 422, r"record 1: user is an array", id="list"),
    pytest.param([_flat(src_lat=91)], 422, r"record 1: src_lat .* -90 to 90", id="lat"),
    pytest.param([_flat(), _ocsf()], 422, r"record 2 is an OCSF record but record 1", id="mixed"),
    pytest.param([_ocsf(class_uid=2004)], 422, r"record 1: OCSF class_uid 2004", id="class"),
    pytest.param([_ocsf(time=None)], 422, r"record 1: the OCSF record has no time", id="no-time"),
    pytest.param([_ocsf(time=1e20)], 422, r"record 1: time .* is out of range", id="ocsf-time"),
    pytest.param([_ocsf(user={"name": {"x": 1}})], 422, r"user.name is an object", id="nested"),
]


@pytest.mark.parametrize(("body", "status", "pattern"), BAD_BODIES)
def test_bad_body_is_a_one_line_4xx(client, body: Any, status: int, pattern: str) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/v1/score", content=content)
    _assert_detail(response, status, pattern)


def _assert_detail(response: httpx.Response, status: int, pattern: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail and "Traceback" not in detail
    assert re.search(pattern, detail), detail


def test_too_many_events_is_413(client) -> None:
    response = client.post("/v1/score", json=[{}] * (MAX_EVENTS + 1))
    _assert_detail(response, 413, rf"{MAX_EVENTS + 1:,} events in one request; at most")


def test_too_large_body_is_413_by_content_length(client) -> None:
    body = b"[" + b" " * MAX_BYTES + b"{}]"
    response = client.post("/v1/score", content=body)
    _assert_detail(response, 413, rf"the body is {len(body):,} bytes; at most {MAX_BYTES:,}")


def test_too_large_body_is_413_by_bytes_received(client) -> None:
    # A chunked body has no Content-Length: the bytes are counted as they arrive.
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(MAX_BYTES // 65_536 + 1):
            yield b" " * 65_536
        yield b"{}]"

    response = client.post("/v1/score", content=chunks())
    _assert_detail(response, 413, rf"the body is over {MAX_BYTES:,} bytes")


def test_unknown_path_and_bad_query_are_one_line(client) -> None:
    _assert_detail(client.get("/v2/score"), 404, r"Not Found")
    response = client.post("/v1/score", params={"format": "xml"}, json=[_flat()])
    _assert_detail(response, 422, r"format: Input should be 'json' or 'ocsf'")


def _asgi_post(app: Any, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to an ASGI app in-process; the status and the JSON answer."""
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload)


def test_an_unexpected_failure_is_a_logged_one_line_500(
    service_model_dir: Path, monkeypatch, caplog
) -> None:
    from soc_anomaly.service import create_app

    def broken(self: AnomalyModel, events: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        raise RuntimeError("a bug\nspanning lines")

    app = create_app(service_model_dir)
    monkeypatch.setattr(AnomalyModel, "score", broken)
    with caplog.at_level(logging.ERROR, logger="soc_anomaly.service"):
        status, body = _asgi_post(app, "/v1/score", json.dumps([_flat()]).encode())
    assert status == 500
    assert body == {
        "detail": "internal error while handling the request; the server log has the details"
    }
    # The traceback goes to the server's log, not to the client.
    assert any("a bug" in r.exc_text for r in caplog.records if r.exc_text)


@pytest.fixture(scope="module")
def api_schema(server: str):
    return schemathesis.openapi.from_url(f"{server}/openapi.json")


def test_no_request_gets_a_server_error(api_schema) -> None:
    # Each operation's schemathesis strategy drives a plain Hypothesis test:
    # valid and invalid bodies, parameters and headers, derandomised. (This
    # avoids schemathesis' lazy pytest fixture, which reads pytest internals.)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/score", "/v1/model", "/healthz"}
    for operation in operations:
        # An operation without inputs (GET /healthz) has no invalid request to draw.
        has_inputs = bool(list(operation.iter_parameters()) or list(operation.body))
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * has_inputs
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=20,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def no_server_error(case) -> None:
                case.call_and_validate(checks=[not_a_server_error])

            no_server_error()


def test_serve_refuses_a_bad_model_dir(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "serve", "--model-dir", str(tmp_path))
    assert_one_line_error(code, err, r"is not a model bundle")


def test_serve_without_the_extra_names_it(capsys, monkeypatch, tmp_path: Path) -> None:
    import soc_anomaly.cli.serve as serve_module

    monkeypatch.setattr(serve_module.importlib.util, "find_spec", lambda name: None)
    code, _, err = run_cli(capsys, "serve", "--model-dir", str(tmp_path))
    assert_one_line_error(code, err, r"needs the \[service\] extra: pip install")


def test_the_cli_does_not_import_the_service_stack() -> None:
    # The [service] extra is optional: loading the package and its command line
    # must not need it (serve imports it when it runs).
    code = (
        "import sys, soc_anomaly, soc_anomaly.cli, soc_anomaly.model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'uvicorn', 'starlette', 'pydantic'} or m.startswith('soc_anomaly.service')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
