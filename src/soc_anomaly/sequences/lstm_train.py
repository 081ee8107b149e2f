"""Training the next-action LSTM with PyTorch on the CPU (the ``[deep]`` extra).

torch is imported inside the functions only, so importing this module (and the
rest of the package) works without it; :func:`require_torch` turns its absence
into one line saying how to install it. The trained model leaves as the plain
float32 arrays of :class:`~soc_anomaly.sequences.lstm.LSTMWeights`, which
:func:`~soc_anomaly.sequences.lstm.next_action_log_probs` scores with numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from soc_anomaly.errors import (
    DataError,
    check_positive_int,
    check_range,
    check_seed,
)
from soc_anomaly.sequences.lstm import LSTMWeights
from soc_anomaly.sequences.torch_check import require_torch, torch_available

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn

__all__ = ["fit_next_action_lstm", "require_torch", "torch_available"]


def _check_inputs(
    windows: np.ndarray, numeric: np.ndarray | None, targets: np.ndarray, n_actions: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    check_positive_int("n_actions", n_actions)
    windows = np.asarray(windows)
    targets = np.asarray(targets)
    if windows.ndim != 2 or not np.issubdtype(windows.dtype, np.integer) or not windows.size:
        raise DataError(
            f"lstm training windows must be a non-empty 2-D integer array, "
            f"got {windows.dtype} of shape {windows.shape}"
        )
    n, steps = windows.shape
    if windows.min() < -1 or windows.max() >= n_actions:
        raise DataError(
            f"lstm training windows must hold actions in [-1, {n_actions}), "
            f"got values from {windows.min()} to {windows.max()}"
        )
    if targets.shape != (n,) or not np.issubdtype(targets.dtype, np.integer):
        raise DataError(f"lstm targets must be {n} integers, got {targets.dtype} {targets.shape}")
    if targets.min() < 0 or targets.max() >= n_actions:
        raise DataError(
            f"lstm targets must be actions in [0, {n_actions}), "
            f"got values from {targets.min()} to {targets.max()}"
        )
    if numeric is not None:
        numeric = np.asarray(numeric, dtype=np.float32)
        if numeric.ndim != 3 or numeric.shape[:2] != (n, steps):
            raise DataError(
                f"lstm numeric inputs must have shape ({n}, {steps}, k), got {numeric.shape}"
            )
        if numeric.shape[2] == 0:
            numeric = None
        elif not np.isfinite(numeric).all():
            raise DataError("lstm numeric inputs hold a NaN or infinite value")
    return windows.astype(np.int64), numeric, targets.astype(np.int64)


def _weights_from_modules(embed: nn.Embedding, lstm: nn.LSTM, out: nn.Linear) -> LSTMWeights:
    """The arrays of trained torch modules (one layer, unidirectional LSTM)."""

    def arr(tensor: Any) -> np.ndarray:
        return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)

    weights = LSTMWeights(
        embed=arr(embed.weight),
        w_ih=arr(lstm.weight_ih_l0),
        w_hh=arr(lstm.weight_hh_l0),
        bias=arr(lstm.bias_ih_l0 + lstm.bias_hh_l0),
        w_out=arr(out.weight),
        b_out=arr(out.bias),
    )
    weights.check()
    return weights


def fit_next_action_lstm(
    windows: np.ndarray,
    numeric: np.ndarray | None,
    targets: np.ndarray,
    n_actions: int,
    *,
    embed_dim: int = 16,
    hidden: int = 32,
    epochs: int = 4,
    batch_size: int = 512,
    learning_rate: float = 0.005,
    max_windows: int = 200_000,
    random_state: int = 0,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> LSTMWeights:
    """Train a next-action LSTM on (window -> next action) pairs, on the CPU.

    An embedding of each action (row ``n_actions`` for the -1 "no action"),
    concatenated with the step's numeric inputs, feeds a one-layer LSTM whose
    last hidden state predicts the next action through a linear layer; Adam
    minimises the cross-entropy.

    Parameters
    ----------
    windows : ndarray of shape (N, h), int
        The ``h`` actions before each target, oldest first, in ``[-1, n_actions)``.
    numeric : ndarray of shape (N, h, k), float, or None
        Numeric inputs of each window step, already standardised by the caller.
    targets : ndarray of shape (N,), int
        The action that followed each window, in ``[0, n_actions)``.
    n_actions : int
        Size of the action vocabulary.
    embed_dim, hidden : int, default=16, 32
        Embedding and hidden sizes.
    epochs : int, default=4
        Passes over the (sampled) pairs.
    batch_size : int, default=512
        Pairs per gradient step.
    learning_rate : float, default=0.005
        Adam's step size.
    max_windows : int, default=200_000
        At most this many pairs are used: a seeded sample when there are more.
    random_state : int, default=0
        Seeds the sample, the shuffles and torch's initialisation.
    threads : int, optional
        torch's CPU threads while training, the previous setting restored
        afterwards. Default 1: the model is small, so a second thread saved a third
        of the time on an idle 2-core machine (9 s instead of 15 s for 200,000
        windows x 4 epochs) but made it ten times slower when other processes
        were busy (160 s), since OpenMP's threads wait for each other.
    log : callable, optional
        Called with one line per epoch (the mean training loss).

    Returns
    -------
    LSTMWeights
        float32 arrays, checked. Same inputs and seed on the same machine and thread
        count give byte-identical weights.

    Raises
    ------
    ParameterError
        When PyTorch is absent or a size is out of range.
    DataError
        When the arrays disagree in shape or hold values out of range.
    """
    require_torch()
    for name, value in (
        ("embed_dim", embed_dim),
        ("hidden", hidden),
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("max_windows", max_windows),
    ):
        check_positive_int(name, value)
    check_range("learning_rate", learning_rate, 0.0, 1.0, high_inclusive=True)
    check_seed("random_state", random_state)
    if threads is not None:
        check_positive_int("threads", threads)
    windows, numeric, targets = _check_inputs(windows, numeric, targets, n_actions)

    rng = np.random.default_rng(random_state)
    if len(windows) > max_windows:
        # Sorted, so the sample keeps the data's order (it does not matter to training,
        # but it makes the sample easy to inspect).
        keep = np.sort(rng.choice(len(windows), size=max_windows, replace=False))
        windows, targets = windows[keep], targets[keep]
        numeric = None if numeric is None else numeric[keep]
    # The "no action" value -1 becomes the embedding's last row.
    windows = np.where(windows < 0, n_actions, windows)

    import torch  # the [deep] extra; imported here so the core install never needs it

    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads or 1)
    torch.use_deterministic_algorithms(True)
    try:
        # fork_rng: seeding here leaves the caller's global torch RNG as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(random_state)
            return _train(
                torch, windows, numeric, targets, n_actions, embed_dim, hidden,
                epochs, batch_size, learning_rate, rng, log,
            )  # fmt: skip
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        torch.set_num_threads(previous_threads)


def _train(
    torch: Any,
    windows: np.ndarray,
    numeric: np.ndarray | None,
    targets: np.ndarray,
    n_actions: int,
    embed_dim: int,
    hidden: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    log: Callable[[str], None] | None,
) -> LSTMWeights:
    from torch import nn

    n_numeric = 0 if numeric is None else numeric.shape[2]
    embed = nn.Embedding(n_actions + 1, embed_dim)
    lstm = nn.LSTM(embed_dim + n_numeric, hidden, batch_first=True)
    out = nn.Linear(hidden, n_actions)
    params = [*embed.parameters(), *lstm.parameters(), *out.parameters()]
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()

    x_act = torch.from_numpy(windows)
    x_num = None if numeric is None else torch.from_numpy(numeric)
    y = torch.from_numpy(targets)
    n = len(y)
    for epoch in range(epochs):
        order = torch.from_numpy(rng.permutation(n))
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            inputs = embed(x_act[idx])
            if x_num is not None:
                inputs = torch.cat([inputs, x_num[idx]], dim=2)
            hidden_states, _ = lstm(inputs)
            loss = loss_fn(out(hidden_states[:, -1, :]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        if log is not None:
            log(f"lstm epoch {epoch + 1}/{epochs}: loss {total / n:.4f} on {n:,} windows")
    return _weights_from_modules(embed, lstm, out)
