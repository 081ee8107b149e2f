"""What the ``detect`` reports count and say: false alerts apart from the normal events
inside alerts, why an event-level budget shows precision 1 and a tiny recall, how ties
on the shown PR AUC are broken, and whose data the HTML report is about."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from soc_anomaly.data.io import write_table
from soc_anomaly.evaluation.alert_queue import queue_report
from soc_anomaly.experiment import DetectConfig, run_detection
from soc_anomaly.experiment.results import BUDGET_RULE, HEADLINE_RULE, DetectionResult
from soc_anomaly.experiment.summary import ModelSummary, rank_over_seeds
from soc_anomaly.reporting.detect_report import print_report, print_summary
from soc_anomaly.reporting.html_report import detect_report_html
from soc_anomaly.scenarios import generate_world

T0 = pd.Timestamp("2026-01-05", tz="UTC")


def _text(print_fn, result: DetectionResult, **kw) -> str:
    console = Console(width=100, record=True, file=io.StringIO(), highlight=False)
    print_fn(result, console=console, **kw)
    # Table borders and wrapping undone: "│ false alerts │ 3 of 4 │" reads "false alerts 3 of 4".
    return " ".join(re.sub("[\u2500-\u257f]", " ", console.export_text()).split())


@pytest.fixture(scope="module")
def world_run(tmp_path_factory: pytest.TempPathFactory) -> DetectionResult:
    """A small enterprise world read from a file whose name holds HTML."""
    root = tmp_path_factory.mktemp("wording_world")
    world = generate_world(n_users=60, days=8, campaigns=4, random_state=7)
    path = root / "acme<b>.parquet"
    write_table(world.events, path)
    write_table(world.campaigns, root / "acme<b>_campaigns.csv")
    return run_detection(
        DetectConfig(
            scenario="enterprise",
            data_path=path,
            detectors=("iforest", "mahalanobis"),
            plots=False,
            importance_repeats=0,
            top_explanations=3,
            metrics_path=root / "metrics.json",
        )
    )


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory, small_df: pd.DataFrame) -> DetectionResult:
    """A small seed table given as the user's own CSV."""
    root = tmp_path_factory.mktemp("wording_seed")
    path = write_table(small_df, root / "my logs.csv")
    return run_detection(
        DetectConfig(
            data_path=path,
            detectors=("mahalanobis", "kmeans"),
            plots=False,
            importance_repeats=0,
            top_explanations=3,
            metrics_path=root / "metrics.json",
        )
    )


def test_a_queue_counts_false_alerts_apart_from_normal_events_in_alerts() -> None:
    # Two alerts a day. Monday: alice's 10:00 alert holds a campaign event and two normal
    # ones, bob's 11:00 alert a campaign event; carol's 12:00 is the day's third. Tuesday:
    # bob's 09:00 (campaign) and carol's 15:00 (a password typo, no attack) are raised.
    #        minute      user    label campaign tag              score
    events = [
        (10 * 60 + 5, "alice", 0, None, "business_trip", 0.9),
        (10 * 60 + 20, "alice", 1, "C1", "none", 0.05),
        (10 * 60 + 40, "alice", 0, None, "none", 0.1),
        (11 * 60, "bob", 1, "C2", "none", 0.8),
        (12 * 60, "carol", 0, None, "none", 0.3),
        (33 * 60, "bob", 1, "C2", "none", 0.4),
        (39 * 60, "carol", 0, None, "password_typo", 0.2),
    ]
    minute, user, label, cid, tag, score = (list(c) for c in zip(*events, strict=True))
    r = queue_report(
        score,
        entities=user,
        per_day=2,
        times=[T0 + pd.Timedelta(minutes=m) for m in minute],
        labels=label,
        campaign_ids=cid,
        benign_tags=tag,
    )
    assert r.alerts == 4
    assert r.false_alerts == 1  # carol's Tuesday alert: no attack event in it
    assert r.false_positives == 3  # alice's two normal events and carol's typo
    # A report saved before false alerts were recorded still loads.
    old = {k: v for k, v in r.to_dict().items() if k != "false_alerts"}
    assert type(r).from_dict(old).false_alerts is None


def test_world_report_labels_false_alerts_and_normal_events_in_alerts(world_run) -> None:
    heads = {m.name: m.campaigns[HEADLINE_RULE] for m in world_run.models}
    text = _text(print_report, world_run)
    html = detect_report_html(world_run)
    assert "FP total" not in text and "false positives: total" not in html
    # The headline is the incident queue: its noise is counted in incidents, one column
    # per detector in run order.
    assert HEADLINE_RULE == "incident_queue"
    assert all(h.false_alerts == h.false_positives for h in heads.values())
    false_alerts = " ".join(f"{h.false_alerts} of {h.alerts}" for h in heads.values())
    assert f"false incidents {false_alerts}" in text
    assert "normal events in alerts" not in text and "normal events in alerts" not in html
    assert all(f"{h.false_alerts} of {h.alerts}</td>" in html for h in heads.values())
    best = world_run.comparison()[0]
    head = heads[best.name]
    assert (
        f"{head.alerts} incidents raised, {head.false_alerts} of them false (no attack event)"
        in text
    )
    assert "false incidents (no attack event)" in html
    # The event queue beside it counts alerts and the normal events inside them.
    events = [m.campaigns["daily_queue"] for m in world_run.models]
    assert all(q.false_alerts < q.false_positives for q in events)
    # metrics.json ranks in the report's order and carries the false alerts.
    saved = json.loads(world_run.metrics_path.read_text())["comparison"]
    assert [row["name"] for row in saved] == [r.name for r in world_run.comparison()]
    assert {row["name"]: row["false_alerts_mean"] for row in saved} == {
        n: h.false_alerts for n, h in heads.items()
    }


