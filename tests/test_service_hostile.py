"""The scoring service under hostile clients: a real ``soc-anomaly serve`` with short limits.

One server runs for the module with a 1 s read timeout, 6 connections, 1 queued
request and an API key, so each slow client is cut off in about a second. Raw
sockets play the clients that httpx would never be: slow headers, a dripping
body, idle connections, oversized headers, garbage.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import assert_one_line_error, run_cli
from service_helpers import serving

from soc_anomaly.service.auth import presented_keys, read_api_keys, valid_key

KEY = "test-key-0123456789abcdef"
READ_TIMEOUT = 1.0
MAX_CONNECTIONS = 6
MAX_QUEUED = 1
SCORING_THREADS = 2
TRUTH = ["label", "campaign_id", "attack_type", "mitre_technique", "step", "benign_tag"]


@pytest.fixture(scope="module")
def server(scoring_world, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``soc-anomaly serve`` with short limits and an API key; stopped at teardown."""
    folder = tmp_path_factory.mktemp("hostile")
    keys = folder / "keys.txt"
    keys.write_text(f"# the test's key\n\n{KEY}\n")
    log = folder / "server.log"
    args = [
        "--model-dir",
        str(scoring_world.model_dir),
        "--port",
        "0",
        "--read-timeout",
        str(READ_TIMEOUT),
        "--api-key-file",
        str(keys),
    ]
    args += ["--max-connections", str(MAX_CONNECTIONS), "--max-queued", str(MAX_QUEUED)]
    with serving(args, log) as url:
        yield url


@pytest.fixture(scope="module")
def events_body(scoring_world) -> list[dict[str, Any]]:
    """Five flat events as JSON, ground truth removed."""
    frame = scoring_world.later.head(5).drop(columns=TRUTH, errors="ignore")
    out = frame.astype(object).where(frame.notna(), None)
    out["time"] = [t.isoformat() for t in frame["time"]]
    return json.loads(json.dumps(out.to_dict("records"), default=lambda v: v.item()))


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of one raw HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def _one_line(detail: Any) -> str:
    assert isinstance(detail, str) and "\n" not in detail and detail
    return detail


# --- slow clients -------------------------------------------------------------------------------


def test_headers_dripped_byte_by_byte_are_cut_at_the_deadline(server: str) -> None:
    # Each byte would reset an idle timer; the deadline counts from the first byte.
    request = b"POST /v1/score HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
    with _connect(server) as sock:
        start = time.monotonic()
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:  # the server closed first: what is wanted
            pass
        raw = _read_all(sock)
        elapsed = time.monotonic() - start
    status, headers, body = _answer(raw)
    assert status == 408 and headers["connection"] == "close"
    assert "did not arrive within 1 s" in _one_line(body["detail"])
    assert READ_TIMEOUT * 0.9 <= elapsed < READ_TIMEOUT + 1.5


def test_a_connection_that_sends_nothing_is_closed(server: str) -> None:
    with _connect(server) as sock:
        start = time.monotonic()
        assert _read_all(sock) == b""  # nothing was asked: closed without an answer
        assert time.monotonic() - start < READ_TIMEOUT + 1.5


def test_a_slow_body_gets_408(server: str) -> None:
    head = f"POST /v1/score HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Length: 100\r\n\r\n"
    with _connect(server) as sock:
        start = time.monotonic()
        sock.sendall(head.encode() + b'[{"user":')
        raw = _read_all(sock)
        elapsed = time.monotonic() - start
    status, headers, body = _answer(raw)
    assert status == 408 and headers["connection"] == "close"
    assert re.fullmatch(
        r"the body did not arrive within 1 s \(9 of 100 bytes received\); .*",
        _one_line(body["detail"]),
    )
    assert READ_TIMEOUT * 0.9 <= elapsed < READ_TIMEOUT + 1.5


# --- saturation ---------------------------------------------------------------------------------


def _until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server did not recover"
        time.sleep(0.05)


