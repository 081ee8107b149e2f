"""One incident: what it holds, the ATT&CK techniques its events suggest, and its narrative.

:class:`Incident` is what the linker raises and what ``score --incidents``
writes. Its events' facts are gathered as they join (:class:`Tally`), so an
incident's narrative and techniques never need its events again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.features.explain import format_bytes, quote
from soc_anomaly.incidents.entities import ENTITY_KINDS

__all__ = ["TECHNIQUES", "Incident", "Tally"]

#: ATT&CK techniques an incident can suggest: id to name, and the rule on its events.
TECHNIQUES: dict[str, tuple[str, str]] = {
    "T1110.001": ("Password Guessing", "5 or more failed logons on one account"),
    "T1110.003": ("Password Spraying", "failed logons on 3 or more accounts from one source"),
    "T1110.004": (
        "Credential Stuffing",
        "failed logons on 3 or more accounts from 3 or more sources",
    ),
    "T1621": ("Multi-Factor Authentication Request Generation", "3 or more failed MFA logons"),
    "T1078": ("Valid Accounts", "a successful logon after 3 or more failed ones"),
    "T1021": ("Remote Services", "lateral connections to 3 or more hosts"),
    "T1071": ("Application Layer Protocol", "10 or more outbound connections to one destination"),
    "T1048": ("Exfiltration Over Alternative Protocol", "100 MB or more sent out"),
}
_AUTH, _NET = 3002, 4001
#: Raw columns an incident's narrative and techniques read, in :meth:`Tally.add`'s order.
TALLY_COLUMNS = (
    "class_uid",
    "status",
    "is_mfa",
    "user",
    "src_ip",
    "src_host",
    "bytes_out",
    "dst_host",
    "dst_ip",
    "direction",
)
_SHOWN = 3  # names shown in a narrative before "and N more"


@dataclass(slots=True)
class Tally:
    """Facts of an incident's events, gathered as each one joins."""

    failed: int = 0
    succeeded: int = 0
    succeeded_after_failures: int = 0
    mfa_failed: int = 0
    flows: int = 0
    lateral_hosts: set[str] = field(default_factory=set)
    outbound_to: dict[str, int] = field(default_factory=dict)
    bytes_out: float = 0.0
    failed_accounts: set[str] = field(default_factory=set)
    failed_sources: set[str] = field(default_factory=set)

    def add(self, row: tuple[Any, ...]) -> None:
        """Count one event: its values of :data:`TALLY_COLUMNS`, in that order, None where
        unknown (a tuple, not a dict: this runs once per candidate event)."""
        cls, status, is_mfa, user, src_ip, src_host, bytes_out, dst_host, dst_ip, direction = row
        # A missing value is no name: it must not read as an account or host called "None".
        source = src_ip or src_host
        if cls == _AUTH:
            if status == "Failure":
                self.failed += 1
                if user:
                    self.failed_accounts.add(str(user))
                if source:
                    self.failed_sources.add(str(source))
                self.mfa_failed += bool(is_mfa is True or is_mfa == 1)
            elif status == "Success":
                self.succeeded += 1
                self.succeeded_after_failures += self.failed >= 3
        elif cls == _NET:
            self.flows += 1
            if bytes_out is not None and bytes_out == bytes_out:  # NaN is unknown
                self.bytes_out += float(bytes_out)
            dest = dst_host or dst_ip
            if dest and direction == "Lateral":
                self.lateral_hosts.add(str(dest))
            elif dest and direction == "Outbound":
                self.outbound_to[str(dest)] = self.outbound_to.get(str(dest), 0) + 1

    def techniques(self) -> list[str]:
        """Ids of :data:`TECHNIQUES` whose rule the events meet, in table order."""
        found = {
            "T1110.001": self.failed >= 5 and len(self.failed_accounts) == 1,
            "T1110.003": len(self.failed_accounts) >= 3 and len(self.failed_sources) == 1,
            "T1110.004": len(self.failed_accounts) >= 3 and len(self.failed_sources) >= 3,
            "T1621": self.mfa_failed >= 3,
            "T1078": self.succeeded_after_failures > 0,
            "T1021": len(self.lateral_hosts) >= 3,
            "T1071": max(self.outbound_to.values(), default=0) >= 10,
            "T1048": self.bytes_out >= 100e6,
        }
        return [t for t in TECHNIQUES if found[t]]


