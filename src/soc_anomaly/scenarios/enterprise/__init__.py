"""The enterprise world: raw timed logons and connections of an organisation,
benign oddities, and ATT&CK attack campaigns from blatant to subtle.

Use :func:`generate_world`; the scenario table is :data:`SCENARIOS`.
"""

from soc_anomaly.scenarios.enterprise.attacks import INTENSITIES, SCENARIOS, AttackScenario
from soc_anomaly.scenarios.enterprise.benign import BENIGN_TAGS
from soc_anomaly.scenarios.enterprise.schema import EVENT_COLUMNS
from soc_anomaly.scenarios.enterprise.world import (
    DEFAULT_WORLD_DAYS,
    DEFAULT_WORLD_USERS,
    INTENSITY_CHOICES,
    MANIFEST_COLUMNS,
    World,
    WorldConfig,
    generate_world,
)

__all__ = [
    "BENIGN_TAGS",
    "DEFAULT_WORLD_DAYS",
    "DEFAULT_WORLD_USERS",
    "EVENT_COLUMNS",
    "INTENSITIES",
    "INTENSITY_CHOICES",
    "MANIFEST_COLUMNS",
    "SCENARIOS",
    "AttackScenario",
    "World",
    "WorldConfig",
    "generate_world",
]
