"""The seed's public modules keep every name they exported before the regrouping."""

from __future__ import annotations

import importlib

import pytest

from soc_anomaly.anomaly_detection import prepare_train_test
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

SEED_NAMES = {
    "soc_anomaly.config": [
        "DEFAULT_ANOMALY_FRACTION",
        "DEFAULT_DATA_PATH",
        "DEFAULT_EVENTS_PER_USER",
        "DEFAULT_N_USERS",
        "DEFAULT_PLOTS_DIR",
        "DEFAULT_PRECISION_K",
        "DEFAULT_RANDOM_STATE",
        "DEFAULT_TEST_SIZE",
        "DEFAULT_THRESHOLD_PERCENTILE",
        "DEFAULT_TOP_EXPLANATIONS",
        "IFOREST_N_ESTIMATORS",
    ],
    "soc_anomaly.data_generation": [
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
        "ParameterError",
        "SIMULATED_DAYS",
        "START_DATE",
        "USER_COLUMNS",
        "check_positive_int",
        "check_range",
        "check_seed",
        "generate_normal_events",
        "generate_synthetic_soc_dataset",
        "generate_user_catalog",
        "haversine_km",
        "inject_anomalies",
    ],
    "soc_anomaly.anomaly_detection": [
        "DEFAULT_ANOMALY_FRACTION",
        "DEFAULT_RANDOM_STATE",
        "DEFAULT_TEST_SIZE",
        "DataError",
        "FEATURE_COLS",
        "IFOREST_N_ESTIMATORS",
        "IsolationForest",
        "LABEL_COL",
        "OneClassSVM",
        "StandardScaler",
        "anomaly_scores",
        "check_both_classes",
        "check_range",
        "compute_feature_stats",
        "evaluate_model",
        "explain_top_anomalies",
        "global_feature_correlations",
        "isolation_forest_scores",
        "load_dataset",
        "make_iforest",
        "make_ocsvm",
        "oneclass_svm_scores",
        "prepare_train_test",
        "read_table",
        "train_isolation_forest",
        "train_oneclass_svm",
        "train_test_split",
        "validate_dataset",
    ],
}


@pytest.mark.parametrize("module", sorted(SEED_NAMES))
def test_every_seed_name_is_still_importable(module):
    mod = importlib.import_module(module)
    missing = [name for name in SEED_NAMES[module] if not hasattr(mod, name)]
    assert missing == []


def test_data_generation_reexports_the_scenario_itself():
    from soc_anomaly import data_generation
    from soc_anomaly.scenarios import seed

    assert data_generation.generate_synthetic_soc_dataset is seed.generate_synthetic_soc_dataset
    assert data_generation.ATTACK_SCENARIOS is seed.ATTACK_SCENARIOS


def test_prepare_train_test_returns_the_seed_seven_tuple():
    df = generate_synthetic_soc_dataset(n_users=10, events_per_user=30, random_state=0)
    parts = prepare_train_test(df)
    assert isinstance(parts, tuple) and len(parts) == 7
