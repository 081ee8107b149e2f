"""What ``score`` says of times and accounts it cannot read: the right line, and why (issue 17).

Times are read value by value (ISO 8601 text, or epoch milliseconds as a number or
digits), so a mix is scored whichever chunk a value falls in; a value that is no
time, and a null user on a logon, are named by their line (JSON Lines) or event (CSV), and
``--on-error skip`` skips such JSON lines and counts them.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.event_times import parse_times
from soc_anomaly.errors import DataError


@pytest.fixture(scope="module")
def records(scoring_world) -> list[dict]:
    """The first 80 events after training as JSON objects with ISO 8601 times."""
    head = scoring_world.later.head(80).copy()
    for name in head.columns:
        if isinstance(head[name].dtype, pd.CategoricalDtype):
            head[name] = head[name].astype(object)
    text = head.to_json(orient="records", lines=True, date_format="iso")
    return [json.loads(line) for line in text.splitlines()]


def _ms(iso: str) -> int:
    return int(pd.Timestamp(iso).value // 1_000_000)


def _jsonl(tmp_path: Path, records: list[dict], changes: dict[int, dict]) -> Path:
    """``records`` as JSON Lines, record ``i`` (0-based) updated with ``changes[i]``."""
    out = []
    for i, record in enumerate(records):
        record = {**record, **changes.get(i, {})}
        out.append(json.dumps({k: v for k, v in record.items() if v is not ...}))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(out) + "\n")
    return path


def _score(capsys, scoring_world, src: Path, tmp_path: Path, *args: str):
    out = tmp_path / "scores.csv"
    code, _, err = run_cli(
        capsys,
        "score",
        "--model-dir",
        str(scoring_world.model_dir),
        "--input",
        str(src),
        "--output",
        str(out),
        "--chunk-rows",
        "10",
        *args,
    )
    return code, err, out


@pytest.mark.parametrize("epoch", ["number", "digits"])
def test_iso_times_mixed_with_epoch_ms_are_each_read_by_their_kind(
    capsys, scoring_world, records, tmp_path, epoch
) -> None:
    ms = _ms(records[56]["time"])
    value = ms if epoch == "number" else str(ms)
    src = _jsonl(tmp_path, records, {56: {"time": value}})
    code, err, out = _score(capsys, scoring_world, src, tmp_path)
    assert code == 0, err
    mixed = pd.read_csv(out)
    plain_src = _jsonl(tmp_path, records, {})
    code, err, plain_out = _score(capsys, scoring_world, plain_src, tmp_path)
    assert code == 0, err
    # The same events, the same scores: the epoch value is the same instant as its text.
    pd.testing.assert_frame_equal(mixed, pd.read_csv(plain_out))


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (1e300, r"^error: line 57: time 1e\+300 is out of range as epoch milliseconds; expected"),
        ("soon", r"^error: line 57: time 'soon' is not a time; expected ISO 8601 .* or epoch ms"),
        (True, r"^error: line 57: time True is not a time"),
        (None, r"^error: line 57 has no time"),
        ("3000-01-01T00:00:00Z", r"^error: line 57: time .*3000-01-01.* is out of range"),
    ],
    ids=["huge", "text", "boolean", "null", "far-future"],
)
def test_a_time_that_is_no_time_is_named_by_its_line_without_a_warning(
    capsys, scoring_world, records, tmp_path, value, pattern
) -> None:
    src = _jsonl(tmp_path, records, {56: {"time": value}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' "invalid value encountered in cast" fails
        code, err, _ = _score(capsys, scoring_world, src, tmp_path)
    assert_one_line_error(code, err, pattern.replace("epoch ms", "epoch milliseconds"))
    assert "Warning" not in err
    assert "--on-error skip" in err


def test_skip_skips_lines_whose_time_or_user_is_no_event(
    capsys, scoring_world, records, tmp_path
) -> None:
    # A logon needs its account (a flow without one is its source endpoint's).
    no_user, no_key = {"user": None, "class_uid": 3002}, {"user": ..., "class_uid": 3002}
    changes = {3: {"time": 1e300}, 14: no_user, 40: {"time": "soon"}, 62: no_key}
    src = _jsonl(tmp_path, records, changes)
    code, err, out = _score(capsys, scoring_world, src, tmp_path, "--on-error", "skip")
    assert code == 0, err
    assert len(pd.read_csv(out)) == len(records) - 4
    assert "skipped 4 " in err, err


def test_a_null_user_is_named_by_its_line(capsys, scoring_world, records, tmp_path) -> None:
    src = _jsonl(tmp_path, records, {56: {"user": None, "class_uid": 3002}})
    code, err, _ = _score(capsys, scoring_world, src, tmp_path)
    assert_one_line_error(
        code, err, r"^error: line 57: user is null; expected an account name .*--on-error skip"
    )


def test_a_null_user_in_a_csv_is_named_by_its_event(
    capsys, scoring_world, records, tmp_path
) -> None:
    frame = pd.DataFrame.from_records(records)
    frame.loc[56, ["user", "class_uid"]] = [None, 3002]
    src = tmp_path / "events.csv"
    frame.to_csv(src, index=False)
    code, err, _ = _score(capsys, scoring_world, src, tmp_path)
    assert_one_line_error(code, err, r"^error: event 57: user is null; expected an account name")


def test_a_csv_mixing_iso_text_and_epoch_digits_is_read() -> None:
    frame = pd.DataFrame({"time": ["2026-01-05T14:30:00Z", "1767627000000", None]})
    with pytest.raises(DataError, match=r"^event 13 has no time"):
        parse_times(frame.copy(), first_row=10)
    times = parse_times(frame.head(2).copy())["time"]
    assert times.tolist() == [
        pd.Timestamp("2026-01-05 14:30", tz="UTC"),
        pd.Timestamp("2026-01-05 15:30", tz="UTC"),
    ]


def test_the_first_bad_time_is_named_whatever_its_kind() -> None:
    # An ISO value that is no time after an epoch value out of range: the earlier one is named.
    frame = pd.DataFrame({"time": ["2026-01-05T14:30:00Z", -5, "soon"]})
    with pytest.raises(DataError, match=r"^line 8: time -5 is out of range as epoch"):
        parse_times(frame, lines=[3, 8, 9])
