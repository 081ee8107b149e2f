"""Open an event input: a file or standard input, compressed or not, its format told.

:func:`open_input` gives a binary stream of the input's (decompressed) bytes
and the format to read it as:

- **Compression** is told by the first bytes, not the name: gzip (``.gz``) and
  Zstandard (``.zst``) inputs are decompressed as they are read, never whole
  into memory, from a file or from standard input alike.
- **Format**: ``--input-format`` when given; else the file ending (``.csv``,
  ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``/``.json``, each optionally
  followed by ``.gz`` or ``.zst``); for standard input, the content (Parquet's
  magic bytes, a JSON object, else CSV). JSON Lines whose first record has a
  ``class_uid`` and nested objects are OCSF records and are read as such
  (:attr:`InputSource.note` says so).
- **Empty**: an input of 0 bytes (after decompression) holds no events, in any
  format (:attr:`InputSource.empty`).

This module imports only the standard library, so the command line can name
the formats without loading pandas.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from soc_anomaly.errors import DataError

__all__ = [
    "COMPRESSED_SUFFIXES",
    "INPUT_FORMATS",
    "InputSource",
    "input_format",
    "is_decompression_error",
    "looks_like_ocsf",
    "open_input",
]

#: Input formats, and the file endings that imply them.
INPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "parquet": (".parquet", ".pq"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
    "ocsf": (),
}
#: Endings of compressed inputs (after the format's ending), and their compression.
COMPRESSED_SUFFIXES: dict[str, str] = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
# Most decompressed bytes looked at to tell the format (an OCSF record is a few KiB).
_SNIFF_BYTES = 1 << 20
# OCSF objects whose presence marks a record as OCSF rather than a flat row.
_OCSF_OBJECTS = ("metadata", "actor", "user", "src_endpoint", "dst_endpoint", "device")


@dataclass
class InputSource:
    """An opened input.

    Attributes
    ----------
    stream : binary file object
        The input's bytes, decompressed.
    fmt : str
        The format to read it as (a key of :data:`INPUT_FORMATS`).
    compression : str or None
        ``"gzip"``, ``"zstd"`` or None.
    note : str or None
        One line saying how the format was told from the content, when it was
        (print it once); None when the name or ``--input-format`` told it.
    empty : bool
        The input holds 0 bytes: no events, whatever its format.
    """

    stream: IO[bytes]
    fmt: str
    compression: str | None = None
    note: str | None = None
    empty: bool = False


def _format_by_name(path: str) -> str | None:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    for name, endings in INPUT_FORMATS.items():
        if suffixes[-1] in endings:
            return name
    return None


def input_format(path: str, fmt: str | None) -> str | None:
    """The input format from ``--input-format`` or the file name; None: tell it by content.

    Raises
    ------
    soc_anomaly.errors.DataError
        On an unknown ``fmt``, or a file whose ending names no format.
    """
    if fmt is not None:
        if fmt not in INPUT_FORMATS:
            raise DataError(
                f"unknown input format {fmt!r}; expected one of {', '.join(INPUT_FORMATS)}"
            )
        return fmt
    if path == "-":
        return None
    found = _format_by_name(path)
    if found is None:
        ending = "".join(Path(path).suffixes[-2:]) or "(no ending)"
        raise DataError(
            f"cannot tell the format of {path} from '{ending}'; expected .csv, .parquet, "
            ".jsonl (optionally .gz or .zst) or --input-format csv|parquet|jsonl|ocsf"
        )
    return found


class _Replay(io.RawIOBase):
    """The bytes already read from a stream, then the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._head):
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        # read1: what the stream has now (at least a byte, none at its end), so rows
        # that arrived on a slow pipe are scored without waiting for a full buffer.
        data = getattr(self._rest, "read1", self._rest.read)(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_head(stream: IO[bytes], size: int, *, line: bool = False) -> bytes:
    """At least ``size`` bytes (fewer at the end); with ``line``, through the first
    non-blank line (at most about a mebibyte)."""
    # read1: what is there now, so a slow pipe is not waited on for a full block.
    read = getattr(stream, "read1", stream.read)
    data = b""
    while len(data) < _SNIFF_BYTES:
        block = read(size - len(data) if len(data) < size else 65536)
        if not block:
            break
        data += block
        if len(data) >= size and (not line or b"\n" in data.lstrip()):
            break
    return data


def _decompressed(raw: IO[bytes], path: str) -> tuple[IO[bytes], str | None]:
    magic = _read_head(raw, 4)
    replay = io.BufferedReader(_Replay(magic, raw), buffer_size=1 << 16)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=replay, mode="rb"), "gzip"  # type: ignore[return-value]
    if magic.startswith(_ZSTD_MAGIC):
        return io.BufferedReader(_ZstdFrames(replay), buffer_size=1 << 16), "zstd"
    return replay, None


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a Zstandard stream of one or more frames, as read.

    zstandard's own stream reader ends quietly inside a cut frame; this one
    raises :class:`EOFError` there, as :mod:`gzip` does, so a truncated file is
    an error rather than fewer events.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._dctx = zstandard.ZstdDecompressor()
        self._frame: Any = None
        self._raw = raw
        self._out = b""
        self._at = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at == len(self._out) and not self._done:
            block = self._raw.read(1 << 16)
            if not block:
                if self._frame is not None and not self._frame.eof:
                    raise EOFError("the stream ends inside a Zstandard frame")
                self._done = True
            else:
                self._feed(block)
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = self._out[self._at : self._at + n]
        self._at += n
        return n

    def _feed(self, data: bytes) -> None:
        parts = []
        while data:
            if self._frame is None or self._frame.eof:
                self._frame = self._dctx.decompressobj()
            parts.append(self._frame.decompress(data))
            data = self._frame.unused_data if self._frame.eof else b""
        self._out, self._at = b"".join(parts), 0


