"""Where events come from: seeded scenarios with ground truth.

``seed`` is the seed system's scenario (a user catalog, normal login sessions,
three injected attacks); ``enterprise`` is a world of raw timed logons and
connections with benign oddities and ten ATT&CK attack scenarios from blatant to
subtle (:func:`generate_world`); ``geo`` holds the geography every scenario shares.
Each scenario keeps an attack's ATT&CK metadata beside the code that injects it.
"""

from soc_anomaly.scenarios.enterprise import World, generate_world
from soc_anomaly.scenarios.geo import EARTH_RADIUS_KM, haversine_km, offset_km
from soc_anomaly.scenarios.seed import (
    ATTACK_SCENARIOS,
    AttackScenario,
    generate_normal_events,
    generate_synthetic_soc_dataset,
    generate_user_catalog,
    inject_anomalies,
)

__all__ = [
    "ATTACK_SCENARIOS",
    "EARTH_RADIUS_KM",
    "AttackScenario",
    "World",
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "generate_world",
    "haversine_km",
    "inject_anomalies",
    "offset_km",
]
