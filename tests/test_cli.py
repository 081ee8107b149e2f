"""The command line as a user runs it: exit codes, one-line errors, files written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import typer
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.cli import main
from soc_anomaly.cli.main import app
from soc_anomaly.data.io import write_table

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- generate


def test_generate_writes_the_requested_dataset(capsys, tmp_path):
    out = tmp_path / "sub" / "events.parquet"
    code, stdout, _ = run_cli(
        capsys,
        "generate",
        "--output-path",
        str(out),
        "--n-users",
        "10",
        "--events-per-user",
        "30",
        "--anomaly-fraction",
        "0.1",
        "--random-state",
        "4",
    )
    assert code == 0
    df = pd.read_parquet(out)
    assert len(df) == 300 and df["label"].sum() == 30
    assert "Wrote 300 events with 30 anomalies" in stdout
    assert [p.name for p in out.parent.iterdir()] == ["events.parquet"]


def test_generate_same_flags_same_bytes(capsys, tmp_path):
    args = ["--n-users", "12", "--events-per-user", "20", "--random-state", "8"]
    assert main(["generate", "--output-path", str(tmp_path / "a.csv"), *args]) == 0
    assert main(["generate", "--output-path", str(tmp_path / "b.csv"), *args]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--anomaly-fraction", "0"], r"--anomaly-fraction must be in \(0, 0\.5\), got 0\.0"),
        (["--anomaly-fraction", "0.5"], r"--anomaly-fraction must be in \(0, 0\.5\)"),
        (["--anomaly-fraction", "-0.1"], r"--anomaly-fraction must be in \(0, 0\.5\)"),
        (["--n-users", "0"], "--n-users must be a positive integer, got 0"),
        (["--events-per-user", "-5"], "--events-per-user must be a positive integer"),
        (["--random-state", "-1"], "--random-state must be an integer >= 0"),
        (["--n-users", "many"], "Invalid value for '--n-users'"),
        (["--output-path", "events.json"], r"unsupported file type '\.json'"),
        (["--frobnicate"], "No such option: --frobnicate"),
    ],
)
def test_generate_bad_flags(capsys, tmp_path, monkeypatch, args, pattern):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "generate", *args)
    assert_one_line_error(code, err, pattern)
    assert list(tmp_path.iterdir()) == []


def test_generate_unwritable_output_path(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    code, _, err = run_cli(capsys, "generate", "--output-path", str(blocker / "x.csv"))
    assert_one_line_error(code, err, "is a file")
    code, _, err = run_cli(capsys, "generate", "--output-path", str(tmp_path))
    assert_one_line_error(code, err, "unsupported file type|is a directory")
    if Path("/proc").is_dir():
        code, _, err = run_cli(capsys, "generate", "--output-path", "/proc/soc.csv")
        assert_one_line_error(code, err, "not writable")
    assert blocker.read_text() == "keep me"


# ---------------------------------------------------------------- detect


@pytest.fixture(scope="module")
def default_cli_run(default_cli):
    """`soc-anomaly detect` with no flags but the output folder, as a user would run it:
    the session's default run (tests/conftest.py), piped with no COLUMNS."""
    return default_cli, default_cli.plots


