"""The service's one-line errors and its guard, which stands in front of the app.

:class:`_Guard` refuses, before any parsing and each in one line: oversized
headers (431), a ``/v1/*`` request without a valid API key when keys are set
(401), a scoring request when ``max_pending`` are already being read, queued
or scored (503 with ``Retry-After``), a body that is too large (413) or that
has not all arrived within ``read_timeout`` seconds of the headers (408). It
never lets a traceback out. :func:`_reject` words a 4xx for the app.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import anyio
from fastapi import HTTPException
from fastapi.responses import JSONResponse

from soc_anomaly.service.auth import presented_keys, valid_key

# The app's logger: the server log names failures under one name.
logger = logging.getLogger("soc_anomaly.service.app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Seconds a refused client is told to wait (``Retry-After``) when the service is saturated.
RETRY_AFTER_SECONDS = 1
#: Most bytes of request target and headers (h11's own limit, checked exactly here).
MAX_HEADER_BYTES = 16 * 1024
#: The one path that takes a body; any other path takes at most this many bytes.
SCORING_PATH = "/v1/score"
OTHER_MAX_BYTES = 16 * 1024

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


# --- the guard and the catch-all ---------------------------------------------------------------


def _refusal(status: int, detail: str, **headers: str) -> JSONResponse:
    """A one-line refusal that closes the connection (the rest of the request is never read)."""
    response = _detail_response(status, detail)
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    response.headers["connection"] = "close"
    return response


class _Guard:
    """Pure ASGI middleware: refuse what must not reach the app, and never leak a traceback.

    It reads the body itself, counting bytes as they arrive (a client may send
    no Content-Length, or a false one) against a deadline, and hands the app
    the whole body at once. Outside FastAPI's own exception handling, it turns
    any exception the app lets through into a logged, one-line 500.

    Parameters
    ----------
    app : ASGI app
        The app guarded.
    max_bytes : int
        Most bytes in a body to :data:`SCORING_PATH`; other paths take at most
        :data:`OTHER_MAX_BYTES`.
    read_timeout : float, optional
        Seconds the whole body has, from the moment the headers are in; None
        for no deadline.
    max_pending : int, optional
        Most scoring requests at once, counted from their headers to their
        answer (body being read, waiting for a scoring thread, or scored);
        one more is a 503 with ``Retry-After``. None for no limit.
    api_keys : sequence of bytes, default=()
        When not empty, every ``/v1/*`` request must carry one of them.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        read_timeout: float | None = None,
        max_pending: int | None = None,
        api_keys: Sequence[bytes] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self.max_pending = max_pending
        self.api_keys = tuple(api_keys)
        # The event loop runs one coroutine at a time: a plain counter is safe.
        self.pending = 0

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

        scoring = scope["path"] == SCORING_PATH
        counted = False
        try:
            refusal = self._refusal(scope, scoring)
            if refusal is not None:
                await refusal(scope, receive, tracked_send)
                return
            if scoring and self.max_pending is not None:
                self.pending += 1
                counted = True
            body = await self._read_body(scope, receive, tracked_send, scoring)
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
        finally:
            if counted:
                self.pending -= 1

    def _refusal(self, scope: Scope, scoring: bool) -> JSONResponse | None:
        """The answer to a request refused on its headers alone, or None to go on."""
        headers = scope["headers"]
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(k) + len(v) + 4 for k, v in headers)
        if size > MAX_HEADER_BYTES:
            return _refusal(
                431, f"the request line and headers are over {MAX_HEADER_BYTES:,} bytes"
            )
        if self.api_keys and scope["path"].startswith("/v1/"):
            presented = presented_keys(headers)
            if not valid_key(presented, self.api_keys):
                detail = (
                    "the API key is not valid"
                    if presented
                    else "an API key is needed: send Authorization: Bearer KEY or X-API-Key: KEY"
                )
                return _refusal(401, detail, www_authenticate='Bearer realm="soc-anomaly"')
        if scoring and self.max_pending is not None and self.pending >= self.max_pending:
            logger.warning("%d scoring requests in progress: answering 503.", self.pending)
            return _refusal(
                503,
                f"the service is busy ({self.pending} requests being read, queued or scored); "
                "retry in a moment (see the Retry-After header)",
                retry_after=str(RETRY_AFTER_SECONDS),
            )
        return None

    async def _read_body(
        self, scope: Scope, receive: Receive, send: Send, scoring: bool
    ) -> bytes | None:
        """The request body, or None once a 4xx (or nothing, on disconnect) was sent."""
        limit = self.max_bytes if scoring else OTHER_MAX_BYTES
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        length = None
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
            if length > limit:
                await self._too_large(f"{length:,} bytes", scoring, scope, receive, send)
                return None
        chunks: list[bytes] = []
        size = 0
        # The deadline counts from the headers, not between reads: a client
        # that drips a byte a second is cut off as surely as a silent one.
        with anyio.move_on_after(self.read_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await self._too_large(f"over {limit:,} bytes", scoring, scope, receive, send)
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        expected = f" of {length:,}" if length is not None else ""
        logger.warning("Request body not received within %g s.", self.read_timeout)
        await _refusal(
            408,
            f"the body did not arrive within {self.read_timeout:g} s ({size:,}{expected} bytes "
            "received); send the whole request at once",
        )(scope, receive, send)
        return None

    async def _too_large(
        self, what: str, scoring: bool, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scoring:
            detail = (
                f"the body is {what}; at most {self.max_bytes:,} bytes per request (split the "
                "events over several requests)"
            )
        else:
            detail = f"the body is {what}; at most {OTHER_MAX_BYTES:,} bytes outside {SCORING_PATH}"
        await _refusal(413, detail)(scope, receive, send)
