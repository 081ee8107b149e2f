"""``soc-anomaly generate --scenario enterprise`` as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.cli import main
from soc_anomaly.data.ocsf_mapping import OCSF_VERSION
from soc_anomaly.scenarios.enterprise import BENIGN_TAGS, EVENT_COLUMNS, SCENARIOS

SMALL = [
    "--scenario",
    "enterprise",
    "--n-users",
    "60",
    "--days",
    "10",
    "--campaigns",
    "4",
    "--random-state",
    "3",
]


@pytest.fixture(scope="module")
def default_world_run(tmp_path_factory):
    """The default world from a fresh process, with the overview figures."""
    root = tmp_path_factory.mktemp("world")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "soc_anomaly",
            "generate",
            "--scenario",
            "enterprise",
            "--plots-dir",
            "plots",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc, root


def test_default_world_files_and_summary(default_world_run) -> None:
    proc, root = default_world_run
    assert proc.returncode == 0, proc.stderr
    events = pd.read_parquet(root / "data" / "enterprise_events.parquet")
    manifest = pd.read_csv(root / "data" / "enterprise_events_campaigns.csv")
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert len(manifest) == 3 * len(SCENARIOS)
    assert int(manifest["n_events"].sum()) == int(events["label"].sum())
    assert sorted(p.name for p in (root / "plots").iterdir()) == sorted(
        ["world_rhythm.png", "world_user_timeline.png", "world_campaigns.png"]
    )
    out = proc.stdout
    n_auth = int((events["class_uid"] == 3002).sum())
    assert f"{len(events):,} events over 30.0 days" in out
    assert f"{n_auth:,} authentication" in out
    assert "500 staff accounts" in out
    for name in SCENARIOS:
        assert re.search(rf"^{name}\s.*\b1\b.*\b1\b.*\b1\b.*\b3\b", out, re.M), name
    for tag in BENIGN_TAGS:
        n = int((events["benign_tag"] == tag).sum())
        assert re.search(rf"^{tag}\s.*\b{n:,}\b", out, re.M), tag
    assert "Traceback" not in proc.stderr


def test_same_seed_same_bytes(capsys, tmp_path) -> None:
    for name in ("a", "b"):
        assert (
            main(
                [
                    "generate",
                    *SMALL,
                    "--output-path",
                    str(tmp_path / f"{name}.parquet"),
                    "--manifest-path",
                    str(tmp_path / f"{name}_m.parquet"),
                ]
            )
            == 0
        )
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert (tmp_path / "a_m.parquet").read_bytes() == (tmp_path / "b_m.parquet").read_bytes()
    capsys.readouterr()


def test_csv_and_manifest_read_back(capsys, tmp_path) -> None:
    code, out, _ = run_cli(capsys, "generate", *SMALL, "--output-path", str(tmp_path / "w.csv"))
    assert code == 0
    events = pd.read_csv(tmp_path / "w.csv")
    manifest = pd.read_csv(tmp_path / "w_campaigns.csv")
    assert len(manifest) == 4
    for row in manifest.itertuples(index=False):
        assert (events["campaign_id"] == row.campaign_id).sum() == row.n_events
    assert f"to {tmp_path / 'w.csv'}\nWrote 4 campaigns to" in out


def test_ocsf_output(capsys, tmp_path) -> None:
    path = tmp_path / "w.jsonl"
    code, _, _ = run_cli(capsys, "generate", *SMALL, "--format", "ocsf", "--output-path", str(path))
    assert code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["class_uid"] for r in records} == {3002, 4001}
    assert {r["metadata"]["version"] for r in records} == {OCSF_VERSION}
    manifest = pd.read_csv(tmp_path / "w_campaigns.csv")
    labelled = sum(r["unmapped"].get("label", 0) for r in records)
    assert labelled == int(manifest["n_events"].sum()) > 0


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--scenario", "corp"], r"unknown --scenario 'corp'; expected one of seed, enterprise"),
        (
            ["--intensity", "loud"],
            r"unknown --intensity 'loud'; expected one of blatant, "
            r"moderate, subtle, mixed",
        ),
        (["--days", "0"], r"--days must be a positive integer, got 0"),
        (["--n-users", "-2"], r"--n-users must be a positive integer, got -2"),
        (["--campaigns", "0"], r"--campaigns must be a positive integer, got 0"),
        (
            ["--n-users", "5", "--days", "2", "--campaigns", "40"],
            r"40 campaign\(s\) need up to [\d,]+ attack events .* has room for [\d,]+ attack "
            r"events .* expected fewer campaigns \(--campaigns\) or a larger world",
        ),
        (
            ["--format", "ocsf", "--output-path", "w.parquet"],
            r"--format ocsf writes OCSF JSON Lines; expected --output-path ending in \.jsonl",
        ),
        (["--format", "xml"], r"unknown --format 'xml'; expected one of table, ocsf"),
        (["--attacks", "phishing"], r"unknown --attacks 'phishing'; expected any of brute_force"),
        (
            ["--manifest-path", "m.txt"],
            r"--manifest-path m\.txt has an unsupported ending "
            r"'\.txt'; expected \.csv or \.parquet",
        ),
        (["--events-per-user", "5"], r"--events-per-user applies to --scenario seed only"),
    ],
)
def test_bad_input(capsys, tmp_path, monkeypatch, args, pattern) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["generate", "--scenario", "enterprise", *args]
    if args[0] == "--scenario":
        argv = ["generate", *args]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, pattern)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_manifest_path_writes_nothing(capsys, tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    out = tmp_path / "w.parquet"
    code, _, err = run_cli(
        capsys,
        "generate",
        *SMALL,
        "--output-path",
        str(out),
        "--manifest-path",
        str(blocker / "m.csv"),
    )
    assert_one_line_error(code, err, r"--manifest-path .* is a file")
    assert not out.exists() and blocker.read_text() == "keep me"


def test_failed_write_keeps_the_previous_files(capsys, tmp_path, monkeypatch) -> None:
    out, manifest = tmp_path / "w.parquet", tmp_path / "w_campaigns.csv"
    out.write_bytes(b"old events")
    manifest.write_text("old manifest")

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    # The events are written first; the manifest's write fails after them.
    import soc_anomaly.cli._world as world_cli

    real = world_cli.dump_table

    def dump(df, path, fmt):
        if fmt == "csv":
            broken()
        real(df, path, fmt)

    monkeypatch.setattr(world_cli, "dump_table", dump)
    code, _, err = run_cli(capsys, "generate", *SMALL, "--output-path", str(out))
    assert_one_line_error(code, err, r"cannot write .*No space left on device")
    assert out.read_bytes() == b"old events"
    assert manifest.read_text() == "old manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.parquet", "w_campaigns.csv"]
