"""The docs describe the software that is here: every scenario, oddity and feature.

The README is a landing page: short, its links lead to pages that exist, and its
test command is the one CI runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import soc_anomaly.scenarios.enterprise.attacks as attacks
from soc_anomaly.scenarios.enterprise.benign import __doc__ as benign_doc

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_attack_scenario_has_a_row_with_its_techniques() -> None:
    world = _page("enterprise-world.md")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", world, re.M)}
    assert set(rows) == set(attacks.SCENARIOS)
    for name, scenario in attacks.SCENARIOS.items():
        listed = [t.strip() for t in rows[name].split(",")]
        assert listed == [t.id for t in scenario.techniques], name


def test_every_benign_oddity_is_described() -> None:
    world = _page("enterprise-world.md")
    tags = re.findall(r"^``(\w+)``$", benign_doc or "", re.M)
    assert len(tags) == 7
    for tag in tags:
        assert f"`{tag}`" in world, tag


def test_every_entity_feature_is_in_the_feature_table() -> None:
    from soc_anomaly.features import FEATURES

    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", _page("features.md"), re.M)
    assert [name for name, _ in rows] == list(FEATURES)
    for name, unit in rows:
        assert unit.strip() == FEATURES[name].unit, name


def test_every_detector_has_a_row() -> None:
    from soc_anomaly.detectors import DETECTORS

    rows = re.findall(r"^\| `(\w+)` \| ", _page("detectors.md"), re.M)
    assert rows == list(DETECTORS)


def test_the_sequences_page_shows_the_action_vocabulary() -> None:
    from soc_anomaly.sequences.vocabulary import ACTIONS, actions_table

    page = _page("sequences.md")
    assert actions_table() in page
    assert f"one of {len(ACTIONS)} actions" in page


def test_readme_is_a_landing_page_whose_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") and link.endswith(".md") for link in local)
    for link in local:
        assert (ROOT / link).exists(), link


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"\n{command}\n" in readme


def test_readme_table_is_copied_from_the_generated_results() -> None:
    # The landing page's tables are excerpts: every row must be one the script wrote.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("|")]
    written = set(_page("results/default_detectors.md").splitlines())
    written |= set(_page("results/enterprise_campaigns.md").splitlines())
    assert len(rows) > 3
    for row in rows:
        assert row in written, row
