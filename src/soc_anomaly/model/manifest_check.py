"""Checks of a bundle's ``manifest.json``: size, nesting, field types, agreement with the model.

A manifest is read by the scorer (detector and feature names in its summary
line, the OCSF findings' analytic), the HTML report and ``GET /v1/model``, so
every field they read is checked for its type here, once, and a manifest that
fails is refused with one line naming the field. The fields that change what
is scored (detector, features, feature names, threshold, calibration,
parameters) and what the model says of its training must equal the loaded
model's own values (:func:`check_agreement`): an edited threshold is refused,
never served. So must the incident queue's budget (``incidents``: incidents a
day per 500 staff, staff, incidents a day, the linker's parameters), which a
manifest written before bundles held a linker lacks (read as null: no linker).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from soc_anomaly.errors import ModelError

__all__ = [
    "AGREEING_FIELDS",
    "MAX_MANIFEST_BYTES",
    "OPTIONAL_FIELDS",
    "check_agreement",
    "parse_manifest",
]

#: Largest manifest read (a real one is a few kB; its feature list dominates).
MAX_MANIFEST_BYTES = 1_000_000
#: Fields the loaded model must agree with, in the order they are compared.
AGREEING_FIELDS = (
    "detector",
    "features",
    "feature_names",
    "threshold",
    "calibration",
    "parameters",
    "random_state",
    "training",
    "incidents",
)
#: Fields a manifest of an earlier version may lack (read as null).
OPTIONAL_FIELDS = ("incidents",)

_NUMBER = (int, float)
_TEXT_OR_NONE = (str, type(None))
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Field -> expected type, or a nested table of subfields.
_SCHEMA: dict[str, Any] = {
    "bundle_format": int,
    "model_file": str,
    "model_sha256": str,
    "parameters": dict,
    "features": str,
    "feature_names": list,
    "detector": {"name": str, "class": str, "parameters": dict},
    "calibration": {"knots": int},
    "threshold": {"rule": str, "percentile": _NUMBER, "raw": _NUMBER, "calibrated": _NUMBER},
    "training": {
        "rows": (int, type(None)),
        "sha256": _TEXT_OR_NONE,
        "start": _TEXT_OR_NONE,
        "end": _TEXT_OR_NONE,
    },
    "random_state": (int, type(None)),
    "versions": {"soc_anomaly": str, "scikit-learn": str},
    "ocsf_version": str,
    "attack_version": str,
}
#: The incident queue (``incidents``, when not null): the budget and the linker's parameters.
_INCIDENTS: dict[str, Any] = {
    "incidents_per_day_per_500_staff": _NUMBER,
    "staff": int,
    "per_day": int,
    "candidate_score": _NUMBER,
    "window_hours": _NUMBER,
    "span_hours": _NUMBER,
    "common_share": _NUMBER,
    "tail_weight": _NUMBER,
    "common_entities": dict,
}


def _refuse(path: Path, what: str) -> ModelError:
    return ModelError(f"{path}: {what}; refusing to load the bundle")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_manifest(data: bytes, path: Path) -> dict[str, Any]:
    """The manifest in ``data``, with every field the toolkit reads of the right type.

    Raises
    ------
    soc_anomaly.errors.ModelError
        On text that is not JSON (or nests too deep, or holds NaN), another
        bundle format, or a missing or ill-typed field (named).
    """
    from soc_anomaly.model.bundle import BUNDLE_FORMAT, MODEL_FILE

    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise _refuse(path, "the JSON nests too deep; expected a manifest") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path} is not readable JSON ({exc}); expected a manifest") from None
    if not isinstance(manifest, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        shown = kind.get(type(manifest), "a number")
        raise ModelError(f"{path} holds {shown}, not a JSON object; expected a manifest")
    if manifest.get("bundle_format") != BUNDLE_FORMAT:
        found = manifest.get("bundle_format")
        shown = repr(found) if isinstance(found, int | float | type(None)) else type(found).__name__
        raise ModelError(
            f"{path} has bundle format {shown}; expected {BUNDLE_FORMAT} (this version of "
            "soc-anomaly)"
        )
    _check_fields(manifest, _SCHEMA, path, "")
    incidents = manifest.get("incidents")
    if incidents is not None:
        if not isinstance(incidents, dict):
            raise _refuse(path, f"field incidents is a {_kind(incidents)}; expected an object")
        _check_fields(incidents, _INCIDENTS, path, "incidents.")
        if incidents["staff"] < 1 or incidents["per_day"] < 1:
            raise _refuse(path, "incidents.staff and incidents.per_day must be positive")
    if not _SHA256.fullmatch(manifest["model_sha256"]):
        raise _refuse(path, "model_sha256 is not 64 hexadecimal digits")
    if manifest["model_file"] != MODEL_FILE:
        raise _refuse(path, f"model_file is not {MODEL_FILE}")
    if not all(isinstance(c, str) for c in manifest["feature_names"]):
        raise _refuse(path, "feature_names holds a value that is not text")
    if not all(isinstance(v, str) for v in manifest["versions"].values()):
        raise _refuse(path, "versions holds a value that is not text")
    return manifest


def _check_fields(obj: Mapping[str, Any], schema: Mapping[str, Any], path: Path, at: str) -> None:
    for name, want in schema.items():
        field = f"{at}{name}"
        if name not in obj:
            raise _refuse(path, f"field {field} is missing")
        value = obj[name]
        if isinstance(want, dict):
            if not isinstance(value, dict):
                raise _refuse(path, f"field {field} is a {_kind(value)}; expected an object")
            _check_fields(value, want, path, f"{field}.")
        elif isinstance(value, bool) and bool not in (want if isinstance(want, tuple) else (want,)):
            raise _refuse(path, f"field {field} is a boolean; expected {_names(want)}")
        elif not isinstance(value, want):
            raise _refuse(path, f"field {field} is a {_kind(value)}; expected {_names(want)}")


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _names(want: type | tuple[type, ...]) -> str:
    kinds = want if isinstance(want, tuple) else (want,)
    return " or ".join(_kind(k()) if k is not type(None) else "null" for k in kinds)


def check_agreement(manifest: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Refuse a manifest whose model-determined fields differ from the loaded model's.

    Parameters
    ----------
    manifest : mapping
        The bundle's manifest (checked by :func:`parse_manifest`).
    expected : mapping
        The manifest the loaded model would be saved with.

    Raises
    ------
    soc_anomaly.errors.ModelError
        Naming the first field that differs.
    """
    # Through JSON, as the saved manifest went: tuples become lists.
    want = json.loads(json.dumps({k: expected.get(k) for k in AGREEING_FIELDS}))
    for name in AGREEING_FIELDS:
        got = manifest.get(name) if name in OPTIONAL_FIELDS else manifest[name]
        where = _first_difference(got, want[name], name)
        if where is not None:
            raise ModelError(
                f"manifest field {where} does not agree with the model in model.skops; the "
                "manifest was edited, refusing to load the bundle"
            )


def _first_difference(got: Any, want: Any, at: str) -> str | None:
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return at
        for key in want:
            where = _first_difference(got[key], want[key], f"{at}.{key}")
            if where is not None:
                return where
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return at
        return next(
            (
                w
                for g, v in zip(got, want, strict=True)
                if (w := _first_difference(g, v, at)) is not None
            ),
            None,
        )
    if isinstance(want, float) and isinstance(got, _NUMBER) and not isinstance(got, bool):
        # Float fields are recomputed from the model: equal up to rounding.
        return None if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12) else at
    if type(got) is not type(want) or got != want:
        return at
    return None
