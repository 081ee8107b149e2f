"""Before/after comparison of two saved runs.

:func:`diff_runs` lists the configuration keys that differ between two runs
read by :func:`soc_anomaly.experiment.saved_runs.load_run`, leaving out the
settings that only say where output goes (:data:`OUTPUT_SETTINGS`), and the
change of every headline metric of every detector the two runs share: the
mean over each run's seeds, with its standard deviation when a run has
several. Detectors only one run evaluated are named, not compared.

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
    "CHANGE_TOLERANCE",
    "DELTA_COLUMNS",
    "HEADLINE_METRICS",
    "OUTPUT_SETTINGS",
    "THRESHOLD_METRICS",
    "RunDiff",
    "changed_settings",
    "comparable_settings",
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
DELTA_COLUMNS: Final = ("detector", "metric", "before", "after", "delta", "before_std", "after_std")

#: Settings that only decide where output goes (or whether figures are drawn):
#: two runs that differ only there are the same experiment, so they are never
#: reported as changes. ``data_path`` is not among them: other data is a change.
OUTPUT_SETTINGS: Final = ("plots_dir", "metrics_path", "save_run", "report", "plots")


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


#: Smallest change of a metric's mean that counts as a change (float noise is not one).
CHANGE_TOLERANCE: Final = 1e-12


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
        that lacks the key holds :data:`ABSENT`. Settings in
        :data:`OUTPUT_SETTINGS` are left out.
    metric_deltas : pandas.DataFrame
        Columns :data:`DELTA_COLUMNS`: ``detector, metric``, the mean over
        seeds ``before`` and ``after``, ``delta = after - before``, and the
        (population) standard deviation over seeds ``before_std`` and
        ``after_std`` (NaN for a run of one seed). One row per headline metric
        that a detector of both runs has in both: ``roc_auc``, ``pr_auc``,
        ``precision_at_k``, ``<rule>.precision|recall|f1|tp|fp`` for each
        threshold rule and, on the enterprise world, campaign metrics.
    only_before, only_after : list of str
        Detectors only the ``before`` (``after``) run evaluated; not compared.
    seeds_before, seeds_after : int
        Seeds each run averaged over.
    """

    before: Path
    after: Path
    config_changes: list[tuple[str, Any, Any]]
    metric_deltas: pd.DataFrame = field(repr=False)
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)
    seeds_before: int = 1
    seeds_after: int = 1

    def changed_metrics(self) -> pd.DataFrame:
        """The rows of :attr:`metric_deltas` whose metric changed for at least one detector.

        Every detector's row of such a metric is kept, so detectors stay
        comparable side by side; a metric that changed for none is dropped.
        A change is a mean that moved by more than :data:`CHANGE_TOLERANCE`,
        or became (or stopped being) NaN.
        """
        d = self.metric_deltas
        before, after = d["before"].to_numpy(float), d["after"].to_numpy(float)
        same = np.isclose(before, after, rtol=0.0, atol=CHANGE_TOLERANCE, equal_nan=True)
        changed = d.loc[~same, "metric"].unique()
        return d[d["metric"].isin(changed)].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready types.

        Returns
        -------
        dict
            ``before`` and ``after`` (folder paths), ``seeds_before`` and
            ``seeds_after``, ``only_before`` and ``only_after`` (detectors
            not compared), ``config_changes`` (a list of ``{"key", "before",
            "after"}``, where a side whose run lacks the key is left out) and
            ``metric_deltas`` (a list of row records; a standard deviation is
            null for a run of one seed). Other non-finite numbers become
            strings (``"nan"``), as in ``metrics.json``, so
            ``json.dumps(..., allow_nan=False)`` works.
        """
        changes = []
        for key, before, after in self.config_changes:
            change: dict[str, Any] = {"key": key}
            if before is not ABSENT:
                change["before"] = _json_number(before)
            if after is not ABSENT:
                change["after"] = _json_number(after)
            changes.append(change)
        deltas = []
        for row in self.metric_deltas.to_dict(orient="records"):
            record = {column: _json_number(row[column]) for column in DELTA_COLUMNS}
            for column in ("before_std", "after_std"):
                if isinstance(row[column], float) and math.isnan(row[column]):
                    record[column] = None
            deltas.append(record)
        return {
            "before": str(self.before),
            "after": str(self.after),
            "seeds_before": self.seeds_before,
            "seeds_after": self.seeds_after,
            "only_before": list(self.only_before),
            "only_after": list(self.only_after),
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


def _seed_metrics(metrics: Mapping[str, Any], detector: str) -> list[dict[str, float]]:
    """The comparable metrics of one detector, one dict per seed of the run.

    Each seed's entry under ``seeds`` has them; the first seed's full block
    under ``models`` fills in what a seed entry lacks (runs saved before
    seed entries kept their thresholds have those for the first seed only,
    and are averaged over what there is).
    """
    first = _headline(metrics["models"][detector])
    per_seed = []
    seeds = metrics.get("seeds")
    for entry in seeds if isinstance(seeds, list) else []:
        models = entry.get("models") if isinstance(entry, Mapping) else None
        model = models.get(detector) if isinstance(models, Mapping) else None
        if isinstance(model, Mapping):
            per_seed.append(_headline(model))
    if not per_seed:
        return [first]
    per_seed[0] = {**per_seed[0], **first}
    return per_seed


def _seed_count(metrics: Mapping[str, Any]) -> int:
    seeds = metrics.get("seeds")
    return max(len(seeds), 1) if isinstance(seeds, list) else 1


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation, as ``detect`` reports them over seeds.

    One value has no spread: its std is NaN (shown as absent), not 0.
    """
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std()) if len(array) > 1 else math.nan


