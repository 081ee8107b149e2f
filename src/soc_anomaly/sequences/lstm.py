"""DeepLog-style next-action LSTM: inference with numpy only.

A trained model is a handful of float32 arrays (:class:`LSTMWeights`), so it
saves without pickle and scores without PyTorch: :func:`next_action_log_probs`
runs the LSTM over each window with numpy matrix products, and
:func:`surprise_and_rank` turns the log-probabilities into DeepLog's two
scores. Training lives in :mod:`soc_anomaly.sequences.lstm_train` (PyTorch, the
``[deep]`` extra); nothing here imports torch.

The numeric inputs of each step are used as given: the caller standardises
them (with statistics of the training window) before training and scoring.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from soc_anomaly.errors import DataError, ModelError

__all__ = ["LSTMWeights", "next_action_log_probs", "surprise_and_rank"]

#: Held while a forward pass runs with its process-wide BLAS thread limit.
_ONE_AT_A_TIME = threading.Lock()

# The arrays of a model, in the order they are saved.
_NAMES = ("embed", "w_ih", "w_hh", "bias", "w_out", "b_out")
_NDIM = {"embed": 2, "w_ih": 2, "w_hh": 2, "bias": 1, "w_out": 2, "b_out": 1}


@dataclass
class LSTMWeights:
    """A trained next-action LSTM as plain arrays (skops-safe: no pickle, no torch).

    Parameters
    ----------
    embed : ndarray of shape (n_actions + 1, embed_dim)
        Action embeddings; row ``n_actions`` is "no action" (a step before the
        start of the sequence, window value -1).
    w_ih : ndarray of shape (4 * hidden, embed_dim + n_numeric)
        Input-to-hidden weights in PyTorch's gate order (input, forget, cell, output);
        the first ``embed_dim`` columns read the embedding, the rest the numeric inputs.
    w_hh : ndarray of shape (4 * hidden, hidden)
        Hidden-to-hidden weights, same gate order.
    bias : ndarray of shape (4 * hidden,)
        ``b_ih + b_hh``.
    w_out : ndarray of shape (n_actions, hidden)
        Output layer from the last hidden state to the next action's logits.
    b_out : ndarray of shape (n_actions,)
        Output bias.
    """

    embed: np.ndarray
    w_ih: np.ndarray
    w_hh: np.ndarray
    bias: np.ndarray
    w_out: np.ndarray
    b_out: np.ndarray

    @property
    def n_actions(self) -> int:
        """Number of actions the model predicts."""
        return int(self.w_out.shape[0])

    @property
    def hidden(self) -> int:
        """Size of the LSTM's hidden state."""
        return int(self.w_hh.shape[1])

    @property
    def embed_dim(self) -> int:
        """Size of an action embedding."""
        return int(self.embed.shape[1])

    @property
    def n_numeric(self) -> int:
        """Number of numeric inputs per step (0 when the model reads actions only)."""
        return int(self.w_ih.shape[1]) - self.embed_dim

    def check(self) -> None:
        """Check that the arrays agree with each other and hold finite float32 values.

        Raises
        ------
        ModelError
            Naming the first array with a wrong type, shape or a non-finite value.
        """
        for name in _NAMES:
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.dtype != np.float32:
                kind = getattr(value, "dtype", type(value).__name__)
                raise ModelError(f"lstm weights: {name} must be a float32 array, got {kind}")
        for name, ndim in _NDIM.items():
            if getattr(self, name).ndim != ndim:
                shape = getattr(self, name).shape
                raise ModelError(f"lstm weights: {name} must be {ndim}-D, got shape {shape}")
        n, e, h = self.w_out.shape[0], self.embed.shape[1], self.w_hh.shape[1]
        k = self.w_ih.shape[1] - e
        for name, size in (("w_out", n), ("embed", e), ("w_hh", h), ("w_ih", k + 1)):
            if size < 1:
                shape = getattr(self, name).shape
                raise ModelError(f"lstm weights: {name} has an impossible shape {shape}")
        expected = {
            "embed": (n + 1, e),
            "w_ih": (4 * h, e + k),
            "w_hh": (4 * h, h),
            "bias": (4 * h,),
            "w_out": (n, h),
            "b_out": (n,),
        }
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ModelError(f"lstm weights: {name} has shape {got}, expected {shape}")
        for name in _NAMES:
            if not np.isfinite(getattr(self, name)).all():
                raise ModelError(f"lstm weights: {name} holds a NaN or infinite value")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name (``embed``, ``w_ih``, ``w_hh``, ``bias``, ``w_out``, ``b_out``)."""
        return {name: getattr(self, name) for name in _NAMES}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LSTMWeights:
        """Build and :meth:`check` weights from arrays by name (e.g. read from a bundle).

        Parameters
        ----------
        arrays : dict of str to ndarray
            Exactly the names of :meth:`to_arrays`; real floating arrays, cast to float32.

        Raises
        ------
        ModelError
            When a name is missing or unknown, an array is not real floating point,
            or :meth:`check` fails.
        """
        missing = [name for name in _NAMES if name not in arrays]
        if missing:
            raise ModelError(f"lstm weights: array {missing[0]} is missing")
        unknown = sorted(str(name) for name in arrays if name not in _NAMES)
        if unknown:
            raise ModelError(f"lstm weights: unknown array {unknown[0]!r}")
        values = {}
        for name in _NAMES:
            value = arrays[name]
            if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
                kind = getattr(value, "dtype", type(value).__name__)
                raise ModelError(f"lstm weights: {name} must be a floating array, got {kind}")
            values[name] = np.ascontiguousarray(value, dtype=np.float32)
        weights = cls(**values)
        weights.check()
        return weights


@dataclass
class _Prepared:
    """The weights rearranged for the numpy forward pass.

    The embedding's share of the input gates is one table lookup per action
    (``embed @ w_ih[:, :E].T + bias``), so a step costs one small product with
    ``w_hh`` (and one with the numeric columns). The rows of the sigmoid gates
    (input, forget, output) are halved, so one ``tanh`` over all gates gives
    them as ``sigmoid(x) = (1 + tanh(x / 2)) / 2``; halving is exact in floating point.
    """

    table: np.ndarray  # (n_actions + 1, 4H)
    w_num_t: np.ndarray | None  # (n_numeric, 4H)
    w_hh_t: np.ndarray  # (H, 4H)
    w_out_t: np.ndarray  # (H, n_actions)
    b_out: np.ndarray  # (n_actions,)
    hidden: int


def _prepare(weights: LSTMWeights) -> _Prepared:
    h, e = weights.hidden, weights.embed_dim
    scale = np.full(4 * h, 0.5, dtype=np.float32)
    scale[2 * h : 3 * h] = 1.0  # the cell gate is a tanh
    w_emb = weights.w_ih[:, :e]
    table = (weights.embed @ w_emb.T + weights.bias) * scale
    w_num_t = None
    if weights.n_numeric:
        w_num_t = np.ascontiguousarray((weights.w_ih[:, e:] * scale[:, None]).T)
    return _Prepared(
        table=np.ascontiguousarray(table, dtype=np.float32),
        w_num_t=w_num_t,
        w_hh_t=np.ascontiguousarray((weights.w_hh * scale[:, None]).T),
        w_out_t=np.ascontiguousarray(weights.w_out.T),
        b_out=weights.b_out,
        hidden=h,
    )


def _forward(prep: _Prepared, windows: np.ndarray, numeric: np.ndarray | None) -> np.ndarray:
    """Log-probabilities of the next action for one batch of windows."""
    h = prep.hidden
    n, steps = windows.shape
    state = np.zeros((n, h), dtype=np.float32)
    cell = np.zeros((n, h), dtype=np.float32)
    for t in range(steps):
        # A window value of -1 indexes the table's last row: the "no action" embedding.
        gates = prep.table[windows[:, t]]
        if numeric is not None:
            gates += numeric[:, t, :] @ prep.w_num_t
        gates += state @ prep.w_hh_t
        np.tanh(gates, out=gates)
        i_gate, f_gate, g_gate, o_gate = (gates[:, j * h : (j + 1) * h] for j in range(4))
        for sig in (i_gate, f_gate, o_gate):
            sig += 1.0
            sig *= 0.5
        cell *= f_gate
        cell += i_gate * g_gate
        state = o_gate * np.tanh(cell)
    logits = state @ prep.w_out_t
    logits += prep.b_out
    logits -= logits.max(axis=1, keepdims=True)
    logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return logits


def next_action_log_probs(
    weights: LSTMWeights,
    windows: np.ndarray,
    numeric: np.ndarray | None = None,
    *,
    batch: int = 4096,
) -> np.ndarray:
    """Log-probabilities of the action that follows each window.

    Parameters
    ----------
    weights : LSTMWeights
        A checked model.
    windows : ndarray of shape (N, h), int
        The ``h`` actions before each event, oldest first, values in
        ``[-1, n_actions)``; -1 means "no action" (a step before the sequence's start).
    numeric : ndarray of shape (N, h, n_numeric), float, optional
        The numeric inputs of each window step, standardised by the caller; given
        if and only if the model has numeric inputs.
    batch : int, default=4096
        Windows run at a time; memory is bounded by it, not by N. A few thousand
        keep a step's arrays in the CPU cache (twice as fast here as 32768).

    Returns
    -------
    ndarray of shape (N, n_actions), float32
        The log-softmax of the last hidden state's logits. A row does not depend on
        the other rows or on ``batch``.

    Raises
    ------
    DataError
        When the shapes disagree with the model or a window value is out of range.
    """
    windows = np.asarray(windows)
    if windows.ndim != 2 or not np.issubdtype(windows.dtype, np.integer):
        raise DataError(
            f"lstm windows must be a 2-D integer array, got {windows.dtype} "
            f"of shape {windows.shape}"
        )
    if batch < 1:
        raise DataError(f"lstm batch must be at least 1, got {batch}")
    n, steps = windows.shape
    if windows.size and (windows.min() < -1 or windows.max() >= weights.n_actions):
        raise DataError(
            f"lstm windows must hold actions in [-1, {weights.n_actions}), "
            f"got values from {windows.min()} to {windows.max()}"
        )
    if weights.n_numeric:
        if numeric is None:
            raise DataError(f"the lstm model reads {weights.n_numeric} numeric inputs, none given")
        numeric = np.asarray(numeric, dtype=np.float32)
        if numeric.shape != (n, steps, weights.n_numeric):
            raise DataError(
                f"lstm numeric inputs have shape {numeric.shape}, "
                f"expected {(n, steps, weights.n_numeric)}"
            )
    elif numeric is not None and np.asarray(numeric).size:
        raise DataError("the lstm model reads no numeric inputs, but some were given")
    else:
        numeric = None
    # int64 indices: the -1 of "no action" must stay negative whatever the input dtype.
    windows = windows.astype(np.int64, copy=False)
    prep = _prepare(weights)
    out = np.empty((n, weights.n_actions), dtype=np.float32)

    def run(start: int) -> None:
        stop = min(start + batch, n)
        part = None if numeric is None else numeric[start:stop]
        out[start:stop] = _forward(prep, windows[start:stop], part)

    starts = range(0, n, batch)
    # The matrices are small: a BLAS thread pool per product costs more than it
    # saves (half the speed on two cores), so batches run on the cores instead,
    # each product on one thread (numpy releases the GIL inside them). The BLAS
    # limit is process-wide: one forward at a time sets and restores it, so two
    # threads scoring at once (the service) cannot leave it set.
    with _ONE_AT_A_TIME, threadpool_limits(1, user_api="blas"):
        if len(starts) < 2:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(min(len(starts), _cores())) as pool:
                list(pool.map(run, starts))
    return out


def _cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def surprise_and_rank(log_probs: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeepLog's scores of the actions that did follow.

    Parameters
    ----------
    log_probs : ndarray of shape (N, n_actions)
        From :func:`next_action_log_probs`.
    actual : ndarray of shape (N,), int
        The action that followed each window, in ``[0, n_actions)``.

    Returns
    -------
    surprise : ndarray of shape (N,), float64
        ``-log2 p(actual)``, in bits.
    rank : ndarray of shape (N,), int64
        1 + the number of actions with a strictly higher probability (1 = the most
        likely). DeepLog calls an event anomalous when its rank is above ``g``.
    """
    log_probs = np.asarray(log_probs)
    actual = np.asarray(actual)
    if log_probs.ndim != 2 or actual.shape != (log_probs.shape[0],):
        raise DataError(
            f"surprise_and_rank needs (N, n_actions) log-probabilities and N actions, "
            f"got shapes {log_probs.shape} and {actual.shape}"
        )
    if actual.size and (actual.min() < 0 or actual.max() >= log_probs.shape[1]):
        raise DataError(
            f"actions must be in [0, {log_probs.shape[1]}), "
            f"got values from {actual.min()} to {actual.max()}"
        )
    picked = np.take_along_axis(log_probs, actual.astype(np.intp)[:, None], axis=1)
    surprise = -picked[:, 0].astype(np.float64) / np.log(2.0)
    rank = 1 + (log_probs > picked).sum(axis=1, dtype=np.int64)
    return surprise, rank