def test_detect_defaults_generate_data_and_write_everything(default_cli_run):
    proc, plots = default_cli_run
    assert proc.returncode == 0, proc.stderr
    assert "generated in memory (n_users=200, events_per_user=200" in proc.stdout
    # Summary first: what to use, at which threshold, how many alerts a day.
    summary = proc.stdout.index("Summary")
    assert summary < proc.stdout.index("Detectors ranked by PR AUC")
    assert "Use OneClassSVM" in proc.stdout and "alerts a day" in proc.stdout
    assert "Top 10 alerts of OneClassSVM" in proc.stdout
    # Alerts name the event, user, time and attack type.
    assert re.search(
        r"\n +1\. [\d.]+ \(raw -?[\d.e+]+\) +event \d+ +user_\d+ +"
        r"\d{4}-\d\d-\d\d \d\d:\d\d\s+(exfiltration|brute_force|impossible_travel)",
        proc.stdout,
    )
    assert re.search(r"- \w+ is [+-][\d.]+ std from normal", proc.stdout)
    # The detail is one flag away, and every line fits 80 columns when piped.
    assert "--verbose adds" in proc.stdout
    report = [line for line in proc.stdout.splitlines() if not line.startswith("Wrote ")]
    assert max(len(line) for line in report) <= 80
    assert len(list(plots.glob("*.png"))) == 14
    assert "Permutation importance of OneClassSVM" in proc.stderr
    # Progress goes to stderr, so stdout stays a clean report.
    assert "Fitting OneClassSVM" in proc.stderr


def _numbers(obj) -> list[float]:
    if isinstance(obj, dict):
        return [n for v in obj.values() for n in _numbers(v)]
    if isinstance(obj, list):
        return [n for v in obj for n in _numbers(v)]
    if isinstance(obj, bool):
        return [float(obj)]
    if isinstance(obj, int | float):
        return [float(obj)]
    return []


