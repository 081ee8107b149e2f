"""The train/test split: detectors train on normal events only.

The normal events are split ``1 - test_size`` / ``test_size``; the test set
is the held-out normal events plus *every* anomaly. The scaler is fit on the
training rows alone, so nothing about the test events leaks into training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from soc_anomaly.config import DEFAULT_RANDOM_STATE, DEFAULT_TEST_SIZE
from soc_anomaly.data.schema import FEATURE_COLS, LABEL_COL
from soc_anomaly.data.validation import check_both_classes, validate_dataset
from soc_anomaly.errors import DataError, check_range

__all__ = ["TrainTestSplit", "signed_log1p", "split_by_time", "split_train_test"]


@dataclass(frozen=True)
class TrainTestSplit:
    """Normal training events and labelled test events, scaled and unscaled.

    The scaler and the scaled matrices are computed when first read: the
    detection lab's models scale their own input, so a large run never holds
    a second scaled copy of its training events.

    Attributes
    ----------
    y_train, y_test : numpy.ndarray
        0/1 labels (``y_train`` is all zeros).
    X_train_df, X_test_df : pandas.DataFrame
        Unscaled features, indexed like the input table (test rows in table order).
    log_scale : bool
        Whether the scaled features are of ``signed_log1p`` of the columns.
    scaler : sklearn.preprocessing.StandardScaler
        Fitted on the training rows.
    X_train, X_test : numpy.ndarray
        Scaled features.
    """

    y_train: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    X_train_df: pd.DataFrame = field(repr=False)
    X_test_df: pd.DataFrame = field(repr=False)
    log_scale: bool = False

    def _unscaled(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame.to_numpy()
        return signed_log1p(values) if self.log_scale else values

    @cached_property
    def scaler(self) -> StandardScaler:
        """Standard scaler fitted on the training rows."""
        return StandardScaler().fit(self._unscaled(self.X_train_df))

    @cached_property
    def X_train(self) -> np.ndarray:
        """Scaled training features."""
        return self.scaler.transform(self._unscaled(self.X_train_df))

    @cached_property
    def X_test(self) -> np.ndarray:
        """Scaled test features."""
        return self.scaler.transform(self._unscaled(self.X_test_df))

    @property
    def test_index(self) -> pd.Index:
        """Index labels of the test events in the input table."""
        return self.X_test_df.index


def split_train_test(
    df: pd.DataFrame,
    feature_cols: Sequence[str] = FEATURE_COLS,
    label_col: str = LABEL_COL,
    test_size: float = DEFAULT_TEST_SIZE,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> TrainTestSplit:
    """Split so that detectors train on normal events only, and scale.

    Parameters
    ----------
    df : pandas.DataFrame
        Labelled events with a unique index.
    feature_cols : sequence of str, default=FEATURE_COLS
        Feature columns.
    label_col : str, default="label"
        0/1 label column.
    test_size : float, default=0.2
        Share of the normal events held out, in (0, 1).
    random_state : int, default=42
        Seed of the split.

    Returns
    -------
    TrainTestSplit

    Raises
    ------
    soc_anomaly.errors.DataError
        If the table fails validation, lacks either class, or has too few
        normal events to split.
    """
    check_range("test_size", test_size, 0.0, 1.0)
    cols = list(feature_cols)
    df = validate_dataset(df, cols, label_col)
    if not df.index.is_unique:
        raise DataError("the events table has a repeated index; expected one label per event")
    y = df[label_col].to_numpy()
    check_both_classes(y)
    # Positions, not index labels: the same rows in the same order, without a
    # hash lookup per event.
    normal_pos = np.flatnonzero(y == 0)
    n_test_normal = int(np.ceil(test_size * len(normal_pos)))
    if n_test_normal < 1 or len(normal_pos) - n_test_normal < 2:
        raise DataError(
            f"only {len(normal_pos)} normal events; expected enough to train on at least 2 "
            f"and hold out at least 1 at test_size={test_size}"
        )
    train_pos, test_normal_pos = train_test_split(
        normal_pos, test_size=test_size, random_state=random_state, shuffle=True
    )
    test_mask = y == 1
    test_mask[test_normal_pos] = True
    features = df[cols]
    X_train_df = features.iloc[train_pos]
    X_test_df = features.iloc[np.flatnonzero(test_mask)]
    return TrainTestSplit(
        y_train=np.zeros(len(X_train_df), dtype=np.int64),
        y_test=y[test_mask].astype(np.int64),
        X_train_df=X_train_df,
        X_test_df=X_test_df,
    )


def signed_log1p(X: np.ndarray) -> np.ndarray:
    """``sign(x) * log(1 + |x|)``: heavy tails compressed, zero and sign kept."""
    # copysign on the log's own buffer: one temporary instead of three.
    out = np.log1p(np.abs(X))
    return np.copysign(out, X, out=out)


def split_by_time(
    df: pd.DataFrame,
    feature_cols: Sequence[str],
    train_mask: np.ndarray,
    label_col: str = LABEL_COL,
    *,
    log_scale: bool = False,
) -> TrainTestSplit:
    """Split by time: normal events of the training window train, the rest is evaluated.

    Detectors of a world whose events depend on each other (a user's history, a
    window of related events) must not see the period they are judged on, so
    unlike :func:`split_train_test` nothing is drawn at random: every event of
    the training window that is labelled normal trains, every event after it
    (attack or not) is evaluated. Attacks inside the training window are
    dropped, neither trained on nor evaluated.

    Parameters
    ----------
    df : pandas.DataFrame
        Labelled events with a unique index.
    feature_cols : sequence of str
        Feature columns.
    train_mask : numpy.ndarray of bool
        True for the events of the training window, one per row of ``df``.
    label_col : str, default="label"
        0/1 label column.
    log_scale : bool, default=False
        Compress every feature with :func:`signed_log1p` before scaling, so that
        heavy-tailed counts, speeds and byte volumes (0 for most events, tens of
        thousands for a few) do not drown every other feature in a distance.
        ``X_train_df`` and ``X_test_df`` keep the values as computed.

    Returns
    -------
    TrainTestSplit
        Test rows in table order.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the table fails validation, the evaluated period lacks either
        class, or the training window has fewer than two normal events.
    """
    cols = list(feature_cols)
    df = validate_dataset(df, cols, label_col)
    if not df.index.is_unique:
        raise DataError("the events table has a repeated index; expected one label per event")
    train_mask = np.asarray(train_mask, dtype=bool)
    if len(train_mask) != len(df):
        raise DataError(
            f"got {len(train_mask)} training-window flags for {len(df)} events; expected one "
            "per event"
        )
    y = df[label_col].to_numpy()
    fit_rows = train_mask & (y == 0)
    test_rows = ~train_mask
    if fit_rows.sum() < 2:
        raise DataError(
            f"the training window holds {int(fit_rows.sum())} normal events; expected at "
            "least 2 to train on"
        )
    check_both_classes(y[test_rows], source="the evaluated period (after the training window)")
    X_train_df = df.loc[fit_rows, cols]
    X_test_df = df.loc[test_rows, cols]
    return TrainTestSplit(
        y_train=np.zeros(len(X_train_df), dtype=np.int64),
        y_test=y[test_rows].astype(np.int64),
        X_train_df=X_train_df,
        X_test_df=X_test_df,
        log_scale=log_scale,
    )
