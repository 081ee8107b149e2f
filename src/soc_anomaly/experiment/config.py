"""Settings of one detection run, checked once with one-line errors naming the flag."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from soc_anomaly import config as _config
from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_PLOTS_DIR,
    DEFAULT_PRECISION_K,
    DEFAULT_RANDOM_STATE,
    DEFAULT_TEST_SIZE,
    DEFAULT_THRESHOLD_PERCENTILE,
    DEFAULT_TOP_EXPLANATIONS,
)
from soc_anomaly.data.schema import LABEL_COL
from soc_anomaly.detectors import get_detector
from soc_anomaly.errors import ParameterError, check_positive_int, check_range, check_seed
from soc_anomaly.scenarios.enterprise import DEFAULT_WORLD_DAYS, DEFAULT_WORLD_USERS
from soc_anomaly.scenarios.enterprise.attacks import INTENSITIES

__all__ = [
    "DEFAULT_ALERTS_PER_DAY",
    "DEFAULT_IMPORTANCE_REPEATS",
    "DEFAULT_INCIDENTS_PER_DAY",
    "FEATURE_SETS",
    "SCENARIO_NAMES",
    "DetectConfig",
]

#: Values of ``--scenario``.
SCENARIO_NAMES: tuple[str, ...] = ("seed", "enterprise")
#: Values of ``--features`` on the enterprise world, and the feature sets each one runs.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "seed": ("seed",),
    "entity": ("entity",),
    "both": ("seed", "entity"),
}


def _check_choice(flag: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise ParameterError(f"unknown {flag} {value!r}; expected one of {', '.join(known)}")


# Defined in soc_anomaly.config (light, read by the command line's help); re-exported here.
DEFAULT_ALERTS_PER_DAY = _config.DEFAULT_ALERTS_PER_DAY
DEFAULT_IMPORTANCE_REPEATS = _config.DEFAULT_IMPORTANCE_REPEATS
DEFAULT_INCIDENTS_PER_DAY = _config.DEFAULT_INCIDENTS_PER_DAY


@dataclass
class DetectConfig:
    """Settings of one detection run.

    Attributes
    ----------
    data_path : pathlib.Path or None
        Events to evaluate (``.csv``, ``.parquet`` or ``.npz`` with ``X``/``y``);
        None generates the synthetic dataset (``n_users``, ``events_per_user``,
        ``anomaly_fraction``, ``random_state``) in memory.
    k : int
        ``k`` of precision@k.
    threshold_percentile : float
        Percentile, in (0, 100), of both percentile threshold rules.
    plots_dir : pathlib.Path
        Folder of the PNGs (created if missing).
    metrics_path : pathlib.Path or None
        Where ``metrics.json`` goes; ``plots_dir / "metrics.json"`` if None.
    anomaly_fraction : float
        Expected anomaly share, in (0, 0.5): the detectors' ``contamination``
        (and OneClassSVM's ``nu``), and the share of attacks when data is
        generated.
    random_state : int
        Seed of the generated data, the split and the detectors; seed ``i`` of
        a multi-seed run uses ``random_state + i``.
    test_size : float
        Share of normal events held out for testing.
    top_explanations : int
        Top alerts explained per detector.
    detectors : tuple of str
        Registered detector names to run.
    n_users, events_per_user : int
        Size of generated data.
    plots : bool
        Write the PNGs.
    seeds : int
        Repeat the run over this many seeds.
    label_col : str
        Column of 0/1 labels.
    feature_cols : tuple of str or None
        Feature columns; None takes the toolkit's event features when the
        table has them, else every numeric column but the label.
    beta : float
        Beta of the threshold lab's F-beta rule.
    alerts_per_day : float or None
        Budget of the threshold lab's alert-budget rule; None skips the rule.
    incidents_per_day : float
        On the enterprise world, incidents the analysts handle a day per 500
        staff: the capacity of the incident queue (the headline). > 0.
    events_per_day : float or None
        Events a day in the evaluated stream, for the budget rule; None
        measures it from the ``timestamp_col`` column when there is one.
    timestamp_col : str
        Column of event times the events-a-day rate is measured from:
        datetimes, or numbers read as epoch seconds or milliseconds.
    importance_repeats : int
        Shuffles per feature of the permutation importance (first seed only);
        0 skips it.
    save_run : pathlib.Path or None
        Also store the run (config, metrics, per-event scores) in this folder
        for ``soc-anomaly diff``.
    scenario : {"seed", "enterprise"}
        Which data the run is on: the seed's labelled sessions, or the
        enterprise world's raw events (generated, or ``data_path`` to a file
        written by ``soc-anomaly generate --scenario enterprise``), split by
        time (see :mod:`soc_anomaly.experiment.enterprise`).
    days : int
        Days of the generated enterprise world.
    intensity : str
        Campaign intensity of the generated enterprise world.
    features : {"seed", "entity", "both"}
        Enterprise world: the seed's per-row columns computed from raw events,
        the per-entity features, or both side by side.
    manifest_path : pathlib.Path or None
        Enterprise file: its campaign manifest; None looks for
        ``<stem>_campaigns.csv`` beside it.
    drop_features : tuple of str
        Enterprise world: features left out of every feature set, to measure
        what they add (detectors that read only them are skipped with a note).

    Notes
    -----
    ``n_users`` of None means the scenario's default (200 seed users, 500
    enterprise staff). On the enterprise world ``alerts_per_day`` is the
    budget per 500 staff accounts, scaled to the organisation's size.
    """

    data_path: Path | None = None
    k: int = DEFAULT_PRECISION_K
    threshold_percentile: float = DEFAULT_THRESHOLD_PERCENTILE
    plots_dir: Path = DEFAULT_PLOTS_DIR
    metrics_path: Path | None = None
    anomaly_fraction: float = DEFAULT_ANOMALY_FRACTION
    random_state: int = DEFAULT_RANDOM_STATE
    test_size: float = DEFAULT_TEST_SIZE
    top_explanations: int = DEFAULT_TOP_EXPLANATIONS
    detectors: tuple[str, ...] = ("iforest", "ocsvm")
    n_users: int | None = None
    events_per_user: int = DEFAULT_EVENTS_PER_USER
    plots: bool = True
    seeds: int = 1
    label_col: str = LABEL_COL
    feature_cols: tuple[str, ...] | None = None
    beta: float = 1.0
    alerts_per_day: float | None = DEFAULT_ALERTS_PER_DAY
    events_per_day: float | None = None
    incidents_per_day: float = DEFAULT_INCIDENTS_PER_DAY
    timestamp_col: str = "timestamp"
    importance_repeats: int = DEFAULT_IMPORTANCE_REPEATS
    save_run: Path | None = None
    scenario: str = "seed"
    days: int = DEFAULT_WORLD_DAYS
    intensity: str = "mixed"
    features: str = "entity"
    manifest_path: Path | None = None
    drop_features: tuple[str, ...] = ()

    @property
    def resolved_n_users(self) -> int:
        """Users of generated data: ``n_users``, or the scenario's default."""
        if self.n_users is not None:
            return self.n_users
        return DEFAULT_WORLD_USERS if self.scenario == "enterprise" else DEFAULT_N_USERS

    @property
    def enterprise(self) -> bool:
        """Whether the run is on the enterprise world."""
        return self.scenario == "enterprise"

    def validate(self) -> None:
        """Check every setting; raise one-line errors naming the flag."""
        check_positive_int("--k", self.k)
        check_range("--threshold-percentile", self.threshold_percentile, 0.0, 100.0)
        check_range("--anomaly-fraction", self.anomaly_fraction, 0.0, 0.5)
        check_range("test size", self.test_size, 0.0, 1.0)
        check_positive_int("--top", self.top_explanations)
        check_positive_int("--n-users", self.resolved_n_users)
        _check_choice("--scenario", self.scenario, SCENARIO_NAMES)
        _check_choice("--features", self.features, tuple(FEATURE_SETS))
        _check_choice("--intensity", self.intensity, ("mixed", *INTENSITIES))
        check_positive_int("--days", self.days)
        if self.enterprise and self.feature_cols is not None:
            raise ParameterError(
                "--feature-cols does not apply to --scenario enterprise; expected --features "
                "seed, entity or both"
            )
        if self.enterprise and self.data_path is not None and self.n_users is not None:
            raise ParameterError(
                "--n-users applies to a generated world, not to --data-path; expected one or "
                "the other"
            )
        if not self.enterprise:
            for flag, value, default in (
                ("--days", self.days, DEFAULT_WORLD_DAYS),
                ("--intensity", self.intensity, "mixed"),
                ("--features", self.features, "entity"),
                ("--manifest-path", self.manifest_path, None),
            ):
                if value != default:
                    raise ParameterError(
                        f"{flag} applies to --scenario enterprise only; expected it with "
                        "--scenario enterprise or not at all"
                    )
        self._check_drop_features()
        check_positive_int("--events-per-user", self.events_per_user)
        check_positive_int("--seeds", self.seeds)
        check_seed("--random-state", self.random_state)
        if not self.detectors:
            raise ParameterError("no detectors selected; expected at least one")
        for name in self.detectors:
            get_detector(name)
        if self.feature_cols is not None and not self.feature_cols:
            raise ParameterError("--feature-cols is empty; expected column names")
        check_range("--beta", self.beta, 0.0, math.inf)
        if isinstance(self.importance_repeats, bool) or self.importance_repeats < 0:
            raise ParameterError(
                f"--importance-repeats must be an integer >= 0, got {self.importance_repeats!r}"
            )
        if self.alerts_per_day is not None:
            check_range("--alerts-per-day", self.alerts_per_day, 0.0, math.inf)
        if self.events_per_day is not None:
            check_range("--events-per-day", self.events_per_day, 0.0, math.inf)
        check_range("--incidents-per-day", self.incidents_per_day, 0.0, math.inf)

    def _check_drop_features(self) -> None:
        if not self.drop_features:
            return
        if not self.enterprise:
            raise ParameterError(
                "--drop-features applies to --scenario enterprise; expected --feature-cols "
                "for a table"
            )
        from soc_anomaly.features.catalog import FEATURES
        from soc_anomaly.features.lstm_features import LSTM_FEATURES
        from soc_anomaly.features.seed_columns import SEED_COLUMNS

        known = [*FEATURES, *LSTM_FEATURES, *SEED_COLUMNS]
        unknown = [c for c in self.drop_features if c not in known]
        if unknown:
            raise ParameterError(
                f"--drop-features: unknown feature(s) {', '.join(unknown)}; expected names "
                f"of the entity or seed features ({', '.join(known)})"
            )

    @property
    def resolved_metrics_path(self) -> Path:
        """Where ``metrics.json`` is written."""
        return Path(self.metrics_path or Path(self.plots_dir) / "metrics.json")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        d = asdict(self)
        for key in ("data_path", "plots_dir", "metrics_path", "save_run", "manifest_path"):
            d[key] = None if d[key] is None else str(d[key])
        d["n_users"] = self.resolved_n_users
        d["detectors"] = list(self.detectors)
        d["feature_cols"] = None if self.feature_cols is None else list(self.feature_cols)
        d["drop_features"] = list(self.drop_features)
        return d