def test_every_printed_number_is_in_metrics_json(default_cli_run):
    proc, plots = default_cli_run
    doc = json.loads((plots / "metrics.json").read_text())
    known = _numbers(doc)
    report = proc.stdout.split("\nWrote ")[0]  # the closing lines name files, not results
    # Alerts name their rank, event and time: identities, not results.
    report = re.sub(r"(?m)^ *\d+\. |event \d+|\d{4}-\d\d-\d\d \d\d:\d\d", "", report)
    tokens = re.findall(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?", report)
    assert len(tokens) > 100
    for token in tokens:
        value = float(token.replace(",", ""))
        decimals = len(token.split(".")[1]) if "." in token else 0
        tolerance = 0.5 * 10**-decimals + 1e-12
        # .4g formatting keeps 4 significant digits, which may be fewer decimals.
        assert any(abs(value - k) <= max(tolerance, abs(k) * 5e-4) for k in known), (
            f"printed {token} is not in metrics.json"
        )


def test_detect_on_a_file_with_all_flags(capsys, tmp_path, small_df):
    data = write_table(small_df, tmp_path / "events.csv")
    code, stdout, _ = run_cli(
        capsys,
        "detect",
        "--data-path",
        str(data),
        "--k",
        "10",
        "--threshold-percentile",
        "95",
        "--plots-dir",
        str(tmp_path / "plots"),
        "--metrics-path",
        str(tmp_path / "m" / "m.json"),
        "--anomaly-fraction",
        "0.02",
        "--random-state",
        "1",
        "--top",
        "2",
    )
    assert code == 0
    assert "P@10" in stdout and "p95 of normal training scores" in stdout
    doc = json.loads((tmp_path / "m" / "m.json").read_text())
    assert doc["config"]["threshold_percentile"] == 95.0
    assert doc["models"]["OneClassSVM"]["k"] == 10
    assert len(doc["models"]["IsolationForest"]["top_explanations"]) == 2
    assert len(list((tmp_path / "plots").glob("*.png"))) == 14


def _bad_files(tmp_path: Path, df: pd.DataFrame) -> dict[str, tuple[Path, str]]:
    files: dict[str, tuple[Path, str]] = {}
    full = write_table(df, tmp_path / "full.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    files["missing"] = (tmp_path / "missing.csv", "does not exist")
    files["empty"] = (tmp_path / "empty.csv", "is empty")
    cut = tmp_path / "cut.csv"
    raw = full.read_bytes()
    # Cut 40 bytes into a row, well inside its fields.
    cut.write_bytes(raw[: raw.index(b"\n", len(raw) * 2 // 3) + 41])
    files["truncated csv"] = (cut, "truncated")
    pq = write_table(df, tmp_path / "full.parquet")
    cut_pq = tmp_path / "cut.parquet"
    cut_pq.write_bytes(pq.read_bytes()[:2000])
    files["truncated parquet"] = (cut_pq, "not a readable Parquet file")
    txt = tmp_path / "events.txt"
    txt.write_text("hello")
    files["not csv/parquet"] = (txt, r"unsupported file type '\.txt'")
    cases = {
        "missing column": (df.drop(columns=["geo_distance"]), r"missing column\(s\) geo_distance"),
        "missing label": (df.drop(columns=["label"]), r"missing column\(s\) label"),
        "non-numeric": (df.assign(hour=["x", *list(df["hour"].iloc[1:])]), "must be numeric"),
        "nan": (
            df.assign(bytes_in=[float("nan"), *list(df["bytes_in"].iloc[1:])]),
            "missing value",
        ),
        "inf": (df.assign(bytes_in=[float("inf"), *list(df["bytes_in"].iloc[1:])]), "infinite"),
        "label 3": (df.assign(label=[3, *list(df["label"].iloc[1:])]), "found 3 at data row 1"),
        "no anomalies": (df[df["label"] == 0], r"no anomalies \(label 1\)"),
        "no normal rows": (df[df["label"] == 1], r"no normal events \(label 0\)"),
    }
    for name, (frame, pattern) in cases.items():
        files[name] = (write_table(frame, tmp_path / f"{name.replace(' ', '_')}.csv"), pattern)
    return files


BAD_FILE_CASES = [
    "missing",
    "empty",
    "truncated csv",
    "truncated parquet",
    "not csv/parquet",
    "missing column",
    "missing label",
    "non-numeric",
    "nan",
    "inf",
    "label 3",
    "no anomalies",
    "no normal rows",
]


@pytest.mark.parametrize("case", BAD_FILE_CASES)
def test_detect_bad_data_files(capsys, tmp_path, small_df, case):
    path, pattern = _bad_files(tmp_path, small_df)[case]
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "detect", "--data-path", str(path), "--plots-dir", str(out))
    assert_one_line_error(code, err, pattern)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--k", "0"], "--k must be a positive integer, got 0"),
        (["--k", "-1"], "--k must be a positive integer"),
        (["--k", "100000"], "--k=100000 exceeds the"),
        (["--threshold-percentile", "0"], r"--threshold-percentile must be in \(0, 100\)"),
        (["--threshold-percentile", "100"], r"--threshold-percentile must be in \(0, 100\)"),
        (["--threshold-percentile", "150"], r"--threshold-percentile must be in \(0, 100\)"),
        (["--anomaly-fraction", "0.6"], r"--anomaly-fraction must be in \(0, 0\.5\)"),
        (["--k", "ten"], "Invalid value for '--k'"),
        (["--detectors", "iforest,xgboost"], "unknown detector 'xgboost'; expected one of iforest"),
        (["--detectors", ","], "no detectors"),
        (["--seeds", "0"], "--seeds must be a positive integer, got 0"),
        (["--beta", "0"], r"--beta must be in \(0, inf\)"),
        (["--alerts-per-day", "-1"], r"--alerts-per-day must be in \(0, inf\)"),
        (["--importance-repeats", "-1"], "--importance-repeats must be an integer >= 0"),
        (["--feature-cols", "hour,nope"], r"missing column\(s\) nope"),
        (["--label-col", "verdict"], r"missing column\(s\) verdict"),
    ],
)
def test_detect_bad_flags(capsys, tmp_path, small_csv, args, pattern):
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "detect", "--data-path", str(small_csv), "--plots-dir", str(out), *args
    )
    assert_one_line_error(code, err, pattern)
    assert not out.exists() or list(out.iterdir()) == []


def test_detect_unwritable_outputs(capsys, tmp_path, small_csv):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run_cli(
        capsys, "detect", "--data-path", str(small_csv), "--plots-dir", str(blocker / "plots")
    )
    assert_one_line_error(code, err, "is a file")
    code, _, err = run_cli(
        capsys,
        "detect",
        "--data-path",
        str(small_csv),
        "--plots-dir",
        str(tmp_path / "p"),
        "--metrics-path",
        str(tmp_path),
    )
    assert_one_line_error(code, err, "is a directory")
    assert not (tmp_path / "p").exists()


def test_existing_metrics_survive_a_failedrun_cli(capsys, tmp_path, small_csv, small_df):
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"previous": true}')
    bad = write_table(small_df[small_df["label"] == 0], tmp_path / "normal_only.csv")
    code, _, _ = run_cli(
        capsys, "detect", "--data-path", str(bad), "--metrics-path", str(metrics), "--no-plots"
    )
    assert code == 2
    assert json.loads(metrics.read_text()) == {"previous": True}


