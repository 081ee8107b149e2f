"""The service's one-line errors and its guard: oversized bodies refused before parsing,
and no traceback ever sent (:class:`Guard` wraps the app, :func:`reject` words a 4xx)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse

# The app's logger: the server log names failures under one name.
logger = logging.getLogger("soc_anomaly.service.app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# --- one-line errors ----------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _reject(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=_one_line(detail))


def _detail_response(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": _one_line(detail)}, status_code=status)


def _kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _show(value: Any, limit: int = 40) -> str:
    """A value as JSON, shortened, for a message (JSON escapes newlines: it stays one line)."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The readers number records from 1 as lines ("line 3: ...") or events
# ("event 3 has no time"); in a request they are elements of the array.
_POSITION = re.compile(r"^(?:line|event) (\d+)")


def _as_record(message: str) -> str:
    return _POSITION.sub(r"record \1", _one_line(message), count=1)


# --- the body-size guard and the catch-all ------------------------------------------------------


class _Guard:
    """Pure ASGI middleware: refuse oversized bodies before parsing, and never leak a traceback.

    It reads the body itself, counting bytes as they arrive (a client may send
    no Content-Length, or a false one), and hands the app the whole body at
    once. Outside FastAPI's own exception handling, it turns any exception the
    app lets through into a logged, one-line 500.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            body = await self._read_body(scope, receive, tracked_send)
            if body is None:
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, tracked_send)
        except Exception:
            logger.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if not started:
                response = _detail_response(
                    500, "internal error while handling the request; the server log has the details"
                )
                await response(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The request body, or None once a 413 (or nothing, on disconnect) was sent."""
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await _detail_response(400, "the Content-Length header is not a number")(
                    scope, receive, send
                )
                return None
            if length > self.max_bytes:
                await self._too_large(f"{length:,} bytes", scope, receive, send)
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(f"over {self.max_bytes:,} bytes", scope, receive, send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, what: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = _detail_response(
            413,
            f"the body is {what}; at most {self.max_bytes:,} bytes per request (split the "
            "events over several requests)",
        )
        # Close the connection: the rest of the body is never read.
        response.headers["connection"] = "close"
        await response(scope, receive, send)
