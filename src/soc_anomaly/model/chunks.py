"""Scoring a chunk in two halves: featurise it (sequential), then score and explain it.

:meth:`AnomalyModel.prepare_chunk <soc_anomaly.model.AnomalyModel.prepare_chunk>`
and :meth:`~soc_anomaly.model.AnomalyModel.finish_chunk` call these. The first
half reads what the stream carried and hands on what the next chunk needs; the
second reads nothing of other chunks, so it can run while the next one is
prepared (:meth:`soc_anomaly.model.stream.StreamScorer.score_chunks`).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_integer_dtype

from soc_anomaly.data.event_checks import bound_events
from soc_anomaly.data.event_stream import parse_times
from soc_anomaly.data.split import signed_log1p
from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation.explain import explain_top
from soc_anomaly.features.carry import StreamContext

if TYPE_CHECKING:
    from soc_anomaly.model.fitted import AnomalyModel

__all__ = [
    "IDENTITY_COLUMNS",
    "PreparedChunk",
    "alert_reasons",
    "complete_raw_events",
    "detector_input",
    "finish_chunk",
    "fit_featurizer",
    "input_columns",
    "prepare_chunk",
    "read_columns",
]

#: Raw columns every event must have (what identifies it, as OCSF input requires);
#: the entity features read the other raw columns as unknown where they are absent.
#: ``user`` may be absent too: a flow log names no account (its baselines are its source
#: endpoint's), and a logon without one is refused naming the event
#: (:mod:`soc_anomaly.data.event_entities`).
IDENTITY_COLUMNS: tuple[str, ...] = ("time", "class_uid")
_TIME_DTYPE = pd.DatetimeTZDtype("ms", datetime.UTC)
# Absent numeric columns become NaN, absent text columns None (unknown either way).
_NUMERIC_RAW = frozenset({"timezone_offset", "src_lat", "src_lon", "bytes_in", "bytes_out"})


def complete_raw_events(events: pd.DataFrame) -> pd.DataFrame:
    """Raw events with every column the entity features read, absent ones unknown.

    A real export holds what its source logs: an authentication log has no
    bytes, a flow log no logon status, many no ``status_detail``. As in OCSF
    input (:mod:`soc_anomaly.data.ocsf_input`), an absent column is unknown in
    every row (no location: no travel; no bytes: no volume).

    Parameters
    ----------
    events : pandas.DataFrame
        Raw enterprise events.

    Returns
    -------
    pandas.DataFrame
        ``events`` itself when it has every column and datetimes, else a
        shallow copy with text times parsed (ISO 8601) and the absent columns
        added (NaN for numbers, None for text).

    Raises
    ------
    soc_anomaly.errors.DataError
        If a column of :data:`IDENTITY_COLUMNS` is absent: the message names it.
        (Without a ``user`` column every event is a flow's: its logons are
        refused when the events are bounded, naming the first.)
    """
    from soc_anomaly.features.catalog import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    missing = [c for c in IDENTITY_COLUMNS if c not in events.columns]
    if missing:
        found = [str(c) for c in events.columns]
        shown = ", ".join(found[:12]) + (f", ... ({len(found)} in all)" if len(found) > 12 else "")
        raise DataError(
            f"the events have no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}; "
            "expected time and class_uid "
            "(3002 or 4001) in every event, user in every logon, other raw columns optional "
            f"(found: {shown or 'none'})"
        )
    times = events["time"]
    if not (is_datetime64_any_dtype(times) or is_integer_dtype(times)):
        # Text times (a CSV read by pandas): ISO 8601, as the event readers parse them.
        events = parse_times(events.copy(deep=False))
        times = events["time"]
    if is_datetime64_any_dtype(times) and times.dtype != _TIME_DTYPE:
        # One time type for every source: CSV, Parquet and OCSF readers name UTC by
        # different objects, and a stream joining two of them would hold objects.
        events = events.copy(deep=False)
        zoned = times.dt.tz_localize("UTC") if times.dt.tz is None else times
        events["time"] = zoned.dt.tz_convert(_TIME_DTYPE.tz).dt.as_unit("ms")
    absent = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c not in events.columns]
    if not absent:
        return events
    out = events.copy(deep=False)
    for name in absent:
        if name in _NUMERIC_RAW:
            out[name] = np.full(len(out), np.nan)
        else:
            out[name] = pd.Series([None] * len(out), index=out.index, dtype=object)
    return out


@dataclass
class PreparedChunk:
    """A chunk of events with its features, between the two halves of scoring.

    Attributes
    ----------
    events : pandas.DataFrame
        The chunk.
    features : pandas.DataFrame
        Its features (the featuriser's output, or the table's columns).
    matrix : numpy.ndarray
        The detector's input before scaling.
    context_columns : pandas.DataFrame or None
        What the entity features' explanations say beside the values.
    next_context : StreamContext or None
        What the stream carries into its next chunk (entity models).
    """

    events: pd.DataFrame
    features: pd.DataFrame
    matrix: np.ndarray
    context_columns: pd.DataFrame | None
    next_context: StreamContext | None


def prepare_chunk(
    model: AnomalyModel, events: pd.DataFrame, context: StreamContext | None = None
) -> PreparedChunk:
    """The chunk's features, and (entity models) the state to carry into the next chunk."""
    if not hasattr(model, "detector_"):
        raise ParameterError("the model is not fitted; call fit() or load a saved model")
    from soc_anomaly.features import EntityFeatures

    featurizer = model.featurizer_
    context_columns = carried = None
    if isinstance(featurizer, EntityFeatures):
        events = complete_raw_events(events)
    if featurizer is not None:
        # The service and the Python API read events without the streaming readers:
        # bounded here too (a second pass over streamed chunks changes nothing).
        events, _ = bound_events(events)
    if isinstance(featurizer, EntityFeatures):
        feats, context_columns, carried = featurizer.transform_stream(events, context)
    elif featurizer is not None:
        feats = featurizer.transform(events)
    else:
        feats = events
    return PreparedChunk(events, feats, model.feature_matrix(feats), context_columns, carried)


