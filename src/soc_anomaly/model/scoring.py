"""Score an event stream with a saved model and write the results, in bounded memory.

:func:`score_stream` reads chunks (:mod:`soc_anomaly.data.event_stream`),
scores them with a :class:`~soc_anomaly.model.stream.StreamScorer` and hands
each scored chunk to a :class:`~soc_anomaly.model.writers.ScoredWriter`
(re-exported here), which publishes a file only once it is complete.

Output columns: ``event_id``, ``time`` and ``user`` when the input has them,
then the ``columns`` asked for, then ``score`` (calibrated 0-100), ``alert``
and ``reasons`` (a list of sentences, empty unless the event alerts; one JSON
array per CSV cell, :mod:`soc_anomaly.model.writers`); with an
:class:`~soc_anomaly.model.incident_scoring.IncidentStream`, then
``incident_id`` and ``incident_score`` (empty for events below the
linker's candidate score). ``ocsf`` output writes
one OCSF Detection Finding per alert instead (:mod:`soc_anomaly.model.findings`).
An input without events gives an empty table with its header (CSV) or schema
(Parquet).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soc_anomaly.data.event_checks import InputNotes
from soc_anomaly.data.event_stream import EventChunk
from soc_anomaly.errors import DataError
from soc_anomaly.model.fitted import AnomalyModel
from soc_anomaly.model.incident_scoring import (
    INCIDENT_COLUMNS,
    LINKER_COLUMNS,
    IncidentStream,
)
from soc_anomaly.model.stream import StreamScorer, worked_in_order
from soc_anomaly.model.writers import OUTPUT_FORMATS, RESULT_COLUMNS, ScoredWriter, output_format

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
    "training_overlap",
]

#: Input columns every scored row keeps when present.
ID_COLUMNS: tuple[str, ...] = ("event_id", "time", "user")


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
    if getattr(model, "linker_", None) is not None:
        wanted += LINKER_COLUMNS
    if label_col:
        wanted.append(label_col)
    if fmt == "ocsf":
        wanted += EVIDENCE_COLUMNS
    return list(dict.fromkeys(wanted))


@dataclass
class ScoreSummary:
    """What a scoring run did.

    Attributes
    ----------
    events, alerts, skipped, written : int
        Events scored, alerts raised, malformed lines skipped, records written.
    seconds : float
        Wall time.
    first_time, last_time : pandas.Timestamp or None
        The earliest and latest time of the events scored (None without times).
    evaluation : dict or None
        With labels: attacks, true positives, precision, recall, ROC AUC and
        PR AUC of the scores.
    notes : InputNotes
        What bounding the events changed (text cut, counts clipped, places
        unknown): :meth:`InputNotes.lines` says it in one line per kind.
    incidents : IncidentStream or None
        The incident queue the events went through (raised, budget, staff).
    """

    events: int = 0
    alerts: int = 0
    skipped: int = 0
    written: int = 0
    seconds: float = 0.0
    first_time: pd.Timestamp | None = None
    last_time: pd.Timestamp | None = None
    evaluation: dict[str, float | int | None] | None = None
    labels: np.ndarray | None = field(default=None, repr=False)
    notes: InputNotes = field(default_factory=InputNotes)
    incidents: IncidentStream | None = field(default=None, repr=False)


def _output_frame(
    events: pd.DataFrame, scored: pd.DataFrame, columns: Sequence[str], alerts_only: bool
) -> pd.DataFrame:
    keep = [c for c in ID_COLUMNS if c in events.columns]
    keep += [c for c in columns if c not in keep]
    frame = events[keep].copy()
    for name in RESULT_COLUMNS:
        frame[name] = scored[name].to_numpy()
    for name in INCIDENT_COLUMNS:
        if name in scored.columns:
            frame[name] = scored[name].array
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
    observe: Callable[[pd.DataFrame, pd.DataFrame], None] | None = None,
    incidents: IncidentStream | None = None,
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
    observe : callable, optional
        Called with ``(events, scored)`` of every chunk, all events whatever
        ``alerts_only`` says, once the chunk is written: e.g. to summarise the
        run for a report while streaming, without keeping the events.
    incidents : IncidentStream, optional
        Link every chunk into incidents on its calibrated scores (adding the
        ``incident_id`` and ``incident_score`` columns) and finish the queue at
        the end of the stream (the last day's incidents are raised then).

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
    summary = ScoreSummary(incidents=incidents)
    labelled: list[np.ndarray] = []
    pending: deque[EventChunk] = deque()
    empty_skipped = [0]
    header: list[pd.DataFrame] = []  # the columns of an input without events

    def events_in_order() -> Iterator[pd.DataFrame]:
        # Runs in the scorer's reading thread: chunks are checked as they are read.
        for chunk in chunks:
            if not len(chunk.events):
                empty_skipped[0] += chunk.skipped
                header[:] = header or [chunk.events]
                continue
            _kept_columns(chunk.events, columns)
            if label_col:
                _labels(chunk.events, label_col, chunk.first_row)
            pending.append(chunk)
            yield chunk.events

    def record(events: pd.DataFrame, scored: pd.DataFrame, chunk: EventChunk) -> None:
        summary.skipped += chunk.skipped
        summary.notes.add(chunk.notes)
        keep = _kept_columns(events, columns)
        writer.write(_output_frame(events, scored, keep, alerts_only), events, scored)
        summary.events += len(events)
        summary.alerts += int(scored["alert"].sum())
        _widen_times(summary, events)
        if observe is not None:
            observe(events, scored)
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
        # Not named ``chunks``: that is the input, which events_in_order reads.
        ordered = results if incidents is None else worked_in_order(results, incidents.link)
        with contextlib.closing(ordered):
            for events, scored in ordered:
                record(events, scored, pending.popleft())
    summary.skipped += empty_skipped[0]
    if incidents is not None:
        incidents.finish()
    if summary.events == 0:
        # A valid empty table: CSV's header, Parquet's schema (JSON Lines: no line).
        template = header[0] if header else _empty_events(columns)
        empty = pd.DataFrame(
            {
                "score": pd.Series(dtype=float),
                "raw_score": pd.Series(dtype=float),
                "alert": pd.Series(dtype=bool),
                "reasons": pd.Series(dtype=object),
            }
        )
        if incidents is not None:
            empty["incident_id"] = pd.Series(dtype="string")
            empty["incident_score"] = pd.Series(dtype=float)
        keep = _kept_columns(template, columns)
        writer.write(_output_frame(template, empty, keep, alerts_only), template, empty)
        summary.written = writer.written
    if label_col and keep_labels:
        summary.labels = np.concatenate(labelled) if labelled else np.zeros((0, 3))
    elif label_col:
        summary.evaluation = evaluate_labels(labelled)
    summary.seconds = time.perf_counter() - t0
    return summary


def _empty_events(columns: Sequence[str]) -> pd.DataFrame:
    """No events, with the columns scored events of the toolkit's own form would keep."""
    frame = pd.DataFrame(
        {
            "event_id": pd.Series(dtype="string"),
            "time": pd.Series(dtype="datetime64[ms, UTC]"),
            "user": pd.Series(dtype="string"),
        }
    )
    for name in columns:
        if name != "*" and name not in frame.columns:
            frame[name] = pd.Series(dtype="string")
    return frame


