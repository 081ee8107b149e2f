"""detect at scale: progress inside long steps, and results kept as each detector finishes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

from soc_anomaly.detectors import progress
from soc_anomaly.experiment import DetectConfig, checkpoint, pipeline, run_detection
from soc_anomaly.experiment.checkpoint import PARTIAL_NOTE, RunInterrupted, sigterm_interrupts


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Make the ``call``-th detector of a run stop as Ctrl-C would."""
    real = pipeline.run_detector
    calls = []

    def run_detector(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_detector", run_detector)


def test_long_steps_show_progress_lines(capsys, small_csv: Path, tmp_path: Path, monkeypatch):
    # Every tick shows (a real run waits a few seconds between lines), and
    # chunks of 256 rows, so this small run's steps have several ticks.
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(progress, "CHUNK_PAIRS", 256)
    metrics = tmp_path / "m.json"
    argv = ["--data-path", str(small_csv), "--detectors", "knn", "--no-plots"]
    code, _, err = run_cli(capsys, "detect", *argv, "--metrics-path", str(metrics))
    assert code == 0, err
    lines = err.splitlines()
    scoring = [x for x in lines if x.startswith("  Scoring") and "%, " in x]
    assert scoring and scoring[0].startswith(
        "  Scoring 324 test events with kNN distance: 256/324 (79%, "
    )
    fitting = [x for x in lines if x.startswith("  Fitting kNN distance")]
    assert fitting and "%, " in fitting[0], err
    # Permutation importance counts its shuffles: 1 + 8 features x 3 repeats.
    shuffles = [x for x in lines if x.startswith("  Permutation importance of kNN distance")]
    assert shuffles and "/25 (" in shuffles[0]
    assert json.loads(metrics.read_text())["complete"] is True


def test_an_interrupted_run_keeps_the_finished_detectors(
    small_df: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_at(monkeypatch, 2)
    config = DetectConfig(
        detectors=("iforest", "knn", "lof"), plots=False, metrics_path=tmp_path / "m.json"
    )
    with pytest.raises(RunInterrupted, match=r"1 of 3 detector runs .* are in .*m\.json"):
        run_detection(config, df=small_df)
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["complete"] is False
    assert list(doc["models"]) == ["IsolationForest"]
    assert [row["detector"] for row in doc["comparison"]] == ["iforest"]
    assert doc["models"]["IsolationForest"]["pr_auc"] > 0.5
    assert any(n.startswith(PARTIAL_NOTE + "1 of 3 detector runs") for n in doc["notes"])


def test_the_command_line_says_where_the_finished_results_are(
    capsys, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_at(monkeypatch, 2)
    metrics = tmp_path / "m.json"
    argv = ["--data-path", str(small_csv), "--detectors", "iforest,knn", "--no-plots"]
    code, _, err = run_cli(capsys, "detect", *argv, "--metrics-path", str(metrics))
    assert code == 130
    assert "interrupted: the results of the 1 of 2 detector runs that finished are in" in err
    assert "Traceback" not in err
    assert list(json.loads(metrics.read_text())["models"]) == ["IsolationForest"]


def test_partial_writes_are_spaced_and_a_failing_detector_leaves_the_finished(
    small_df: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[list[str]] = []
    real_write = checkpoint.Checkpoint._write

    def spy(self, feature_cols, runs, held):
        written.append([m.name for m in runs[0].models])
        return real_write(self, feature_cols, runs, held)

    monkeypatch.setattr(checkpoint.Checkpoint, "_write", spy)
    real = pipeline.run_detector

    def run_detector(*args, **kwargs):
        if args[0] == "lof":
            raise RuntimeError("a detector bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_detector", run_detector)
    config = DetectConfig(
        detectors=("iforest", "knn", "lof"), plots=False, metrics_path=tmp_path / "m.json"
    )
    # Detectors finishing within the write interval are written together, once the run stops.
    monkeypatch.setattr(checkpoint, "WRITE_INTERVAL", 3600.0)
    with pytest.raises(RuntimeError, match="a detector bug"):
        run_detection(config, df=small_df)
    assert written == [["IsolationForest", "kNN distance"]]
    assert list(json.loads((tmp_path / "m.json").read_text())["models"]) == [
        "IsolationForest",
        "kNN distance",
    ]
    # With no interval, every finished detector is written as it finishes.
    written.clear()
    monkeypatch.setattr(checkpoint, "WRITE_INTERVAL", 0.0)
    with pytest.raises(RuntimeError, match="a detector bug"):
        run_detection(config, df=small_df)
    assert written == [["IsolationForest"], ["IsolationForest", "kNN distance"]]


def test_an_interrupt_before_any_detector_finished_writes_nothing(
    small_df: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_at(monkeypatch, 1)
    config = DetectConfig(detectors=("iforest",), plots=False, metrics_path=tmp_path / "m.json")
    with pytest.raises(KeyboardInterrupt) as caught:
        run_detection(config, df=small_df)
    assert not isinstance(caught.value, RunInterrupted)
    assert not (tmp_path / "m.json").exists()


def test_the_complete_run_replaces_the_partial_file(small_df: pd.DataFrame, tmp_path: Path) -> None:
    config = DetectConfig(
        detectors=("iforest", "knn"), plots=False, metrics_path=tmp_path / "m.json", seeds=2
    )
    result = run_detection(config, df=small_df)
    doc = json.loads(result.metrics_path.read_text())
    assert doc["complete"] is True
    assert not any(n.startswith(PARTIAL_NOTE) for n in doc["notes"])
    assert len(doc["seeds"]) == 2 and len(doc["models"]) == 2


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM to oneself needs POSIX signals")
def test_sigterm_stops_a_run_as_ctrl_c_does() -> None:
    assert threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_interrupts():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises as soon as the signal arrives
    assert signal.getsignal(signal.SIGTERM) is previous