def test_help_and_version(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "generate" in out and "detect" in out
    code, out, _ = run_cli(capsys, "detect", "--help")
    assert code == 0 and "--threshold-percentile" in out
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("soc-anomaly ")


COMMANDS = sorted(typer.main.get_command(app).commands)


def test_every_command_is_tested_for_short_help():
    assert {"generate", "detect", "diff", "benchmark", "train", "serve", "score"} <= set(COMMANDS)


@pytest.mark.parametrize("argv", [[], *([name] for name in COMMANDS)], ids=["app", *COMMANDS])
def test_short_help_everywhere(capsys, argv):
    code, short, err = run_cli(capsys, *argv, "-h")
    assert code == 0 and err == ""
    code, long, _ = run_cli(capsys, *argv, "--help")
    assert code == 0 and short == long
    assert " ".join(["Usage: soc-anomaly", *argv, "[OPTIONS]"]) in short
    assert re.search(r"--help\s+-h\b", short)  # the option's row lists both names


# ---------------------------------------------------------------- scripts


def test_seed_scripts_accept_the_same_flags(tmp_path):
    data = tmp_path / "data" / "soc.csv"
    gen = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "generate_data.py"),
            "--output-path",
            str(data),
            "--n-users",
            "20",
            "--events-per-user",
            "50",
            "--anomaly-fraction",
            "0.02",
            "--random-state",
            "42",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert gen.returncode == 0, gen.stderr
    det = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "run_anomaly_detection.py"),
            "--data-path",
            str(data),
            "--k",
            "5",
            "--threshold-percentile",
            "99",
            "--plots-dir",
            str(tmp_path / "plots"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert det.returncode == 0, det.stderr
    assert len(list((tmp_path / "plots").glob("*.png"))) == 14
    bad = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "run_anomaly_detection.py"), "--k", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --k must be a positive integer, got 0"


