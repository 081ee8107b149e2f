"""The incident queue in production: the bundle's linker, its stream state, the incidents file.

``train`` fits an :class:`~soc_anomaly.incidents.IncidentLinker` beside the
detector of every raw-event model (``entity`` and ``seed`` features; a
``table`` model has none) on the same normal training events
(:func:`fit_linker`), with the analysts' budget in incidents a day per 500
staff (``train --incidents-per-day``, default 10). The bundle's manifest
records it (:func:`incident_record`).

``score`` links each chunk's events on the calibrated scores it already has
(:class:`IncidentStream`: no other pass over the events), carrying the
linker's state from chunk to chunk, so every event's ``incident_id`` and
``incident_score`` and the incidents raised are the same whatever the chunk
size. :class:`IncidentWriter` writes the raised incidents, one JSON object a
line (:meth:`~soc_anomaly.incidents.Incident.to_dict`) or one OCSF Incident
Finding a line (:mod:`soc_anomaly.model.incident_findings`), to a temporary
file renamed into place only when the whole stream has been scored.
``serve`` links the events of one request (:func:`request_incidents`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

# Incidents a day per 500 staff, unless ``train --incidents-per-day`` says otherwise.
from soc_anomaly.config import DEFAULT_INCIDENTS_PER_DAY as DEFAULT_INCIDENTS_PER_DAY
from soc_anomaly.errors import ModelError, ParameterError, SocAnomalyError
from soc_anomaly.incidents import Incident, IncidentLinker, LinkerState
from soc_anomaly.model.incident_findings import EventFact, incident_finding
from soc_anomaly.model.safe_csv import safe_json_text

__all__ = [
    "DEFAULT_INCIDENTS_PER_DAY",
    "INCIDENT_COLUMNS",
    "INCIDENT_FORMATS",
    "LINKER_COLUMNS",
    "IncidentStream",
    "IncidentWriter",
    "check_budget",
    "fit_linker",
    "incident_record",
    "linker_of",
    "request_incidents",
    "require_linker",
]

#: The columns linking adds to each scored event.
INCIDENT_COLUMNS = ("incident_id", "incident_score")
#: Event columns the linker reads (its entities, an incident's narrative and techniques):
#: read with the model's own, so the incidents do not depend on the output format.
LINKER_COLUMNS = (
    "time", "class_uid", "user", "src_host", "src_ip", "dst_host", "dst_ip", "status",
    "is_mfa", "bytes_out", "direction",
)  # fmt: skip
#: Formats of the incidents file.
INCIDENT_FORMATS = ("jsonl", "ocsf")


def check_budget(value: Any, name: str = "--incidents-per-day") -> float:
    """``value`` as a positive, finite number of incidents a day per 500 staff.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        One line naming ``name`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ParameterError(
            f"{name} must be a positive number of incidents a day per 500 staff, got {value!r}"
        )
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return float(value)


def fit_linker(
    events: pd.DataFrame, users: pd.DataFrame | None, incidents_per_day: float
) -> IncidentLinker:
    """An incident linker fitted on a model's normal training events.

    The organisation's size is the staff table's rows when there is one (as
    ``detect`` counts a generated world), else the accounts with a successful
    logon in ``events``.
    """
    n_staff = len(users) if users is not None and len(users) else None
    return IncidentLinker(incidents_per_day=incidents_per_day).fit(events, n_staff)


def linker_of(model: Any) -> IncidentLinker | None:
    """The model's incident linker; None for a ``table`` model or an older bundle."""
    return getattr(model, "linker_", None)


def require_linker(model: Any, flag: str) -> IncidentLinker:
    """The model's linker, or a one-line :class:`ModelError` saying to retrain."""
    linker = linker_of(model)
    if linker is None:
        raise ModelError(
            f"{flag}: the model was saved without an incident linker (table features, or "
            "saved by an earlier version); retrain it with soc-anomaly train to raise incidents"
        )
    return linker


def incident_record(model: Any) -> dict[str, Any] | None:
    """What the manifest says of the incident queue (None without a linker)."""
    linker = linker_of(model)
    if linker is None:
        return None
    return {
        "incidents_per_day_per_500_staff": float(linker.incidents_per_day),
        "staff": int(linker.n_staff_),
        "per_day": int(linker.per_day()),
        "candidate_score": float(linker.candidate_score),
        "window_hours": float(linker.window_hours),
        "span_hours": float(linker.span_hours),
        "common_share": float(linker.common_share),
        "tail_weight": float(linker.tail_weight),
        "common_entities": {k: len(v) for k, v in sorted(linker.common_.items())},
    }


def _text(values: pd.Series) -> list[str | None]:
    return [None if v is None or v is pd.NA or v != v or v == "" else str(v) for v in values]


def _facts(
    events: pd.DataFrame, scored: pd.DataFrame, rows: np.ndarray, first: int
) -> list[EventFact]:
    """The :class:`EventFact` of the events at positions ``rows`` of a chunk."""
    from soc_anomaly.features.columns import epoch_ms

    picked = events.iloc[rows]
    n = len(rows)

    def column(name: str) -> list[Any]:
        return _text(picked[name]) if name in picked.columns else [None] * n

    cls = (
        pd.to_numeric(picked["class_uid"], errors="coerce").tolist()
        if "class_uid" in picked.columns
        else [None] * n
    )
    times = epoch_ms(picked["time"]).tolist()
    dst = [h or ip for h, ip in zip(column("dst_host"), column("dst_ip"), strict=True)]
    return [
        EventFact(
            row=first + int(r),
            uid=uid,
            class_uid=None if c is None or c != c else int(c),
            time_ms=int(t),
            score=float(s),
            alert=bool(a),
            user=user,
            host=host,
            address=address,
            dst=d,
        )
        for r, uid, c, t, s, a, user, host, address, d in zip(
            rows.tolist(),
            column("event_id"),
            cls,
            times,
            scored["score"].to_numpy(dtype=float)[rows].tolist(),
            scored["alert"].to_numpy(dtype=bool)[rows].tolist(),
            column("user"),
            column("src_host"),
            column("src_ip"),
            dst,
            strict=True,
        )
    ]


class IncidentWriter:
    """Writes raised incidents, one a line, to a file published only when complete.

    Parameters
    ----------
    path : pathlib.Path
        The incidents file (its folder must exist).
    fmt : {"jsonl", "ocsf"}
        ``jsonl``: :meth:`Incident.to_dict` objects; ``ocsf``: OCSF 1.5.0
        Incident Findings (:func:`~soc_anomaly.model.incident_findings.incident_finding`).
    manifest : mapping
        The model's manifest (names the analytic of OCSF records).
    candidate_score : float
        The linker's candidate score (the OCSF severity reads it).
    """

    def __init__(
        self, path: Path, fmt: str, manifest: Mapping[str, Any], candidate_score: float
    ) -> None:
        if fmt not in INCIDENT_FORMATS:
            raise ParameterError(
                f"unknown incidents format {fmt!r}; expected {' or '.join(INCIDENT_FORMATS)}"
            )
        self.path = Path(path)
        self.fmt = fmt
        self.manifest = manifest
        self.candidate_score = candidate_score
        self.written = 0
        self._fh: IO[bytes] | None = None

    def open(self, tmp: Path) -> None:
        """Write into ``tmp`` (the caller's :func:`~soc_anomaly.data.io.atomic_write`)."""
        try:
            self._fh = tmp.open("wb")
        except OSError as exc:
            raise SocAnomalyError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Flush and close the temporary file."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as exc:
                raise SocAnomalyError(f"cannot write {self.path}: {exc.strerror or exc}") from None
            self._fh = None

    def write(self, incidents: Sequence[Incident], facts: Mapping[str, list[EventFact]]) -> None:
        """Write ``incidents`` (``facts``: their events, by incident id, for OCSF)."""
        if not incidents or self._fh is None:
            return
        if self.fmt == "ocsf":
            records = [
                incident_finding(i, facts.get(i.incident_id, []), self.manifest,
                                 self.candidate_score)
                for i in incidents
            ]  # fmt: skip
        else:
            records = [i.to_dict() for i in incidents]
        text = "".join(
            json.dumps(r, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
            for r in records
        )
        try:
            self._fh.write(safe_json_text(text).encode("utf-8", errors="backslashreplace"))
        except OSError as exc:
            raise SocAnomalyError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.written += len(records)


class IncidentStream:
    """Links a stream's scored chunks into incidents, carrying the linker's state.

    Parameters
    ----------
    linker : IncidentLinker
        The bundle's fitted linker.
    incidents_per_day : float, optional
        Incidents a day per 500 staff, overriding the linker's budget.
    writer : IncidentWriter, optional
        Where raised incidents go as they close.

    Attributes
    ----------
    raised : int
        Incidents raised so far.
    per_day : int
        Incidents raised a day (the budget scaled to the staff).
    rate : float
        The budget in incidents a day per 500 staff.
    """

    def __init__(
        self,
        linker: IncidentLinker,
        incidents_per_day: float | None = None,
        writer: IncidentWriter | None = None,
    ) -> None:
        self.linker = linker
        self.rate = float(linker.incidents_per_day if incidents_per_day is None else
                          incidents_per_day)  # fmt: skip
        self.state: LinkerState = linker.start(incidents_per_day)
        self.writer = writer
        self.raised = 0
        # The OCSF records name their events: kept per open incident, dropped once it closes.
        self._facts: dict[str, list[EventFact]] | None = (
            {} if writer is not None and writer.fmt == "ocsf" else None
        )

    @property
    def per_day(self) -> int:
        """Incidents raised a day."""
        return self.state.per_day

    @property
    def staff(self) -> int:
        """The organisation's size the budget is scaled to."""
        return int(self.linker.n_staff_)

    def link(self, events: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
        """Link the next chunk; ``scored`` with ``incident_id`` and ``incident_score`` added.

        Parameters
        ----------
        events : pandas.DataFrame
            The chunk's raw events, in time order after the previous chunk's.
        scored : pandas.DataFrame
            Their scores (:meth:`AnomalyModel.score`'s output, same order).
        """
        first = self.state.rows
        chunk = self.linker.link(events, scored["score"].to_numpy(dtype=float), self.state)
        if self._facts is not None:
            joined = np.flatnonzero(np.not_equal(chunk.incident_ids, None))
            if joined.size:
                facts = _facts(events, scored, joined, first)
                for inc, fact in zip(chunk.incident_ids[joined].tolist(), facts, strict=True):
                    self._facts.setdefault(inc, []).append(fact)
        self._emit(chunk.closed)
        out = scored.copy(deep=False)
        out["incident_id"] = pd.array(chunk.incident_ids, dtype="string")
        out["incident_score"] = chunk.incident_scores
        return out

    def finish(self) -> None:
        """End the stream: raise the last day's incidents and write what is left."""
        self._emit(self.linker.finish(self.state))

    def _emit(self, closed: list[Incident]) -> None:
        self.raised += len(closed)
        facts = self._facts
        if self.writer is not None:
            self.writer.write(closed, facts or {})
        if facts is not None:
            for inc in closed:
                facts.pop(inc.incident_id, None)
            if facts:
                # An incident retired unraised never reaches the file: forget its events.
                still = {i.incident_id for i in self.state.open.values()}
                for key in [k for k in facts if k not in still]:
                    del facts[key]


def request_incidents(
    model: Any,
    events: pd.DataFrame,
    scored: pd.DataFrame,
    manifest: Mapping[str, Any],
    fmt: str = "jsonl",
) -> list[dict[str, Any]] | None:
    """The raised incidents of one batch of events (the service's request).

    The batch is linked on its own (:meth:`IncidentLinker.run`), in time order;
    each incident's ``events`` are positions in ``events`` (from 0).

    Returns
    -------
    list of dict or None
        :meth:`Incident.to_dict` objects (``fmt="jsonl"``) or OCSF Incident
        Findings (``"ocsf"``), by day then rank; None for a model without a linker.
    """
    linker = linker_of(model)
    if linker is None:
        return None
    if not len(events):
        return []
    from soc_anomaly.features.columns import epoch_ms

    order = np.argsort(epoch_ms(events["time"]), kind="stable")
    ranked, ranked_scores = events.iloc[order], scored.iloc[order]
    result = linker.run(ranked, ranked_scores["score"].to_numpy(dtype=float))
    back = order.tolist()
    out = []
    for inc in result.raised:
        if fmt == "ocsf":
            rows = np.asarray(inc.events, dtype=np.int64)
            facts = _facts(ranked, ranked_scores, rows, 0)
            facts = [f._replace(row=back[f.row]) for f in facts]
            inc.events = [back[r] for r in inc.events]
            out.append(incident_finding(inc, facts, manifest, linker.candidate_score))
        else:
            inc.events = [back[r] for r in inc.events]
            out.append(inc.to_dict())
    return out
