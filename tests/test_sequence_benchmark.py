"""``benchmark --sequences``: next-key methods on sessions of log keys, and bad folders refused."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_cli

import soc_anomaly.sequences.torch_check as torch_check
from soc_anomaly.experiment import sequence_files
from soc_anomaly.experiment.sequence_benchmark import (
    load_split,
    markov_flags,
    run_sequence_benchmark,
    unseen_pair_flags,
)
from soc_anomaly.reporting.sequence_benchmark_report import CSV_COLUMNS

HDFS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sequences" / "hdfs_deeplog"

# ------------------------------------------------------------------ a tiny grammar


def _normal_sessions() -> list[str]:
    """open, (read check){1..3}, optional audit, close: every variant, a few times."""
    sessions = []
    for repeats, audit in itertools.product((1, 2, 3), (False, True)):
        body = ["read check"] * repeats + (["audit"] if audit else [])
        sessions.append(" ".join(["open", *body, "close"]))
    return sessions * 5  # 30 sessions


ABNORMAL = [
    "open read close",  # a read never checked: the pair (read, close) is unseen
    "open read check read check",  # never closed: ends where no training session ends
    "open check read close",  # out of order
    "open read check wipe close",  # a key training never saw
]


def _write(folder: Path, files: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def grammar(tmp_path) -> Path:
    normal = _normal_sessions()
    return _write(
        tmp_path / "grammar",
        {"x_train": normal, "x_test_normal": normal[:6], "x_test_abnormal": ABNORMAL},
    )


def test_markov_and_unseen_pair_flag_the_abnormal_sessions_only(grammar):
    split = load_split(grammar)
    assert not split.held_out
    assert split.n_keys == 5  # open read check audit close; "wipe" is unknown
    for flags in (markov_flags(split, top_g=9), unseen_pair_flags(split)):
        abnormal, normal = flags
        assert abnormal.tolist() == [True] * len(ABNORMAL)
        assert normal.tolist() == [False] * 6


def _csv_rows(capsys, grammar, target) -> tuple[str, list[dict[str, str]]]:
    """What ``benchmark --sequences --output`` prints and writes for markov and unseen_pair."""
    code, out, err = run_cli(
        capsys, "benchmark", "--sequences", str(grammar), "--methods", "markov,unseen_pair",
        "--output", str(target),
    )  # fmt: skip
    assert code == 0, err
    with target.open(newline="", encoding="utf-8") as handle:
        return out, list(csv.DictReader(handle))


def test_the_output_csv_has_one_row_per_method(grammar, tmp_path, capsys):
    target = tmp_path / "out" / "sequences.csv"
    out, rows = _csv_rows(capsys, grammar, target)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert list(CSV_COLUMNS[:5]) == ["method", "precision", "recall", "f1", "fpr"]
    assert [r["method"] for r in rows] == ["markov", "unseen_pair"]
    for r in rows:
        assert (float(r["precision"]), float(r["recall"]), float(r["fpr"])) == (1.0, 1.0, 0.0)
        assert (r["abnormal_sessions"], r["normal_sessions"]) == ("4", "6")
    assert "4 abnormal test sessions" in " ".join(out.split())
    assert "indicative only" in out


def test_without_a_normal_test_file_a_seeded_fifth_is_held_out_and_said(tmp_path, capsys):
    normal = [f"{s} {i % 3}" for i, s in enumerate(_normal_sessions())]  # 30 distinct sessions
    folder = _write(tmp_path / "held", {"x_train": normal, "x_test_abnormal": ABNORMAL})
    first, again, other = (load_split(folder, seed) for seed in (0, 0, 1))
    assert first.held_out and len(first.normal) == 6 and len(first.train) == 24
    assert np.array_equal(first.normal.codes, again.normal.codes)
    assert not np.array_equal(first.normal.offsets, other.normal.offsets) or not np.array_equal(
        first.normal.codes, other.normal.codes
    )
    code, out, err = run_cli(
        capsys, "benchmark", "--sequences", str(folder), "--methods", "unseen_pair", "--seed", "3"
    )
    assert code == 0, err
    text = " ".join(out.split())
    assert "no *test_normal* file: 6 normal test sessions are a 20% hold-out of x_train" in text
    assert "seed 3" in text


def test_lstm_without_torch_is_skipped_by_default_and_refused_when_asked(
    grammar, monkeypatch, capsys
):
    monkeypatch.setattr(torch_check, "torch_available", lambda: False)
    run = run_sequence_benchmark(grammar)
    assert [r.method for r in run.results] == ["markov", "unseen_pair"]
    assert "PyTorch is not installed" in run.skipped["lstm"]
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(grammar), "--methods", "lstm")
    assert_one_line_error(code, err, r"needs PyTorch.*pip install")


# ------------------------------------------------------------------ the real data, a slice


def test_a_slice_of_hdfs_reproduces_its_figures(tmp_path):
    if not (HDFS / "hdfs_train").is_file():
        pytest.skip(f"sequence data not found at {HDFS}")
    files = {}
    for name in ("hdfs_train", "hdfs_test_abnormal"):
        with (HDFS / name).open(encoding="utf-8") as handle:
            files[name] = [line.rstrip("\n") for line in itertools.islice(handle, 1000)]
    folder = _write(tmp_path / "slice", files)
    # Measured once with: soc-anomaly benchmark --sequences SLICE --methods markov,unseen_pair
    # (SLICE = the first 1,000 lines of each file; seed 0: 800 training sessions, 200 held out).
    run = run_sequence_benchmark(folder, ["markov", "unseen_pair"], seed=0)
    figures = {r.method: (r.precision, r.recall, r.f1, r.fpr) for r in run.results}
    assert (len(run.split.train), len(run.split.normal), len(run.split.abnormal)) == (
        800, 200, 1000,
    )  # fmt: skip
    assert figures["markov"] == pytest.approx(MARKOV_SLICE, abs=5e-4)
    assert figures["unseen_pair"] == pytest.approx(PAIR_SLICE, abs=5e-4)


# precision, recall, F1, FPR (the run flags 1,000 and 800 of the abnormal, 9 and 4 of the normal).
MARKOV_SLICE = (0.991, 1.000, 0.996, 0.045)
PAIR_SLICE = (0.995, 0.800, 0.887, 0.020)

# ------------------------------------------------------------------ bad input, one line


def test_a_missing_folder_or_train_file_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(tmp_path / "nowhere"))
    assert_one_line_error(code, err, r"nowhere is not a folder")
    folder = _write(tmp_path / "no_train", {"x_test_abnormal": ABNORMAL})
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(folder))
    assert_one_line_error(code, err, r"no \*train\* file")


def test_a_binary_empty_or_absurd_file_is_one_line(tmp_path, capsys, monkeypatch):
    normal = _normal_sessions()
    folder = _write(tmp_path / "bad", {"x_train": normal, "x_test_abnormal": ABNORMAL})
    (folder / "x_test_abnormal").write_bytes(b"open read\n\x00\x01\xff\xfe close\n")
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(folder))
    assert_one_line_error(code, err, r"x_test_abnormal line 2 is not UTF-8 text")
    (folder / "x_test_abnormal").write_text("\n  \n", encoding="utf-8")
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(folder))
    assert_one_line_error(code, err, r"x_test_abnormal holds no session")
    # Small limits, so the hostile lines stay small.
    monkeypatch.setattr(sequence_files, "MAX_LINE_BYTES", 100)
    (folder / "x_test_abnormal").write_text("open " * 50 + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(folder))
    assert_one_line_error(code, err, r"line 1 is longer than 100 bytes")
    monkeypatch.setattr(sequence_files, "MAX_KEYS_PER_LINE", 10)
    (folder / "x_test_abnormal").write_text("a " * 20 + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(folder))
    assert_one_line_error(code, err, r"line 1 has 20 keys; expected at most 10")


def test_flags_of_the_other_benchmark_are_refused(grammar, capsys):
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(grammar), "--seeds", "2")
    assert_one_line_error(code, err, r"--seeds belong to the table benchmark")
    code, _, err = run_cli(capsys, "benchmark", "--top-g", "3")
    assert_one_line_error(code, err, r"--top-g: only with --sequences")
    code, _, err = run_cli(capsys, "benchmark", "--sequences", str(grammar), "--methods", "pca")
    assert_one_line_error(code, err, r"--methods pca unknown for --sequences")


def test_the_docs_page_is_rendered_from_the_csv_of_its_seed(grammar, tmp_path, capsys):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import results_render_sequences as render
    from results_render import BadInput

    target = tmp_path / "table.csv"
    _, rows = _csv_rows(capsys, grammar, target)
    page = render.hdfs_sequences(0)(rows)
    assert page.startswith("<!-- Generated by scripts/results_tables.py")
    assert "| `markov` | 1.0000 | 1.0000 | 1.0000 | 0.0000 | 4 / 4 | 0 / 6 |" in page
    assert "different splits, indicative only" in page
    with pytest.raises(BadInput, match="not at --seed 1"):
        render.hdfs_sequences(1)(rows)
