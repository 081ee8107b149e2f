"""``soc-anomaly serve``: the REST scoring service of one saved model, under uvicorn.

FastAPI and uvicorn are the ``[service]`` extra: they are imported when the
command runs, never when the command line loads, so every other command works
without them.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from typing import Annotated

import typer

from soc_anomaly.cli._console import err
from soc_anomaly.errors import ParameterError, check_positive_int, check_range

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: The same defaults as :func:`soc_anomaly.service.create_app` (not imported: it needs FastAPI).
DEFAULT_MAX_EVENTS = 10_000
DEFAULT_MAX_BYTES = 10_000_000
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_QUEUED = 16
#: Most connections open at once; a request on one more is answered 503.
DEFAULT_MAX_CONNECTIONS = 64


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, so a taken port fails here in one line, exit 2."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ParameterError(f"--host {host!r} cannot be used: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ParameterError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; expected a free port "
            "(--port 0 picks one)"
        ) from None
    return sock


def serve(
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="Bundle written by soc-anomaly train.")
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", help="Port to listen on; 0 picks a free one.")] = (
        DEFAULT_PORT
    ),
    max_events: Annotated[
        int, typer.Option("--max-events", help="Most events in one request (more: 413).")
    ] = DEFAULT_MAX_EVENTS,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Most bytes in one request body (more: 413).")
    ] = DEFAULT_MAX_BYTES,
    read_timeout: Annotated[
        float,
        typer.Option(
            "--read-timeout",
            help="Seconds a request's headers have from its first byte, and its body from the "
            "headers (later: 408 and the connection closed).",
        ),
    ] = DEFAULT_READ_TIMEOUT,
    max_connections: Annotated[
        int,
        typer.Option(
            "--max-connections",
            help="Most connections open at once (a request on one more: 503 with Retry-After).",
        ),
    ] = DEFAULT_MAX_CONNECTIONS,
    max_queued: Annotated[
        int,
        typer.Option(
            "--max-queued",
            help="Scoring requests that may wait for one of the 2 scoring threads (one more: "
            "503 with Retry-After).",
        ),
    ] = DEFAULT_MAX_QUEUED,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            "--api-key-file",
            help="File of API keys, one a line; /v1/* then needs one (Authorization: Bearer KEY "
            "or X-API-Key: KEY). Also SOC_ANOMALY_API_KEY (one key).",
        ),
    ] = None,
    signing_key_file: Annotated[
        Path | None,
        typer.Option(
            "--signing-key-file",
            help="Serve the bundle only if manifest.sig signs it with the key in this file "
            "(HMAC-SHA256). Default: the key in $SOC_ANOMALY_SIGNING_KEY, if set; with "
            "neither, the signature is not checked.",
        ),
    ] = None,
) -> None:
    """Serve a saved model over HTTP: POST /v1/score, GET /v1/model, GET /healthz.

    Each request is scored on its own (the entity windows see only its events);
    to score a stream, use soc-anomaly score.
    """
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        raise ParameterError(
            "the service needs the [service] extra: pip install 'soc-anomaly[service]'"
        )
    check_positive_int("--max-events", max_events)
    check_positive_int("--max-bytes", max_bytes)
    check_range("--port", port, 0, 65535, low_inclusive=True, high_inclusive=True)
    check_range("--read-timeout", read_timeout, 0, 86_400, high_inclusive=True)
    check_positive_int("--max-connections", max_connections)
    check_range("--max-queued", max_queued, 0, 1_000_000, low_inclusive=True)
    import uvicorn

    from soc_anomaly.model.signing import resolve_key
    from soc_anomaly.service import create_app
    from soc_anomaly.service.auth import read_api_keys
    from soc_anomaly.service.guard import MAX_HEADER_BYTES
    from soc_anomaly.service.protocol import guarded_protocol

    api_keys = read_api_keys(api_key_file)
    signing_key = resolve_key(signing_key_file)

    # The model is loaded before the port is taken or uvicorn starts, so a bad
    # bundle is one line and exit 2, not a server that fails its first request.
    app = create_app(
        model_dir,
        max_events=max_events,
        max_bytes=max_bytes,
        read_timeout=read_timeout,
        max_queued=max_queued,
        api_keys=api_keys,
        signing_key=signing_key,
    )
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    err.print(
        f"Serving {model_dir} on http://{shown}:{bound_port} (POST /v1/score, GET /v1/model, "
        f"GET /healthz; at most {max_events:,} events and {max_bytes:,} bytes per request, "
        f"{max_connections} connections, {max_queued} queued requests; read timeout "
        f"{read_timeout:g} s; API key {'required' if api_keys else 'not required'})",
        soft_wrap=True,
        highlight=False,
    )
    config = uvicorn.Config(
        app,
        log_level="info",
        timeout_graceful_shutdown=5,
        # uvicorn's own limit_concurrency stays off: the protocol counts connections
        # and answers 503 with Retry-After in the service's words.
        http=guarded_protocol(read_timeout, max_connections),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        # No WebSocket routes: an upgrade would leave the guarded protocol (and its
        # limits) if a WebSocket library happened to be installed.
        ws="none",
    )
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
