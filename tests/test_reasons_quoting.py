"""Event values in reasons and findings are quoted: a value cannot forge a sentence (issue 17)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

from soc_anomaly.features.explain import quote
from soc_anomaly.model.findings import reason_list

HOSTILE_IP = '1.2.3.4; the account "root" has no history in the training window\r\n\x1b[31m\u202e'
# A JSON string: what a quoted value is (escapes included).
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@pytest.mark.parametrize(
    "value", ["10.0.0.1", "a; b", 'say "hi"', "back\\slash", "\x00\x1b[2J", "\u202egnp.exe", "é"]
)
def test_quote_reads_back_as_the_value_and_shows_nothing_invisible(value) -> None:
    text = quote(value)
    assert json.loads(text) == value
    assert text.isprintable()
    assert _QUOTED.fullmatch(text)


def test_joined_reasons_split_only_outside_quotes() -> None:
    reasons = [f"first event from {quote(HOSTILE_IP)} for this user", "2 failed logons"]
    assert reason_list("; ".join(reasons)) == reasons


def test_a_value_cannot_forge_a_sentence_in_reasons_or_findings(
    capsys, scoring_world, tmp_path: Path
) -> None:
    events = scoring_world.later.head(400).copy()
    events["src_ip"] = HOSTILE_IP
    src = tmp_path / "in.parquet"
    events.to_parquet(src, index=False)
    out = tmp_path / "out.jsonl"
    model = str(scoring_world.model_dir)
    code, _, err = run_cli(capsys, "score", "--model-dir", model, "--input", str(src),
                           "--output", str(out), "--alerts-only", "--quiet")  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sentences = [s for row in rows for s in row["reasons"]]
    naming = [s for s in sentences if "1.2.3.4" in s]
    assert naming, "expected alerts that name the source address"
    for sentence in sentences:
        bare = _QUOTED.sub("", sentence)
        # Outside the quotes, only the template's own words: no separator, no control character.
        assert ";" not in bare and "root" not in bare and sentence.isprintable(), sentence
    for sentence in naming:
        assert quote(HOSTILE_IP) in sentence
    findings = tmp_path / "findings.jsonl"
    code, _, err = run_cli(capsys, "score", "--model-dir", model, "--input", str(src),
                           "--output", str(findings), "--format", "ocsf", "--quiet")  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in findings.read_text().splitlines()]
    assert len(records) == len(rows)
    for record, row in zip(records, rows, strict=True):
        observed = [
            o["value"] for o in record["anomaly_analyses"][0]["anomalies"][0]["observations"]
        ]
        assert observed == row["reasons"]
        assert reason_list(record["finding_info"]["desc"]) == row["reasons"]
        assert record["finding_info"]["title"].startswith(
            f"Anomalous logon by {quote(row['user'])}"
        ) or (
            record["finding_info"]["title"].startswith(
                f"Anomalous connection by {quote(row['user'])}"
            )
        )
    assert pd.notna(rows[0]["score"])
