"""The committed test lock pins every dependency the package and its test extra declare."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "test.lock"


def _declared() -> dict[str, Requirement]:
    """Direct requirements of the install, its [test] extra and the extras that pulls in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    found: dict[str, Requirement] = {}
    todo, seen = ["test"], set()
    for spec in project["dependencies"]:
        req = Requirement(spec)
        found[canonicalize_name(req.name)] = req
    while todo:
        extra = todo.pop()
        seen.add(extra)
        for spec in extras[extra]:
            req = Requirement(spec)
            if canonicalize_name(req.name) == "soc-anomaly":
                todo.extend(e for e in req.extras if e not in seen)
            else:
                found[canonicalize_name(req.name)] = req
    return found


def _pins() -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins.setdefault(canonicalize_name(m.group(1)), []).append(m.group(2))
    return pins


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    declared = _declared()
    assert {"pytest", "schemathesis", "numpy", "mkdocs", "fastapi"} <= set(declared)
    for name, req in declared.items():
        assert name in pins, f"{name} is declared in pyproject.toml but not in {LOCK.name}"
        for version in pins[name]:
            assert req.specifier.contains(version, prereleases=True), (name, version)


def test_the_lock_says_how_it_was_made() -> None:
    # The refresh command in the docs is the one recorded in the lock's header.
    header = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    assert any("uv pip compile pyproject.toml --extra test --universal" in h for h in header)
