"""What the scoring service's requests and answers hold: the pydantic models.

:class:`FlatEvent` types the raw enterprise columns of a flat event (strictly:
a number is a JSON number); the answers are :class:`ScoreResponse`,
:class:`FindingsResponse`, :class:`Health` and :class:`Detail` (every error).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from soc_anomaly.features.columns import MAX_UTC_OFFSET_MIN

__all__ = [
    "EXAMPLE_EVENT",
    "EXPECTED",
    "FLAT_EVENTS",
    "Detail",
    "FindingsResponse",
    "FlatEvent",
    "Health",
    "IncidentOut",
    "ScoreResponse",
    "ScoreResult",
]

# --- what goes over the wire --------------------------------------------------------------------

_Number = Annotated[float | None, Field(allow_inf_nan=False)]
# datetime64[ns] holds the years 1677 to 2262: epoch milliseconds within +-2**63 ns.
_MS_BOUND = 9_223_372_036_854.0
_EpochMs = Annotated[float, Field(ge=-_MS_BOUND, le=_MS_BOUND, allow_inf_nan=False)]
# The widest offset the features accept (ISO 8601 and OCSF allow +-18 hours).
_Offset = Annotated[float | None, Field(ge=-MAX_UTC_OFFSET_MIN, le=MAX_UTC_OFFSET_MIN)]


class FlatEvent(BaseModel):
    """The types of the raw enterprise columns in a flat event; other keys pass through.

    Strict: a number is a JSON number, never text, so ``"bytes_in": "12"`` is
    refused with its record and column rather than read differently from ``12``.
    Every column is optional here: an entity model needs ``time``, ``user`` and
    ``class_uid`` and reads the other raw columns as unknown where they are absent.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    event_id: str | int | None = None
    time: str | _EpochMs | None = None
    timezone_offset: _Offset = None
    class_uid: _Number = None
    user: str | None = None
    src_ip: str | None = None
    src_host: str | None = None
    src_city: str | None = None
    src_country: str | None = None
    src_lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    src_lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    device_id: str | None = None
    user_agent: str | None = None
    dst_host: str | None = None
    dst_ip: str | None = None
    dst_port: _Number = None
    logon_type: str | None = None
    is_mfa: bool | None = None
    status: str | None = None
    status_detail: str | None = None
    bytes_in: _Number = None
    bytes_out: _Number = None
    packets: _Number = None
    duration_ms: _Number = None
    direction: str | None = None


FLAT_EVENTS = TypeAdapter(list[FlatEvent])
EXPECTED: dict[str, str] = {
    name: "a finite number or null" if field.annotation == (float | None) else "a string or null"
    for name, field in FlatEvent.model_fields.items()
}
EXPECTED |= {
    "event_id": "a string or an integer",
    "time": "an ISO 8601 string or epoch milliseconds of the years 1677 to 2262",
    "timezone_offset": (
        f"minutes east of UTC, -{MAX_UTC_OFFSET_MIN} to {MAX_UTC_OFFSET_MIN}, or null"
    ),
    "src_lat": "a latitude, -90 to 90, or null",
    "src_lon": "a longitude, -180 to 180, or null",
    "is_mfa": "true, false or null",
}

#: The example body's event, in the OpenAPI schema (schemathesis sends it too).
EXAMPLE_EVENT: dict[str, Any] = {
    "event_id": 1,
    "time": "2026-01-20T09:15:00Z",
    "timezone_offset": 60,
    "class_uid": 3002,
    "user": "alice.smith",
    "src_ip": "203.0.113.7",
    "src_host": "WS-LON-00012",
    "src_country": "GB",
    "src_lat": 51.5,
    "src_lon": -0.12,
    "device_id": "DEV-000012",
    "dst_host": "vpn.example.com",
    "status": "Success",
    "status_detail": None,
    "bytes_in": None,
    "bytes_out": None,
    "direction": None,
}


_WARNING = (
    "Present when the events' times overlap the model's training window (both ranges named): "
    "events the model was trained on score as normal; or when values were changed before "
    "scoring (text cut to 1,024 characters, impossible counts clipped, places out of range "
    "unknown), one clause per kind naming the first record."
)


class ScoreResult(BaseModel):
    """One scored event."""

    index: int = Field(description="Position of the event in the array, from 0.")
    event_id: str | int | float | None = Field(
        None, description="The event's event_id (flat) or metadata.uid (OCSF), when it has one."
    )
    score: float = Field(description="Calibrated score, 0-100: how anomalous against training.")
    alert: bool = Field(description="Whether the raw score reaches the model's threshold.")
    reasons: list[str] = Field(description="Why the event alerts, most telling first; [] if not.")


class Technique(BaseModel):
    """An ATT&CK technique an incident's events suggest."""

    uid: str = Field(description="ATT&CK id, e.g. T1110.003.")
    name: str


class IncidentOut(BaseModel):
    """An incident raised by the request's events (``Incident.to_dict()``)."""

    incident_id: str = Field(description="INC-YYYYMMDD-NNNN: its first event's UTC day, number.")
    first_time: str = Field(description="Its first event's time, ISO 8601 (UTC).")
    last_time: str = Field(description="Its last event's time, ISO 8601 (UTC).")
    raised_at: str | None = Field(description="When its evidence first made the day's cut.")
    rank: int | None = Field(description="Its rank among the incidents raised that day (1 first).")
    score: float = Field(description="Its score: best unit's evidence + 0.25 x the rest's.")
    max_event_score: float = Field(description="Its highest calibrated event score.")
    n_events: int
    entities: dict[str, list[str]] = Field(
        description="Its accounts, hosts, addresses and destinations, in order of first use."
    )
    techniques: list[Technique]
    narrative: str = Field(description="One sentence of what happened; event values quoted.")
    events: list[int] = Field(description="Positions of its events in the request, from 0.")


_INCIDENTS = (
    "Present when the model's bundle holds an incident linker: the incidents the request's "
    "events raise, linked on their own in time order at the bundle's daily budget."
)


class ScoreResponse(BaseModel):
    """Scores of one request's events."""

    model: str = Field(description="Short id of the model (start of its SHA-256).")
    events: int
    alerts: int
    results: list[ScoreResult]
    incidents: list[IncidentOut] | None = Field(None, description=_INCIDENTS)
    warning: str | None = Field(None, description=_WARNING)


class FindingsResponse(BaseModel):
    """Alerts of one request's events as OCSF Detection Findings (``?format=ocsf``)."""

    model: str
    events: int
    alerts: int
    findings: list[dict[str, Any]]
    incidents: list[dict[str, Any]] | None = Field(
        None, description=_INCIDENTS + " As OCSF 1.5.0 Incident Findings (class 2005)."
    )
    warning: str | None = Field(None, description=_WARNING)


class Health(BaseModel):
    """The service is up and its model loaded."""

    status: Literal["ok"]
    model: str
    detector: str
    features: str
    version: str
    max_events: int
    max_bytes: int


class Detail(BaseModel):
    """What was wrong with the request, in one line."""

    detail: str
