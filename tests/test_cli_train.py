"""``soc-anomaly train`` as a user runs it: a bundle that loads and scores, and one-line errors."""

from __future__ import annotations

import json
import re

import pytest
from cli_helpers import run_cli

from soc_anomaly.data.io import write_table
from soc_anomaly.model import AnomalyModel
from soc_anomaly.scenarios import generate_synthetic_soc_dataset, generate_world

WORLD = ["--n-users", "200", "--days", "14", "--random-state", "5"]


def test_train_on_the_generated_world_saves_a_bundle_that_scores(capsys, tmp_path) -> None:
    bundle = tmp_path / "iforest"
    code, out, err = run_cli(capsys, "train", *WORLD, "--model-dir", str(bundle))
    assert code == 0, err
    text = " ".join(out.split())
    assert "Trained iforest on entity features (30)" in text
    assert f"Saved the model to {bundle}" in text
    manifest = json.loads((bundle / "manifest.json").read_text())
    world = generate_world(n_users=200, days=14, random_state=5)
    events = world.events
    first_half = events[(events["time"] < world.attack_start) & (events["label"] == 0)]
    assert manifest["training"]["rows"] == len(first_half)
    assert manifest["training"]["end"] < world.attack_start.isoformat()
    scored = AnomalyModel.load(bundle).score(events[events["time"] >= world.attack_start])
    assert scored["alert"].any()


def test_train_on_a_table(capsys, tmp_path) -> None:
    table = write_table(
        generate_synthetic_soc_dataset(n_users=30, events_per_user=50, random_state=3),
        tmp_path / "table.csv",
    )
    code, _, err = run_cli(
        capsys, "train", "--data-path", str(table), "--features", "table",
        "--detector", "kmeans", "--model-dir", str(tmp_path / "km"),
    )  # fmt: skip
    assert code == 0, err
    assert AnomalyModel.load(tmp_path / "km").feature_names_[:2] == ["hour", "geo_distance"]


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--features", "table"], r"--features table needs --data-path"),
        (["--features", "rows"], r"unknown features 'rows'; expected one of entity, seed, table"),
        (["--detector", "nope"], r"unknown detector 'nope'"),
        (["--threshold-percentile", "100"], r"threshold percentile"),
        (["--data-path", "missing.parquet"], r"missing\.parquet"),
    ],
)
def test_bad_input_is_one_line(capsys, tmp_path, argv, pattern) -> None:
    bundle = tmp_path / "m"
    code, _, err = run_cli(capsys, "train", *argv, "--model-dir", str(bundle))
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and re.search(pattern, lines[0]), err
    assert "Traceback" not in err
    assert not (bundle / "manifest.json").exists()


def test_raw_columns_missing_from_a_file_are_named(capsys, tmp_path) -> None:
    table = write_table(
        generate_synthetic_soc_dataset(n_users=30, events_per_user=50, random_state=3),
        tmp_path / "table.csv",
    )
    code, _, err = run_cli(
        capsys, "train", "--data-path", str(table), "--model-dir", str(tmp_path / "m")
    )
    assert code == 2
    # Only the columns every event needs are required; the rest of a raw export is optional.
    assert re.search(r"error: the events have no time, class_uid columns; expected", err), err
    assert not (tmp_path / "m" / "manifest.json").exists()
