"""The OCSF 1.5.0 mapping of the enterprise world's event table, as data.

Each row of the event table (see :mod:`soc_anomaly.scenarios.enterprise.schema`)
becomes one OCSF event: an ``Authentication`` (class_uid 3002, activity 1 Logon,
type_uid 300201) or a ``Network Activity`` (class_uid 4001, activity 6 Traffic,
type_uid 400106). Every record also carries ``severity_id`` 1 (Informational)
and ``metadata`` with ``version`` :data:`OCSF_VERSION`, the product
``soc-anomaly world generator`` (vendor ``soc-anomaly``) and ``uid``, the
``event_id`` as text. The writer is :mod:`soc_anomaly.data.ocsf`.

Field mapping (``-`` means the class has no such field; the table leaves that
column null for the class, so nothing is lost). :data:`OCSF_FIELDS` holds the
same mapping as data, in the order fields are written, for a reader to invert:

=================  ======================================  ================================
column             Authentication (3002)                   Network Activity (4001)
=================  ======================================  ================================
event_id           ``metadata.uid`` (text)                 ``metadata.uid`` (text)
time               ``time`` (epoch ms, UTC)                ``time`` (epoch ms, UTC)
timezone_offset    ``timezone_offset`` (minutes)           ``timezone_offset`` (minutes)
class_uid          ``class_uid``                           ``class_uid``
user               ``user.name``                           ``src_endpoint.owner.name``
src_ip             ``src_endpoint.ip``                     ``src_endpoint.ip``
src_host           ``src_endpoint.hostname``               ``src_endpoint.hostname``
device_id          ``src_endpoint.uid``                    ``src_endpoint.uid``
src_city           ``src_endpoint.location.city``          ``src_endpoint.location.city``
src_country        ``src_endpoint.location.country``       ``src_endpoint.location.country``
src_lat            ``src_endpoint.location.lat``           ``src_endpoint.location.lat``
src_lon            ``src_endpoint.location.long``          ``src_endpoint.location.long``
user_agent         ``http_request.user_agent``             -
dst_host           ``dst_endpoint.hostname``, and a copy   ``dst_endpoint.hostname``
                   in ``service.name``
dst_ip             ``dst_endpoint.ip``                     ``dst_endpoint.ip``
dst_port           ``dst_endpoint.port``                   ``dst_endpoint.port``
logon_type         ``logon_type`` + ``logon_type_id``      -
is_mfa             ``is_mfa``                              -
status             ``status`` + ``status_id``              ``status`` + ``status_id``
status_detail      ``status_detail``                       ``status_detail``
bytes_in           -                                       ``traffic.bytes_in``
bytes_out          -                                       ``traffic.bytes_out``
packets            -                                       ``traffic.packets``
duration_ms        ``duration`` (ms)                       ``duration`` (ms)
direction          -                                       ``connection_info.direction``
                                                           + ``direction_id``
label              ``unmapped.label``                      ``unmapped.label``
campaign_id        ``unmapped.campaign_id``                ``unmapped.campaign_id``
attack_type        ``unmapped.attack_type``                ``unmapped.attack_type``
mitre_technique    ``unmapped.mitre_technique``            ``unmapped.mitre_technique``
step               ``unmapped.step``                       ``unmapped.step``
benign_tag         ``unmapped.benign_tag``                 ``unmapped.benign_tag``
=================  ======================================  ================================

Derived or constant fields, not read back: ``traffic.bytes`` (``bytes_in +
bytes_out``), ``connection_info.protocol_name`` (``"tcp"``), ``service.name``
(a copy of ``dst_host``), the class, category, activity, type and severity ids
and names. Enumerations use the OCSF ids: ``status_id`` 1 Success, 2 Failure,
99 Other; ``logon_type_id`` 2 Interactive, 3 Network, 10 Remote Interactive, ...
(99 Other for a name OCSF does not list); ``direction_id`` 1 Inbound,
2 Outbound, 3 Lateral (0 Unknown when missing, 99 Other when unlisted).

Where things go is dictated by the OCSF 1.5.0 classes themselves, which have no
``device`` or ``actor`` (those come from the host profile, not used here) and,
for Network Activity, no ``user``: the device id is the source endpoint's
``uid`` and a connection's account is the source endpoint's ``owner``.

The ground truth (``label``, ``campaign_id``, ``attack_type``,
``mitre_technique``, ``step``, ``benign_tag``) is not OCSF data, so it travels
in ``unmapped``, the place OCSF reserves for attributes outside the schema: the
records stay valid OCSF and keep their truth. Those columns are optional.

A null cell is left out of its record, never written as ``null``; an object
left empty is left out too (``user`` of an authentication is required by OCSF
and is always written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AUTHENTICATION_CLASS_UID",
    "COLUMN_KINDS",
    "DIRECTION_IDS",
    "LOGON_TYPE_IDS",
    "NETWORK_ACTIVITY_CLASS_UID",
    "OCSF_FIELDS",
    "OCSF_SUFFIXES",
    "OCSF_VERSION",
    "OTHER_ID",
    "REQUIRED_COLUMNS",
    "REQUIRED_OBJECTS",
    "STATUS_IDS",
    "TRUTH_COLUMNS",
    "AsText",
    "Constant",
    "EnumId",
    "FieldSource",
    "Total",
]

#: The OCSF schema version the records follow (``metadata.version``).
OCSF_VERSION = "1.5.0"
#: File name endings accepted for OCSF JSON Lines output.
OCSF_SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".ndjson")

AUTHENTICATION_CLASS_UID = 3002
NETWORK_ACTIVITY_CLASS_UID = 4001
OTHER_ID = 99  # OCSF's "Other" in every enumeration

# OCSF 1.5.0 enumerations, by caption.
STATUS_IDS = {"Success": 1, "Failure": 2}
LOGON_TYPE_IDS = {
    "Unknown": 0,
    "System": 1,
    "Interactive": 2,
    "Network": 3,
    "Batch": 4,
    "OS Service": 5,
    "Unlock": 7,
    "Network Cleartext": 8,
    "New Credentials": 9,
    "Remote Interactive": 10,
    "Cached Interactive": 11,
    "Cached Remote Interactive": 12,
    "Cached Unlock": 13,
}
DIRECTION_IDS = {"Unknown": 0, "Inbound": 1, "Outbound": 2, "Lateral": 3}

# The JSON type each column is written as. OCSF wants exact types (an int port,
# not 443.0) whatever dtype a table read back from disk ended up with.
COLUMN_KINDS: dict[str, str] = {
    "event_id": "int",
    "time": "time",
    "timezone_offset": "int",
    "class_uid": "int",
    "user": "text",
    "src_ip": "text",
    "src_host": "text",
    "src_city": "text",
    "src_country": "text",
    "src_lat": "float",
    "src_lon": "float",
    "device_id": "text",
    "user_agent": "text",
    "dst_host": "text",
    "dst_ip": "text",
    "dst_port": "int",
    "logon_type": "text",
    "is_mfa": "bool",
    "status": "text",
    "status_detail": "text",
    "bytes_in": "int",
    "bytes_out": "int",
    "packets": "int",
    "duration_ms": "int",
    "direction": "text",
    "label": "int",
    "campaign_id": "text",
    "attack_type": "text",
    "mitre_technique": "text",
    "step": "int",
    "benign_tag": "text",
}
TRUTH_COLUMNS = ("label", "campaign_id", "attack_type", "mitre_technique", "step", "benign_tag")
REQUIRED_COLUMNS = tuple(c for c in COLUMN_KINDS if c not in TRUTH_COLUMNS)


@dataclass(frozen=True)
class Constant:
    """The same JSON value in every record."""

    value: str | int


@dataclass(frozen=True)
class AsText:
    """A column's value written as a JSON string (``metadata.uid`` is text in OCSF)."""

    column: str


