"""Read OCSF Authentication (3002) and Network Activity (4001) records as raw events.

Vendors fill OCSF's classes differently (the account of a connection may be
``src_endpoint.owner``, ``actor.user`` or ``user``; the device may be the
source endpoint or ``device``), so each raw column is read from the first of
several attribute paths present in the record, in the order below. The
records :mod:`soc_anomaly.data.ocsf` writes read back to the same columns.

=================  ==============================================================
column             OCSF attribute paths, first present wins
=================  ==============================================================
event_id           ``metadata.uid``
time               ``time`` (epoch ms), ``time_dt`` (ISO 8601)        **required**
timezone_offset    ``timezone_offset`` (minutes east of UTC; 0 when absent)
class_uid          ``class_uid`` (3002 or 4001)                      **required**
user               ``user.name``, ``actor.user.name``, ``src_endpoint.owner.name``,
                   ``user.uid``, ``actor.user.uid``      **required** (see below)
src_ip             ``src_endpoint.ip``
src_host           ``src_endpoint.hostname``
device_id          ``src_endpoint.uid``, ``device.uid``, ``device.hostname``
src_city           ``src_endpoint.location.city``
src_country        ``src_endpoint.location.country``
src_lat            ``src_endpoint.location.lat``
src_lon            ``src_endpoint.location.long``
user_agent         ``http_request.user_agent``
dst_host           ``dst_endpoint.hostname``, ``service.name``, ``dst_endpoint.ip``
dst_ip             ``dst_endpoint.ip``
dst_port           ``dst_endpoint.port``
logon_type         ``logon_type``, else the caption of ``logon_type_id``
is_mfa             ``is_mfa``
status             ``status``, else the caption of ``status_id`` (1 Success, 2 Failure)
status_detail      ``status_detail``
bytes_in           ``traffic.bytes_in``
bytes_out          ``traffic.bytes_out``
packets            ``traffic.packets``
duration_ms        ``duration``
direction          ``connection_info.direction``, else the caption of
                   ``connection_info.direction_id`` (1 Inbound, 2 Outbound, 3 Lateral)
=================  ==============================================================

Only ``class_uid``, ``time`` and an account are required of a record, but a
Network Activity record (an AWS VPC flow log, Zeek ``conn``) may name no
account if it names its source endpoint (``src_endpoint.hostname`` or
``src_endpoint.ip``): its baselines are then the source host's, else the
source address's (:mod:`soc_anomaly.features.entity_keys`). An absent field is
a null cell, which the features treat as unknown (no location: no travel; no
bytes: no volume). A record of another class, one without a time, an
Authentication record without an account, or a flow with neither an account
nor a source endpoint is a :class:`~soc_anomaly.errors.DataError` naming its
line. Ground truth written by the generator in ``unmapped``
(``label``, ``campaign_id``, ...) is read back too, so a labelled export can
be evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.ocsf_mapping import (
    AUTHENTICATION_CLASS_UID,
    DIRECTION_IDS,
    LOGON_TYPE_IDS,
    NETWORK_ACTIVITY_CLASS_UID,
    STATUS_IDS,
    TRUTH_COLUMNS,
)
from soc_anomaly.errors import DataError

__all__ = [
    "INPUT_CLASSES",
    "OCSF_INPUT_PATHS",
    "is_ocsf_record",
    "ocsf_row",
    "ocsf_rows_to_events",
    "ocsf_to_events",
]

#: The OCSF classes read as events.
INPUT_CLASSES: tuple[int, ...] = (AUTHENTICATION_CLASS_UID, NETWORK_ACTIVITY_CLASS_UID)

#: Raw column -> OCSF attribute paths (dotted), first present wins.
OCSF_INPUT_PATHS: Mapping[str, tuple[str, ...]] = {
    "event_id": ("metadata.uid",),
    "time": ("time", "time_dt"),
    "timezone_offset": ("timezone_offset",),
    "class_uid": ("class_uid",),
    "user": (
        "user.name",
        "actor.user.name",
        "src_endpoint.owner.name",
        "user.uid",
        "actor.user.uid",
    ),
    "src_ip": ("src_endpoint.ip",),
    "src_host": ("src_endpoint.hostname",),
    "device_id": ("src_endpoint.uid", "device.uid", "device.hostname"),
    "src_city": ("src_endpoint.location.city",),
    "src_country": ("src_endpoint.location.country",),
    "src_lat": ("src_endpoint.location.lat",),
    "src_lon": ("src_endpoint.location.long",),
    "user_agent": ("http_request.user_agent",),
    "dst_host": ("dst_endpoint.hostname", "service.name", "dst_endpoint.ip"),
    "dst_ip": ("dst_endpoint.ip",),
    "dst_port": ("dst_endpoint.port",),
    "logon_type": ("logon_type",),
    "is_mfa": ("is_mfa",),
    "status": ("status",),
    "status_detail": ("status_detail",),
    "bytes_in": ("traffic.bytes_in",),
    "bytes_out": ("traffic.bytes_out",),
    "packets": ("traffic.packets",),
    "duration_ms": ("duration",),
    "direction": ("connection_info.direction",),
    **{c: (f"unmapped.{c}",) for c in TRUTH_COLUMNS},
}

# A caption from an enumeration id when the record has the id but not the caption.
_CAPTIONS: Mapping[str, tuple[str, Mapping[int, str]]] = {
    "status": ("status_id", {v: k for k, v in STATUS_IDS.items()}),
    "logon_type": ("logon_type_id", {v: k for k, v in LOGON_TYPE_IDS.items()}),
    "direction": (
        "connection_info.direction_id",
        {v: k for k, v in DIRECTION_IDS.items() if v != 0},
    ),
}
_SPLIT = {col: tuple(tuple(p.split(".")) for p in paths) for col, paths in OCSF_INPUT_PATHS.items()}
_NUMERIC = {"timezone_offset", "src_lat", "src_lon", "dst_port", "bytes_in", "bytes_out"}
_NUMERIC |= {"packets", "duration_ms"}


def is_ocsf_record(record: Mapping[str, Any]) -> bool:
    """Whether a JSON object is an OCSF record (has an object-valued attribute) or a flat row."""
    return any(isinstance(v, dict) for v in record.values())


def _get(record: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = record
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _first(record: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> tuple[Any, str]:
    """The first present value of ``paths``, and its dotted path."""
    for parts in paths:
        value = _get(record, parts)
        if value is not None and value != "":
            return value, ".".join(parts)
    return None, ""


def _is_number(value: Any) -> bool:
    """A finite JSON number, or text that is one (some exporters quote numbers)."""
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def ocsf_row(record: Any, line: int) -> dict[str, Any]:
    """One OCSF record's raw columns (see the module notes), checked.

    The streaming readers map each record as it is read (the nested record is
    not kept), so a record that cannot be mapped can be skipped alone.

    Raises
    ------
    soc_anomaly.errors.DataError
        For a record that is not an object, of another class, without a time,
        without an account (a flow: and without a source endpoint), or with an
        object or array where a value is expected; the message names ``line``.
    """
    if not isinstance(record, dict):
        raise DataError(
            f"line {line}: expected an OCSF record (a JSON object); got {type(record).__name__}"
        )
    found = {col: _first(record, paths) for col, paths in _SPLIT.items()}
    row = {col: value for col, (value, _) in found.items()}
    for col, (value, path) in found.items():
        if isinstance(value, dict | list):
            kind = "an object" if isinstance(value, dict) else "an array"
            raise DataError(f"line {line}: {path} is {kind}; expected a single value")
        if col in _NUMERIC and value is not None and not _is_number(value):
            raise DataError(
                f"line {line}: {col} {value!r} is not a finite number; expected a number"
            )
    if isinstance(row["time"], bool):
        raise DataError(f"line {line}: time {row['time']!r} is not a time; expected epoch ms")
    cls = row["class_uid"]
    if cls not in INPUT_CLASSES:
        raise DataError(
            f"line {line}: OCSF class_uid {cls!r} cannot be scored; expected "
            f"{AUTHENTICATION_CLASS_UID} (Authentication) or {NETWORK_ACTIVITY_CLASS_UID} "
            "(Network Activity)"
        )
    for col, (id_path, captions) in _CAPTIONS.items():
        if row[col] is None:
            ident = _get(record, tuple(id_path.split(".")))
            if isinstance(ident, dict | list):
                raise DataError(f"line {line}: {id_path} is not a single value; expected an id")
            row[col] = captions.get(ident, "Other" if ident is not None else None)
    if row["time"] is None:
        raise DataError(f"line {line}: the OCSF record has no time; expected epoch ms in 'time'")
    if row["user"] is None:
        _check_endpoint(row, line)
    return row


def _check_endpoint(row: dict[str, Any], line: int) -> None:
    """Refuse a record without an account unless it is a flow that names its source."""
    accounts = ", ".join(OCSF_INPUT_PATHS["user"])
    if row["class_uid"] != NETWORK_ACTIVITY_CLASS_UID:
        raise DataError(
            f"line {line}: the OCSF record names no account; expected one of {accounts}"
        )
    if row["src_host"] is None and row["src_ip"] is None:
        # A flow's baselines are its source endpoint's when it names no account.
        raise DataError(
            f"line {line}: the OCSF network record names no account and no source endpoint; "
            f"expected one of {accounts}, or src_endpoint.hostname or src_endpoint.ip"
        )


def ocsf_to_events(records: Sequence[Any], lines: Sequence[int] | None = None) -> pd.DataFrame:
    """Raw events (the enterprise world's columns) of OCSF records.

    Parameters
    ----------
    records : sequence of dict
        Parsed OCSF Authentication or Network Activity records.
    lines : sequence of int, optional
        Line (or position) of each record, for error messages; 1, 2, ... if None.

    Returns
    -------
    pandas.DataFrame
        One row per record, the columns of :data:`OCSF_INPUT_PATHS`; ``time``
        as UTC datetimes, numbers as float64 (NaN where absent), text as object.

    Raises
    ------
    soc_anomaly.errors.DataError
        For a record that is not an object, of another class, or without a time
        or an account; the message names its line.
    """
    if lines is None:
        lines = range(1, len(records) + 1)
    rows = [ocsf_row(r, line) for r, line in zip(records, lines, strict=True)]
    return ocsf_rows_to_events(rows, lines)


def ocsf_rows_to_events(rows: Sequence[dict[str, Any]], lines: Sequence[int]) -> pd.DataFrame:
    """Raw events of rows mapped by :func:`ocsf_row` (see :func:`ocsf_to_events`)."""
    frame = pd.DataFrame(list(rows), columns=list(OCSF_INPUT_PATHS))
    frame["class_uid"] = frame["class_uid"].astype(np.int64)
    frame["time"] = _times(frame["time"], lines)
    for col in _NUMERIC:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["timezone_offset"] = frame["timezone_offset"].fillna(0).astype(np.int64)
    ids = frame["event_id"]
    if ids.notna().all() and len(ids):
        # metadata.uid is text in OCSF; ids that are all integers read back as integers.
        as_int = pd.to_numeric(ids, errors="coerce")
        if as_int.notna().all() and (as_int % 1 == 0).all():
            frame["event_id"] = as_int.astype(np.int64)
        else:
            frame["event_id"] = ids.astype(str)
    return frame


_MAX_EPOCH_MS = 9_200_000_000_000


def _times(values: pd.Series, lines: Sequence[int]) -> pd.Series:
    """``time`` (epoch ms) or ``time_dt`` (ISO 8601 text) as UTC datetimes."""
    numeric = pd.to_numeric(values, errors="coerce")
    # Epoch milliseconds between 1970 and 2262 (what a nanosecond datetime holds).
    wild = numeric.notna() & ~numeric.between(0, _MAX_EPOCH_MS)
    if wild.any():
        bad = int(np.flatnonzero(wild.to_numpy())[0])
        raise DataError(
            f"line {lines[bad]}: time {values.iloc[bad]} is out of range; expected epoch "
            "milliseconds after 1970"
        )
    out = pd.to_datetime(numeric, unit="ms", utc=True)
    text = numeric.isna()
    if text.any():
        try:
            out[text] = pd.to_datetime(values[text].astype(str), utc=True, format="ISO8601")
        except (TypeError, ValueError) as exc:
            bad = next(i for i in np.flatnonzero(text.to_numpy()) if not _is_time(values.iloc[i]))
            raise DataError(
                f"line {lines[bad]}: time {values.iloc[bad]!r} is not epoch milliseconds "
                "or an ISO 8601 time"
            ) from exc
    return out.dt.as_unit("ms")


def _is_time(value: Any) -> bool:
    try:
        pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return False
    return True
