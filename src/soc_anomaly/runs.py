"""Saved detection runs and before/after comparisons.

The lab question "what changed when I changed one assumption?" needs two
runs side by side. :func:`save_run` stores a run in a folder,
:func:`load_run` reads it back with one-line errors for anything missing or
damaged, and :func:`diff_runs` lists the configuration keys that differ and
the change of every headline metric of every detector.

A run folder holds three files, each written atomically:

``config.json``
    The run's settings (``metrics["config"]``), for reading at a glance.
``metrics.json``
    The whole metrics document, as
    :meth:`soc_anomaly.pipeline.DetectionResult.to_dict` produces it.
``scores.parquet``
    One row per evaluated event, whatever columns the caller chose
    (typically event index, label, attack type and one score per detector).

``metrics.json`` is written last, so a folder only counts as a complete run
once everything else is in place.

Plots of a comparison belong in :mod:`soc_anomaly.visualization`; this module
only provides their data (:attr:`RunDiff.metric_deltas`).
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from soc_anomaly.data.io import atomic_write, check_writable_dir, read_table
from soc_anomaly.errors import DataError, SocAnomalyError

__all__ = [
    "ABSENT",
    "CONFIG_FILE",
    "HEADLINE_METRICS",
    "METRICS_FILE",
    "RUN_FILES",
    "SCORES_FILE",
    "THRESHOLD_METRICS",
    "Run",
    "RunDiff",
    "diff_runs",
    "load_run",
    "save_run",
]

CONFIG_FILE: Final = "config.json"
METRICS_FILE: Final = "metrics.json"
SCORES_FILE: Final = "scores.parquet"
#: The files of a run folder, in the order :func:`save_run` writes them.
RUN_FILES: Final = (SCORES_FILE, CONFIG_FILE, METRICS_FILE)

#: Per-detector metrics compared by :func:`diff_runs`, read from ``models[name]``.
HEADLINE_METRICS: Final = ("roc_auc", "pr_auc", "precision_at_k")
#: Metrics compared for each block under ``models[name]["thresholds"][rule]``;
#: they appear in the diff as ``"<rule>.<metric>"``.
THRESHOLD_METRICS: Final = ("precision", "recall", "f1", "tp", "fp")

#: Columns of :attr:`RunDiff.metric_deltas`.
DELTA_COLUMNS: Final = ("detector", "metric", "before", "after", "delta")

# Keys metrics.json must have for a run to be loaded and compared.
_REQUIRED_KEYS: Final = ("config", "models")


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
class Run:
    """A saved run, as read back by :func:`load_run`.

    Attributes
    ----------
    path : pathlib.Path
        The run folder.
    config : dict
        Settings of the run (``config.json``).
    metrics : dict
        The whole metrics document (``metrics.json``), with at least
        ``config`` and ``models``.
    scores : pandas.DataFrame
        One row per evaluated event (``scores.parquet``).
    """

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    scores: pd.DataFrame = field(repr=False)


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
    # numpy scalars -> Python; NaN/inf -> the strings pipeline._json_safe uses.
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


# -- saving -------------------------------------------------------------------


def _is_run_leftover(name: str) -> bool:
    """A run file, or a temporary file an interrupted save of one left behind."""
    if name in RUN_FILES:
        return True
    return any(name.startswith(f".{f}.") and name.endswith(".tmp") for f in RUN_FILES)


def _check_run_target(run_dir: Path) -> None:
    if run_dir.is_file():
        raise SocAnomalyError(f"run folder {run_dir} is an existing file; expected a folder")
    if not run_dir.is_dir():
        return
    if (run_dir / METRICS_FILE).is_file():
        return  # a previous run: overwriting it is the point of re-running
    # Files of a run whose save failed before metrics.json was written are
    # allowed, so that the save can simply be retried.
    foreign = sorted(p.name for p in run_dir.iterdir() if not _is_run_leftover(p.name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise SocAnomalyError(
            f"run folder {run_dir} is not empty and holds no {METRICS_FILE} (found {shown}); "
            "expected a new or empty folder, or a previous run folder"
        )


def _json_bytes(obj: Any, what: str) -> bytes:
    try:
        text = json.dumps(obj, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        # Both messages are one line, e.g. "Out of range float values are not
        # JSON compliant: nan" or "Object of type ndarray is not JSON serializable".
        raise DataError(f"{what} cannot be stored as JSON: {exc}") from None
    return (text + "\n").encode("utf-8")


def _parquet_bytes(scores: pd.DataFrame) -> bytes:
    if not isinstance(scores, pd.DataFrame):
        raise DataError(f"scores must be a pandas DataFrame, got {type(scores).__name__}")
    if scores.empty:
        raise DataError(
            f"scores has shape {scores.shape}; expected at least one row and one column"
        )
    frame = scores
    index = frame.index
    default_index = (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )
    if not default_index:
        # Parquet is written without the index; a meaningful one (event ids,
        # a named or filtered index) is kept as a column, not dropped silently.
        try:
            frame = frame.reset_index()
        except ValueError as exc:  # a column already has the index's name
            raise DataError(f"scores index cannot be stored as a column ({exc})") from None
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise DataError(
            f"scores has column name {bad[0]!r} of type {type(bad[0]).__name__}; "
            "expected string column names"
        )
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise DataError(f"scores has column {duplicated[0]!r} twice; expected unique columns")
    buffer = io.BytesIO()
    try:
        # Same writer and options as io.write_table, so the bytes are reproducible.
        frame.to_parquet(buffer, index=False, engine="pyarrow")
    except Exception as exc:  # pyarrow raises several unrelated types for bad columns
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"scores cannot be stored as Parquet ({detail})") from None
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        with atomic_write(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise SocAnomalyError(f"cannot write {path}: {exc.strerror or exc}") from None


def save_run(
    run_dir: str | os.PathLike[str], metrics: Mapping[str, Any], scores: pd.DataFrame
) -> Path:
    """Store a detection run in a folder.

    Everything is validated and serialized in memory before the first byte
    is written, so bad input leaves the disk untouched; each file is then
    written atomically, ``metrics.json`` last.

    Parameters
    ----------
    run_dir : str or os.PathLike
        Folder of the run; created (with its parents) if missing. It may be
        empty, or hold a previous run (which is overwritten); any other
        non-empty folder is refused.
    metrics : Mapping
        The run's metrics document, as
        :meth:`soc_anomaly.pipeline.DetectionResult.to_dict` returns it; it
        needs a ``config`` mapping (copied to ``config.json``) and a
        ``models`` mapping. Extra keys are kept.
    scores : pandas.DataFrame
        One row per evaluated event, with string column names. A non-default
        index is stored as a column (``reset_index``).

    Returns
    -------
    pathlib.Path
        The run folder.

    Raises
    ------
    soc_anomaly.errors.DataError
        If ``metrics`` lacks ``config``/``models`` or is not JSON-ready
        (e.g. holds NaN), or ``scores`` cannot be stored as Parquet.
    soc_anomaly.errors.SocAnomalyError
        If ``run_dir`` is a file, a non-empty folder that is not a run, or
        cannot be written.
    """
    run_dir = Path(run_dir)
    _check_run_target(run_dir)
    _check_document(metrics, f"metrics passed to save_run for {run_dir}")
    payloads = {
        SCORES_FILE: _parquet_bytes(scores),
        CONFIG_FILE: _json_bytes(metrics["config"], "metrics['config']"),
        METRICS_FILE: _json_bytes(dict(metrics), "metrics"),
    }
    check_writable_dir(run_dir, what="run folder", create=True)
    for name in RUN_FILES:
        _write_bytes(run_dir / name, payloads[name])
    return run_dir


# -- loading ------------------------------------------------------------------


def _check_document(metrics: Any, where: str) -> None:
    if not isinstance(metrics, Mapping):
        raise DataError(f"{where} is a {type(metrics).__name__}; expected a JSON object")
    missing = [key for key in _REQUIRED_KEYS if key not in metrics]
    if missing:
        raise DataError(
            f"{where} lacks {', '.join(map(repr, missing))}; "
            f"expected the keys {' and '.join(map(repr, _REQUIRED_KEYS))}"
        )
    for key in _REQUIRED_KEYS:
        if not isinstance(metrics[key], Mapping):
            raise DataError(
                f"{where} has {key!r} of type {type(metrics[key]).__name__}; expected a JSON object"
            )
    for name, model in metrics["models"].items():
        if not isinstance(model, Mapping):
            raise DataError(
                f"{where} has models[{name!r}] of type {type(model).__name__}; "
                "expected a JSON object"
            )


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text; expected a JSON file") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "is the file truncated?"
        ) from None
    if not isinstance(obj, dict):
        raise DataError(f"{path} holds a JSON {type(obj).__name__}; expected a JSON object")
    return obj


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read a run folder written by :func:`save_run`.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run folder.

    Returns
    -------
    Run
        Its path, settings, metrics and per-event scores.

    Raises
    ------
    soc_anomaly.errors.DataError
        In one line, if the folder or one of its files is missing, a JSON
        file is unreadable or lacks the required keys, ``config.json``
        disagrees with the settings in ``metrics.json``, or
        ``scores.parquet`` is truncated or corrupt.
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise DataError(f"run folder {run_dir} does not exist; expected a folder from save_run")
    if not run_dir.is_dir():
        raise DataError(f"run path {run_dir} is a file; expected a run folder from save_run")
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise DataError(
            f"run folder {run_dir} is missing {', '.join(missing)}; expected {', '.join(RUN_FILES)}"
        )
    metrics = _read_json_object(run_dir / METRICS_FILE)
    _check_document(metrics, str(run_dir / METRICS_FILE))
    config = _read_json_object(run_dir / CONFIG_FILE)
    # The two copies of the settings must agree, or a diff would report the
    # settings of one run next to the metrics of another.
    disagreements = _changes(metrics["config"], config)
    if disagreements:
        key, in_metrics, in_config = disagreements[0]
        raise DataError(
            f"{run_dir / CONFIG_FILE} has {key}={in_config!r} but the config in "
            f"{METRICS_FILE} has {key}={in_metrics!r}; expected the same settings in both"
        )
    scores = read_table(run_dir / SCORES_FILE)
    return Run(path=run_dir, config=config, metrics=metrics, scores=scores)


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


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(dotted key, before, after)`` for every setting that differs."""
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
        config_changes=_changes(a.config, b.config),
        metric_deltas=deltas,
    )
