"""The seed scenario: 200 users, their login sessions, and three injected attacks.

========================  =====================================================
module                    what lives there
========================  =====================================================
``cities``                the map: offices, where users live, session sources
``users``                 the user catalog (risk, working hours, baselines, home)
``events``                normal sessions, as columns the attacks edit in place
``attacks``               each attack's ATT&CK metadata beside its injector
``dataset``               the public generators, all drawn from one seed
========================  =====================================================
"""

from soc_anomaly.scenarios.seed.attacks import (
    ATTACK_INJECTORS,
    ATTACK_SCENARIOS,
    ATTACK_TYPES,
    IMPOSSIBLE_TRAVEL_MIN_KM,
    NO_TECHNIQUE,
    NORMAL_ATTACK_TYPE,
    SEED_ATTACKS,
    AttackScenario,
    SeedAttack,
    technique_for,
)
from soc_anomaly.scenarios.seed.cities import COUNTRIES
from soc_anomaly.scenarios.seed.dataset import (
    generate_normal_events,
    generate_synthetic_soc_dataset,
    generate_user_catalog,
    inject_anomalies,
)
from soc_anomaly.scenarios.seed.events import SIMULATED_DAYS, START_DATE
from soc_anomaly.scenarios.seed.users import HIGH_RISK_SHARE, NIGHT_SHIFT_SHARE

__all__ = [
    "ATTACK_INJECTORS",
    "ATTACK_SCENARIOS",
    "ATTACK_TYPES",
    "COUNTRIES",
    "HIGH_RISK_SHARE",
    "IMPOSSIBLE_TRAVEL_MIN_KM",
    "NIGHT_SHIFT_SHARE",
    "NORMAL_ATTACK_TYPE",
    "NO_TECHNIQUE",
    "SEED_ATTACKS",
    "SIMULATED_DAYS",
    "START_DATE",
    "AttackScenario",
    "SeedAttack",
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "inject_anomalies",
    "technique_for",
]
