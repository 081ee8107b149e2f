import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc_anomaly.errors import ParameterError
from soc_anomaly.evaluation.threshold_lab import (
    DEFAULT_SWEEP_PERCENTILES,
    ThresholdReport,
    percentile_sweep,
    threshold_lab,
    threshold_report,
)
from soc_anomaly.evaluation.thresholds import (
    by_alert_budget,
    by_evaluated_percentile,
    by_fbeta,
    by_normal_percentile,
    events_per_day,
)

# Same toy data as test_evaluation: three anomalies, one normal (0.7) scoring above one (0.65).
Y = np.array([0, 0, 0, 0, 0, 0, 1, 0, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9])
KINDS = np.array(["normal"] * 6 + ["brute_force", "normal", "exfil", "brute_force"])

# Ten scores with a three-way tie at 3 and a two-way tie at 5, deliberately unsorted.
TIED = np.array([5.0, 1.0, 3.0, 7.0, 3.0, 2.0, 6.0, 3.0, 5.0, 4.0])


def n_alerts(scores, threshold):
    return int(np.sum(np.asarray(scores) >= threshold))


# --------------------------------------------------------------------------- percentile rules


def test_percentile_rules_interpolate_linearly():
    assert by_normal_percentile(np.arange(101), 99) == 99.0
    assert by_normal_percentile([0.0, 10.0], 25) == 2.5
    assert by_evaluated_percentile([4.0, 0.0, 3.0, 1.0, 2.0], 75) == 3.0
    assert by_evaluated_percentile(S, 50) == pytest.approx(0.55)
    assert isinstance(by_evaluated_percentile(S, 50), float)


# --------------------------------------------------------------------------- F-beta


def test_fbeta_optimum_by_hand():
    # threshold  tp fp   P     R     F1     F0.5
    # 0.9         1  0  1     1/3   0.500  0.714
    # 0.8         2  0  1     2/3   0.800  0.909  <- F0.5 optimum
    # 0.7         2  1  2/3   2/3   0.667  0.667
    # 0.65        3  1  3/4   1     0.857  0.789  <- F1 optimum
    # 0.6         3  2  3/5   1     0.750  0.652
    assert by_fbeta(Y, S) == 0.65
    assert by_fbeta(Y, S, beta=0.5) == 0.8
    assert by_fbeta(Y, S, beta=2.0) == 0.65  # F2 = 0.9375 at 0.65, 0.882 at 0.6


def test_fbeta_tie_goes_to_the_highest_threshold():
    # F1 is 2/3 both at 0.4 (P=1, R=1/2) and at 0.1 (P=1/2, R=1).
    assert by_fbeta([1, 0, 0, 1], [0.1, 0.2, 0.3, 0.4]) == 0.4


