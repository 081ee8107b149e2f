"""Raised incidents as OCSF 1.5.0 Incident Finding (class 2005) records.

One record per raised incident (``score --incidents FILE --incidents-format
ocsf``, ``serve``'s ``?format=ocsf``):

* ``activity_id`` 1 (Create), ``status_id`` 1 (New); ``metadata`` as the
  Detection Findings' (:mod:`soc_anomaly.model.findings`), with the
  ``incident`` profile OCSF asks Incident Findings to declare and the
  incident id as ``correlation_uid``;
* ``time`` when the incident was raised, ``start_time`` and ``end_time`` its
  first and last event, ``count`` its events;
* ``severity_id`` from the incident's score ``S``: the severity band
  (:data:`~soc_anomaly.model.findings.SEVERITY_BANDS`) of the calibrated score
  ``100 * (1 - 10 ** -(S + L))`` with ``L = -log10(1 - c / 100)`` for the
  linker's candidate score ``c``, i.e. of one event as far in the tail as the
  incident's evidence (a lone event keeps its own severity);
* ``message`` the narrative; ``attacks`` the ATT&CK techniques the events
  suggest (a sub-technique under its technique); ``observables`` its
  accounts, hosts, addresses and destinations;
* ``finding_info_list``, the field OCSF 1.5.0 gives an incident for the
  findings it groups: first the incident itself (``uid`` the incident id,
  ``title`` the narrative, ``types`` ``["Incident"]``, the model's
  ``analytic``, and ``related_events``: every event of the incident, its
  ``uid`` the event's ``event_id``, else ``event-N`` for the N-th input event),
  then the Detection Finding of each of its events that alerts, with the
  ``uid`` that ``score --format ocsf`` gives it when the event has an ``event_id``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from soc_anomaly import __version__
from soc_anomaly.data.ocsf_mapping import (
    AUTHENTICATION_CLASS_UID,
    NETWORK_ACTIVITY_CLASS_UID,
    OCSF_VERSION,
)
from soc_anomaly.features.explain import quote
from soc_anomaly.incidents import TECHNIQUES, Incident
from soc_anomaly.model.findings import analytic, severity
from soc_anomaly.scenarios.enterprise.attacks.base import ATTACK_VERSION

__all__ = ["INCIDENT_FINDING_CLASS_UID", "EventFact", "equivalent_score", "incident_finding"]

INCIDENT_FINDING_CLASS_UID = 2005
#: Parent techniques of the sub-techniques in :data:`~soc_anomaly.incidents.TECHNIQUES`.
_PARENTS = {"T1110": "Brute Force"}
#: OCSF observable type of each entity kind (destinations: by their form).
#: The OCSF ``type_uid`` a source event of each class is related as (as the Detection Findings').
_ACTIVITY = {AUTHENTICATION_CLASS_UID: 300201, NETWORK_ACTIVITY_CLASS_UID: 400106}
_OBSERVABLE = {"account": (4, "User Name"), "host": (1, "Hostname"), "address": (2, "IP Address")}


class EventFact(NamedTuple):
    """What an Incident Finding says of one of its events."""

    row: int
    uid: str | None
    class_uid: int | None
    time_ms: int
    score: float
    alert: bool
    user: str | None
    host: str | None
    address: str | None
    dst: str | None

    @property
    def event_uid(self) -> str:
        """The event's ``event_id``, else ``event-N`` (its position in the input, from 1)."""
        return self.uid if self.uid is not None else f"event-{self.row + 1}"


def equivalent_score(incident_score: float, candidate_score: float) -> float:
    """The calibrated score of one event with an incident's evidence (see the module)."""
    level = -math.log10(max(1.0 - candidate_score / 100.0, 1e-12))
    return 100.0 * (1.0 - 10.0 ** -(max(incident_score, 0.0) + level))


def _attack(uid: str) -> dict[str, Any]:
    name = TECHNIQUES[uid][0]
    parent = uid.split(".")[0]
    if parent != uid and parent in _PARENTS:
        return {
            "version": ATTACK_VERSION,
            "technique": {"uid": parent, "name": _PARENTS[parent]},
            "sub_technique": {"uid": uid, "name": name},
        }
    return {"version": ATTACK_VERSION, "technique": {"uid": uid, "name": name}}