def _names(names: list[str], noun: str) -> str:
    """``3 accounts ("a", "b", "c")`` or ``account "a"``; names quoted as data."""
    shown = ", ".join(quote(n) for n in names[:_SHOWN])
    if len(names) == 1:
        return f"{noun} {shown}"
    more = f" and {len(names) - _SHOWN:,} more" if len(names) > _SHOWN else ""
    return f"{len(names):,} {noun}s ({shown}{more})"


def _count(n: int, noun: str) -> str:
    """``1 logon``, ``13 logons``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _span(ms: int) -> str:
    minutes = ms / 60_000
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes:.0f} minutes"
    return f"{minutes / 60:.1f} hours"


@dataclass
class Incident:
    """Candidate events linked by the rare entities they share.

    Attributes
    ----------
    incident_id : str
        ``INC-YYYYMMDD-NNNN``: the UTC day of its first event and its number that day.
    events : list of int
        Row numbers of its events in the scored input (0 = first row).
    entities : dict of str to list of str
        Names of each kind (account, host, address, destination), in order of first use.
    first_ms, last_ms : int
        Times of its first and last event, epoch milliseconds (UTC).
    score : float
        Its score (see :mod:`soc_anomaly.incidents.linker`).
    max_event_score : float
        Its highest calibrated event score.
    raised_at_ms : int or None
        When it was raised: the moment its score first reached the lowest score
        raised on its day (not before that day began); None when not raised.
    rank : int or None
        Its rank among the incidents raised that day (1 = highest).
    techniques : list of str
        ATT&CK technique ids its events suggest (:data:`TECHNIQUES`).
    narrative : str
        One sentence saying what happened.
    """

    incident_id: str
    events: list[int]
    entities: dict[str, list[str]]
    first_ms: int
    last_ms: int
    score: float
    max_event_score: float
    raised_at_ms: int | None
    rank: int | None
    techniques: list[str]
    narrative: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; times as ISO 8601 strings (UTC)."""
        return {
            "incident_id": self.incident_id,
            "first_time": _iso(self.first_ms),
            "last_time": _iso(self.last_ms),
            "raised_at": None if self.raised_at_ms is None else _iso(self.raised_at_ms),
            "rank": self.rank,
            "score": round(self.score, 4),
            "max_event_score": round(self.max_event_score, 4),
            "n_events": len(self.events),
            "entities": {k: list(v) for k, v in self.entities.items()},
            "techniques": [{"uid": t, "name": TECHNIQUES[t][0]} for t in self.techniques],
            "narrative": self.narrative,
            "events": list(self.events),
        }


def _iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def narrative(tally: Tally, entities: dict[str, list[str]], first_ms: int, last_ms: int) -> str:
    """One sentence of what an incident's events did; event values are quoted."""
    parts = []
    within = f"within {_span(last_ms - first_ms)}"
    sources = entities["address"] or entities["host"]
    if tally.failed:
        accounts = sorted(tally.failed_accounts)
        src = sorted(tally.failed_sources)
        from_ = f" from {_names(src, 'source')}" if src else ""
        who = _names(accounts, "account") if accounts else "an unnamed account"
        parts.append(f"{who} failed {_count(tally.failed, 'logon')}{from_}")
        if tally.succeeded:
            parts.append(f"then {_count(tally.succeeded, 'logon')} succeeded")
    elif tally.succeeded:
        who = _names(entities["account"], "account") if entities["account"] else "an account"
        parts.append(f"{who} logged on {_count(tally.succeeded, 'time')}")
        if sources:
            parts[-1] += f" from {_names(sources, 'source')}"
    if tally.flows:
        src = entities["host"] or entities["address"]
        from_ = f" from {_names(src, 'source')}" if src else ""
        dests = entities["destination"]
        to = f" to {_names(dests, 'destination')}" if dests else ""
        sent = f", sending {format_bytes(tally.bytes_out)}" if tally.bytes_out else ""
        parts.append(f"{_count(tally.flows, 'connection')}{from_}{to}{sent}")
    if not parts:
        parts.append("unusual events")
    return "; ".join(parts) + f" {within}."


def empty_entities() -> dict[str, list[str]]:
    """One empty, ordered name list per kind."""
    return {k: [] for k in ENTITY_KINDS}


def as_row(values: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    """Row ``i`` of a dict of column arrays, as a dict of Python values."""
    return {k: v[i] for k, v in values.items()}
