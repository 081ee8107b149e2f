"""The entity each event's baselines belong to: its account, else its source endpoint.

Every per-entity baseline (hours, first sightings, bytes, windows, peers) is
kept per *entity*. An event that names an account is the account's. A network
flow that names none (an AWS VPC flow log, Zeek ``conn``) is its source
endpoint's: the source host name when there is one, else the source address.

The entity is typed, so a value cannot pass for another kind: an account
literally named ``WS-12`` does not share the baselines of the host ``WS-12``.
The features key each event by one string built from the pair (kind, value):

==============  ================================================================
entity          key
==============  ================================================================
account         the name itself (so bundles fitted on accounts alone still read);
                a name that begins with :data:`SEP` gets ``SEP + "a"`` in front
source host     ``SEP + "h" + host``
source address  ``SEP + "i" + address``
==============  ================================================================

Only keys of other kinds begin with :data:`SEP` followed by anything but
``"a"``, and an account's key begins with :data:`SEP` only after ``SEP + "a"``:
the map from (kind, value) to key is one-to-one whatever the text holds, so no
character of event text needs to be reserved or refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ACCOUNT",
    "KIND_NAMES",
    "SEP",
    "SOURCE_ADDRESS",
    "SOURCE_HOST",
    "account_keys",
    "entity_codes",
    "entity_of",
]

#: The character that opens the key of an entity other than a plain account (unit separator).
SEP = "\x1f"
ACCOUNT, SOURCE_HOST, SOURCE_ADDRESS = "a", "h", "i"
#: What messages and sentences call each kind of entity.
KIND_NAMES: dict[str, str] = {
    ACCOUNT: "account",
    SOURCE_HOST: "source host",
    SOURCE_ADDRESS: "source address",
}


def account_keys(names: pd.Index) -> pd.Index:
    """The keys of account names (object Index of str, same order)."""
    values = names.to_numpy(dtype=object)
    # One test per distinct name; a name beginning with SEP is escaped (see the module notes).
    clash = np.fromiter(
        (isinstance(v, str) and v.startswith(SEP) for v in values), dtype=bool, count=len(values)
    )
    if not clash.any():
        return names
    values = values.copy()
    values[clash] = [SEP + ACCOUNT + v for v in values[clash]]
    return pd.Index(values, dtype=object)


def _prefixed(kind: str, cats: pd.Index, codes: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes into the keys of the used values of ``cats`` only (``codes`` all >= 0)."""
    used, inverse = np.unique(codes, return_inverse=True)
    values = cats.to_numpy(dtype=object)[used]
    return inverse.astype(np.int64), pd.Index([SEP + kind + v for v in values], dtype=object)


def entity_codes(
    user: tuple[np.ndarray, pd.Index],
    host: tuple[np.ndarray, pd.Index] | None,
    address: tuple[np.ndarray, pd.Index],
    is_net: np.ndarray,
) -> tuple[np.ndarray, pd.Index]:
    """Each event's entity: codes (-1: none) into the entities' keys.

    Parameters
    ----------
    user, host, address : tuple of (ndarray of int64, pandas.Index)
        Codes (-1 where null) and values of ``user``, ``src_host`` (None when
        the events have no such column) and ``src_ip``.
    is_net : ndarray of bool
        Network events: only these fall back to their source endpoint.

    Returns
    -------
    codes : ndarray of int64
        The entity of each event; -1 for an event without an account that is
        not a network event or names no source endpoint.
    keys : pandas.Index
        The keys (object strings); the accounts' come first, in ``user``'s order.
    """
    codes, cats = user
    keys = account_keys(cats)
    lacking = codes < 0
    if not lacking.any():
        return codes, keys
    codes = codes.copy()
    parts = [keys]
    offset = len(keys)
    rest = lacking & is_net
    for kind, column in ((SOURCE_HOST, host), (SOURCE_ADDRESS, address)):
        if column is None or not rest.any():
            continue
        found = rest & (column[0] >= 0)
        if found.any():
            local, prefixed = _prefixed(kind, column[1], column[0][found])
            codes[found] = local + offset
            parts.append(prefixed)
            offset += len(prefixed)
            rest &= ~found
    return codes, pd.Index(np.concatenate([p.to_numpy(dtype=object) for p in parts]), dtype=object)


def entity_of(key: str) -> tuple[str, str]:
    """The kind (:data:`ACCOUNT`, :data:`SOURCE_HOST` or :data:`SOURCE_ADDRESS`) and value of a key.

    Examples
    --------
    >>> entity_of("alice")
    ('a', 'alice')
    >>> entity_of(SEP + "h" + "WS-12")
    ('h', 'WS-12')
    """
    if key.startswith(SEP) and key[1:2] in KIND_NAMES:
        return key[1], key[2:]
    return ACCOUNT, key
