"""Score an event stream with a saved model and write the results, in bounded memory.

:func:`score_stream` reads chunks (:mod:`soc_anomaly.data.event_stream`),
scores them with a :class:`~soc_anomaly.model.stream.StreamScorer` and hands
each scored chunk to a :class:`ScoredWriter`. A file is written to a temporary
name beside it and renamed only when the whole stream has been scored, so a
failure never leaves a half-written file; standard output receives complete
records only (whole CSV rows and JSON lines, or a whole Parquet file at the end).

Output columns: ``event_id``, ``time`` and ``user`` when the input has them,
then the ``columns`` asked for, then ``score`` (calibrated 0-100), ``alert``
and ``reasons`` (sentences joined by ``"; "``, empty unless the event alerts).
``ocsf`` output writes one OCSF Detection Finding per alert instead
(:mod:`soc_anomaly.model.findings`).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from soc_anomaly.data.event_stream import EventChunk
from soc_anomaly.data.io import atomic_write
from soc_anomaly.errors import DataError, SocAnomalyError
from soc_anomaly.model.findings import findings
from soc_anomaly.model.fitted import AnomalyModel
from soc_anomaly.model.stream import StreamScorer

__all__ = [
    "EVIDENCE_COLUMNS",
    "ID_COLUMNS",
    "OUTPUT_FORMATS",
    "ScoreSummary",
    "ScoredWriter",
    "evaluate_labels",
    "input_columns",
    "output_format",
    "score_stream",
]

#: Output formats and the file endings that imply them.
OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "parquet": (".parquet", ".pq"),
    "jsonl": (".jsonl", ".ndjson"),
    "ocsf": (),
}
#: Input columns every scored row keeps when present.
ID_COLUMNS: tuple[str, ...] = ("event_id", "time", "user")
_RESULT_COLUMNS = ("score", "alert", "reasons")


#: Event columns an OCSF finding's evidence reads, when present.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "event_id", "time", "class_uid", "user", "src_ip", "device_id", "src_city", "src_country",
    "src_lat", "src_lon", "dst_host", "dst_ip", "dst_port",
)  # fmt: skip


def input_columns(
    model: AnomalyModel, columns: Sequence[str], label_col: str | None, fmt: str
) -> list[str] | None:
    """The input columns a scoring run reads: the model's, the kept ones, the label's.

    None (every column) when ``columns`` is ``("*",)``.
    """
    if list(columns) == ["*"]:
        return None
    wanted = [*model.input_columns(), *ID_COLUMNS, *columns]
    if label_col:
        wanted.append(label_col)
    if fmt == "ocsf":
        wanted += EVIDENCE_COLUMNS
    return list(dict.fromkeys(wanted))


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


@dataclass
class ScoreSummary:
    """What a scoring run did.

    Attributes
    ----------
    events, alerts, skipped, written : int
        Events scored, alerts raised, malformed lines skipped, records written.
    seconds : float
        Wall time.
    evaluation : dict or None
        With labels: attacks, true positives, precision, recall, ROC AUC and
        PR AUC of the scores.
    """

    events: int = 0
    alerts: int = 0
    skipped: int = 0
    written: int = 0
    seconds: float = 0.0
    evaluation: dict[str, float | int | None] | None = None
    labels: np.ndarray | None = field(default=None, repr=False)


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
    """

    def __init__(self, path: str, fmt: str, manifest: Mapping[str, Any]) -> None:
        self.path = path
        self.fmt = fmt
        self.manifest = manifest
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
            self._tmp = self._stack.enter_context(atomic_write(Path(self.path)))
            if self.fmt != "parquet":  # the Parquet writer opens the file itself
                self._fh = self._stack.enter_context(self._tmp.open("wb"))
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
                "reasons": pa.array([], pa.string()),
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
            self._emit(text.encode())
            self.written += text.count("\n")
            return
        if self.fmt == "parquet":
            self._write_parquet(frame)
        elif self.fmt == "csv":
            if len(frame) or not self._header_done:
                self._emit(frame.to_csv(index=False, header=not self._header_done).encode())
                self._header_done = True
        else:
            if len(frame):
                text = frame.to_json(orient="records", lines=True, date_format="iso")
                self._emit((text if text.endswith("\n") else text + "\n").encode())
        self.written += len(frame)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        table = pa.Table.from_pandas(_stable_types(frame), preserve_index=False)
        if self._parquet is None:
            self._open_parquet(table)
        try:
            table = table.cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError) as exc:
            raise DataError(
                f"the columns changed type between chunks ({exc}); expected one type per column"
            ) from None
        self._parquet.write_table(table)

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        assert self._fh is not None
        self._fh.write(data)
        if self.path == "-":
            self._fh.flush()


