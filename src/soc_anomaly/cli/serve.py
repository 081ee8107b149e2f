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
    import uvicorn

    from soc_anomaly.service import create_app

    # The model is loaded before the port is taken or uvicorn starts, so a bad
    # bundle is one line and exit 2, not a server that fails its first request.
    app = create_app(model_dir, max_events=max_events, max_bytes=max_bytes)
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    err.print(
        f"Serving {model_dir} on http://{shown}:{bound_port} (POST /v1/score, GET /v1/model, "
        f"GET /healthz; at most {max_events:,} events and {max_bytes:,} bytes per request)",
        soft_wrap=True,
        highlight=False,
    )
    config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=5)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
