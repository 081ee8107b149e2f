"""Before/after comparison of two saved runs.

:func:`diff_runs` lists the configuration keys that differ between two runs
read by :func:`soc_anomaly.experiment.saved_runs.load_run` and the change of
every headline metric of every detector.

Plots of a comparison belong in :mod:`soc_anomaly.reporting`; this module
only provides their data (:attr:`RunDiff.metric_deltas`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from soc_anomaly.errors import SocAnomalyError

if TYPE_CHECKING:  # saved_runs imports this module; the type is only annotated here
    from soc_anomaly.experiment.saved_runs import Run

__all__ = [
    "ABSENT",
    "CAMPAIGN_METRICS",
    "DELTA_COLUMNS",
    "HEADLINE_METRICS",
    "THRESHOLD_METRICS",
    "RunDiff",
    "changed_settings",
    "diff_runs",
]

#: Per-detector metrics compared by :func:`diff_runs`, read from ``models[name]``.
HEADLINE_METRICS: Final = ("roc_auc", "pr_auc", "precision_at_k")
#: Metrics compared for each block under ``models[name]["thresholds"][rule]``;
#: they appear in the diff as ``"<rule>.<metric>"``.
THRESHOLD_METRICS: Final = ("precision", "recall", "f1", "tp", "fp")

#: Campaign-level metrics compared for each rule under ``models[name]["campaigns"]``
#: (enterprise runs); they appear as ``"campaigns.<rule>.<metric>"``, and the recall
#: of each scenario as ``"campaigns.<rule>.recall.<scenario>"``.
CAMPAIGN_METRICS: Final = ("recall", "caught", "median_ttd_hours", "false_positives")

#: Columns of :attr:`RunDiff.metric_deltas`.
DELTA_COLUMNS: Final = ("detector", "metric", "before", "after", "delta")


class _Absent:
    """Marks a configuration key that one of the two runs does not have."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        # One shared instance, so `value is ABSENT` works everywhere.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<absent>"

    def __bool__(self) -> bool:
        return False


#: ``before`` or ``after`` of a config change when the key is missing from that
#: run, e.g. a setting added to the pipeline after the first run was saved.
#: Distinct from ``None``, which is a real setting (``data_path=None``).
ABSENT: Final = _Absent()


@dataclass(frozen=True)
class RunDiff:
    """What differs between a run ``before`` and a run ``after``.

    Attributes
    ----------
    before, after : pathlib.Path
        Folders of the two runs.
    config_changes : list of tuple
        ``(key, before, after)`` for every setting whose value differs,
        nested keys joined with dots, in the order of the ``before`` run's
        settings followed by settings only the ``after`` run has. A side
        that lacks the key holds :data:`ABSENT`.
    metric_deltas : pandas.DataFrame
        Columns ``detector, metric, before, after, delta`` (``delta = after
        - before``), one row per headline metric present in both runs:
        ``roc_auc``, ``pr_auc``, ``precision_at_k`` and
        ``<rule>.precision|recall|f1|tp|fp`` for each threshold rule. It is
        all a before/after plot needs.
    """

    before: Path
    after: Path
    config_changes: list[tuple[str, Any, Any]]
    metric_deltas: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready types.

        Returns
        -------
        dict
            ``before`` and ``after`` (folder paths), ``config_changes`` (a list
            of ``{"key", "before", "after"}``, where a side whose run lacks the
            key is left out) and ``metric_deltas`` (a list of row records).
            Non-finite numbers become strings (``"nan"``), as in
            ``metrics.json``, so ``json.dumps(..., allow_nan=False)`` works.
        """
        changes = []
        for key, before, after in self.config_changes:
            change: dict[str, Any] = {"key": key}
            if before is not ABSENT:
                change["before"] = _json_number(before)
            if after is not ABSENT:
                change["after"] = _json_number(after)
            changes.append(change)
        deltas = [
            {column: _json_number(row[column]) for column in DELTA_COLUMNS}
            for row in self.metric_deltas.to_dict(orient="records")
        ]
        return {
            "before": str(self.before),
            "after": str(self.after),
            "config_changes": changes,
            "metric_deltas": deltas,
        }


def _json_number(value: Any) -> Any:
    # numpy scalars -> Python; NaN/inf -> the strings results._json_safe uses.
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


# -- comparing ----------------------------------------------------------------


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        dotted = f"{prefix}{key}"
        # An empty mapping is a value of its own; flattening it would make
        # "{}" and "key absent" look the same.
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{dotted}.")
        else:
            yield dotted, value


def _same(a: Any, b: Any) -> bool:
    """Whether two setting values are equal, in the sense a user means."""
    if a is ABSENT or b is ABSENT:
        return a is b
    numbers = int | float
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        # 50 and 50.0 are the same setting; NaN equals itself here.
        return a == b or (a != a and b != b)
    # Otherwise the type must match too: True == 1 in Python, but a flag that
    # became a count is a change worth reporting.
    return type(a) is type(b) and a == b


def changed_settings(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[str, Any, Any]]:
    """``(dotted key, before, after)`` for every setting that differs.

    Nested keys are joined with dots; a side that lacks a key holds :data:`ABSENT`.
    """
    old = dict(_flatten(before))
    new = dict(_flatten(after))
    keys = [*old, *(k for k in new if k not in old)]
    return [
        (key, old.get(key, ABSENT), new.get(key, ABSENT))
        for key in keys
        if not _same(old.get(key, ABSENT), new.get(key, ABSENT))
    ]


def _number(value: Any) -> float | None:
    """A metric value as float, or None when it is not a number.

    ``metrics.json`` stores non-finite floats as strings (``"nan"``), so
    those are turned back into floats.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in {"nan", "inf", "-inf", "infinity"}:
        return float(value)
    return None


