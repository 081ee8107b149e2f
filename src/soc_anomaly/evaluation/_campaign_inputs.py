"""Input checking and preparation for :mod:`soc_anomaly.evaluation.campaigns`.

Private: :func:`_prepare` checks the columns of one evaluated set (scores,
times, labels, campaign ids, benign tags, and the optional manifest, attack
types and period length) and gathers them, campaign events in time order, into
a :class:`_Prepared` shared by every threshold of
:func:`~soc_anomaly.evaluation.campaigns.campaign_lab`. It also defines
:data:`MANIFEST_COLUMNS`, which :mod:`~soc_anomaly.evaluation.campaigns` re-exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation._checks import check_positive, check_scores, plain

#: Manifest columns :func:`campaign_report` reads (the world's manifest has more).
MANIFEST_COLUMNS: tuple[str, ...] = ("campaign_id", "scenario", "intensity", "start")

_HOUR_NS = 3_600 * 10**9
_DAY_NS = 24 * _HOUR_NS


@dataclass(frozen=True)
class _Prepared:
    """Checked inputs, shared by every threshold of :func:`campaign_lab`."""

    scores: np.ndarray
    normal: np.ndarray  # bool, label 0
    tags: np.ndarray  # benign tag of each event
    tag_names: tuple[str, ...]  # tags of the normal events
    code: np.ndarray  # campaign of each campaign event, time-ordered, as an index into ids
    event_index: np.ndarray  # position of each of those events in ``scores``
    event_ns: np.ndarray  # and its time, ns since the epoch
    ids: tuple[str, ...]
    scenario: tuple[str, ...]
    intensity: tuple[str, ...]
    start_ns: np.ndarray
    days: float | None


def _check_length(name: str, size: int, n: int) -> None:
    if size != n:
        raise ParameterError(f"{name} has {size} values but scores has {n}; expected one per event")


def _column(name: str, values: ArrayLike, n: int) -> np.ndarray:
    a = np.asarray(values, dtype=object).ravel()
    _check_length(name, a.size, n)
    return a


def _missing(a: np.ndarray) -> np.ndarray:
    """Null, NaN, NaT, None and empty strings: an event outside any campaign (or untagged)."""
    missing = np.asarray(pd.isna(a), dtype=bool)
    missing[~missing] = a[~missing] == ""  # compared only where set: pd.NA == "" is not a bool
    return missing


def _utc(name: str, values: Any, n: int) -> np.ndarray:
    """Datetimes (naive ones are read as UTC) or integer epoch ms, as int64 ns since the epoch."""
    if isinstance(values, pd.Series):
        ser = values
    else:
        ser = pd.Series(values if isinstance(values, pd.Index) else np.asarray(values).ravel())
    ser = ser.infer_objects()
    _check_length(name, ser.size, n)
    if ser.isna().any():
        i = int(np.flatnonzero(ser.isna().to_numpy())[0])
        raise ParameterError(
            f"{name} has a missing time at position {i}; expected every event timed"
        )
    if pd.api.types.is_integer_dtype(ser.dtype) and not pd.api.types.is_bool_dtype(ser.dtype):
        idx = pd.DatetimeIndex(pd.to_datetime(ser.to_numpy(dtype=np.int64), unit="ms", utc=True))
    elif pd.api.types.is_datetime64_any_dtype(ser.dtype):
        idx = pd.DatetimeIndex(ser)
        idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    else:
        raise ParameterError(
            f"{name} must be datetimes or integer epoch milliseconds, got dtype {ser.dtype}"
        )
    return idx.as_unit("ns").asi8


def _manifest(campaigns: pd.DataFrame, seen: list[str]) -> pd.DataFrame:
    """The manifest rows of the ``seen`` campaigns, in manifest order."""
    lacking = [c for c in MANIFEST_COLUMNS if c not in campaigns.columns]
    if lacking:
        raise DataError(
            f"campaigns lacks column(s) {', '.join(lacking)}; "
            f"expected a manifest with {', '.join(MANIFEST_COLUMNS)}"
        )
    m = campaigns.loc[:, list(MANIFEST_COLUMNS)].copy()
    m["campaign_id"] = m["campaign_id"].astype(str)
    dup = m["campaign_id"][m["campaign_id"].duplicated()]
    if not dup.empty:
        raise DataError(f"campaigns lists {dup.iloc[0]!r} twice; expected one row per campaign")
    absent = sorted(set(seen) - set(m["campaign_id"]))
    if absent:
        raise DataError(
            f"campaign_ids has {absent[0]!r} ({len(absent)} id(s) in all) that is not in the "
            "campaigns manifest; expected every campaign of the events to have a manifest row"
        )
    try:
        m["start"] = pd.to_datetime(m["start"], utc=True, format="ISO8601")  # a CSV manifest too
    except (TypeError, ValueError):
        raise DataError("campaigns' start must be timestamps; expected one per campaign") from None
    if m["start"].isna().any():
        raise DataError("campaigns has a missing start; expected one per campaign")
    return m[m["campaign_id"].isin(seen)]


def _prepare(
    scores: ArrayLike,
    times: ArrayLike,
    labels: ArrayLike,
    campaign_ids: ArrayLike,
    benign_tags: ArrayLike,
    campaigns: pd.DataFrame | None,
    attack_types: ArrayLike | None,
    days: float | None,
) -> _Prepared:
    s = check_scores("scores", scores)
    n = s.size
    ns = _utc("times", times, n)
    y = _column("labels", labels, n)
    cid = _column("campaign_ids", campaign_ids, n)
    tag = _column("benign_tags", benign_tags, n)
    kinds = None if attack_types is None else _column("attack_types", attack_types, n)
    period = None if days is None else check_positive("days", days)
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"labels has {plain(y[i])!r} at position {i}; expected 0 (normal) or 1 (attack)"
        )
    attack = y.astype(np.int64) == 1
    outside = _missing(cid)
    unnamed, stray = np.flatnonzero(attack & outside), np.flatnonzero(~attack & ~outside)
    if unnamed.size:
        raise ParameterError(
            f"labels has 1 at position {unnamed[0]} but campaign_ids has no campaign there; "
            "expected every attack event to name its campaign"
        )
    if stray.size:  # it would count both as a campaign event and as a false positive
        raise ParameterError(
            f"labels has 0 at position {stray[0]} but campaign_ids has "
            f"{plain(cid[stray[0]])!r} there; expected campaign events to be labelled 1"
        )
    # Campaign events in time order, so the first alerting one of each campaign is its first alert.
    pos = np.flatnonzero(~outside)
    pos = pos[np.argsort(ns[pos], kind="stable")]
    found = pd.Series(cid[pos]).astype(str)
    seen = sorted(set(found))
    if campaigns is not None:
        m = _manifest(campaigns, seen)
        ids = tuple(m["campaign_id"])
        scenario = tuple(str(v) for v in m["scenario"])
        intensity = tuple(str(v) for v in m["intensity"])
        start = pd.DatetimeIndex(m["start"]).as_unit("ns").asi8
    else:
        ids = tuple(seen)
        # Time-ordered events: each campaign's first index is its first event, our best start.
        _, first = np.unique(pd.Index(ids).get_indexer(found), return_index=True)
        start = ns[pos][first]
        if kinds is None:
            scenario = ("unknown",) * len(ids)
        else:
            kind = pd.Series(kinds[pos]).astype(str)
            # The campaign's commonest attack type; ties go to the first name, for determinism.
            counts = kind.groupby(found.to_numpy()).value_counts()
            top = counts.sort_index().groupby(level=0).idxmax()
            scenario = tuple(top[i][1] for i in ids)
        intensity = ("unknown",) * len(ids)
    code = pd.Index(ids).get_indexer(found)
    tags = np.where(_missing(tag), "none", tag).astype(str)
    if period is None:
        span = (ns.max() - ns.min()) / _DAY_NS
        period = float(span) if span >= 1.0 else None
    return _Prepared(
        scores=s,
        normal=~attack,
        tags=tags,
        tag_names=tuple(sorted(str(t) for t in pd.unique(tags[~attack]))),
        code=code,
        event_index=pos,
        event_ns=ns[pos],
        ids=ids,
        scenario=scenario,
        intensity=intensity,
        start_ns=np.asarray(start, dtype=np.int64),
        days=period,
    )
