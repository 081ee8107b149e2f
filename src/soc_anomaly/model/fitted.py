"""One fitted model: featuriser, scaler, detector, calibrator, threshold and explanations.

:class:`AnomalyModel` is what production scores with: ``fit`` it on normal
events (raw enterprise events, or any table of numeric features), ``score``
unlabelled events (a calibrated 0-100 score, an alert flag and the reasons for
each alert), ``save`` it as a safe bundle and ``load`` it back
(:mod:`soc_anomaly.model.bundle`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly.config import DEFAULT_INCIDENTS_PER_DAY, FEATURE_KINDS
from soc_anomaly.data.event_checks import bound_events
from soc_anomaly.data.moments import column_mean_std
from soc_anomaly.data.schema import resolve_feature_cols
from soc_anomaly.detectors import get_detector, training_anomaly_scores
from soc_anomaly.detectors.base import block_anomaly_scores, kept_training_scores
from soc_anomaly.detectors.calibration import ScoreCalibrator
from soc_anomaly.errors import DataError, ParameterError, check_positive_int, check_range
from soc_anomaly.evaluation.thresholds import by_normal_percentile
from soc_anomaly.features.carry import StreamContext, next_context
from soc_anomaly.model.bundle import training_record
from soc_anomaly.model.chunks import (
    PreparedChunk,
    complete_raw_events,
    detector_input,
    finish_chunk,
    fit_featurizer,
    input_columns,
    prepare_chunk,
    read_columns,
)
from soc_anomaly.model.incident_scoring import check_budget, fit_linker

__all__ = ["FEATURE_KINDS", "AnomalyModel", "PreparedChunk"]

_PARAMS = ("detector", "features", "feature_cols", "threshold_percentile", "contamination",
           "random_state", "label_col", "keep_attacks", "n_jobs")  # fmt: skip


class AnomalyModel:
    """A detector ready for production, from raw events to explained alerts.

    Parameters
    ----------
    detector : str, default="iforest"
        Registered detector name.
    features : {"entity", "seed", "table"}, default="entity"
        ``entity``: :class:`~soc_anomaly.features.EntityFeatures` of raw
        enterprise events; ``seed``: the seed's columns of raw events
        (:class:`~soc_anomaly.features.seed_columns.SeedColumns`); ``table``:
        the numeric columns of any table (``feature_cols``, or every numeric
        column but the label).
    feature_cols : sequence of str, optional
        The columns the detector reads: of a ``table`` model's table, or of an
        ``entity`` or ``seed`` featuriser's output (all if None; ``detect
        --drop-features`` leaves some out). Reasons then name only these.
    threshold_percentile : float, default=99.0
        Alert above this percentile of the normal training scores, in (0, 100).
    contamination : float, default=0.01
        The detector's expected anomaly share, in (0, 0.5).
    random_state : int, default=42
        Seed of the detector.
    label_col : str, default="label"
        When ``fit`` gets a table with this column, its attacks (1) are dropped
        from training unless ``keep_attacks``.
    keep_attacks : bool, default=False
        Train on labelled attacks too.
    n_jobs : int, optional
        Threads that score blocks of rows in parallel (all cores if None); the
        scores do not depend on it.

    Attributes
    ----------
    featurizer_ : object or None
        The fitted featuriser (None for a ``table`` model).
    feature_names_ : list of str
        Columns the detector reads, in order.
    scaler_mean_, scaler_scale_ : numpy.ndarray
        Standardisation fitted on the training features (after the signed log
        of raw-event features).
    detector_ : object
        The fitted detector.
    calibrator_ : ScoreCalibrator
        Raw score -> 0-100 against the normal training scores.
    threshold_ : float
        Raw score at which an event alerts.
    fit_seconds_ : float
        Time the detector took to fit.
    baseline_mean_, baseline_std_ : numpy.ndarray
        Training mean and standard deviation of each feature, for the z-score
        reasons of ``seed`` and ``table`` models.
    training_ : dict
        Rows, time window (when the events have ``time``) and SHA-256 of the
        training data.
    linker_ : IncidentLinker or None
        The incident linker :meth:`fit` fits on raw events (None for ``table``).
    """

    def __init__(
        self,
        detector: str = "iforest",
        features: str = "entity",
        feature_cols: list[str] | None = None,
        threshold_percentile: float = 99.0,
        contamination: float = 0.01,
        random_state: int = 42,
        label_col: str = "label",
        keep_attacks: bool = False,
        n_jobs: int | None = None,
    ) -> None:
        self.detector = detector
        self.features = features
        self.feature_cols = feature_cols
        self.threshold_percentile = threshold_percentile
        self.contamination = contamination
        self.random_state = random_state
        self.label_col = label_col
        self.keep_attacks = keep_attacks
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters (``n_jobs`` None in a model saved before it existed)."""
        return {name: getattr(self, name, None) for name in _PARAMS}

    def check_params(self) -> None:
        """Check the parameters; raise one-line errors naming the bad one."""
        get_detector(self.detector)
        if self.features not in FEATURE_KINDS:
            raise ParameterError(
                f"unknown features {self.features!r}; expected one of {', '.join(FEATURE_KINDS)}"
            )
        check_range("threshold percentile", self.threshold_percentile, 0.0, 100.0)
        check_range("contamination", self.contamination, 0.0, 0.5)
        if self.n_jobs is not None:
            check_positive_int("n_jobs", self.n_jobs)

    def _matrix(self, feats: pd.DataFrame) -> np.ndarray:
        """The detector's input (before scaling) of a table of features."""
        return detector_input(feats, self.feature_names_, featurized=self.featurizer_ is not None)

    def fit(
        self,
        events: pd.DataFrame,
        users: pd.DataFrame | None = None,
        *,
        incidents_per_day: float = DEFAULT_INCIDENTS_PER_DAY,
    ) -> AnomalyModel:
        """Fit every stage on normal events, and for raw events the incident linker.

        Parameters
        ----------
        events : pandas.DataFrame
            Training events: raw enterprise events for ``entity`` and ``seed``
            models, any table for ``table`` ones. A label column is optional.
        users : pandas.DataFrame, optional
            The staff table, for the entity features' peer baselines (and the staff count).
        incidents_per_day : float, default=10.0
            The incident queue's budget per 500 staff (``linker_``, raw events only:
            :mod:`soc_anomaly.model.incident_scoring`).

        Returns
        -------
        AnomalyModel
            This model.

        Raises
        ------
        soc_anomaly.errors.SocAnomalyError
            On bad parameters, missing columns, non-numeric or infinite values,
            or fewer than two training events.
        """
        self.check_params()
        check_budget(incidents_per_day, "incidents per day")
        train = events
        if self.label_col in events.columns and not self.keep_attacks:
            train = events.loc[events[self.label_col].to_numpy() == 0]
        if len(train) < 2:
            raise DataError(f"{len(train)} normal training event(s); expected at least 2")
        if self.features == "table":
            cols = resolve_feature_cols(train, self.label_col, self.feature_cols)
            self.fit_features(train[list(cols)])
        else:
            # Read as score reads events: long text cut, impossible counts clipped.
            raw, _ = bound_events(train)
            featurizer, raw = fit_featurizer(
                self.features, raw, users, self.detector, self.random_state
            )
            feats = featurizer.transform(raw)
            self.fit_features(feats[read_columns(featurizer, self.feature_cols)], featurizer)
            # The events as given (text times parsed), not the columns added as unknown.
            train = raw[list(train.columns)] if raw is not train else train
        linker = None if self.features == "table" else fit_linker(train, users, incidents_per_day)
        self.linker_ = linker
        self.training_ = training_record(train)
        return self

    def fit_features(self, feats: pd.DataFrame, featurizer: Any = None) -> AnomalyModel:
        """Fit the stages after the featuriser on the training events' features.

        :meth:`fit` calls it after featurising; the detection lab calls it
        directly so that the detectors of one run share one featurisation.

        Parameters
        ----------
        feats : pandas.DataFrame
            Features of the normal training events: the featuriser's output
            (columns in its order, names may carry a prefix), or for a ``table``
            model the feature columns.
        featurizer : object, optional
            The fitted featuriser that produced ``feats`` (None for ``table``).

        Returns
        -------
        AnomalyModel
            This model (``training_`` is set by :meth:`fit` only).
        """
        self.check_params()
        self.featurizer_ = featurizer
        if featurizer is None:
            self.feature_names_ = [str(c) for c in feats.columns]
        else:
            self.feature_names_ = read_columns(featurizer, self.feature_cols)
            if len(self.feature_names_) != feats.shape[1]:
                raise DataError(
                    f"got {feats.shape[1]} feature columns for the "
                    f"{len(self.feature_names_)} the model reads; expected its featuriser's "
                    "output (the feature_cols of it)"
                )
            feats = feats.set_axis(self.feature_names_, axis=1)
        if len(feats) < 2:
            raise DataError(f"{len(feats)} normal training event(s); expected at least 2")
        X = self._matrix(feats)
        self.scaler_mean_, std = column_mean_std(X)
        self.scaler_scale_ = np.where(std > 0, std, 1.0)
        # _matrix usually copies (interleaving the columns, or the signed log):
        # then that copy is scaled in place rather than another allocated.
        private = not any(np.may_share_memory(X, feats[c].to_numpy()) for c in feats.columns)
        Z = self.scale(X, in_place=private)
        del X
        self.detector_ = get_detector(self.detector).build(
            self.contamination, self.random_state, self.feature_names_
        )
        t0 = time.perf_counter()
        self.detector_.fit(Z)
        self.fit_seconds_ = time.perf_counter() - t0
        # Calibration and threshold from the training scores the detector kept
        # (a seeded sample of a large training set), not a second pass over it.
        train_scores = training_anomaly_scores(self.detector_, Z)
        self.calibrator_ = ScoreCalibrator().fit(train_scores)
        self.threshold_ = float(by_normal_percentile(train_scores, self.threshold_percentile))
        # Column by column: no second copy of a large training set.
        named = feats[self.feature_names_]
        self.baseline_mean_ = np.array([named[c].to_numpy(float).mean() for c in named])
        self.baseline_std_ = np.array([named[c].to_numpy(float).std() for c in named])
        # fit() records the training events' hash and time window; a model fitted
        # on features alone (the detection lab's) records their count.
        self.training_ = {"rows": len(feats), "sha256": None, "start": None, "end": None}
        return self

    def training_scores(self, feats: pd.DataFrame) -> np.ndarray:
        """Raw scores of the training events the threshold and calibration were set on.

        Parameters
        ----------
        feats : pandas.DataFrame
            The features :meth:`fit_features` was given.

        Returns
        -------
        numpy.ndarray
            Leave-one-out scores for neighbour detectors, the kept sample's
            scores when the training set was large, else every row's score.
        """
        kept = kept_training_scores(self.detector_, len(feats))
        if kept is not None:
            return kept
        Z = self.scale(self.feature_matrix(feats))
        return training_anomaly_scores(self.detector_, Z)

    def input_columns(self) -> list[str]:
        """The columns of the events the model reads (for reading only those)."""
        return input_columns(self.featurizer_, self.feature_names_)

    def feature_matrix(self, feats: pd.DataFrame) -> np.ndarray:
        """The detector's input before scaling: ``feats`` in model order (signed log
        of raw-event features). A featurised model takes its columns by name from its
        featuriser's whole output, else by position (the lab's prefixed columns)."""
        return self._matrix(feats)

    def score(
        self,
        events: pd.DataFrame,
        *,
        reasons: int = 5,
        history: pd.DataFrame | StreamContext | None = None,
    ) -> pd.DataFrame:
        """Score events: calibrated score, alert flag and the reasons for each alert.

        Parameters
        ----------
        events : pandas.DataFrame
            Events in the form the model was fitted on; labels are not needed.
        reasons : int, default=5
            At most this many reasons per alert.
        history : pandas.DataFrame or StreamContext, optional
            Events before ``events``, not scored: the entity features' windows
            (failures over 24 hours, the previous logon, ...) read them. Without
            it, windows start at the first of ``events``. Ignored by ``seed``
            and ``table`` models, whose features are per event.
            :class:`~soc_anomaly.model.stream.StreamScorer` carries the compact
            :class:`~soc_anomaly.features.carry.StreamContext` from chunk to chunk.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``events``: ``score`` (0-100), ``raw_score``, ``alert``
            (bool) and ``reasons`` (a list of sentences, most telling first;
            empty for events that do not alert).
        """
        if isinstance(history, pd.DataFrame) and hasattr(self.featurizer_, "beacon_intervals"):
            raw = complete_raw_events(history)
            history = next_context(None, raw, self.featurizer_)
        return self.finish_chunk(self.prepare_chunk(events, history), reasons=reasons)

    def prepare_chunk(
        self, events: pd.DataFrame, context: StreamContext | None = None
    ) -> PreparedChunk:
        """The first, sequential half of scoring a stream's chunk: its features.

        Parameters
        ----------
        events : pandas.DataFrame
            The chunk.
        context : StreamContext, optional
            What the stream carried into it (entity models; None otherwise).

        Returns
        -------
        PreparedChunk
            The features, and the context to carry into the next chunk.
        """
        return prepare_chunk(self, events, context)

    def finish_chunk(
        self,
        chunk: PreparedChunk,
        *,
        reasons: int = 5,
        core_free: threading.Event | None = None,
    ) -> pd.DataFrame:
        """The second half: scores, alerts and reasons (:meth:`score`'s output).

        It reads nothing of other chunks, so it can run while the next one is
        prepared (``core_free``: see :meth:`raw_scores`).
        """
        return finish_chunk(self, chunk, reasons=reasons, core_free=core_free)

    def scale(self, X: np.ndarray, *, in_place: bool = False) -> np.ndarray:
        """The detector's input: a :meth:`feature_matrix` standardised as in training."""
        Z = np.subtract(X, self.scaler_mean_, out=X if in_place else None)
        Z /= self.scaler_scale_  # in place: one matrix-sized allocation at most
        return Z

    def raw_scores(self, X: np.ndarray, core_free: threading.Event | None = None) -> np.ndarray:
        """The detector's raw scores (higher = more anomalous) of a feature matrix.

        ``X`` holds unscaled features in :attr:`feature_names_` order (after the
        signed log for raw-event models): the scaler is applied here. Until
        ``core_free`` is set, one thread scores (``block_anomaly_scores``).
        """
        Z = self.scale(X)
        n_jobs = getattr(self, "n_jobs", None)
        return block_anomaly_scores(self.detector_, Z, n_jobs, core_free=core_free)

    def save(self, directory: str | Path, signing_key: bytes | str | None = None) -> Path:
        """Save as a safe bundle, signed if a key is given (see
        :func:`soc_anomaly.model.bundle.save_model`)."""
        from soc_anomaly.model.bundle import save_model

        return save_model(self, directory, signing_key)

    @classmethod
    def load(cls, directory: str | Path, signing_key: bytes | str | None = None) -> AnomalyModel:
        """Load a bundle, refusing an unsigned one if a key is given (see
        :func:`soc_anomaly.model.bundle.load_bundle`)."""
        from soc_anomaly.model.bundle import load_model

        return load_model(directory, signing_key)
