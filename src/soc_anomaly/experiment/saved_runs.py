"""Saved detection runs: a folder per run, written atomically and read back safely.

The lab question "what changed when I changed one assumption?" needs two
runs side by side. :func:`save_run` stores a run in a folder and
:func:`load_run` reads it back with one-line errors for anything missing or
damaged; :mod:`soc_anomaly.experiment.run_diff` compares two of them.

A run folder holds three files, each written atomically:

``config.json``
    The run's settings (``metrics["config"]``), for reading at a glance.
``metrics.json``
    The whole metrics document, as
    :meth:`soc_anomaly.experiment.results.DetectionResult.to_dict` produces it.
``scores.parquet``
    One row per evaluated event, whatever columns the caller chose
    (typically event index, label, attack type and one score per detector).

``metrics.json`` is written last, so a folder only counts as a complete run
once everything else is in place.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from soc_anomaly.data.io import atomic_write, check_writable_dir, read_table
from soc_anomaly.errors import DataError, SocAnomalyError
from soc_anomaly.experiment.run_diff import changed_settings

__all__ = [
    "CONFIG_FILE",
    "METRICS_FILE",
    "RUN_FILES",
    "SCORES_FILE",
    "Run",
    "load_run",
    "save_run",
]

CONFIG_FILE: Final = "config.json"
METRICS_FILE: Final = "metrics.json"
SCORES_FILE: Final = "scores.parquet"
#: The files of a run folder, in the order :func:`save_run` writes them.
RUN_FILES: Final = (SCORES_FILE, CONFIG_FILE, METRICS_FILE)

# Keys metrics.json must have for a run to be loaded and compared.
_REQUIRED_KEYS: Final = ("config", "models")


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
        :meth:`soc_anomaly.experiment.results.DetectionResult.to_dict` returns it; it
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
    disagreements = changed_settings(metrics["config"], config)
    if disagreements:
        key, in_metrics, in_config = disagreements[0]
        raise DataError(
            f"{run_dir / CONFIG_FILE} has {key}={in_config!r} but the config in "
            f"{METRICS_FILE} has {key}={in_metrics!r}; expected the same settings in both"
        )
    scores = read_table(run_dir / SCORES_FILE)
    return Run(path=run_dir, config=config, metrics=metrics, scores=scores)
