"""``soc-anomaly train --feature-cols``, and console lines that fit 100 columns."""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.io import write_table
from soc_anomaly.model import AnomalyModel
from soc_anomaly.scenarios import generate_synthetic_soc_dataset


@pytest.fixture()
def table(tmp_path):
    return write_table(
        generate_synthetic_soc_dataset(n_users=20, events_per_user=40, random_state=3),
        tmp_path / "table.csv",
    )


def _long_lines(text: str, *paths: object) -> list[str]:
    """Lines over 100 columns once each path (allowed to stay whole) counts as one column."""
    lines = []
    for line in text.splitlines():
        shown = line
        for path in paths:
            shown = shown.replace(str(path), "P")
        if len(shown) > 100:
            lines.append(line)
    return lines


def test_train_reads_only_the_named_columns(capsys, tmp_path, table) -> None:
    bundle = tmp_path / "m"
    code, out, err = run_cli(
        capsys, "train", "--data-path", str(table), "--features", "table",
        "--feature-cols", " bytes_out, hour ,failed_logins", "--model-dir", str(bundle),
    )  # fmt: skip
    assert code == 0, err
    assert AnomalyModel.load(bundle).feature_names_ == ["bytes_out", "hour", "failed_logins"]
    assert "Trained iforest on table features (3)" in out
    assert _long_lines(out + err, table, bundle) == []


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--feature-cols", "hour,nope"], r"missing column\(s\) nope"),
        (["--feature-cols", "hour,user_id"], r"column 'user_id' .*must be numeric"),
        (["--feature-cols", "hour,label"], r"label column 'label' is also listed as a feature"),
        (["--feature-cols", "hour,hour"], r"feature columns repeat hour"),
        (["--feature-cols", " , "], r"--feature-cols ' , ' names no columns"),
    ],
)
def test_bad_feature_cols_are_one_line(capsys, tmp_path, table, argv, pattern) -> None:
    bundle = tmp_path / "m"
    code, _, err = run_cli(
        capsys, "train", "--data-path", str(table), "--features", "table", *argv,
        "--model-dir", str(bundle),
    )  # fmt: skip
    assert_one_line_error(code, err, pattern)
    assert not (bundle / "manifest.json").exists()


def test_feature_cols_apply_to_table_models_only(capsys, tmp_path) -> None:
    code, _, err = run_cli(
        capsys, "train", "--feature-cols", "hour", "--model-dir", str(tmp_path / "m")
    )
    assert_one_line_error(code, err, r"--feature-cols applies to --features table only")


def test_train_on_the_world_prints_short_lines(capsys, tmp_path) -> None:
    bundle = tmp_path / "m"
    code, out, err = run_cli(
        capsys, "train", "--n-users", "60", "--days", "8", "--campaigns", "3",
        "--model-dir", str(bundle),
    )  # fmt: skip
    assert code == 0, err
    assert "window:" in out
    assert _long_lines(out + err, bundle) == []


def test_generate_prints_short_lines(capsys, tmp_path) -> None:
    seed, world = tmp_path / "seed.csv", tmp_path / "world.parquet"
    code, out, err = run_cli(
        capsys, "generate", "--n-users", "20", "--events-per-user", "20",
        "--output-path", str(seed),
    )  # fmt: skip
    assert code == 0, err
    assert "anomalies:" in out
    code, out2, err2 = run_cli(
        capsys, "generate", "--scenario", "enterprise", "--n-users", "60", "--days", "8",
        "--campaigns", "3", "--output-path", str(world),
    )  # fmt: skip
    assert code == 0, err2
    assert "staff accounts" in out2
    manifest = tmp_path / "world_campaigns.csv"
    assert _long_lines(out + err + out2 + err2, seed, world, manifest) == []
