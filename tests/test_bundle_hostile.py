"""Hostile bundles: crafted model files and manifests are refused in one line, never run.

Each crafted bundle is a small saved model whose ``model.skops`` was edited with
skops and whose manifest's SHA-256 was rewritten to match, as anyone who can
write the bundle can do. The crash and hang cases run the scorer in a
subprocess, so a crash fails the test rather than the session.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from soc_anomaly.cli.main import main
from soc_anomaly.errors import ModelError
from soc_anomaly.model import AnomalyModel, load_model
from soc_anomaly.model.bundle import MANIFEST_FILE, MODEL_FILE, load_bundle

# The last four are named as the entity features the markov and lstm detectors read, so
# every registered detector (those two included) fits a table model of them.
COLUMNS = ["a", "b", "action_surprise", "window_surprise", "lstm_surprise", "lstm_rank"]


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame(np.random.default_rng(seed).normal(size=(n, len(COLUMNS))), columns=COLUMNS)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small table model of each registered detector, saved once."""
    from soc_anomaly.detectors import DETECTORS

    root = tmp_path_factory.mktemp("bundles")
    train = _table()
    return {
        name: AnomalyModel(detector=name, features="table").fit(train).save(root / name)
        for name in DETECTORS
    }


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.csv"
    _table(50, seed=1).to_csv(path, index=False)
    return path


def _rehash(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST_FILE).read_text())
    manifest["model_sha256"] = hashlib.sha256((bundle / MODEL_FILE).read_bytes()).hexdigest()
    (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))


def craft(src: Path, dst: Path, mutate: Callable[[Any], None]) -> Path:
    """A copy of bundle ``src`` whose model was changed by ``mutate``, hash rewritten."""
    shutil.copytree(src, dst)
    path = dst / MODEL_FILE
    model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    mutate(model)
    sio.dump(model, path)
    _rehash(dst)
    return dst


