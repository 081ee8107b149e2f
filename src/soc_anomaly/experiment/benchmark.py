"""``benchmark``: every dataset and published method under the protocol, beside the paper.

Reads the ``.npz`` benchmarks and ``published_auc.csv`` of one folder, runs
:func:`soc_anomaly.experiment.published.run_protocol`'s seeds for each
dataset and method, and returns one comparison table. The detectors are looked
up in the registry at run time, so detectors registered later are picked up.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.data.npz import load_npz_dataset
from soc_anomaly.detectors import registry
from soc_anomaly.errors import DataError, ParameterError, check_positive_int
from soc_anomaly.experiment.progress import StepReporter
from soc_anomaly.experiment.progress import quiet as _quiet
from soc_anomaly.experiment.published import (
    PROTOCOL_MAX_ROWS,
    PUBLISHED_CSV,
    PUBLISHED_METHODS,
    TOLERANCE,
    build_detector,
    read_published_auc,
    run_seeds,
)

__all__ = ["BENCHMARK_COLUMNS", "benchmark"]

#: Columns of the table :func:`benchmark` returns, in order.
BENCHMARK_COLUMNS: tuple[str, ...] = (
    "dataset",
    "method",
    "detector",
    "ours_mean",
    "ours_std",
    "published_mean",
    "published_std",
    "delta",
    "within_0_03",
    "fit_seconds",
    "seconds",
    "note",
)


# --------------------------------------------------------------- benchmark


def _resolve_methods(methods: Sequence[str] | None) -> list[str]:
    """Published method names for ``methods``; our detector names work too."""
    if methods is None:
        return list(PUBLISHED_METHODS)
    aliases: dict[str, str] = {}
    for published, method in PUBLISHED_METHODS.items():
        aliases[published.lower()] = published
        if method.detector is not None:
            aliases.setdefault(method.detector.lower(), published)
    resolved = []
    for name in methods:
        key = str(name).strip().lower()
        # A display name as our tables print it ("IsolationForest") names its detector.
        key = key if key in aliases else (registry.cli_name(str(name)) or key)
        if key not in aliases:
            raise ParameterError(
                f"unknown method '{name}'; expected one of {', '.join(PUBLISHED_METHODS)} "
                "(or our detector names iforest, ocsvm, lof, knn, mahalanobis, kmeans)"
            )
        resolved.append(aliases[key])
    if not resolved:
        raise ParameterError("no methods given; expected names such as IForest,OCSVM")
    return list(dict.fromkeys(resolved))


def _resolve_datasets(datasets: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    if datasets is None:
        return list(known)
    names = [str(name).strip() for name in datasets]
    if not names:
        raise ParameterError(f"no datasets given; expected some of {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ParameterError(f"unknown dataset '{name}'; expected one of {', '.join(known)}")
    return list(dict.fromkeys(names))


def _row(
    dataset: str,
    method: str,
    published: Mapping[tuple[str, str], tuple[float, float]],
    *,
    detector: str | None,
    aucs: Sequence[float] = (),
    fit_seconds: float = math.nan,
    seconds: float = math.nan,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    pub_mean, pub_std = published.get((dataset, method), (math.nan, math.nan))
    notes = list(notes)
    if math.isnan(pub_mean):
        notes.append("no published value")
    ours_mean = float(np.mean(aucs)) if len(aucs) else math.nan
    # Population std (ddof=0): the spread of these seeds, as np.std gives it.
    ours_std = float(np.std(aucs)) if len(aucs) else math.nan
    delta = ours_mean - pub_mean
    return {
        "dataset": dataset,
        "method": method,
        "detector": detector or "",
        "ours_mean": ours_mean,
        "ours_std": ours_std,
        "published_mean": pub_mean,
        "published_std": pub_std,
        "delta": delta,
        # Rounded so that a delta printed as 0.030 counts as within.
        "within_0_03": pd.NA if math.isnan(delta) else bool(round(abs(delta), 6) <= TOLERANCE),
        "fit_seconds": fit_seconds,
        "seconds": seconds,
        "note": "; ".join(notes),
    }


def _warning_line(caught: warnings.WarningMessage) -> str:
    """One line for a recorded warning, safe inside the ``"; "``-joined notes."""
    text = str(caught.message).strip().splitlines()[0] if str(caught.message).strip() else ""
    return f"{caught.category.__name__}: {text}".replace("; ", ", ")


def benchmark(
    datasets_dir: Path,
    datasets: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    seeds: int = 5,
    *,
    max_rows: int = PROTOCOL_MAX_ROWS,
    step: StepReporter = _quiet,
    on_row: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Run the published protocol for each dataset and method; compare with the paper.

    Parameters
    ----------
    datasets_dir : pathlib.Path
        Folder with the ``.npz`` benchmarks and ``published_auc.csv``.
    datasets : sequence of str, optional
        Dataset names (file names without ``.npz``); default: every ``.npz``
        in the folder, sorted by name.
    methods : sequence of str, optional
        Published method names (``IForest``, ``OCSVM``, ``LOF``, ``KNN``,
        ``MCD``, ``CBLOF``, ``PCA``; any case) or our detector names
        (``iforest``, ``mahalanobis``, ...); default: all published methods.
    seeds : int, default=5
        Seeds 0 .. seeds-1, as published.
    max_rows : int, default=50_000
        Subsample datasets larger than this.
    step : callable, optional
        ``step(description)`` returns a context manager wrapped around each
        dataset load and each dataset/method run; the command line uses it to
        show progress.
    on_row : callable, optional
        Called with the table so far each time a row is finished, so a caller
        can save it as it grows and an interrupted run keeps its finished rows.

    Returns
    -------
    pandas.DataFrame
        One row per dataset x method with the columns of
        :data:`BENCHMARK_COLUMNS`: ``ours_mean``/``ours_std`` (over seeds,
        ddof=0), ``published_mean``/``published_std``, ``delta`` (ours -
        published), ``within_0_03`` (``|delta| <= 0.03``; missing when either
        side is), ``fit_seconds`` (mean fit time per seed), ``seconds`` (wall
        time of the row) and ``note`` (caveats and the warnings raised while
        fitting or scoring, joined by ``"; "``). A method without a registered
        detector is skipped: its row has no AUC and a note says why.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the folder does not exist, holds no ``.npz`` file, or its
        ``published_auc.csv`` is missing or malformed; or a dataset file is
        unusable (see :func:`soc_anomaly.data.npz.load_npz_dataset`).
    soc_anomaly.errors.ParameterError
        On an unknown dataset or method name (the known ones are listed), or
        ``seeds`` < 1.
    """
    check_positive_int("seeds", seeds)
    check_positive_int("max_rows", max_rows)
    datasets_dir = Path(datasets_dir)
    if not datasets_dir.is_dir():
        what = "is not a folder" if datasets_dir.exists() else "does not exist"
        raise DataError(
            f"datasets folder {datasets_dir} {what}; expected a folder of .npz files "
            f"and {PUBLISHED_CSV}"
        )
    known = sorted(p.stem for p in datasets_dir.glob("*.npz") if p.is_file())
    if not known:
        raise DataError(
            f"datasets folder {datasets_dir} has no .npz files; expected benchmark files "
            "such as thyroid.npz with arrays X and y"
        )
    published_df = read_published_auc(datasets_dir / PUBLISHED_CSV)
    published = {
        (r.dataset, r.method): (r.published_mean, r.published_std)
        for r in published_df.itertuples(index=False)
    }
    names = _resolve_datasets(datasets, known)
    chosen = _resolve_methods(methods)
    seed_list = list(range(seeds))

    rows: list[dict[str, Any]] = []

    def finished(row: dict[str, Any]) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(_table(rows))

    for dataset in names:
        with step(f"Loading {dataset}"):
            X, y = load_npz_dataset(datasets_dir / f"{dataset}.npz")
        n_used = min(len(X), max_rows)
        for method in chosen:
            pm = PUBLISHED_METHODS[method]
            notes = [pm.note] if pm.note else []
            if pm.detector is None:
                finished(_row(dataset, method, published, detector=None, notes=notes))
                continue
            # Looked up now, not at import: detectors registered later count.
            spec = registry.DETECTORS.get(pm.detector)
            if spec is None:
                notes.append(f"skipped: detector '{pm.detector}' is not registered")
                finished(_row(dataset, method, published, detector=pm.detector, notes=notes))
                continue
            try:
                build_detector(spec, pm.overrides, 0, X.shape[1])
            except TypeError as exc:
                # A detector registered with other parameter names than the
                # published defaults need: report it rather than abort the run.
                notes.append(f"skipped: cannot build '{pm.detector}' with {dict(pm.overrides)}")
                notes.append(str(exc).splitlines()[0])
                finished(_row(dataset, method, published, detector=pm.detector, notes=notes))
                continue
            label = f"{dataset}: {method} ({pm.detector}), {seeds} seeds on {n_used:,} rows"
            t0 = time.perf_counter()
            # Warnings (e.g. MinCovDet's rank-deficient covariance on cardio)
            # belong beside the number they qualify, not interleaved with progress.
            with step(label), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                runs = run_seeds(X, y, spec, pm.overrides, seed_list, max_rows)
            for message in dict.fromkeys(_warning_line(w) for w in caught):
                notes.append(f"warning: {message}")
            finished(
                _row(
                    dataset,
                    method,
                    published,
                    detector=pm.detector,
                    aucs=[r.roc_auc for r in runs],
                    fit_seconds=float(np.mean([r.fit_seconds for r in runs])),
                    seconds=time.perf_counter() - t0,
                    notes=notes,
                )
            )
    return _table(rows)


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(BENCHMARK_COLUMNS))
    table["within_0_03"] = table["within_0_03"].astype("boolean")
    return table
