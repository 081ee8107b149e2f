"""The HTTP/1.1 protocol the service runs under: uvicorn's h11 protocol, guarded.

uvicorn has no deadline for a request's headers (a client that opens a
connection and sends a byte now and then holds it for ever) and its own
``limit_concurrency`` answers 503 without ``Retry-After`` and in plain text.
:func:`guarded_protocol` makes a subclass of uvicorn's ``H11Protocol`` that

* closes a connection whose request line and headers have not all arrived
  within ``read_timeout`` seconds of the connection opening (or of the first
  byte of the next request on a kept-alive connection), with a 408 when part
  of a request had arrived;
* answers every request of a connection opened while ``max_connections``
  others are open with 503 and ``Retry-After`` and closes it;
* words the refusals of malformed requests and oversized headers (431) as the
  app words its errors: one line in ``{"detail": ...}``.

The body's deadline is the app's (:class:`soc_anomaly.service.guard._Guard`),
so it holds whatever server runs the app.
"""

from __future__ import annotations

import asyncio
import http
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from soc_anomaly.service.guard import (
    MAX_HEADER_BYTES,
    RETRY_AFTER_SECONDS,
    Receive,
    Scope,
    Send,
    _detail_response,
)

__all__ = ["guarded_protocol"]


async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The app of a connection over the limit: 503, Retry-After, close (the body is never read)."""
    response = _detail_response(
        503, "too many open connections; retry in a moment (see the Retry-After header)"
    )
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def guarded_protocol(read_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header deadline and a connection limit.

    Parameters
    ----------
    read_timeout : float
        Seconds a client has to send a request's line and headers, counted
        from the connection opening or from the first byte of a later request.
    max_connections : int
        Most connections open at once; a request on a connection beyond it
        gets 503 with ``Retry-After``.

    Returns
    -------
    type
        A protocol class for ``uvicorn.Config(http=...)``. uvicorn's own
        ``limit_concurrency`` should be left unset: the class counts
        connections itself.
    """

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # ``connections`` holds this one too: over the limit, every request
            # on it is answered by ``_busy`` instead of the app.
            if len(self.connections) > max_connections:
                self.logger.warning("Over %d open connections: answering 503.", max_connections)
                self.app = _busy
            self._watch_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _watch_headers(self) -> None:
            """Arm the deadline while a request's headers are awaited; disarm once they are in."""
            waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
            if waiting and self._header_timer is None:
                # Called on connection and on data only: an idle kept-alive
                # connection is left to uvicorn's timeout_keep_alive, and the
                # deadline starts with the next request's first byte.
                self._header_timer = self.loop.call_later(read_timeout, self._headers_late)
            elif not waiting:
                self._stop_header_timer()

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.trailing_data[0]:
                self.logger.warning("Request headers not received within %g s.", read_timeout)
                self._refuse(
                    408,
                    f"the request headers did not arrive within {read_timeout:g} s; send the "
                    "whole request at once",
                )
            else:  # nothing sent: nobody to answer
                self.transport.close()

        def send_400_response(self, msg: str) -> None:
            # uvicorn's answer to what h11 cannot parse, in the app's words.
            if len(self.conn.trailing_data[0]) > MAX_HEADER_BYTES:
                self._refuse(
                    431, f"the request line and headers are over {MAX_HEADER_BYTES:,} bytes"
                )
            else:
                self._refuse(400, "the request is not valid HTTP/1.1")

        def _refuse(self, status: int, detail: str) -> None:
            """Answer one line in ``{"detail": ...}`` outside any request, and close."""
            body = json.dumps({"detail": detail}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            try:
                reason = http.HTTPStatus(status).phrase.encode()
                out = self.conn.send(
                    h11.Response(status_code=status, headers=headers, reason=reason)
                )
                out = (out or b"") + (self.conn.send(h11.Data(data=body)) or b"")
                out += self.conn.send(h11.EndOfMessage()) or b""
                self.transport.write(out)
            except h11.LocalProtocolError:  # a response had begun: closing is all that is left
                pass
            self.transport.close()

    return GuardedH11Protocol
