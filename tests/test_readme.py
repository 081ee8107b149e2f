"""The README describes the software that is here: every scenario, every benign oddity."""

from __future__ import annotations

import re
from pathlib import Path

import soc_anomaly.scenarios.enterprise.attacks as attacks
from soc_anomaly.scenarios.enterprise.benign import __doc__ as benign_doc

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_every_attack_scenario_has_a_row_with_its_techniques() -> None:
    world = _section("The enterprise world")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", world, re.M)}
    assert set(rows) == set(attacks.SCENARIOS)
    for name, scenario in attacks.SCENARIOS.items():
        listed = [t.strip() for t in rows[name].split(",")]
        assert listed == [t.id for t in scenario.techniques], name


def test_every_benign_oddity_is_described() -> None:
    world = _section("The enterprise world")
    tags = re.findall(r"^``(\w+)``$", benign_doc or "", re.M)
    assert len(tags) == 7
    for tag in tags:
        assert f"`{tag}`" in world, tag


def test_every_entity_feature_is_in_the_feature_table() -> None:
    from soc_anomaly.features import FEATURES

    section = _section("Detecting attacks in the enterprise world")
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, re.M)
    assert [name for name, _ in rows] == list(FEATURES)
    for name, unit in rows:
        assert unit.strip() == FEATURES[name].unit, name
