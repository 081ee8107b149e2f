"""``soc-anomaly train``: fit one model on normal events and save it as a safe bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc_anomaly.cli._console import err, out, step
from soc_anomaly.config import DEFAULT_RANDOM_STATE, DEFAULT_THRESHOLD_PERCENTILE
from soc_anomaly.data.io import read_table
from soc_anomaly.data.schema import LABEL_COL
from soc_anomaly.detectors import DETECTORS
from soc_anomaly.errors import ParameterError
from soc_anomaly.experiment.enterprise import training_cut
from soc_anomaly.model import FEATURE_KINDS, AnomalyModel
from soc_anomaly.scenarios import generate_world
from soc_anomaly.scenarios.enterprise import DEFAULT_WORLD_DAYS, DEFAULT_WORLD_USERS

DEFAULT_MODEL_DIR = Path("models") / "model"


def train(
    data_path: Annotated[
        Path | None,
        typer.Option(
            "--data-path",
            help="Events to train on (.csv or .parquet): raw enterprise events for entity or "
            "seed features, any table for table features. Labelled attacks are dropped. "
            "Default: generate the enterprise world and train on its first half.",
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option("--features", help=f"Features: {', '.join(FEATURE_KINDS)}."),
    ] = "entity",
    detector: Annotated[
        str, typer.Option("--detector", help=f"Detector: {', '.join(DETECTORS)}.")
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
) -> None:
    """Fit a model on normal events and save it, with its manifest, as a safe bundle."""
    model = AnomalyModel(
        detector=detector,
        features=features,
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
        with step(f"Generating the enterprise world ({n_users} users, {days} days)"):
            world = generate_world(
                n_users=n_users, days=days, campaigns=campaigns, random_state=random_state
            )
        events = world.events
        events = events[events["time"] < training_cut(events["time"])]
        users = world.users
        source = f"the first half of a generated world (n_users={n_users}, days={days})"
    else:
        if campaigns is not None:
            raise ParameterError(
                "--campaigns shapes the generated world; it does not apply to --data-path"
            )
        with step(f"Reading {data_path}"):
            events = read_table(data_path)
        source = str(data_path)
    with step(f"Fitting {detector} on {features} features of {len(events):,} events"):
        model.fit(events, users=users)
    with step(f"Saving the bundle to {model_dir}"):
        model.save(model_dir)
    window = model.training_
    span = f", {window['start']} to {window['end']}" if window.get("start") else ""
    out.print(
        f"Trained {detector} on {features} features ({len(model.feature_names_)}) of "
        f"{window['rows']:,} normal events from {source}{span}; alert threshold "
        f"p{threshold_percentile:g} of normal scores"
    )
    out.print(f"Saved the model to {model_dir} (model.skops, manifest.json)")
    err.print(
        f"score with: soc-anomaly score --model-dir {model_dir} --input EVENTS "
        "(or AnomalyModel.load(...).score(events) in Python)",
        soft_wrap=True,
    )
