"""Defaults shared by the generator, the detectors, the CLI and the notebook API.

The ``DEFAULT_*`` constants are the documented defaults of the toolkit; the
command line, the scripts and the notebook all read them from here so that a
change of default happens in one place. This module imports nothing heavy: the
command line builds its ``--help`` from these values without loading numpy,
pandas or scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

#: Number of synthetic users in the default dataset.
DEFAULT_N_USERS: int = 200
#: Events generated per user (before attacks replace some of them).
DEFAULT_EVENTS_PER_USER: int = 200
#: Fraction of all events that are injected attacks; also the models'
#: ``contamination`` (IsolationForest) and ``nu`` (OneClassSVM).
DEFAULT_ANOMALY_FRACTION: float = 0.01
#: The one seed every random draw derives from.
DEFAULT_RANDOM_STATE: int = 42

#: Share of the normal events held out for testing.
DEFAULT_TEST_SIZE: float = 0.2
#: ``k`` of precision@k.
DEFAULT_PRECISION_K: int = 50
#: Percentile of the scores used as the alert threshold.
DEFAULT_THRESHOLD_PERCENTILE: float = 99.0
#: Number of top-scoring events explained per model.
DEFAULT_TOP_EXPLANATIONS: int = 10

#: Where ``soc-anomaly generate`` writes by default.
DEFAULT_DATA_PATH: Path = Path("data") / "soc_synthetic.csv"
#: Where ``soc-anomaly detect`` writes its plots and ``metrics.json`` by default.
DEFAULT_PLOTS_DIR: Path = Path("plots")

#: IsolationForest size, as in the seed configuration.
IFOREST_N_ESTIMATORS: int = 200

#: Staff accounts of the default enterprise world.
DEFAULT_WORLD_USERS: int = 500
#: Days of the default enterprise world.
DEFAULT_WORLD_DAYS: int = 30

#: Ground-truth column of labelled tables: 1 for an attack, 0 for a normal event.
LABEL_COL: str = "label"

#: Default alert budget of the threshold lab (alerts a day).
DEFAULT_ALERTS_PER_DAY: float = 10.0
#: Default capacity of the incident queue (incidents a day per 500 staff).
DEFAULT_INCIDENTS_PER_DAY: float = 10.0
#: Default shuffles per feature of the permutation importance.
DEFAULT_IMPORTANCE_REPEATS: int = 3

#: What a saved model's ``features`` can be: the per-entity features or the seed's
#: columns of raw enterprise events, or the numeric columns of any table.
FEATURE_KINDS: tuple[str, ...] = ("entity", "seed", "table")
