"""Column means and standard deviations of large matrices, without a matrix-sized temporary."""

from __future__ import annotations

import numpy as np

__all__ = ["column_mean_std"]

#: Rows per block: the deviations of one block stay in cache-sized memory.
BLOCK_ROWS = 1 << 16


def column_mean_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation of each column of ``X``.

    ``X.std(axis=0)`` holds the deviations of every row at once: half a
    gigabyte for eight million events of eight features, allocated afresh for
    each model. Above :data:`BLOCK_ROWS` rows the squared deviations are summed
    block by block instead (the same two-pass formula, so as accurate); up to
    it the result is numpy's, bit for bit.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        Finite numbers, at least one row.

    Returns
    -------
    mean, std : numpy.ndarray of shape (n_features,)
    """
    mean = X.mean(axis=0)
    if len(X) <= BLOCK_ROWS:
        return mean, X.std(axis=0)
    squares = np.zeros(X.shape[1])
    for start in range(0, len(X), BLOCK_ROWS):
        d = X[start : start + BLOCK_ROWS] - mean
        squares += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(squares / len(X))
