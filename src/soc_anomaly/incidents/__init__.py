"""Incidents: candidate events linked by the rare entities they share, raised a day at a time.

:class:`IncidentLinker` learns which entities are too common to link events
(:func:`common_entities`) and the organisation's size from the training
window, then links scored events into :class:`Incident` objects and raises each
day's highest-scoring new incidents up to the analysts' budget, on a whole set
of events (:meth:`IncidentLinker.run`) or a stream (:meth:`IncidentLinker.link`
with a carried :class:`LinkerState`).
"""

from soc_anomaly.incidents.entities import (
    ENTITY_KINDS,
    LINK_ORDER,
    common_entities,
    event_entities,
    principals,
)
from soc_anomaly.incidents.linker import IncidentLinker, LinkedChunk, LinkerState, LinkResult
from soc_anomaly.incidents.records import TECHNIQUES, Incident

__all__ = [
    "ENTITY_KINDS",
    "LINK_ORDER",
    "TECHNIQUES",
    "Incident",
    "IncidentLinker",
    "LinkResult",
    "LinkedChunk",
    "LinkerState",
    "common_entities",
    "event_entities",
    "principals",
]
