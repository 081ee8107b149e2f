"""Scoring streams: chunk-size invariance, every input and output format, OCSF findings,
evaluation, and one-line errors that leave nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import ocsf_emitter
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from ocsf_emitter import models
from sklearn.metrics import average_precision_score

from soc_anomaly.data.event_stream import read_event_chunks
from soc_anomaly.data.ocsf import write_ocsf_jsonl
from soc_anomaly.data.ocsf_input import ocsf_to_events
from soc_anomaly.errors import DataError
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.findings import SEVERITY_BANDS, severity
from soc_anomaly.model.stream import StreamScorer
from soc_anomaly.scenarios import generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(n_users=120, days=14, campaigns=10, random_state=7)


@pytest.fixture(scope="module")
def model_dir(world, tmp_path_factory) -> Path:
    events = world.events
    train = events[events["time"] < world.attack_start]
    out = tmp_path_factory.mktemp("bundle") / "entity"
    AnomalyModel(detector="iforest", features="entity").fit(train, users=world.users).save(out)
    return out


@pytest.fixture(scope="module")
def test_events(world) -> pd.DataFrame:
    """The evaluation half, in time order, as a file would hold it."""
    events = world.events
    return events[events["time"] >= world.attack_start].reset_index(drop=True)


@pytest.fixture(scope="module")
def files(test_events, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    out = {
        "parquet": root / "events.parquet",
        "csv": root / "events.csv",
        "jsonl": root / "events.jsonl",
        "ocsf": root / "events_ocsf.jsonl",
    }
    test_events.to_parquet(out["parquet"], index=False)
    test_events.to_csv(out["csv"], index=False)
    test_events.to_json(out["jsonl"], orient="records", lines=True, date_format="iso")
    write_ocsf_jsonl(test_events, out["ocsf"])
    return out


@pytest.fixture(scope="module")
def whole(model_dir, test_events) -> pd.DataFrame:
    """The evaluation half scored in one call."""
    return AnomalyModel.load(model_dir).score(test_events)


def _score(capsys, model_dir, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", "--model-dir", str(model_dir), "--quiet", *args)


# --- one stream, any chunking ------------------------------------------------------


@pytest.mark.parametrize("chunk", [1_009, 7_919])
def test_stream_equals_one_call_for_any_chunk_size(model_dir, test_events, whole, chunk) -> None:
    scorer = StreamScorer(AnomalyModel.load(model_dir))
    parts = [
        scorer.score(test_events.iloc[i : i + chunk]) for i in range(0, len(test_events), chunk)
    ]
    got = pd.concat(parts)
    assert whole["alert"].sum() > 50
    np.testing.assert_array_equal(got["raw_score"].to_numpy(), whole["raw_score"].to_numpy())
    assert got["reasons"].tolist() == whole["reasons"].tolist()
    # What is carried is about a day of traffic and a few events per user and
    # destination (the entities), not the stream.
    last_days = int((test_events["time"] >= test_events["time"].max() - pd.Timedelta("2D")).sum())
    pairs = test_events.groupby(["user", "dst_host"], observed=True).ngroups
    bound = last_days + test_events["user"].nunique() + 8 * pairs
    assert 0 < scorer.history_rows <= bound < len(test_events)


def test_windows_see_the_previous_chunk(model_dir, test_events, whole) -> None:
    """Without the carried history the second half scores differently: the carry matters."""
    model = AnomalyModel.load(model_dir)
    half = len(test_events) // 2
    alone = model.score(test_events.iloc[half:])
    assert not np.array_equal(alone["raw_score"].to_numpy(), whole["raw_score"].to_numpy()[half:])


def test_cli_output_does_not_depend_on_chunk_rows(capsys, model_dir, files, tmp_path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _score(capsys, model_dir, "--input", str(files["parquet"]), "--output", str(a))[0] == 0
    code, _, _ = _score(
        capsys, model_dir, "--input", str(files["parquet"]), "--output", str(b),
        "--chunk-rows", "3001",
    )  # fmt: skip
    assert code == 0
    assert a.read_bytes() == b.read_bytes()


def test_out_of_order_chunks_are_refused(model_dir, test_events) -> None:
    scorer = StreamScorer(AnomalyModel.load(model_dir))
    scorer.score(test_events.iloc[1000:2000])
    with pytest.raises(DataError, match=r"event 1001 is earlier .* time order"):
        scorer.score(test_events.iloc[:1000])


# --- formats -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "ocsf"])
def test_every_input_format_scores_the_same(capsys, model_dir, files, whole, fmt, tmp_path):
    out = tmp_path / "scored.parquet"
    args = ["--input", str(files[fmt]), "--output", str(out)]
    if fmt == "ocsf":
        args += ["--input-format", "ocsf"]
    code, _, err = _score(capsys, model_dir, *args)
    assert code == 0, err
    got = pd.read_parquet(out)
    assert len(got) == len(whole)
    np.testing.assert_allclose(got["score"].to_numpy(), whole["score"].to_numpy(), rtol=1e-12)
    assert got["alert"].tolist() == whole["alert"].tolist()
    # Parquet's list column reads back as arrays.
    assert [list(r) for r in got["reasons"]] == whole["reasons"].tolist()


def test_ocsf_records_read_back_to_the_raw_columns(test_events) -> None:
    from soc_anomaly.data.ocsf import ocsf_records

    head = test_events.head(2000)
    back = ocsf_to_events(list(ocsf_records(head)))
    for col in ("user", "src_ip", "dst_host", "status", "direction", "src_country"):
        left = head[col].astype(object).where(head[col].notna(), None).tolist()
        right = back[col].astype(object).where(back[col].notna(), None).tolist()
        assert left == right, col
    assert back["event_id"].tolist() == head["event_id"].tolist()
    assert (back["time"] == head["time"].dt.as_unit("ms")).all()
    np.testing.assert_array_equal(back["bytes_out"].to_numpy(), head["bytes_out"].to_numpy(float))


def test_vendor_variants_of_ocsf_fields_are_read() -> None:
    record = {
        "class_uid": 4001,
        "time_dt": "2026-01-05T10:00:00Z",
        "actor": {"user": {"name": "alice"}},
        "device": {"uid": "DEV-1"},
        "service": {"name": "git.corp.example"},
        "connection_info": {"direction_id": 2},
        "status_id": 1,
        "traffic": {"bytes_out": 10},
    }
    row = ocsf_to_events([record]).iloc[0]
    assert (row["user"], row["device_id"], row["dst_host"]) == (
        "alice",
        "DEV-1",
        "git.corp.example",
    )
    assert (row["direction"], row["status"]) == ("Outbound", "Success")
    assert row["time"] == pd.Timestamp("2026-01-05T10:00:00Z")
    assert row["timezone_offset"] == 0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["class_uid", "time", "user", "src_endpoint", "metadata", "time_dt"]),
            st.one_of(
                st.integers(-5, 5000),
                st.text(max_size=5),
                st.none(),
                st.dictionaries(st.sampled_from(["name", "ip", "uid"]), st.text(max_size=3)),
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_ocsf_reader_either_reads_or_names_the_line(records) -> None:
    try:
        frame = ocsf_to_events(records)
    except DataError as exc:
        assert str(exc).startswith("line ")
        assert "\n" not in str(exc)
    else:
        assert len(frame) == len(records)
        assert set(frame["class_uid"]) <= {3002, 4001}


def test_stdin_to_stdout_gives_whole_json_lines(model_dir, files, whole) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "soc_anomaly.cli", "score", "--model-dir", str(model_dir),
         "--input-format", "jsonl", "--chunk-rows", "20000"],
        stdin=files["jsonl"].open("rb"), capture_output=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == len(whole)
    rows = [json.loads(line) for line in lines]
    assert [r["alert"] for r in rows] == whole["alert"].tolist()
    # The bundle holds an incident linker: every row says its incident (null if none).
    assert {"event_id", "time", "user", "score", "alert", "reasons", "incident_id",
            "incident_score"} == set(rows[0])  # fmt: skip
    assert b"Scored" in proc.stderr


def test_alerts_only_and_columns(capsys, model_dir, files, whole, tmp_path) -> None:
    out = tmp_path / "alerts.csv"
    code, _, _ = _score(
        capsys, model_dir, "--input", str(files["parquet"]), "--output", str(out),
        "--alerts-only", "--columns", "dst_host,src_country",
    )  # fmt: skip
    assert code == 0
    got = pd.read_csv(out)
    assert len(got) == int(whole["alert"].sum())
    assert list(got.columns) == [
        "event_id", "time", "user", "dst_host", "src_country", "score", "alert", "reasons",
        "incident_id", "incident_score",
    ]  # fmt: skip
    assert got["alert"].all() and got["reasons"].str.len().gt(0).all()


def test_label_col_evaluates_the_scores(capsys, model_dir, files, whole, test_events) -> None:
    code, _, err = run_cli(
        capsys, "score", "--model-dir", str(model_dir), "--input", str(files["parquet"]),
        "--output", "-", "--format", "csv", "--label-col", "label", "--alerts-only",
    )  # fmt: skip
    assert code == 0
    pr_auc = average_precision_score(test_events["label"], whole["raw_score"])
    line = next(x for x in err.splitlines() if x.startswith("Against the labels"))
    assert f"PR AUC {pr_auc:.3f}" in line
    assert f"{int(test_events['label'].sum()):,} attack events" in line


# --- OCSF findings -----------------------------------------------------------------


def test_findings_are_valid_detection_findings(capsys, model_dir, files, whole, test_events):
    code, out, _ = run_cli(
        capsys, "score", "--model-dir", str(model_dir), "--input", str(files["parquet"]),
        "--format", "ocsf", "--quiet",
    )  # fmt: skip
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == int(whole["alert"].sum())
    alerted = test_events.loc[whole["alert"].to_numpy()]
    for rec, (_, event), (_, s) in zip(
        records, alerted.iterrows(), whole[whole["alert"]].iterrows(), strict=True
    ):
        ocsf_emitter.validate(models.DetectionFinding.model_validate(rec))
        info = rec["finding_info"]
        assert info["analytic"]["type_id"] == 4 and "iforest" in info["analytic"]["name"]
        assert rec["evidences"][0]["data"]["event_uid"] == str(event["event_id"])
        assert info["related_events"][0]["uid"] == str(event["event_id"])
        assert rec["severity_id"] == severity(s["score"])[0]
        observed = [o["value"] for o in rec["anomaly_analyses"][0]["anomalies"][0]["observations"]]
        assert observed == s["reasons"]
        assert rec["time"] == int(event["time"].value // 1_000_000)


def test_severity_bands_cover_the_scale() -> None:
    assert severity(100.0) == (5, "Critical")
    assert severity(99.5)[0] == 3
    assert severity(0.0) == (1, "Informational")
    assert [b[1] for b in SEVERITY_BANDS] == [5, 4, 3, 2, 1]


# --- bad input ---------------------------------------------------------------------


def test_malformed_json_line_fails_with_its_number_or_is_skipped(
    capsys, model_dir, files, tmp_path
) -> None:
    lines = files["jsonl"].read_text().splitlines()[:500]
    lines[41] = '{"time": "2026-01-'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, err = _score(capsys, model_dir, "--input", str(bad), "--output", str(out))
    assert_one_line_error(code, err, r"line 42: malformed JSON")
    assert not out.exists()
    code, _, err = run_cli(
        capsys, "score", "--model-dir", str(model_dir), "--input", str(bad),
        "--output", str(out), "--on-error", "skip",
    )  # fmt: skip
    assert code == 0
    assert "skipped 1 malformed line" in err
    assert len(out.read_text().splitlines()) == 499


def _with_one_field(source: Path, n: int, at: int, field: str, value, out: Path) -> Path:
    """The first ``n`` JSON lines of ``source``, line ``at`` (0-based) with ``field`` set."""
    lines = source.read_text().splitlines()[:n]
    record = json.loads(lines[at])
    record[field] = value
    lines[at] = json.dumps(record)
    out.write_text("\n".join(lines) + "\n")
    return out


def test_unmappable_ocsf_class_names_its_line(capsys, model_dir, files, tmp_path) -> None:
    bad = _with_one_field(files["ocsf"], 100, 9, "class_uid", 1001, tmp_path / "bad_ocsf.jsonl")
    code, _, err = _score(capsys, model_dir, "--input", str(bad), "--input-format", "ocsf")
    assert_one_line_error(code, err, r"line 10: OCSF class_uid 1001 cannot be scored")


def test_missing_columns_are_named_and_nothing_is_written(
    capsys, model_dir, test_events, tmp_path
) -> None:
    # Optional raw columns may be absent (tests/test_input_formats.py); the user may not on a
    # logon (a flow without one is its source endpoint's: tests/test_accountless_flows.py).
    src = tmp_path / "no_user.parquet"
    test_events.drop(columns=["user", "src_ip"]).to_parquet(src, index=False)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous results")
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert_one_line_error(
        code, err, r"event \d+: the events have no user column; expected an account name"
    )
    assert out.read_bytes() == b"previous results"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--input", "x.xml"], r"cannot tell the format of x\.xml"),
        (["--input-format", "xml"], r"unknown input format 'xml'"),
        (["--format", "xml"], r"unknown output format 'xml'"),
        (["--on-error", "ignore"], r"unknown --on-error 'ignore'"),
        (["--chunk-rows", "0"], r"chunk-rows"),
        (["--columns", "nope"], r"--columns names column\(s\) the input lacks: nope"),
    ],
)
def test_bad_flags_get_one_line(capsys, model_dir, files, args, pattern) -> None:
    base = ["--input", str(files["parquet"])] if "--input" not in args else []
    code, _, err = _score(capsys, model_dir, *base, *args)
    assert_one_line_error(code, err, pattern)


def test_bad_model_dirs_get_one_line(capsys, model_dir, files, tmp_path) -> None:
    code, _, err = _score(capsys, tmp_path / "missing", "--input", str(files["parquet"]))
    assert_one_line_error(code, err, r"missing")
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for f in model_dir.iterdir():
        (tampered / f.name).write_bytes(f.read_bytes())
    blob = bytearray((tampered / "model.skops").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tampered / "model.skops").write_bytes(bytes(blob))
    code, _, err = _score(capsys, tampered, "--input", str(files["parquet"]))
    assert_one_line_error(code, err, r"SHA-256|hash|tampered")


def test_chunks_keep_their_positions(files) -> None:
    chunks = list(read_event_chunks(str(files["jsonl"]), "jsonl", chunk_rows=4000))
    assert [c.first_row for c in chunks] == list(range(0, 4000 * len(chunks), 4000))
    assert str(chunks[0].events["time"].dtype) == "datetime64[ns, UTC]" or "UTC" in str(
        chunks[0].events["time"].dtype
    )


def test_parquet_chunks_are_whole_whatever_the_row_groups(test_events, tmp_path) -> None:
    """Row groups of another size do not cut chunks short (each would re-read the carry)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "groups.parquet"
    pq.write_table(
        pa.Table.from_pandas(test_events, preserve_index=False), path, row_group_size=1500
    )
    chunks = list(read_event_chunks(str(path), "parquet", chunk_rows=4000))
    sizes = [len(c.events) for c in chunks]
    assert sizes[:-1] == [4000] * (len(sizes) - 1) and 0 < sizes[-1] <= 4000
    assert sum(sizes) == len(test_events)
    assert [c.first_row for c in chunks] == list(range(0, 4000 * len(chunks), 4000))
    joined = pd.concat([c.events for c in chunks], ignore_index=True)
    assert joined["event_id"].tolist() == test_events["event_id"].tolist()


