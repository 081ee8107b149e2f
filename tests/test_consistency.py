"""Notebook and command line agree, and event times are read one way everywhere.

* The functional API (the notebook's) scores the OneClassSVM with the
  toolkit's scorer, so a percentile threshold raises the same alerts as
  ``detect``.
* :func:`soc_anomaly.data.times.parse_event_times` reads datetimes, ISO text
  and epoch seconds or milliseconds; the alert-budget rule says why it was
  skipped, and ``--timestamp-col`` names another column or fails in one line.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli
from sklearn.svm import OneClassSVM

from soc_anomaly.anomaly_detection import (
    oneclass_svm_scores,
    prepare_train_test,
    train_oneclass_svm,
)
from soc_anomaly.data.io import write_table
from soc_anomaly.data.times import parse_event_times
from soc_anomaly.errors import DataError
from soc_anomaly.evaluation.metrics import evaluate_model
from soc_anomaly.experiment import DetectConfig, DetectionResult, run_detection
from soc_anomaly.experiment.results import BUDGET_RULE, TEST_RULE

# ---------------------------------------------------------- notebook = CLI


def test_functional_ocsvm_raises_the_alerts_detect_raises(default_df, default_run):
    """On the default data: 84 alerts at the p99 of test scores, as ``detect`` reports."""
    X_tr, X_te, _, y_te, *_ = prepare_train_test(default_df)
    scores = oneclass_svm_scores(train_oneclass_svm(X_tr), X_te)
    pipeline = next(m for m in default_run.models if m.detector == "ocsvm")
    np.testing.assert_allclose(scores, pipeline.test_scores, rtol=1e-12)
    metrics = evaluate_model("OneClassSVM", y_te, scores)
    assert metrics["alerts"] == pipeline.thresholds[TEST_RULE].alerts == 84
    # libsvm's own decision sum ties 395 attacks at exactly 0; these scores do not.
    assert len(np.unique(scores[y_te == 1])) == int(y_te.sum())


def test_a_raw_scikit_learn_ocsvm_is_scored_the_same_way(small_df):
    X_tr, X_te, *_ = prepare_train_test(small_df, random_state=0)
    ours = train_oneclass_svm(X_tr, nu=0.02)
    raw = OneClassSVM(nu=0.02, gamma="scale").fit(X_tr)
    np.testing.assert_allclose(oneclass_svm_scores(raw, X_te), oneclass_svm_scores(ours, X_te))
    assert ours.svm_.support_vectors_.shape == raw.support_vectors_.shape


# ---------------------------------------------------------- parse_event_times

EPOCH_S = [1767623400, 1767627000, 1767709800]  # 2026-01-05 14:30, 15:30, 2026-01-06 14:30 UTC
EXPECTED = pd.to_datetime(
    ["2026-01-05 14:30", "2026-01-05 15:30", "2026-01-06 14:30"], utc=True
).tolist()


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(EPOCH_S),
        pd.Series(EPOCH_S, dtype=float),
        pd.Series([1000 * s for s in EPOCH_S]),  # milliseconds, not read as nanoseconds
        pd.Series([str(s) for s in EPOCH_S]),  # numbers a CSV kept as text
        pd.Series(["2026-01-05T14:30:00Z", "2026-01-05 16:30:00+01:00", "2026-01-06T14:30"]),
        pd.Series(pd.to_datetime(["2026-01-05 14:30", "2026-01-05 15:30", "2026-01-06 14:30"])),
        pd.Series(
            pd.to_datetime(["2026-01-05 15:30", "2026-01-05 16:30", "2026-01-06 15:30"])
        ).dt.tz_localize("Europe/Paris"),
        pd.Series(
            [
                dt.datetime(2026, 1, 5, 14, 30),
                dt.datetime(2026, 1, 5, 15, 30),
                dt.datetime(2026, 1, 6, 14, 30),
            ],
            dtype=object,
        ),
    ],
    ids=[
        "seconds",
        "float-seconds",
        "milliseconds",
        "numeric-text",
        "iso",
        "naive",
        "paris",
        "python",
    ],
)
def test_every_form_of_time_reads_as_the_same_utc_instants(values):
    times = parse_event_times(values, "ts")
    assert str(times.dt.tz) == "UTC"
    assert times.tolist() == EXPECTED


def test_the_epoch_unit_is_decided_by_magnitude():
    # Seconds since a capture started are seconds: only elapsed time matters.
    assert parse_event_times([0, 86_400], "t").diff().iloc[1] == pd.Timedelta(days=1)
    # 1e11 and above is milliseconds (1e11 s would be the year 5138).
    assert parse_event_times([1e11], "t").iloc[0] == pd.Timestamp("1973-03-03 09:46:40", tz="UTC")
    assert parse_event_times([99_999_999_999], "t").iloc[0].year == 5138


def test_missing_times_stay_missing():
    times = parse_event_times(pd.Series([1767623400, None, np.nan], dtype=object), "t")
    assert times.iloc[0] == EXPECTED[0] and times.iloc[1:].isna().all()
    assert parse_event_times(pd.Series(["2026-01-05", None]), "t").isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ([1767623400 * 10**9], r"column 'ts' holds numbers around 1\.77e\+18, too large .*nano"),
        (
            ["2026-01-05", "yesterday"],
            r"column 'ts' has a value that is not a time \('yesterday' at row 2\)",
        ),
        ([True, False], r"column 'ts' holds true/false values"),
    ],
    ids=["nanoseconds", "text", "booleans"],
)
def test_unreadable_times_fail_in_one_line_naming_the_column(values, pattern):
    with pytest.raises(DataError, match=pattern) as info:
        parse_event_times(values, "ts")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------- the alert-budget rule

FAST = {"detectors": ("iforest",), "plots": False, "importance_repeats": 0, "k": 5}


def _run(tmp_path: Path, df: pd.DataFrame, **settings) -> DetectionResult:
    config = DetectConfig(**{**FAST, "metrics_path": tmp_path / "m.json", **settings})
    return run_detection(config, df=df)


def _budget(result: DetectionResult) -> dict | None:
    report = result.models[0].thresholds.get(BUDGET_RULE)
    return None if report is None else report.to_dict()


@pytest.fixture(scope="module")
def reference(small_df, tmp_path_factory) -> DetectionResult:
    """The small table with its own datetime ``timestamp`` column."""
    return _run(tmp_path_factory.mktemp("reference"), small_df)


@pytest.mark.parametrize("form", ["seconds", "milliseconds", "iso", "utc"])
def test_a_named_time_column_in_any_form_gives_the_same_budget(tmp_path, small_df, reference, form):
    stamps = small_df["timestamp"]
    seconds = (stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    column = {
        "seconds": seconds,
        "milliseconds": seconds * 1000,
        "iso": stamps.dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "utc": stamps.dt.tz_localize("UTC"),
    }[form]
    df = small_df.drop(columns="timestamp").assign(event_time=column)
    result = _run(tmp_path, df, timestamp_col="event_time")
    assert _budget(result) == _budget(reference) is not None
    assert result.notes == reference.notes
    times = result.runs[0].test_events["time"]
    expected = reference.runs[0].test_events["time"]
    assert times.tolist() == expected.tolist() and str(times.dt.tz) == "UTC"


def test_without_a_time_column_the_skip_is_explained(tmp_path, small_df):
    result = _run(tmp_path, small_df.drop(columns="timestamp"))
    assert _budget(result) is None
    reason = (
        "the events have no 'timestamp' column to count events a day from; expected "
        "--timestamp-col naming the column of event times, or --events-per-day"
    )
    assert result.notes == [f"alert-budget threshold skipped: {reason}"]
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["skipped_rules"] == {"alert_budget": reason}
    # An explicit rate needs no clock, and nothing is skipped.
    rated = _run(tmp_path, small_df.drop(columns="timestamp"), events_per_day=5_000.0)
    assert _budget(rated) is not None and rated.to_dict()["skipped_rules"] == {}


def test_a_clock_of_less_than_a_day_is_a_reason_too(tmp_path, small_df):
    df = small_df.assign(
        timestamp=pd.Timestamp("2026-01-05") + pd.to_timedelta(np.arange(len(small_df)), unit="s")
    )
    doc = _run(tmp_path, df).to_dict()
    assert doc["skipped_rules"]["alert_budget"].startswith("timestamps span ")
    assert "expected events spanning at least one day" in doc["skipped_rules"]["alert_budget"]


def test_a_named_column_that_is_not_there_or_not_times_fails_before_fitting(tmp_path, small_df):
    with pytest.raises(DataError, match=r"--timestamp-col 'when' is not a column") as info:
        _run(tmp_path, small_df, timestamp_col="when")
    assert "the columns are event_id, timestamp, user_id" in str(info.value)
    with pytest.raises(DataError, match=r"column 'user_id' has a value that is not a time"):
        _run(tmp_path, small_df, timestamp_col="user_id")
    assert not (tmp_path / "m.json").exists()


def test_cli_npz_says_why_and_names_missing_columns(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.zeros(300, dtype=int)
    X[:6] += 6
    y[:6] = 1
    np.savez(tmp_path / "t.npz", X=X, y=y)
    common = [
        "detect",
        "--data-path",
        str(tmp_path / "t.npz"),
        "--no-plots",
        "--k",
        "5",
        "--detectors",
        "iforest",
        "--importance-repeats",
        "0",
    ]
    metrics = tmp_path / "m.json"
    code, out, err = run_cli(capsys, *common, "--metrics-path", str(metrics))
    assert code == 0, err
    assert "no 'timestamp' column to count events a day from" in " ".join(out.split())
    assert "timestamp" in json.loads(metrics.read_text())["skipped_rules"]["alert_budget"]
    code, _, err = run_cli(
        capsys, *common, "--metrics-path", str(tmp_path / "n.json"), "--timestamp-col", "ts"
    )
    assert_one_line_error(
        code,
        err,
        r"--timestamp-col 'ts' is not a column of the events; the columns are "
        r"x0, x1, x2, label$",
    )
    assert not (tmp_path / "n.json").exists()


def test_wide_tables_list_the_first_columns_only(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(200, 30)), columns=[f"x{i}" for i in range(30)])
    df["label"] = 0
    df.loc[:4, "label"] = 1
    write_table(df, tmp_path / "wide.csv")
    with pytest.raises(DataError) as info:
        _run(tmp_path, df, timestamp_col="ts")
    assert str(info.value).endswith("x18, x19, ... (31 columns)")
