import json

import numpy as np
import pytest
from PIL import Image

from soc_anomaly.experiment import DetectConfig, run_detection
from soc_anomaly.experiment.results import TEST_RULE, TRAIN_RULE
from soc_anomaly.reporting.figure_style import PLOT_DPI
from soc_anomaly.reporting.plots import LAB_PLOTS, PROJECTION_PLOT, SEED_PLOTS, plot_names


def _floors(result):
    by = {m.name: m.metrics for m in result.models}
    assert by["OneClassSVM"].roc_auc >= 0.999
    assert by["OneClassSVM"].precision_at_k == 1.0
    assert by["IsolationForest"].roc_auc >= 0.99
    assert by["IsolationForest"].precision_at_k >= 0.96


def test_default_configuration_meets_the_floors(default_run):
    assert default_run.config.k == 50
    assert default_run.dataset.n_events == 40_000
    assert default_run.dataset.n_test == 8_320
    _floors(default_run)


@pytest.mark.parametrize("seed", [7, 123])
def test_other_seeds_meet_the_same_floors(tmp_path, seed):
    # The floors are on the scores: no figures, and no importance (two thirds of the time).
    result = run_detection(
        DetectConfig(
            random_state=seed, plots=False, importance_repeats=0, metrics_path=tmp_path / "m.json"
        )
    )
    assert f"random_state={seed}" in result.dataset.source
    _floors(result)


def test_training_threshold_flags_about_the_percentile_of_normals(default_run):
    for m in default_run.models:
        block = m.thresholds[TRAIN_RULE]
        assert block.threshold == pytest.approx(np.percentile(m.train_scores, 99))
        assert block.rule == "normal_percentile"
        # Set on normal traffic alone, it alerts on ~1% of unseen normal events.
        assert 0.002 < block.false_positive_rate < 0.03
        assert block.recall > 0.9
        assert set(block.recall_by_attack) == {
            "brute_force",
            "exfiltration",
            "impossible_travel",
        }
        test_block = m.thresholds[TEST_RULE]
        assert test_block.threshold == pytest.approx(m.metrics.threshold)
        assert test_block.tp + test_block.fn == 400


def test_seed_plots_and_lab_plots_are_readable(default_run):
    names = [p.name for p in default_run.plot_paths]
    # The generated events name their user and time: the per-user views are drawn.
    users = ("user_score_timelines.png", "user_alerts.png")
    assert names == plot_names(["IsolationForest", "OneClassSVM"], views=users)
    # The seven figures of the seed system, the comparison/threshold-lab ones,
    # then the map of the events and the per-user views.
    seed = [
        "feature_correlations_isolationforest.png",
        "feature_correlations_oneclasssvm.png",
        *SEED_PLOTS,
    ]
    assert names[:7] == seed
    assert names[7:11] == list(LAB_PLOTS)
    assert names[11:] == [PROJECTION_PLOT, *users]
    for path in default_run.plot_paths:
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.info["dpi"][0] >= PLOT_DPI - 1
            assert img.width >= 800 and img.height >= 400
    # No temporary files left behind.
    assert sorted(p.name for p in default_run.plot_paths[0].parent.iterdir()) == sorted(
        [*names, "metrics.json"]
    )


def test_metrics_json_holds_the_results(default_run):
    doc = json.loads(default_run.metrics_path.read_text())
    assert doc["config"]["k"] == 50 and doc["config"]["threshold_percentile"] == 99.0
    # Every anomaly is in the test set.
    assert doc["dataset"]["test_anomalies_by_attack"] == {
        "brute_force": 133,
        "exfiltration": 134,
        "impossible_travel": 133,
    }
    for m in default_run.models:
        entry = doc["models"][m.name]
        assert entry["roc_auc"] == m.metrics.roc_auc
        assert entry["thresholds"][TRAIN_RULE]["tp"] == m.thresholds[TRAIN_RULE].tp
        assert len(entry["top_explanations"]) == 10
        assert set(entry["feature_correlations"]) == set(m.correlations.index)
        assert entry["fit_seconds"] > 0 and entry["scoring_rows_per_second"] > 0
    assert len(doc["plots"]) == 14
    assert [row["rank"] for row in doc["comparison"]] == [1, 2]
    # Ranked on the PR AUC as shown (3 decimals); fewer false alerts break ties.
    first, second = (round(row["pr_auc_mean"], 3) for row in doc["comparison"])
    assert first >= second
    for m in doc["models"].values():
        assert set(m["thresholds"]) == {
            "normal_percentile",
            "evaluated_percentile",
            "fbeta",
            "alert_budget",
        }
        assert m["thresholds"]["alert_budget"]["alerts_per_day"] <= 10.0
        # The percentile rules record their percentile; the others have none.
        assert m["thresholds"]["normal_percentile"]["percentile"] == 99.0
        assert m["thresholds"]["evaluated_percentile"]["percentile"] == 99.0
        assert "percentile" not in m["thresholds"]["fbeta"]
        assert len(m["threshold_sweep"]) == 12
        assert {r["feature"] for r in m["permutation_importance"]} == set(doc["feature_cols"])


