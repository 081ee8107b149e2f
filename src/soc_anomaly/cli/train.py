"""``soc-anomaly train``: fit one model on normal events and save it as a safe bundle.

Only light modules are imported at the top (the help is built from them); the
model, the data readers and the world generator, which load numpy, pandas and
scikit-learn, are imported when the command runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soc_anomaly.cli._console import err, out, step
from soc_anomaly.cli._options import split_feature_cols
from soc_anomaly.config import (
    DEFAULT_INCIDENTS_PER_DAY,
    DEFAULT_RANDOM_STATE,
    DEFAULT_THRESHOLD_PERCENTILE,
    DEFAULT_WORLD_DAYS,
    DEFAULT_WORLD_USERS,
    FEATURE_KINDS,
    LABEL_COL,
)
from soc_anomaly.detectors.names import LSTM_DETECTORS, detector_choices, resolve_detector_name
from soc_anomaly.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from soc_anomaly.model import AnomalyModel

DEFAULT_MODEL_DIR = Path("models") / "model"


def _one_detector(text: str) -> str:
    """The short name of ``--detector``; train fits one, so lists and 'all' are refused."""
    if text.strip().casefold() == "all" or "," in text:
        raise ParameterError(
            f"--detector {text!r}: train fits one detector; expected one of "
            f"{detector_choices()} (detect --detectors all compares them)"
        )
    name = resolve_detector_name(text, what="detector")
    if name in LSTM_DETECTORS:
        from soc_anomaly.sequences.torch_check import require_torch

        require_torch()  # before reading any events
    return name


def _check_budget(value: float) -> None:
    """One line for a budget that is not a positive, finite number (before any work)."""
    if not value > 0 or not math.isfinite(value):
        raise ParameterError(
            f"--incidents-per-day must be a positive, finite number of incidents a day per 500 "
            f"staff, got {value!r}"
        )


def _normal_rows(events: pd.DataFrame, label_col: str) -> int:
    """Rows the model trains on: labelled attacks are dropped, as ``AnomalyModel.fit`` does."""
    if label_col not in events.columns:
        return len(events)
    return int((events[label_col].to_numpy() == 0).sum())


def train(
    data_path: Annotated[
        Path | None,
        typer.Option(
            "--data-path",
            help="Events to train on (.csv, .csv.gz, .csv.zst or .parquet): raw enterprise "
            "events for entity or seed features, any table for table features. Labelled "
            "attacks are dropped. Default: generate the enterprise world and train on its "
            "first half.",
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option("--features", help=f"Features: {', '.join(FEATURE_KINDS)}."),
    ] = "entity",
    feature_cols: Annotated[
        str | None,
        typer.Option(
            "--feature-cols",
            help="With --features table: comma-separated feature columns. Default: every "
            "numeric column but the label.",
        ),
    ] = None,
    detector: Annotated[
        str,
        typer.Option(
            "--detector",
            help=f"Detector: one of {detector_choices()}. Above 100,000 training rows, "
            "ocsvm fits as ocsvm_approx (as in detect).",
        ),
    ] = "iforest",
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="Folder of the bundle (created if missing).")
    ] = DEFAULT_MODEL_DIR,
    n_users: Annotated[
        int, typer.Option("--n-users", help="Staff of the generated world.")
    ] = DEFAULT_WORLD_USERS,
    days: Annotated[int, typer.Option("--days", help="Days of the generated world.")] = (
        DEFAULT_WORLD_DAYS
    ),
    campaigns: Annotated[
        int | None,
        typer.Option(
            "--campaigns",
            help="Attack campaigns of the generated world (default three per scenario); "
            "fewer fit a small world.",
        ),
    ] = None,
    threshold_percentile: Annotated[
        float,
        typer.Option(
            "--threshold-percentile",
            help="Alert above this percentile of the normal training scores, in (0, 100).",
        ),
    ] = DEFAULT_THRESHOLD_PERCENTILE,
    label_col: Annotated[
        str, typer.Option("--label-col", help="Column of 0/1 labels, when there is one.")
    ] = LABEL_COL,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed of the generated world and the detector.")
    ] = DEFAULT_RANDOM_STATE,
    signing_key_file: Annotated[
        Path | None,
        typer.Option(
            "--signing-key-file",
            help="Sign the manifest (HMAC-SHA256, into manifest.sig) with the key in this "
            "file, at least 32 bytes. Default: the key in $SOC_ANOMALY_SIGNING_KEY, if set.",
        ),
    ] = None,
    incidents_per_day: Annotated[
        float,
        typer.Option(
            "--incidents-per-day",
            help="The incident queue's budget: incidents raised a day per 500 staff (scaled "
            "to the staff of the training events). Entity and seed features only.",
        ),
    ] = DEFAULT_INCIDENTS_PER_DAY,
) -> None:
    """Fit a model on normal events and save it, with its manifest, as a safe bundle."""
    # Flags are checked before the heavy imports: a typo fails at once.
    name = _one_detector(detector)
    _check_budget(incidents_per_day)
    columns = split_feature_cols(feature_cols)
    if columns is not None and features != "table":
        raise ParameterError(
            f"--feature-cols applies to --features table only; {features} features are "
            "computed from the raw event columns"
        )
    from soc_anomaly.detectors.registry import detector_for_rows
    from soc_anomaly.model import AnomalyModel
    from soc_anomaly.model.signing import resolve_key

    # Before the fit: a bad key must not cost a training run.
    signing_key = resolve_key(signing_key_file)
    model = AnomalyModel(
        detector=name,
        features=features,
        feature_cols=None if columns is None else list(columns),
        threshold_percentile=threshold_percentile,
        random_state=random_state,
        label_col=label_col,
    )
    model.check_params()
    users = None
    if data_path is None:
        if features == "table":
            raise ParameterError(
                "--features table needs --data-path; expected a table to train on, or "
                "entity or seed features of the generated world"
            )
        from soc_anomaly.experiment.enterprise import training_cut
        from soc_anomaly.scenarios import generate_world

        with step(f"Generating the enterprise world ({n_users} users, {days} days)"):
            world = generate_world(
                n_users=n_users, days=days, campaigns=campaigns, random_state=random_state
            )
        events = world.events
        events = events[events["time"] < training_cut(events["time"])]
        users = world.users
        source = f"the first half of a generated world ({n_users:,} users, {days} days)"
    else:
        if campaigns is not None:
            raise ParameterError(
                "--campaigns shapes the generated world; it does not apply to --data-path"
            )
        from soc_anomaly.data.io import read_table

        with step(f"Reading {data_path}"):
            events = read_table(data_path)
        if columns is not None:
            from soc_anomaly.data.validation import validate_dataset

            # detect's checks, with detect's messages: present, numeric, finite, not the label.
            events = validate_dataset(
                events,
                columns,
                label_col if label_col in events.columns else None,
                source=str(data_path),
            )
        source = str(data_path)
    # The same swap as detect's, decided in one place, so one name fits the same estimator.
    n_train = _normal_rows(events, label_col)
    model.detector, note = detector_for_rows(model.detector, n_train)
    if note is not None:
        err.print(f"note: {note}")
    with step(f"Fitting {model.detector} on {features} features of {n_train:,} normal events"):
        model.fit(events, users=users, incidents_per_day=incidents_per_day)
    with step(f"Saving the bundle to {model_dir}"):
        model.save(model_dir, signing_key)
    _print_summary(model, source, model_dir, signed=signing_key is not None)


def _print_summary(model: AnomalyModel, source: str, model_dir: Path, *, signed: bool) -> None:
    """What was trained, on what, and how to score with it: lines under 100 columns."""
    window = model.training_
    out.print(
        f"Trained {model.detector} on {model.features} features "
        f"({len(model.feature_names_)}) of {window['rows']:,} normal events"
    )
    # Paths and window ends stay whole on their own lines so they can be copied.
    out.print(f"  from: {source}")
    if window.get("start"):
        out.print(f"  window: {window['start']} to {window['end']}")
    out.print(f"  alert threshold: p{model.threshold_percentile:g} of the normal training scores")
    linker = getattr(model, "linker_", None)
    if linker is not None:
        out.print(
            f"  incident queue: {linker.per_day():,} a day ({linker.incidents_per_day:g} per 500 "
            f"staff, {linker.n_staff_:,} staff)"
        )
    files = "model.skops, manifest.json, manifest.sig" if signed else "model.skops, manifest.json"
    out.print(f"Saved the model to {model_dir} ({files})")
    err.print(
        f"score with: soc-anomaly score --model-dir {model_dir} --input EVENTS", soft_wrap=True
    )
    err.print(f"in Python:  AnomalyModel.load({str(model_dir)!r}).score(events)", soft_wrap=True)
