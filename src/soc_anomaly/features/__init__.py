"""Per-entity features of raw enterprise events, as a scikit-learn transformer.

:class:`EntityFeatures` turns the enterprise world's raw authentication and
network events into named numeric features: each event against its user's own
training history (rare hours, first-seen countries, devices and addresses,
unusual bytes), travel speed between logons, causal sliding windows (failures
per user and address, failing accounts per address, MFA denials, outbound bytes
over 24 hours, beacon-like regularity) and the user's department. Each feature
has a unit and an analyst-readable sentence (:data:`FEATURES`), and
:meth:`EntityFeatures.explain` says why an event stands out.

An unknown value (a null cell, or a column the export does not have) is no
evidence: a feature that reads it takes the value a typical known event gives
(not a first sighting, not rare among peers; for the day's destinations, the
peer rarity and the 24-hour outbound bytes, at least the training median),
windows counting distinct values do not count it, connections to an unknown
destination form no beacon pair, and no explanation names it.

"The user" is the entity an event's baselines are kept for: its account, or
for a network flow without one its source host, else its source address
(``entity_keys``: typed, so an account named like a host shares nothing with it).

Modules: ``catalog`` (names, units, sentences), ``columns`` (reading the event
table), ``entity_keys`` (whose baselines), ``windows`` (causal window
aggregates), ``history`` (per-user baselines), ``travel``, ``peers``
(department baselines), ``compute`` (the feature matrix), ``deviation`` (the
ordering scale), ``explain``,
``transformer``.
"""

from soc_anomaly.features.catalog import (
    FEATURES,
    REQUIRED_COLUMNS,
    FeatureInfo,
    FeatureSentence,
)
from soc_anomaly.features.transformer import EntityFeatures

__all__ = ["FEATURES", "REQUIRED_COLUMNS", "EntityFeatures", "FeatureInfo", "FeatureSentence"]
