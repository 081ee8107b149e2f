"""Department baselines: how the user's peers behaved in training.

A user's peers are the training users of the same department in the ``users``
table given to ``fit``. A user with no known department (no ``users`` table,
or an account not in it) is compared with the whole population, the last
group of every table here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError
from soc_anomaly.features.entity_keys import account_keys
from soc_anomaly.features.history import _robust, lookup, pair_keys

__all__ = ["PeerTables", "department_codes", "fit_peer_tables"]


@dataclass
class PeerTables:
    """Fitted department baselines; every per-group array ends with the population.

    Attributes
    ----------
    departments : ndarray of str
        Department names; group ``len(departments)`` is the population.
    members : ndarray of str
        Account names of the ``users`` table.
    member_dept : ndarray of int64
        Department code of each of ``members``.
    dst_keys, dst_users : ndarray of int64
        Sorted (group, destination) pair keys and how many distinct training users
        of the group contacted the destination.
    group_size : ndarray of int64
        Training users per group.
    bytes_out_loc, bytes_out_scale : ndarray of float64
        Median and MAD-based scale of log(1 + bytes sent) per group.
    """

    departments: np.ndarray
    members: np.ndarray
    member_dept: np.ndarray
    dst_keys: np.ndarray
    dst_users: np.ndarray
    group_size: np.ndarray
    bytes_out_loc: np.ndarray
    bytes_out_scale: np.ndarray

    @property
    def population(self) -> int:
        """Group code of the population."""
        return len(self.departments)

    def rarity(
        self, group: np.ndarray, dst: np.ndarray, n_dst: int, known: np.ndarray | None = None
    ) -> tuple[np.ndarray, ...]:
        """-log10 of the smoothed share of the group's users that contacted ``dst``.

        ``dst`` holds fitted codes (-1: not in training, so no user contacted it);
        where ``known`` is False the destination is unknown (null), which is no
        evidence: it counts as contacted by every user of the group, not by none.
        Returns the rarity, the users who did and the group's size, per event.
        """
        pos = lookup(self.dst_keys, pair_keys(group, np.maximum(dst, 0), n_dst))
        users = np.where((pos >= 0) & (dst >= 0), self.dst_users[pos], 0)
        size = self.group_size[group]
        if known is not None:
            users = np.where(known, users, size)
        return -np.log10((users + 1.0) / (size + 2.0)), users, size


def department_codes(peers: PeerTables, user_codes_in_members: np.ndarray) -> np.ndarray:
    """Group of each event from its user's code into ``peers.members`` (-1 unknown)."""
    lut = np.append(peers.member_dept, peers.population)
    return lut[np.where(user_codes_in_members >= 0, user_codes_in_members, -1)]


def _members(users: pd.DataFrame | None) -> tuple[pd.Index, pd.Index, np.ndarray]:
    if users is None:
        return pd.Index([], dtype=object), pd.Index([], dtype=object), np.zeros(0, np.int64)
    if not isinstance(users, pd.DataFrame) or not {"user", "department"} <= set(users.columns):
        got = type(users).__name__
        if isinstance(users, pd.DataFrame):
            got += f" with columns {', '.join(map(str, users.columns))}"
        raise DataError(
            f"users must be a DataFrame with columns user and department (the world's users "
            f"table); got {got}"
        )
    table = users.dropna(subset=["user", "department"]).drop_duplicates("user")
    dept_codes, depts = pd.factorize(table["department"].astype(str), sort=True)
    # Keyed as the events' accounts are, so a member is never taken for a host or address.
    names = account_keys(pd.Index(table["user"].astype(str).to_numpy(), dtype=object))
    return pd.Index(np.asarray(depts), dtype=object), names, dept_codes.astype(np.int64)


def fit_peer_tables(
    users: pd.DataFrame | None,
    user_names: pd.Index,
    user: np.ndarray,
    dst: np.ndarray,
    n_dst: int,
    log_bytes_out: np.ndarray,
    is_net: np.ndarray,
    min_history: int,
) -> PeerTables:
    """Department baselines of the training events.

    Parameters
    ----------
    users : DataFrame or None
        The users table (``user``, ``department``), or None for population only.
    user_names : pandas.Index
        Training user names; ``user`` codes index it.
    user, dst : ndarray of int64
        Fitted user and destination codes per training event.
    n_dst : int
        Number of destination codes.
    log_bytes_out : ndarray of float64
        log(1 + bytes sent) per event (NaN for logons).
    is_net : ndarray of bool
        Network events.
    min_history : int
        Fewer connections than this in a department and it gets the population's
        byte baseline.
    """
    departments, members, member_dept = _members(users)
    population = len(departments)
    lut = np.append(member_dept, population)
    where = members.get_indexer(user_names) if len(members) else np.full(len(user_names), -1)
    user_group = lut[where]  # -1 indexes the appended population entry
    group_size = np.bincount(user_group, minlength=population + 1).astype(np.int64)
    group_size[population] = len(user_names)

    # An unknown (null) destination is no destination a user contacted.
    pairs = np.unique(pair_keys(user[dst >= 0], dst[dst >= 0], n_dst))
    pair_user, pair_dst = pairs // (n_dst + 1), pairs % (n_dst + 1)
    grp = user_group[pair_user]
    dept_keys = pair_keys(grp, pair_dst, n_dst)[grp != population]
    pop_keys = pair_keys(np.full(len(pair_dst), population), pair_dst, n_dst)
    keys, counts = np.unique(np.concatenate([dept_keys, pop_keys]), return_counts=True)

    ok = is_net & ~np.isnan(log_bytes_out)
    loc, scale = _robust(log_bytes_out[ok], user_group[user[ok]], population, min_history)
    return PeerTables(
        np.asarray(departments, dtype=str),
        np.asarray(members, dtype=str),
        member_dept,
        keys,
        counts.astype(np.int64),
        group_size,
        loc,
        scale,
    )
