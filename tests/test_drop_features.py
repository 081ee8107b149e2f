"""Models reading some of their featuriser's columns (the lab's --drop-features)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_bundle_hostile import craft

from soc_anomaly.errors import ModelError, ParameterError
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.pipeline import _planned
from soc_anomaly.features.catalog import FEATURES, SEQUENCE_FEATURES
from soc_anomaly.model import AnomalyModel, load_model
from soc_anomaly.scenarios import generate_world

KEPT = [c for c in FEATURES if c not in SEQUENCE_FEATURES]


@pytest.fixture(scope="module")
def world():
    w = generate_world(n_users=80, days=14, campaigns=20, random_state=11)
    e = w.events
    return w, e[(e["time"] < w.attack_start) & (e["label"] == 0)]


@pytest.fixture(scope="module")
def subset_bundle(world, tmp_path_factory):
    w, train = world
    model = AnomalyModel(detector="iforest", feature_cols=KEPT).fit(train, users=w.users)
    return model, model.save(tmp_path_factory.mktemp("subset") / "bundle")


def test_a_model_reads_only_its_feature_cols_and_names_only_them(world, subset_bundle) -> None:
    w, train = world
    model, path = subset_bundle
    assert model.feature_names_ == KEPT
    test = w.events[w.events["time"] >= w.attack_start]
    scored = model.score(test, history=train, reasons=30)
    pd.testing.assert_frame_equal(scored, load_model(path).score(test, history=train, reasons=30))
    said = " ".join(" ".join(r) for r in scored.loc[scored["alert"], "reasons"])
    assert said and "right after" not in said and "run of three actions" not in said
    # Without feature_cols a model reads every feature.
    full = AnomalyModel(detector="iforest").fit(train, users=w.users)
    assert len(full.feature_names_) == len(FEATURES)


def test_a_bundle_whose_columns_are_not_the_featurisers_is_refused(subset_bundle, tmp_path):
    _, path = subset_bundle
    bad = craft(path, tmp_path / "bad", lambda m: setattr(m, "feature_names_", KEPT[::-1]))
    with pytest.raises(ModelError, match="feature_names_: differ from the featuriser's output"):
        load_model(bad)


def test_unknown_feature_cols_are_named(world) -> None:
    w, train = world
    with pytest.raises(ParameterError, match=r"unknown feature.*nope"):
        AnomalyModel(feature_cols=["nope"]).fit(train.iloc[:2000], users=w.users)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (DetectConfig(drop_features=("hour_rarity",)), r"applies to --scenario enterprise"),
        (
            DetectConfig(scenario="enterprise", drop_features=("nope",)),
            r"--drop-features: unknown feature\(s\) nope",
        ),
    ],
)
def test_drop_features_are_checked_before_any_work(config, named) -> None:
    with pytest.raises(ParameterError, match=named):
        config.validate()


def test_sequence_detectors_whose_columns_are_dropped_are_skipped_with_a_note() -> None:
    notes: list[str] = []
    sets = {"entity": []}
    planned = _planned(["markov", "iforest"], sets, notes, ("window_surprise",))
    assert planned == [("iforest", "entity")]
    assert notes == ["markov: reads action_surprise, window_surprise, left out by --drop-features"]
    with pytest.raises(ParameterError, match="leaves no detector"):
        _planned(["markov"], sets, [], ("action_surprise",))


def test_a_model_without_a_seed_saves_and_loads(world, tmp_path) -> None:
    w, train = world
    model = AnomalyModel(detector="kmeans", random_state=None).fit(train, users=w.users)
    loaded = load_model(model.save(tmp_path / "unseeded"))
    assert loaded.featurizer_.random_state == 0 and not loaded.featurizer_.lstm
