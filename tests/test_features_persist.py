"""Fitted featurisers hold plain arrays, so skops can save them without pickle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from soc_anomaly.features import EntityFeatures
from soc_anomaly.features.seed_columns import SeedColumns
from soc_anomaly.scenarios import generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(n_users=120, days=14, campaigns=10, random_state=7)


@pytest.fixture(scope="module")
def train(world) -> pd.DataFrame:
    events = world.events
    return events[(events["time"] < world.attack_start) & (events["label"] == 0)]


def _fitted_values(obj: object):
    """Every value reachable from a fitted object's state."""
    state = dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else vars(obj)
    for value in state.values():
        yield value
        if isinstance(value, dict):
            yield from value.values()
        elif isinstance(value, tuple | list):
            yield from value
        elif dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
            yield from _fitted_values(value)


@pytest.mark.parametrize("make", [SeedColumns, EntityFeatures])
def test_fitted_state_holds_no_pandas_objects(make, world, train) -> None:
    est = make().fit(train) if make is SeedColumns else make().fit(train, users=world.users)
    kinds = {type(v).__module__.split(".")[0] for v in _fitted_values(est)}
    assert "pandas" not in kinds, kinds


def test_skops_round_trip_gives_the_same_features_and_sentences(world, train) -> None:
    for est in (SeedColumns().fit(train), EntityFeatures().fit(train, users=world.users)):
        data = sio.dumps(est)
        untrusted = sio.get_untrusted_types(data=data)
        # Only the toolkit's own classes need trusting; everything else is numpy or builtins.
        own = ("soc_anomaly.features.", "soc_anomaly.sequences.")
        assert all(t.startswith(own) for t in untrusted), untrusted
        back = sio.loads(data, trusted=untrusted)
        pd.testing.assert_frame_equal(est.transform(world.events), back.transform(world.events))
    feats = est.transform(world.events)
    rows = feats["ip_failed_users_1h"].nlargest(3).index
    said = est.explain(world.events.loc[rows], feats.loc[rows], history=world.events)
    again = back.explain(world.events.loc[rows], feats.loc[rows], history=world.events)
    assert [[s.text for s in r] for r in said] == [[s.text for s in r] for r in again]
    assert np.isfinite(feats.to_numpy()).all()
