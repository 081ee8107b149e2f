"""Content checks of a loaded model's detector and the scikit-learn objects inside it.

Part of :mod:`soc_anomaly.model.bundle_check` (see it for why and when these
run). One function per detector class and per scikit-learn estimator a
detector wraps; :func:`check_detector` dispatches on the exact type and
refuses any other. Each checks what scoring reads: array shapes against the
model's feature count, dtypes, finiteness, index ranges, and for trees their
structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from soc_anomaly.model.bundle_check import expect_array, expect_number, refuse

__all__ = ["check_detector", "check_linker", "estimator_classes"]

#: Most common entities a linker may hold, and the longest name (a real one holds tens).
MAX_COMMON_ENTITIES = 1_000_000
MAX_ENTITY_CHARS = 4096
_LINKER_STATE = {
    "candidate_score", "window_hours", "span_hours", "common_share", "tail_weight",
    "incidents_per_day", "common_", "n_staff_", "_sklearn_version",
}  # fmt: skip


def estimator_classes() -> list[type]:
    """Every class (besides the model itself) a model file may hold."""
    from sklearn.cluster import KMeans
    from sklearn.covariance import EmpiricalCovariance, MinCovDet
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
    from sklearn.svm import OneClassSVM
    from sklearn.tree import ExtraTreeRegressor

    from soc_anomaly.detectors.calibration import ScoreCalibrator
    from soc_anomaly.features import EntityFeatures
    from soc_anomaly.features.peers import PeerTables
    from soc_anomaly.features.seed_columns import SeedColumns
    from soc_anomaly.incidents import IncidentLinker
    from soc_anomaly.sequences.lstm import LSTMWeights
    from soc_anomaly.sequences.ngram import NGramTables

    wrapped = [IsolationForest, ExtraTreeRegressor, OneClassSVM, KMeans, NearestNeighbors]
    wrapped += [LocalOutlierFactor, EmpiricalCovariance, MinCovDet]
    own = [ScoreCalibrator, EntityFeatures, PeerTables, NGramTables, SeedColumns, IncidentLinker]
    own.append(LSTMWeights)
    return [*own, *wrapped, *_detector_checks()]


def _common(det: Any, where: str, d: int) -> None:
    """What every fitted BaseDetector holds: its parameters, input width, training scores."""
    try:
        det._validate_params()
    except Exception as exc:  # scikit-learn raises its own error types
        raise refuse(where, f"has a bad parameter ({exc})") from None
    expect_number(det.n_features_in_, f"{where}.n_features_in_", integer=True, low=d, high=d)
    names = getattr(det, "feature_names_in_", None)
    if names is not None:
        expect_array(names, f"{where}.feature_names_in_", kind="OU", shape=(d,))
    scores = expect_array(det.train_scores_, f"{where}.train_scores_", shape=(None,), finite=True)
    if len(scores) == 0:
        raise refuse(f"{where}.train_scores_", "is empty")
    rows = det.train_score_rows_
    if rows is not None:
        rows = expect_array(rows, f"{where}.train_score_rows_", kind="i", shape=(len(scores),))
        if rows.min() < 0:
            raise refuse(f"{where}.train_score_rows_", "holds a negative row")
    expect_number(det.offset_, f"{where}.offset_")


def _tree(tree: Any, where: str, n_columns: int) -> tuple[int, np.ndarray]:
    """Check one fitted tree's nodes; return its node count and a leaf mask."""
    from sklearn.tree._tree import Tree

    if type(tree) is not Tree:
        raise refuse(where, f"is a {type(tree).__name__}; expected a Tree")
    state = tree.__getstate__()
    nodes = state["nodes"]
    n = int(state["node_count"])
    if not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or len(nodes) != n or n < 1:
        raise refuse(where, f"node_count {n} does not match its node array")
    if tree.n_features != n_columns or tree.n_outputs != 1:
        raise refuse(where, f"reads {tree.n_features} columns; expected {n_columns}")
    expect_array(state["values"], f"{where}.values", shape=(n, 1, 1))
    left, right = nodes["left_child"].astype(np.int64), nodes["right_child"].astype(np.int64)
    leaf = left == -1
    ids = np.arange(n)
    if (right[leaf] != -1).any():
        raise refuse(where, "a leaf has one child; expected both children -1")
    inner = ~leaf
    # Children after their parent: no cycle, and in range below.
    if ((left[inner] <= ids[inner]) | (right[inner] <= ids[inner])).any():
        raise refuse(where, "a node's child is not after it; expected an acyclic tree")
    if ((left[inner] >= n) | (right[inner] >= n)).any():
        raise refuse(where, f"a child is outside its {n} nodes")
    children = np.concatenate([left[inner], right[inner]])
    if len(children) != n - 1 or not np.array_equal(np.sort(children), ids[1:]):
        raise refuse(where, "a node is the child of none or of two; expected a tree")
    feature = nodes["feature"][inner]
    if len(feature) and (feature.min() < 0 or feature.max() >= n_columns):
        raise refuse(where, f"a split reads a column outside [0, {n_columns})")
    if not np.isfinite(nodes["threshold"][inner]).all():
        raise refuse(where, "a split threshold is not finite")
    depth = np.zeros(n, dtype=np.int64)
    for node in np.flatnonzero(inner):  # parents come first, so one pass sets every depth
        depth[left[node]] = depth[right[node]] = depth[node] + 1
    if int(state["max_depth"]) != int(depth.max()):
        raise refuse(where, f"max_depth {state['max_depth']} is not its depth {depth.max()}")
    return n, leaf


