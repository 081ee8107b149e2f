"""score's CSV output under hostile values: no formula, no forged row, no terminal control.

The values an attacker can type (a user name, a host name) are written through
``score --format csv`` and read back with pandas and with Python's ``csv``
module: the same rows come back, with the escapes soc_anomaly.model.safe_csv
documents, or (``--raw-csv``) the values as they were.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.event_checks import MAX_TEXT_CHARS
from soc_anomaly.model.safe_csv import csv_text, spreadsheet_cell

LONG = "L" * 10_000  # scoring keeps the first MAX_TEXT_CHARS (data/event_checks.py)
# (value written, value read back from the default, escaped, output)
HOSTILE = [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tTAB", "'\tTAB"),
    ("\r=forged,row", "'\r=forged,row"),
    ("cr\rinside", "cr\rinside"),
    ("line\nbreak", "line\nbreak"),
    ("crlf\r\n99999,x", "crlf\r\n99999,x"),
    ("nul\x00byte", "nul\\u0000byte"),
    ("\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m"),
    ('quo"te,comma', 'quo"te,comma'),
    ("-12.5", "-12.5"),  # a number in a text column: no formula, left alone
    ("bidi\u202eevil", "bidi\\u202eevil"),
    (LONG, LONG[:MAX_TEXT_CHARS]),
    ("alice", "alice"),
]


@pytest.fixture(scope="module")
def hostile_input(scoring_world, tmp_path_factory) -> tuple[Path, list[int]]:
    """JSON Lines events whose user and src_host are the hostile values."""
    rows = scoring_world.later.head(len(HOSTILE)).copy()
    rows["user"] = [value for value, _ in HOSTILE]
    rows["src_host"] = [value for value, _ in reversed(HOSTILE)]
    path = tmp_path_factory.mktemp("hostile") / "events.jsonl"
    rows.to_json(path, orient="records", lines=True, date_format="iso")
    return path, rows["event_id"].tolist()


def _score(capsys, model_dir: Path, src: Path, out: Path, *extra: str) -> None:
    argv = ["--model-dir", str(model_dir), "--input", str(src), "--output", str(out)]
    code, _, err = run_cli(capsys, "score", *argv, "--columns", "src_host", "--quiet", *extra)
    assert code == 0, err


def _read_both(out: Path) -> tuple[pd.DataFrame, list[list[str]]]:
    frame = pd.read_csv(out, dtype={"user": str, "src_host": str}, keep_default_na=False)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return frame, rows


@pytest.mark.parametrize("raw", [False, True], ids=["escaped", "raw"])
def test_hostile_values_come_back_as_the_rows_written(
    capsys, scoring_world, hostile_input, tmp_path, raw
) -> None:
    src, ids = hostile_input
    out = tmp_path / "out.csv"
    _score(capsys, scoring_world.model_dir, src, out, *(["--raw-csv"] if raw else []))
    expected = [(value if raw else escaped)[:MAX_TEXT_CHARS] for value, escaped in HOSTILE]
    frame, rows = _read_both(out)
    assert frame["event_id"].tolist() == ids
    assert frame["user"].tolist() == expected
    assert frame["src_host"].tolist() == expected[::-1]
    # The score stays a number on every row: no value spilled into the next field.
    assert pd.api.types.is_float_dtype(frame["score"]) and frame["score"].notna().all()
    assert all(json.loads(cell) == [] or json.loads(cell) for cell in frame["reasons"])
    header, body = rows[0], rows[1:]
    assert header == list(frame.columns)
    assert [int(r[header.index("event_id")]) for r in body] == ids
    assert [r[header.index("user")] for r in body] == expected


def test_the_escaped_output_holds_no_control_byte(capsys, scoring_world, hostile_input, tmp_path):
    src, _ = hostile_input
    out = tmp_path / "out.csv"
    _score(capsys, scoring_world.model_dir, src, out)
    data = out.read_bytes()
    assert b"\x00" not in data and b"\x1b" not in data
    assert "\u202e" not in data.decode("utf-8")
    # Every formula start is behind a quote: no cell a spreadsheet would run.
    frame, _ = _read_both(out)
    for col in ("user", "src_host"):
        assert not frame[col].str.match(r"[=+@\t\r]").any()
        assert not frame[col].str.match(r"-(?![\d.])").any()


def test_standard_output_carries_no_terminal_control(capsysbinary, scoring_world, hostile_input):
    src, _ = hostile_input
    argv = ["--model-dir", str(scoring_world.model_dir), "--input", str(src), "--quiet"]
    for fmt in ("csv", "jsonl"):
        code, out, _ = run_cli(capsysbinary, "score", *argv, "--output", "-", "--format", fmt)
        assert code == 0
        assert b"\x00" not in out and b"\x1b" not in out and b"\xe2\x80\xae" not in out
    # The JSON Lines still decode to the values as they were.
    users = [json.loads(line)["user"] for line in out.decode().splitlines()]
    assert users == [value[:MAX_TEXT_CHARS] for value, _ in HOSTILE]


def test_raw_csv_needs_csv_output(capsys, scoring_world, hostile_input, tmp_path):
    src, _ = hostile_input
    code, _, err = run_cli(
        capsys,
        "score",
        "--model-dir",
        str(scoring_world.model_dir),
        "--input",
        str(src),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--raw-csv",
    )
    assert_one_line_error(code, err, r"--raw-csv applies to CSV output; the output format is jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_numbers_stay_numbers_and_column_names_are_escaped() -> None:
    frame = pd.DataFrame({"=name": ["=1+1", None, 7], "score": [-3.5, 0.0, 1.0], "n": [-1, 2, 3]})
    text = csv_text(frame, header=True)
    assert text.splitlines() == ["'=name,score,n", "'=1+1,-3.5,-1", ",0.0,2", "7,1.0,3"]
    assert csv_text(frame, header=True, raw=True).splitlines()[:2] == [
        "=name,score,n",
        "=1+1,-3.5,-1",
    ]
    # A carriage return quotes the chunk's text fields; numbers stay bare.
    cr = csv_text(pd.DataFrame({"u": ["a\rb"], "s": [-1.0]}), header=False, raw=True)
    assert cr == '"a\rb",-1.0\n'
    assert list(csv.reader(io.StringIO(cr, newline=""))) == [["a\rb", "-1.0"]]


def test_a_cell_is_escaped_as_documented() -> None:
    assert spreadsheet_cell("=A1") == "'=A1"
    assert spreadsheet_cell("+5") == "+5" and spreadsheet_cell("-.5e3") == "-.5e3"
    assert spreadsheet_cell("-") == "'-"
    assert spreadsheet_cell("a\x7fb\x9b") == "a\\u007fb\\u009b"
    assert spreadsheet_cell("\x00=x") == "\\u0000=x"  # starts with a backslash: no formula
    assert spreadsheet_cell("tab\there") == "tab\there"