def finish_chunk(
    model: AnomalyModel,
    chunk: PreparedChunk,
    *,
    reasons: int = 5,
    core_free: threading.Event | None = None,
) -> pd.DataFrame:
    """Calibrated scores, alert flags and the reasons of each alert (``score``'s output).

    ``reasons`` holds a list of sentences per event (empty unless it alerts):
    a list, not joined text, since a sentence quotes event values that could
    hold any separator.
    """
    raw = model.raw_scores(chunk.matrix, core_free)
    alert = raw >= model.threshold_
    lists: list[list[str]] = [[] for _ in range(len(raw))]
    if alert.any():
        rows = np.flatnonzero(alert)
        for row, sentences in zip(
            rows, alert_reasons(model, chunk, rows, raw[rows], reasons), strict=True
        ):
            lists[row] = sentences
    return pd.DataFrame(
        {
            "score": model.calibrator_.transform(raw),
            "raw_score": raw,
            "alert": alert,
            "reasons": lists,
        },
        index=chunk.events.index,
    )


def alert_reasons(
    model: AnomalyModel, chunk: PreparedChunk, rows: np.ndarray, raw: np.ndarray, top: int
) -> list[list[str]]:
    """The reasons of the chunk's ``rows`` (their raw scores ``raw``): sentences per row.

    Entity models say what their features mean (:meth:`EntityFeatures.explain`);
    the others give z-score narratives against the training baseline.
    """
    from soc_anomaly.features import EntityFeatures

    if isinstance(model.featurizer_, EntityFeatures) and chunk.context_columns is not None:
        read = set(model.feature_names_)
        # A model reading some of the features (feature_cols) names only those.
        unread = len(model.featurizer_.get_feature_names_out()) - len(read)
        sentences = model.featurizer_.explain(
            chunk.events.iloc[rows],
            chunk.features.iloc[rows],
            top=top + unread,
            context_columns=chunk.context_columns.iloc[rows],
        )
        return [[s.text for s in row if s.feature in read][:top] for row in sentences]
    names = model.feature_names_
    values = chunk.features[names].iloc[rows].reset_index(drop=True)
    top_m = len(values)
    explained = explain_top(
        values,
        np.zeros(top_m, dtype=int),
        raw,
        pd.Series(model.baseline_mean_, index=names),
        pd.Series(model.baseline_std_, index=names),
        names,
        top_m=top_m,
        max_features=top,
    )
    by_row = {e.index: list(e.explanations) for e in explained}
    return [by_row[i] for i in range(top_m)]