def test_too_many_connections_get_503_with_retry_after(server: str) -> None:
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)  # the server has accepted them all
        response = httpx.get(f"{server}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["connection"] == "close"
        assert "too many open connections" in _one_line(response.json()["detail"])
    finally:
        for sock in idle:
            sock.close()
    _until(lambda: httpx.get(f"{server}/healthz", timeout=10).status_code == 200)


def test_a_full_queue_refuses_at_once_while_health_answers(server: str, events_body) -> None:
    # Scoring requests count from their headers: slow bodies fill the threads and the queue.
    head = f"POST /v1/score HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Length: 100\r\n\r\n"
    slow = [_connect(server) for _ in range(SCORING_THREADS + MAX_QUEUED)]
    try:
        for sock in slow:
            sock.sendall(head.encode() + b"[")
        time.sleep(0.2)
        start = time.monotonic()
        response = httpx.post(
            f"{server}/v1/score", json=events_body, headers={"X-API-Key": KEY}, timeout=10
        )
        assert time.monotonic() - start < 0.5  # refused at once, not queued
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "the service is busy (3 requests" in _one_line(response.json()["detail"])
        assert httpx.get(f"{server}/healthz", timeout=10).status_code == 200
    finally:
        for sock in slow:
            sock.close()
    _until(
        lambda: (
            httpx.post(
                f"{server}/v1/score", json=events_body, headers={"X-API-Key": KEY}, timeout=10
            ).status_code
            == 200
        )
    )


# --- API keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "pattern"),
    [
        ({}, 401, r"^an API key is needed: send Authorization: Bearer KEY or X-API-Key: KEY$"),
        ({"X-API-Key": "x" * 25}, 401, r"^the API key is not valid$"),
        ({"Authorization": f"Basic {KEY}"}, 401, r"^an API key is needed"),
        ({"Authorization": f"Bearer {KEY[:-1]}"}, 401, r"^the API key is not valid$"),
        ({"Authorization": f"Bearer {KEY}"}, 200, None),
        ({"authorization": f"bearer {KEY}"}, 200, None),
        ({"X-API-Key": KEY}, 200, None),
    ],
)
def test_v1_needs_a_valid_api_key(
    server: str, events_body, headers: dict[str, str], status: int, pattern: str | None
) -> None:
    response = httpx.post(f"{server}/v1/score", json=events_body, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    if pattern is None:
        assert response.json()["events"] == len(events_body)
        assert httpx.get(f"{server}/v1/model", headers=headers).status_code == 200
    else:
        assert re.search(pattern, _one_line(response.json()["detail"]))
        assert response.headers["www-authenticate"] == 'Bearer realm="soc-anomaly"'
        assert httpx.get(f"{server}/v1/model", headers=headers).status_code == 401


def test_a_request_without_a_key_is_refused_before_its_body_is_read(server: str) -> None:
    head = b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"
    with _connect(server) as sock:
        start = time.monotonic()
        sock.sendall(head)  # the 5 MB never come
        status, headers, _ = _answer(_read_all(sock))
        assert time.monotonic() - start < 0.5
    assert status == 401 and headers["connection"] == "close"


def test_health_and_docs_need_no_key(server: str) -> None:
    assert httpx.get(f"{server}/healthz").status_code == 200
    assert httpx.get(f"{server}/openapi.json").status_code == 200


def test_the_schema_declares_the_api_keys(server: str) -> None:
    schema = httpx.get(f"{server}/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path in ("/v1/score", "/v1/model"):
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{"bearer": []}, {"apiKey": []}]
            assert "401" in operation["responses"]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert {"408", "503"} <= set(schema["paths"]["/v1/score"]["post"]["responses"])


# --- docs offline, malformed and oversized requests ---------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_everything_from_the_service(server: str, page: str) -> None:
    html = httpx.get(f"{server}{page}").text
    # No absolute URL at all: no CDN, no font service, no outside favicon.
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE), html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//")
        loaded = httpx.get(f"{server}{asset}")
        assert loaded.status_code == 200 and len(loaded.content) > 1000, asset
    assert "'validatorUrl': null" in html.replace('"', "'") or page == "/redoc"


@pytest.mark.parametrize(
    ("raw", "status", "pattern"),
    [
        # Headers that never end grow past h11's limit: refused as they arrive.
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000, 431, r"over 16,384 bytes"),
        # The same headers sent whole are parsed at once: the guard counts them.
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
            431,
            r"over 16,384 bytes",
        ),
        (b"HELLO WORLD\r\n\r\n", 400, r"^the request is not valid HTTP/1\.1$"),
    ],
    ids=["unfinished-big-headers", "whole-big-headers", "garbage"],
)
def test_bad_http_is_a_one_line_json_4xx(
    server: str, raw: bytes, status: int, pattern: str
) -> None:
    with _connect(server) as sock:
        sock.sendall(raw)
        got, headers, body = _answer(_read_all(sock))
    assert got == status and headers["connection"] == "close"
    assert re.search(pattern, _one_line(body["detail"]))


# --- keys at start ------------------------------------------------------------------------------


def test_keys_are_read_one_a_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# comment\n\n  {KEY}  \n{KEY}\nsecond-key-0123456789\n")
    got = read_api_keys(keys, environ={"SOC_ANOMALY_API_KEY": "from-env-0123456789"})
    assert got == (KEY.encode(), b"second-key-0123456789", b"from-env-0123456789")
    assert read_api_keys(None, environ={}) == ()
    assert presented_keys([(b"authorization", b"Bearer  abc "), (b"x-api-key", b"def")]) == [
        b"abc",
        b"def",
    ]
    assert valid_key([b"nope", KEY.encode()], got) and not valid_key([], got)


@pytest.mark.parametrize(
    ("content", "env", "pattern"),
    [
        ("", None, r"--api-key-file '.*' holds no key; expected one key a line"),
        ("# only a comment\n\n", None, r"holds no key"),
        ("short\n", None, r"an API key has 5 characters; expected at least 16"),
        ("has a space in it 0123\n", None, r"printable ASCII"),
        (None, None, r"--api-key-file '.*' cannot be read: No such file or directory"),
        (None, "", r"^error: SOC_ANOMALY_API_KEY is set but empty"),
    ],
    ids=["empty", "comments-only", "short", "space", "missing", "empty-env"],
)
def test_serve_refuses_bad_keys_at_start(
    capsys, monkeypatch, scoring_world, tmp_path: Path, content, env, pattern
) -> None:
    argv = ["serve", "--model-dir", str(scoring_world.model_dir), "--port", "0"]
    if env is None:
        monkeypatch.delenv("SOC_ANOMALY_API_KEY", raising=False)
        path = tmp_path / "keys"
        if content is not None:
            path.write_text(content)
        argv += ["--api-key-file", str(path)]
    else:
        monkeypatch.setenv("SOC_ANOMALY_API_KEY", env)
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, pattern)


@pytest.mark.parametrize(
    ("flag", "value", "pattern"),
    [
        ("--read-timeout", "0", r"--read-timeout must be in \(0, 86400\]"),
        ("--max-connections", "0", r"--max-connections"),
        ("--max-queued", "-1", r"--max-queued must be in \[0, 1e\+06\)"),
    ],
)
def test_serve_refuses_bad_limits(capsys, scoring_world, flag: str, value: str, pattern) -> None:
    argv = ["serve", "--model-dir", str(scoring_world.model_dir), "--port", "0", flag, value]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, pattern)
