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
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
import pandas as pd
import pydantic_core
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field, RootModel, ValidationError

from soc_anomaly import __version__
from soc_anomaly.data.event_stream import parse_times
from soc_anomaly.data.ocsf_input import is_ocsf_record, ocsf_to_events
from soc_anomaly.errors import SocAnomalyError, check_positive_int
from soc_anomaly.model import AnomalyModel, read_manifest
from soc_anomaly.model.findings import findings, reason_list
from soc_anomaly.model.scoring import training_overlap
from soc_anomaly.service.guard import (
    _as_record,
    _detail_response,
    _Guard,
    _kind,
    _reject,
    _show,
)
from soc_anomaly.service.schemas import (
    EXAMPLE_EVENT,
    EXPECTED,
    FLAT_EVENTS,
    Detail,
    FindingsResponse,
    Health,
    ScoreResponse,
)

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_EVENTS", "create_app"]

#: Most events in one request.
DEFAULT_MAX_EVENTS = 10_000
#: Most bytes in one request body.
DEFAULT_MAX_BYTES = 10_000_000
#: Requests parsed and scored at once; the others wait with their body unparsed.
#: Scoring holds the GIL most of the time, so more threads than this add memory
#: (a parsed batch each), not speed.
SCORING_THREADS = 2

logger = logging.getLogger(__name__)

# --- reading a batch ----------------------------------------------------------------------------


def _batch_model(max_events: int) -> type[RootModel[list[dict[str, Any]]]]:
    """The body's pydantic model: an array of 1 to ``max_events`` JSON objects."""

    class EventBatch(RootModel[list[dict[str, Any]]]):
        root: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=max_events)]

    return EventBatch


def _parse_batch(
    body: bytes, batch: type[RootModel[list[dict[str, Any]]]], max_events: int
) -> list[dict[str, Any]]:
    """The body's records; HTTP errors for a body that is not a non-empty array of objects."""
    if not body.strip():
        raise _reject(400, "the body is empty; expected a JSON array of events")
    try:
        value = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise _reject(
            400, f"the body is not valid JSON ({exc}); expected a JSON array of events"
        ) from None
    try:
        return batch.model_validate(value).root
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
    kind, loc = error["type"], error["loc"]
    if kind == "too_long":
        raise _reject(
            413,
            f"{len(value):,} events in one request; at most {max_events:,} (split the events "
            "over several requests)",
        )
    if kind == "too_short":
        raise _reject(422, f"the array is empty; expected 1 to {max_events:,} events")
    if kind == "list_type":
        raise _reject(422, f"the body is {_kind(value)}; expected a JSON array of events")
    if kind == "dict_type" and loc and isinstance(loc[0], int):
        raise _reject(
            422,
            f"record {loc[0] + 1} is {_kind(value[loc[0]])}; expected an object (a flat event "
            "or an OCSF record)",
        )
    raise _reject(422, f"{'.'.join(map(str, loc)) or 'the body'}: {error['msg']}")


def _flat_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Raw events of flat records, their column types checked."""
    try:
        FLAT_EVENTS.validate_python(records)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        position, column = int(error["loc"][0]), str(error["loc"][1])
        value = records[position].get(column)
        raise _reject(
            422,
            f"record {position + 1}: {column} is {_kind(value)} {_show(value)}; expected "
            f"{EXPECTED.get(column, 'a JSON value')}",
        ) from None
    # A column of times is parsed one way, as text or as numbers, not both.
    text_time = [isinstance(r.get("time"), str) for r in records if r.get("time") is not None]
    if any(text_time) and not all(text_time):
        other = next(i for i, t in enumerate(text_time) if t != text_time[0])
        position = [i for i, r in enumerate(records) if r.get("time") is not None][other]
        forms = ("epoch milliseconds", "ISO 8601 text")
        raise _reject(
            422,
            f"record {position + 1}: time is {forms[text_time[other]]} but earlier times are "
            f"{forms[text_time[0]]}; expected one form of time per request",
        )
    try:
        return parse_times(pd.DataFrame.from_records(records))
    except SocAnomalyError as exc:
        raise _reject(422, _as_record(str(exc))) from None


def _ocsf_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Raw events of OCSF records; a record that cannot be read is named."""
    try:
        return ocsf_to_events(records, lines=list(range(1, len(records) + 1)))
    except SocAnomalyError as exc:
        raise _reject(422, _as_record(str(exc))) from None


def _events_frame(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, bool]:
    """The raw events table of a batch, and whether it was sent as OCSF records."""
    ocsf = [is_ocsf_record(r) for r in records]
    if any(ocsf) and not all(ocsf):
        first = ocsf[0]
        other = next(i for i, o in enumerate(ocsf) if o != first)
        kinds = ("a flat event", "an OCSF record")
        raise _reject(
            422,
            f"record {other + 1} is {kinds[not first]} but record 1 is {kinds[first]}; expected "
            "one kind per request",
        )
    if ocsf[0]:
        return _ocsf_frame(records), True
    return _flat_frame(records), False


def _event_id(record: dict[str, Any], ocsf: bool) -> str | int | float | None:
    """The id the client gave the event, echoed as sent (when JSON can hold it)."""
    value = record.get("event_id")
    if ocsf:
        meta = record.get("metadata")
        value = meta.get("uid") if isinstance(meta, dict) else None
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return str(value)
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def _score(model: AnomalyModel, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return model.score(frame)
    except SocAnomalyError as exc:
        raise _reject(422, _as_record(str(exc))) from None


def _overlap(model: AnomalyModel, frame: pd.DataFrame) -> str | None:
    """The warning when the batch's times overlap the model's training window."""
    times = frame["time"] if "time" in frame.columns else None
    if times is None or not len(times) or not pd.api.types.is_datetime64_any_dtype(times):
        return None
    return training_overlap(getattr(model, "training_", None), times.min(), times.max())


# --- the app ------------------------------------------------------------------------------------


def create_app(
    model_dir: str | Path,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
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
    model = AnomalyModel.load(model_dir)
    manifest = read_manifest(model_dir)
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
            (422, "The body is not an array of events, or an event cannot be scored."),
        )
    }
    body_schema = batch.model_json_schema()
    body_schema["items"]["description"] = (
        "A flat event (raw enterprise columns) or an OCSF 3002/4001 record; one kind per request."
    )
    body_schema["example"] = [EXAMPLE_EVENT]
    limiter: anyio.CapacityLimiter | None = None
    warned: list[bool] = []

    app = FastAPI(
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
        scored = _score(model, frame)
        alerts = scored["alert"].to_numpy(dtype=bool)
        head: dict[str, Any] = {
            "model": model_id,
            "events": len(records),
            "alerts": int(alerts.sum()),
        }
        warning = _overlap(model, frame)
        if warning:
            head["warning"] = warning
            if not warned:
                # Logged once per process; every answer concerned carries it.
                logger.warning("%s", warning)
                warned.append(True)
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

    app.add_middleware(_Guard, max_bytes=max_bytes)
    return app