def _headline(model: Mapping[str, Any]) -> dict[str, float]:
    """The comparable metrics of one detector, in report order."""
    out: dict[str, float] = {}
    for name in HEADLINE_METRICS:
        value = _number(model.get(name))
        if value is not None:
            out[name] = value
    thresholds = model.get("thresholds")
    if isinstance(thresholds, Mapping):
        for rule, block in thresholds.items():
            if not isinstance(block, Mapping):
                continue
            for name in THRESHOLD_METRICS:
                value = _number(block.get(name))
                if value is not None:
                    out[f"{rule}.{name}"] = value
    campaigns = model.get("campaigns")
    if isinstance(campaigns, Mapping):
        for rule, block in campaigns.items():
            if isinstance(block, Mapping):
                out.update(_campaign_metrics(rule, block))
    return out


def _campaign_metrics(rule: str, block: Mapping[str, Any]) -> dict[str, float]:
    """Campaign recall (overall and per scenario) and median time to detect at one rule."""
    out: dict[str, float] = {}
    for name in CAMPAIGN_METRICS:
        value = _number(block.get(name))
        if value is not None:
            out[f"campaigns.{rule}.{name}"] = value
    by_scenario = block.get("by_scenario")
    if isinstance(by_scenario, Mapping):
        for scenario, group in sorted(by_scenario.items()):
            value = _number(group.get("recall")) if isinstance(group, Mapping) else None
            if value is not None:
                out[f"campaigns.{rule}.recall.{scenario}"] = value
    return out


def diff_runs(a: Run, b: Run) -> RunDiff:
    """Compare run ``a`` (before) with run ``b`` (after).

    Parameters
    ----------
    a : Run
        The baseline run.
    b : Run
        The run after one assumption changed.

    Returns
    -------
    RunDiff
        The settings that differ and, for every detector, the change of each
        headline metric present in both runs.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If the runs evaluated different detectors (the message names those
        only in ``a`` and those only in ``b``), or share no metric.
    """
    models_a = a.metrics.get("models", {})
    models_b = b.metrics.get("models", {})
    only_a = [name for name in models_a if name not in models_b]
    only_b = [name for name in models_b if name not in models_a]
    if only_a or only_b:
        raise SocAnomalyError(
            f"runs {a.path} and {b.path} evaluated different detectors "
            f"(only in the first: {', '.join(only_a) or 'none'}; "
            f"only in the second: {', '.join(only_b) or 'none'}); "
            "expected the same detectors in both"
        )
    rows = []
    for detector in models_a:
        before = _headline(models_a[detector])
        after = _headline(models_b[detector])
        for metric, value in before.items():
            if metric in after:
                rows.append((detector, metric, value, after[metric], after[metric] - value))
    if not rows:
        raise SocAnomalyError(
            f"runs {a.path} and {b.path} have no metric in common; expected "
            f"{', '.join(HEADLINE_METRICS)} or threshold metrics for the same detectors"
        )
    deltas = pd.DataFrame(rows, columns=list(DELTA_COLUMNS))
    return RunDiff(
        before=a.path,
        after=b.path,
        config_changes=changed_settings(a.config, b.config),
        metric_deltas=deltas,
    )
