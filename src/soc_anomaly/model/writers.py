"""Writers of scored events: CSV, Parquet, JSON Lines, or OCSF Detection Findings.

A file is written to a temporary name beside it and renamed only when the
whole stream has been written, so a failure never leaves a half-written file;
standard output receives complete records only (whole CSV rows and JSON lines,
or a whole Parquet file at the end).

``reasons`` is a list of sentences per event in every format that has lists
(JSON Lines: an array; Parquet: a ``list<string>`` column). A CSV cell holds
one string, the same list written as a JSON array (``["...", "..."]``, ``[]``
for an event that does not alert): JSON escapes quotes, backslashes and
control characters, so no event value quoted in a sentence can forge a
separator, and ``json.loads`` gives the list back.

Event values are data, never spreadsheet formulas or terminal commands: CSV
text fields are escaped as :mod:`soc_anomaly.model.safe_csv` describes (a
formula start prefixed with ``'``, control characters as ``\\uXXXX``) unless
``raw_csv`` is set, and a carriage return in a value is always quoted. JSON
output (JSON Lines, OCSF) escapes every control character, DEL, the C1
controls and the bidirectional overrides. Text that cannot be encoded as
UTF-8 (a lone surrogate) is written with a backslash escape instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from soc_anomaly.data.io import atomic_write
from soc_anomaly.errors import DataError, SocAnomalyError
from soc_anomaly.model.findings import findings
from soc_anomaly.model.safe_csv import csv_text, safe_json_text

__all__ = ["OUTPUT_FORMATS", "RESULT_COLUMNS", "ScoredWriter", "csv_reasons", "output_format"]

#: The columns scoring adds to each event.
RESULT_COLUMNS = ("score", "alert", "reasons")

#: Output formats and the file endings that imply them.
OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "parquet": (".parquet", ".pq"),
    "jsonl": (".jsonl", ".ndjson"),
    "ocsf": (),
}


def output_format(path: str, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else by the file ending (``-`` means JSON Lines)."""
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise DataError(
                f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}"
            )
        return fmt
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    for name, suffixes in OUTPUT_FORMATS.items():
        if suffix in suffixes:
            return name
    raise DataError(
        f"cannot tell the output format of {path} from '{suffix or '(no ending)'}'; expected "
        ".csv, .parquet, .jsonl or --format csv|parquet|jsonl|ocsf"
    )


