"""The lstm method of the sequence benchmark: DeepLog's next-key rule on sessions.

Kept apart from :mod:`soc_anomaly.experiment.sequence_benchmark` because it is
the one method that needs PyTorch (to train; scoring is numpy).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from soc_anomaly.experiment.sequence_benchmark import (
    SequenceSplit,
    rank_of_actual,
    session_flags,
)
from soc_anomaly.sequences.ngram import histories

__all__ = ["LSTM_TRAINING", "lstm_flags", "lstm_missing"]

#: Training settings of the benchmark's LSTM (the engine's defaults): about a
#: minute on two CPU cores for HDFS's 80,000 windows. At seed 1, 64 units did not
#: lower the training loss enough to pay for their time (0.27 against 0.28 after
#: 4 epochs); DeepLog itself used 2 layers of 64 and 300 epochs.
LSTM_TRAINING: dict[str, int | float] = {
    "embed_dim": 16,
    "hidden": 32,
    "epochs": 4,
    "batch_size": 512,
    "learning_rate": 0.005,
}


def lstm_missing(*, explicit: bool) -> str | None:
    """Why the lstm cannot run here (PyTorch absent), or None when it can.

    Asked for explicitly (``--methods lstm``), a missing PyTorch raises the
    engine's one-line install message instead of returning it.
    """
    from soc_anomaly.sequences.torch_check import require_torch, torch_available

    if torch_available():
        return None
    if explicit:
        require_torch()
    return "lstm skipped: PyTorch is not installed (pip install 'soc-anomaly[deep]')"


def _windows(sessions, window: int) -> np.ndarray:
    """Each key's previous ``window`` keys in the session, oldest first, -1 before the start."""
    return histories(sessions.session_of_event(), sessions.codes, window)[:, ::-1].copy()


def lstm_flags(
    split: SequenceSplit,
    *,
    top_g: int,
    window: int,
    seed: int,
    step: Callable[[str], None] | None = None,
) -> list[np.ndarray]:
    """Flags of the abnormal and normal test sessions by DeepLog's top-``g`` rule.

    The LSTM is trained on every (window -> next key) pair of the training
    sessions, their ends included; its actions are the vocabulary, the unknown
    key (never a target, so never predicted) and the end. An unknown key is
    flagged whatever its rank.
    """
    from soc_anomaly.sequences.lstm import next_action_log_probs
    from soc_anomaly.sequences.lstm_train import fit_next_action_lstm

    train = split.train.with_end(split.end)
    weights = fit_next_action_lstm(
        _windows(train, window),
        None,
        train.codes,
        split.n_actions,
        random_state=seed,
        # Fixed, not every core: the weights depend on the thread count, and a
        # benchmark figure should not depend on the machine.
        threads=2,
        log=step,
        **LSTM_TRAINING,  # type: ignore[arg-type]
    )
    flags = []
    for sessions in (split.abnormal, split.normal):
        sessions = sessions.with_end(split.end)
        rank = rank_of_actual(
            lambda w: next_action_log_probs(weights, w),
            split.n_actions,
            _windows(sessions, window),
            sessions.codes,
        )
        flags.append(session_flags(sessions, (rank > top_g) | (sessions.codes == split.n_keys)))
    return flags