def _isolation_forest(forest: Any, where: str, d: int) -> None:
    from sklearn.ensemble import IsolationForest
    from sklearn.tree import ExtraTreeRegressor

    if type(forest) is not IsolationForest:
        raise refuse(where, f"is a {type(forest).__name__}; expected an IsolationForest")
    expect_number(forest.n_features_in_, f"{where}.n_features_in_", integer=True, low=d, high=d)
    expect_number(forest._max_samples, f"{where}._max_samples", integer=True, low=1)
    trees, columns = forest.estimators_, forest.estimators_features_
    paths, averages = forest._decision_path_lengths, forest._average_path_length_per_tree
    if not (isinstance(trees, list) and trees):
        raise refuse(f"{where}.estimators_", "expected a non-empty list of trees")
    for name, value in (("estimators_features_", columns), ("_decision_path_lengths", paths),
                        ("_average_path_length_per_tree", averages)):  # fmt: skip
        if not isinstance(value, list | tuple) or len(value) != len(trees):
            raise refuse(f"{where}.{name}", f"expected one entry per tree ({len(trees)})")
    for i, (est, cols) in enumerate(zip(trees, columns, strict=True)):
        at = f"{where}.estimators_[{i}]"
        if type(est) is not ExtraTreeRegressor:
            raise refuse(at, f"is a {type(est).__name__}; expected an ExtraTreeRegressor")
        cols = expect_array(cols, f"{where}.estimators_features_[{i}]", kind="i", shape=(None,))
        if len(cols) == 0 or cols.min() < 0 or cols.max() >= d:
            raise refuse(f"{where}.estimators_features_[{i}]", f"holds a column outside [0, {d})")
        n, _ = _tree(est.tree_, f"{at}.tree_", len(cols))
        expect_array(paths[i], f"{where}._decision_path_lengths[{i}]", kind="iuf", shape=(n,),
                     finite=True)  # fmt: skip
        expect_array(averages[i], f"{where}._average_path_length_per_tree[{i}]", shape=(n,),
                     finite=True)  # fmt: skip


def _iforest(det: Any, where: str, d: int) -> None:
    _isolation_forest(det.forest_, f"{where}.forest_", d)


