"""What the enterprise lab is for, as floors: per-entity features catch campaigns that the
seed's per-row columns miss, at an analyst's daily budget of incidents (more than the daily
event queue catches), and the detectors are told apart on subtle campaigns.

The mixed-intensity floors hold at two seeds of the full-size world (500 staff, 30 days):
seed 42 is the session's shared ``world_run``, seed 43 one more run in the same
configuration. A smaller world cannot hold them (300 staff over 20 days, or 250 over 16,
catch 43% of the campaigns at seed 43 where the floor is 55%), so both stay full size.
The subtle world is run once, on entity features, with the same detectors. The README's
table comes from the same command with ``--detectors all``.
"""

from __future__ import annotations

import dataclasses

import pytest

from soc_anomaly.experiment import DetectionResult, run_detection
from soc_anomaly.experiment.results import HEADLINE_RULE

SEEDS = (42, 43)


def _rerun(result: DetectionResult, tmp: pytest.TempPathFactory, **changes: object):
    """``result``'s configuration with ``changes``, run again into a new folder."""
    out = tmp.mktemp("world_results")
    config = dataclasses.replace(
        result.config,
        plots_dir=out / "plots",
        metrics_path=out / "metrics.json",
        top_explanations=3,  # only seed 42's explanations are read
        **changes,  # type: ignore[arg-type]
    )
    return run_detection(config)


@pytest.fixture(scope="session")
def mixed_runs(world_run, tmp_path_factory) -> dict[int, DetectionResult]:
    assert world_run.config.random_state == SEEDS[0]
    return {SEEDS[0]: world_run, SEEDS[1]: _rerun(world_run, tmp_path_factory, random_state=43)}


@pytest.fixture(scope="session")
def subtle_run(world_run, tmp_path_factory) -> DetectionResult:
    return _rerun(world_run, tmp_path_factory, features="entity", intensity="subtle")


def _recall(result: DetectionResult, feature_set: str) -> dict[str, float]:
    return {
        m.name: m.campaigns[HEADLINE_RULE].recall
        for m in result.models
        if m.feature_set == feature_set
    }


def _best(result: DetectionResult, feature_set: str):
    model = max(
        (m for m in result.models if m.feature_set == feature_set),
        key=lambda m: (m.campaigns[HEADLINE_RULE].recall, m.metrics.pr_auc),
    )
    return model, model.campaigns[HEADLINE_RULE]


@pytest.mark.parametrize("seed", SEEDS)
def test_entity_features_catch_most_campaigns_at_the_budget(mixed_runs, seed) -> None:
    result = mixed_runs[seed]
    model, head = _best(result, "entity")
    assert head.n_campaigns == 30
    assert head.alerts_per_day == pytest.approx(10.0, rel=0.02)
    assert head.recall >= 0.55, (model.name, head.recall)
    # Most loud campaigns: three quarters of the blatant and moderate ones.
    loud = [head.by_intensity["blatant"], head.by_intensity["moderate"]]
    assert sum(g.caught for g in loud) >= 15
    for scenario in ("password_spray", "account_takeover", "credential_stuffing", "beaconing"):
        assert head.by_scenario[scenario].caught >= 2, scenario
    # Caught early: the median campaign alerts within two hours of its start (seed 43:
    # 1.82 h with the sequence features, which catch 27 of 30; 1.16 h for 26 before the
    # n-gram read the actions before a stream's first ones as unknown).
    assert head.median_ttd_hours is not None and head.median_ttd_hours <= 2.0


@pytest.mark.parametrize("seed", SEEDS)
def test_the_incident_queue_catches_more_campaigns_than_the_event_queue(mixed_runs, seed) -> None:
    # Measured with these four detectors: the best entity detector's incident queue
    # catches 25 of 30 at seed 42 (OneClassSVM; the event queue's best 24) and 27 at
    # seed 43 (the event queue's best 20), every account takeover at every intensity.
    result = mixed_runs[seed]
    assert HEADLINE_RULE == "incident_queue"
    model, head = _best(result, "entity")
    events = max(
        m.campaigns["daily_queue"].caught for m in result.models if m.feature_set == "entity"
    )
    assert head.caught >= events, (model.name, head.caught, events)
    assert head.recall >= 0.7, (model.name, head.recall)
    assert head.by_scenario["account_takeover"].caught == head.by_scenario["account_takeover"].n
    assert head.by_intensity["subtle"].caught >= 3
    assert head.median_ttd_hours is not None and head.median_ttd_hours <= 2.0
    # The budget holds: at most 10 incidents a day (500 staff), a raised incident's events
    # mostly from its main campaign.
    # (The evaluated period is a few seconds short of 15 days: 150 incidents are 10.0004 a day.)
    assert head.alerts <= 10 * 15 and head.alerts_per_day <= 10.0 * 1.001
    assert head.purity is not None and head.purity >= 0.5
    assert len(model.incidents) == head.alerts


def test_seed_columns_catch_fewer(mixed_runs) -> None:
    gaps = []
    for seed in SEEDS:
        entity, seed_columns = (
            _recall(mixed_runs[seed], "entity"),
            _recall(mixed_runs[seed], "seed"),
        )
        gaps.append(max(entity.values()) - max(seed_columns.values()))
        # Beaconing is a rhythm, invisible in one row's columns.
        for m in mixed_runs[seed].models:
            if m.feature_set == "seed":
                assert m.campaigns[HEADLINE_RULE].by_scenario["beaconing"].caught <= 1
    # Fewer at every seed, and by a margin on average (26 points at seed 42, 3 at 43).
    assert min(gaps) >= 0.0, gaps
    assert sum(gaps) / len(gaps) >= 0.1, gaps


@pytest.mark.parametrize("seed", SEEDS)
def test_entity_features_rank_attack_events_better(mixed_runs, seed) -> None:
    result = mixed_runs[seed]
    best = {fs: max(m.metrics.pr_auc for m in result.models if m.feature_set == fs)
            for fs in ("seed", "entity")}  # fmt: skip
    assert best["entity"] >= 0.85
    assert best["entity"] - best["seed"] >= 0.3


def test_detectors_are_told_apart_on_subtle_campaigns(subtle_run) -> None:
    pr = {m.name: m.metrics.pr_auc for m in subtle_run.models}
    assert max(pr.values()) - min(pr.values()) >= 0.2, pr
    head = max(m.campaigns[HEADLINE_RULE].recall for m in subtle_run.models)
    assert head >= 0.35


def test_alerts_are_explained_against_the_users_baseline(mixed_runs) -> None:
    for m in mixed_runs[42].models:
        if m.feature_set != "entity":
            continue
        for e in m.explanations:
            assert e.explanations, m.name
            # Sentences come furthest-from-baseline first.
            deviations = list(e.zscores.values())
            assert deviations == sorted(deviations, reverse=True)
            assert not any("std from normal" in line for line in e.explanations)