def test_fbeta_with_tied_scores():
    # At 0.5 both tied events alert: tp=2, fp=1, F1=0.8 beats 2/3 at 0.9 and at 0.1.
    assert by_fbeta([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.5


# --------------------------------------------------------------------------- alert budget


@pytest.mark.parametrize(
    ("alerts_per_day", "expected", "alerts"),
    [
        (10, 1.0, 10),  # everything
        (6, 4.0, 5),  # the 6th place is a three-way tie at 3: the whole tie is left out
        (4, 5.0, 4),  # exactly four events score >= 5
        (3, 6.0, 2),  # the 3rd place is a two-way tie at 5
        (1, 7.0, 1),
    ],
)
def test_budget_leaves_out_ties_that_straddle_it(alerts_per_day, expected, alerts):
    t = by_alert_budget(TIED, alerts_per_day, events_per_day=10)
    assert t == expected
    assert n_alerts(TIED, t) == alerts <= alerts_per_day


def test_budget_too_small_for_the_sample_alerts_nothing():
    t = by_alert_budget(TIED, 0.5, 10)  # half an alert on ten events
    assert t == np.nextafter(7.0, np.inf)
    assert n_alerts(TIED, t) == 0
    all_tied = [2.0, 2.0, 2.0]
    assert n_alerts(all_tied, by_alert_budget(all_tied, 2, 3)) == 0
    assert by_alert_budget(all_tied, 3, 3) == 2.0


def test_budget_scales_the_share_to_the_sample():
    # 50 alerts on 1,000 events a day is 5%: 10 of 200 scores.
    assert by_alert_budget(np.arange(200.0), 50, 1000) == 190.0
    # A float budget is read as written: 0.29 x 100 is 29 alerts, not 28.
    assert n_alerts(np.arange(100.0), by_alert_budget(np.arange(100.0), 0.29, 1)) == 29


@settings(max_examples=300, deadline=None)
@given(
    scores=st.one_of(
        st.lists(st.integers(0, 5).map(float), min_size=1, max_size=60),  # many ties
        st.lists(
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
        ),
    ),
    rate=st.floats(1e-3, 1e6, allow_nan=False),
    share=st.floats(1e-6, 1.0),
)
def test_budget_is_never_exceeded(scores, rate, share):
    alerts_per_day = min(rate * share, rate)
    if alerts_per_day <= 0:
        return
    s = np.asarray(scores)
    t = by_alert_budget(s, alerts_per_day, rate)
    allowed = len(s) * alerts_per_day / rate
    got = n_alerts(s, t)
    # Budgets are read as their shortest decimal form, within 1e-15 of the float.
    assert got <= allowed * (1 + 1e-12)
    # ... and it is the lowest such threshold: the next lower score would break the budget.
    lower = s[s < t]
    if lower.size:
        assert n_alerts(s, lower.max()) > allowed * (1 - 1e-12)


# --------------------------------------------------------------------------- reports and lab


def test_threshold_report_and_json_round_trip():
    r = threshold_report(
        "manual 0.65", "manual", 0.65, Y, S, attack_types=KINDS, events_per_day=1000
    )
    assert isinstance(r, ThresholdReport)
    assert (r.tp, r.fp, r.tn, r.fn, r.alerts, r.n_events) == (3, 1, 6, 0, 4, 10)
    assert r.precision == 0.75 and r.recall == 1.0
    assert r.f1 == pytest.approx(6 / 7)
    assert r.false_positive_rate == pytest.approx(1 / 7)
    assert r.alert_share == 0.4
    assert r.alerts_per_day == pytest.approx(400.0)
    assert r.recall_by_attack == {"brute_force": 1.0, "exfil": 1.0}
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["name"] == "manual 0.65" and d["rule"] == "manual"
    assert all(type(v) in (str, int, float, dict) for v in d.values())

    bare = threshold_report("x", "manual", 0.85, Y, S)
    assert bare.alerts_per_day is None and bare.recall_by_attack is None
    assert (bare.tp, bare.fp) == (1, 0)
    assert json.loads(json.dumps(bare.to_dict())) == bare.to_dict()
    at_85 = threshold_report("x", "manual", 0.85, Y, S, attack_types=KINDS)
    assert at_85.recall_by_attack == {"brute_force": 0.5, "exfil": 0.0}


def test_threshold_lab_runs_every_rule():
    train = np.arange(101) / 100  # normal training scores 0.00 .. 1.00
    reports = threshold_lab(
        Y,
        S,
        train,
        percentile=80,
        alerts_per_day=30,
        events_per_day=100,
        attack_types=KINDS,
    )
    assert [r.rule for r in reports] == [
        "normal_percentile",
        "evaluated_percentile",
        "fbeta",
        "alert_budget",
    ]
    assert [r.name for r in reports] == [
        "normal p80",
        "evaluated p80",
        "F1 optimum",
        "budget 30/day",
    ]
    thresholds = [r.threshold for r in reports]
    assert thresholds == [
        by_normal_percentile(train, 80),
        by_evaluated_percentile(S, 80),
        0.65,
        0.7,  # 30% of 10 events: the top three
    ]
    assert reports[3].alerts == 3 and reports[3].alerts_per_day == pytest.approx(30.0)
    assert all(r.recall_by_attack is not None for r in reports)
    json.dumps([r.to_dict() for r in reports])


def test_threshold_lab_skips_rules_it_cannot_run():
    only_normal = threshold_lab(np.zeros(10, dtype=int), S, S)
    assert [r.rule for r in only_normal] == ["normal_percentile", "evaluated_percentile"]
    assert all(r.alerts_per_day is None for r in only_normal)
    with pytest.raises(ParameterError, match=r"alerts_per_day=5 needs events_per_day"):
        threshold_lab(Y, S, S, alerts_per_day=5)
    with pytest.raises(ParameterError, match=r"beta must be a positive number, got -1"):
        threshold_lab(np.zeros(10, dtype=int), S, S, beta=-1)


# --------------------------------------------------------------------------- sweep


def test_percentile_sweep_by_hand():
    scores = np.array([10, 20, 30, 40, 50, 60, 65, 70, 80, 90])
    sweep = percentile_sweep(Y, scores, np.arange(101), percentiles=[85, 60, 66, 60])
    assert list(sweep.columns) == [
        "percentile",
        "threshold",
        "alerts",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
    ]
    assert sweep["percentile"].tolist() == [60.0, 66.0, 85.0]  # sorted, de-duplicated
    assert sweep["threshold"].tolist() == [60.0, 66.0, 85.0]
    assert sweep["alerts"].tolist() == [5, 3, 1]
    assert sweep["precision"].tolist() == pytest.approx([3 / 5, 2 / 3, 1.0])
    assert sweep["recall"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert sweep["false_positive_rate"].tolist() == pytest.approx([2 / 7, 1 / 7, 0.0])


def test_percentile_sweep_default_grid_is_monotone():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.05).astype(int)
    scores = rng.normal(size=2000) + 2.0 * y
    train = rng.normal(size=1000)
    sweep = percentile_sweep(y, scores, train)
    assert sweep["percentile"].tolist() == list(DEFAULT_SWEEP_PERCENTILES)
    assert DEFAULT_SWEEP_PERCENTILES == (*range(90, 100), 99.5, 99.9)
    for col, sign in [("threshold", 1), ("alerts", -1), ("recall", -1)]:
        steps = np.diff(sweep[col].to_numpy()) * sign
        assert (steps >= 0).all(), col
    assert (np.diff(sweep["false_positive_rate"].to_numpy()) <= 0).all()


# --------------------------------------------------------------------------- events per day


def test_events_per_day_uses_elapsed_time():
    ts = pd.Series(pd.date_range("2026-01-05", periods=5, freq="12h"))  # 5 events in 2 days
    assert events_per_day(ts) == 2.5
    assert events_per_day(ts.sample(frac=1, random_state=0)) == 2.5  # order does not matter
    assert events_per_day(pd.DatetimeIndex(ts)) == 2.5
    assert events_per_day(ts.dt.tz_localize("Europe/Berlin")) == 2.5
    # 7 events spanning a day and a half, over three calendar dates.
    odd = pd.Series(pd.date_range("2026-01-05 18:00", periods=7, freq="6h"))
    assert events_per_day(odd) == pytest.approx(7 / 1.5)


@pytest.mark.parametrize(
    ("timestamps", "message"),
    [
        (pd.Series([], dtype="datetime64[ns]"), r"timestamps is empty"),
        (
            pd.Series(pd.to_datetime(["2026-01-05 01:00", "2026-01-05 23:00"])),
            r"timestamps span 0 days 22:00:00 .* expected events spanning at least one day",
        ),
        (pd.Series(pd.to_datetime(["2026-01-05"])), r"timestamps span 0 days"),
        (pd.Series(["2026-01-05", "2026-01-09"]), r"must be datetimes, got dtype (object|str)"),
        (
            pd.Series(pd.to_datetime(["2026-01-05", None, "2026-01-09"])),
            r"missing value \(NaT\) at position 1",
        ),
    ],
)
def test_events_per_day_rejects(timestamps, message):
    with pytest.raises(ParameterError, match=message):
        events_per_day(timestamps)


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: by_normal_percentile(S, 100), r"percentile must be in \(0, 100\), got 100$"),
        (lambda: by_normal_percentile(S, 0), r"percentile must be in \(0, 100\), got 0$"),
        (lambda: by_evaluated_percentile(S, -5.0), r"got -5\.0$"),
        (lambda: by_evaluated_percentile(S, float("nan")), r"got nan$"),
        (lambda: by_evaluated_percentile(S, np.float64(150)), r"got 150\.0$"),
        (lambda: by_evaluated_percentile(S, "99"), r"must be a number in \(0, 100\), got '99'"),
        (lambda: by_normal_percentile([], 99), r"train_scores is empty"),
        (lambda: by_normal_percentile([1.0, np.nan], 99), r"train_scores has nan at position 1"),
        (lambda: by_fbeta(Y, S, beta=0), r"beta must be a positive number, got 0$"),
        (lambda: by_fbeta(Y, S, beta=-2.5), r"beta must be a positive number, got -2\.5$"),
        (lambda: by_fbeta(Y, S, beta=float("inf")), r"beta must be a finite number, got inf"),
        (lambda: by_fbeta(Y, S[:9]), r"y_true has 10 labels but scores has 9 values"),
        (lambda: by_fbeta(Y * 2, S), r"y_true has 2 at position 6; expected 0 .* or 1"),
        (lambda: by_fbeta(np.zeros(10), S), r"y_true holds only label 0 \(normal\)"),
        (lambda: by_fbeta(np.ones(10), S), r"y_true holds only label 1 \(anomaly\)"),
        (lambda: by_fbeta(Y, np.r_[S[:9], np.nan]), r"scores has nan at position 9"),
        (lambda: by_alert_budget(S, 0, 10), r"alerts_per_day must be a positive number, got 0$"),
        (lambda: by_alert_budget(S, 5, -1), r"events_per_day must be a positive number, got -1$"),
        (lambda: by_alert_budget(S, True, 10), r"alerts_per_day must be a number, got True"),
        (
            lambda: by_alert_budget(S, 200, 100),
            r"alerts_per_day=200 exceeds events_per_day=100; expected at most one alert",
        ),
        (lambda: by_alert_budget([np.inf, 1.0], 1, 2), r"scores has inf at position 0"),
        (lambda: threshold_report("x", "r", np.nan, Y, S), r"threshold must be a finite number"),
        (
            lambda: threshold_report("x", "r", 0.5, Y, S, attack_types=KINDS[:3]),
            r"attack_types has 3 values but scores has 10",
        ),
        (
            lambda: threshold_report("x", "r", 0.5, Y, S, events_per_day=0),
            r"events_per_day must be a positive number, got 0$",
        ),
        (lambda: threshold_lab(Y, S, S, percentile=100), r"percentile must be in \(0, 100\)"),
        (lambda: threshold_lab(Y, S, S[:0]), r"train_scores is empty"),
        (lambda: percentile_sweep(Y, S, S, percentiles=[]), r"percentiles is empty"),
        (
            lambda: percentile_sweep(Y, S, S, percentiles=[50, 100]),
            r"each percentile must be in \(0, 100\), got 100",
        ),
        (lambda: percentile_sweep(Y, S, [np.nan]), r"reference_scores has nan at position 0"),
    ],
)
def test_bad_inputs_raise_one_line_parameter_errors(call, message):
    with pytest.raises(ParameterError, match=message) as excinfo:
        call()
    assert "\n" not in str(excinfo.value)
