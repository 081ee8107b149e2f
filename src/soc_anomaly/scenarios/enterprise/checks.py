"""Checks of a generated world's promises, usable on any events table of its schema."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soc_anomaly.scenarios.enterprise.schema import SUBTLE_FIELDS, local_hour

__all__ = ["normal_bounds", "subtle_violations"]


def _field(events: pd.DataFrame, name: str) -> np.ndarray:
    if name == "local_hour":
        t = pd.to_datetime(events["time"], utc=True).dt.tz_localize(None)
        ms = t.to_numpy().astype("datetime64[ms]").astype(np.int64)
        return local_hour(ms, events["timezone_offset"].to_numpy()).astype(float)
    return events[name].to_numpy(dtype=float, na_value=np.nan)


def normal_bounds(events: pd.DataFrame) -> pd.DataFrame:
    """1st and 99th percentile of each subtle-checked field over the normal events.

    Returns
    -------
    pandas.DataFrame
        Columns ``class_uid``, ``field``, ``p01``, ``p99``.
    """
    normal = events[events["label"] == 0]
    rows = []
    for class_uid, fields in SUBTLE_FIELDS.items():
        part = normal[normal["class_uid"] == class_uid]
        for name in fields:
            values = _field(part, name)
            values = values[np.isfinite(values)]
            if len(values):
                p01, p99 = np.percentile(values, [1.0, 99.0])
                rows.append((class_uid, name, float(p01), float(p99)))
    return pd.DataFrame(rows, columns=["class_uid", "field", "p01", "p99"])


def subtle_violations(events: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Fields of subtle attack events outside the normal 1st-99th percentile range.

    Parameters
    ----------
    events : pandas.DataFrame
        A world's events.
    campaigns : pandas.DataFrame
        Its manifest (to know which campaigns are subtle).

    Returns
    -------
    pandas.DataFrame
        One row per offending value: ``event_id``, ``campaign_id``,
        ``attack_type``, ``field``, ``value``, ``p01``, ``p99``; empty when the
        subtle property holds.
    """
    subtle_ids = set(campaigns.loc[campaigns["intensity"] == "subtle", "campaign_id"])
    attacks = events[events["campaign_id"].isin(subtle_ids)]
    bounds = normal_bounds(events)
    out = []
    for row in bounds.itertuples(index=False):
        part = attacks[attacks["class_uid"] == row.class_uid]
        values = _field(part, row.field)
        bad = np.isfinite(values) & ((values < row.p01) | (values > row.p99))
        if bad.any():
            hit = part[bad]
            out.append(
                pd.DataFrame(
                    {
                        "event_id": hit["event_id"].to_numpy(),
                        "campaign_id": hit["campaign_id"].astype(str).to_numpy(),
                        "attack_type": hit["attack_type"].astype(str).to_numpy(),
                        "field": row.field,
                        "value": values[bad],
                        "p01": row.p01,
                        "p99": row.p99,
                    }
                )
            )
    columns = ["event_id", "campaign_id", "attack_type", "field", "value", "p01", "p99"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)
