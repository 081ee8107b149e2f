"""The functional API of the walkthrough notebook.

Thin functions over :mod:`soc_anomaly.data`, :mod:`soc_anomaly.detectors` and
:mod:`soc_anomaly.evaluation`, so a notebook can run each step by hand::

    df = generate_synthetic_soc_dataset()
    X_tr, X_te, y_tr, y_te, scaler, X_tr_df, X_te_df = prepare_train_test(
        df, FEATURE_COLS, LABEL_COL, test_size=0.2, random_state=42)
    model = train_isolation_forest(X_tr, contamination=0.01, random_state=42)
    metrics = evaluate_model("IsolationForest", y_te, isolation_forest_scores(model, X_te))

Every score returned here is higher = more anomalous, and is the same number
``soc-anomaly detect`` computes for the same detector on the same split: the
OneClassSVM is the toolkit's :class:`~soc_anomaly.detectors.ocsvm.OCSVMDetector`,
scored by the log of the SVM's decision sum, so that a percentile threshold
on these scores raises the same alerts in a notebook as on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import train_test_split as train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_RANDOM_STATE,
    DEFAULT_TEST_SIZE,
    IFOREST_N_ESTIMATORS,
)
from soc_anomaly.data.io import read_table
from soc_anomaly.data.schema import FEATURE_COLS, LABEL_COL
from soc_anomaly.data.split import split_train_test
from soc_anomaly.data.validation import check_both_classes as check_both_classes
from soc_anomaly.data.validation import validate_dataset
from soc_anomaly.detectors import anomaly_scores
from soc_anomaly.detectors.iforest import make_iforest
from soc_anomaly.detectors.ocsvm import OCSVMDetector, log_rbf_decision
from soc_anomaly.detectors.ocsvm import make_ocsvm as make_ocsvm
from soc_anomaly.errors import DataError as DataError
from soc_anomaly.errors import check_range
from soc_anomaly.evaluation.explain import (
    compute_feature_stats,
    explain_top_anomalies,
    global_feature_correlations,
)
from soc_anomaly.evaluation.metrics import evaluate_model

__all__ = [
    "FEATURE_COLS",
    "LABEL_COL",
    "compute_feature_stats",
    "evaluate_model",
    "explain_top_anomalies",
    "global_feature_correlations",
    "isolation_forest_scores",
    "load_dataset",
    "oneclass_svm_scores",
    "prepare_train_test",
    "train_isolation_forest",
    "train_oneclass_svm",
]


def load_dataset(
    path: str | Path,
    feature_cols: Sequence[str] = FEATURE_COLS,
    label_col: str | None = LABEL_COL,
) -> pd.DataFrame:
    """Read and validate an events table (CSV or Parquet).

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv``, ``.parquet`` or ``.pq`` file.
    feature_cols : sequence of str, default=FEATURE_COLS
        Columns that must be present, numeric and finite.
    label_col : str or None, default="label"
        Column that must hold only 0/1, or None for unlabelled events.

    Returns
    -------
    pandas.DataFrame
        The events with a ``RangeIndex``; features as float64, label as int64.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the file is missing, empty, truncated or not a CSV/Parquet table,
        or a column is missing or holds unusable values.
    """
    path = Path(path)
    return validate_dataset(read_table(path), feature_cols, label_col, source=str(path))


def prepare_train_test(
    df: pd.DataFrame,
    feature_cols: Sequence[str] = FEATURE_COLS,
    label_col: str = LABEL_COL,
    test_size: float = DEFAULT_TEST_SIZE,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, StandardScaler, pd.DataFrame, pd.DataFrame
]:
    """Split so that detectors train on normal events only, and scale.

    The seed's positional form of :func:`soc_anomaly.data.split.split_train_test`:
    the normal events are split ``1 - test_size`` / ``test_size``; the test
    set is the held-out normal events plus *every* anomaly. The scaler is fit
    on the training rows alone.

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
    X_train_scaled, X_test_scaled : numpy.ndarray
        Scaled features.
    y_train, y_test : numpy.ndarray
        Labels (``y_train`` is all zeros).
    scaler : sklearn.preprocessing.StandardScaler
        Fitted on the training rows.
    X_train_df, X_test_df : pandas.DataFrame
        Unscaled features, indexed like ``df`` (test rows in ``df`` order).

    Raises
    ------
    soc_anomaly.errors.DataError
        If the table fails validation, lacks either class, or has too few
        normal events to split.
    """
    split = split_train_test(df, feature_cols, label_col, test_size, random_state)
    return (
        split.X_train,
        split.X_test,
        split.y_train,
        split.y_test,
        split.scaler,
        split.X_train_df,
        split.X_test_df,
    )


def train_isolation_forest(
    X: ArrayLike,
    contamination: float = DEFAULT_ANOMALY_FRACTION,
    random_state: int = DEFAULT_RANDOM_STATE,
    n_estimators: int = IFOREST_N_ESTIMATORS,
) -> IsolationForest:
    """Fit an IsolationForest on (scaled, normal) training events.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training events.
    contamination : float, default=0.01
        Expected anomaly share, in (0, 0.5].
    random_state : int, default=42
        Seed of the trees.
    n_estimators : int, default=200
        Number of trees.

    Returns
    -------
    sklearn.ensemble.IsolationForest
        The fitted model.
    """
    check_range("contamination", contamination, 0.0, 0.5, high_inclusive=True)
    return make_iforest(contamination, random_state, n_estimators).fit(X)


def isolation_forest_scores(model: IsolationForest, X: ArrayLike) -> np.ndarray:
    """Anomaly scores of a fitted IsolationForest (higher = more anomalous)."""
    return anomaly_scores(model, X)


def train_oneclass_svm(
    X: ArrayLike,
    nu: float = DEFAULT_ANOMALY_FRACTION,
    kernel: str = "rbf",
    gamma: str | float = "scale",
) -> OCSVMDetector:
    """Fit a OneClassSVM on (scaled, normal) training events.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training events.
    nu : float, default=0.01
        Bound on the share of training events left outside, in (0, 1].
    kernel : str, default="rbf"
        Kernel.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient.

    Returns
    -------
    soc_anomaly.detectors.ocsvm.OCSVMDetector
        The fitted detector, the one ``soc-anomaly detect`` runs as ``ocsvm``
        (a scikit-learn outlier estimator; the libsvm model is its ``svm_``).
        ``predict`` flags the ``min(nu, 0.5)`` share of training events that
        score highest.
    """
    check_range("nu", nu, 0.0, 1.0, high_inclusive=True)
    # contamination only places predict's threshold; the toolkit caps it at 0.5.
    return OCSVMDetector(nu=nu, kernel=kernel, gamma=gamma, contamination=min(nu, 0.5)).fit(X)


def oneclass_svm_scores(model: OCSVMDetector | OneClassSVM, X: ArrayLike) -> np.ndarray:
    """Anomaly scores of a fitted OneClassSVM (higher = more anomalous).

    Parameters
    ----------
    model : OCSVMDetector or sklearn.svm.OneClassSVM
        From :func:`train_oneclass_svm`, or a OneClassSVM fitted elsewhere.
    X : array-like of shape (n_samples, n_features)
        Events, scaled as the model was trained.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        The toolkit's OneClassSVM scores: for an RBF kernel, minus the log of
        the SVM's decision sum. scikit-learn's own ``score_samples`` is that
        sum, which underflows to exactly 0 for every event far from all
        support vectors, so hundreds of attacks would tie at one score and a
        percentile threshold would flag all of them or none.
    """
    if isinstance(model, OneClassSVM) and model.kernel == "rbf":
        rows = np.asarray(X, dtype=np.float64)
        decision = log_rbf_decision(
            rows, model.support_vectors_, model.dual_coef_.ravel(), model._gamma
        )
        return -decision + 0.0
    return anomaly_scores(model, X)