# --- Dask --------------------------------------------------------------------------


def test_dask_on_a_local_cluster_equals_one_process(
    capsys, model_dir, test_events, files, tmp_path
) -> None:
    pytest.importorskip("distributed")
    from soc_anomaly.model.dask_engine import write_time_partitions

    dataset = tmp_path / "dataset"
    write_time_partitions(test_events, dataset)
    single, parts = tmp_path / "single.parquet", tmp_path / "parts"
    assert (
        _score(capsys, model_dir, "--input", str(files["parquet"]), "--output", str(single))[0] == 0
    )
    code, _, err = _score(
        capsys, model_dir, "--input", str(dataset), "--output", str(parts),
        "--format", "parquet", "--engine", "dask", "--scheduler", "local",
    )  # fmt: skip
    assert code == 0, err
    got = pd.concat(
        [pd.read_parquet(p) for p in sorted(parts.glob("part-*.parquet"))], ignore_index=True
    )
    # Incidents need --engine local (one linker state over the stream): dask writes none.
    local = pd.read_parquet(single).drop(columns=["incident_id", "incident_score"])
    pd.testing.assert_frame_equal(got, local)
    assert not list(tmp_path.glob(".parts.*"))


# --- review fixes: headers, types, bundles of the lab, OCSF values --------------------------


