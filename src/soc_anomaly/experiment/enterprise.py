"""The enterprise world's side of a detection run: its events, the time cut, its features.

A run on the world (``--scenario enterprise``, or ``--data-path`` to a file of
the world's raw events) differs from the seed's in three ways:

* **Split by time.** The period's first ``days // 2`` whole days (UTC, from the
  midnight before the first event) are the training window: the feature
  baselines are learned from its normal events and the detectors are fitted on
  them. Every event after the cut is evaluated. The generated world starts no
  campaign before that cut, so the training window is clean.
* **Features from raw events.** ``--features seed`` computes the seed's per-row
  columns (:class:`~soc_anomaly.features.seed_columns.SeedColumns`),
  ``entity`` the per-entity features (:class:`~soc_anomaly.features.EntityFeatures`),
  ``both`` runs every detector on each, side by side. Detectors read the
  features through :func:`~soc_anomaly.data.split.signed_log1p` and a scaler
  fitted on the training window.
* **Campaigns.** The ground-truth manifest (generated alongside, or read from
  ``<events>_campaigns.csv`` beside the file, or ``--manifest-path``) gives each
  campaign's scenario, intensity and start for the campaign-level evaluation,
  whose headline is a daily alert queue of the analysts' budget, 10 alerts a
  day per 500 staff by default (:mod:`soc_anomaly.evaluation.alert_queue`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from soc_anomaly.data.io import read_table
from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.experiment.config import FEATURE_SETS
from soc_anomaly.features.columns import epoch_ms
from soc_anomaly.features.seed_columns import SEED_REQUIRED_COLUMNS, SeedColumns
from soc_anomaly.scenarios import generate_world

__all__ = [
    "WorldData",
    "WorldTable",
    "build_world_table",
    "load_world",
    "training_cut",
]

_DAY_MS = 86_400_000
#: Ground-truth columns a labelled world file must have besides the raw fields.
_TRUTH_COLUMNS = ("label", "attack_type")


@dataclass(frozen=True)
class WorldData:
    """The world's raw events and what is known about them.

    Attributes
    ----------
    events : pandas.DataFrame
        Raw events in time order, ``time`` as UTC datetimes.
    campaigns : pandas.DataFrame or None
        The ground-truth manifest, when known.
    users : pandas.DataFrame or None
        The staff table (department for peer baselines), when generated.
    source : str
        The file, or how the world was generated.
    n_staff : int
        Staff accounts: the generated world's users, or the accounts with a
        successful logon in a file's training window.
    """

    events: pd.DataFrame
    campaigns: pd.DataFrame | None
    users: pd.DataFrame | None
    source: str
    n_staff: int


@dataclass(frozen=True)
class WorldTable:
    """Every event's features, ground truth and the cut between training and evaluation.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per event, indexed like the raw events: the columns of every
        feature set, then ``label``, ``attack_type``, ``campaign_id``,
        ``benign_tag`` and ``time``.
    feature_sets : dict of str to list of str
        Feature columns of each set, by set name (``"seed"``, ``"entity"``).
    train_mask : numpy.ndarray of bool
        Events of the training window.
    cut : pandas.Timestamp
        First moment of the evaluated period.
    evaluated_days : float
        Length of the evaluated period in days.
    transformers : dict of str to object
        The fitted transformer of each feature set.
    detector_inputs : dict of str to (list of str, object)
        For a detector whose input is more than a feature set (``lstm``: the
        entity features and the next-action LSTM's columns), its columns in
        the table and the featuriser that computes them.
    """

    table: pd.DataFrame
    feature_sets: dict[str, list[str]]
    train_mask: np.ndarray
    cut: pd.Timestamp
    evaluated_days: float
    transformers: dict[str, Any]
    detector_inputs: dict[str, tuple[list[str], Any]] = field(default_factory=dict)


def _manifest_beside(path: Path) -> Path:
    return path.with_name(f"{path.stem}_campaigns.csv")


def _read_manifest(path: Path) -> pd.DataFrame:
    manifest = read_table(path)
    need = ("campaign_id", "scenario", "intensity", "start")
    missing = [c for c in need if c not in manifest.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)}; expected a campaign manifest with "
            f"{', '.join(need)}"
        )
    manifest = manifest.copy()
    manifest["campaign_id"] = manifest["campaign_id"].astype(str)
    for col in ("start", "end"):
        if col in manifest.columns:
            manifest[col] = pd.to_datetime(manifest[col], utc=True, errors="coerce")
    if manifest["start"].isna().any():
        raise DataError(f"{path} has campaign(s) without a valid start time; expected ISO times")
    return manifest


def _required(features: str) -> list[str]:
    """Raw columns the feature sets of ``features`` read, then the ground truth."""
    need: list[str] = []
    if "seed" in FEATURE_SETS[features]:
        need += SEED_REQUIRED_COLUMNS
    if "entity" in FEATURE_SETS[features]:
        from soc_anomaly.features import REQUIRED_COLUMNS

        need += REQUIRED_COLUMNS
    return list(dict.fromkeys([*need, *_TRUTH_COLUMNS]))


def _normalise(events: pd.DataFrame, source: str, features: str) -> pd.DataFrame:
    missing = [c for c in _required(features) if c not in events.columns]
    if missing:
        raise DataError(
            f"{source} lacks column(s) {', '.join(missing)} that --features {features} needs; "
            "expected the enterprise world's raw events (soc-anomaly generate --scenario "
            "enterprise writes them)"
        )
    events = events.copy()
    times = events["time"]
    try:
        # A CSV file holds times as ISO 8601 text; Parquet keeps datetimes.
        if not (is_numeric_dtype(times) or is_datetime64_any_dtype(times)):
            times = pd.to_datetime(times, utc=True)
        ms = epoch_ms(times)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: column 'time' is not a timestamp ({exc})") from None
    events["time"] = pd.to_datetime(ms, unit="ms", utc=True)
    for col in ("campaign_id", "benign_tag"):
        if col not in events.columns:
            events[col] = None if col == "campaign_id" else "none"
    order = np.argsort(ms, kind="stable")
    if np.any(order != np.arange(len(order))):
        events = events.iloc[order]
    if not events.index.is_unique:
        events = events.reset_index(drop=True)
    return events


def load_world(
    *,
    data_path: Path | None,
    manifest_path: Path | None,
    n_users: int,
    days: int,
    intensity: str,
    seed: int,
    features: str,
) -> WorldData:
    """Generate the world in memory, or read a file of its raw events.

    Parameters
    ----------
    data_path : pathlib.Path or None
        A CSV or Parquet file written by ``soc-anomaly generate --scenario
        enterprise``; None generates the world.
    manifest_path : pathlib.Path or None
        The file's campaign manifest; None looks for ``<stem>_campaigns.csv``
        beside it and goes without one if there is none.
    n_users, days, intensity, seed
        The generated world's settings.
    features : {"seed", "entity", "both"}
        The feature sets to be computed: a file must have the raw columns they read.

    Returns
    -------
    WorldData

    Raises
    ------
    soc_anomaly.errors.DataError
        If the file lacks the raw columns the features need (named in the
        message) or its manifest is unusable.
    """
    if data_path is None:
        world = generate_world(n_users=n_users, days=days, intensity=intensity, random_state=seed)
        source = (
            f"enterprise world generated in memory (n_users={n_users}, days={days}, "
            f"intensity={intensity}, random_state={seed})"
        )
        return WorldData(
            _normalise(world.events, source, features),
            world.campaigns,
            world.users,
            source,
            n_users,
        )
    data_path = Path(data_path)
    events = _normalise(read_table(data_path), str(data_path), features)
    if manifest_path is None and _manifest_beside(data_path).is_file():
        manifest_path = _manifest_beside(data_path)
    manifest = _read_manifest(Path(manifest_path)) if manifest_path is not None else None
    return WorldData(events, manifest, None, str(data_path), 0)


def training_cut(times: pd.Series) -> pd.Timestamp:
    """The first moment of the evaluated period: ``days // 2`` whole days after the start.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the events span less than two days, too short to split by time.
    """
    start = times.min().floor("D")
    days = int(np.ceil((times.max() - start) / pd.Timedelta(days=1)))
    if days < 2:
        raise DataError(
            f"the events span {days} day(s); expected at least 2 days to split by time "
            "(the first half trains, the second is evaluated)"
        )
    return start + pd.Timedelta(days=days // 2)


def _staff(events: pd.DataFrame, train: np.ndarray) -> int:
    """Accounts with a successful logon in the training window."""
    ok = train & (events["class_uid"].to_numpy() == 3002)
    ok &= events["status"].astype(str).to_numpy() == "Success"
    return int(events.loc[ok, "user"].astype(str).nunique())


def build_world_table(
    world: WorldData,
    features: str,
    lstm_seed: int | None = None,
    drop: tuple[str, ...] = (),
) -> tuple[WorldTable, int]:
    """Fit each feature set on the training window's normal events and featurise every event.

    Parameters
    ----------
    world : WorldData
        The events.
    features : {"seed", "entity", "both"}
        Which feature sets to compute.
    lstm_seed : int, optional
        With the entity features, also train the ``lstm`` detector's
        next-action LSTM with this seed (a copy of the entity featuriser,
        :func:`~soc_anomaly.features.lstm_features.with_lstm`), and add its columns.
    drop : tuple of str
        Features left out of the feature sets (and the detector inputs); the
        table keeps them.

    Returns
    -------
    WorldTable
        The features of every event and the time cut.
    int
        Staff accounts, for the per-500-users alert budget.
    """
    events = world.events
    cut = training_cut(events["time"])
    train = (events["time"] < cut).to_numpy()
    fit_rows = events.loc[train & (events["label"].to_numpy() == 0)]
    parts: list[pd.DataFrame] = []
    sets: dict[str, list[str]] = {}
    transformers: dict[str, Any] = {}
    inputs: dict[str, tuple[list[str], Any]] = {}
    for name in FEATURE_SETS[features]:
        if name == "seed":
            transformer: Any = SeedColumns().fit(fit_rows)
        else:
            from soc_anomaly.features import EntityFeatures

            transformer = EntityFeatures().fit(fit_rows, users=world.users)
        frame = transformer.transform(events)
        clash = set(frame.columns) & {c for p in parts for c in p.columns}
        if clash:
            frame = frame.add_prefix(f"{name}_")
        parts.append(frame)
        out = [str(c) for c in transformer.get_feature_names_out()]
        sets[name] = [c for c, n in zip(frame.columns, out, strict=True) if n not in drop]
        if not sets[name]:
            raise ParameterError(f"--drop-features leaves no {name} feature; expected fewer")
        transformers[name] = transformer
        if name == "entity" and lstm_seed is not None:
            inputs["lstm"], extra = _lstm_input(transformer, fit_rows, events, lstm_seed, frame)
            cols, featurizer = inputs["lstm"]
            names = [*out, *cols[len(out) :]]  # the table's columns, as the featuriser names them
            kept = [c for c, n in zip(cols, names, strict=True) if n not in drop]
            inputs["lstm"] = (kept, featurizer)
            parts.append(extra)
    truth = pd.DataFrame(
        {
            "label": events["label"].to_numpy(dtype=np.int64),
            "attack_type": events["attack_type"].astype(str).to_numpy(),
            "campaign_id": events["campaign_id"].astype(object).to_numpy(),
            "benign_tag": events["benign_tag"].astype(str).to_numpy(),
            "time": events["time"].to_numpy(),
        },
        index=events.index,
    )
    table = pd.concat([*parts, truth], axis=1)
    span = (events["time"].max() - cut) / pd.Timedelta(days=1)
    n_staff = world.n_staff or _staff(events, train)
    world_table = WorldTable(table, sets, train, cut, max(float(span), 1e-9), transformers, inputs)
    return world_table, n_staff


def _lstm_input(
    entity: Any, fit_rows: pd.DataFrame, events: pd.DataFrame, seed: int, frame: pd.DataFrame
) -> tuple[tuple[list[str], Any], pd.DataFrame]:
    """The lstm detector's input: (its columns, its featuriser), and the LSTM's columns."""
    from soc_anomaly.features.columns import read_events
    from soc_anomaly.features.lstm_features import LSTM_FEATURES, lstm_frame, with_lstm

    featurizer = with_lstm(entity, fit_rows, random_state=seed)
    extra = lstm_frame(featurizer, read_events(events), events.index)
    return ([*frame.columns, *LSTM_FEATURES], featurizer), extra
