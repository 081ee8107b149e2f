import re

import numpy as np

from soc_anomaly.scenarios.seed import (
    ATTACK_INJECTORS,
    ATTACK_SCENARIOS,
    NO_TECHNIQUE,
    NORMAL_ATTACK_TYPE,
    technique_for,
)


def test_scenario_table_names_the_seed_attacks_with_their_techniques():
    assert {name: s.technique_id for name, s in ATTACK_SCENARIOS.items()} == {
        "exfiltration": "T1048",
        "impossible_travel": "T1078",
        "brute_force": "T1110.001",
    }
    for name, scenario in ATTACK_SCENARIOS.items():
        assert scenario.name == name
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", scenario.technique_id)
        assert scenario.technique_name and scenario.tactic and scenario.description


def test_every_scenario_has_an_injector_and_vice_versa():
    assert set(ATTACK_INJECTORS) == set(ATTACK_SCENARIOS)


def test_technique_for_normal_and_attacks():
    assert technique_for(NORMAL_ATTACK_TYPE) == NO_TECHNIQUE
    assert technique_for("brute_force") == "T1110.001"


def test_generated_rows_carry_label_type_and_technique_from_the_table(small_df):
    kinds = small_df["attack_type"].astype(str)
    techniques = small_df["mitre_technique"].astype(str)
    assert ((kinds != NORMAL_ATTACK_TYPE) == (small_df["label"] == 1)).all()
    expected = kinds.map(technique_for)
    assert (techniques == expected).all()
    assert set(kinds[small_df["label"] == 1]) == set(ATTACK_SCENARIOS)
    assert np.all(techniques[small_df["label"] == 0] == NO_TECHNIQUE)
