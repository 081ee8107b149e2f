"""The sequence features of :class:`~soc_anomaly.features.EntityFeatures`: how surprising
each event's action is after its entity's last actions.

``fit`` maps the training events to actions (:mod:`soc_anomaly.sequences.vocabulary`)
and counts each entity's and the population's (context, action) pairs
(:mod:`soc_anomaly.sequences.ngram`). In training, a device or destination is
"new" at its first use by the entity within the training window (so the model
learns how often each entity tries something new); when scoring, it is new when
the entity never used it in training, as the ``new_device`` and ``new_dst_host``
features say. ``action_surprise`` is ``-log2 p`` of the event's action given the
entity's last three actions; ``window_surprise`` sums it over the entity's last
:data:`WINDOW` actions (the rarest short window of msticpy's
``anomalous_sequence`` is the largest of these over a session).

An event stream has no beginning (the training window, a file or a request
starts in the middle of each account's life), so an action before the first
one read is unknown, not a "start": the n-gram then rests on the actions
known (``probability(..., unknown_before=True)``).

Both are causal: an event's values read only its entity's earlier actions, and
a stream carries each entity's last :data:`DEPTH` actions
(:class:`~soc_anomaly.sequences.state.SequenceState`), so the values do not
depend on how the stream is cut into chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soc_anomaly.features.columns import Events, text_index
from soc_anomaly.features.history import pair_keys
from soc_anomaly.sequences.ngram import MAX_ORDER, fit_ngram, histories, probability
from soc_anomaly.sequences.runs import Runs
from soc_anomaly.sequences.state import NO_TIME, SequenceState
from soc_anomaly.sequences.vocabulary import ACTIONS, action_codes

if TYPE_CHECKING:
    from soc_anomaly.features.transformer import EntityFeatures

__all__ = [
    "DEPTH",
    "WINDOW",
    "SequenceColumns",
    "fit_sequences",
    "in_sequences",
    "sequence_columns",
]

#: Last actions a stream carries per entity (the LSTM reads this many; the n-gram three).
DEPTH = 8
#: Actions summed by ``window_surprise``.
WINDOW = 3


@dataclass
class SequenceColumns:
    """The sequence quantities of a set of events (time order).

    Attributes
    ----------
    actions : numpy.ndarray of int64
        Each event's action code.
    history : numpy.ndarray of int64, shape (n, DEPTH)
        The entity's previous actions, most recent first (-1: none).
    times : numpy.ndarray of int64, shape (n, DEPTH)
        Their times (``NO_TIME``: none).
    surprise, window : numpy.ndarray of float64
        ``action_surprise`` and ``window_surprise``.
    state : SequenceState
        The carried state after these events.
    """

    actions: np.ndarray
    history: np.ndarray
    times: np.ndarray
    surprise: np.ndarray
    window: np.ndarray
    state: SequenceState


def _first_uses(user: np.ndarray, value: np.ndarray, n_values: int) -> np.ndarray:
    """1.0 at each (user, value) pair's first event (time order), where value is known."""
    out = np.zeros(len(user))
    ok = np.flatnonzero((value >= 0) & (user >= 0))
    if len(ok):
        _, first = np.unique(pair_keys(user[ok], value[ok], n_values), return_index=True)
        out[ok[first]] = 1.0
    return out


def _workstations(est: EntityFeatures, ev: Events) -> np.ndarray:
    return ev.fitted_codes("dst_host", est.hosts_) >= 0


