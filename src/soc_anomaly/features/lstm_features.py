"""The next-action LSTM of the ``lstm`` detector, fitted and read with the entity features.

DeepLog (Du et al., 2017) predicts each log key from the keys before it and
calls an event anomalous when its key is not among the model's top guesses.
Here the keys are the actions of :mod:`soc_anomaly.sequences.vocabulary`: for
each event, the LSTM reads its entity's last :data:`DEPTH` actions (oldest
first), each with one numeric input, the log of the time from that action to
the next one (to the event itself for the last), standardised with the
training window's mean and deviation, and predicts the event's action. The
event gets two columns, read by the ``lstm`` detector only:

``lstm_surprise``
    ``-log2`` of the probability the model gave the event's action (bits).
``lstm_rank``
    The action's rank among the model's predictions (1: the most likely;
    DeepLog's top-g test is ``lstm_rank > g``).

Training blanks the oldest steps of a seeded quarter of the windows, so that
"no action" reads as "not known" (a stream read from its middle), not as the
start of an entity's life.

The windows come from the same carried sequences as ``action_surprise``
(:class:`~soc_anomaly.sequences.state.SequenceState`), so the columns are
causal and the same whatever the chunk size. Training needs PyTorch (the
``[deep]`` extra); scoring runs with numpy (:mod:`soc_anomaly.sequences.lstm`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soc_anomaly.features.sequence_features import SequenceColumns, in_sequences
from soc_anomaly.sequences.lstm import next_action_log_probs, surprise_and_rank
from soc_anomaly.sequences.state import NO_TIME
from soc_anomaly.sequences.vocabulary import ACTIONS

if TYPE_CHECKING:
    from soc_anomaly.features.columns import Events
    from soc_anomaly.features.transformer import EntityFeatures

__all__ = [
    "LSTM_FEATURES",
    "fit_lstm",
    "has_lstm",
    "lstm_frame",
    "lstm_values",
    "with_lstm",
    "with_lstm_rows",
]

#: The columns the fitted LSTM adds to the entity features (the ``lstm`` detector's input).
LSTM_FEATURES: tuple[str, ...] = ("lstm_surprise", "lstm_rank")

_MS_PER_S = 1000.0
#: Share of the training windows whose oldest steps are blanked (``_forget_oldest``).
_FORGET_SHARE = 0.25
#: Training events whose LSTM values give the medians (a seeded sample).
_MEDIAN_SAMPLE = 50_000


def _log_gaps(times: np.ndarray, now: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log1p of the seconds from each window step to the next one (oldest first), and
    where that is known. ``times`` is most recent first, as the sequences carry it."""
    following = np.column_stack([now, times[:, :-1]])
    known = (times != NO_TIME) & (following != NO_TIME)
    gap = np.where(known, following - np.where(known, times, 0), 0) / _MS_PER_S
    # Oldest first, as the LSTM reads a window.
    return np.log1p(np.maximum(gap, 0.0))[:, ::-1], known[:, ::-1]


