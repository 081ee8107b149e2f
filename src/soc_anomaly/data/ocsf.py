"""Export the enterprise world's raw events as OCSF 1.5.0 JSON Lines.

The field mapping, enumeration ids and :data:`OCSF_FIELDS` live in
:mod:`soc_anomaly.data.ocsf_mapping`; this module writes records that follow it.
:data:`OCSF_VERSION`, :data:`OCSF_SUFFIXES` and :data:`OCSF_FIELDS` are
re-exported here.

Speed: each record's JSON text is assembled column-wise from fragments (a text
value is escaped once per distinct value, not once per row), which is about
three times faster than building dicts and calling :func:`json.dumps` on each;
the text is byte for byte what ``json.dumps(record, separators=(",", ":"),
ensure_ascii=False)`` gives. :func:`ocsf_records` parses that same text, so the
records and the file cannot disagree.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.io import write_via
from soc_anomaly.data.ocsf_mapping import (
    AUTHENTICATION_CLASS_UID,
    COLUMN_KINDS,
    NETWORK_ACTIVITY_CLASS_UID,
    OCSF_FIELDS,
    OCSF_SUFFIXES,
    OCSF_VERSION,
    OTHER_ID,
    REQUIRED_COLUMNS,
    REQUIRED_OBJECTS,
    AsText,
    Constant,
    EnumId,
    FieldSource,
    Total,
)
from soc_anomaly.errors import DataError

__all__ = [
    "OCSF_FIELDS",
    "OCSF_SUFFIXES",
    "OCSF_VERSION",
    "dump_ocsf_jsonl",
    "ocsf_records",
    "write_ocsf_jsonl",
]

# How text is written: UTF-8 as is (control characters are still escaped).
_json_text = json.JSONEncoder(ensure_ascii=False).encode

# Rows are serialised a chunk at a time: column-wise speed without holding
# the text of a million records at once.
_CHUNK_ROWS = 65_536

# A record is a tree of fields: a leaf is the index of its entry in OCSF_FIELDS.
_Tree = dict[str, "int | _Tree"]


def _tree(fields: Iterable[tuple[str, FieldSource]]) -> _Tree:
    root: _Tree = {}
    for i, (path, _) in enumerate(fields):
        *parents, leaf = path.split(".")
        node = root
        for key in parents:
            node = node.setdefault(key, {})  # type: ignore[assignment]
        node[leaf] = i
    return root


_TREES = {uid: _tree(fields) for uid, fields in OCSF_FIELDS.items()}


def ocsf_records(events: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """One OCSF 1.5.0 event (a plain dict) per row of ``events``, in row order.

    The table is checked when this is called; the records are made lazily, a
    chunk of rows at a time, by parsing the very lines :func:`write_ocsf_jsonl`
    writes. See :mod:`soc_anomaly.data.ocsf_mapping` for the field mapping.

    Parameters
    ----------
    events : pandas.DataFrame
        The raw event table of an enterprise world (``World.events``): every
        column of the mapping but the ground truth ones, which are optional.

    Returns
    -------
    Iterator[dict]
        Authentication (class_uid 3002) and Network Activity (4001) records;
        null cells are left out.

    Raises
    ------
    soc_anomaly.errors.DataError
        If a required column is missing, ``time`` has missing values, or a
        row's ``class_uid`` is neither 3002 nor 4001; while iterating, if a
        float is infinite (JSON cannot hold it).
    """
    _check_table(events)
    return (json.loads(line) for lines in _chunks(events) for line in lines)


def write_ocsf_jsonl(events: pd.DataFrame, path: Path) -> Path:
    """Write ``events`` as OCSF 1.5.0 JSON Lines, one compact record per line, atomically.

    The file is written to a temporary file beside ``path`` and renamed over it
    only when complete: a failed export leaves neither a partial file nor a
    damaged previous one. The same frame always gives the same bytes (UTF-8,
    ``\\n`` line endings, fields in the order of :data:`OCSF_FIELDS`).

    Parameters
    ----------
    events : pandas.DataFrame
        The raw event table of an enterprise world (see :func:`ocsf_records`).
    path : pathlib.Path
        Destination ending in ``.jsonl``, ``.ndjson`` or ``.json``; its
        folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    soc_anomaly.errors.DataError
        If ``path`` has another ending, or the table cannot be exported.
    soc_anomaly.errors.SocAnomalyError
        If the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() not in OCSF_SUFFIXES:
        raise DataError(
            f"unsupported file type '{path.suffix or '(none)'}' for OCSF output {path}; "
            f"expected one of {', '.join(OCSF_SUFFIXES)}"
        )
    _check_table(events)  # before any file is touched
    return write_via(path, lambda tmp: dump_ocsf_jsonl(events, tmp))