def test_csv_output_has_one_header_whatever_the_chunks(capsys, model_dir, files, whole, tmp_path):
    out = tmp_path / "alerts.csv"
    code, _, _ = _score(
        capsys, model_dir, "--input", str(files["parquet"]), "--output", str(out),
        "--alerts-only", "--chunk-rows", "500",
    )  # fmt: skip
    assert code == 0
    lines = out.read_text().splitlines()
    assert sum(line.startswith("event_id,") for line in lines) == 1
    assert len(lines) == 1 + int(whole["alert"].sum())


def test_parquet_output_keeps_a_column_empty_in_the_first_chunk(
    capsys, model_dir, test_events, tmp_path
) -> None:
    src = tmp_path / "events.csv"
    events = test_events.copy()
    # A text column empty in the first chunk that a CSV reader reads as numbers.
    events["campaign_id"] = events["campaign_id"].astype(object)
    events.loc[:999, "campaign_id"] = None
    events.loc[1000:, "campaign_id"] = "C-01"
    events.to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    code, _, err = _score(
        capsys, model_dir, "--input", str(src), "--output", str(out),
        "--columns", "campaign_id", "--chunk-rows", "1000",
    )  # fmt: skip
    assert code == 0, err
    got = pd.read_parquet(out)
    assert got["campaign_id"].isna().sum() == 1000
    assert (got["campaign_id"].iloc[1000:] == "C-01").all()


