"""score --history, the training-window overlap warning, empty inputs, and one shape of
reasons per output format (a list; a JSON array in a CSV cell that no event value forges)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_helpers import assert_one_line_error, run_cli
from fastapi.testclient import TestClient

from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.scoring import training_overlap
from soc_anomaly.service import create_app

# The bundle holds an incident linker: its two columns close every row.
HEADER = "event_id,time,user,score,alert,reasons,incident_id,incident_score"


# The world and bundle are the session's (tests/conftest.py: scoring_world).
@pytest.fixture(scope="module")
def world(scoring_world):
    return scoring_world.world


@pytest.fixture(scope="module")
def model_dir(scoring_world) -> Path:
    return scoring_world.model_dir


@pytest.fixture(scope="module")
def model(model_dir) -> AnomalyModel:
    return AnomalyModel.load(model_dir)


@pytest.fixture(scope="module")
def later(scoring_world) -> pd.DataFrame:
    """The events after the training window."""
    return scoring_world.later


def _score(capsys, model_dir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", "--model-dir", str(model_dir), "--quiet", *args)


# --- --history ----------------------------------------------------------------------------


def test_history_means_what_the_python_api_means(capsys, model_dir, model, later, tmp_path):
    cut = later["time"].min() + pd.Timedelta(days=2)
    history, events = later[later["time"] < cut], later[later["time"] >= cut]
    events = events.reset_index(drop=True)
    hist_file, src = tmp_path / "history.csv", tmp_path / "events.parquet"
    history.to_csv(hist_file, index=False)
    events.to_parquet(src, index=False)
    out = tmp_path / "with.parquet"
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--history", str(hist_file), "--output", str(out),
        "--chunk-rows", "700",
    )  # fmt: skip
    assert code == 0, err
    got = pd.read_parquet(out)
    expected = model.score(events, history=history)
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-12)
    assert got["alert"].tolist() == expected["alert"].tolist()
    # The history is read: without it the windows start empty and scores differ.
    alone = model.score(events)
    assert not np.allclose(alone["score"], expected["score"])
    # --input-format names the input's format, not the history's (a CSV here).
    jsonl = tmp_path / "events.jsonl"
    events.to_json(jsonl, orient="records", lines=True)
    forced = tmp_path / "forced.parquet"
    code, _, err = _score(
        capsys, model_dir, "--input", str(jsonl), "--input-format", "jsonl",
        "--history", str(hist_file), "--output", str(forced),
    )  # fmt: skip
    assert code == 0, err
    np.testing.assert_allclose(pd.read_parquet(forced)["score"], got["score"], rtol=1e-12)


def test_the_help_names_the_formats_the_readers_and_writers_know() -> None:
    from soc_anomaly.cli import score
    from soc_anomaly.data.input_source import INPUT_FORMATS
    from soc_anomaly.model.writers import OUTPUT_FORMATS

    assert score._INPUT_FORMATS.split(", ") == list(INPUT_FORMATS)
    assert score._OUTPUT_FORMATS.split(", ") == list(OUTPUT_FORMATS)


def test_history_after_the_events_is_one_line(capsys, model_dir, later, tmp_path) -> None:
    half = len(later) // 2
    hist_file, src = tmp_path / "history.parquet", tmp_path / "events.parquet"
    later.iloc[half:].to_parquet(hist_file, index=False)
    later.iloc[:half].to_parquet(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--history", str(hist_file), "--output", str(out)
    )
    assert_one_line_error(code, err, r"event 1 is earlier than the end of the history")
    assert not out.exists()


def test_history_is_not_read_by_per_event_features(capsys, world, later, tmp_path) -> None:
    seed_dir = tmp_path / "seed"
    train = world.events[world.events["time"] < world.attack_start]
    AnomalyModel(detector="iforest", features="seed").fit(train).save(seed_dir)
    src = tmp_path / "events.parquet"
    later.head(300).to_parquet(src, index=False)
    code, _, err = _score(
        capsys, seed_dir, "--input", str(src), "--history", str(tmp_path / "nothing.csv"),
        "--output", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert code == 0, err
    assert "note: --history is not read: seed features are per event" in err


# --- the training window --------------------------------------------------------------------


def test_scoring_the_training_window_warns_once(capsys, model_dir, model, world, later, tmp_path):
    inside = world.events[world.events["time"] < world.attack_start].tail(400)
    src = tmp_path / "inside.parquet"
    inside.to_parquet(src, index=False)
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--output", str(tmp_path / "o.csv")
    )
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    start, end = (pd.Timestamp(model.training_[k]) for k in ("start", "end"))
    assert (
        f"training window ({start:%Y-%m-%d %H:%M} UTC to {end:%Y-%m-%d %H:%M} UTC)" in warnings[0]
    )
    first, last = inside["time"].min(), inside["time"].max()
    assert f"scored ({first:%Y-%m-%d %H:%M} UTC to {last:%Y-%m-%d %H:%M} UTC)" in warnings[0]
    src2 = tmp_path / "later.parquet"
    later.head(400).to_parquet(src2, index=False)
    code, _, err = _score(
        capsys, model_dir, "--input", str(src2), "--output", str(tmp_path / "p.csv")
    )
    assert code == 0 and "warning:" not in err


def test_training_overlap_needs_both_ranges() -> None:
    window = {"start": "2026-01-05T00:00:00+00:00", "end": "2026-01-08T23:00:00+00:00"}
    t = pd.Timestamp
    assert training_overlap(window, t("2026-01-08T22:00Z"), t("2026-01-10T00:00Z")) is not None
    assert training_overlap(window, t("2026-01-09T00:00Z"), t("2026-01-10T00:00Z")) is None
    assert training_overlap(window, None, None) is None
    assert (
        training_overlap(
            {"start": None, "end": None}, t("2026-01-06T00:00Z"), t("2026-01-07T00:00Z")
        )
        is None
    )
    # Naive times are UTC, as the readers make them.
    assert training_overlap(window, t("2026-01-01"), t("2026-01-05 00:00")) is not None


def test_the_service_warns_in_its_answer(model_dir, world, later) -> None:
    client = TestClient(create_app(model_dir))
    inside = world.events[world.events["time"] < world.attack_start].tail(20)

    def body(frame: pd.DataFrame) -> list[dict]:
        return json.loads(frame.to_json(orient="records", date_format="iso"))

    answer = client.post("/v1/score", json=body(inside)).json()
    assert "overlap the model's training window" in answer["warning"]
    assert "warning" not in client.post("/v1/score", json=body(later.head(20))).json()
    assert "warning" in client.post("/v1/score?format=ocsf", json=body(inside)).json()


# --- empty inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("header.csv", None), ("empty.jsonl", b""), ("blank.jsonl", b"\n\n"), ("zero.csv", b"")],
)
def test_an_empty_input_gives_an_empty_table_with_its_header(
    capsys, model_dir, later, tmp_path, name, content
) -> None:
    src = tmp_path / name
    if content is None:
        later.head(0).to_csv(src, index=False)
    else:
        src.write_bytes(content)
    out = tmp_path / "out.csv"
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert code == 0
    assert "Scored 0 events" in err and "with its header" in err
    assert out.read_text() == HEADER + "\n"
    parquet = tmp_path / "out.parquet"
    assert _score(capsys, model_dir, "--input", str(src), "--output", str(parquet))[0] == 0
    schema = pq.read_schema(parquet)
    assert schema.names == HEADER.split(",")
    assert str(schema.field("reasons").type) == "list<element: string>"
    assert str(schema.field("time").type).startswith("timestamp")
    jsonl = tmp_path / "out.jsonl"
    assert _score(capsys, model_dir, "--input", str(src), "--output", str(jsonl))[0] == 0
    assert jsonl.read_bytes() == b""


def test_an_empty_input_keeps_the_columns_asked_for(capsys, model_dir, later, tmp_path) -> None:
    src = tmp_path / "header.csv"
    later.head(0).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, _ = _score(
        capsys, model_dir, "--input", str(src), "--output", str(out), "--columns", "dst_host"
    )
    assert code == 0
    assert out.read_text() == (
        "event_id,time,user,dst_host,score,alert,reasons,incident_id,incident_score\n"
    )


# --- reasons: one shape per format ----------------------------------------------------------


@pytest.fixture(scope="module")
def forged(later) -> pd.DataFrame:
    """Events whose device ids try to forge reason separators (quoted in the reasons)."""
    events = later.head(2500).copy()
    devices = events["device_id"].astype(object)
    events["device_id"] = devices.where(devices.isna(), devices + '; forged", "x\\n[]\nline two')
    return events


def test_reasons_are_lists_everywhere(capsys, model_dir, model, forged, tmp_path) -> None:
    expected = model.score(forged)
    alerted = expected.loc[expected["alert"], "reasons"].tolist()
    assert alerted and all(isinstance(r, list) and r for r in alerted)
    assert any("forged" in s for r in alerted for s in r)  # the values reach the sentences
    src = tmp_path / "events.parquet"
    forged.to_parquet(src, index=False)
    got = {}
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"out.{fmt}"
        assert _score(capsys, model_dir, "--input", str(src), "--output", str(out))[0] == 0
        got[fmt] = out
    csv = pd.read_csv(got["csv"], keep_default_na=False)
    # One line per event: no value quoted in a reason breaks the CSV or the list.
    assert [json.loads(cell) for cell in csv["reasons"]] == expected["reasons"].tolist()
    lines = got["jsonl"].read_text().splitlines()
    assert [json.loads(line)["reasons"] for line in lines] == expected["reasons"].tolist()
    parquet = pd.read_parquet(got["parquet"])
    assert [list(r) for r in parquet["reasons"]] == expected["reasons"].tolist()


def test_the_service_and_ocsf_carry_the_same_list(model_dir, model, forged) -> None:
    events = forged.head(600)
    expected = model.score(events)
    client = TestClient(create_app(model_dir))
    body = json.loads(events.to_json(orient="records", date_format="iso"))
    results = client.post("/v1/score", json=body).json()["results"]
    assert [r["reasons"] for r in results] == expected["reasons"].tolist()
    found = client.post("/v1/score?format=ocsf", json=body).json()["findings"]
    observed = [
        [o["value"] for o in f["anomaly_analyses"][0]["anomalies"][0]["observations"]]
        for f in found
    ]
    assert observed == expected.loc[expected["alert"], "reasons"].tolist()


def test_the_service_scores_an_auth_only_body(model_dir, model, later) -> None:
    auth = later[later["class_uid"] == 3002].head(300).reset_index(drop=True)
    kept = [c for c in auth.columns if c not in ("bytes_in", "bytes_out", "direction")]
    body = json.loads(auth[kept].drop(columns="status_detail").to_json(orient="records"))
    answer = TestClient(create_app(model_dir)).post("/v1/score", json=body)
    assert answer.status_code == 200, answer.text
    expected = model.score(auth.assign(status_detail=None))
    got = [r["score"] for r in answer.json()["results"]]
    np.testing.assert_allclose(got, expected["score"], rtol=0, atol=1e-9)