def fit_featurizer(
    features: str,
    raw: pd.DataFrame,
    users: pd.DataFrame | None,
    detector: str,
    random_state: int | None,
) -> tuple[Any, pd.DataFrame]:
    """The featuriser of ``entity`` or ``seed`` features fitted on training events for
    ``detector``, and the events as it read them (the ``lstm`` detector's entity features
    also train its next-action LSTM, seeded by ``random_state``, 0 if None)."""
    from soc_anomaly.detectors.names import LSTM_DETECTORS

    if features == "seed":
        from soc_anomaly.features.seed_columns import SeedColumns

        return SeedColumns().fit(raw), raw
    from soc_anomaly.features import EntityFeatures

    # Columns of the other event kind, or optional ones, are unknown where absent.
    raw = complete_raw_events(raw)
    seed = 0 if random_state is None else random_state
    featurizer = EntityFeatures(lstm=detector in LSTM_DETECTORS, random_state=seed)
    return featurizer.fit(raw, users=users), raw


def read_columns(featurizer: Any, feature_cols: Sequence[str] | None) -> list[str]:
    """The featuriser's output columns a model reads: all, or those of ``feature_cols``
    (in the featuriser's order).

    Raises
    ------
    ParameterError
        When ``feature_cols`` names a column the featuriser does not give.
    """
    out = [str(c) for c in featurizer.get_feature_names_out()]
    if feature_cols is None:
        return out
    unknown = [str(c) for c in feature_cols if c not in out]
    if unknown:
        raise ParameterError(
            f"unknown feature(s) {', '.join(unknown)}; the featuriser gives {', '.join(out)}"
        )
    wanted = set(feature_cols)
    return [c for c in out if c in wanted]


def detector_input(
    feats: pd.DataFrame, feature_names: list[str], *, featurized: bool
) -> np.ndarray:
    """The detector's input (before scaling) of a table of features.

    A model on a table reads its ``feature_names`` (numbers); a featurised
    model's features go through the signed log: by name from its featuriser's
    whole output, else all of ``feats`` in order. Any missing or infinite value
    is a :class:`DataError` naming the event.
    """
    if not featurized:
        missing = [c for c in feature_names if c not in feats.columns]
        if missing:
            raise DataError(
                f"the events lack column(s) {', '.join(missing)}; the model reads "
                f"{', '.join(feature_names)}"
            )
        try:
            X = feats[feature_names].to_numpy(dtype=float)
        except (TypeError, ValueError):
            bad = next(c for c in feature_names if not pd.api.types.is_numeric_dtype(feats[c]))
            raise DataError(f"column {bad} is not numeric; the model reads numbers") from None
    else:
        if list(feats.columns) != feature_names and set(feature_names) <= set(feats.columns):
            feats = feats[feature_names]  # a featuriser's whole output: the columns read
        X = signed_log1p(feats.to_numpy(dtype=float))
    if not np.isfinite(X).all():
        row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
        raise DataError(
            f"event {row + 1} of the batch scored has a missing or infinite feature; "
            "expected numbers"
        )
    return X


def input_columns(featurizer: object, feature_names: list[str]) -> list[str]:
    """The event columns a model with this featuriser (None: a ``table`` model reading
    ``feature_names``) reads, for reading only those."""
    from soc_anomaly.features import EntityFeatures
    from soc_anomaly.features.catalog import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
    from soc_anomaly.features.seed_columns import SEED_REQUIRED_COLUMNS, SeedColumns

    if isinstance(featurizer, EntityFeatures):
        return [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    if isinstance(featurizer, SeedColumns):
        return list(SEED_REQUIRED_COLUMNS)
    return list(feature_names)