def edit_manifest(src: Path, dst: Path, edit: Callable[[dict], Any]) -> Path:
    """A copy of bundle ``src`` whose manifest was changed in place by ``edit``."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / MANIFEST_FILE).read_text())
    edit(manifest)
    (dst / MANIFEST_FILE).write_text(json.dumps(manifest))
    return dst


def _score_subprocess(bundle: Path, events: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "soc_anomaly.cli", "score", "--model-dir", str(bundle)]
    cmd += ["--input", str(events), "--output", str(out), "--quiet"]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _tree_state(model: Any, i: int = 0) -> tuple[Any, dict]:
    tree = model.detector_.forest_.estimators_[i].tree_
    return tree, tree.__getstate__()


def _feature_out_of_range(model: Any) -> None:
    forest = model.detector_.forest_
    forest.estimators_features_ = [np.full_like(a, 10**8) for a in forest.estimators_features_]


def _root_is_its_own_child(model: Any) -> None:
    tree, state = _tree_state(model)
    state["nodes"]["left_child"][0] = 0
    tree.__setstate__(state)


@pytest.mark.parametrize(
    ("mutate", "named"),
    [
        (_feature_out_of_range, r"estimators_features_\[0\]: holds a column outside \[0, 6\)"),
        (_root_is_its_own_child, r"estimators_\[0\]\.tree_: a node's child is not after it"),
    ],
    ids=["segfault", "self-loop"],
)
def test_a_crafted_forest_is_refused_in_one_line_not_run(
    bundles, events_csv, tmp_path, mutate, named
) -> None:
    # Before the checks: SIGSEGV (exit 139) for the first, a walk that never ends for the second.
    bad = craft(bundles["iforest"], tmp_path / "bad", mutate)
    out = tmp_path / "out.csv"
    run = _score_subprocess(bad, events_csv, out)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("error: model.skops is not a valid model: model.detector_")
    assert re.search(named, run.stderr)
    assert not out.exists()


def _set(path: str, value: Any) -> Callable[[Any], None]:
    """A mutation setting the attribute at dotted ``path`` (``[i]`` indexes a list)."""

    def mutate(model: Any) -> None:
        obj = model
        parts = path.split(".")
        for part in parts[:-1]:
            name, _, index = part.partition("[")
            obj = getattr(obj, name)
            if index:
                obj = obj[int(index[:-1])]
        setattr(obj, parts[-1], value(getattr(obj, parts[-1])) if callable(value) else value)

    return mutate


def _tree_edit(edit: Callable[[dict], None]) -> Callable[[Any], None]:
    def mutate(model: Any) -> None:
        tree, state = _tree_state(model)
        edit(state)
        tree.__setstate__(state)

    return mutate


def _child_past_the_end(state: dict) -> None:
    state["nodes"]["right_child"][0] = 10**6


def _shared_child(state: dict) -> None:
    nodes = state["nodes"]
    nodes["right_child"][0] = nodes["left_child"][0]


def _shallow_depth(state: dict) -> None:
    state["max_depth"] = 1


def _split_on_column_9(state: dict) -> None:
    inner = state["nodes"]["left_child"] != -1
    state["nodes"]["feature"][np.flatnonzero(inner)[0]] = 9


def _forest_is_a_regression(model: Any) -> None:
    # A type skops trusts by default, but no part of a model here.
    from sklearn.linear_model import LinearRegression

    model.detector_.forest_ = LinearRegression()


HOSTILE = [
    ("iforest", _tree_edit(_child_past_the_end), r"tree_: a node's child is not after it|outside"),
    ("iforest", _tree_edit(_shared_child), r"tree_: a node is the child of none or of two"),
    ("iforest", _tree_edit(_shallow_depth), r"tree_: max_depth 1 is not its depth"),
    ("iforest", _tree_edit(_split_on_column_9), r"tree_: a split reads a column outside"),
    ("iforest", _forest_is_a_regression, r"forest_: is a sklearn\.linear_model"),
    (
        "iforest",
        _set("detector_.forest_._decision_path_lengths", lambda v: v[:-1]),
        r"_decision_path_lengths: expected one entry per tree",
    ),
    (
        "ocsvm",
        _set("detector_.svm_.support_vectors_", lambda v: v[:, :2].copy()),
        r"svm_\.support_vectors_: has shape",
    ),
    ("ocsvm", _set("detector_.svm_.support_", lambda v: v + 10**6), r"svm_\.support_: holds a row"),
    ("ocsvm_approx", _set("detector_.svm_.dual_coef_", lambda v: -v), r"dual_coef_: holds a value"),
    (
        "kmeans",
        _set("detector_.kmeans_.cluster_centers_", lambda v: v * np.nan),
        r"cluster_centers_: holds a NaN",
    ),
    ("knn", _set("detector_.nn_._fit_X", lambda v: v[:, :3].copy()), r"nn_\._fit_X: has shape"),
    ("knn", _set("detector_.nn_._fit_method", "kd_tree"), r"nn_: uses 'kd_tree'"),
    (
        "lof",
        _set("detector_.lof_._distances_fit_X_", lambda v: v[:, :1].copy()),
        r"_distances_fit_X_: has shape",
    ),
    (
        "mahalanobis",
        _set("detector_.covariance_estimator_.location_", lambda v: v[:2].copy()),
        r"location_: has shape",
    ),
    (
        "risk_score",
        _set("detector_.directions_", lambda v: np.array(["up"] * len(COLUMNS), dtype=object)),
        r"directions_: expected high, low or both",
    ),
    (
        "ensemble",
        _set("detector_.calibrators_[0].knots_", lambda v: v[::-1].copy()),
        r"calibrators_\[0\]\.knots_: is not strictly increasing",
    ),
    (
        "ensemble",  # its members: OneClassSVM (subsampled), then kNN distance
        _set("detector_.estimators_[1].nn_._fit_X", lambda v: v[:, :3].copy()),
        r"estimators_\[1\]\.nn_\._fit_X: has shape",
    ),
    (
        "ensemble",
        _set("detector_.estimators_[0].svm_.dual_coef_", lambda v: -v),
        r"estimators_\[0\]\.svm_\.dual_coef_: holds a value",
    ),
    ("iforest", _set("calibrator_.levels_", lambda v: v * 2), r"calibrator_\.levels_"),
    ("iforest", _set("scaler_scale_", lambda v: -v), r"scaler_scale_: holds a value"),
    ("iforest", _set("detector_.n_features_in_", 7), r"detector_\.n_features_in_: is 7"),
    ("iforest", _set("detector", "kmeans"), r"detector_: is a IForestDetector; expected KMeans"),
    ("iforest", _set("threshold_", float("nan")), r"threshold_: is nan"),
]


@pytest.mark.parametrize(
    ("detector", "mutate", "named"),
    HOSTILE,
    ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(HOSTILE)],
)
def test_an_inconsistent_fitted_array_is_refused_naming_it(
    bundles, tmp_path, detector, mutate, named
) -> None:
    bad = craft(bundles[detector], tmp_path / "bad", mutate)
    with pytest.raises(ModelError, match=named) as info:
        load_model(bad)
    assert "\n" not in str(info.value)


def test_every_detector_of_the_registry_loads_and_scores_after_the_checks(bundles) -> None:
    events = _table(20, seed=3)
    for name, bundle in bundles.items():
        model, manifest = load_bundle(bundle)
        assert manifest["detector"]["name"] == model.detector == name
        assert len(model.score(events)) == 20


def test_the_entity_featuriser_is_checked(scoring_world, tmp_path) -> None:
    fresh = load_model(scoring_world.model_dir)  # the real bundle passes
    assert fresh.features == "entity"

    def duplicate_user(model: Any) -> None:
        vocab = model.featurizer_.vocab_
        vocab["user"] = np.append(vocab["user"], vocab["user"][0])

    bad = craft(scoring_world.model_dir, tmp_path / "vocab", duplicate_user)
    with pytest.raises(ModelError, match=r"vocab_\['user'\]: holds a value twice"):
        load_model(bad)

    def short_table(model: Any) -> None:
        tables = model.featurizer_.user_tables_
        tables["hour_rarity"] = tables["hour_rarity"][:3]

    bad = craft(scoring_world.model_dir, tmp_path / "tables", short_table)
    with pytest.raises(ModelError, match=r"user_tables_\['hour_rarity'\]: has shape"):
        load_model(bad)

    def peers_out_of_range(model: Any) -> None:
        model.featurizer_.peers_.member_dept = model.featurizer_.peers_.member_dept + 1000

    bad = craft(scoring_world.model_dir, tmp_path / "peers", peers_out_of_range)
    with pytest.raises(ModelError, match=r"peers_\.member_dept: holds a department outside"):
        load_model(bad)


MANIFEST_EDITS = [
    (lambda m: m.__setitem__("versions", ["1.0"]), r"field versions is a list; expected an object"),
    (lambda m: m.pop("detector"), r"field detector is missing"),
    (lambda m: m["detector"].__setitem__("name", 3), r"field detector\.name is a int"),
    (
        lambda m: m["threshold"].__setitem__("raw", m["threshold"]["raw"] + 0.01),
        r"manifest field threshold\.raw does not agree with the model",
    ),
    (
        lambda m: m["threshold"].__setitem__("calibrated", 1.0),
        r"manifest field threshold\.calibrated does not agree",
    ),
    (lambda m: m["feature_names"].reverse(), r"manifest field feature_names does not agree"),
    (lambda m: m["detector"].__setitem__("name", "kmeans"), r"field detector\.name does not agree"),
    (lambda m: m.__setitem__("features", "entity"), r"manifest field features does not agree"),
    (lambda m: m.__setitem__("model_sha256", "x" * 64), r"model_sha256 is not 64 hexadecimal"),
    (lambda m: m.__setitem__("threshold", True), r"field threshold is a bool"),
]


@pytest.mark.parametrize(("edit", "named"), MANIFEST_EDITS, ids=range(len(MANIFEST_EDITS)))
def test_an_edited_or_ill_typed_manifest_is_refused(bundles, tmp_path, edit, named) -> None:
    bad = edit_manifest(bundles["iforest"], tmp_path / "bad", edit)
    with pytest.raises(ModelError, match=named):
        load_model(bad)


def test_a_deep_huge_or_non_json_manifest_is_refused(bundles, tmp_path) -> None:
    deep = shutil.copytree(bundles["iforest"], tmp_path / "deep")
    (deep / MANIFEST_FILE).write_text(
        '{"bundle_format": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    with pytest.raises(ModelError, match="nests too deep"):
        load_model(deep)
    huge = shutil.copytree(bundles["iforest"], tmp_path / "huge")
    (huge / MANIFEST_FILE).write_text(" " * 1_000_001)
    with pytest.raises(ModelError, match=r"is over 1,000,000 bytes"):
        load_model(huge)
    nan = edit_manifest(bundles["iforest"], tmp_path / "nan", lambda m: None)
    text = (nan / MANIFEST_FILE).read_text().replace('"percentile": 99.0', '"percentile": NaN')
    (nan / MANIFEST_FILE).write_text(text)
    with pytest.raises(ModelError, match="is not readable JSON"):
        load_model(nan)
    listed = shutil.copytree(bundles["iforest"], tmp_path / "listed")
    (listed / MANIFEST_FILE).write_text("[1, 2]")
    with pytest.raises(ModelError, match="holds an array, not a JSON object; expected a manifest"):
        load_model(listed)


def test_an_unreadable_model_file_is_refused(bundles, tmp_path) -> None:
    bad = shutil.copytree(bundles["iforest"], tmp_path / "bad")
    (bad / MODEL_FILE).write_bytes(b"PK\x03\x04 not a zip")
    _rehash(bad)
    with pytest.raises(ModelError, match=r"is not a readable skops file"):
        load_model(bad)
    folder = shutil.copytree(bundles["iforest"], tmp_path / "folder")
    (folder / MODEL_FILE).unlink()
    (folder / MODEL_FILE).mkdir()
    with pytest.raises(ModelError, match=r"model.skops is not a file; expected the saved model"):
        load_model(folder)


def test_score_and_serve_refuse_a_bad_bundle_in_one_line_exit_2(
    bundles, events_csv, tmp_path, capsys
) -> None:
    bad = edit_manifest(bundles["iforest"], tmp_path / "bad", lambda m: m.pop("detector"))
    out = tmp_path / "out.csv"
    code = main(
        ["score", "--model-dir", str(bad), "--input", str(events_csv), "--output", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "field detector is missing" in err
    assert not out.exists()
    code = main(["serve", "--model-dir", str(bad), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "field detector is missing" in err