def _ocsvm(det: Any, where: str, d: int) -> None:
    from sklearn.svm import OneClassSVM

    svm, at = det.svm_, f"{where}.svm_"
    if type(svm) is not OneClassSVM:
        raise refuse(at, f"is a {type(svm).__name__}; expected a OneClassSVM")
    if svm.kernel != det.kernel or svm._sparse is not False:
        raise refuse(at, f"kernel {svm.kernel!r} is not the detector's {det.kernel!r}")
    sv = expect_array(svm.support_vectors_, f"{at}.support_vectors_", shape=(None, d), finite=True)
    k = len(sv)
    if k == 0 or not sv.flags.c_contiguous:
        raise refuse(f"{at}.support_vectors_", "expected at least one row, C-ordered")
    for name in ("dual_coef_", "_dual_coef_"):
        dual = expect_array(getattr(svm, name), f"{at}.{name}", shape=(1, k), finite=True)
        if (dual <= 0).any():
            raise refuse(f"{at}.{name}", "holds a value that is not positive")
    for name in ("intercept_", "_intercept_", "offset_"):
        expect_array(getattr(svm, name), f"{at}.{name}", shape=(1,), finite=True)
    shape = svm.shape_fit_
    if not (isinstance(shape, tuple) and len(shape) == 2 and shape[1] == d and shape[0] >= k):
        raise refuse(f"{at}.shape_fit_", f"is {shape!r}; expected (rows, {d})")
    support = expect_array(svm.support_, f"{at}.support_", kind="i", shape=(k,))
    if support.min() < 0 or support.max() >= shape[0]:
        raise refuse(f"{at}.support_", f"holds a row outside [0, {shape[0]})")
    counts = expect_array(svm._n_support, f"{at}._n_support", kind="i", shape=(2,))
    if counts[0] != k or not 0 <= counts[1] <= k:
        raise refuse(f"{at}._n_support", f"is {counts.tolist()}; expected [{k}, ...]")
    expect_number(svm._gamma, f"{at}._gamma", low=np.finfo(float).tiny)
    expect_number(svm.n_features_in_, f"{at}.n_features_in_", integer=True, low=d, high=d)
    for name in ("_probA", "_probB"):
        expect_array(getattr(svm, name), f"{at}.{name}", shape=(0,))


def _kmeans(det: Any, where: str, d: int) -> None:
    from sklearn.cluster import KMeans

    km, at = det.kmeans_, f"{where}.kmeans_"
    if type(km) is not KMeans:
        raise refuse(at, f"is a {type(km).__name__}; expected KMeans")
    centers = expect_array(km.cluster_centers_, f"{at}.cluster_centers_", shape=(None, d),
                           finite=True)  # fmt: skip
    k = len(centers)
    if k == 0 or k != det.n_clusters_:
        raise refuse(f"{at}.cluster_centers_", f"has {k} rows; expected n_clusters_")
    expect_number(km.n_features_in_, f"{at}.n_features_in_", integer=True, low=d, high=d)
    expect_number(km._n_threads, f"{at}._n_threads", integer=True, low=1, high=4096)


def _reference(det: Any, where: str, fitted_x: Any, d: int) -> int:
    """The reference rows of a neighbour detector: shape, neighbour count, indices."""
    ref = expect_array(fitted_x, where, shape=(None, d), finite=True)
    n = len(ref)
    if n < 2 or not ref.flags.c_contiguous:
        raise refuse(where, "expected at least two C-ordered rows")
    if det.n_fit_samples_ != n:
        raise refuse(where, f"has {n} rows; n_fit_samples_ says {det.n_fit_samples_}")
    expect_number(det.n_neighbors_, f"{where}.n_neighbors_", integer=True, low=1, high=n - 1)
    idx = det.reference_indices_
    if idx is not None:
        idx = expect_array(idx, f"{where}.reference_indices_", kind="i", shape=(n,))
        if idx.min() < 0:
            raise refuse(f"{where}.reference_indices_", "holds a negative row")
    return n