def is_decompression_error(exc: BaseException) -> bool:
    """Whether ``exc`` is how gzip or zstandard report a cut or corrupt stream."""
    return isinstance(exc, OSError | EOFError) or type(exc).__module__.startswith("zstandard")


def looks_like_ocsf(record: Any) -> bool:
    """Whether a parsed JSON value is an OCSF record: a ``class_uid`` and OCSF's nested objects."""
    return (
        isinstance(record, dict)
        and "class_uid" in record
        and any(isinstance(record.get(k), dict) for k in _OCSF_OBJECTS)
    )


def _first_record(head: bytes) -> Any:
    """The first non-blank line of ``head`` parsed as JSON, or None if it is not JSON."""
    for line in head.splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return None  # the reader names the line
    return None


def _describe(path: str) -> str:
    return "standard input" if path == "-" else str(path)


@contextlib.contextmanager
def open_input(path: str, fmt: str | None = None) -> Iterator[InputSource]:
    """Open ``path`` (``-``: standard input), decompress it and tell its format.

    Parameters
    ----------
    path : str
        A file, or ``-`` for standard input.
    fmt : str, optional
        Read as this format (``--input-format``); by name or content if None.

    Yields
    ------
    InputSource

    Raises
    ------
    soc_anomaly.errors.DataError
        On a missing file, a folder, an unknown format or a corrupt compressed stream.
    """
    named = input_format(path, fmt)
    with contextlib.ExitStack() as stack:
        if path == "-":
            raw: IO[bytes] = sys.stdin.buffer
        else:
            p = Path(path)
            if not p.exists():
                raise DataError(f"input file {p} does not exist")
            if p.is_dir():
                raise DataError(
                    f"input {p} is a directory; expected a file or - for standard input"
                )
            raw = stack.enter_context(p.open("rb"))
        stream, compression = _decompressed(raw, path)
        done = [False]
        # Closed after a run that ended well. After a failure or an interrupt a reader
        # thread may still be blocked reading a pipe that stays open, holding the
        # stream's lock: closing would wait for that read, so the process ends without.
        stack.callback(lambda: stream.close() if done[0] else None)
        try:
            head = _read_head(stream, 8, line=named in (None, "jsonl"))
        except Exception as exc:
            if compression is None or not is_decompression_error(exc):
                raise
            raise DataError(
                f"input {_describe(path)} is a truncated or corrupt {compression} stream ({exc})"
            ) from None
        where = _describe(path)
        packed = f"{compression}-compressed " if compression else ""
        note = None
        chosen = named
        if named is None:
            # Standard input without --input-format: told by its content.
            if head.startswith(_PARQUET_MAGIC):
                chosen = "parquet"
            elif head.lstrip()[:1] == b"{":
                chosen = "ocsf" if looks_like_ocsf(_first_record(head)) else "jsonl"
            else:
                chosen = "csv"
            names = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines"}
            if head and chosen != "ocsf":
                note = (
                    f"reading {where} as {packed}{names[chosen]} (told by its content; "
                    "--input-format sets it)"
                )
        if chosen == "jsonl" and fmt is None and looks_like_ocsf(_first_record(head)):
            chosen = "ocsf"
        if chosen == "ocsf" and fmt is None:
            note = (
                f"reading {where} as {packed}OCSF: its records have class_uid and OCSF objects "
                "(--input-format jsonl reads them as flat rows)"
            )
        yield InputSource(
            stream=io.BufferedReader(_Replay(head, stream), buffer_size=1 << 16),  # type: ignore[arg-type]
            fmt=chosen,
            compression=compression,
            note=note,
            empty=not head,
        )
        done[0] = True
