"""Which events name the entity their baselines belong to (an account, or a flow's source).

Every per-entity baseline is an account's, or for a network flow without an
account (an AWS VPC flow log, Zeek ``conn``) its source endpoint's
(:mod:`soc_anomaly.features.entity_keys`). An event naming neither cannot be
scored: the readers refuse it here, naming its line or position, before the
features would only say that a column has nulls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError

__all__ = ["check_entities", "missing_entity", "record_lacks_entity"]

#: Network Activity: a flow without an account is its source endpoint's.
_NETWORK_CLASS_UID = 4001


def check_entities(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    """Refuse the first event that names no entity, naming it by ``where(position)``.

    Every baseline is an entity's: an event without one cannot be scored, so it
    is named here (the features would only say that the column has nulls).
    """
    has_user = "user" in frame.columns
    missing = frame["user"].isna().to_numpy(dtype=bool) if has_user else np.ones(len(frame), bool)
    if not missing.any():
        return
    rows = np.flatnonzero(missing)
    flow = np.zeros(len(rows), dtype=bool)
    if "class_uid" in frame.columns:
        classes = pd.to_numeric(frame["class_uid"].iloc[rows], errors="coerce")
        flow = (classes == _NETWORK_CLASS_UID).to_numpy(dtype=bool)
    source = np.zeros(len(rows), dtype=bool)
    for name in ("src_host", "src_ip"):
        if name in frame.columns:
            source |= frame[name].iloc[rows].notna().to_numpy(dtype=bool)
    refused = ~(flow & source)
    if refused.any():
        k = int(np.flatnonzero(refused)[0])
        raise DataError(f"{where(int(rows[k]))}: {missing_entity(bool(flow[k]), has_user)}")


def missing_entity(flow: bool, has_user: bool = True) -> str:
    """Why an event without an account is refused, one clause.

    ``flow``: the event is a network event; ``has_user``: the events have a
    ``user`` column (a null in it, else no such column).
    """
    if flow:
        return (
            "the network event names no account and no source endpoint; expected user, "
            "src_host or src_ip"
        )
    null = "user is null" if has_user else "the events have no user column"
    return f"{null}; expected an account name on every event but a flow naming its source"


def record_lacks_entity(record: dict[str, object]) -> str | None:
    """Why a flat JSON record names no entity (as :func:`check_entities`), or None if it does.

    A record with a ``user`` names its account; a Network Activity record
    (``class_uid`` 4001) without one names its source endpoint by ``src_host``
    or ``src_ip``.
    """
    if record.get("user") is not None:
        return None
    try:
        flow = float(record.get("class_uid")) == _NETWORK_CLASS_UID  # type: ignore[arg-type]
    except (TypeError, ValueError):
        flow = False
    if flow and any(record.get(c) is not None for c in ("src_host", "src_ip")):
        return None
    if flow:
        return missing_entity(True)
    return ("user is null" if "user" in record else "the record has no user") + (
        "; expected an account name on every event but a flow naming its source"
    )