def _widen_times(summary: ScoreSummary, events: pd.DataFrame) -> None:
    """Stretch the summary's time range over ``events``."""
    if "time" not in events.columns or not len(events):
        return
    times = events["time"]
    if not pd.api.types.is_datetime64_any_dtype(times):
        return
    lo, hi = times.min(), times.max()
    if pd.isna(lo):
        return
    summary.first_time = lo if summary.first_time is None else min(summary.first_time, lo)
    summary.last_time = hi if summary.last_time is None else max(summary.last_time, hi)


def _when(value: object) -> str:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def training_overlap(
    training: Mapping[str, object] | None,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
) -> str | None:
    """A one-line warning when events from ``first`` to ``last`` overlap the training window.

    Parameters
    ----------
    training : mapping or None
        The model's ``training_`` record (``start`` and ``end`` in ISO 8601, UTC).
    first, last : pandas.Timestamp or None
        The earliest and latest time of the events scored.

    Returns
    -------
    str or None
        The warning, with both ranges; None when they do not overlap or a range
        is unknown.
    """
    if not training or first is None or last is None:
        return None
    start, end = training.get("start"), training.get("end")
    if not start or not end:
        return None
    t0, t1 = pd.Timestamp(str(start)), pd.Timestamp(str(end))
    lo, hi = pd.Timestamp(first), pd.Timestamp(last)
    lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo
    hi = hi.tz_localize("UTC") if hi.tzinfo is None else hi
    if hi < t0 or lo > t1:
        return None
    return (
        f"the events scored ({_when(lo)} to {_when(hi)}) overlap the model's training window "
        f"({_when(t0)} to {_when(t1)}): events it was trained on score as normal"
    )


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