def _medians(est: EntityFeatures, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` events' worth of the training medians of the two sequence features (0 in
    ``fit``, before the sketch of training values exists)."""
    from soc_anomaly.features.catalog import FEATURES
    from soc_anomaly.features.compute import MEDIAN_LEVEL

    sketch = getattr(est, "deviation_sketch_", None)
    out = []
    for name in ("action_surprise", "window_surprise"):
        value = 0.0 if sketch is None else float(sketch[list(FEATURES).index(name), MEDIAN_LEVEL])
        out.append(np.full(n, value if np.isfinite(value) else 0.0))
    return out[0], out[1]


def in_sequences(ev: Events) -> np.ndarray:
    """Events that are part of the sequences: all but connections of unknown direction."""
    return ~(ev.is_net & ~ev.direction_known)


def training_sequences(est: EntityFeatures, ev: Events) -> tuple[SequenceColumns, np.ndarray]:
    """The training events' sequences (``hosts_`` fitted): their
    :class:`SequenceColumns` without surprises (state empty), and their times.

    Connections of unknown direction are left out, as when scoring.
    """
    user = ev.fitted_codes("user", est.vocab_["user"])
    device = ev.fitted_codes("device_id", est.vocab_["device_id"])
    dst = ev.fitted_codes("dst_host", est.vocab_["dst_host"])
    new_device = _first_uses(np.where(ev.is_auth, user, -1), device, len(est.vocab_["device_id"]))
    new_dst = _first_uses(user, dst, len(est.vocab_["dst_host"]))
    keep = in_sequences(ev)
    actions = action_codes(ev, new_device, new_dst, _workstations(est, ev))[keep]
    user, now = user[keep], ev.time[keep]
    hist = histories(user, actions, DEPTH)
    times = histories(user, now, DEPTH, fill=NO_TIME)
    empty = np.zeros(len(actions))
    seq = SequenceColumns(actions, hist, times, empty, empty, SequenceState.empty(DEPTH, WINDOW))
    return seq, now


def fit_sequences(est: EntityFeatures, X: pd.DataFrame, ev: Events) -> None:
    """Fit ``hosts_`` (training source hosts) and ``ngram_`` (the counts) on training
    events, and with ``est.lstm`` the next-action LSTM (:mod:`.lstm_features`)."""
    hosts = X["src_host"] if "src_host" in X.columns else pd.Series([], dtype=object)
    est.hosts_ = np.asarray(text_index(pd.unique(hosts.dropna())), dtype=str)
    seq, now = training_sequences(est, ev)
    user = ev.fitted_codes("user", est.vocab_["user"])[in_sequences(ev)]
    est.ngram_ = fit_ngram(
        seq.actions, seq.history[:, :MAX_ORDER], len(ACTIONS), user, len(est.vocab_["user"])
    )
    for name in ("lstm_", "lstm_scale_", "lstm_medians_"):
        est.__dict__.pop(name, None)
    if getattr(est, "lstm", False):
        from soc_anomaly.features.lstm_features import fit_lstm

        fit_lstm(est, seq, now)


def sequence_columns(
    est: EntityFeatures,
    ev: Events,
    user: np.ndarray,
    new_device: np.ndarray,
    new_dst: np.ndarray,
    state: SequenceState | None = None,
) -> SequenceColumns:
    """The sequence quantities of events read after a stream's carried ``state``.

    Parameters
    ----------
    est : EntityFeatures
        The fitted featuriser.
    ev : Events
        The events (time order) whose values are wanted.
    user : numpy.ndarray of int
        Their fitted entity codes (-1: an entity new since training).
    new_device, new_dst : numpy.ndarray
        Their ``new_device`` and ``new_dst_host`` values.
    state : SequenceState, optional
        What the stream carried (None: the sequences start here).
    """
    if state is None:
        state = SequenceState.empty(DEPTH, WINDOW)
    n = len(ev)
    actions = action_codes(ev, new_device, new_dst, _workstations(est, ev))
    # A connection of unknown direction is no evidence: it is left out of the sequences
    # (its action was never in training) and its values are the training medians.
    idx = np.flatnonzero(in_sequences(ev))
    hist = np.full((n, DEPTH), -1, dtype=np.int64)
    times = np.full((n, DEPTH), NO_TIME, dtype=np.int64)
    surprise, window = _medians(est, n)
    local, acts = ev.codes["user"][idx], actions[idx]
    # Grouped by entity once for every history; one state lookup per distinct entity.
    runs = Runs.of(local)
    names = ev.categories["user"][local[runs.last]]
    before_a, before_t, before_s = state.lookup(names)
    h = runs.histories(acts, DEPTH, before_a)
    t = runs.histories(ev.time[idx], DEPTH, before_t, fill=NO_TIME)
    s = -np.log2(probability(est.ngram_, acts, h[:, :MAX_ORDER], user[idx], unknown_before=True))
    earlier = runs.histories(s, WINDOW - 1, before_s, fill=0.0)
    hist[idx], times[idx], surprise[idx] = h, t, s
    window[idx] = s + earlier.sum(axis=1)
    # Each entity's last event of the chunk gives its carried row.
    last = runs.last
    state = state.update(
        names,
        np.column_stack([acts[last], h[last, :-1]]),
        np.column_stack([ev.time[idx][last], t[last, :-1]]),
        np.column_stack([s[last], earlier[last, :-1]]),
    )
    return SequenceColumns(actions, hist, times, surprise, window, state)


def rescore_state(est: EntityFeatures, state: SequenceState) -> SequenceState:
    """``state`` with its carried surprises computed again from its carried actions.

    The state of a stretch of a stream read on its own knows too little of each
    entity's past to score its first actions; once merged with the state of
    the stretch before (:meth:`SequenceState.merge`), each entity's last
    actions are complete and their surprises are what one pass would give.
    """
    if len(state) == 0:
        return state
    index = pd.Index(np.asarray(est.vocab_["user"], dtype=object))
    user = index.get_indexer(state.entities)
    surprise = np.zeros_like(state.surprise)
    for k in range(state.surprise.shape[1]):
        action = state.actions[:, k]
        context = state.actions[:, k + 1 : k + 1 + MAX_ORDER]
        known = action >= 0
        p = probability(est.ngram_, np.maximum(action, 0), context, user, unknown_before=True)
        surprise[:, k] = np.where(known, -np.log2(p), 0.0)
    return SequenceState(state.entities, state.actions, state.times, surprise)


def _runs(history: np.ndarray) -> np.ndarray:
    """How many of the most recent actions in a row equal the last one (0: none)."""
    same = history == history[:, :1]
    run = np.where(same.all(axis=1), history.shape[1], np.argmin(same, axis=1))
    return np.where(history[:, 0] >= 0, run, 0)


def sequence_context(actions: np.ndarray, history: np.ndarray) -> dict[str, np.ndarray]:
    """What a sequence sentence says of each event: ``action``, ``after_action`` (the
    entity's previous action, -1 for none) and ``after_run`` (its repeats in a row),
    from the events' actions and histories (:class:`SequenceColumns`)."""
    return {"action": actions, "after_action": history[:, 0], "after_run": _runs(history)}
