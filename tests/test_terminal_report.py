"""The terminal report: summary first, 80 columns, alerts that say who and when."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from soc_anomaly.experiment.summary import MeanStd, ModelSummary, rank_over_seeds
from soc_anomaly.reporting.detect_report import (
    calibrated_text,
    print_report,
    ranks,
    score_digits,
)
from soc_anomaly.reporting.tables import Column, print_fitted


def _render(result, width: int = 80, verbose: bool = False) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), highlight=False)
    print_report(result, verbose=verbose, console=console)
    return console.export_text()


@pytest.fixture(scope="module")
def seed_run(all_detectors_run):
    """Every detector on a small seed table: the widest seed tables (tests/conftest.py)."""
    return all_detectors_run


# world_run: the session's full-size enterprise run (tests/conftest.py).


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
@pytest.mark.parametrize("which", ["seed_run", "world_run"])
def test_every_line_fits_80_columns_and_nothing_is_cut(request, which, verbose) -> None:
    text = _render(request.getfixturevalue(which), verbose=verbose)
    # Paths are printed whole, to be copied; everything else fits.
    lines = [line for line in text.splitlines() if not line.startswith("Wrote ")]
    assert max(len(line) for line in lines) <= 80
    assert "…" not in text  # Rich's truncation mark: no cell was cut short


@pytest.mark.parametrize("which", ["seed_run", "world_run"])
def test_summary_comes_first_and_the_detail_is_verbose(request, which) -> None:
    result = request.getfixturevalue(which)
    short, full = _render(result), _render(result, verbose=True)
    world = which == "world_run"
    ranked = "Detectors ranked by campaigns caught" if world else "Detectors ranked by PR AUC"
    assert short.index("Summary") < short.index(ranked)
    best = result.comparison()[0].name
    assert f"Use {best}" in short
    assert "alerts a day" in short.split("Detectors ranked")[0]
    for detail in ("Threshold sweep of", "Pearson correlation", "Recall per attack type of"):
        assert detail not in short and detail in full
    assert "--verbose adds" in short and "--verbose adds" not in full
    assert len(short.splitlines()) < len(full.splitlines())
    # Verbose explains every detector's top alerts, the default the best one's.
    assert short.count("Top 10 alerts of") == 1
    assert full.count("Top 10 alerts of") == len(result.models)


def test_seed_summary_names_what_is_caught_and_missed(seed_run) -> None:
    summary = _render(seed_run).split("Detectors ranked")[0]
    assert "catches:" in summary and "misses:" in summary
    for attack in ("brute_force", "exfiltration", "impossible_travel"):
        assert attack in summary


def test_world_summary_counts_campaigns_by_scenario(world_run) -> None:
    summary = _render(world_run).split("Detectors ranked")[0]
    assert re.search(r"campaigns: \d+ of \d+ caught", summary)
    assert "caught:" in summary and "missed:" in summary
    assert "alert at 10 alerts a day per 500 staff" in " ".join(summary.split())


def test_alerts_say_which_event_who_when_and_what(seed_run, world_run) -> None:
    seed_text = _render(seed_run)
    assert re.search(
        r"\n +1\. [\d.]+ \(raw -?[\d.e+]+\) +event \d+ +user_\d{4} +\d{4}-\d\d-\d\d \d\d:\d\d",
        seed_text,
    )
    world_text = " ".join(_render(world_run).split())
    # World alerts carry the user's name and, for attacks, the campaign.
    assert re.search(r"1\. [\d.]+ \(raw [-\d.e+]+\) event \d+ [a-z]+\.[a-z]+ \d{4}-", world_text)
    # Every alert is named by its truth: an attack with its campaign, or normal.
    alerts = re.findall(
        r"\d+\. [\d.]+ \(raw [-\d.e+]+\) event \d+ \S+ \S+ \S+ (\S+(?: \(C\d{3}\))?)", world_text
    )
    assert alerts and all(a == "normal" or re.search(r"\(C\d{3}\)$", a) for a in alerts)


def test_wide_tables_are_split_not_truncated() -> None:
    console = Console(width=60, record=True, file=io.StringIO())
    values = [Column(f"Recall\nattack_type_{i}") for i in range(6)]
    rows = [(["detector"], [f"0.{i}00" for i in range(6)])]
    parts = print_fitted(console, "Wide", [Column("Detector", justify="left")], values, rows)
    text = console.export_text()
    assert parts > 1
    assert "(1 of" in text
    assert max(len(line) for line in text.splitlines()) <= 60
    for i in range(6):  # every column printed in full, once
        assert text.count(f"attack_type_{i}") == 1 and f"0.{i}00" in text


def test_ties_share_a_rank() -> None:
    assert ranks([(0.9,), (0.9,), (0.8,), (0.7,), (0.7,)]) == [1, 1, 3, 4, 4]

    def summary(pr: float, roc: float) -> ModelSummary:
        return ModelSummary(
            detector="d",
            roc_auc=roc,
            pr_auc=pr,
            k=10,
            precision_at_k=1.0,
            recall_by_attack={},
            fit_seconds=0.1,
            score_seconds=0.1,
            scoring_rows_per_second=1.0,
        )

    rows = rank_over_seeds(
        [("a", "A"), ("b", "B"), ("c", "C")],
        [[summary(0.9, 0.95), summary(0.9, 0.95), summary(0.8, 0.99)]],
    )
    assert [(r.name, r.rank) for r in rows] == [("A", 1), ("B", 1), ("C", 3)]
    assert isinstance(rows[0].pr_auc, MeanStd)


def test_score_digits_tell_the_top_alerts_apart() -> None:
    assert score_digits([99.91, 99.94, 99.5]) == 2
    assert score_digits([99.9991, 99.9993]) == 4
    assert score_digits([98.0, 97.0]) == 1
    # All saturated at 100: more digits would not help; the raw score does.
    assert score_digits([100.0, 100.0 - 1e-12]) == 1
    assert calibrated_text(99.04) == "99.0"
    assert calibrated_text(99.99) == "99.99"
    assert calibrated_text(100.0, "100") == "100"
