"""Hostile input to ``score``: bounded memory, refused blind spots, one line and exit 2.

A small corpus of what an attacker (or a broken export) can put in front of the
scorer, run through the command line in-process (issue 17).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.event_checks import MAX_COUNT, MAX_TEXT_CHARS, bound_events
from soc_anomaly.features.columns import read_events


@pytest.fixture(scope="module")
def model_dir(scoring_world) -> Path:
    return scoring_world.model_dir


@pytest.fixture(scope="module")
def head(scoring_world) -> pd.DataFrame:
    """The first 300 events after training, as a file holds them (text, not categories)."""
    frame = scoring_world.later.head(300).copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object)
    return frame


@pytest.fixture(scope="module")
def json_lines(head) -> list[str]:
    return head.to_json(orient="records", lines=True, date_format="iso").splitlines()


def _score(capsys, model_dir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", "--model-dir", str(model_dir), "--quiet", *args)


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --- memory: text never becomes a fixed-width array ------------------------------------------


def _peak(capsys, model_dir: Path, src: Path, out: Path) -> tuple[int, str]:
    """Peak traced memory of scoring ``src``, and what the run said."""
    tracemalloc.start()
    try:
        code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0, err
    return peak, err


def test_long_distinct_text_costs_memory_in_proportion_to_the_input(
    capsys, model_dir, json_lines, tmp_path
) -> None:
    # 250 distinct users, one of them 2 MB: a fixed-width text array of them took
    # 250 x 2 MB x 4 bytes = 2 GB. Against the same lines without the long name (the
    # model's own load is the same in both), the run may cost a few times the input.
    def lines(long: int) -> list[str]:
        out = []
        for i, line in enumerate(json_lines[:250]):
            record = json.loads(line)
            record["user"] = f"user{i}" + ("x" * long if i == 5 else "")
            out.append(json.dumps(record))
        return out

    plain = _write_lines(tmp_path / "plain.jsonl", lines(0))
    src = _write_lines(tmp_path / "long.jsonl", lines(2_000_000))
    out = tmp_path / "out.jsonl"
    _peak(capsys, model_dir, plain, out)  # warm up: imports, caches
    base, _ = _peak(capsys, model_dir, plain, out)
    peak, err = _peak(capsys, model_dir, src, out)
    size = src.stat().st_size
    assert peak - base < 4 * size, f"{(peak - base) / 1e6:.1f} MB more for {size / 1e6:.1f} MB"
    assert f"cut 1 text value(s) longer than {MAX_TEXT_CHARS:,}" in err
    assert "line 6, user" in err
    users = [json.loads(r)["user"] for r in out.read_text().splitlines()]
    assert max(len(u) for u in users) == MAX_TEXT_CHARS


def test_reading_events_keeps_text_as_object_strings(head) -> None:
    # Below the readers' bound too (the Python API): codes and an object index, no '<U' array.
    frame = head.head(250).copy()
    frame["user"] = [f"user{i}" + ("x" * 2_000_000 if i == 5 else "") for i in range(250)]
    tracemalloc.start()
    try:
        events = read_events(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert events.categories["user"].dtype == object
    assert peak < 8 * 2_000_000, f"peak {peak / 1e6:.1f} MB"


# --- blind spots: an input the model cannot read is an error, never 0 events --------------------


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("no header", r"the header names none of the columns read \(is it missing\?\); expected "),
        ("upper case", r"column EVENT_ID differs from event_id only in case"),
        ("unknown columns", r"header names none of the columns read .*found foo, bar$"),
    ],
)
def test_a_header_the_model_cannot_read_is_an_error(
    capsys, model_dir, head, tmp_path, kind, pattern
) -> None:
    src = tmp_path / "in.csv"
    if kind == "no header":
        head.to_csv(src, index=False, header=False)
    elif kind == "upper case":
        head.rename(columns=str.upper).to_csv(src, index=False)
    else:
        pd.DataFrame({"foo": [1, 2], "bar": [3, 4]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert_one_line_error(code, err, pattern)
    assert not out.exists()


def test_a_parquet_or_json_input_with_upper_case_columns_is_an_error(
    capsys, model_dir, head, tmp_path
) -> None:
    upper = head.rename(columns=str.upper)
    parquet = tmp_path / "in.parquet"
    upper.to_parquet(parquet, index=False)
    code, _, err = _score(capsys, model_dir, "--input", str(parquet))
    assert_one_line_error(code, err, r"differs from event_id only in case")
    jsonl = tmp_path / "in.jsonl"
    upper.to_json(jsonl, orient="records", lines=True, date_format="iso")
    code, _, err = _score(capsys, model_dir, "--input", str(jsonl))
    assert_one_line_error(code, err, r"\(line 1\): column EVENT_ID differs from event_id")


# --- JSON that breaks parsers: one line, or skipped and counted ---------------------------------


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        ("[" * 100_000 + "]" * 100_000, r"line 2: malformed JSON \(nested too deeply\)"),
        ({"user": {"name": "x"}}, r"line 2: user is an object; expected a single value"),
        ({"user": ["a", "b"]}, r"line 2: user is an array; expected a single value"),
    ],
    ids=["deep", "object", "array"],
)
def test_a_line_that_is_no_event_fails_or_is_skipped(
    capsys, model_dir, json_lines, tmp_path, bad, pattern
) -> None:
    lines = json_lines[:20]
    if isinstance(bad, dict):
        record = json.loads(lines[1])
        record.update(bad)
        lines[1] = json.dumps(record)
    else:
        lines[1] = bad
    src = _write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    args = ("--input", str(src), "--input-format", "jsonl", "--output", str(out))
    code, _, err = _score(capsys, model_dir, *args)
    assert_one_line_error(code, err, pattern)
    assert not out.exists()
    code, _, err = _score(capsys, model_dir, *args, "--on-error", "skip")
    assert code == 0, err
    assert "skipped 1 malformed line(s)" in err and "Traceback" not in err
    assert len(out.read_text().splitlines()) == 19


def test_an_input_whose_every_line_is_skipped_is_an_error(capsys, model_dir, tmp_path) -> None:
    src = _write_lines(tmp_path / "junk.jsonl", ["{not json", "[1, 2]", "", '{"a": '])
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--on-error", "skip")
    assert_one_line_error(code, err, r"no event in .*junk.jsonl: all 3 non-blank line\(s\)")


def test_an_ocsf_record_that_cannot_be_mapped_is_skipped_with_skip(
    capsys, model_dir, head, tmp_path
) -> None:
    from soc_anomaly.data.ocsf import write_ocsf_jsonl

    src = tmp_path / "in_ocsf.jsonl"
    write_ocsf_jsonl(head.head(20), src)
    lines = src.read_text().splitlines()
    record = json.loads(lines[3])
    record["src_endpoint"]["ip"] = ["10.0.0.1", "10.0.0.2"]  # an array where a value is expected
    lines[3] = json.dumps(record)
    _write_lines(src, lines)
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--input-format", "ocsf")
    assert_one_line_error(code, err, r"line 4: src_endpoint.ip is an array")
    out = tmp_path / "out.jsonl"
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--output", str(out), "--on-error", "skip"
    )
    assert code == 0 and "skipped 1" in err
    assert len(out.read_text().splitlines()) == 19


# --- numbers and times -----------------------------------------------------------------------


def test_impossible_counts_are_clipped_with_one_note_and_no_numpy_warning(
    capsys, recwarn, model_dir, head, tmp_path
) -> None:
    frame = head.copy()
    for name in ("bytes_in", "bytes_out"):
        frame[name] = frame[name].astype(object)
    frame.loc[10, "bytes_out"] = "inf"
    frame.loc[11, "bytes_out"] = 1e308
    frame.loc[12, "bytes_out"] = -5
    frame.loc[14, "bytes_in"] = "-inf"
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--output", str(out), "--columns", "all"
    )
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: clipped 4 negative, infinite or over-1e+12 count(s) to 0 or 1e+12 "
        "(first: event 11, bytes_out inf)"
    ]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    scored = pd.read_csv(out)
    assert scored.loc[10:12, "bytes_out"].tolist() == [MAX_COUNT, MAX_COUNT, 0.0]
    assert scored.loc[14, "bytes_in"] == 0.0
    assert np.isfinite(scored["score"]).all()


def test_a_count_that_is_no_number_names_its_event(capsys, model_dir, head, tmp_path) -> None:
    frame = head.copy()
    frame["bytes_in"] = frame["bytes_in"].astype(object)
    frame.loc[41, "bytes_in"] = "lots"
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--chunk-rows", "25")
    assert_one_line_error(code, err, r"^error: event 42: bytes_in 'lots' is not a number")


@pytest.mark.parametrize("when", ["9999-01-01T00:00:00Z", "1900-06-01T00:00:00Z"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_time_out_of_range_names_its_event_across_chunks(
    capsys, model_dir, head, tmp_path, when, fmt
) -> None:
    frame = head.copy()
    frame["time"] = frame["time"].astype(object)
    frame.loc[150, "time"] = pd.Timestamp(when) if fmt == "parquet" else when
    src = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        frame.to_csv(src, index=False)
    elif fmt == "jsonl":
        frame["time"] = [str(pd.Timestamp(t).isoformat()) for t in frame["time"]]
        frame.to_json(src, orient="records", lines=True)
    else:
        frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.as_unit("us")
        frame.to_parquet(src, index=False)
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--chunk-rows", "100")
    where = "line 151" if fmt == "jsonl" else "event 151"
    assert_one_line_error(code, err, rf"^error: {where}: time {when[:4]}-.* is out of range")


def test_the_python_api_bounds_events_the_same_way(scoring_world, head) -> None:
    from soc_anomaly.model import AnomalyModel

    model = AnomalyModel.load(scoring_world.model_dir)
    frame = head.head(40).copy()
    frame["bytes_out"] = frame["bytes_out"].astype(float)
    frame.loc[3, "bytes_out"] = -1.0
    frame.loc[4, "src_ip"] = "9" * 5000
    clean, notes = bound_events(frame)
    assert notes.clipped == 1 and notes.truncated == 1
    assert clean.loc[3, "bytes_out"] == 0.0 and len(clean.loc[4, "src_ip"]) == MAX_TEXT_CHARS
    scored = model.score(frame)
    assert np.allclose(scored["raw_score"], model.score(clean)["raw_score"])


def test_training_cuts_long_text_before_building_its_vocabularies(scoring_world) -> None:
    from soc_anomaly.model import AnomalyModel

    events = scoring_world.later.head(400).copy()
    events["user"] = events["user"].astype(object)
    events.loc[[5, 9], "user"] = ["u" * 200_000, "v" * 200_000]  # two distinct long names
    model = AnomalyModel(detector="iforest", features="entity", random_state=0).fit(events)
    vocab = model.featurizer_.vocab_["user"]
    # Fixed-width vocabularies are as wide as their longest value: the cut keeps them small.
    assert vocab.dtype.itemsize <= 4 * MAX_TEXT_CHARS
    assert {"u" * MAX_TEXT_CHARS, "v" * MAX_TEXT_CHARS} <= set(vocab.tolist())


def test_the_service_says_which_values_it_changed(scoring_world, head) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from soc_anomaly.service import create_app

    frame = head.head(30).copy()
    frame["user"] = frame["user"].astype(object)
    frame.loc[4, "user"] = "x" * 5000
    frame["bytes_out"] = frame["bytes_out"].astype(float)
    frame.loc[7, "bytes_out"] = -5.0
    body = json.loads(frame.to_json(orient="records", date_format="iso"))
    answer = TestClient(create_app(scoring_world.model_dir)).post("/v1/score", json=body)
    assert answer.status_code == 200, answer.text
    warning = answer.json()["warning"]
    assert "cut 1 text value(s) longer than 1,024 characters" in warning
    assert "(first: record 5, user)" in warning  # the array's 5th element, as in its errors
    assert "clipped 1 negative" in warning and "\n" not in warning
    # Clean records carry no warning.
    clean = json.loads(head.head(30).to_json(orient="records", date_format="iso"))
    answer = TestClient(create_app(scoring_world.model_dir)).post("/v1/score", json=clean)
    assert "warning" not in answer.json() or answer.json()["warning"] is None
