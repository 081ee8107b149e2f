"""Reading a request's batch: the JSON array parsed and checked, turned into raw events, scored.

Every failure is an HTTP error with one line (:func:`soc_anomaly.service.guard._reject`);
``record N`` is the N-th element of the array, counted from 1.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import pandas as pd
import pydantic_core
from pydantic import Field, RootModel, ValidationError

from soc_anomaly.data.event_checks import bound_events
from soc_anomaly.data.event_stream import parse_times
from soc_anomaly.data.ocsf_input import is_ocsf_record, ocsf_to_events
from soc_anomaly.errors import SocAnomalyError
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.incident_scoring import request_incidents
from soc_anomaly.model.scoring import training_overlap
from soc_anomaly.service.guard import _as_record, _kind, _reject, _show
from soc_anomaly.service.schemas import EXPECTED, FLAT_EVENTS

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


#: How the shared readers name an event; the service names the array's elements records.
_EVENT = re.compile(r"\bevent (\d+)")


def _score(
    model: AnomalyModel, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The events as scored (long text cut, impossible counts clipped), their scores, and
    one line per kind of value changed, as ``score`` prints them."""
    try:
        frame, notes = bound_events(frame)
        # The service names the N-th element of the array "record N", as in its errors.
        changed = [_EVENT.sub(r"record \1", line) for line in notes.lines()]
        return frame, model.score(frame), changed
    except SocAnomalyError as exc:
        raise _reject(422, _as_record(str(exc))) from None


def _overlap(model: AnomalyModel, frame: pd.DataFrame) -> str | None:
    """The warning when the batch's times overlap the model's training window."""
    times = frame["time"] if "time" in frame.columns else None
    if times is None or not len(times) or not pd.api.types.is_datetime64_any_dtype(times):
        return None
    return training_overlap(getattr(model, "training_", None), times.min(), times.max())


def _incidents(
    model: AnomalyModel, frame: pd.DataFrame, scored: pd.DataFrame, manifest: Any, fmt: str
) -> list[dict[str, Any]] | None:
    """The incidents the batch raises (None for a model without a linker)."""
    try:
        kind = "ocsf" if fmt == "ocsf" else "jsonl"
        return request_incidents(model, frame, scored, manifest, kind)
    except SocAnomalyError as exc:
        raise _reject(422, _as_record(str(exc))) from None