def _neighbours(nn: Any, where: str, n: int) -> None:
    """A brute-force, Euclidean scikit-learn neighbours object over ``n`` rows."""
    if nn._fit_method != "brute" or nn._tree is not None:
        raise refuse(where, f"uses {nn._fit_method!r}; expected brute force (no tree)")
    if nn.effective_metric_ != "euclidean" or nn.effective_metric_params_:
        raise refuse(where, f"metric {nn.effective_metric_!r}; expected euclidean")
    expect_number(nn.n_samples_fit_, f"{where}.n_samples_fit_", integer=True, low=n, high=n)


def _knn(det: Any, where: str, d: int) -> None:
    from sklearn.neighbors import NearestNeighbors

    if type(det.nn_) is not NearestNeighbors:
        raise refuse(f"{where}.nn_", "expected NearestNeighbors")
    n = _reference(det, f"{where}.nn_._fit_X", det.nn_._fit_X, d)
    _neighbours(det.nn_, f"{where}.nn_", n)


def _lof(det: Any, where: str, d: int) -> None:
    from sklearn.neighbors import LocalOutlierFactor

    lof, at = det.lof_, f"{where}.lof_"
    if type(lof) is not LocalOutlierFactor or lof.novelty is not True:
        raise refuse(at, "expected a LocalOutlierFactor in novelty mode")
    n = _reference(det, f"{at}._fit_X", lof._fit_X, d)
    _neighbours(lof, at, n)
    k = int(expect_number(lof.n_neighbors_, f"{at}.n_neighbors_", integer=True, low=1, high=n))
    dist = expect_array(lof._distances_fit_X_, f"{at}._distances_fit_X_", shape=(n, k),
                        finite=True)  # fmt: skip
    if (dist < 0).any():
        raise refuse(f"{at}._distances_fit_X_", "holds a negative distance")
    expect_array(lof._lrd, f"{at}._lrd", shape=(n,))
    expect_array(lof.negative_outlier_factor_, f"{at}.negative_outlier_factor_", shape=(n,))
    expect_number(lof.offset_, f"{at}.offset_")


def _mahalanobis(det: Any, where: str, d: int) -> None:
    from sklearn.covariance import EmpiricalCovariance, MinCovDet

    cov, at = det.covariance_estimator_, f"{where}.covariance_estimator_"
    if type(cov) not in (EmpiricalCovariance, MinCovDet):
        raise refuse(at, f"is a {type(cov).__name__}; expected a covariance estimator")
    expect_array(cov.location_, f"{at}.location_", shape=(d,), finite=True)
    expect_array(cov.covariance_, f"{at}.covariance_", shape=(d, d), finite=True)
    expect_array(cov.get_precision(), f"{at}.precision_", shape=(d, d), finite=True)


def _risk_score(det: Any, where: str, d: int) -> None:
    names = expect_array(det.feature_names_, f"{where}.feature_names_", kind="OU", shape=(d,))
    if not all(isinstance(v, str) for v in names):
        raise refuse(f"{where}.feature_names_", "holds a value that is not text")
    expect_array(det.weights_, f"{where}.weights_", shape=(d,), finite=True)
    directions = expect_array(det.directions_, f"{where}.directions_", kind="OU", shape=(d,))
    if not set(directions.tolist()) <= {"high", "low", "both"}:
        raise refuse(f"{where}.directions_", "expected high, low or both")
    expect_array(det.location_, f"{where}.location_", shape=(d,), finite=True)
    scale = expect_array(det.scale_, f"{where}.scale_", shape=(d,), finite=True)
    if (scale <= 0).any():
        raise refuse(f"{where}.scale_", "holds a value that is not positive")


def _markov(det: Any, where: str, d: int) -> None:
    columns = expect_array(det.columns_, f"{where}.columns_", kind="i", shape=(None,))
    if len(columns) == 0 or columns.min() < 0 or columns.max() >= d:
        raise refuse(f"{where}.columns_", f"expected positions of columns in [0, {d})")


