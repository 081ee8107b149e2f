"""The entities an event involves, and which of them are too common to link events.

Every raw event (the enterprise world's columns, or OCSF read into them)
involves up to four entities, each of one *kind*:

============  =========================================================
kind          column
============  =========================================================
account       ``user``
host          ``src_host``: the managed host the event came from
address       ``src_ip``: the source address
destination   ``dst_host``, or ``dst_ip`` where the host is unnamed
============  =========================================================

The *principal* of an event is the one its per-entity baselines belong to: the
account, or for a network flow that names none, its source host, else its
source address.

A **common** entity is one that most principals touch, such as the single
sign-on service, a file server, an office's NAT egress or the VPN: two
unrelated events that share it say nothing about each other, so it must not
link them into one incident. :func:`common_entities` learns them from the
training window: an entity touched by more than
``max(2, ceil(share * principals))`` distinct principals there is common
(``share`` 1% by default, so five accounts of 500). Accounts are never common
(each is its own principal). An entity first seen after training is not
common: the attacker's address that sprays 150 accounts links them all.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError, check_range

__all__ = [
    "ENTITY_COLUMNS",
    "ENTITY_KINDS",
    "LINK_ORDER",
    "common_entities",
    "event_entities",
    "principals",
]

#: Kinds of entity an event can involve, in the order incidents list them.
ENTITY_KINDS: tuple[str, ...] = ("account", "host", "address", "destination")
#: Event columns of each kind (a destination is ``dst_host``, else ``dst_ip``).
ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("user",),
    "host": ("src_host",),
    "address": ("src_ip",),
    "destination": ("dst_host", "dst_ip"),
}
#: The order in which a candidate event looks for an open incident to join: the
#: source it came from is the most specific link (one attacker address, one
#: compromised workstation), the account next, the destination last.
LINK_ORDER: tuple[str, ...] = ("host", "address", "account", "destination")


def _text(events: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of str, None where absent, null or empty."""
    if column not in events.columns:
        return np.full(len(events), None, dtype=object)
    values = events[column].astype(object).to_numpy(copy=True)
    missing = np.asarray(pd.isna(values), dtype=bool)
    values[missing] = None
    present = ~missing
    values[present] = [str(v) for v in values[present]]
    values[present & (values == "")] = None
    return values


def event_entities(events: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each event's entity of every kind.

    Parameters
    ----------
    events : pandas.DataFrame
        Raw events; columns a kind reads that are absent count as unknown.

    Returns
    -------
    dict of str to numpy.ndarray
        By kind (:data:`ENTITY_KINDS`), an object array of the entity's name,
        None where the event has none.
    """
    out = {kind: _text(events, cols[0]) for kind, cols in ENTITY_COLUMNS.items()}
    dest = out["destination"]
    unnamed = np.equal(dest, None)
    if unnamed.any():
        dest[unnamed] = _text(events, "dst_ip")[unnamed]
    return out


def principals(entities: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each event's principal: its account, else its source host, else its source address.

    Parameters
    ----------
    entities : dict of str to numpy.ndarray
        As :func:`event_entities` returns.

    Returns
    -------
    kinds, names : numpy.ndarray of object
        The principal's kind (``"account"``, ``"host"``, ``"address"``) and name;
        None for an event with none of them.
    """
    n = len(entities["account"])
    kinds = np.full(n, None, dtype=object)
    names = np.full(n, None, dtype=object)
    for kind in ("address", "host", "account"):  # later kinds win
        has = ~np.equal(entities[kind], None)
        kinds[has] = kind
        names[has] = entities[kind][has]
    return kinds, names


def common_entities(events: pd.DataFrame, share: float = 0.01) -> dict[str, list[str]]:
    """The entities of each kind too common in training to link events.

    Parameters
    ----------
    events : pandas.DataFrame
        The training window's (normal) raw events.
    share : float, default=0.01
        An entity touched by more than ``max(2, ceil(share * n))`` of the ``n``
        distinct principals of ``events`` is common; in (0, 1].

    Returns
    -------
    dict of str to list of str
        Sorted common names for the kinds ``host``, ``address`` and
        ``destination`` (accounts are never common).

    Raises
    ------
    soc_anomaly.errors.DataError
        When no event has a principal.
    """
    check_range("common share", share, 0.0, 1.0, high_inclusive=True)
    ents = event_entities(events)
    p_kind, p_name = principals(ents)
    known = ~np.equal(p_name, None)
    if not known.any():
        raise DataError(
            "no training event names an account, a source host or a source address; "
            "expected at least one to learn which entities are common"
        )
    # The kind goes into the principal's key so an account cannot pose as a host.
    principal = pd.Series(p_kind[known].astype(str)) + "\x1f" + pd.Series(p_name[known].astype(str))
    cap = max(2, math.ceil(share * principal.nunique()))
    out: dict[str, list[str]] = {}
    for kind in ("host", "address", "destination"):
        names = ents[kind][known]
        has = ~np.equal(names, None)
        touched = (
            pd.DataFrame({"name": names[has], "principal": principal.to_numpy()[has]})
            .groupby("name", sort=True)["principal"]
            .nunique()
        )
        out[kind] = [str(v) for v in touched.index[touched.to_numpy() > cap]]
    return out