def test_the_event_level_budget_says_why_its_recall_is_tiny(world_run) -> None:
    reports = [m.thresholds[BUDGET_RULE] for m in world_run.models]
    alerts = max(r.alerts for r in reports)
    attacks = world_run.dataset.n_test_anomalies
    assert alerts < attacks
    text = _text(print_report, world_run)
    assert (
        f"at most {alerts:,} alerts over the evaluated events against {attacks:,} attack "
        f"events, so recall cannot exceed {alerts / attacks:.3f} whatever the detector"
    ) in text
    assert "campaign table shows what the daily queue catches" in text
    assert "recall cannot exceed" in detect_report_html(world_run)


def _summary(pr_auc: float, false_alerts: int | None) -> ModelSummary:
    return ModelSummary(
        detector="d",
        roc_auc=0.99,
        pr_auc=pr_auc,
        k=10,
        precision_at_k=1.0,
        recall_by_attack={},
        fit_seconds=0.1,
        score_seconds=0.1,
        scoring_rows_per_second=1.0,
        false_alerts=false_alerts,
    )


def test_ranking_ties_on_the_shown_pr_auc_and_prefers_fewer_false_alerts() -> None:
    rows = rank_over_seeds(
        [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")],
        [
            [
                _summary(1.0, 9),
                _summary(0.9999999, 3),  # prints as 1.000: a tie, won on false alerts
                _summary(0.9996, 3),  # 1.000 too, and as few false alerts: shares the rank
                _summary(0.9994, 0),  # 0.999: below, however few its false alerts
                _summary(1.0, None),  # unknown false alerts come last among the tied
            ]
        ],
    )
    assert [(r.name, r.rank) for r in rows] == [("B", 1), ("C", 1), ("A", 3), ("E", 4), ("D", 5)]
    assert rows[0].to_dict()["false_alerts_mean"] == 3


def test_summary_says_why_the_first_of_tied_detectors_comes_first(
    seed_run, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (m.name for m in seed_run.models)
    tied = [
        replace(m.summary(), pr_auc=pr_auc, false_alerts=false_alerts)
        for m, pr_auc, false_alerts in zip(seed_run.models, (1.0, 0.9999999), (7, 2), strict=True)
    ]
    rows = rank_over_seeds([(m.detector, m.name) for m in seed_run.models], [tied])
    assert [r.name for r in rows] == [second, first]
    monkeypatch.setattr(DetectionResult, "comparison", lambda self: rows)
    text = _text(print_summary, seed_run)
    assert f"Use {second} (PR AUC 1.000)" in text
    assert (
        f"tied on PR AUC 1.000 with {first}; first for fewer false alerts at p99 of normal "
        "training scores: 2 against 7"
    ) in text
    assert "runner-up" not in text
    html = detect_report_html(seed_run)
    assert "first for fewer false alerts" in html


def test_html_report_of_your_own_file_names_it_escaped(seed_run, world_run) -> None:
    seed_html = detect_report_html(seed_run)
    assert '<p class="meta">soc-anomaly detect · your data: my logs.csv ·' in seed_html
    assert "seed scenario" not in seed_html
    world_html = detect_report_html(world_run)
    assert "your data: acme&lt;b&gt;.parquet (enterprise world events)" in world_html
    assert "acme<b>" not in world_html
    assert "enterprise scenario" not in world_html


def test_generated_data_keeps_its_scenario_name(tmp_path: Path) -> None:
    result = run_detection(
        DetectConfig(
            n_users=30,
            detectors=("mahalanobis",),
            plots=False,
            importance_repeats=0,
            top_explanations=1,
            metrics_path=tmp_path / "metrics.json",
        )
    )
    assert '<p class="meta">soc-anomaly detect · seed scenario ·' in detect_report_html(result)


@pytest.mark.parametrize("which", ["world_run", "seed_run"])
def test_the_recommendation_names_a_train_command_that_train_accepts(
    request, capsys, which
) -> None:
    from soc_anomaly.cli.main import main
    from soc_anomaly.detectors.names import resolve_detector_name

    result: DetectionResult = request.getfixturevalue(which)
    text = _text(print_summary, result)
    command = re.search(r"train it: soc-anomaly train --detector (\S+) --features (\w+)", text)
    assert command, text
    best = result.models[[m.name for m in result.models].index(result.comparison()[0].name)]
    assert resolve_detector_name(command.group(1)) == best.detector
    assert command.group(2) == (best.feature_set or "table")
    # The flags parse: the command fails on what follows them, not on the detector or
    # the features (a generated world of no staff, or a table file that is not there).
    args = ["train", "--detector", command.group(1), "--features", command.group(2)]
    extra = ["--data-path", "missing.csv"] if command.group(2) == "table" else ["--n-users", "0"]
    capsys.readouterr()
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert ("missing.csv" in err or "n_users" in err) and "detector" not in err, err


def test_the_train_command_keeps_the_chosen_feature_columns(seed_run) -> None:
    config = replace(seed_run.config, feature_cols=("bytes_out", "geo_distance"))
    text = _text(print_summary, replace(seed_run, config=config))
    assert "--data-path FILE --feature-cols bytes_out,geo_distance" in text
