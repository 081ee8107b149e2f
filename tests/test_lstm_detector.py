"""The lstm detector: the next-action LSTM fitted with the entity features, in the lab,
in bundles and streams, and its one-line message where PyTorch is absent."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli
from test_bundle_hostile import craft

from soc_anomaly.detectors.names import parse_detector_names
from soc_anomaly.errors import ModelError, ParameterError
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.pipeline import run_detection
from soc_anomaly.features import EntityFeatures
from soc_anomaly.features.lstm_features import LSTM_FEATURES, with_lstm
from soc_anomaly.model import AnomalyModel, load_model
from soc_anomaly.scenarios import generate_world
from soc_anomaly.sequences import torch_check

pytest.importorskip(
    "torch", reason="PyTorch is the optional [deep] extra; the README's test command installs it"
)


@pytest.fixture(scope="module")
def world():
    w = generate_world(n_users=80, days=14, campaigns=20, random_state=11)
    e = w.events
    train = e[(e["time"] < w.attack_start) & (e["label"] == 0)]
    return w, train, EntityFeatures(lstm=True, random_state=3).fit(train, users=w.users)


def test_the_lstm_columns_follow_the_entity_features_and_do_not_depend_on_chunks(world) -> None:
    w, _, fe = world
    events = w.events
    whole = fe.transform(events)
    assert list(whole.columns[-2:]) == list(LSTM_FEATURES)
    assert list(fe.get_feature_names_out()) == list(whole.columns)
    # The 30 entity features are those of a featuriser without the LSTM.
    plain = EntityFeatures().fit(world[1], users=w.users).transform(events)
    pd.testing.assert_frame_equal(whole[plain.columns], plain)
    rank = whole["lstm_rank"].to_numpy()
    assert rank.min() >= 1 and np.array_equal(rank, np.round(rank))
    context, parts = None, []
    for rows in np.array_split(np.arange(len(events)), 7):
        feats, _, context = fe.transform_stream(events.iloc[rows], context)
        parts.append(feats)
    pd.testing.assert_frame_equal(pd.concat(parts), whole)


def test_attack_actions_are_less_expected_by_the_lstm(world) -> None:
    w, _, fe = world
    feats = fe.transform(w.events)
    attack = w.events["label"].to_numpy() == 1
    normal = ~attack & (w.events["time"] >= w.attack_start).to_numpy()
    for col in LSTM_FEATURES:
        assert feats.loc[attack, col].mean() > 2 * feats.loc[normal, col].mean()


def test_the_labs_copy_trains_the_same_lstm_as_a_fit(world) -> None:
    w, train, fe = world
    plain = EntityFeatures().fit(train, users=w.users)
    copy = with_lstm(plain, train, random_state=3)
    assert not hasattr(plain, "lstm_") and not plain.lstm
    events = w.events.iloc[:4000]
    pd.testing.assert_frame_equal(copy.transform(events), fe.transform(events))


def test_an_lstm_bundle_scores_the_same_after_saving_and_in_chunks(world, tmp_path) -> None:
    w, train, _ = world
    model = AnomalyModel(detector="lstm", random_state=3).fit(train, users=w.users)
    assert model.feature_names_[-2:] == list(LSTM_FEATURES)
    test = w.events[w.events["time"] >= w.attack_start]
    scored = model.score(test, history=train)
    loaded = AnomalyModel.load(model.save(tmp_path / "bundle"))
    pd.testing.assert_frame_equal(scored, loaded.score(test, history=train))
    alerts = scored[scored["alert"]]
    assert len(alerts) and test.loc[alerts.index, "label"].mean() > 0.3
    # Each alert's first reason is what the LSTM made of the action.
    assert all("the next-action LSTM ranked it" in r[0] for r in alerts["reasons"])
    # Without history the windows start with actions not seen, which training taught it.
    assert model.score(test)["alert"].sum() < 1.5 * len(alerts)


def _huge(featurizer) -> None:
    """An LSTM of 1,024 hidden units: consistent, but slow to score."""
    w, h = featurizer.lstm_, 1024
    rng = np.random.default_rng(0)
    for name, shape in (("w_ih", (4 * h, w.w_ih.shape[1])), ("w_hh", (4 * h, h)),
                        ("bias", (4 * h,)), ("w_out", (w.n_actions, h))):  # fmt: skip
        setattr(w, name, rng.normal(size=shape).astype(np.float32))


@pytest.fixture(scope="module")
def small_bundle(world, tmp_path_factory):
    w, train, _ = world
    model = AnomalyModel(detector="lstm").fit(train.iloc[:3000], users=w.users)
    return model.save(tmp_path_factory.mktemp("lstm") / "bundle")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: setattr(f.lstm_, "w_out", f.lstm_.w_out[:5].copy()), r"lstm_: .* has shape"),
        (lambda f: f.lstm_.w_hh.__setitem__((0, 0), np.nan), r"w_hh holds a NaN"),
        (lambda f: setattr(f.lstm_, "bias", f.lstm_.bias.astype(np.float64)), r"bias must be"),
        (lambda f: setattr(f, "lstm_scale_", np.array([0.0, -1.0])), r"lstm_scale_"),
        (_huge, r"lstm_\.hidden: is 1024; expected a value in \[1, 512\]"),
    ],
    ids=["shape", "nan", "dtype", "scale", "huge"],
)
def test_a_tampered_lstm_is_refused_in_one_line(small_bundle, tmp_path, change, named) -> None:
    bad = craft(small_bundle, tmp_path / "bad", lambda model: change(model.featurizer_))
    with pytest.raises(ModelError, match=named) as info:
        load_model(bad)
    assert "\n" not in str(info.value)


def test_the_lab_runs_lstm_beside_markov_on_the_entity_features(capsys, tmp_path) -> None:
    path = tmp_path / "world.parquet"
    argv = ["--n-users", "120", "--days", "14", "--campaigns", "6", "--output-path", str(path)]
    assert run_cli(capsys, "generate", "--scenario", "enterprise", *argv)[0] == 0
    config = DetectConfig(
        scenario="enterprise",
        data_path=path,
        features="both",
        detectors=("markov", "lstm"),
        plots=False,
        importance_repeats=0,
        plots_dir=tmp_path / "plots",
        metrics_path=tmp_path / "metrics.json",
    )
    result = run_detection(config)
    models = {m.detector: m for m in result.runs[0].models}
    assert set(models) == {"markov@entity", "lstm@entity"}
    lstm = models["lstm@entity"]
    assert lstm.feature_cols[-2:] == list(LSTM_FEATURES)
    assert not set(LSTM_FEATURES) & set(models["markov@entity"].feature_cols)
    assert lstm.metrics.roc_auc > 0.6
    assert any("lstm: reads the entity features" in n for n in result.notes)


def test_without_torch_lstm_says_how_to_install_it_in_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(torch_check, "torch_available", lambda: False)
    with pytest.raises(ParameterError, match=r"pip install 'soc-anomaly\[deep\]'"):
        parse_detector_names("iforest,lstm")
    assert "lstm" not in parse_detector_names("all")
    for argv in (["detect", "--detectors", "lstm"], ["train", "--detector", "lstm"]):
        code, _, err = run_cli(capsys, *argv)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1, err
        assert re.search(r"needs PyTorch.*soc-anomaly\[deep\]", errors[0])