def _summarised(per_seed: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Metric -> (mean, std) over the seeds that have it, in first-seen order."""
    names = list(dict.fromkeys(name for seed in per_seed for name in seed))
    return {name: _mean_std([seed[name] for seed in per_seed if name in seed]) for name in names}


def comparable_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a run that make it the experiment it is (without :data:`OUTPUT_SETTINGS`)."""
    return {key: value for key, value in config.items() if key not in OUTPUT_SETTINGS}


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
        The settings that differ (output locations left out), the detectors
        only one run has, and for every detector both have the change of the
        mean over seeds of each headline metric present in both.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If the runs share no detector (the message names each run's), or
        their shared detectors share no metric.
    """
    models_a = a.metrics.get("models", {})
    models_b = b.metrics.get("models", {})
    shared = [name for name in models_a if name in models_b]
    if not shared:
        raise SocAnomalyError(
            f"runs {a.path} and {b.path} share no detector (the first evaluated "
            f"{', '.join(models_a) or 'none'}; the second {', '.join(models_b) or 'none'}); "
            "expected at least one detector in both"
        )
    rows = []
    for detector in shared:
        before = _summarised(_seed_metrics(a.metrics, detector))
        after = _summarised(_seed_metrics(b.metrics, detector))
        for metric, (mean_a, std_a) in before.items():
            if metric in after:
                mean_b, std_b = after[metric]
                rows.append((detector, metric, mean_a, mean_b, mean_b - mean_a, std_a, std_b))
    if not rows:
        raise SocAnomalyError(
            f"runs {a.path} and {b.path} have no metric in common; expected "
            f"{', '.join(HEADLINE_METRICS)} or threshold metrics for the same detectors"
        )
    deltas = pd.DataFrame(rows, columns=list(DELTA_COLUMNS))
    return RunDiff(
        before=a.path,
        after=b.path,
        config_changes=changed_settings(
            comparable_settings(a.config), comparable_settings(b.config)
        ),
        metric_deltas=deltas,
        only_before=[name for name in models_a if name not in models_b],
        only_after=[name for name in models_b if name not in models_a],
        seeds_before=_seed_count(a.metrics),
        seeds_after=_seed_count(b.metrics),
    )