def dump_ocsf_jsonl(events: pd.DataFrame, path: Path) -> None:
    """Write ``events`` as OCSF JSON Lines to ``path`` as it is, whatever its ending.

    The building block of :func:`write_ocsf_jsonl` for a caller that manages
    its own temporary file (e.g. to rename several outputs into place together).
    """
    _check_table(events)
    with Path(path).open("w", encoding="utf-8", newline="\n") as fh:
        for lines in _chunks(events):
            if lines:
                lines.append("")  # the final newline of the chunk
                fh.write("\n".join(lines))


def _check_table(events: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        raise DataError(
            f"event table lacks column(s) {', '.join(missing)}; expected the raw event table "
            "of an enterprise world"
        )
    classes = set(pd.unique(events["class_uid"].to_numpy()).tolist())
    unknown = classes - set(OCSF_FIELDS)
    if unknown:
        raise DataError(
            f"event table has class_uid {', '.join(map(str, sorted(unknown, key=str)))}; "
            f"expected only {AUTHENTICATION_CLASS_UID} (authentication) and "
            f"{NETWORK_ACTIVITY_CLASS_UID} (network activity)"
        )
    if events["time"].isna().any():
        raise DataError("event table has missing values in column time; expected a time per event")


def _chunks(events: pd.DataFrame) -> Iterator[list[str]]:
    """The JSON text of every row, one list of lines per chunk of rows."""
    for start in range(0, len(events), _CHUNK_ROWS):
        chunk = events.iloc[start : start + _CHUNK_ROWS]
        classes = chunk["class_uid"].to_numpy()
        lines = np.empty(len(chunk), dtype=object)
        for class_uid, fields in OCSF_FIELDS.items():
            rows = np.flatnonzero(classes == class_uid)
            if len(rows):
                part = chunk.iloc[rows]
                leaves = [_fragments(part, path.rsplit(".", 1)[-1], src) for path, src in fields]
                required = REQUIRED_OBJECTS[class_uid]
                lines[rows] = _object("", _TREES[class_uid], leaves, len(rows), required, "")
        yield lines.tolist()


def _object(
    key: str,
    tree: _Tree,
    leaves: list[str | list[str]],
    n: int,
    required: frozenset[str],
    prefix: str,
) -> str | list[str]:
    """Each row's ``,"key":{...}`` fragment ('' if empty), or the record itself for key ''.

    A part that is the same for every row is one ``str``, not a list: runs of
    them are merged, and an object made only of them is made once.
    """
    parts: list[str | list[str]] = []
    for name, node in tree.items():
        part = (
            leaves[node]
            if isinstance(node, int)
            else _object(name, node, leaves, n, required, f"{prefix}{name}.")
        )
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        else:
            parts.append(part)
    head = f',"{key}":{{' if key else "{"
    # An empty object is left out, unless OCSF requires it (the record itself
    # is never empty: it starts with constant fields).
    empty = head + "}" if prefix[:-1] in required else ""
    if all(isinstance(p, str) for p in parts):
        inner = "".join(parts)  # type: ignore[arg-type]
        return head + inner[1:] + "}" if inner else empty
    columns = [itertools.repeat(p, n) if isinstance(p, str) else p for p in parts]
    return [
        head + inner[1:] + "}" if inner else empty
        for inner in map("".join, zip(*columns, strict=True))
    ]


def _fragments(frame: pd.DataFrame, key: str, source: FieldSource) -> str | list[str]:
    """Each row's ``,"key":value`` JSON fragment, or '' where the value is null.

    One ``str`` stands for a fragment that is the same in every row.

    Every fragment starts with a comma; an object drops the first one. Text is
    escaped once per distinct value (the table's text columns are categorical),
    never once per row.
    """
    prefix = f',"{key}":'
    if isinstance(source, Constant):
        return prefix + json.dumps(source.value)
    if isinstance(source, EnumId):
        ids, other = source.ids, OTHER_ID
        missing = "" if source.missing is None else prefix + str(source.missing)
        return _text(frame[source.column], prefix, lambda v: str(ids.get(v, other)), missing)
    if isinstance(source, Total):
        columns = [_ints(frame[c]) for c in source.columns]
        total = sum(values for values, _ in columns)
        return _formatted(prefix, total, np.logical_or.reduce([m for _, m in columns]), str)
    column = source.column if isinstance(source, AsText) else source
    if column not in frame.columns:  # an optional (ground truth) column
        return ""
    series = frame[column]
    kind = COLUMN_KINDS[column]
    if isinstance(source, AsText):
        return _formatted(prefix, *_ints(series), lambda v: f'"{v}"')
    if kind == "text":
        return _text(series, prefix, _json_text, "")
    if kind == "int":
        return _formatted(prefix, *_ints(series), str)
    if kind == "time":
        if not isinstance(series.dtype, pd.DatetimeTZDtype):
            series = pd.to_datetime(series, utc=True)  # a naive time is UTC, the table's convention
        ms = (series - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
        return _formatted(prefix, ms.to_numpy(np.int64), np.zeros(len(ms), dtype=bool), str)
    if kind == "float":
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isinf(floats).any():
            raise DataError(
                f"column {column} holds an infinite value; OCSF JSON needs finite numbers"
            )
        # repr is what json writes for a float: the shortest text that reads back exactly.
        return _formatted(prefix, floats, np.isnan(floats), repr)
    codes = series.astype("boolean").to_numpy(dtype=np.int8, na_value=2)
    return np.array([prefix + "false", prefix + "true", ""], dtype=object)[codes].tolist()


def _ints(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as int64 values (0 where null) and its null mask."""
    mask = series.isna().to_numpy()
    if series.dtype.kind == "f":
        values = np.round(series.to_numpy(dtype=np.float64, na_value=0.0)).astype(np.int64)
    else:
        values = series.to_numpy(dtype=np.int64, na_value=0)
    return values, mask


def _formatted(
    prefix: str, values: np.ndarray, mask: np.ndarray, fmt: Callable[[Any], str]
) -> str | list[str]:
    """``prefix + fmt(value)`` per row, '' where ``mask`` (null); formats only non-nulls."""
    if mask.all():
        return ""
    if not mask.any():
        return [prefix + fmt(v) for v in values.tolist()]
    out = [""] * len(values)
    keep = ~mask
    for i, v in zip(np.flatnonzero(keep).tolist(), values[keep].tolist(), strict=True):
        out[i] = prefix + fmt(v)
    return out


def _text(
    series: pd.Series, prefix: str, to_json: Callable[[str], str], missing: str
) -> str | list[str]:
    """Fragments of a text column, made once per value present and picked by code.

    ``missing`` is the fragment of a null; a column holding one value only
    gives one ``str``.
    """
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    codes = series.cat.codes.to_numpy()
    categories = series.cat.categories
    present = np.unique(codes)
    # Slot -1 (the last) holds the null fragment; unused categories stay None.
    table = np.empty(len(categories) + 1, dtype=object)
    table[-1] = missing
    used = present[present >= 0]
    for code, value in zip(used.tolist(), categories[used].tolist(), strict=True):
        table[code] = prefix + to_json(str(value))
    if len(present) == 1:
        return table[present[0]]
    return table[codes].tolist()