def test_save_run_and_diff(capsys, tmp_path, small_csv):
    common = ["--data-path", str(small_csv), "--k", "5", "--no-plots", "--importance-repeats", "0"]
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert (
        main(["detect", *common, "--metrics-path", str(tmp_path / "ma.json"), "--save-run", str(a)])
        == 0
    )
    assert (
        main(
            [
                "detect",
                *common,
                "--metrics-path",
                str(tmp_path / "mb.json"),
                "--save-run",
                str(b),
                "--threshold-percentile",
                "95",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "detect",
                *common,
                "--metrics-path",
                str(tmp_path / "mc.json"),
                "--save-run",
                str(c),
                "--detectors",
                "iforest",
            ]
        )
        == 0
    )
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "diff", str(a), str(b), "--plots-dir", str(tmp_path / "d"))
    assert code == 0
    assert re.search(r"threshold_percentile\s+│\s+99\.0\s+│\s+95\.0", out)
    assert "evaluated_percentile.recall" in out
    assert (tmp_path / "d" / "run_diff.png").exists()
    doc = json.loads((tmp_path / "d" / "run_diff.json").read_text())
    assert {"key": "threshold_percentile", "before": 99.0, "after": 95.0} in doc["config_changes"]
    assert {r["detector"] for r in doc["metric_deltas"]} == {"IsolationForest", "OneClassSVM"}

    # Only the metrics that moved are listed and drawn: the ranking ones did not.
    assert not re.search(r"│ roc_auc ", out) and "other metrics unchanged" in out
    # The metrics paths differ, but where output goes is no setting of the experiment.
    assert "metrics_path" not in out and "metrics_path" not in json.dumps(doc["config_changes"])
    height = matplotlib.image.imread(tmp_path / "d" / "run_diff.png").shape[0]
    assert height < 1500, height

    # One detector fewer: the shared one is compared, the other named.
    code, out, err = run_cli(capsys, "diff", str(a), str(c), "--plots-dir", str(tmp_path / "e"))
    assert code == 0, err
    text = " ".join(out.split())  # rich wraps long lines at the test's width
    assert "Only in the before run, not compared: OneClassSVM" in text
    assert "no change in any of the" in text
    assert not (tmp_path / "e" / "run_diff.png").exists()
    assert "No metric changed, so no run_diff.png was drawn." in out
    doc = json.loads((tmp_path / "e" / "run_diff.json").read_text())
    assert doc["only_before"] == ["OneClassSVM"]
    assert {r["detector"] for r in doc["metric_deltas"]} == {"IsolationForest"}
    # A diff with nothing to draw does not leave an earlier figure behind.
    code, _, _ = run_cli(capsys, "diff", str(a), str(a), "--plots-dir", str(tmp_path / "d"))
    assert code == 0 and not (tmp_path / "d" / "run_diff.png").exists()

    code, _, err = run_cli(capsys, "diff", str(a), str(tmp_path / "missing"))
    assert_one_line_error(code, err, "does not exist")
    (b / "metrics.json").write_text("{ truncated")
    code, _, err = run_cli(capsys, "diff", str(a), str(b), "--plots-dir", str(tmp_path / "f"))
    assert_one_line_error(code, err, "metrics.json")
    assert not (tmp_path / "f").exists()


def test_detect_on_an_npz_table(capsys, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4))
    y = np.zeros(500, dtype=int)
    X[:15] += 7
    y[:15] = 1
    np.savez(tmp_path / "bench.npz", X=X, y=y)
    code, out, _ = run_cli(
        capsys,
        "detect",
        "--data-path",
        str(tmp_path / "bench.npz"),
        "--k",
        "10",
        "--detectors",
        "iforest,knn,mahalanobis",
        "--no-plots",
        "--metrics-path",
        str(tmp_path / "m.json"),
    )
    assert code == 0
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["feature_cols"] == ["x0", "x1", "x2", "x3"]
    assert all(m["roc_auc"] > 0.95 for m in doc["models"].values())
    assert "kNN distance" in out
    np.savez(tmp_path / "no_y.npz", X=X)
    code, _, err = run_cli(capsys, "detect", "--data-path", str(tmp_path / "no_y.npz"))
    assert_one_line_error(code, err, "y")


def test_benchmark_command(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "benchmark", "--datasets-dir", str(empty))
    assert_one_line_error(code, err, "no .npz files")
    code, _, err = run_cli(capsys, "benchmark", "--seeds", "0")
    assert_one_line_error(code, err, "--seeds must be a positive integer, got 0")
    datasets = REPO.parent / "shared" / "datasets"
    if not (datasets / "thyroid.npz").exists():
        pytest.skip("the shared benchmark datasets are not beside the repository")
    code, out, _ = run_cli(
        capsys,
        "benchmark",
        "--datasets-dir",
        str(datasets),
        "--datasets",
        "thyroid",
        "--methods",
        "iforest",
        "--seeds",
        "2",
        "--output",
        str(tmp_path / "t.csv"),
    )
    assert code == 0
    assert "thyroid" in out and "IForest" in out
    table = pd.read_csv(tmp_path / "t.csv")
    assert table.loc[0, "published_mean"] == pytest.approx(0.9791, abs=1e-4)