class ScoredWriter:
    """Writes scored chunks to a file (atomically) or to standard output.

    Parameters
    ----------
    path : str
        Output file, or ``-`` for standard output.
    fmt : {"csv", "parquet", "jsonl", "ocsf"}
        Output format.
    manifest : mapping
        The model's manifest (names the analytic of OCSF findings).
    raw_csv : bool, default=False
        CSV only: write text values as they are, not escaped for spreadsheets
        and terminals (a carriage return is still quoted).
    """

    def __init__(
        self, path: str, fmt: str, manifest: Mapping[str, Any], *, raw_csv: bool = False
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.manifest = manifest
        self.raw_csv = raw_csv
        self.written = 0
        self._stack = contextlib.ExitStack()
        self._fh: IO[bytes] | None = None
        self._parquet: Any = None
        self._schema: Any = None
        self._buffer: io.BytesIO | None = None
        self._tmp: Path | None = None
        self._header_done = False

    def __enter__(self) -> ScoredWriter:
        if self.path == "-":
            if self.fmt == "parquet":
                # A Parquet file is only complete at its footer: build it in memory.
                self._buffer = io.BytesIO()
            else:
                self._fh = sys.stdout.buffer
        else:
            try:
                self._tmp = self._stack.enter_context(atomic_write(Path(self.path)))
                if self.fmt != "parquet":  # the Parquet writer opens the file itself
                    self._fh = self._stack.enter_context(self._tmp.open("wb"))
            except BaseException as exc:
                # __exit__ is not called when __enter__ fails (an interrupt included):
                # unwind here, with the exception, so the temporary file is removed.
                self._stack.__exit__(type(exc), exc, exc.__traceback__)
                raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        failure: BaseException | None = None
        if exc_type is None:
            try:
                self._finish()
            except BaseException as err:  # the file is incomplete: it must not be published
                failure = err
                exc_type, exc, tb = type(err), err, err.__traceback__
        if exc_type is not None and self._parquet is not None:
            with contextlib.suppress(Exception):
                self._parquet.close()
        try:
            # Given an exception, atomic_write removes the temporary file.
            self._stack.__exit__(exc_type, exc, tb)
        except OSError as err:
            raise SocAnomalyError(f"cannot write {self.path}: {err.strerror or err}") from None
        if isinstance(failure, OSError):
            raise SocAnomalyError(f"cannot write {self.path}: {failure.strerror or failure}")
        if failure is not None:
            raise failure
        if isinstance(exc, KeyboardInterrupt) and not str(exc):
            # Ctrl-C or SIGTERM: say what the output holds (the command line prints
            # it as its one line); the original interrupt stays the cause.
            raise KeyboardInterrupt(self._interrupted_detail()) from exc

    def _interrupted_detail(self) -> str:
        if self.path != "-":
            return f"nothing written to {self.path}"
        if self.fmt == "parquet" or not self.written:
            return "nothing written to standard output"
        what = "findings" if self.fmt == "ocsf" else "rows"
        return f"{self.written:,} complete {what} written to standard output before it stopped"

    def _finish(self) -> None:
        if self.fmt == "parquet":
            if self._parquet is None:
                self._open_parquet(self._empty_table())
            self._parquet.close()
            self._parquet = None
            if self._buffer is not None:
                sys.stdout.buffer.write(self._buffer.getvalue())
                sys.stdout.buffer.flush()
        elif self._fh is not None:
            self._fh.flush()

    def _empty_table(self) -> Any:
        import pyarrow as pa

        return pa.table(
            {
                "score": pa.array([], pa.float64()),
                "alert": pa.array([], pa.bool_()),
                "reasons": pa.array([], pa.list_(pa.string())),
            }
        )

    def _open_parquet(self, table: Any) -> None:
        import pyarrow.parquet as pq

        self._schema = table.schema
        sink: Any = self._buffer if self._buffer is not None else str(self._tmp)
        self._parquet = pq.ParquetWriter(sink, self._schema)

    def write(self, frame: pd.DataFrame, events: pd.DataFrame, scored: pd.DataFrame) -> None:
        """Write one scored chunk: ``frame`` (the output rows) or, for OCSF, findings."""
        try:
            self._write(frame, events, scored)
        except OSError as err:  # a full disk, a closed pipe
            raise SocAnomalyError(f"cannot write {self.path}: {err.strerror or err}") from None

    def _write(self, frame: pd.DataFrame, events: pd.DataFrame, scored: pd.DataFrame) -> None:
        if self.fmt == "ocsf":
            text = "".join(
                json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n"
                for r in findings(events, scored, self.manifest)
            )
            self._emit(_encode(safe_json_text(text)), text.count("\n"))
            return
        if self.fmt == "parquet":
            self._write_parquet(frame)
            self.written += len(frame)
        elif self.fmt == "csv":
            if len(frame) or not self._header_done:
                if "reasons" in frame.columns:
                    frame = frame.assign(reasons=csv_reasons(frame["reasons"]))
                text = csv_text(frame, header=not self._header_done, raw=self.raw_csv)
                self._emit(_encode(text), len(frame))
                self._header_done = True
        else:
            if len(frame):
                text = frame.to_json(orient="records", lines=True, date_format="iso")
                text = safe_json_text(text if text.endswith("\n") else text + "\n")
                self._emit(_encode(text), len(frame))

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        table = pa.Table.from_pandas(_stable_types(frame), preserve_index=False)
        if "reasons" in frame.columns:
            # A list column, typed: a chunk without alerts holds only empty lists.
            lists = pa.array(frame["reasons"].tolist(), type=pa.list_(pa.string()))
            table = table.set_column(table.schema.get_field_index("reasons"), "reasons", lists)
        if self._parquet is None:
            self._open_parquet(table)
        try:
            table = table.cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError) as exc:
            raise DataError(
                f"the columns changed type between chunks ({exc}); expected one type per column"
            ) from None
        self._parquet.write_table(table)

    def _emit(self, data: bytes, records: int) -> None:
        """Write ``data``, which holds ``records`` whole records, and count them."""
        assert self._fh is not None
        if self.path != "-":
            self._fh.write(data)
            self.written += records
            return
        # A blocked pipe can hold a write for long: an interrupt then waits until the
        # records are out whole, so standard output never ends in half a record.
        with _interrupts_held():
            view = memoryview(data)
            while view:  # a write a held signal interrupted returns short: resume it
                done = self._fh.write(view)
                view = view[len(view) if done is None else done :]
            self._fh.flush()
            self.written += records


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block: they take effect, as they would have, when it ends.

    Their handlers are swapped for one that notes the signal (a write interrupted by
    one resumes), and the noted signal is raised again once they are back. A second
    signal while held (a reader that never drains the pipe) acts at once. Only in the
    main thread, where signal handlers run and can be set; elsewhere the block runs
    as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    before: dict[int, Any] = {}

    def note(signum: int, frame: Any) -> None:
        noted.append(signum)
        handler = before.get(signum)
        if len(noted) > 1 and callable(handler):
            handler(signum, frame)  # raises: the user insists

    for s in (signal.SIGINT, signal.SIGTERM):
        before[s] = signal.signal(s, note)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    if noted:
        signal.raise_signal(noted[0])


def _encode(text: str) -> bytes:
    """UTF-8, a lone surrogate (from a JSON ``\\ud800``) written as ``\\ud800``."""
    return text.encode("utf-8", errors="backslashreplace")


def _stable_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Types that do not change from chunk to chunk: text as strings, numbers 64-bit."""
    out = {}
    for name, col in frame.items():
        if name == "reasons":
            out[name] = col  # lists: typed by the writer
        elif name == "incident_id":
            out[name] = col.astype("string")  # null for most events, whatever the chunk
        elif name == "incident_score":
            out[name] = col.astype(np.float64)
        elif len(col) and col.isna().all() and name not in RESULT_COLUMNS:
            # A column empty so far (text a CSV chunk read as NaN): text, which a
            # later chunk's text or numbers can still be written as.
            out[name] = col.astype("string")
        elif pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
            out[name] = col.astype(bool)
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[name] = col
        elif pd.api.types.is_integer_dtype(col.dtype):
            out[name] = col.astype("Int64")
        elif pd.api.types.is_numeric_dtype(col.dtype):
            out[name] = col.astype(np.float64)
        else:
            out[name] = col.astype("string")
    return pd.DataFrame(out)


def csv_reasons(reasons: pd.Series) -> list[str]:
    """Each event's reasons as one CSV cell: the list as a JSON array (``[]`` if none)."""
    return [
        json.dumps(list(r), ensure_ascii=False) if isinstance(r, list | tuple) and r else "[]"
        for r in reasons
    ]
