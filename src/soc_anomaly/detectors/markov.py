"""The sequence detectors: how surprising an event's action is after its entity's last ones.

The sequence model itself is fitted with the entity features
(:mod:`soc_anomaly.features.sequence_features`: a per-entity n-gram of orders
1 to 3 with back-off to the population), because it reads the raw event
stream and carries each entity's last actions from chunk to chunk as the other
windows do. This detector reads what it gives: ``action_surprise`` (the
event's own step) and ``window_surprise`` (its last three steps together), as
standardised by the model, and scores an event by their sum, so a single very
rare step and a run of rather rare ones both stand out.

:class:`LSTMDetector` is the same sum over the columns of the next-action
LSTM (:mod:`soc_anomaly.features.lstm_features`): ``lstm_surprise`` and
``lstm_rank`` (DeepLog's top-g rank, through the models' signed log).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from soc_anomaly.config import DEFAULT_ANOMALY_FRACTION
from soc_anomaly.detectors.base import BaseDetector
from soc_anomaly.errors import ParameterError

__all__ = ["LSTM_COLUMNS", "SEQUENCE_COLUMNS", "LSTMDetector", "MarkovDetector"]

#: The entity features the detector reads.
SEQUENCE_COLUMNS: tuple[str, ...] = ("action_surprise", "window_surprise")
#: The columns the LSTM detector reads.
LSTM_COLUMNS: tuple[str, ...] = ("lstm_surprise", "lstm_rank")


class MarkovDetector(BaseDetector):
    """Sum of the standardised sequence surprises of the entity features.

    Parameters
    ----------
    feature_names : sequence of str, optional
        Names of the input columns, in order; they must include
        :data:`SEQUENCE_COLUMNS` (the ``entity`` feature set). None: every
        column is a surprise to add (a table of surprises).
    contamination : float in (0, 0.5], default=0.01
        Share of training rows ``predict`` calls outliers.

    Attributes
    ----------
    columns_ : numpy.ndarray of int
        Positions of the read columns.
    train_scores_ : numpy.ndarray
        Scores of the training rows.
    offset_ : float
        ``predict``'s threshold on ``score_samples``.
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "feature_names": ["array-like", None],
    }

    def __init__(
        self,
        feature_names: Sequence[str] | None = None,
        contamination: float = DEFAULT_ANOMALY_FRACTION,
    ) -> None:
        self.feature_names = feature_names
        self.contamination = contamination

    #: The columns read, and what the error says is missing without them.
    _reads: tuple[str, ...] = SEQUENCE_COLUMNS
    _missing = "the markov detector reads the entity features' action sequences"

    def _fit(self, X: np.ndarray) -> None:
        if self.feature_names is None:
            self.columns_ = np.arange(X.shape[1], dtype=np.int64)
            return
        names = [str(n) for n in self.feature_names]
        missing = [c for c in self._reads if c not in names]
        if missing or len(names) != X.shape[1]:
            raise ParameterError(
                f"{self._missing} ({', '.join(self._reads)}); got features without them: "
                "use --features entity"
            )
        self.columns_ = np.array([names.index(c) for c in self._reads], dtype=np.int64)

    def _score(self, X: np.ndarray) -> np.ndarray:
        # Higher = more normal (scikit-learn's sign; the flip to "higher = more
        # anomalous" happens once, in anomaly_scores).
        return -X[:, self.columns_].sum(axis=1)


class LSTMDetector(MarkovDetector):
    """Sum of the standardised columns of the next-action LSTM (DeepLog-style).

    The LSTM is trained with the entity features (``EntityFeatures(lstm=True)``,
    PyTorch's ``[deep]`` extra); this detector reads its ``lstm_surprise`` and
    ``lstm_rank``. Parameters and attributes as :class:`MarkovDetector`.
    """

    _reads = LSTM_COLUMNS
    _missing = "the lstm detector reads the next-action LSTM's columns of the entity features"
