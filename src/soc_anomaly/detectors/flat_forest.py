"""IsolationForest scores from one compiled pass over all trees.

scikit-learn scores an IsolationForest tree by tree: one ``apply`` call per
tree over every row, then a gather of each leaf's path length and an
addition into the running depth. For 200 trees and millions of events that is
200 passes over the data and 200 temporary arrays; here each row walks all the
trees while it is in cache, in a compiled loop (numba) that releases the GIL so
row blocks score in parallel threads.

The result is bit-identical to ``IsolationForest.score_samples``: the same
float32 input against the same float64 thresholds, the same per-leaf term
``(decision_path_length + average_path_length) - 1.0`` added in tree order, and
the same final normalisation (tests compare the two).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numba
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length

__all__ = ["FlatForest", "flat_forest", "forest_score_samples"]


@dataclass(frozen=True)
class FlatForest:
    """All the trees of a fitted IsolationForest, renumbered into flat arrays.

    Each tree's nodes are renumbered breadth first so that a node's two
    children are neighbours: the walk is ``node = left[node] + (x > threshold)``,
    with no branch to mispredict. A leaf points to itself with an infinite
    threshold, so every row takes the tree's full depth in steps and stays on
    its leaf once there.

    Attributes
    ----------
    roots : numpy.ndarray of int32
        Index of each tree's root node.
    depth : numpy.ndarray of int32
        Each tree's depth (steps from the root to its deepest leaf).
    feature : numpy.ndarray of int32
        Column of ``X`` each node splits on (mapped through the forest's
        per-tree feature subsets); 0 at leaves.
    threshold : numpy.ndarray of float64
        Split value (rows with ``X[:, feature] <= threshold`` go left);
        ``+inf`` at leaves.
    left : numpy.ndarray of int32
        Left child (the right child is the next node); the node itself at leaves.
    leaf_depth : numpy.ndarray of float64
        At each leaf, the depth it adds to a row that ends there.
    denominator : float
        ``n_trees * c(max_samples)``, the normalisation of the summed depth.
    """

    roots: np.ndarray
    depth: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    leaf_depth: np.ndarray
    denominator: float

    @classmethod
    def from_forest(cls, forest: IsolationForest) -> FlatForest:
        """Flatten a fitted scikit-learn IsolationForest."""
        parts: list[tuple[np.ndarray, ...]] = []
        roots, depths = [], []
        offset = 0
        for tree, columns, path, average in zip(
            forest.estimators_,
            forest.estimators_features_,
            forest._decision_path_lengths,
            forest._average_path_length_per_tree,
            strict=True,
        ):
            t = tree.tree_
            order = _breadth_first(t.children_left, t.children_right)
            new_id = np.empty_like(order)
            new_id[order] = np.arange(len(order))
            leaf = t.children_left[order] == -1
            left = np.where(leaf, np.arange(len(order)), new_id[t.children_left[order]])
            feature = np.where(leaf, 0, np.asarray(columns)[np.maximum(t.feature[order], 0)])
            threshold = np.where(leaf, np.inf, t.threshold[order])
            # The same expression, in the same order, as scikit-learn's per-tree update.
            leaf_depth = (path + average - 1.0)[order]
            parts.append((feature, threshold, left + offset, leaf_depth))
            roots.append(offset)
            depths.append(t.max_depth)
            offset += t.node_count
        feature, threshold, left, leaf_depth = (np.concatenate(p) for p in zip(*parts, strict=True))
        return cls(
            roots=np.asarray(roots, dtype=np.int32),
            depth=np.asarray(depths, dtype=np.int32),
            feature=feature.astype(np.int32),
            threshold=threshold.astype(np.float64),
            left=left.astype(np.int32),
            leaf_depth=leaf_depth.astype(np.float64),
            denominator=float(
                len(forest.estimators_) * _average_path_length([forest._max_samples])[0]
            ),
        )


def _breadth_first(children_left: np.ndarray, children_right: np.ndarray) -> np.ndarray:
    """Node ids of a tree in an order where each node's children are adjacent."""
    order = [0]
    for node in order:  # the list grows while it is walked: a queue
        if children_left[node] != -1:
            order += (children_left[node], children_right[node])
    return np.asarray(order, dtype=np.intp)


#: Rows that walk one tree before the next tree is taken: their values (copied
#: column by column) and the tree's nodes stay in the first-level cache together.
_BLOCK_ROWS = 256


@numba.njit(nogil=True, cache=True)
def _summed_depths(
    X: np.ndarray,
    roots: np.ndarray,
    depth: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    left: np.ndarray,
    leaf_depth: np.ndarray,
) -> np.ndarray:
    n, n_columns = X.shape
    depths = np.zeros(n)
    nodes = np.empty(_BLOCK_ROWS, dtype=np.int32)
    block = np.empty((n_columns, _BLOCK_ROWS), dtype=X.dtype)
    for start in range(0, n, _BLOCK_ROWS):
        rows = min(_BLOCK_ROWS, n - start)
        # Column-major copy of the block: a step reads one column for many rows.
        for j in range(rows):
            for c in range(n_columns):
                block[c, j] = X[start + j, c]
        for t in range(roots.shape[0]):
            nodes[:rows] = roots[t]
            # One step of every row before the next step: the rows' walks are
            # independent, so the processor overlaps their loads.
            for _ in range(depth[t]):
                for j in range(rows):
                    node = nodes[j]
                    # float32 value against a float64 threshold, as scikit-learn
                    # compares; a leaf's infinite threshold keeps the row there.
                    nodes[j] = left[node] + (block[feature[node], j] > threshold[node])
            for j in range(rows):
                depths[start + j] += leaf_depth[nodes[j]]
    return depths


_FLAT: weakref.WeakKeyDictionary[IsolationForest, FlatForest] = weakref.WeakKeyDictionary()


def flat_forest(forest: IsolationForest) -> FlatForest:
    """The flattened trees of ``forest``, built once per fitted forest object."""
    flat = _FLAT.get(forest)
    if flat is None:
        flat = _FLAT[forest] = FlatForest.from_forest(forest)
    return flat


def forest_score_samples(forest: IsolationForest, X: np.ndarray) -> np.ndarray:
    """``forest.score_samples(X)`` for dense ``X``, computed in one compiled pass.

    Parameters
    ----------
    forest : sklearn.ensemble.IsolationForest
        A fitted forest.
    X : numpy.ndarray of shape (n_samples, n_features)
        Dense, finite events.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        Higher = more normal, exactly as scikit-learn computes it.
    """
    flat = flat_forest(forest)
    depths = _summed_depths(
        np.ascontiguousarray(X, dtype=np.float32),
        flat.roots,
        flat.depth,
        flat.feature,
        flat.threshold,
        flat.left,
        flat.leaf_depth,
    )
    # A forest of one-sample trees has a zero denominator; scikit-learn then
    # divides into ones (score 2 ** -1), and so does this.
    ratio = np.divide(
        depths, flat.denominator, out=np.ones_like(depths), where=flat.denominator != 0
    )
    return -(2 ** (-ratio))