def test_run_on_a_file_and_without_plots(tmp_path, small_csv):
    result = run_detection(
        DetectConfig(
            data_path=small_csv,
            k=5,
            plots=False,
            plots_dir=tmp_path / "p",
            anomaly_fraction=0.02,
            top_explanations=3,
        )
    )
    assert result.dataset.source == str(small_csv)
    assert not (tmp_path / "p" / "score_histograms.png").exists()
    assert (tmp_path / "p" / "metrics.json").exists()
    assert all(len(m.explanations) == 3 for m in result.models)


def test_labelled_data_without_attack_names(tmp_path, small_df):
    df = small_df.drop(columns=["attack_type", "mitre_technique"])
    result = run_detection(DetectConfig(k=5, plots=False, metrics_path=tmp_path / "m.json"), df=df)
    assert set(result.models[0].thresholds[TEST_RULE].recall_by_attack) == {"anomaly"}


def test_outputs_are_checked_before_any_work(tmp_path, small_df):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    calls = []

    def step(name):
        calls.append(name)
        from contextlib import nullcontext

        return nullcontext()

    with pytest.raises(ValueError, match="is a file"):
        run_detection(DetectConfig(plots_dir=blocker / "plots"), df=small_df, step=step)
    assert calls == []


def test_threshold_lab_rules_behave(default_run):
    for m in default_run.models:
        t = m.thresholds
        # F-beta optimum is at least as good in F1 as any other rule on labelled data.
        assert t["fbeta"].f1 >= max(t[r].f1 for r in t) - 1e-12
        # The budget rule never exceeds its budget.
        assert t["alert_budget"].alerts_per_day <= default_run.config.alerts_per_day + 1e-9


def test_several_seeds_report_mean_and_std(tmp_path):
    result = run_detection(
        DetectConfig(
            n_users=40,
            events_per_user=100,
            anomaly_fraction=0.02,
            seeds=3,
            k=10,
            plots=False,
            importance_repeats=0,
            metrics_path=tmp_path / "m.json",
        )
    )
    assert [run.seed for run in result.runs] == [42, 43, 44]
    # Each seed regenerates the data: the splits differ.
    assert result.runs[0].dataset.source != result.runs[1].dataset.source
    row = next(r for r in result.comparison() if r.detector == "iforest")
    values = [run.models[0].metrics.pr_auc for run in result.runs]
    assert row.pr_auc.mean == pytest.approx(np.mean(values))
    assert row.pr_auc.std == pytest.approx(np.std(values))
    assert len(json.loads((tmp_path / "m.json").read_text())["seeds"]) == 3


def test_foreign_labelled_table(tmp_path):
    rng = np.random.default_rng(0)
    import pandas as pd

    table = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    table["is_bad"] = 0
    table.loc[:19, ["a", "b"]] += 8
    table.loc[:19, "is_bad"] = 1
    table["note"] = "text column, ignored"
    path = tmp_path / "foreign.parquet"
    table.to_parquet(path)
    result = run_detection(
        DetectConfig(
            data_path=path,
            label_col="is_bad",
            k=10,
            plots=False,
            detectors=("iforest", "risk_score"),
            metrics_path=tmp_path / "m.json",
        )
    )
    assert result.feature_cols == ["a", "b", "c"]
    assert all(m.metrics.roc_auc > 0.95 for m in result.models)
    picked = run_detection(
        DetectConfig(
            data_path=path,
            label_col="is_bad",
            feature_cols=("a",),
            k=10,
            plots=False,
            metrics_path=tmp_path / "m2.json",
        )
    )
    assert picked.feature_cols == ["a"]
