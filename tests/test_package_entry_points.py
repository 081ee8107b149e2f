"""``help(soc_anomaly)`` points to the entry points, and every name it gives exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import soc_anomaly
from soc_anomaly.cli.main import app

DOC = soc_anomaly.__doc__ or ""
ROOT = Path(__file__).resolve().parents[1]


def _resolve(dotted: str) -> object:
    """The module or the attribute of a module that ``dotted`` names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_python_name_in_the_package_docstring_exists() -> None:
    names = set(re.findall(r"``(soc_anomaly(?:\.\w+)+)``", DOC))
    # The entry points a newcomer looks for are named.
    for expected in (
        "soc_anomaly.model.AnomalyModel",
        "soc_anomaly.experiment.run_detection",
        "soc_anomaly.experiment.DetectConfig",
        "soc_anomaly.scenarios.generate_world",
        "soc_anomaly.scenarios.generate_synthetic_soc_dataset",
    ):
        assert expected in names
    for name in sorted(names):
        assert _resolve(name) is not None, name


def test_the_package_docstring_names_every_command() -> None:
    named = set(re.findall(r"``soc-anomaly (\w+)``", DOC))
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert named == commands


def test_the_docs_it_points_to_are_in_the_source_tree() -> None:
    pages = re.findall(r"``(docs/[\w/.-]+\.md)``", DOC)
    assert pages
    for page in pages:
        assert (ROOT / page).is_file(), page
