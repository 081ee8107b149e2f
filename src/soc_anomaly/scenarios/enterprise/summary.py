"""A typed summary of a generated world: what a user checks before training on it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from soc_anomaly.scenarios.enterprise.attacks import INTENSITIES
from soc_anomaly.scenarios.enterprise.benign import BENIGN_TAGS
from soc_anomaly.scenarios.enterprise.schema import AUTH_CLASS_UID, NETWORK_CLASS_UID

__all__ = ["WorldSummary", "summarize_world"]


@dataclass(frozen=True)
class WorldSummary:
    """Counts that describe a world.

    Attributes
    ----------
    n_events, n_auth, n_network, n_attack : int
        Events in all, authentication events, network events, attack events.
    n_users : int
        Distinct accounts in the normal events (the organisation's staff).
    n_attacker_only_names : int
        Account names that appear only in attack events (usernames an attacker
        guessed that do not exist).
    start, end : pandas.Timestamp
        First and last event.
    campaigns : pandas.DataFrame
        Per scenario: campaigns at each intensity, campaigns in all, attack events.
    benign : pandas.Series
        Events per benign oddity (every tag, zero when absent).
    """

    n_events: int
    n_auth: int
    n_network: int
    n_attack: int
    n_users: int
    n_attacker_only_names: int
    start: pd.Timestamp
    end: pd.Timestamp
    campaigns: pd.DataFrame
    benign: pd.Series


def summarize_world(events: pd.DataFrame, manifest: pd.DataFrame) -> WorldSummary:
    """Summarise a world's events and its manifest.

    Parameters
    ----------
    events : pandas.DataFrame
        The world's events.
    manifest : pandas.DataFrame
        Its campaigns, one row each.

    Returns
    -------
    WorldSummary
    """
    counts = pd.crosstab(manifest["scenario"], manifest["intensity"]).reindex(
        columns=list(INTENSITIES), fill_value=0
    )
    counts["campaigns"] = counts.sum(axis=1)
    counts["events"] = manifest.groupby("scenario")["n_events"].sum().reindex(counts.index)
    tags = events["benign_tag"].astype(str).value_counts()
    attack = (events["label"] == 1).to_numpy()
    staff = set(events.loc[~attack, "user"].astype(str))
    return WorldSummary(
        n_events=len(events),
        n_auth=int((events["class_uid"] == AUTH_CLASS_UID).sum()),
        n_network=int((events["class_uid"] == NETWORK_CLASS_UID).sum()),
        n_attack=int(events["label"].sum()),
        n_users=len(staff),
        n_attacker_only_names=len(set(events.loc[attack, "user"].astype(str)) - staff),
        start=events["time"].min(),
        end=events["time"].max(),
        campaigns=counts.astype("int64"),
        benign=tags.reindex(list(BENIGN_TAGS), fill_value=0).astype("int64"),
    )