def test_a_lab_model_can_be_saved_and_scores_the_same(world, test_events, tmp_path) -> None:
    from soc_anomaly.features import EntityFeatures

    events = world.events
    train = events[(events["time"] < world.attack_start) & (events["label"] == 0)]
    featurizer = EntityFeatures().fit(train, users=world.users)
    model = AnomalyModel(detector="iforest", features="entity")
    model.fit_features(featurizer.transform(train), featurizer)
    assert model.training_["rows"] == len(train)
    loaded = AnomalyModel.load(model.save(tmp_path / "lab"))
    head = test_events.head(3000)
    pd.testing.assert_frame_equal(loaded.score(head), model.score(head))


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        ("user", {"name": ["a"]}, r"line 1: user.name is an array"),
        ("timezone_offset", "abc", r"line 1: timezone_offset 'abc' is not a finite number"),
        ("time", True, r"line 1: time True is not a time"),
    ],
)
def test_ocsf_values_of_the_wrong_kind_are_named(field, value, pattern) -> None:
    record = {"class_uid": 3002, "time": 1_767_600_000_000, "user": {"name": "alice"}}
    record[field] = value
    with pytest.raises(DataError, match=pattern):
        ocsf_to_events([record])


def test_an_out_of_range_timezone_offset_is_one_line(capsys, model_dir, files, tmp_path) -> None:
    bad = _with_one_field(files["jsonl"], 50, 7, "timezone_offset", 5000, tmp_path / "tz.jsonl")
    code, _, err = _score(capsys, model_dir, "--input", str(bad))
    assert_one_line_error(code, err, r"timezone_offset 5000 is out of range")
