"""The next-action LSTM engine: numpy inference, torch training, saved arrays."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from soc_anomaly.errors import DataError, ModelError, ParameterError
from soc_anomaly.sequences import lstm_train, torch_check
from soc_anomaly.sequences.lstm import LSTMWeights, next_action_log_probs, surprise_and_rank

NO_TORCH = "PyTorch is the optional [deep] extra; the README's test command installs it"


def _torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def _random_modules(n_actions: int, embed_dim: int, hidden: int, n_numeric: int):
    torch = _torch()
    from torch import nn

    torch.manual_seed(3)
    embed = nn.Embedding(n_actions + 1, embed_dim)
    lstm = nn.LSTM(embed_dim + n_numeric, hidden, batch_first=True)
    out = nn.Linear(hidden, n_actions)
    # Larger weights than the default init, so the gates saturate somewhere too.
    with torch.no_grad():
        for p in [*embed.parameters(), *lstm.parameters(), *out.parameters()]:
            p.mul_(3.0)
    return embed, lstm, out


def _torch_log_probs(modules, windows, numeric, n_actions):
    torch = _torch()
    embed, lstm, out = modules
    with torch.no_grad():
        x = embed(torch.from_numpy(np.where(windows < 0, n_actions, windows)))
        if numeric is not None:
            x = torch.cat([x, torch.from_numpy(numeric)], dim=2)
        states, _ = lstm(x)
        return torch.log_softmax(out(states[:, -1, :]), dim=1).numpy()


@pytest.mark.parametrize("n_numeric", [0, 2])
def test_numpy_forward_matches_torch_and_does_not_depend_on_the_batch(n_numeric: int) -> None:
    n_actions, steps, n = 7, 5, 300
    modules = _random_modules(n_actions, 4, 6, n_numeric)
    weights = lstm_train._weights_from_modules(*modules)
    assert (weights.n_actions, weights.hidden, weights.n_numeric) == (7, 6, n_numeric)
    rng = np.random.default_rng(0)
    windows = rng.integers(0, n_actions, size=(n, steps))
    # Sequence starts: the first steps of some windows are "no action".
    for row, pad in enumerate(rng.integers(0, steps + 1, size=n)):
        windows[row, :pad] = -1
    assert (windows == -1).all(axis=1).any() and (windows == -1).any(axis=1).mean() > 0.5
    numeric = None
    if n_numeric:
        numeric = rng.normal(0, 2, size=(n, steps, n_numeric)).astype(np.float32)

    got = next_action_log_probs(weights, windows, numeric)
    expected = _torch_log_probs(modules, windows, numeric, n_actions)
    assert got.dtype == np.float32 and got.shape == (n, n_actions)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    # A row's result depends on that row only.
    for batch in (1, 7, 64, 10_000):
        assert np.array_equal(next_action_log_probs(weights, windows, numeric, batch=batch), got)
    assert np.array_equal(
        next_action_log_probs(weights, windows[5:9], None if numeric is None else numeric[5:9]),
        got[5:9],
    )


def test_forward_refuses_windows_that_do_not_fit_the_model() -> None:
    rng = np.random.default_rng(1)
    f32 = lambda *shape: rng.normal(size=shape).astype(np.float32)  # noqa: E731
    weights = LSTMWeights(f32(4, 2), f32(12, 3), f32(12, 3), f32(12), f32(3, 3), f32(3))
    assert weights.n_numeric == 1
    windows = np.zeros((2, 4), dtype=np.int32)
    numeric = np.zeros((2, 4, 1))
    assert next_action_log_probs(weights, windows, numeric).shape == (2, 3)
    with pytest.raises(DataError, match=r"\[-1, 3\)"):
        next_action_log_probs(weights, windows + 3, numeric)
    with pytest.raises(DataError, match="numeric inputs, none given"):
        next_action_log_probs(weights, windows)
    with pytest.raises(DataError, match="shape"):
        next_action_log_probs(weights, windows, np.zeros((2, 4, 2)))


def test_surprise_is_in_bits_and_rank_counts_strictly_more_likely_actions() -> None:
    log_probs = np.log(np.array([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75]], dtype=np.float32))
    surprise, rank = surprise_and_rank(log_probs, np.array([1, 2]))
    np.testing.assert_allclose(surprise, [2.0, 0.415037], rtol=1e-5)
    assert surprise.dtype == np.float64
    assert rank.tolist() == [2, 1]
    assert surprise_and_rank(log_probs, np.array([0, 0]))[1].tolist() == [1, 2]
    with pytest.raises(DataError, match=r"\[0, 3\)"):
        surprise_and_rank(log_probs, np.array([0, 3]))


def _weights() -> LSTMWeights:
    rng = np.random.default_rng(2)
    f32 = lambda *shape: rng.normal(size=shape).astype(np.float32)  # noqa: E731
    return LSTMWeights(f32(6, 3), f32(16, 5), f32(16, 4), f32(16), f32(5, 4), f32(5))


def test_weights_round_trip_and_refuse_a_wrong_shape_nan_or_type_naming_the_array() -> None:
    weights = _weights()
    arrays = weights.to_arrays()
    back = LSTMWeights.from_arrays(arrays)
    assert all(np.array_equal(arrays[k], v) for k, v in back.to_arrays().items())
    assert (back.n_actions, back.hidden, back.embed_dim, back.n_numeric) == (5, 4, 3, 2)

    cases = {
        "bias": arrays["bias"][:-1],
        "embed": arrays["embed"][:-1],
        "w_hh": np.where(np.eye(16, 4, dtype=bool), np.nan, arrays["w_hh"]),
        "b_out": np.full(5, np.inf, dtype=np.float32),
        "w_out": arrays["w_out"].astype(np.int64),
        "w_ih": arrays["w_ih"][None],
    }
    for name, bad in cases.items():
        with pytest.raises(ModelError, match=rf"lstm weights: {name}\b"):
            LSTMWeights.from_arrays({**arrays, name: bad})
    with pytest.raises(ModelError, match="w_out is missing"):
        LSTMWeights.from_arrays({k: v for k, v in arrays.items() if k != "w_out"})
    with pytest.raises(ModelError, match="unknown array 'extra'"):
        LSTMWeights.from_arrays({**arrays, "extra": arrays["bias"]})


def test_require_torch_says_in_one_line_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(torch_check.importlib.util, "find_spec", lambda name: None)
    assert not torch_check.torch_available()
    with pytest.raises(ParameterError) as caught:
        torch_check.require_torch()
    message = str(caught.value)
    assert "\n" not in message and "soc-anomaly[deep]" in message and "CPU" in message


def test_the_engine_imports_without_torch() -> None:
    code = (
        "import sys, soc_anomaly.sequences.lstm, soc_anomaly.sequences.lstm_train; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _grammar(n_sequences: int, seed: int, steps: int = 4):
    """Sequences cycling 0 -> 1 -> 2 -> 3 -> (0 or, one time in three, 4 -> 0).

    The numeric input of a 3 says which branch follows (+1 before a 4), so a model
    that reads it can predict the branch too. Action 5 never occurs.
    """
    rng = np.random.default_rng(seed)
    windows, numeric, targets = [], [], []
    for _ in range(n_sequences):
        seq, num = [], []
        state = int(rng.integers(0, 4))
        for _ in range(int(rng.integers(8, 20))):
            seq.append(state)
            if state == 3:
                branch = rng.random() < 1 / 3
                num.append(1.0 if branch else -1.0)
                state = 4 if branch else 0
            else:
                num.append(0.0)
                state = 0 if state == 4 else state + 1
        padded = [-1] * steps + seq
        padded_num = [0.0] * steps + num
        for end in range(steps, len(padded)):
            windows.append(padded[end - steps : end])
            numeric.append(padded_num[end - steps : end])
            targets.append(padded[end])
    numeric = np.asarray(numeric, dtype=np.float32)[:, :, None]
    return np.asarray(windows), numeric, np.asarray(targets)


def test_training_learns_a_toy_grammar() -> None:
    _torch()
    windows, numeric, targets = _grammar(300, seed=0)
    lines: list[str] = []
    weights = lstm_train.fit_next_action_lstm(
        windows, numeric, targets, 6, embed_dim=8, hidden=16, epochs=6, batch_size=64,
        learning_rate=0.02, threads=1, log=lines.append,
    )  # fmt: skip
    assert len(lines) == 6 and lines[0].startswith("lstm epoch 1/6: loss ")
    test_windows, test_numeric, test_targets = _grammar(100, seed=1)
    log_probs = next_action_log_probs(weights, test_windows, test_numeric)
    surprise, rank = surprise_and_rank(log_probs, test_targets)
    started = test_windows[:, -1] >= 0
    # Deterministic steps, and the branch after a 3 given its numeric input.
    assert (rank[started] == 1).mean() > 0.97
    assert np.median(surprise[started]) < 0.2
    impossible, impossible_rank = surprise_and_rank(log_probs, np.full(len(log_probs), 5))
    assert np.median(impossible) > 6 and (impossible_rank[started] > 2).all()
    # The same windows without the numeric input the model was trained on are refused.
    with pytest.raises(DataError):
        next_action_log_probs(weights, test_windows)


def test_training_is_deterministic_per_seed_and_leaves_torch_settings_as_they_were() -> None:
    torch = _torch()
    windows, numeric, targets = _grammar(40, seed=2)
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    rng_state = torch.get_rng_state()
    fit = lambda seed: lstm_train.fit_next_action_lstm(  # noqa: E731
        windows, numeric, targets, 6, embed_dim=4, hidden=8, epochs=2, batch_size=32,
        max_windows=300, random_state=seed, threads=2,
    ).to_arrays()  # fmt: skip
    first, again, other = fit(0), fit(0), fit(1)
    assert len(windows) > 300
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["w_hh"], other["w_hh"])
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert LSTMWeights.from_arrays(first).n_numeric == 1


def test_training_refuses_bad_inputs() -> None:
    _torch()
    windows, numeric, targets = _grammar(5, seed=3)
    fit = lstm_train.fit_next_action_lstm
    with pytest.raises(DataError, match=r"targets must be actions in \[0, 6\)"):
        fit(windows, None, targets + 2, 6)
    with pytest.raises(DataError, match=r"windows must hold actions in \[-1, 4\)"):
        fit(windows, None, targets % 4, 4)
    with pytest.raises(DataError, match="numeric inputs must have shape"):
        fit(windows, numeric[:-1], targets, 6)
    with pytest.raises(ParameterError, match="hidden"):
        fit(windows, None, targets, 6, hidden=0)
