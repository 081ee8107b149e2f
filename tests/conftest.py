"""Shared fixtures: small and default datasets, and one end-to-end run per kind of world.

The suite runs each full-size world end to end once per session and every test that
only reads such a run shares it: ``default_run`` (the seed scenario as ``detect``
runs it by default) and ``world_run`` (the enterprise world at its full size). A test
that needs another configuration builds the smallest run that shows its behaviour.
With pytest-xdist the runs are still built once: see :func:`once_per_session`.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import matplotlib
import pandas as pd
import pytest
from filelock import FileLock

from soc_anomaly.cli import main
from soc_anomaly.data.io import write_table
from soc_anomaly.detectors.names import DETECTOR_NAMES
from soc_anomaly.experiment import DetectConfig, DetectionResult, run_detection
from soc_anomaly.scenarios import generate_synthetic_soc_dataset, generate_world

# No test may open a window.
matplotlib.use("Agg")

T = TypeVar("T")


def once_per_session(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[], T]
) -> T:
    """``build()``, run once per test session however many pytest-xdist workers ask.

    The suite runs on every core (``-n auto``); a session fixture is built once in each
    worker that uses it. The first worker to ask for ``name`` builds it under a file
    lock and leaves it pickled in the session's shared temporary folder; the others
    wait for the lock and read it, so each end-to-end run costs the session once.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return build()
    shared = tmp_path_factory.getbasetemp().parent / f"{name}.pickle"
    with FileLock(f"{shared}.lock"):
        if shared.is_file():
            return pickle.loads(shared.read_bytes())
        value = build()
        shared.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return value


@pytest.fixture(scope="session")
def small_df() -> pd.DataFrame:
    """1,500 events (30 users x 50), 2% attacks: fast but has every attack type."""
    return generate_synthetic_soc_dataset(
        n_users=30, events_per_user=50, anomaly_fraction=0.02, random_state=3
    )


@pytest.fixture(scope="session")
def default_df() -> pd.DataFrame:
    return generate_synthetic_soc_dataset()


@pytest.fixture()
def small_csv(tmp_path: Path, small_df: pd.DataFrame) -> Path:
    return write_table(small_df, tmp_path / "small.csv")


@dataclass(frozen=True)
class CliRun:
    """One in-process ``soc-anomaly`` command: its exit code, output and run."""

    returncode: int
    stdout: str
    stderr: str
    result: DetectionResult
    plots: Path


@pytest.fixture(scope="session")
def default_cli(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """``soc-anomaly detect --plots-dir DIR`` as a user runs it, in process.

    The default configuration end to end, figures and importance included. Its
    output is piped with no ``COLUMNS``, so the report takes 80 columns as in a log;
    the run itself is caught on its way out of the pipeline.
    """
    return once_per_session(tmp_path_factory, "default_cli", lambda: _detect_cli(tmp_path_factory))


def _detect_cli(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    import soc_anomaly.experiment.pipeline as pipeline

    plots = tmp_path_factory.mktemp("default_run") / "plots"
    caught: list[DetectionResult] = []
    real = pipeline.run_detection

    def keep(*args: object, **kwargs: object) -> DetectionResult:
        caught.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return caught[-1]

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        # The command imports run_detection when it runs: catch it there.
        mp.setattr(pipeline, "run_detection", keep)
        mp.delenv("COLUMNS", raising=False)
        mp.delenv("LINES", raising=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["detect", "--plots-dir", str(plots)])
    assert code == 0 and len(caught) == 1, err.getvalue()
    return CliRun(code, out.getvalue(), err.getvalue(), caught[0], plots)


@pytest.fixture(scope="session")
def default_run(default_cli: CliRun) -> DetectionResult:
    """The default configuration, end to end, plots included (the run of ``default_cli``)."""
    return default_cli.result


@pytest.fixture(scope="session")
def all_detectors_run(tmp_path_factory: pytest.TempPathFactory) -> DetectionResult:
    """Every registered detector on a small seed table (40 users x 50 events, 1% attacks),
    permutation importance with one shuffle; no figures.

    Read by the figure tests (one style per detector) and the terminal report (wide
    tables in 80 columns).
    """
    config = DetectConfig(
        detectors=tuple(DETECTOR_NAMES),
        n_users=40,
        events_per_user=50,
        importance_repeats=1,
        k=10,
        plots=False,
        plots_dir=tmp_path_factory.mktemp("all_detectors"),
    )
    return once_per_session(tmp_path_factory, "all_detectors_run", lambda: run_detection(config))


#: The enterprise detectors that fit in seconds on a quarter of a million events (the
#: exact OneClassSVM is swapped for its subsampled form at this size).
WORLD_DETECTORS = ("iforest", "ocsvm", "kmeans", "mahalanobis")


@pytest.fixture(scope="session")
def world_run(tmp_path_factory: pytest.TempPathFactory) -> DetectionResult:
    """The enterprise world at full size (500 staff, 30 days, mixed campaigns, seed 42)
    on both feature sets with :data:`WORLD_DETECTORS`; no figures, no importance.

    Read by the world's statistical floors, the terminal and HTML reports.
    """
    out = tmp_path_factory.mktemp("world_run")
    config = DetectConfig(
        scenario="enterprise",
        features="both",
        detectors=WORLD_DETECTORS,
        plots=False,
        importance_repeats=0,
        plots_dir=out / "plots",
        metrics_path=out / "metrics.json",
    )
    return once_per_session(tmp_path_factory, "world_run", lambda: run_detection(config))


@dataclass(frozen=True)
class ScoringWorld:
    """A small enterprise world, the events after its training window, and a saved bundle."""

    world: object
    later: pd.DataFrame
    model_dir: Path


@pytest.fixture(scope="session")
def scoring_world(tmp_path_factory: pytest.TempPathFactory) -> ScoringWorld:
    """60 staff over 8 days and an entity IsolationForest trained before the attacks.

    Shared by the tests of what ``score`` reads and writes (input formats, history,
    warnings, empty input), so the world is generated and the model trained once.
    """
    return once_per_session(
        tmp_path_factory, "scoring_world", lambda: _scoring_world(tmp_path_factory)
    )


def _scoring_world(tmp_path_factory: pytest.TempPathFactory) -> ScoringWorld:
    from soc_anomaly.model import AnomalyModel

    world = generate_world(n_users=60, days=8, campaigns=4, random_state=11)
    events = world.events
    train = events[events["time"] < world.attack_start]
    out = tmp_path_factory.mktemp("scoring_bundle") / "entity"
    AnomalyModel(detector="iforest", features="entity").fit(train, users=world.users).save(out)
    later = events[events["time"] >= world.attack_start].reset_index(drop=True)
    return ScoringWorld(world, later, out)
