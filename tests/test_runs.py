"""Run folders: save/load round trip, exact before/after diffs, one-line errors, atomic saves.

Built on real pipeline output, but only on the keys ``config``,
``models[name]["roc_auc"|"pr_auc"|"precision_at_k"|"thresholds"]`` and the same
per seed under ``seeds``, so the tests keep passing while the pipeline grows
new keys. Diffs compare means over seeds, leave output locations out, and
compare the detectors both runs share.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pathlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.errors import DataError, SocAnomalyError
from soc_anomaly.experiment import DetectConfig, DetectionResult, run_detection
from soc_anomaly.experiment.run_diff import ABSENT, diff_runs
from soc_anomaly.experiment.saved_runs import (
    CONFIG_FILE,
    METRICS_FILE,
    RUN_FILES,
    SCORES_FILE,
    Run,
    load_run,
    save_run,
)

THRESHOLD_KEYS = ("precision", "recall", "f1", "tp", "fp")


def _scores(result: DetectionResult) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "event": np.arange(len(result.y_test)),
            "label": result.y_test,
            "attack_type": result.attack_types_test.astype(str),
        }
    )
    for model in result.models:
        frame[f"score_{model.name}"] = model.test_scores
    return frame


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """Three small real runs: a baseline, one changed assumption, one detector fewer."""
    tmp = tmp_path_factory.mktemp("pipeline")
    # The same metrics_path for all, so it is not itself a config change.
    # 20 users x 100 events: about a second per run, and enough events per day
    # for the pipeline's default alert budget (20 x 50 falls below it).
    base = {"n_users": 20, "events_per_user": 100, "plots": False, "metrics_path": tmp / "m.json"}
    out = {}
    for name, extra in {
        "before": {},
        "after": {"threshold_percentile": 95.0},
        "iforest_only": {"detectors": ("iforest",)},
        # Two seeds each, written to different places: only the percentile differs.
        "seeds_before": {"seeds": 2, "save_run": tmp / "one"},
        "seeds_after": {
            "seeds": 2,
            "threshold_percentile": 95.0,
            "metrics_path": tmp / "elsewhere.json",
            "plots_dir": tmp / "other_plots",
            "save_run": tmp / "two",
        },
    }.items():
        result = run_detection(DetectConfig(**{**base, **extra}))
        out[name] = (result.to_dict(), _scores(result))
    return out


@pytest.fixture()
def saved(tmp_path: Path, runs) -> dict[str, Path]:
    return {name: save_run(tmp_path / name, *runs[name]) for name in runs}


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- save / load ----------------------------------------------------------------


def test_round_trip(tmp_path, runs):
    metrics, scores = runs["before"]
    folder = save_run(tmp_path / "nested" / "run", metrics, scores)
    assert folder == tmp_path / "nested" / "run"
    assert _files(folder) == sorted(RUN_FILES)  # no temporary files left over
    assert json.loads((folder / CONFIG_FILE).read_text()) == metrics["config"]

    run = load_run(str(folder))
    assert run.path == folder
    assert run.config == metrics["config"]
    assert run.metrics == json.loads(json.dumps(metrics))
    pd.testing.assert_frame_equal(run.scores, scores)


def test_extra_keys_are_kept_and_a_meaningful_index_is_stored(tmp_path, runs):
    metrics, scores = copy.deepcopy(runs["before"][0]), runs["before"][1]
    metrics["added_later"] = {"anything": [1, 2]}
    name = next(iter(metrics["models"]))
    metrics["models"][name]["new_metric"] = 0.5
    indexed = scores.set_index("event")
    run = load_run(save_run(tmp_path / "run", metrics, indexed))
    assert run.metrics["added_later"] == {"anything": [1, 2]}
    assert run.metrics["models"][name]["new_metric"] == 0.5
    pd.testing.assert_frame_equal(run.scores, scores)  # the index came back as a column


def test_a_previous_run_is_overwritten(saved, runs):
    folder = save_run(saved["before"], *runs["after"])
    run = load_run(folder)
    assert run.config == runs["after"][0]["config"]
    pd.testing.assert_frame_equal(run.scores, runs["after"][1])


# -- diff -------------------------------------------------------------------------


def _expected_deltas(before: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, model in before["models"].items():
        other = after["models"][name]
        for key in ("roc_auc", "pr_auc", "precision_at_k"):
            rows.append((name, key, float(model[key]), float(other[key])))
        for rule, block in model["thresholds"].items():
            for key in THRESHOLD_KEYS:
                value = other["thresholds"][rule][key]
                rows.append((name, f"{rule}.{key}", float(block[key]), float(value)))
    frame = pd.DataFrame(rows, columns=["detector", "metric", "before", "after"])
    frame["delta"] = frame["after"] - frame["before"]
    # One seed each: no spread to report.
    frame["before_std"] = frame["after_std"] = math.nan
    return frame


def test_config_change_and_metric_deltas_are_exact(saved, runs):
    diff = diff_runs(load_run(saved["before"]), load_run(saved["after"]))
    assert diff.config_changes == [("threshold_percentile", 99.0, 95.0)]
    before, after = runs["before"][0], runs["after"][0]
    expected = _expected_deltas(before, after)
    pd.testing.assert_frame_equal(diff.metric_deltas, expected, check_exact=True)
    assert set(diff.metric_deltas["detector"]) == set(before["models"])
    # A threshold rule changes alerts, never the ranking.
    ranking = diff.metric_deltas[diff.metric_deltas["metric"].isin(["roc_auc", "pr_auc"])]
    assert (ranking["delta"] == 0.0).all()
    assert (
        (diff.metric_deltas.loc[diff.metric_deltas["metric"].str.endswith(".tp"), "after"])
        .ge(0)
        .all()
    )

    doc = diff.to_dict()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["config_changes"] == [
        {"key": "threshold_percentile", "before": 99.0, "after": 95.0}
    ]
    assert len(doc["metric_deltas"]) == len(expected)
    assert doc["before"] == str(saved["before"]) and doc["after"] == str(saved["after"])


def test_a_run_against_itself_has_no_changes(saved):
    run = load_run(saved["before"])
    diff = diff_runs(run, run)
    assert diff.config_changes == []
    assert (diff.metric_deltas["delta"] == 0.0).all()


def test_nested_added_and_removed_settings(saved):
    run = load_run(saved["before"])
    a = dataclasses.replace(
        run, config={**run.config, "ocsvm": {"gamma": 0.1, "nu": 0.01}, "old": True, "n": 1}
    )
    b = dataclasses.replace(
        run, config={**run.config, "ocsvm": {"gamma": 0.2, "nu": 0.01}, "new": None, "n": 1.0}
    )
    diff = diff_runs(a, b)
    assert diff.config_changes == [
        ("ocsvm.gamma", 0.1, 0.2),
        ("old", True, ABSENT),
        ("new", ABSENT, None),
    ]
    changes = diff.to_dict()["config_changes"]
    assert changes[1] == {"key": "old", "before": True}
    assert changes[2] == {"key": "new", "after": None}


def test_detectors_of_only_one_run_are_named_and_the_shared_ones_compared(saved):
    both = load_run(saved["before"])
    one = load_run(saved["iforest_only"])
    diff = diff_runs(both, one)
    assert diff.only_before == ["OneClassSVM"] and diff.only_after == []
    assert set(diff.metric_deltas["detector"]) == {"IsolationForest"}
    # The same detector, data and seed: nothing moved.
    assert diff.changed_metrics().empty
    assert diff.config_changes == [("detectors", ["iforest", "ocsvm"], ["iforest"])]
    reverse = diff_runs(one, both)
    assert reverse.only_before == [] and reverse.only_after == ["OneClassSVM"]
    assert reverse.to_dict()["only_after"] == ["OneClassSVM"]


def test_runs_sharing_no_detector_refuse_to_diff(saved):
    run = load_run(saved["before"])
    renamed = {**run.metrics, "models": {"kNN distance": run.metrics["models"]["OneClassSVM"]}}
    with pytest.raises(SocAnomalyError, match="share no detector") as exc:
        diff_runs(run, dataclasses.replace(run, metrics=renamed))
    message = _one_line(exc)
    assert "the first evaluated IsolationForest, OneClassSVM; the second kNN distance" in message


def test_runs_without_common_metrics_refuse_to_diff(saved):
    run = load_run(saved["before"])
    bare = {
        **run.metrics,
        "models": {name: {"detector": "x"} for name in run.metrics["models"]},
        "seeds": [],
    }
    with pytest.raises(SocAnomalyError, match="no metric in common") as exc:
        diff_runs(run, dataclasses.replace(run, metrics=bare))
    _one_line(exc)


def test_multi_seed_runs_compare_means_over_seeds_with_their_std(saved, runs):
    diff = diff_runs(load_run(saved["seeds_before"]), load_run(saved["seeds_after"]))
    # Where the output went is no setting of the experiment.
    assert diff.config_changes == [("threshold_percentile", 99.0, 95.0)]
    assert (diff.seeds_before, diff.seeds_after) == (2, 2)
    rows = diff.metric_deltas.set_index(["detector", "metric"])
    for side, doc in (("before", runs["seeds_before"][0]), ("after", runs["seeds_after"][0])):
        seeds = doc["seeds"]
        for name in doc["models"]:
            for metric in ("roc_auc", "pr_auc"):
                values = [seed["models"][name][metric] for seed in seeds]
                assert rows.loc[(name, metric), side] == pytest.approx(np.mean(values))
                assert rows.loc[(name, metric), f"{side}_std"] == pytest.approx(np.std(values))
            fps = [seed["models"][name]["thresholds"]["normal_percentile"]["fp"] for seed in seeds]
            assert rows.loc[(name, "normal_percentile.fp"), side] == pytest.approx(np.mean(fps))
        # A second seed is other data: the mean is not the first seed's number.
        pr = [seed["models"]["IsolationForest"]["pr_auc"] for seed in seeds]
        assert pr[0] != pr[1] and rows.loc[("IsolationForest", "pr_auc"), side] != pr[0]
    # The same seeds and data: the ranking metrics cannot move, the thresholds do.
    moved = set(diff.changed_metrics()["metric"])
    assert not moved & {"roc_auc", "pr_auc", "precision_at_k"}
    assert "normal_percentile.recall" in moved or "normal_percentile.fp" in moved
    doc = diff.to_dict()
    assert doc["seeds_before"] == 2 and json.dumps(doc, allow_nan=False)
    assert all(isinstance(r["before_std"], float) for r in doc["metric_deltas"])


def test_output_locations_are_not_changes_but_the_data_is(saved):
    run = load_run(saved["before"])
    moved = {
        **run.config,
        "plots_dir": "/elsewhere/plots",
        "metrics_path": "/elsewhere/m.json",
        "save_run": "/elsewhere/run",
        "report": "/elsewhere/report.html",
        "plots": not run.config["plots"],
    }
    assert diff_runs(run, dataclasses.replace(run, config=moved)).config_changes == []
    other_data = {**moved, "data_path": "/data/other.parquet"}
    changes = diff_runs(run, dataclasses.replace(run, config=other_data)).config_changes
    assert changes == [("data_path", run.config["data_path"], "/data/other.parquet")]


def test_one_seed_has_no_std_in_the_json(saved):
    run = load_run(saved["before"])
    doc = diff_runs(run, run).to_dict()
    assert {r["before_std"] for r in doc["metric_deltas"]} == {None}
    assert doc["only_before"] == doc["only_after"] == []


def test_non_finite_metrics_stay_json_ready(saved):
    run = load_run(saved["before"])
    metrics = copy.deepcopy(run.metrics)
    name = next(iter(metrics["models"]))
    metrics["models"][name]["roc_auc"] = "nan"  # how metrics.json stores NaN
    diff = diff_runs(run, dataclasses.replace(run, metrics=metrics))
    row = diff.metric_deltas[
        (diff.metric_deltas["detector"] == name) & (diff.metric_deltas["metric"] == "roc_auc")
    ].iloc[0]
    assert math.isnan(row["after"]) and math.isnan(row["delta"])
    json.dumps(diff.to_dict(), allow_nan=False)


# -- load errors ------------------------------------------------------------------


def test_missing_folder_or_a_file_instead(tmp_path):
    with pytest.raises(DataError, match="does not exist") as exc:
        load_run(tmp_path / "nope")
    _one_line(exc)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file") as exc:
        load_run(tmp_path / "file")
    _one_line(exc)


@pytest.mark.parametrize("missing", RUN_FILES)
def test_missing_file(saved, missing):
    (saved["before"] / missing).unlink()
    with pytest.raises(DataError, match=rf"is missing {missing}; expected") as exc:
        load_run(saved["before"])
    _one_line(exc)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        (METRICS_FILE, "", r"metrics\.json is not valid JSON \(Expecting value at line 1"),
        (METRICS_FILE, "cut", r"not valid JSON"),
        (CONFIG_FILE, '{"k": 5', r"config\.json is not valid JSON"),
        (METRICS_FILE, "[1, 2]", r"holds a JSON list; expected a JSON object"),
        (METRICS_FILE, '{"config": {}}', r"lacks 'models'; expected the keys 'config' and"),
        (METRICS_FILE, '{"config": {}, "models": []}', r"has 'models' of type list"),
        (METRICS_FILE, '{"config": {}, "models": {"m": 1}}', r"models\['m'\] of type int"),
        (CONFIG_FILE, '{"k": 5}', r"config\.json has .*=.* but the config in metrics\.json"),
    ],
)
def test_corrupt_json(saved, name, content, pattern):
    path = saved["before"] / name
    if content == "cut":
        raw = path.read_bytes()
        content = raw[: len(raw) // 2].decode()
    path.write_text(content)
    with pytest.raises(DataError, match=pattern) as exc:
        load_run(saved["before"])
    _one_line(exc)


def test_binary_json_file(saved):
    (saved["before"] / METRICS_FILE).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not UTF-8 text") as exc:
        load_run(saved["before"])
    _one_line(exc)


def test_truncated_scores(saved):
    path = saved["before"] / SCORES_FILE
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="not a readable Parquet file") as exc:
        load_run(saved["before"])
    assert str(path) in _one_line(exc)


# -- save refusals and atomicity ------------------------------------------------------


def test_refuses_a_file_and_a_foreign_folder(tmp_path, runs):
    (tmp_path / "file").write_text("keep me")
    with pytest.raises(SocAnomalyError, match="is an existing file; expected a folder") as exc:
        save_run(tmp_path / "file", *runs["before"])
    _one_line(exc)
    assert (tmp_path / "file").read_text() == "keep me"

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SocAnomalyError, match=r"not empty and holds no metrics\.json") as exc:
        save_run(foreign, *runs["before"])
    assert "notes.txt" in _one_line(exc)
    assert _files(foreign) == ["notes.txt"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert load_run(save_run(empty, *runs["before"])).config == runs["before"][0]["config"]


@pytest.mark.parametrize(
    ("spoil", "pattern"),
    [
        ("nan metric", r"metrics cannot be stored as JSON: Out of range float"),
        ("no config", r"lacks 'config'"),
        ("bad scores", r"scores cannot be stored as Parquet"),
        ("empty scores", r"scores has shape \(0, 0\)"),
        ("int column", r"scores has column name 0 of type int"),
        ("not a frame", r"scores must be a pandas DataFrame, got dict"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, runs, spoil, pattern):
    metrics, scores = copy.deepcopy(runs["before"][0]), runs["before"][1].copy()
    if spoil == "nan metric":
        metrics["models"][next(iter(metrics["models"]))]["roc_auc"] = float("nan")
    elif spoil == "no config":
        del metrics["config"]
    elif spoil == "bad scores":
        scores["mixed"] = [1, "a"] * (len(scores) // 2) + [1] * (len(scores) % 2)
    elif spoil == "empty scores":
        scores = pd.DataFrame()
    elif spoil == "int column":
        scores[0] = 1.0
    else:
        scores = scores.to_dict()
    with pytest.raises(DataError, match=pattern) as exc:
        save_run(tmp_path / "run", metrics, scores)
    _one_line(exc)
    assert not (tmp_path / "run").exists()


def _failing_write_bytes(monkeypatch: pytest.MonkeyPatch, fail_on: str) -> None:
    """Make the write of ``fail_on`` stop half-way with a full disk."""
    real = pathlib.Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.name.startswith(f".{fail_on}."):  # atomic_write's temporary file
            real(self, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def test_failed_write_leaves_no_half_written_file(tmp_path, runs, monkeypatch):
    _failing_write_bytes(monkeypatch, SCORES_FILE)
    with pytest.raises(SocAnomalyError, match=r"cannot write .*scores\.parquet: No space") as exc:
        save_run(tmp_path / "run", *runs["before"])
    _one_line(exc)
    assert _files(tmp_path / "run") == []


def test_failed_overwrite_keeps_the_previous_run(saved, runs, monkeypatch):
    _failing_write_bytes(monkeypatch, SCORES_FILE)
    with pytest.raises(SocAnomalyError, match="No space left on device"):
        save_run(saved["before"], *runs["after"])
    run = load_run(saved["before"])
    assert run.config == runs["before"][0]["config"]
    pd.testing.assert_frame_equal(run.scores, runs["before"][1])
    assert _files(saved["before"]) == sorted(RUN_FILES)


def test_a_save_that_failed_late_can_be_retried(tmp_path, runs, monkeypatch):
    _failing_write_bytes(monkeypatch, METRICS_FILE)
    with pytest.raises(SocAnomalyError, match=r"cannot write .*metrics\.json"):
        save_run(tmp_path / "run", *runs["before"])
    # metrics.json is written last: without it the folder is not a run ...
    assert _files(tmp_path / "run") == sorted([SCORES_FILE, CONFIG_FILE])
    with pytest.raises(DataError, match=r"is missing metrics\.json"):
        load_run(tmp_path / "run")
    # ... and the save can simply be run again.
    monkeypatch.undo()
    assert isinstance(load_run(save_run(tmp_path / "run", *runs["before"])), Run)
