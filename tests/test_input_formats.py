"""Reading what a real export has: partial columns, OCSF told by content, compressed
files and standard input, each scoring as the toolkit's own full table does."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zstandard
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.event_stream import read_event_chunks
from soc_anomaly.data.input_source import looks_like_ocsf, open_input
from soc_anomaly.data.io import read_table
from soc_anomaly.data.ocsf import write_ocsf_jsonl
from soc_anomaly.errors import DataError
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.chunks import complete_raw_events

NETWORK_ONLY = ("bytes_in", "bytes_out", "packets", "duration_ms", "direction")
AUTH_ONLY = ("src_lat", "src_lon", "src_city", "src_country", "logon_type", "is_mfa")
AUTH_ONLY += ("status", "status_detail", "user_agent")


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
def test_events(scoring_world) -> pd.DataFrame:
    return scoring_world.later


def _score(capsys, model_dir: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", "--model-dir", str(model_dir), "--quiet", *args)


def _scored(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


# --- partial columns: the other kind's, and optional ones, are unknown ------------------


@pytest.mark.parametrize(
    ("kind", "dropped", "fmt"),
    [
        (3002, NETWORK_ONLY, "csv"),
        (4001, AUTH_ONLY, "jsonl"),
        (None, ("status_detail",), "parquet"),
    ],
    ids=["auth-only-csv", "network-only-jsonl", "no-status-detail-parquet"],
)
def test_partial_exports_score_as_the_full_table(
    capsys, model_dir, model, test_events, tmp_path, kind, dropped, fmt
) -> None:
    full = test_events if kind is None else test_events[test_events["class_uid"] == kind]
    full = full.reset_index(drop=True)
    partial = full.drop(columns=list(dropped))
    src = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        partial.to_csv(src, index=False)
    elif fmt == "jsonl":
        partial.to_json(src, orient="records", lines=True, date_format="iso")
    else:
        partial.to_parquet(src, index=False)
    out = tmp_path / "scored.parquet"
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert code == 0, err
    got = pd.read_parquet(out)
    # An absent column is unknown in every row: the same as the column being null.
    expected = model.score(full.assign(**dict.fromkeys(dropped)))
    assert len(got) == len(full)
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-12)
    assert got["alert"].tolist() == expected["alert"].tolist()
    assert [list(r) for r in got["reasons"]] == expected["reasons"].tolist()


def test_absent_columns_of_the_other_kind_change_nothing(model, test_events) -> None:
    auth = test_events[test_events["class_uid"] == 3002].reset_index(drop=True)
    # The network columns are null on authentication rows anyway: dropping them is lossless.
    a = model.score(auth)
    b = model.score(auth.drop(columns=list(NETWORK_ONLY)))
    np.testing.assert_array_equal(a["raw_score"], b["raw_score"])
    assert a["reasons"].tolist() == b["reasons"].tolist()


def test_complete_raw_events_names_what_identifies_an_event(test_events) -> None:
    with pytest.raises(DataError, match=r"have no time, class_uid columns; expected time and"):
        complete_raw_events(test_events.drop(columns=["time", "class_uid"]))
    done = complete_raw_events(test_events[["time", "user", "class_uid"]])
    assert done["bytes_in"].isna().all() and done["status"].isna().all()
    assert done["src_lat"].dtype == np.float64
    # The input is not written to.
    assert list(test_events.columns)[:3] == ["event_id", "time", "timezone_offset"]


def test_an_unusable_file_names_what_is_missing(capsys, model_dir, test_events, tmp_path) -> None:
    src = tmp_path / "seed_like.csv"
    test_events[["event_id", "bytes_in", "bytes_out"]].to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert_one_line_error(code, err, r"no time, class_uid columns; .*found: event_id")
    assert not out.exists()


def test_training_on_an_auth_only_csv_works(world, tmp_path) -> None:
    events = world.events
    train = events[(events["time"] < world.attack_start) & (events["class_uid"] == 3002)]
    src = tmp_path / "auth.csv.gz"
    train.drop(columns=list(NETWORK_ONLY)).to_csv(src, index=False)
    table = read_table(src)  # text times, no network columns, gzip-compressed
    model = AnomalyModel(detector="iforest", features="entity").fit(table, users=world.users)
    assert model.training_["rows"] == int((train["label"] == 0).sum())
    assert model.training_["start"].startswith(str(train["time"].min().date()))


# --- OCSF told by its content -------------------------------------------------------------


@pytest.fixture(scope="module")
def ocsf_file(test_events, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ocsf") / "events.jsonl"
    write_ocsf_jsonl(test_events, path)
    return path


def test_ocsf_jsonl_is_read_as_ocsf_without_the_flag(capsys, model_dir, ocsf_file, tmp_path):
    told = tmp_path / "told.csv"
    forced = tmp_path / "forced.csv"
    code, _, err = _score(capsys, model_dir, "--input", str(ocsf_file), "--output", str(told))
    assert code == 0, err
    notes = [line for line in err.splitlines() if "as OCSF" in line]
    assert len(notes) == 1 and "class_uid" in notes[0]
    code, _, err2 = _score(
        capsys, model_dir, "--input", str(ocsf_file), "--input-format", "ocsf", "--output",
        str(forced),
    )  # fmt: skip
    assert code == 0 and "as OCSF" not in err2
    assert told.read_bytes() == forced.read_bytes()


def test_forcing_flat_reading_of_ocsf_says_what_it_is(capsys, model_dir, ocsf_file, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = _score(
        capsys, model_dir, "--input", str(ocsf_file), "--input-format", "jsonl", "--output",
        str(out),
    )  # fmt: skip
    assert_one_line_error(code, err, r"line 1: an OCSF record .* expected --input-format ocsf")
    assert not out.exists()


def test_flat_records_with_class_uid_are_not_ocsf() -> None:
    assert looks_like_ocsf({"class_uid": 3002, "user": {"name": "a"}, "time": 1})
    assert not looks_like_ocsf({"class_uid": 3002, "user": "a", "time": 1})
    assert not looks_like_ocsf({"metadata": {"uid": "1"}})
    assert not looks_like_ocsf(["class_uid"])


# --- compressed files and standard input ---------------------------------------------------


@pytest.fixture(scope="module")
def plain(test_events, tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("plain")
    test_events.to_csv(root / "e.csv", index=False)
    test_events.to_json(root / "e.jsonl", orient="records", lines=True, date_format="iso")
    test_events.to_parquet(root / "e.parquet", index=False)
    return {fmt: (root / f"e.{fmt}").read_bytes() for fmt in ("csv", "jsonl", "parquet")}


def _pack(data: bytes, how: str) -> bytes:
    if how == "gz":
        return gzip.compress(data)
    if how == "zst":
        # Two frames: a file written in pieces (zstd -c a b) is read across them.
        cut = len(data) // 2
        zc = zstandard.ZstdCompressor()
        return zc.compress(data[:cut]) + zc.compress(data[cut:])
    return data


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("how", ["gz", "zst"])
def test_compressed_files_score_as_the_plain_ones(capsys, model_dir, plain, tmp_path, fmt, how):
    plain_in = tmp_path / f"e.{fmt}"
    plain_in.write_bytes(plain[fmt])
    packed = tmp_path / f"e.{fmt}.{how}"
    packed.write_bytes(_pack(plain[fmt], how))
    outs = []
    for src in (plain_in, packed):
        out = tmp_path / f"{src.name}.out.csv"
        code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
        assert code == 0, err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") > 1000


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("fmt", "how", "said"),
    [
        ("csv", "gz", "gzip-compressed CSV"),
        ("jsonl", "zst", "zstd-compressed JSON Lines"),
        ("parquet", "", "Parquet"),
        ("csv", "", "CSV"),
    ],
)
def test_standard_input_is_told_by_its_content(
    capsys, monkeypatch, model_dir, plain, tmp_path, fmt, how, said
) -> None:
    reference = tmp_path / "ref.csv"
    src = tmp_path / f"e.{fmt}"
    src.write_bytes(plain[fmt])
    assert _score(capsys, model_dir, "--input", str(src), "--output", str(reference))[0] == 0
    _stdin(monkeypatch, _pack(plain[fmt], how))
    out = tmp_path / "stdin.csv"
    code, _, err = _score(capsys, model_dir, "--input", "-", "--output", str(out))
    assert code == 0, err
    assert f"reading standard input as {said} (told by its content" in err
    assert out.read_bytes() == reference.read_bytes()


def test_ocsf_on_standard_input_is_told_by_its_content(monkeypatch, ocsf_file) -> None:
    _stdin(monkeypatch, gzip.compress(ocsf_file.read_bytes()))
    with open_input("-") as source:
        assert (source.fmt, source.compression) == ("ocsf", "gzip")
        assert "standard input as gzip-compressed OCSF" in (source.note or "")


def test_decompression_is_streamed(tmp_path, plain) -> None:
    # A gzip file whose tail is garbage: the first chunks are read before the
    # decompressor meets it, so the input is not decompressed whole first.
    src = tmp_path / "e.csv.gz"
    src.write_bytes(gzip.compress(plain["csv"]) + b"\x1f\x8bnot gzip at all")
    chunks = read_event_chunks(str(src), None, chunk_rows=500)
    first = next(chunks)
    assert len(first.events) == 500
    with pytest.raises(DataError, match=r"truncated or corrupt gzip stream"):
        list(chunks)


def test_a_cut_compressed_file_is_one_line_and_writes_nothing(
    capsys, model_dir, plain, tmp_path
) -> None:
    src = tmp_path / "cut.jsonl.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(plain["jsonl"])[:5000])
    out = tmp_path / "out.csv"
    code, _, err = _score(capsys, model_dir, "--input", str(src), "--output", str(out))
    assert_one_line_error(code, err, r"input .*cut\.jsonl\.zst is a truncated or corrupt zstd")
    assert not out.exists()


def test_compressed_parquet_is_read_whole(tmp_path, plain) -> None:
    src = tmp_path / "e.parquet.gz"
    src.write_bytes(gzip.compress(plain["parquet"]))
    chunks = list(read_event_chunks(str(src), None, chunk_rows=10_000))
    assert sum(len(c.events) for c in chunks) == len(pd.read_parquet(io.BytesIO(plain["parquet"])))


def test_unknown_ending_is_still_refused(capsys, model_dir, tmp_path) -> None:
    code, _, err = _score(capsys, model_dir, "--input", str(tmp_path / "x.csv.bz2"))
    assert_one_line_error(code, err, r"cannot tell the format of .*x\.csv\.bz2 from '\.csv\.bz2'")
