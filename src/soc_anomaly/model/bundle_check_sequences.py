"""Content checks of the entity featuriser's sequence models in a loaded model file.

Part of :mod:`soc_anomaly.model.bundle_check`: the n-gram counts of the
``markov`` features and, when the featuriser has one, the ``lstm`` detector's
network, checked before anything scores with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from soc_anomaly.errors import ModelError
from soc_anomaly.model.bundle_check import _check_sorted_keys, expect_array, expect_number, refuse

__all__ = ["MAX_EMBED", "MAX_HIDDEN", "check_sequences"]

#: Largest LSTM a model file may hold (the detector trains 32 hidden units, 16 per embedding):
#: scoring costs grow with the square of the hidden size.
MAX_HIDDEN = 512
MAX_EMBED = 256


def check_sequences(est: Any, where: str, n_users: int) -> None:
    """The n-gram counts and the LSTM (when there is one) of an entity featuriser."""
    _check_ngram(est.ngram_, f"{where}.ngram_", n_users)
    _check_lstm(est, where)


def _check_ngram(tables: Any, where: str, n_users: int) -> None:
    """The n-gram counts: one vocabulary, consistent levels, keys in range and sorted."""
    from soc_anomaly.sequences.ngram import MAX_ORDER, NGramTables
    from soc_anomaly.sequences.vocabulary import ACTIONS

    if type(tables) is not NGramTables:
        raise refuse(where, f"is a {type(tables).__name__}; expected NGramTables")
    V = len(ACTIONS)
    expect_number(tables.n_actions, f"{where}.n_actions", integer=True, low=V, high=V)
    order = expect_number(tables.order, f"{where}.order", integer=True, low=1, high=MAX_ORDER)
    expect_number(tables.n_entities, f"{where}.n_entities", integer=True, low=0, high=n_users)
    levels = int(order) + 1 + (int(order) if tables.n_entities else 0)
    for kind in ("joint", "context"):
        keys = expect_array(getattr(tables, f"{kind}_keys"), f"{where}.{kind}_keys", kind="i")
        offsets = expect_array(getattr(tables, f"{kind}_offsets"), f"{where}.{kind}_offsets",
                               kind="i", shape=(levels + 1,))  # fmt: skip
        if offsets[0] != 0 or offsets[-1] != len(keys) or (np.diff(offsets) < 0).any():
            raise refuse(f"{where}.{kind}_offsets", "are not level boundaries of the keys")
        for i in range(levels):
            # An entity's context key is its code times (V + 1) ** order plus the context's.
            entities = max(int(tables.n_entities), 1) if i > order else 1
            bound = (V + 1) ** (i if i <= order else int(order)) * entities
            bound *= V if kind == "joint" else 1
            _check_sorted_keys(keys[offsets[i] : offsets[i + 1]], f"{where}.{kind}_keys", bound)
    n_joint, n_ctx = len(tables.joint_keys), len(tables.context_keys)
    counts = expect_array(tables.joint_counts, f"{where}.joint_counts", kind="i", shape=(n_joint,))
    seen = expect_array(tables.context_counts, f"{where}.context_counts", kind="i", shape=(n_ctx,))
    distinct = expect_array(tables.context_distinct, f"{where}.context_distinct", kind="i",
                            shape=(n_ctx,))  # fmt: skip
    if (counts < 1).any() or (distinct < 1).any() or (distinct > np.minimum(seen, V)).any():
        raise refuse(where, "holds counts that are not positive or distinct counts above them")


def _check_lstm(est: Any, where: str) -> None:
    """The entity featuriser's next-action LSTM, when it has one: float32 weights of
    consistent shapes over the action vocabulary, one numeric input, finite scales."""
    from soc_anomaly.sequences.lstm import LSTMWeights
    from soc_anomaly.sequences.vocabulary import ACTIONS

    # A featuriser saved before the LSTM existed has neither parameter.
    seed, wanted = getattr(est, "random_state", 0), getattr(est, "lstm", False)
    if seed is not None:
        expect_number(seed, f"{where}.random_state", integer=True)
    if not isinstance(wanted, bool | np.bool_):
        raise refuse(f"{where}.lstm", f"is a {type(wanted).__name__}; expected a bool")
    weights = getattr(est, "lstm_", None)
    if weights is None:
        return
    if type(weights) is not LSTMWeights:
        raise refuse(f"{where}.lstm_", f"is a {type(weights).__name__}; expected LSTMWeights")
    try:
        weights.check()
    except ModelError as exc:
        raise refuse(f"{where}.lstm_", str(exc)) from None
    V = len(ACTIONS)
    expect_number(weights.n_actions, f"{where}.lstm_.n_actions", integer=True, low=V, high=V)
    expect_number(weights.n_numeric, f"{where}.lstm_.n_numeric", integer=True, low=1, high=1)
    expect_number(weights.hidden, f"{where}.lstm_.hidden", integer=True, low=1, high=MAX_HIDDEN)
    expect_number(weights.embed_dim, f"{where}.lstm_.embed_dim", integer=True, low=1,
                  high=MAX_EMBED)  # fmt: skip
    scale = expect_array(est.lstm_scale_, f"{where}.lstm_scale_", shape=(2,), finite=True)
    if scale[1] <= 0:
        raise refuse(f"{where}.lstm_scale_", "has a deviation that is not positive")
    expect_array(est.lstm_medians_, f"{where}.lstm_medians_", shape=(2,), finite=True)
