"""The action vocabulary: what each raw event is, as one of a few dozen discrete actions.

An entity's sequence is its actions in time order (the entity is the event's
account, else a flow's source host, else its source address:
:mod:`soc_anomaly.features.entity_keys`). An action is built from parts, each
held as data below with the words a sentence uses:

* a logon (OCSF 3002): its outcome (a success, or why it failed: a bad
  password, an unknown user, an MFA push denied or timed out, another
  reason), its logon type (network, remote interactive, interactive, other)
  and, for a success, whether it used MFA and whether the device is one the
  account used in training;
* a connection (OCSF 4001): the kind of destination (an external host when
  the direction is outbound; inside, a workstation when the host was a
  source of training events, else a server; unknown when the direction is),
  whether the entity contacted it in training, and a size bucket of the
  bytes it sent (unknown sizes count as the smallest bucket: no evidence);
* any other event class.

:data:`ACTIONS` lists every action with its sentence (the documentation's
table is generated from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from soc_anomaly.features.columns import Events

__all__ = [
    "ACTIONS",
    "FAILURE_REASONS",
    "LOGON_KINDS",
    "SIZE_BUCKETS",
    "Action",
    "action_codes",
    "actions_table",
]

#: Failure reasons told apart, matched in ``status_detail`` (case-insensitive) in this
#: order: index 0 is "no failure", the last "any other failure".
FAILURE_REASONS: tuple[str, ...] = (
    "none", "mfa push denied", "mfa push timed out", "unknown user", "invalid password", "other"
)  # fmt: skip
#: Logon types told apart (``logon_type``, as OCSF captions); index 0 is any other or none.
LOGON_KINDS: tuple[str, ...] = ("other", "network", "remote interactive", "interactive")

#: Words of each failure reason (:data:`FAILURE_REASONS`).
_REASON_WORDS: dict[str, str] = {
    "mfa push denied": "MFA push denied",
    "mfa push timed out": "MFA push timed out",
    "unknown user": "unknown user",
    "invalid password": "bad password",
    "other": "another reason",
}
#: Words of each logon type (:data:`LOGON_KINDS`).
_LOGON_WORDS: dict[str, str] = {
    "other": "",
    "network": "network ",
    "remote interactive": "remote interactive ",
    "interactive": "interactive ",
}
#: Destination kinds of a connection and their words.
_DESTINATIONS: tuple[tuple[str, str], ...] = (
    ("external", "an external host"),
    ("server", "an internal server"),
    ("workstation", "a workstation"),
    ("unknown", "a host of unknown direction"),
)
#: Upper bounds (bytes sent, exclusive) of the size buckets and their words; the last
#: bucket has no bound.
SIZE_BUCKETS: tuple[tuple[float, str], ...] = (
    (100e3, "sending under 100 kB"),
    (10e6, "sending 100 kB to 10 MB"),
    (np.inf, "sending 10 MB or more"),
)


@dataclass(frozen=True)
class Action:
    """One action of the vocabulary.

    Attributes
    ----------
    code : int
        Its position in :data:`ACTIONS`.
    name : str
        A stable identifier (``logon/success/network/mfa/known-device``).
    text : str
        The sentence naming one such event (``a successful network logon with MFA
        from a known device``).
    plural : str
        The same for several (``successful network logons with MFA from a known device``).
    """

    code: int
    name: str
    text: str
    plural: str

    def times(self, count: int) -> str:
        """``text`` for one, ``"{count} {plural}"`` for more."""
        return self.text if count == 1 else f"{count} {self.plural}"


def _article(words: str) -> str:
    return ("an " if words[0] in "aeiou" else "a ") + words


def _build() -> tuple[tuple[Action, ...], np.ndarray, np.ndarray]:
    actions: list[tuple[str, str, str]] = []
    # Logons: index (reason, kind, mfa, new device) -> code.
    logon = np.zeros((len(FAILURE_REASONS), len(LOGON_KINDS), 2, 2), dtype=np.int64)
    for k, kind in enumerate(LOGON_KINDS):
        words = _LOGON_WORDS[kind]
        slug = kind.replace(" ", "-")
        for mfa in (1, 0):
            for new in (0, 1):
                device = "a new device" if new else "a known device"
                how = f"{'with' if mfa else 'without'} MFA from {device}"
                logon[0, k, mfa, new] = len(actions)
                actions.append((
                    f"logon/success/{slug}/{'mfa' if mfa else 'no-mfa'}/"
                    f"{'new' if new else 'known'}-device",
                    f"successful {words}logon {how}",
                    f"successful {words}logons {how}",
                ))  # fmt: skip
        for r, reason in enumerate(FAILURE_REASONS[1:], 1):
            logon[r, k] = len(actions)
            why = _REASON_WORDS[reason]
            actions.append((
                f"logon/failure/{slug}/{reason.replace(' ', '-')}",
                f"failed {words}logon ({why})",
                f"failed {words}logons ({why})",
            ))  # fmt: skip
    # Connections: index (destination kind, first contact, size bucket) -> code.
    conn = np.zeros((len(_DESTINATIONS), 2, len(SIZE_BUCKETS)), dtype=np.int64)
    for d, (kind, where) in enumerate(_DESTINATIONS):
        for new in (0, 1):
            contact = "it never contacted in training" if new else "it contacted in training"
            for b, (_, size) in enumerate(SIZE_BUCKETS):
                conn[d, new, b] = len(actions)
                actions.append((
                    f"connection/{kind}/{'new' if new else 'known'}/size-{b}",
                    f"connection to {where} {contact}, {size}",
                    f"connections to {where} {contact}, {size}",
                ))  # fmt: skip
    actions.append(("other", "event of another kind", "events of another kind"))
    table = tuple(
        Action(i, name, _article(text), plural) for i, (name, text, plural) in enumerate(actions)
    )
    return table, logon, conn


#: Every action, in code order.
ACTIONS, _LOGON_CODES, _CONNECTION_CODES = _build()
_OTHER = len(ACTIONS) - 1


def action_codes(
    ev: Events, new_device: np.ndarray, new_destination: np.ndarray, workstation: np.ndarray
) -> np.ndarray:
    """The action code of each event.

    Parameters
    ----------
    ev : Events
        The events (:func:`~soc_anomaly.features.columns.read_events`).
    new_device : numpy.ndarray
        Nonzero where the logon's device is new to the account.
    new_destination : numpy.ndarray
        Nonzero where the destination is new to the entity.
    workstation : numpy.ndarray of bool
        Where the destination is a host that was a source of training events.

    Returns
    -------
    numpy.ndarray of int64
        Positions in :data:`ACTIONS`.
    """
    codes = np.full(len(ev), _OTHER, dtype=np.int64)
    auth = ev.is_auth
    codes[auth] = _LOGON_CODES[
        ev.reason[auth],
        ev.logon_kind[auth],
        ev.mfa[auth].astype(np.int64),
        (np.asarray(new_device)[auth] > 0).astype(np.int64),
    ]
    net = ev.is_net
    kind = np.where(ev.outbound, 0, np.where(workstation, 2, 1))
    kind = np.where(ev.direction_known, kind, 3)
    sent = np.nan_to_num(ev.bytes_out, nan=0.0)
    bucket = np.searchsorted(np.array([b for b, _ in SIZE_BUCKETS[:-1]]), sent, side="right")
    codes[net] = _CONNECTION_CODES[
        kind[net], (np.asarray(new_destination)[net] > 0).astype(np.int64), bucket[net]
    ]
    return codes


def actions_table() -> str:
    """The vocabulary as a Markdown table (code, name, sentence), for the documentation."""
    lines = ["| code | action | sentence |", "| ---: | --- | --- |"]
    lines += [f"| {a.code} | `{a.name}` | {a.text} |" for a in ACTIONS]
    return "\n".join(lines) + "\n"