def _inputs(
    history: np.ndarray, times: np.ndarray, now: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The LSTM's windows (oldest first) and standardised numeric inputs (N, DEPTH, 1)."""
    gaps, known = _log_gaps(times, now)
    numeric = np.where(known, (gaps - scale[0]) / scale[1], 0.0)
    windows = np.ascontiguousarray(history[:, ::-1])
    return windows, numeric[:, :, None].astype(np.float32)


def fit_lstm(est: EntityFeatures, seq: SequenceColumns, now: np.ndarray) -> None:
    """Train ``est.lstm_`` on the training events' sequences, and set ``est.lstm_scale_``
    (the gaps' mean and deviation) and ``est.lstm_medians_`` (the two columns' training
    medians).

    Parameters
    ----------
    est : EntityFeatures
        The featuriser being fitted (its ``random_state`` seeds the training).
    seq : SequenceColumns
        The training events' actions and histories (connections of unknown
        direction left out), time order.
    now : numpy.ndarray of int64
        Those events' times (epoch milliseconds).
    """
    from soc_anomaly.sequences.lstm_train import fit_next_action_lstm

    gaps, known = _log_gaps(seq.times, now)
    values = gaps[known]
    mean = float(values.mean()) if values.size else 0.0
    std = float(values.std()) if values.size else 1.0
    est.lstm_scale_ = np.array([mean, std if std > 0 else 1.0])
    windows, numeric = _inputs(seq.history, seq.times, now, est.lstm_scale_)
    _forget_oldest(windows, numeric, np.random.default_rng(est.random_state))
    est.lstm_ = fit_next_action_lstm(
        windows, numeric, seq.actions, len(ACTIONS), random_state=est.random_state
    )
    # The training medians stand in for events outside the sequences (as for
    # action_surprise); from a seeded sample, as the model is in-sample there anyway.
    rows = np.random.default_rng(est.random_state).permutation(len(now))[:_MEDIAN_SAMPLE]
    rows.sort()
    surprise, rank = _scores(est, seq.actions[rows], seq.history[rows], seq.times[rows], now[rows])
    est.lstm_medians_ = (
        np.array([np.median(surprise), np.median(rank)]) if rows.size else np.zeros(2)
    )


def _forget_oldest(windows: np.ndarray, numeric: np.ndarray, rng: np.random.Generator) -> None:
    """Blank the oldest steps of a seeded share of the training windows, in place.

    A stream is read from its middle: at its start (a file without history, a
    request to the service) an entity's earlier actions are unknown, and its
    window is "no action" there. In the training window that happens only at
    each entity's first events, after which the model would take "no action"
    for the start of the entity's life; blanking the oldest 1 to 8 steps of
    :data:`_FORGET_SHARE` of the windows teaches it "not known" instead.
    """
    n, depth = windows.shape
    rows = np.flatnonzero(rng.random(n) < _FORGET_SHARE)
    blank = np.arange(depth) < rng.integers(1, depth + 1, len(rows))[:, None]
    part = windows[rows]
    part[blank] = -1
    windows[rows] = part
    steps = numeric[rows]
    steps[blank] = 0.0
    numeric[rows] = steps


def _scores(
    est: EntityFeatures,
    actions: np.ndarray,
    history: np.ndarray,
    times: np.ndarray,
    now: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``lstm_surprise`` and ``lstm_rank`` of events in the sequences."""
    if not len(actions):
        return np.zeros(0), np.zeros(0)
    windows, numeric = _inputs(history, times, now, est.lstm_scale_)
    log_probs = next_action_log_probs(est.lstm_, windows, numeric)
    surprise, rank = surprise_and_rank(log_probs, actions)
    return surprise.astype(np.float64), rank.astype(np.float64)


def lstm_values(
    est: EntityFeatures, seq: SequenceColumns, now: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``lstm_surprise`` and ``lstm_rank`` of events (time order).

    Parameters
    ----------
    est : EntityFeatures
        A featuriser fitted with ``lstm=True``.
    seq : SequenceColumns
        The events' sequence quantities.
    now : numpy.ndarray of int64
        Their times.
    keep : numpy.ndarray of bool
        Events that are part of the sequences; the others (connections of
        unknown direction) get the training medians, as ``action_surprise`` does.
    """
    n = len(seq.actions)
    surprise = np.full(n, est.lstm_medians_[0])
    rank = np.full(n, est.lstm_medians_[1])
    idx = np.flatnonzero(keep)
    surprise[idx], rank[idx] = _scores(
        est, seq.actions[idx], seq.history[idx], seq.times[idx], now[idx]
    )
    return surprise, rank


def with_lstm(
    est: EntityFeatures, X: pd.DataFrame, random_state: int | None = None
) -> EntityFeatures:
    """A copy of the fitted ``est`` that also holds the next-action LSTM, trained on ``X``.

    The detection lab featurises a world once for all its detectors and gives
    the ``lstm`` detector this copy, which shares every other fitted table.

    Parameters
    ----------
    est : EntityFeatures
        Fitted on ``X``.
    X : pandas.DataFrame
        The training events ``est`` was fitted on.
    random_state : int, optional
        Seeds the LSTM's training (default: ``est.random_state``).

    Returns
    -------
    EntityFeatures
        The copy, with ``lstm=True``.
    """
    from soc_anomaly.features.columns import read_events
    from soc_anomaly.features.sequence_features import training_sequences
    from soc_anomaly.sequences.torch_check import require_torch

    require_torch()

    out = copy.copy(est)
    out.lstm = True
    if random_state is not None:
        out.random_state = random_state
    fit_lstm(out, *training_sequences(out, read_events(X)))
    return out


def has_lstm(est: EntityFeatures) -> bool:
    """Whether ``est`` was fitted with the LSTM (its output has :data:`LSTM_FEATURES`)."""
    return getattr(est, "lstm_", None) is not None


def with_lstm_rows(
    est: EntityFeatures,
    values: np.ndarray,
    ev: Events,
    rows: np.ndarray | None,
    seq: SequenceColumns,
) -> np.ndarray:
    """``values`` (one row per feature, :func:`~soc_anomaly.features.compute.assemble`'s
    output for the events ``rows`` of ``ev``, all if None) with the LSTM's two rows
    below when ``est`` has the LSTM."""
    if not has_lstm(est):
        return values
    keep, now = in_sequences(ev), ev.time
    if rows is not None:
        keep, now = keep[rows], now[rows]
    return np.vstack([values, np.stack(lstm_values(est, seq, now, keep))])


def lstm_frame(est: EntityFeatures, ev: Events, index: pd.Index) -> pd.DataFrame:
    """The :data:`LSTM_FEATURES` columns of a whole set of events, as ``est.transform``
    gives them, without computing the other features.

    Parameters
    ----------
    est : EntityFeatures
        Fitted with the LSTM.
    ev : Events
        The events (:func:`~soc_anomaly.features.columns.read_events`).
    index : pandas.Index
        Their index, in row order.
    """
    from soc_anomaly.features.compute import sequences_of

    seq = sequences_of(est, ev, None)
    values = with_lstm_rows(est, np.zeros((0, len(ev))), ev, None, seq)
    return pd.DataFrame(ev.restore(values).T, index=index, columns=list(LSTM_FEATURES))
