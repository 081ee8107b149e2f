"""The enterprise world's raw event table: its columns, their types, and a columnar builder.

One table holds both kinds of event, told apart by ``class_uid`` as in OCSF:
authentication (3002) and network activity (4001). A field that a kind does not
have is null for it (``bytes_in`` of a logon, ``logon_type`` of a connection).

Events are built as :class:`EventBatch` objects, plain numpy columns keyed by
name, so that a million events cost a handful of vectorised operations rather
than a million Python objects. Text columns hold integer codes into one
:class:`Vocabulary` per column; they become pandas categoricals (Parquet
dictionary columns) only when the final table is assembled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "AUTH_CLASS_UID",
    "COLUMNS",
    "EVENT_COLUMNS",
    "NETWORK_CLASS_UID",
    "NORMAL",
    "NO_TAG",
    "NO_TECHNIQUE",
    "SUBTLE_FIELDS",
    "Column",
    "EventBatch",
    "Vocabulary",
    "local_hour",
]

#: OCSF class of an authentication event.
AUTH_CLASS_UID = 3002
#: OCSF class of a network activity event.
NETWORK_CLASS_UID = 4001
#: ``attack_type`` of the events that are not part of an attack.
NORMAL = "normal"
#: ``mitre_technique`` of the events that are not part of an attack.
NO_TECHNIQUE = "none"
#: ``benign_tag`` of the events that are no benign oddity.
NO_TAG = "none"

Kind = Literal["int", "float", "category", "bool", "time"]


@dataclass(frozen=True)
class Column:
    """One column of the event table.

    Attributes
    ----------
    name : str
        Column name.
    kind : {"int", "float", "category", "bool", "time"}
        How it is stored while building: ``int`` as the integer ``dtype``,
        ``time`` as int64 milliseconds since the Unix epoch (UTC), ``float`` as
        float64, ``category`` as int32 codes into a :class:`Vocabulary`,
        ``bool`` as int8 (1, 0, or -1 for null).
    dtype : str
        The numpy dtype while building (and in the final table, for integers
        that cannot be null).
    nullable : bool
        Whether the final table may hold nulls in this column; while building,
        a null is -1 (integers, codes, bools) or NaN (floats).
    description : str
        What the column means (the README's data dictionary reads it).
    """

    name: str
    kind: Kind
    dtype: str
    nullable: bool
    description: str

    @property
    def null(self) -> float:
        """The value a missing entry takes while building."""
        return np.nan if self.kind == "float" else -1


_DTYPES = {"time": "int64", "float": "float64", "category": "int32", "bool": "int8"}


def _c(
    name: str, kind: Kind, description: str, *, nullable: bool = False, dtype: str = "int64"
) -> Column:
    return Column(name, kind, _DTYPES.get(kind, dtype), nullable, description)


#: Every column of the raw event table, in order.
COLUMNS: tuple[Column, ...] = (
    _c("event_id", "int", "position of the event in time order"),
    _c("time", "time", "when the event happened (UTC, millisecond precision)"),
    _c(
        "timezone_offset",
        "int",
        "minutes east of UTC on the user's device (OCSF timezone_offset)",
        dtype="int16",
    ),
    _c("class_uid", "int", "OCSF class: 3002 authentication, 4001 network activity", dtype="int16"),
    _c("user", "category", "account name"),
    _c(
        "src_ip",
        "category",
        "source address: the public address an identity provider saw, "
        "or the workstation's internal address for a connection",
    ),
    _c(
        "src_host", "category", "source host name, when the source is a managed host", nullable=True
    ),
    _c("src_city", "category", "city of the source address (authentication)", nullable=True),
    _c(
        "src_country",
        "category",
        "ISO country code of the source address (authentication)",
        nullable=True,
    ),
    _c("src_lat", "float", "latitude of the source address (authentication)", nullable=True),
    _c("src_lon", "float", "longitude of the source address (authentication)", nullable=True),
    _c("device_id", "category", "id of the device the event came from", nullable=True),
    _c("user_agent", "category", "user agent of the client (authentication)", nullable=True),
    _c("dst_host", "category", "service or host logged in to, or connected to"),
    _c("dst_ip", "category", "destination address"),
    _c("dst_port", "int", "destination port", dtype="int32"),
    _c("logon_type", "category", "OCSF logon type of an authentication", nullable=True),
    _c("is_mfa", "bool", "whether a second factor was asked for (authentication)", nullable=True),
    _c("status", "category", "Success or Failure"),
    _c("status_detail", "category", "why an authentication failed", nullable=True),
    _c("bytes_in", "int", "bytes received by the source (network activity)", nullable=True),
    _c("bytes_out", "int", "bytes sent by the source (network activity)", nullable=True),
    _c(
        "packets",
        "int",
        "packets in both directions (network activity)",
        nullable=True,
        dtype="int32",
    ),
    _c(
        "duration_ms",
        "int",
        "connection duration in milliseconds (network activity)",
        nullable=True,
    ),
    _c(
        "direction",
        "category",
        "Outbound (to the internet) or Lateral (between internal hosts) (network activity)",
        nullable=True,
    ),
    _c("label", "int", "1 for an attack event, else 0", dtype="int8"),
    _c("campaign_id", "category", "the attack campaign an event belongs to", nullable=True),
    _c("attack_type", "category", "attack scenario name, 'normal' otherwise"),
    _c("mitre_technique", "category", "ATT&CK technique id of the event's step, 'none' otherwise"),
    _c(
        "step",
        "int",
        "step of the campaign the event belongs to (1, 2, ...), 0 otherwise",
        dtype="int8",
    ),
    _c("benign_tag", "category", "benign oddity the event is part of, 'none' otherwise"),
)
_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
#: Column names of the raw event table, in order.
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: Columns filled in by the world, not by an event's producer.
_ASSIGNED_LATER = ("event_id",)

#: Raw numeric fields checked by the subtle-intensity property, per event class:
#: a subtle attack event's values lie within the 1st-99th percentile of the
#: normal events of the same class. ``local_hour`` is derived from ``time`` and
#: ``timezone_offset`` (see :func:`local_hour`).
SUBTLE_FIELDS: Mapping[int, tuple[str, ...]] = {
    AUTH_CLASS_UID: ("local_hour", "src_lat", "src_lon", "dst_port"),
    NETWORK_CLASS_UID: (
        "local_hour",
        "dst_port",
        "bytes_in",
        "bytes_out",
        "packets",
        "duration_ms",
    ),
}


def local_hour(time_ms: np.ndarray, tz_offset_min: np.ndarray) -> np.ndarray:
    """Hour of day (0-23) on the user's clock, from UTC milliseconds and an offset."""
    local_ms = np.asarray(time_ms, dtype=np.int64) + np.asarray(tz_offset_min, np.int64) * 60_000
    return (local_ms // 3_600_000) % 24


class Vocabulary:
    """The strings a text column takes, each with a stable integer code.

    Codes are given in order of first appearance, so the same sequence of
    :meth:`encode` calls always gives the same codes.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: list[str] = []
        self._codes: dict[str, int] = {}
        self.encode(list(values))

    def __len__(self) -> int:
        return len(self._values)

    @property
    def values(self) -> list[str]:
        """The strings, in code order."""
        return list(self._values)

    def code(self, value: str) -> int:
        """The code of one string, adding it if new."""
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self._values)
            self._values.append(value)
        return code

    def encode(self, values: Sequence[str] | np.ndarray) -> np.ndarray:
        """Codes of ``values`` (``None`` becomes -1), adding the new ones."""
        return np.array([-1 if v is None else self.code(str(v)) for v in values], dtype=np.int32)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The strings of ``codes`` (-1 becomes ``None``), as an object array."""
        table = np.array([*self._values, None], dtype=object)
        return table[np.asarray(codes)]


def new_vocabularies() -> dict[str, Vocabulary]:
    """One empty vocabulary per text column, with the fixed labels first."""
    vocab = {c.name: Vocabulary() for c in COLUMNS if c.kind == "category"}
    vocab["attack_type"].code(NORMAL)
    vocab["mitre_technique"].code(NO_TECHNIQUE)
    vocab["benign_tag"].code(NO_TAG)
    for status in ("Success", "Failure"):
        vocab["status"].code(status)
    return vocab


@dataclass
class EventBatch:
    """Events as numpy columns keyed by column name, all of one length.

    Build one with :meth:`build`, which fills every column that is not given
    with its null (or its neutral value: label 0, step 0, 'normal', 'none').
    """

    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["time"]) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @classmethod
    def build(
        cls,
        n: int,
        vocab: Mapping[str, Vocabulary],
        **values: np.ndarray | Sequence[object] | float | int | str | None,
    ) -> EventBatch:
        """Make ``n`` events from the given column values.

        Parameters
        ----------
        n : int
            Number of events.
        vocab : mapping of str to Vocabulary
            The world's vocabularies; text given as strings is encoded with
            them (text given as an integer array is taken as codes already).
        **values
            Column name to an array of length ``n`` or one scalar for all.

        Returns
        -------
        EventBatch
            Every column of :data:`COLUMNS` but ``event_id``.
        """
        unknown = set(values) - set(_BY_NAME)
        if unknown:
            raise KeyError(f"unknown event column(s): {', '.join(sorted(unknown))}")
        cols: dict[str, np.ndarray] = {}
        for col in COLUMNS:
            if col.name in _ASSIGNED_LATER:
                continue
            cols[col.name] = _column_values(col, n, values.get(col.name), vocab)
        if "label" not in values:
            cols["label"][:] = 0
        if "step" not in values:
            cols["step"][:] = 0
        for name, default in (
            ("attack_type", NORMAL),
            ("mitre_technique", NO_TECHNIQUE),
            ("benign_tag", NO_TAG),
        ):
            if name not in values:
                cols[name][:] = vocab[name].code(default)
        return cls(cols)

    def take(self, index: np.ndarray) -> EventBatch:
        """The events at ``index`` (an integer or boolean array)."""
        return EventBatch({k: v[index] for k, v in self.columns.items()})

    @staticmethod
    def concat(batches: Sequence[EventBatch]) -> EventBatch:
        """All events of ``batches`` in order, as one batch."""
        batches = [b for b in batches if len(b)]
        if not batches:
            raise ValueError("nothing to concatenate")
        return EventBatch(
            {k: np.concatenate([b.columns[k] for b in batches]) for k in batches[0].columns}
        )


def _column_values(
    col: Column, n: int, given: object, vocab: Mapping[str, Vocabulary]
) -> np.ndarray:
    dtype = np.dtype(col.dtype)
    if given is None:
        return np.full(n, col.null, dtype=dtype)
    if col.kind == "category":
        if isinstance(given, str):
            return np.full(n, vocab[col.name].code(given), dtype=dtype)
        arr = np.asarray(given)
        if arr.dtype.kind in "iu":
            out = arr.astype(dtype, copy=False)
        else:
            out = vocab[col.name].encode(arr.ravel())
    else:
        out = np.asarray(given)
        if out.dtype.kind == "f" and dtype.kind in "i":
            out = np.round(out)
        out = out.astype(dtype, copy=False)
    if out.ndim == 0:
        return np.full(n, out, dtype=dtype)
    if len(out) != n:
        raise ValueError(f"column {col.name} has {len(out)} values for {n} events")
    return out


def to_frame(batch: EventBatch, vocab: Mapping[str, Vocabulary]) -> pd.DataFrame:
    """The final event table: pandas dtypes, categoricals and nulls, ``event_id`` set.

    ``batch`` must already be in time order. Its columns are handed over one by
    one (the batch is empty afterwards), so the table never exists twice in memory.
    """
    n = len(batch)
    data: dict[str, object] = {"event_id": np.arange(n, dtype=np.int64)}
    for col in COLUMNS:
        if col.name == "event_id":
            continue
        values = batch.columns.pop(col.name)
        if col.kind == "time":
            data[col.name] = pd.DatetimeIndex(values.astype("datetime64[ms]")).tz_localize("UTC")
        elif col.kind == "category":
            categories = pd.Index(vocab[col.name].values, dtype=object)
            data[col.name] = pd.Categorical.from_codes(values, categories=categories)
        elif col.kind == "bool":
            data[col.name] = pd.arrays.BooleanArray(values == 1, values < 0)
        elif col.kind == "int" and col.nullable:
            data[col.name] = pd.arrays.IntegerArray(values, values < 0)
        else:
            data[col.name] = values
    return pd.DataFrame(data, columns=list(EVENT_COLUMNS))
