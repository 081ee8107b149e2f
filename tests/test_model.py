"""The production model: fit, score, save and load a safe bundle, and refuse bad ones."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from soc_anomaly.errors import DataError, ModelError, ParameterError
from soc_anomaly.model import AnomalyModel, read_manifest, trusted_types
from soc_anomaly.model.bundle import MANIFEST_FILE, MODEL_FILE
from soc_anomaly.scenarios import generate_synthetic_soc_dataset, generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(n_users=120, days=14, campaigns=10, random_state=7)


@pytest.fixture(scope="module")
def halves(world):
    events = world.events
    return events[events["time"] < world.attack_start], events[events["time"] >= world.attack_start]


@pytest.fixture(scope="module")
def entity_model(world, halves):
    return AnomalyModel(detector="iforest", features="entity").fit(halves[0], users=world.users)


@pytest.fixture()
def bundle(entity_model, tmp_path):
    return entity_model.save(tmp_path / "model")


def test_fit_drops_labelled_attacks_and_records_the_training_data(entity_model, halves) -> None:
    train = halves[0]
    assert entity_model.training_["rows"] == int((train["label"] == 0).sum())
    assert entity_model.training_["start"].startswith("2026-01-05")
    assert entity_model.feature_names_[0] == "hour_rarity"
    kept = AnomalyModel(features="entity", keep_attacks=True).fit(train)
    assert kept.training_["rows"] == len(train)


def test_score_flags_attacks_with_reasons(entity_model, halves) -> None:
    test = halves[1]
    scored = entity_model.score(test)
    assert list(scored.index) == list(test.index)
    assert scored["score"].between(0, 100).all()
    alerts = scored["alert"].to_numpy()
    assert alerts.any()
    # Alerts are far richer in attacks than the evaluated period.
    assert test.loc[alerts, "label"].mean() > 5 * test["label"].mean()
    # A list of sentences per alert, an empty list for the others.
    assert scored.loc[alerts, "reasons"].map(len).gt(0).all()
    assert scored.loc[~alerts, "reasons"].map(len).eq(0).all()
    # The threshold is the training p99: about 1% of normal events alert.
    normal_alert_share = alerts[test["label"].to_numpy() == 0].mean()
    assert 0.002 < normal_alert_share < 0.05


def test_seed_and_table_models_give_z_score_reasons(halves) -> None:
    seed = AnomalyModel(features="seed", detector="kmeans").fit(halves[0])
    scored = seed.score(halves[1])
    alerted = scored.loc[scored["alert"], "reasons"]
    assert alerted.map(lambda r: any("std from normal" in s for s in r)).all()
    table = generate_synthetic_soc_dataset(n_users=30, events_per_user=50, random_state=3)
    model = AnomalyModel(features="table", detector="iforest").fit(table)
    assert model.feature_names_[0] == "hour"
    unlabelled = table.drop(columns=["label"])
    scored = model.score(unlabelled)
    assert scored["alert"].sum() > 0
    with pytest.raises(DataError, match=r"lack column\(s\) geo_distance; the model reads"):
        model.score(unlabelled.drop(columns=["geo_distance"]))


def test_bad_parameters_and_unfitted_use() -> None:
    with pytest.raises(ParameterError, match="unknown features 'rows'"):
        AnomalyModel(features="rows").fit(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ParameterError, match="not fitted"):
        AnomalyModel().score(pd.DataFrame({"x": [1.0]}))


def test_bundle_round_trip_scores_identically(entity_model, bundle, halves) -> None:
    back = AnomalyModel.load(bundle)
    pd.testing.assert_frame_equal(entity_model.score(halves[1]), back.score(halves[1]))


def test_manifest_describes_the_model(entity_model, bundle) -> None:
    manifest = read_manifest(bundle)
    assert manifest["feature_names"] == entity_model.feature_names_
    assert manifest["detector"]["name"] == "iforest"
    assert manifest["threshold"]["raw"] == entity_model.threshold_
    assert manifest["training"]["rows"] == entity_model.training_["rows"]
    assert len(manifest["training"]["sha256"]) == 64
    digest = hashlib.sha256((bundle / MODEL_FILE).read_bytes()).hexdigest()
    assert manifest["model_sha256"] == digest
    assert set(manifest["versions"]) >= {"soc_anomaly", "scikit-learn", "numpy", "skops"}
    assert manifest["ocsf_version"] == "1.5.0"
    assert manifest["attack_version"]
    assert manifest["random_state"] == 42


def test_a_tampered_model_file_is_refused(bundle) -> None:
    data = bytearray((bundle / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="altered after it was saved"):
        AnomalyModel.load(bundle)


class Payload:
    """A class no model needs: loading it must be refused."""


def test_an_untrusted_type_is_refused_even_with_a_matching_hash(bundle) -> None:
    path = bundle / MODEL_FILE
    sio.dump({"model": Payload()}, path)
    manifest = json.loads((bundle / MANIFEST_FILE).read_text())
    manifest["model_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"untrusted type\(s\) test_model.Payload"):
        AnomalyModel.load(bundle)


def test_another_scikit_learn_version_is_refused(bundle) -> None:
    manifest = json.loads((bundle / MANIFEST_FILE).read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"saved with scikit-learn 0\.24\.2, this is"):
        AnomalyModel.load(bundle)


def test_a_directory_without_a_manifest_is_refused(tmp_path) -> None:
    with pytest.raises(ModelError, match="is not a model bundle"):
        AnomalyModel.load(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not readable JSON"):
        AnomalyModel.load(tmp_path)


def test_the_allow_list_names_only_the_toolkit_and_two_sklearn_internals() -> None:
    names = trusted_types()
    assert all(
        n.startswith(("soc_anomaly.", "sklearn.tree.", "sklearn.utils._bunch")) for n in names
    )
    assert "soc_anomaly.model.fitted.AnomalyModel" in names
    assert not any("pickle" in n or n.startswith("builtins.") for n in names)
    assert np.unique(names).size == len(names)


@pytest.mark.parametrize("layout", ["one block", "column blocks"])
def test_fit_features_leaves_the_callers_frame_alone(layout: str) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(400, 3)) * [1.0, 10.0, 100.0]
    if layout == "one block":
        feats = pd.DataFrame(values, columns=["a", "b", "c"])  # to_numpy() may be a view
    else:
        feats = pd.DataFrame({c: values[:, i].copy() for i, c in enumerate("abc")})
    before = feats.copy()
    model = AnomalyModel(detector="iforest", features="table").fit_features(feats)
    pd.testing.assert_frame_equal(feats, before)
    np.testing.assert_allclose(model.scaler_mean_, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.scaler_scale_, values.std(axis=0), rtol=1e-12)
