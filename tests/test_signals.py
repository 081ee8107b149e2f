"""SIGTERM cleans up as Ctrl-C does, and either prints one line and exits 128 + signal.

``score`` reads a pipe this test holds open, so the run is stopped in the
middle for certain: its temporary output exists, it is waiting for events.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

from soc_anomaly.experiment import pipeline
from soc_anomaly.interrupts import Terminated, interrupt_signal

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.fixture(scope="module")
def event_lines(scoring_world) -> list[bytes]:
    """JSON lines of events: more than the 64 KiB the input is sniffed from."""
    text = scoring_world.later.head(400).to_json(orient="records", lines=True, date_format="iso")
    lines = [line.encode() + b"\n" for line in text.splitlines()]
    assert sum(map(len, lines)) > 65536
    return lines


def _start_score(model_dir: Path, output: str, lines: list[bytes]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "soc_anomaly.cli", "score", "--model-dir", str(model_dir)]
    cmd += ["--input", "-", "--input-format", "jsonl", "--output", output, "--quiet"]
    cmd += ["--chunk-rows", "100"]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None
    proc.stdin.writelines(lines)
    proc.stdin.flush()  # and kept open: the run waits for more
    return proc


def _wait_for(condition, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"score ended before {what}: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "code", "prefix"),
    [(signal.SIGTERM, 143, "interrupted (SIGTERM): "), (signal.SIGINT, 130, "interrupted: ")],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_stopped_score_leaves_no_temporary_file_and_the_old_output(
    scoring_world, event_lines, tmp_path, signum, code, prefix
) -> None:
    out = tmp_path / "alerts.csv"
    out.write_text("the previous run's output\n")
    proc = _start_score(scoring_world.model_dir, str(out), event_lines)
    _wait_for(lambda: any(tmp_path.glob(".alerts.csv.*.tmp")), "its temporary output", proc)
    time.sleep(0.5)  # inside the writer, scoring or waiting for the next event
    proc.send_signal(signum)
    # It ends while the pipe is still open: the read-ahead blocked on it is not waited for
    # (a supervisor would otherwise follow with SIGKILL and leave the temporary file).
    proc.wait(timeout=30)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.decode().splitlines() == [f"{prefix}nothing written to {out}"]
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.csv"]
    assert out.read_text() == "the previous run's output\n"


def test_a_stopped_score_to_standard_output_says_how_many_rows_it_wrote(
    scoring_world, event_lines
) -> None:
    proc = _start_score(scoring_world.model_dir, "-", event_lines)
    assert proc.stdout is not None
    first = b""
    while not first.endswith(b"\n"):  # JSON Lines: the first chunk is out
        # Unbuffered, byte by byte: communicate() reads the pipe past any buffer.
        byte = os.read(proc.stdout.fileno(), 1)
        assert byte, proc.communicate(timeout=60)[1]  # ended before writing a line
        first += byte
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    rows = [json.loads(line) for line in (first + rest).decode().splitlines()]
    assert err.decode().splitlines() == [
        f"interrupted (SIGTERM): {len(rows)} complete rows written to standard output "
        "before it stopped"
    ]
    assert len(rows) >= 100 and all("score" in row for row in rows)


def _in_main_thread() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("a signal handler needs the main thread")


def test_sigterm_during_detect_writes_the_finished_detectors(
    capsys, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_main_thread()
    real = pipeline.run_detector
    calls = []

    def run_detector(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises as soon as the signal arrives
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_detector", run_detector)
    previous = signal.getsignal(signal.SIGTERM)
    metrics = tmp_path / "m.json"
    argv = ["--data-path", str(small_csv), "--detectors", "iforest,knn", "--no-plots"]
    code, _, err = run_cli(capsys, "detect", *argv, "--metrics-path", str(metrics))
    assert code == 143
    lines = [line for line in err.splitlines() if line.startswith("interrupted")]
    assert lines == [
        f"interrupted (SIGTERM): the results of the 1 of 2 detector runs that finished are "
        f"in {metrics}"
    ], err
    assert "Traceback" not in err
    assert pd.read_json(metrics, typ="series")["complete"] is False
    assert signal.getsignal(signal.SIGTERM) is previous  # put back when main returns


def test_the_signal_is_found_behind_a_message_that_says_what_was_kept() -> None:
    try:
        try:
            raise Terminated
        except KeyboardInterrupt:
            raise KeyboardInterrupt("kept 3 rows") from None
    except KeyboardInterrupt as exc:
        assert interrupt_signal(exc) == signal.SIGTERM
    assert interrupt_signal(KeyboardInterrupt()) == signal.SIGINT


def test_nothing_is_renamed_into_place_when_a_late_step_fails(
    scoring_world, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The HTML report is the last thing score makes: its failure must not leave
    # the output (or the report) in place, nor a temporary file.
    from soc_anomaly.cli import main
    from soc_anomaly.reporting import score_report

    def broken(*args, **kwargs):
        raise RuntimeError("the report failed")

    monkeypatch.setattr(score_report, "score_report_html", broken)
    src = tmp_path / "in" / "events.csv"
    src.parent.mkdir()
    scoring_world.later.head(50).to_csv(src, index=False)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv = ["score", "--model-dir", str(scoring_world.model_dir), "--input", str(src), "--quiet"]
    argv += ["--output", str(out_dir / "scored.csv"), "--report", str(out_dir / "report.html")]
    with pytest.raises(RuntimeError, match="the report failed"):
        main(argv)
    assert list(out_dir.iterdir()) == []
