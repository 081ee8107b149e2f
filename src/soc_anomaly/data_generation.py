"""The seed's data-generation API, kept for the walkthrough notebook and scripts.

The scenario itself lives in :mod:`soc_anomaly.scenarios.seed` (user catalog,
normal sessions, attacks) and :mod:`soc_anomaly.scenarios.geo`; the column
names in :mod:`soc_anomaly.data.schema`. Every name this module exported
before the regrouping is re-exported here unchanged.
"""

from __future__ import annotations

from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_RANDOM_STATE,
)
from soc_anomaly.data.schema import (
    ATTACK_TYPE_COL,
    EVENT_COLUMNS,
    FEATURE_COLS,
    LABEL_COL,
    NO_TECHNIQUE,
    NORMAL_ATTACK_TYPE,
    USER_COLUMNS,
)
from soc_anomaly.errors import ParameterError, check_positive_int, check_range, check_seed
from soc_anomaly.scenarios.geo import EARTH_RADIUS_KM, haversine_km
from soc_anomaly.scenarios.seed import (
    ATTACK_INJECTORS,
    ATTACK_SCENARIOS,
    ATTACK_TYPES,
    COUNTRIES,
    HIGH_RISK_SHARE,
    IMPOSSIBLE_TRAVEL_MIN_KM,
    NIGHT_SHIFT_SHARE,
    SIMULATED_DAYS,
    START_DATE,
    generate_normal_events,
    generate_synthetic_soc_dataset,
    generate_user_catalog,
    inject_anomalies,
)

__all__ = [
    "ATTACK_INJECTORS",
    "ATTACK_SCENARIOS",
    "ATTACK_TYPES",
    "ATTACK_TYPE_COL",
    "COUNTRIES",
    "DEFAULT_ANOMALY_FRACTION",
    "DEFAULT_EVENTS_PER_USER",
    "DEFAULT_N_USERS",
    "DEFAULT_RANDOM_STATE",
    "EARTH_RADIUS_KM",
    "EVENT_COLUMNS",
    "FEATURE_COLS",
    "HIGH_RISK_SHARE",
    "IMPOSSIBLE_TRAVEL_MIN_KM",
    "LABEL_COL",
    "NIGHT_SHIFT_SHARE",
    "NORMAL_ATTACK_TYPE",
    "NO_TECHNIQUE",
    "SIMULATED_DAYS",
    "START_DATE",
    "USER_COLUMNS",
    "ParameterError",
    "check_positive_int",
    "check_range",
    "check_seed",
    "generate_normal_events",
    "generate_synthetic_soc_dataset",
    "generate_user_catalog",
    "haversine_km",
    "inject_anomalies",
]
