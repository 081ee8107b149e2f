"""Events read in chunks from a file or a stream, in bounded memory.

:func:`read_event_chunks` yields :class:`EventChunk` tables of at most
``chunk_rows`` events from CSV, Parquet (record batches), JSON Lines (one flat
object per line) or OCSF JSON Lines (Authentication and Network Activity
records, read by :mod:`soc_anomaly.data.ocsf_input`). ``-`` is standard input;
gzip and Zstandard inputs are decompressed as they are read, and the format is
told by the name or the content (:mod:`soc_anomaly.data.input_source`).
Parquet needs random access, so a Parquet stream (standard input, or a
compressed file) is read whole first. An input of 0 bytes holds no events.

A ``time`` column becomes UTC datetimes, as in a Parquet file, each value read
by its own kind (:func:`soc_anomaly.data.event_times.parse_times`: ISO 8601
text, or epoch milliseconds as a number or digits). Every chunk is bounded
(:func:`soc_anomaly.data.event_checks.bound_events`: long text cut, impossible
counts clipped, times out of range refused) and says what it changed in
:attr:`EventChunk.notes`.

A header (CSV, Parquet) or a first record (JSON Lines) that names none of the
columns asked for, or a column that differs from one of them only in case, is
an error naming the columns expected and found: an input the model cannot read
is never scored as no events. A JSON line that cannot be read as an event
(malformed or nested too deeply, an object or array where a single value is
expected, no user, a time that is missing, not a time or out of range, an OCSF
record that cannot be mapped) fails with its line number,
or with ``on_error="skip"`` is skipped and counted; a non-empty input whose
every line was skipped is an error.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from soc_anomaly.data.event_checks import (
    InputNotes,
    bound_events,
    check_header,
    show_name,
    where_input,
)
from soc_anomaly.data.event_entities import record_lacks_entity
from soc_anomaly.data.event_times import bad_times, parse_times
from soc_anomaly.data.input_source import (
    INPUT_FORMATS,
    InputSource,
    input_format,
    is_decompression_error,
    looks_like_ocsf,
    open_input,
)
from soc_anomaly.data.ocsf_input import OCSF_INPUT_PATHS, ocsf_row, ocsf_rows_to_events
from soc_anomaly.errors import DataError

__all__ = [
    "INPUT_FORMATS",
    "ON_ERROR",
    "EventChunk",
    "input_format",
    "parse_times",
    "read_event_chunks",
    "read_source_chunks",
]

#: What to do with a malformed JSON line.
ON_ERROR: tuple[str, ...] = ("fail", "skip")


@dataclass
class EventChunk:
    """A block of input events.

    Attributes
    ----------
    events : pandas.DataFrame
        The events, indexed from 0 within the chunk.
    first_row : int
        Position of the chunk's first event in the input (0-based, skipped lines
        not counted).
    skipped : int
        Malformed lines skipped while reading this chunk.
    notes : InputNotes
        What bounding the chunk changed (text cut, counts clipped, places unknown).
    """

    events: pd.DataFrame
    first_row: int
    skipped: int = 0
    notes: InputNotes = field(default_factory=InputNotes)


def read_event_chunks(
    path: str,
    fmt: str | None = None,
    chunk_rows: int = 1_000_000,
    on_error: str = "fail",
    columns: Sequence[str] | None = None,
) -> Iterator[EventChunk]:
    """Yield the input's events in chunks of at most ``chunk_rows``.

    Parameters
    ----------
    path : str
        A file, or ``-`` for standard input.
    fmt : {"csv", "parquet", "jsonl", "ocsf"}, optional
        The input format; None: by the file name or the content
        (:func:`soc_anomaly.data.input_source.open_input`).
    chunk_rows : int, default=1_000_000
        Most events per chunk.
    on_error : {"fail", "skip"}, default="fail"
        A malformed JSON line: fail naming its line, or skip and count it.
    columns : sequence of str, optional
        Read only these columns of a CSV or Parquet input (those it has; the
        others are left for the model to name as missing); all if None.

    Yields
    ------
    EventChunk

    Raises
    ------
    soc_anomaly.errors.DataError
        On a missing or unreadable input, a malformed line (``fail``), or an
        OCSF record of a class that cannot be scored.
    """
    if on_error not in ON_ERROR:
        raise DataError(f"unknown --on-error {on_error!r}; expected fail or skip")
    with open_input(path, fmt) as source:
        yield from read_source_chunks(source, path, chunk_rows, on_error, columns)


def read_source_chunks(
    source: InputSource,
    path: str,
    chunk_rows: int = 1_000_000,
    on_error: str = "fail",
    columns: Sequence[str] | None = None,
) -> Iterator[EventChunk]:
    """:func:`read_event_chunks` of an input already opened with :func:`open_input`.

    For a caller that reports how the input is read (``source.note``) first.
    """
    if source.empty:
        return
    try:
        if source.fmt == "parquet":
            yield from _parquet_chunks(source, path, chunk_rows, columns)
        elif source.fmt == "csv":
            yield from _csv_chunks(source, path, chunk_rows, columns)
        else:
            yield from _json_chunks(
                source, path, chunk_rows, on_error, columns, ocsf=source.fmt == "ocsf"
            )
    except Exception as exc:
        if source.compression is None or not is_decompression_error(exc):
            raise
        raise DataError(
            f"input {path} is a truncated or corrupt {source.compression} stream "
            f"({_first_line(exc)})"
        ) from None


def _parquet_chunks(
    source: InputSource, path: str, chunk_rows: int, columns: Sequence[str] | None
) -> Iterator[EventChunk]:
    import pyarrow.parquet as pq

    # Parquet reads its footer first: a file is opened again for random access,
    # a stream (standard input, or compressed) is read whole.
    direct = path != "-" and source.compression is None
    with open(path, "rb") if direct else io.BytesIO(source.stream.read()) as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
            raise DataError(
                f"input {path} is not a readable Parquet file ({_first_line(exc)})"
            ) from None
        row = 0
        names = None
        if columns is not None:
            check_header(parquet.schema_arrow.names, columns, path)
            have = set(parquet.schema_arrow.names)
            names = [c for c in dict.fromkeys(columns) if c in have]
        for table in _whole_chunks(
            parquet.iter_batches(batch_size=chunk_rows, columns=names), chunk_rows
        ):
            frame, notes = bound_events(parse_times(table.to_pandas(), row), row)
            yield EventChunk(frame, row, notes=notes)
            row += len(frame)


def _whole_chunks(batches: Iterator[Any], chunk_rows: int) -> Iterator[Any]:
    """Tables of exactly ``chunk_rows`` rows (the last one fewer) from record batches.

    pyarrow ends a batch at every row-group boundary, so files written with
    row groups of another size would otherwise alternate full chunks with
    small ones; every chunk of an entity model re-reads the carried day of
    events, so small chunks cost as much as full ones.
    """
    import pyarrow as pa

    pending: list[Any] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, chunk_rows)
            rest = table.slice(chunk_rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def _csv_chunks(
    source: InputSource, path: str, chunk_rows: int, columns: Sequence[str] | None
) -> Iterator[EventChunk]:
    wanted = None if columns is None else set(columns)
    header: dict[str, None] = {}

    def keep(name: str) -> bool:
        header[name] = None  # pandas asks about every column: the header, as read
        return name in wanted  # type: ignore[operator]

    try:
        reader = pd.read_csv(
            source.stream,
            chunksize=chunk_rows,
            low_memory=False,
            usecols=None if wanted is None else keep,
        )
        row = 0
        for frame in reader:
            if row == 0 and columns is not None:
                check_header(list(header), columns, path)
            # A header without rows gives one empty chunk: its columns name the output's.
            frame, notes = bound_events(parse_times(frame.reset_index(drop=True), row), row)
            yield EventChunk(frame, row, notes=notes)
            row += len(frame)
    except pd.errors.EmptyDataError:
        return  # blank lines only: no header, no events
    except UnicodeDecodeError:
        raise DataError(f"input {path} is not UTF-8 text; expected a CSV file") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"input {path} is not a well-formed CSV ({_first_line(exc)})") from None


def _json_chunks(
    source: InputSource,
    path: str,
    chunk_rows: int,
    on_error: str,
    columns: Sequence[str] | None,
    ocsf: bool,
) -> Iterator[EventChunk]:
    what = "an OCSF record" if ocsf else "a JSON object"
    # Fields whose value must be a single value: those read (a list elsewhere passes through).
    single = set(OCSF_INPUT_PATHS) | set(columns or ())
    # Every model reads the account (a flow: or its source endpoint): a line without one is
    # no event (OCSF records check it).
    need_user = not ocsf and (columns is None or "user" in columns)
    records: list[Any] = []
    lines: list[int] = []
    skipped = skipped_all = read = kept = 0
    row = 0
    for number, raw in enumerate(source.stream, start=1):
        if not raw.strip():
            continue
        try:
            try:
                record = json.loads(raw)
            except RecursionError:
                raise ValueError("nested too deeply") from None
            if not isinstance(record, dict):
                raise ValueError(f"got a JSON {type(record).__name__}")
            record = ocsf_row(record, number) if ocsf else _flat_record(record, number, single)
        except (ValueError, UnicodeDecodeError) as exc:
            if on_error == "fail":
                if isinstance(exc, DataError):
                    raise DataError(f"{exc} (--on-error skip skips such lines)") from None
                raise DataError(
                    f"line {number}: malformed JSON ({_first_line(exc)}); expected {what} "
                    "per line (--on-error skip skips such lines)"
                ) from None
            skipped += 1
            skipped_all += 1
            continue
        if not read and not ocsf:
            if looks_like_ocsf(record):
                # Read flat, an OCSF record's objects would be cells: say what it is instead.
                raise DataError(
                    f"line {number}: an OCSF record (class_uid and OCSF objects) read as a "
                    "flat row; expected --input-format ocsf, or no --input-format"
                )
            if columns is not None:
                check_header(list(record), columns, f"{where_input(path)} (line {number})")
        lacking = record_lacks_entity(record) if need_user else None
        if lacking is not None:
            # Checked after the header: a file of another shape is named as such first.
            if on_error == "fail":
                raise DataError(f"line {number}: {lacking} (--on-error skip skips such lines)")
            skipped += 1
            skipped_all += 1
            continue
        read += 1
        records.append(record)
        lines.append(number)
        if len(records) >= chunk_rows:
            chunk = _json_chunk(records, lines, row, skipped, ocsf, on_error)
            skipped_all += chunk.skipped - skipped
            kept += len(chunk.events)
            yield chunk
            row += len(chunk.events)
            records, lines, skipped = [], [], 0
    if records or skipped:
        chunk = _json_chunk(records, lines, row, skipped, ocsf, on_error)
        skipped_all += chunk.skipped - skipped
        kept += len(chunk.events)
        if kept or not skipped_all:
            yield chunk
    if not kept and skipped_all:
        raise DataError(
            f"no event in {where_input(path)}: all {skipped_all:,} non-blank line(s) could not be "
            f"read and were skipped; expected {what} per line"
        )


def _flat_record(record: dict[str, Any], line: int, single: set[str]) -> dict[str, Any]:
    """``record``, checked to hold a single value in every field that is read."""
    for key, value in record.items():
        if key in single and isinstance(value, dict | list):
            kind = "an object" if isinstance(value, dict) else "an array"
            raise DataError(
                f"line {line}: {show_name(key)} is {kind}; expected a single value "
                "(text, a number or null)"
            )
    return record


def _json_chunk(
    records: list[Any], lines: list[int], row: int, skipped: int, ocsf: bool, on_error: str
) -> EventChunk:
    if ocsf:
        frame = ocsf_rows_to_events(records, lines)
    else:
        frame = pd.DataFrame.from_records(records)
        if on_error == "skip" and "time" in frame.columns:
            # A line whose time is missing, not a time or out of range is no event: skipped.
            parsed, bad, _ = bad_times(frame["time"])
            frame["time"] = parsed
            if bad.any():
                frame = frame[~bad].reset_index(drop=True)
                lines = [line for line, b in zip(lines, bad, strict=True) if not b]
                skipped += int(bad.sum())
        else:
            try:
                frame = parse_times(frame, row, lines)
            except DataError as exc:
                raise DataError(f"{exc} (--on-error skip skips such lines)") from None
    frame, notes = bound_events(frame, row, lines)
    return EventChunk(frame, row, skipped, notes)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
