"""Shared fixtures: small and default datasets, and one default detection run."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from soc_anomaly.data.io import write_table
from soc_anomaly.experiment import DetectConfig, DetectionResult, run_detection
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

# No test may open a window.
matplotlib.use("Agg")


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


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> DetectionResult:
    """The default configuration, end to end, plots included."""
    out = tmp_path_factory.mktemp("default_run")
    return run_detection(DetectConfig(plots_dir=out / "plots"))