def _stable_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Types that do not change from chunk to chunk: text as strings, numbers 64-bit."""
    out = {}
    for name, col in frame.items():
        if col.isna().all() and name not in _RESULT_COLUMNS:
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


def _output_frame(
    events: pd.DataFrame, scored: pd.DataFrame, columns: Sequence[str], alerts_only: bool
) -> pd.DataFrame:
    keep = [c for c in ID_COLUMNS if c in events.columns]
    keep += [c for c in columns if c not in keep]
    frame = events[keep].copy()
    for name in _RESULT_COLUMNS:
        frame[name] = scored[name].to_numpy()
    if alerts_only:
        frame = frame.loc[scored["alert"].to_numpy(dtype=bool)]
    return frame.reset_index(drop=True)


def _labels(events: pd.DataFrame, label_col: str, first_row: int) -> np.ndarray:
    if label_col not in events.columns:
        raise DataError(
            f"the input has no label column {label_col!r} (events from {first_row + 1}); "
            "expected 0/1 labels for --label-col"
        )
    y = pd.to_numeric(events[label_col], errors="coerce")
    if y.isna().any() or not y.isin([0, 1]).all():
        bad = int(np.flatnonzero((y.isna() | ~y.isin([0, 1])).to_numpy())[0])
        raise DataError(
            f"event {first_row + bad + 1}: label {events[label_col].iloc[bad]!r} in "
            f"{label_col!r}; expected 0 or 1"
        )
    return y.to_numpy(dtype=np.int8)


def evaluate_labels(parts: Sequence[np.ndarray | None]) -> dict[str, float | int | None]:
    """Precision, recall and AUCs of scored events against their labels.

    Parameters
    ----------
    parts : sequence of ndarray of shape (n, 3)
        Per block of events: label (0/1), raw score and alert flag per event.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    blocks = [p for p in parts if p is not None and len(p)]
    table = np.concatenate(blocks) if blocks else np.zeros((0, 3))
    y, raw, alert = table[:, 0].astype(int), table[:, 1], table[:, 2].astype(bool)
    tp = int((alert & (y == 1)).sum())
    both = 0 < int(y.sum()) < len(y)
    return {
        "events": len(y),
        "attacks": int(y.sum()),
        "alerts": int(alert.sum()),
        "true_positives": tp,
        "precision": tp / int(alert.sum()) if alert.any() else None,
        "recall": tp / int(y.sum()) if y.any() else None,
        "roc_auc": float(roc_auc_score(y, raw)) if both else None,
        "pr_auc": float(average_precision_score(y, raw)) if both else None,
    }


def score_stream(
    model: AnomalyModel,
    chunks: Iterable[EventChunk],
    writer: ScoredWriter,
    *,
    columns: Sequence[str] = (),
    alerts_only: bool = False,
    label_col: str | None = None,
    reasons: int = 5,
    progress: Callable[[ScoreSummary], None] | None = None,
    scorer: StreamScorer | None = None,
    keep_labels: bool = False,
) -> ScoreSummary:
    """Score every chunk and write it.

    Parameters
    ----------
    model : AnomalyModel
        A fitted (or loaded) model.
    chunks : iterable of EventChunk
        The input, in time order from chunk to chunk for an entity model.
    writer : ScoredWriter
        Where results go (entered by the caller).
    columns : sequence of str, default=()
        Input columns to keep beside the ID columns; ``("*",)`` keeps all.
    alerts_only : bool, default=False
        Write alerting events only.
    label_col : str, optional
        Column of 0/1 labels: evaluate the scores against it.
    reasons : int, default=5
        Most reasons per alert.
    progress : callable, optional
        Called with the running summary after each chunk.
    scorer : StreamScorer, optional
        The scorer to use (one primed with earlier events); a new one if None.
    keep_labels : bool, default=False
        Keep (label, raw score, alert) per event in ``summary.labels`` instead
        of evaluating them (to evaluate several partitions together).

    Returns
    -------
    ScoreSummary

    Raises
    ------
    soc_anomaly.errors.DataError
        On events the model cannot read (naming the missing columns), a
        column asked for that the input lacks, or events out of time order.
    """
    t0 = time.perf_counter()
    scorer = scorer or StreamScorer(model, reasons=reasons)
    summary = ScoreSummary()
    labelled: list[np.ndarray] = []
    pending: deque[EventChunk] = deque()
    empty_skipped = [0]

    def events_in_order() -> Iterator[pd.DataFrame]:
        # Runs in the scorer's reading thread: chunks are checked as they are read.
        for chunk in chunks:
            if not len(chunk.events):
                empty_skipped[0] += chunk.skipped
                continue
            _kept_columns(chunk.events, columns)
            if label_col:
                _labels(chunk.events, label_col, chunk.first_row)
            pending.append(chunk)
            yield chunk.events

    def record(events: pd.DataFrame, scored: pd.DataFrame, chunk: EventChunk) -> None:
        summary.skipped += chunk.skipped
        keep = _kept_columns(events, columns)
        writer.write(_output_frame(events, scored, keep, alerts_only), events, scored)
        summary.events += len(events)
        summary.alerts += int(scored["alert"].sum())
        if label_col:
            y = _labels(events, label_col, chunk.first_row)
            labelled.append(
                np.column_stack([y, scored["raw_score"].to_numpy(), scored["alert"].to_numpy()])
            )
        summary.written = writer.written
        summary.seconds = time.perf_counter() - t0
        if progress is not None:
            progress(summary)

    # Closed on any failure here, so the reading thread stops and lets go of the input.
    with contextlib.closing(scorer.score_chunks(events_in_order())) as results:
        for events, scored in results:
            record(events, scored, pending.popleft())
    summary.skipped += empty_skipped[0]
    if label_col and keep_labels:
        summary.labels = np.concatenate(labelled) if labelled else np.zeros((0, 3))
    elif label_col:
        summary.evaluation = evaluate_labels(labelled)
    summary.seconds = time.perf_counter() - t0
    return summary


def _kept_columns(events: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    if list(columns) == ["*"]:
        return [str(c) for c in events.columns]
    missing = [c for c in columns if c not in events.columns]
    if missing:
        raise DataError(
            f"--columns names column(s) the input lacks: {', '.join(missing)}; expected "
            "columns of the input, comma-separated, or all"
        )
    return list(columns)
