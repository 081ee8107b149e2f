import numpy as np
import pandas as pd
import pytest

from soc_anomaly.anomaly_detection import (
    FEATURE_COLS,
    LABEL_COL,
    isolation_forest_scores,
    oneclass_svm_scores,
    prepare_train_test,
    train_isolation_forest,
    train_oneclass_svm,
)
from soc_anomaly.data.split import TrainTestSplit, split_train_test
from soc_anomaly.errors import DataError, ParameterError


def test_split_trains_on_normal_rows_only(small_df):
    X_tr, X_te, y_tr, y_te, scaler, X_tr_df, X_te_df = prepare_train_test(
        small_df, FEATURE_COLS, LABEL_COL, test_size=0.2, random_state=0
    )
    n_normal = int((small_df[LABEL_COL] == 0).sum())
    n_anom = int(small_df[LABEL_COL].sum())
    assert len(X_tr) == n_normal - int(np.ceil(0.2 * n_normal))
    assert len(X_te) == int(np.ceil(0.2 * n_normal)) + n_anom
    assert (y_tr == 0).all() and int(y_te.sum()) == n_anom
    assert small_df.loc[X_tr_df.index, LABEL_COL].eq(0).all()
    assert set(X_tr_df.index).isdisjoint(X_te_df.index)
    # Labels line up with the rows they came from, in table order.
    np.testing.assert_array_equal(small_df.loc[X_te_df.index, LABEL_COL].to_numpy(), y_te)
    assert X_te_df.index.is_monotonic_increasing
    np.testing.assert_allclose(X_tr.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(scaler.transform(X_te_df.to_numpy()), X_te)
    assert list(X_tr_df.columns) == FEATURE_COLS


def test_the_seed_tuple_is_the_typed_split_in_order(small_df):
    split = split_train_test(small_df, FEATURE_COLS, LABEL_COL, test_size=0.2, random_state=0)
    assert isinstance(split, TrainTestSplit)
    legacy = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, test_size=0.2, random_state=0)
    fields = ("X_train", "X_test", "y_train", "y_test", "scaler", "X_train_df", "X_test_df")
    assert len(legacy) == len(fields)
    for name, value in zip(fields, legacy, strict=True):
        if name == "scaler":
            np.testing.assert_array_equal(value.mean_, split.scaler.mean_)
        elif isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, getattr(split, name))
        else:
            np.testing.assert_array_equal(value, getattr(split, name))
    assert split.test_index.equals(split.X_test_df.index)


def test_split_is_seeded(small_df):
    a = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 0.2, 1)[5].index
    b = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 0.2, 1)[5].index
    c = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 0.2, 2)[5].index
    assert a.equals(b) and not a.equals(c)


def test_split_rejects_unusable_tables(small_df):
    with pytest.raises(DataError, match="no anomalies"):
        prepare_train_test(small_df[small_df[LABEL_COL] == 0], FEATURE_COLS, LABEL_COL, 0.2, 0)
    tiny = pd.concat(
        [small_df[small_df[LABEL_COL] == 1].head(3), small_df[small_df[LABEL_COL] == 0].head(2)]
    )
    with pytest.raises(DataError, match="only 2 normal events"):
        prepare_train_test(tiny, FEATURE_COLS, LABEL_COL, 0.5, 0)
    with pytest.raises(ParameterError, match=r"test_size must be in \(0, 1\)"):
        prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 1.0, 0)


def test_both_models_score_attacks_higher(small_df):
    X_tr, X_te, _, y_te, *_ = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 0.2, 0)
    iso = train_isolation_forest(X_tr, contamination=0.02, random_state=0)
    svm = train_oneclass_svm(X_tr, nu=0.02, kernel="rbf", gamma="scale")
    assert iso.n_estimators == 200  # the seed configuration's default
    for scores in (isolation_forest_scores(iso, X_te), oneclass_svm_scores(svm, X_te)):
        assert np.median(scores[y_te == 1]) > np.quantile(scores[y_te == 0], 0.99)


def test_isolation_forest_is_reproducible(small_df):
    X_tr, X_te, *_ = prepare_train_test(small_df, FEATURE_COLS, LABEL_COL, 0.2, 0)
    a = isolation_forest_scores(train_isolation_forest(X_tr, 0.02, 7), X_te)
    b = isolation_forest_scores(train_isolation_forest(X_tr, 0.02, 7), X_te)
    np.testing.assert_array_equal(a, b)


def test_model_parameter_bounds():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ParameterError, match="contamination"):
        train_isolation_forest(X, contamination=0.0)
    with pytest.raises(ParameterError, match="nu"):
        train_oneclass_svm(X, nu=1.5)