def _observable(kind: str, value: str) -> dict[str, Any]:
    type_id, type_name = _OBSERVABLE.get(kind, (1, "Hostname"))
    if kind == "destination":
        try:
            ipaddress.ip_address(value)
            type_id, type_name = 2, "IP Address"
        except ValueError:
            pass
    return {"name": kind, "type_id": type_id, "type": type_name, "value": value}


def _title(fact: EventFact) -> str:
    """The title ``score --format ocsf`` gives the event's Detection Finding."""
    what = "logon" if fact.class_uid == AUTHENTICATION_CLASS_UID else "connection"
    who = quote(fact.user)
    if fact.user is None and fact.host is not None:
        who = f"source host {quote(fact.host)}"
    elif fact.user is None and fact.address is not None:
        who = f"source address {quote(fact.address)}"
    flow = fact.class_uid == NETWORK_ACTIVITY_CLASS_UID
    to = f" to {quote(fact.dst)}" if flow and fact.dst else ""
    return f"Anomalous {what} by {who}{to}"


def _related(fact: EventFact) -> dict[str, Any]:
    sid, sname = severity(fact.score)
    out: dict[str, Any] = {"uid": fact.event_uid}
    if fact.class_uid in _ACTIVITY:
        out["type_uid"] = _ACTIVITY[fact.class_uid]
    out |= {
        "first_seen_time": fact.time_ms,
        "last_seen_time": fact.time_ms,
        "severity_id": sid,
        "severity": sname,
    }
    return out


def incident_finding(
    incident: Incident,
    facts: Sequence[EventFact],
    manifest: Mapping[str, Any],
    candidate_score: float,
) -> dict[str, Any]:
    """The OCSF 2005 record of one raised incident.

    Parameters
    ----------
    incident : Incident
        A raised incident.
    facts : sequence of EventFact
        Its events, in the order they joined it.
    manifest : mapping
        The model's manifest (names the analytic).
    candidate_score : float
        The linker's candidate score (for the severity).

    Returns
    -------
    dict
        JSON-ready; event values appear only as JSON strings.
    """
    info = analytic(manifest)
    sid, sname = severity(equivalent_score(incident.score, candidate_score))
    raised = incident.raised_at_ms if incident.raised_at_ms is not None else incident.last_ms
    rank = f", rank {incident.rank} of its day" if incident.rank is not None else ""
    desc = (
        f"Incident score {incident.score:.2f} over {len(incident.events):,} event(s){rank}; "
        f"highest event score {incident.max_event_score:.2f}."
    )
    head = {
        "uid": incident.incident_id,
        "title": incident.narrative,
        "desc": desc,
        "types": ["Incident"],
        "analytic": info,
        "first_seen_time": incident.first_ms,
        "last_seen_time": incident.last_ms,
        "related_events": [_related(f) for f in facts],
        "related_events_count": len(facts),
    }
    detections = [
        {
            "uid": f"{info['uid'] or 'model'}-{f.event_uid}",
            "title": _title(f),
            "types": ["Anomaly"],
            "analytic": info,
            "first_seen_time": f.time_ms,
            "last_seen_time": f.time_ms,
            "related_events": [_related(f)],
        }
        for f in facts
        if f.alert
    ]
    observables = [
        _observable(kind, name) for kind, names in incident.entities.items() for name in names
    ]
    record: dict[str, Any] = {
        "class_uid": INCIDENT_FINDING_CLASS_UID,
        "class_name": "Incident Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": INCIDENT_FINDING_CLASS_UID * 100 + 1,
        "type_name": "Incident Finding: Create",
        "time": raised,
        "start_time": incident.first_ms,
        "end_time": incident.last_ms,
        "duration": incident.last_ms - incident.first_ms,
        "count": len(incident.events),
        "severity_id": sid,
        "severity": sname,
        "status_id": 1,
        "status": "New",
        "message": incident.narrative,
        "desc": desc,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "soc-anomaly",
                "vendor_name": "soc-anomaly",
                "version": __version__,
            },
            "profiles": ["incident"],
            "correlation_uid": incident.incident_id,
        },
        "finding_info_list": [head, *detections],
    }
    if incident.techniques:
        record["attacks"] = [_attack(t) for t in incident.techniques]
    if observables:
        record["observables"] = observables
    return record
