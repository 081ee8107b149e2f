"""The action vocabulary and the sequence features: coverage, causality, streams, bundles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.features import EntityFeatures
from soc_anomaly.features.columns import read_events
from soc_anomaly.model import AnomalyModel
from soc_anomaly.scenarios import generate_world
from soc_anomaly.sequences.ngram import distribution, fit_ngram, histories, probability
from soc_anomaly.sequences.vocabulary import ACTIONS, action_codes, actions_table

SEQ = ["action_surprise", "window_surprise"]


@pytest.fixture(scope="module")
def world():
    w = generate_world(n_users=80, days=14, campaigns=20, random_state=11)
    e = w.events
    train = e[(e["time"] < w.attack_start) & (e["label"] == 0)]
    return w, train, EntityFeatures().fit(train, users=w.users)


def test_every_world_event_has_a_known_action_and_every_action_a_sentence(world) -> None:
    w, _, _ = world
    ev = read_events(w.events)
    n = len(ev)
    codes = action_codes(ev, np.zeros(n), np.zeros(n), np.zeros(n, bool))
    other = [a.code for a in ACTIONS if a.name == "other"]
    assert not np.isin(codes, other).any()  # every world event is a logon or a connection
    assert len({a.name for a in ACTIONS}) == len(ACTIONS)
    assert all(a.text.startswith(("a ", "an ")) and a.plural for a in ACTIONS)
    assert actions_table().count("\n") == len(ACTIONS) + 2


def test_failure_reasons_logon_types_and_mfa_are_told_apart() -> None:
    base = {"time": pd.Timestamp("2026-01-05", tz="UTC"), "timezone_offset": 0,
            "class_uid": 3002, "user": "a", "src_host": None, "src_ip": "10.0.0.1",
            "src_country": "GB", "src_lat": 51.5, "src_lon": 0.0, "device_id": "D",
            "dst_host": "sso", "bytes_in": None, "bytes_out": None, "direction": None}  # fmt: skip
    rows = [
        {**base, "status": "Failure", "status_detail": "MFA push denied", "logon_type": "Network"},
        {**base, "status": "Failure", "status_detail": "Invalid password", "is_mfa": True},
        {**base, "status": "Success", "status_detail": None, "is_mfa": True,
         "logon_type": "Remote Interactive"},
        {**base, "status": "Failure", "status_detail": "Account locked"},
    ]  # fmt: skip
    ev = read_events(pd.DataFrame(rows))
    n = len(rows)
    names = [ACTIONS[c].name for c in action_codes(ev, np.zeros(n), np.zeros(n), np.zeros(n, bool))]
    assert names == [
        "logon/failure/network/mfa-push-denied",
        "logon/failure/other/invalid-password",
        "logon/success/remote-interactive/mfa/known-device",
        "logon/failure/other/other",
    ]


def test_the_ngram_model_is_a_distribution_and_prefers_the_entity_habit() -> None:
    rng = np.random.default_rng(0)
    entity = rng.integers(0, 4, 4000)
    actions = rng.integers(0, 5, 4000)
    actions[entity == 0] = np.arange(int((entity == 0).sum())) % 3
    hist = histories(entity, actions, 3)
    tables = fit_ngram(actions, hist, 6, entity, 4)
    dist = distribution(tables, hist[:200], entity[:200])
    assert np.allclose(dist.sum(axis=1), 1.0)
    # Entity 0 cycles 0 -> 1 -> 2: after (1, 0, 2) comes 0, not 1.
    h = np.array([[2, 1, 0]])
    p_next = probability(tables, np.array([0]), h, np.array([0]))
    p_odd = probability(tables, np.array([1]), h, np.array([0]))
    assert p_next[0] > 0.9 and p_odd[0] < 0.01
    # Another entity in the same context has no such habit.
    assert probability(tables, np.array([1]), h, np.array([1]))[0] > 0.05


def test_repeated_triples_are_looked_up_once_with_the_same_probabilities() -> None:
    from soc_anomaly.sequences.ngram import _probability

    rng = np.random.default_rng(1)
    entity = rng.integers(-1, 6, 20_000)  # -1 and 5: no own counts
    actions = rng.integers(0, 4, 20_000)
    hist = histories(entity, actions, 3)
    tables = fit_ngram(actions[:10_000], hist[:10_000], 4, entity[:10_000].clip(-1, 4), 5)
    fast = probability(tables, actions, hist, entity)
    assert np.array_equal(fast, _probability(tables, actions, hist, entity))


def test_actions_not_seen_are_unknown_not_a_start_when_asked() -> None:
    entity = np.zeros(3000, dtype=np.int64)
    actions = np.arange(3000) % 3  # 0, 1, 2, 0, 1, 2, ...
    hist = histories(entity, actions, 3)
    tables = fit_ngram(actions, hist, 4, entity, 1)
    # Only the last action is known, and it is 0: then comes 1.
    h = np.array([[0, -1, -1]])
    known = probability(tables, np.array([1]), h, np.array([0]), unknown_before=True)
    assert known[0] > 0.9
    # Read as the start, the first action 2 never followed the start (0 did).
    start = np.full((1, 3), -1)
    assert probability(tables, np.array([2]), start, np.array([0]))[0] < 0.01
    # Nothing known: the population's frequency of the action.
    none = probability(tables, np.array([2]), np.full((1, 3), -1), None, unknown_before=True)
    assert abs(none[0] - 1 / 3) < 0.01


def test_histories_read_what_the_stream_carried() -> None:
    entity = np.array([0, 1, 0, 0])
    actions = np.array([5, 6, 7, 8])
    before = np.array([[1, 2, 3]] * 4)  # entity 0 and 1 both carried 1, 2, 3
    got = histories(entity, actions, 3, before)
    assert got.tolist() == [[1, 2, 3], [1, 2, 3], [5, 1, 2], [7, 5, 1]]


def test_sequence_features_are_causal_and_chunk_invariant(world) -> None:
    w, _, fe = world
    events = w.events
    whole = fe.transform(events)[SEQ]
    head = fe.transform(events.iloc[:5000])[SEQ]
    pd.testing.assert_frame_equal(head, whole.iloc[:5000])
    for n_chunks in (3, 11):
        context, parts = None, []
        for rows in np.array_split(np.arange(len(events)), n_chunks):
            feats, _, context = fe.transform_stream(events.iloc[rows], context)
            parts.append(feats[SEQ])
        pd.testing.assert_frame_equal(pd.concat(parts), whole)


def test_attack_steps_are_more_surprising_than_normal_ones(world) -> None:
    w, _, fe = world
    feats = fe.transform(w.events)
    attack = w.events["label"].to_numpy() == 1
    after = (w.events["time"] >= w.attack_start).to_numpy()
    normal = ~attack & after
    for col in SEQ:
        assert np.median(feats.loc[attack, col]) > 1.5 * np.median(feats.loc[normal, col])


def test_a_markov_bundle_scores_the_same_after_saving_and_in_chunks(world, tmp_path) -> None:
    w, train, _ = world
    model = AnomalyModel(detector="markov").fit(train, users=w.users)
    test = w.events[w.events["time"] >= w.attack_start]
    scored = model.score(test, history=train)
    loaded = AnomalyModel.load(model.save(tmp_path / "bundle"))
    again = loaded.score(test, history=train)
    pd.testing.assert_frame_equal(scored, again)
    alerts = scored[scored["alert"]]
    assert len(alerts) and test.loc[alerts.index, "label"].mean() > 0.3
    said = " ".join(" ".join(r) for r in alerts["reasons"])
    assert "right after" in said or "run of three actions" in said
    # Read from its middle without history (a request to the service), the stream's first
    # actions are not taken for the start of each account's life.
    alone = model.score(test)
    assert alone["alert"].sum() < 1.5 * scored["alert"].sum()