@dataclass(frozen=True)
class EnumId:
    """The OCSF id of a column's caption: 99 (Other) if unlisted, ``missing`` if null."""

    column: str
    ids: Mapping[str, int]
    missing: int | None = None


@dataclass(frozen=True)
class Total:
    """The sum of integer columns, null if any is."""

    columns: tuple[str, ...]


FieldSource = str | Constant | AsText | EnumId | Total


def _head(
    class_uid: int,
    class_name: str,
    category_uid: int,
    category_name: str,
    activity_id: int,
    activity_name: str,
) -> tuple[tuple[str, FieldSource], ...]:
    return (
        ("class_uid", Constant(class_uid)),
        ("class_name", Constant(class_name)),
        ("category_uid", Constant(category_uid)),
        ("category_name", Constant(category_name)),
        ("activity_id", Constant(activity_id)),
        ("activity_name", Constant(activity_name)),
        ("type_uid", Constant(class_uid * 100 + activity_id)),
        ("type_name", Constant(f"{class_name}: {activity_name}")),
        ("severity_id", Constant(1)),
        ("severity", Constant("Informational")),
        ("time", "time"),
        ("timezone_offset", "timezone_offset"),
        ("metadata.version", Constant(OCSF_VERSION)),
        ("metadata.product.name", Constant("soc-anomaly world generator")),
        ("metadata.product.vendor_name", Constant("soc-anomaly")),
        ("metadata.uid", AsText("event_id")),
    )


