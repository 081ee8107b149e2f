"""Where events come from: seeded scenarios with ground truth.

``seed`` is the seed system's scenario (a user catalog, normal login sessions,
three injected attacks); ``geo`` holds the geography every scenario shares.
Each scenario keeps an attack's ATT&CK metadata beside the code that injects it.
"""

from soc_anomaly.scenarios.geo import EARTH_RADIUS_KM, haversine_km, offset_km
from soc_anomaly.scenarios.seed import (
    ATTACK_SCENARIOS,
    AttackScenario,
    generate_normal_events,
    generate_synthetic_soc_dataset,
    generate_user_catalog,
    inject_anomalies,
)

# Further scenarios (such as the enterprise world) are exported here, one import line each.

__all__ = [
    "ATTACK_SCENARIOS",
    "EARTH_RADIUS_KM",
    "AttackScenario",
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "haversine_km",
    "inject_anomalies",
    "offset_km",
]