def _ensemble(det: Any, where: str, d: int) -> None:
    from soc_anomaly.model.bundle_check import _check_calibrator

    members, calibrators = det.estimators_, det.calibrators_
    names = det.member_names_
    if not (isinstance(members, list) and members and isinstance(calibrators, list)):
        raise refuse(f"{where}.estimators_", "expected a non-empty list of members")
    if (
        len(calibrators) != len(members)
        or not isinstance(names, list)
        or len(names) != len(members)
    ):
        raise refuse(where, "members, calibrators and member names differ in number")
    for i, (member, cal) in enumerate(zip(members, calibrators, strict=True)):
        check_detector(member, f"{where}.estimators_[{i}]", d, None)
        _check_calibrator(cal, f"{where}.calibrators_[{i}]")
    named = det.named_estimators_
    if list(named.keys()) != names or any(
        a is not b for a, b in zip(named.values(), members, strict=True)
    ):
        raise refuse(f"{where}.named_estimators_", "differs from estimators_")


def _detector_checks() -> dict[type, Callable[[Any, str, int], None]]:
    from soc_anomaly.detectors.ensemble import EnsembleDetector
    from soc_anomaly.detectors.iforest import IForestDetector
    from soc_anomaly.detectors.kmeans import KMeansDetector
    from soc_anomaly.detectors.knn import KNNDetector
    from soc_anomaly.detectors.lof import LOFDetector
    from soc_anomaly.detectors.mahalanobis import MahalanobisDetector
    from soc_anomaly.detectors.markov import LSTMDetector, MarkovDetector
    from soc_anomaly.detectors.ocsvm import OCSVMDetector
    from soc_anomaly.detectors.risk_score import RiskScoreDetector

    return {
        IForestDetector: _iforest,
        OCSVMDetector: _ocsvm,
        KMeansDetector: _kmeans,
        KNNDetector: _knn,
        LOFDetector: _lof,
        MahalanobisDetector: _mahalanobis,
        RiskScoreDetector: _risk_score,
        EnsembleDetector: _ensemble,
        MarkovDetector: _markov,
        LSTMDetector: _markov,
    }


def check_detector(det: Any, where: str, d: int, expected: type | None) -> None:
    """Check a fitted detector reading ``d`` columns (of class ``expected`` if given)."""
    checks = _detector_checks()
    check = checks.get(type(det))
    if check is None or (expected is not None and type(det) is not expected):
        want = expected.__name__ if expected is not None else "a registered detector"
        raise refuse(where, f"is a {type(det).__name__}; expected {want}")
    _common(det, where, d)
    check(det, where, d)


def check_linker(linker: Any, where: str) -> None:
    """Check a fitted :class:`~soc_anomaly.incidents.IncidentLinker`: its parameters in
    range, ``common_`` a bounded list of text names per kind, ``n_staff_`` a positive count,
    and nothing else in its state."""
    from soc_anomaly.incidents import IncidentLinker

    if type(linker) is not IncidentLinker:
        raise refuse(where, f"is a {type(linker).__name__}; expected an IncidentLinker")
    extra = sorted(set(vars(linker)) - _LINKER_STATE)
    if extra:
        raise refuse(where, f"holds unexpected attribute(s) {', '.join(extra)}")
    try:
        linker.check_params()
    except Exception as exc:  # a hostile parameter may fail in any way
        raise refuse(where, f"has a bad parameter ({exc})") from None
    expect_number(linker.n_staff_, f"{where}.n_staff_", integer=True, low=1, high=10**9)
    common = linker.common_
    if type(common) is not dict or set(common) != {"host", "address", "destination"}:
        raise refuse(f"{where}.common_", "expected lists of host, address and destination names")
    total = 0
    for kind, names in common.items():
        at = f"{where}.common_[{kind!r}]"
        if type(names) is not list or not all(type(n) is str for n in names):
            raise refuse(at, "expected a list of text")
        if any(len(n) > MAX_ENTITY_CHARS for n in names):
            raise refuse(at, f"holds a name over {MAX_ENTITY_CHARS:,} characters")
        total += len(names)
    if total > MAX_COMMON_ENTITIES:
        raise refuse(f"{where}.common_", f"holds over {MAX_COMMON_ENTITIES:,} names")