_SOURCE_ENDPOINT: tuple[tuple[str, FieldSource], ...] = (
    ("src_endpoint.ip", "src_ip"),
    ("src_endpoint.hostname", "src_host"),
    ("src_endpoint.uid", "device_id"),
    ("src_endpoint.location.city", "src_city"),
    ("src_endpoint.location.country", "src_country"),
    ("src_endpoint.location.lat", "src_lat"),
    ("src_endpoint.location.long", "src_lon"),
)
_DESTINATION_AND_STATUS: tuple[tuple[str, FieldSource], ...] = (
    ("dst_endpoint.hostname", "dst_host"),
    ("dst_endpoint.ip", "dst_ip"),
    ("dst_endpoint.port", "dst_port"),
    ("status", "status"),
    ("status_id", EnumId("status", STATUS_IDS)),
    ("status_detail", "status_detail"),
    ("duration", "duration_ms"),
)
_UNMAPPED: tuple[tuple[str, FieldSource], ...] = tuple((f"unmapped.{c}", c) for c in TRUTH_COLUMNS)

#: The mapping as data, per ``class_uid``: ``(OCSF attribute path, source)`` in
#: the order fields are written. A source that is a plain column name is read
#: back as that column; the others are constants or derived from a column.
OCSF_FIELDS: Mapping[int, tuple[tuple[str, FieldSource], ...]] = {
    AUTHENTICATION_CLASS_UID: (
        *_head(
            AUTHENTICATION_CLASS_UID,
            "Authentication",
            3,
            "Identity & Access Management",
            1,
            "Logon",
        ),
        ("user.name", "user"),
        *_SOURCE_ENDPOINT,
        *_DESTINATION_AND_STATUS,
        ("service.name", "dst_host"),
        ("http_request.user_agent", "user_agent"),
        ("logon_type", "logon_type"),
        ("logon_type_id", EnumId("logon_type", LOGON_TYPE_IDS)),
        ("is_mfa", "is_mfa"),
        *_UNMAPPED,
    ),
    NETWORK_ACTIVITY_CLASS_UID: (
        *_head(NETWORK_ACTIVITY_CLASS_UID, "Network Activity", 4, "Network Activity", 6, "Traffic"),
        *_SOURCE_ENDPOINT,
        # Network Activity has no user (nor actor) in OCSF 1.5.0: the account
        # behind a connection is the owner of its source endpoint.
        ("src_endpoint.owner.name", "user"),
        *_DESTINATION_AND_STATUS,
        ("traffic.bytes_in", "bytes_in"),
        ("traffic.bytes_out", "bytes_out"),
        ("traffic.packets", "packets"),
        ("traffic.bytes", Total(("bytes_in", "bytes_out"))),
        ("connection_info.protocol_name", Constant("tcp")),
        ("connection_info.direction", "direction"),
        # direction_id is required in connection_info; 0 is OCSF's Unknown.
        ("connection_info.direction_id", EnumId("direction", DIRECTION_IDS, missing=0)),
        *_UNMAPPED,
    ),
}
# Objects OCSF requires even when every field in them is null.
REQUIRED_OBJECTS: Mapping[int, frozenset[str]] = {
    AUTHENTICATION_CLASS_UID: frozenset({"user"}),
    NETWORK_ACTIVITY_CLASS_UID: frozenset(),
}
