"""A REST scoring service: POST events, get back calibrated scores, alerts and reasons.

:func:`create_app` loads one saved model bundle (:meth:`AnomalyModel.load
<soc_anomaly.model.AnomalyModel.load>`) when the app is made, so a bad bundle
fails at start, and serves it:

``POST /v1/score``
    The body is a JSON array of events: flat records with the raw enterprise
    columns (``time`` as ISO 8601 text or epoch milliseconds, ``user``,
    ``class_uid``, ``src_ip``, ...) or OCSF Authentication (3002) and Network
    Activity (4001) records (:mod:`soc_anomaly.data.ocsf_input`), one kind per
    request. The answer holds, for each event in the order sent, its position
    (``index``), its ``event_id`` (flat) or ``metadata.uid`` (OCSF) when it has
    one, its calibrated ``score`` (0-100), its ``alert`` flag and its
    ``reasons`` (a list of sentences). With ``?format=ocsf`` it holds an OCSF
    Detection Finding per alert instead (:mod:`soc_anomaly.model.findings`).
    When the bundle holds an incident linker, the answer also lists the
    incidents the request's events raise (``incidents``: the request linked
    on its own, in time order, at the bundle's budget; each incident's
    ``events`` are positions in the array), as incident objects, or with
    ``?format=ocsf`` as OCSF Incident Findings
    (:mod:`soc_anomaly.model.incident_findings`).
    When the events' times overlap the model's training window, the answer
    carries a one-line ``warning`` naming both ranges (logged once).
``GET /v1/model``
    The bundle's manifest.
``GET /healthz``
    ``{"status": "ok", ...}`` once the model is loaded.

Each request is scored on its own
---------------------------------
The entity features' windows (failures over 24 hours, an account's previous
logon, beaconing intervals, ...) see the events of the request being scored
and nothing else: no state is kept between requests, so any number of clients
and server processes give the same answer to the same body. An event sent
alone can therefore score differently from the same event in a stream, where
the windows see what came before it. To score a stream, use ``soc-anomaly
score``, which carries each account's recent history from chunk to chunk.

Limits and errors
-----------------
A request waits neither for slow clients nor in an unbounded queue: its body
must arrive within ``read_timeout`` seconds of its headers (else 408), and
once ``SCORING_THREADS + max_queued`` scoring requests are in progress
(being read, waiting or scored) the next one is refused at once with 503 and
``Retry-After`` (:mod:`soc_anomaly.service.guard`; the header deadline and the
connection limit are the server's, :mod:`soc_anomaly.service.protocol`). When
API keys are given, every ``/v1/*`` request needs one (401 otherwise;
:mod:`soc_anomaly.service.auth`). ``/docs`` and ``/redoc`` load their scripts
from the service itself (:mod:`soc_anomaly.service.docs`).

A body over ``max_bytes`` (by its Content-Length, or by the bytes actually
received when there is none) or with more than ``max_events`` events is
refused with 413 before it is scored. Every other bad body is refused with one
line in ``{"detail": ...}``: 400 when it is not JSON, 422 when it is not a
non-empty array of objects, mixes flat and OCSF records, or holds an event
that cannot be scored (an OCSF class other than 3002/4001, a missing column,
a bad time, a value of the wrong type); ``record N`` is the N-th element of
the array, counted from 1. An unexpected failure is logged with its traceback
on the server and answered with a one-line 500, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from soc_anomaly import __version__
from soc_anomaly.errors import check_positive_int, check_range
from soc_anomaly.model.bundle import load_bundle
from soc_anomaly.model.findings import findings, reason_list
from soc_anomaly.service.batch import (
    _batch_model,
    _event_id,
    _events_frame,
    _incidents,
    _overlap,
    _parse_batch,
    _score,
)
from soc_anomaly.service.docs import service_app
from soc_anomaly.service.guard import _detail_response, _Guard
from soc_anomaly.service.schemas import (
    EXAMPLE_EVENT,
    Detail,
    FindingsResponse,
    Health,
    ScoreResponse,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_READ_TIMEOUT",
    "create_app",
]

#: Most events in one request.
DEFAULT_MAX_EVENTS = 10_000
#: Most bytes in one request body.
DEFAULT_MAX_BYTES = 10_000_000
#: Requests parsed and scored at once; the others wait with their body unparsed.
#: Scoring holds the GIL most of the time, so more threads than this add memory
#: (a parsed batch each), not speed.
SCORING_THREADS = 2
#: Scoring requests that may wait for a thread (their bodies in memory); one more is a 503.
DEFAULT_MAX_QUEUED = 16
#: Seconds a request's body has to arrive, from its headers (and its headers from its first byte).
DEFAULT_READ_TIMEOUT = 10.0

logger = logging.getLogger(__name__)

# --- the app ------------------------------------------------------------------------------------


def create_app(
    model_dir: str | Path,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    max_queued: int = DEFAULT_MAX_QUEUED,
    api_keys: Sequence[bytes] = (),
    signing_key: bytes | str | None = None,
) -> FastAPI:
    """The scoring service of one saved model.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        A bundle written by :meth:`AnomalyModel.save`; loaded (and checked)
        here, once.
    max_events : int, default=10_000
        Most events in one request; more is a 413.
    max_bytes : int, default=10_000_000
        Most bytes in one request body; more is a 413, checked before parsing.
    read_timeout : float or None, default=10.0
        Seconds a request's body has to arrive once its headers are in; later
        is a 408. None for no deadline.
    max_queued : int, default=16
        Scoring requests that may wait for one of the ``SCORING_THREADS``
        scoring threads; past ``SCORING_THREADS + max_queued`` requests in
        progress the next is refused at once with 503 and ``Retry-After``.
    api_keys : sequence of bytes, default=()
        When given (:func:`soc_anomaly.service.auth.read_api_keys`), every
        ``/v1/*`` request must carry one of them; ``/healthz`` and the docs
        stay open.
    signing_key : bytes or str, optional
        Load the bundle only if its ``manifest.sig`` signs it with this key
        (:mod:`soc_anomaly.model.signing`).

    Returns
    -------
    fastapi.FastAPI
        The ASGI app; serve it with uvicorn (``soc-anomaly serve``).

    Raises
    ------
    soc_anomaly.errors.ModelError
        If ``model_dir`` is not a loadable bundle.
    soc_anomaly.errors.ParameterError
        If a limit is not a positive integer.
    """
    check_positive_int("max_events", max_events)
    check_positive_int("max_bytes", max_bytes)
    if read_timeout is not None:
        check_range("read_timeout", read_timeout, 0, 86_400, high_inclusive=True)
    check_range("max_queued", max_queued, 0, 1_000_000, low_inclusive=True)
    # One read of the bundle: the manifest served is the one checked against the model.
    model, manifest = load_bundle(model_dir, signing_key)
    model_id = str(manifest.get("model_sha256", ""))[:16]
    batch = _batch_model(max_events)
    health = Health(
        status="ok",
        model=model_id,
        detector=str(model.detector),
        features=str(model.features),
        version=__version__,
        max_events=max_events,
        max_bytes=max_bytes,
    ).model_dump()
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": Detail, "description": text}
        for code, text in (
            (400, "The body is not JSON."),
            (413, f"The body is over {max_bytes:,} bytes or holds over {max_events:,} events."),
            (408, "The body did not all arrive in time."),
            (422, "The body is not an array of events, or an event cannot be scored."),
            (503, "Too many requests in progress; retry after Retry-After seconds."),
        )
    }
    body_schema = batch.model_json_schema()
    body_schema["items"]["description"] = (
        "A flat event (raw enterprise columns) or an OCSF 3002/4001 record; one kind per request."
    )
    body_schema["example"] = [EXAMPLE_EVENT]
    limiter: anyio.CapacityLimiter | None = None
    warned: list[bool] = []

    app = service_app(
        secured=bool(api_keys),
        title="soc-anomaly scoring service",
        version=__version__,
        description=(
            "Score security events with one saved soc-anomaly model. Each request is scored on "
            "its own: the entity features' windows see only that request's events."
        ),
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default is a list of error objects; the service answers in one line.
        error = exc.errors()[0] if exc.errors() else {}
        where = " ".join(str(p) for p in error.get("loc", ()))
        return _detail_response(422, f"{where}: {error.get('msg', 'invalid request')}")

    @app.post(
        "/v1/score",
        response_model=ScoreResponse | FindingsResponse,
        responses=errors,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            }
        },
        summary="Score a batch of events",
    )
    async def score(
        request: Request,
        format: Annotated[
            Literal["json", "ocsf"],
            Query(description="json: a result per event; ocsf: a Detection Finding per alert."),
        ] = "json",
    ) -> JSONResponse:
        """Score a JSON array of flat events or OCSF records, each request on its own.

        The body is read as JSON whatever its Content-Type.
        """
        nonlocal limiter
        if limiter is None:  # made here: anyio needs the running event loop
            limiter = anyio.CapacityLimiter(SCORING_THREADS)
        body = await request.body()
        # Parsing and scoring are CPU-bound: off the event loop, so /healthz
        # answers while a large batch is scored.
        return await anyio.to_thread.run_sync(_answer, body, format, limiter=limiter)

    def _answer(body: bytes, fmt: str) -> JSONResponse:
        records = _parse_batch(body, batch, max_events)
        frame, ocsf = _events_frame(records)
        frame, scored, changed = _score(model, frame)
        incidents = _incidents(model, frame, scored, manifest, fmt)
        alerts = scored["alert"].to_numpy(dtype=bool)
        head: dict[str, Any] = {
            "model": model_id,
            "events": len(records),
            "alerts": int(alerts.sum()),
        }
        warning = _overlap(model, frame)
        if warning and not warned:
            # Logged once per process; every answer concerned carries it.
            logger.warning("%s", warning)
            warned.append(True)
        if warning or changed:
            head["warning"] = "; ".join(filter(None, [warning, *changed]))
        if incidents is not None:
            head["incidents"] = incidents
        if fmt == "ocsf":
            return JSONResponse({**head, "findings": list(findings(frame, scored, manifest))})
        scores = scored["score"].to_numpy(dtype=float).tolist()
        reasons = scored["reasons"].tolist()
        results = []
        for i, record in enumerate(records):
            item: dict[str, Any] = {"index": i}
            event_id = _event_id(record, ocsf)
            if event_id is not None:
                item["event_id"] = event_id
            item["score"] = scores[i]
            item["alert"] = bool(alerts[i])
            item["reasons"] = reason_list(reasons[i])
            results.append(item)
        return JSONResponse({**head, "results": results})

    @app.get("/v1/model", response_model=dict[str, Any], summary="The model's manifest")
    async def model_manifest() -> JSONResponse:
        """The saved bundle's manifest: features, detector, threshold, training window."""
        return JSONResponse(manifest)

    @app.get("/healthz", response_model=Health, summary="Liveness")
    async def healthz() -> JSONResponse:
        """``{"status": "ok"}`` with the model's id and the service's limits."""
        return JSONResponse(health)

    app.add_middleware(
        _Guard,
        max_bytes=max_bytes,
        read_timeout=read_timeout,
        max_pending=SCORING_THREADS + max_queued,
        api_keys=tuple(api_keys),
    )
    return app
