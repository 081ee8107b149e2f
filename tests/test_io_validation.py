from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soc_anomaly.anomaly_detection import load_dataset
from soc_anomaly.data.io import atomic_write, check_writable_dir, check_writable_file, write_table
from soc_anomaly.data.schema import FEATURE_COLS, LABEL_COL
from soc_anomaly.data.validation import check_both_classes, validate_dataset
from soc_anomaly.errors import DataError, SocAnomalyError


def test_csv_and_parquet_round_trip(tmp_path, small_df):
    for suffix in (".csv", ".parquet"):
        path = write_table(small_df, tmp_path / f"events{suffix}")
        loaded = load_dataset(path)
        np.testing.assert_array_equal(
            loaded[FEATURE_COLS].to_numpy(), small_df[FEATURE_COLS].to_numpy(dtype=float)
        )
        assert loaded[LABEL_COL].dtype == np.int64


def _bad_frames(df: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    nonnum = df.copy()
    nonnum["bytes_out"] = nonnum["bytes_out"].astype(object)
    nonnum.loc[5, "bytes_out"] = "lots"
    nan = df.copy()
    nan["hour"] = nan["hour"].astype(float)
    nan.loc[7, "hour"] = np.nan
    inf = df.copy()
    inf.loc[9, "geo_distance"] = np.inf
    label2 = df.copy()
    label2.loc[3, LABEL_COL] = 2
    return {
        "missing feature": (df.drop(columns=["bytes_out"]), r"missing column\(s\) bytes_out"),
        "missing label": (df.drop(columns=[LABEL_COL]), r"missing column\(s\) label"),
        "non-numeric": (
            nonnum,
            r"column 'bytes_out' .*must be numeric, found 'lots' at data row 6",
        ),
        "nan": (nan, r"column 'hour' .*missing value at data row 8"),
        "inf": (inf, r"column 'geo_distance' .*infinite value at data row 10"),
        "label 2": (label2, r"only 0 \(normal\) and 1 \(anomaly\), found 2 at data row 4"),
    }


@pytest.mark.parametrize(
    "case", ["missing feature", "missing label", "non-numeric", "nan", "inf", "label 2"]
)
def test_bad_tables_are_rejected_from_files(tmp_path, small_df, case):
    frame, message = _bad_frames(small_df)[case]
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"bad{suffix}"
        if suffix == ".parquet" and case == "non-numeric":
            frame = frame.astype({"bytes_out": str})
        write_table(frame, path)
        with pytest.raises(DataError, match=message):
            load_dataset(path)


def test_missing_empty_and_foreign_files(tmp_path, small_df):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        load_dataset(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(",".join([*FEATURE_COLS, LABEL_COL]) + "\n")
    with pytest.raises(DataError, match="header but no rows"):
        load_dataset(tmp_path / "header.csv")
    (tmp_path / "events.json").write_text("{}")
    with pytest.raises(DataError, match=r"unsupported file type '\.json'.*expected one of \.csv"):
        load_dataset(tmp_path / "events.json")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(DataError, match=r"not text|not a well-formed CSV"):
        load_dataset(tmp_path / "binary.csv")
    with pytest.raises(DataError, match="is a directory"):
        load_dataset(tmp_path)


def test_truncated_files(tmp_path, small_df):
    csv = write_table(small_df, tmp_path / "full.csv")
    cut = tmp_path / "cut.csv"
    raw = csv.read_bytes()
    row_start = raw.index(b"\n", len(raw) // 2) + 1
    # Cut inside the feature columns: the short row is reported as truncated.
    cut.write_bytes(raw[: row_start + 30])
    with pytest.raises(DataError, match=r"incomplete row .* looks truncated"):
        load_dataset(cut)
    # Cut after the features but before the last columns: still caught.
    cut.write_bytes(raw[: raw.index(b",normal", row_start)])
    with pytest.raises(DataError, match="looks truncated"):
        load_dataset(cut)
    pq = write_table(small_df, tmp_path / "full.parquet")
    cut_pq = tmp_path / "cut.parquet"
    cut_pq.write_bytes(pq.read_bytes()[: pq.stat().st_size // 2])
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(cut_pq)


def test_parquet_named_csv_is_not_a_traceback(tmp_path, small_df):
    pq = write_table(small_df, tmp_path / "events.parquet")
    fake = tmp_path / "events.csv"
    fake.write_bytes(pq.read_bytes())
    with pytest.raises(DataError):
        load_dataset(fake)


def test_one_class_data_is_rejected():
    with pytest.raises(DataError, match="no anomalies"):
        check_both_classes(np.zeros(5))
    with pytest.raises(DataError, match="no normal events"):
        check_both_classes(np.ones(5))


def test_validate_does_not_modify_its_input(small_df):
    before = small_df.copy()
    out = validate_dataset(small_df, FEATURE_COLS, LABEL_COL)
    pd.testing.assert_frame_equal(small_df, before)
    assert all(out[c].dtype == np.float64 for c in FEATURE_COLS)


def test_validate_rejects_label_listed_as_feature(small_df):
    with pytest.raises(DataError, match="also listed as a feature"):
        validate_dataset(small_df, [*FEATURE_COLS, LABEL_COL], LABEL_COL)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != ""),
        st.sampled_from(["nan", "inf", "-inf", "1e999", "", "0x10"]),
    ),
    row=st.integers(0, 20),
)
def test_any_cell_value_in_csv_is_accepted_or_named(tmp_path_factory, value, row):
    """Whatever text lands in a numeric CSV cell, the result is data or one DataError."""
    base = pd.DataFrame({c: np.arange(21, dtype=float) for c in FEATURE_COLS})
    base[LABEL_COL] = [0] * 20 + [1]
    frame = base.astype(object)
    frame.loc[row, "bytes_in"] = value
    path = tmp_path_factory.mktemp("prop") / "events.csv"
    frame.to_csv(path, index=False)
    try:
        out = load_dataset(path)
    except DataError as exc:
        assert "\n" not in str(exc)
    else:
        assert np.isfinite(out["bytes_in"]).all()


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_writable_checks(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(SocAnomalyError, match="is a file"):
        check_writable_dir(a_file / "sub")
    with pytest.raises(SocAnomalyError, match="is a directory"):
        check_writable_file(tmp_path)
    check_writable_dir(tmp_path / "new" / "deeper")
    assert (tmp_path / "new" / "deeper").is_dir()
    if Path("/proc").is_dir():
        with pytest.raises(SocAnomalyError, match="not writable"):
            check_writable_dir(Path("/proc/soc-anomaly-test"))


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.txt") as tmp:
            tmp.write_text("x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
        (tmp_path / "kept.txt").write_text("old")
        os.chmod(tmp_path / "kept.txt", 0o600)
        with atomic_write(tmp_path / "kept.txt") as tmp:
            tmp.write_text("new")
        assert (tmp_path / "kept.txt").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(mask)
