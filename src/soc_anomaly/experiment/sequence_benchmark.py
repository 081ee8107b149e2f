"""The real-sequences benchmark: next-key models on sessions of log keys (DeepLog's HDFS setting).

Protocol (:func:`run_sequence_benchmark`):

1. Read the folder (:mod:`soc_anomaly.experiment.sequence_files`): normal
   training sessions, abnormal test sessions and, when the folder has them,
   normal test sessions. Without a normal test file a seeded 20% of the
   training sessions is held out as the normal test sessions.
2. Code the keys by the vocabulary of the (remaining) training sessions; a key
   never seen in them is one "unknown" code, which every method treats as
   maximally surprising (its event is anomalous).
3. Fit each method on the training sessions alone and flag a test session
   when any of its events is anomalous:

   * ``markov``: the key is not among the ``top_g`` most probable keys after
     the session's last three keys (the population n-gram of
     :mod:`soc_anomaly.sequences.ngram`, Witten-Bell back-off from order 3 to
     0; a session's start is a context of its own), or it is unknown. The rank
     counts the keys strictly more probable, so ties are not held against the key.
   * ``lstm``: DeepLog: the last ``window`` keys (padded with "before the
     start") -> the next key by a small LSTM
     (:mod:`soc_anomaly.sequences.lstm_train`), anomalous when not in the top
     ``top_g`` or unknown.
   * ``unseen_pair``: a pair of consecutive keys, (start, first key) included,
     that no training session has.

4. Over sessions: precision, recall and F1 of the abnormal class, and the
   false-positive rate (flagged normal test sessions / normal test sessions).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from soc_anomaly.errors import DataError, ParameterError, check_positive_int, check_seed
from soc_anomaly.experiment.sequence_files import (
    Sessions,
    find_session_files,
    read_sessions,
    sorted_tokens,
)
from soc_anomaly.sequences.ngram import distribution, fit_ngram, histories

__all__ = [
    "HOLDOUT_FRACTION",
    "METHODS",
    "MethodResult",
    "SequenceBenchmark",
    "SequenceSplit",
    "load_split",
    "markov_flags",
    "run_sequence_benchmark",
    "unseen_pair_flags",
]

#: Methods of the benchmark, in the order they are run and printed.
METHODS = ("markov", "lstm", "unseen_pair")
#: Share of the training sessions held out as normal test sessions when the
#: folder has no normal test file.
HOLDOUT_FRACTION = 0.2
#: The n-gram's longest context (DeepLog's markov baselines read the last few keys).
MARKOV_ORDER = 3
# Rows of the (rows x keys) probability table scored at once: bounds the memory.
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class SequenceSplit:
    """The coded sessions of one run of the protocol.

    Attributes
    ----------
    train, normal, abnormal : Sessions
        Training sessions, normal and abnormal test sessions; codes in
        ``[0, n_keys]``, where ``n_keys`` is the unknown key (the methods add
        :attr:`end` after each session).
    n_keys : int
        Distinct keys of the training sessions.
    held_out : bool
        Whether ``normal`` was held out of the training file (no normal test file).
    files : dict
        Kind (``train``, ``test_normal``, ``test_abnormal``) -> file name.
    """

    train: Sessions
    normal: Sessions
    abnormal: Sessions
    n_keys: int
    held_out: bool
    files: dict[str, str] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """Code of a session's end, the event every method also predicts."""
        return self.n_keys + 1

    @property
    def n_actions(self) -> int:
        """Actions of the models: the keys, the unknown key and the end."""
        return self.n_keys + 2


def load_split(folder: Path, seed: int = 0) -> SequenceSplit:
    """Read a folder of session files and code it by the training vocabulary.

    Parameters
    ----------
    folder : pathlib.Path
        The folder (see :func:`~soc_anomaly.experiment.sequence_files.find_session_files`).
    seed : int, default=0
        Seed of the held-out 20% when there is no normal test file.

    Returns
    -------
    SequenceSplit

    Raises
    ------
    soc_anomaly.errors.DataError
        A missing, empty, binary or absurd file (one line), or too few
        training sessions to hold some out.
    """
    check_seed("--seed", seed)
    files = find_session_files(folder)
    seen: dict[str, int] = {}
    everything = read_sessions(files["train"], seen, grow=True)
    held_out = "test_normal" not in files
    if held_out:
        n = len(everything)
        n_out = round(HOLDOUT_FRACTION * n)
        if n_out < 1 or n_out >= n:
            raise DataError(
                f"{files['train']} holds {n} session(s); expected at least 3 to hold out "
                f"{HOLDOUT_FRACTION:.0%} as normal test sessions (or a *test_normal* file)"
            )
        order = np.random.default_rng(seed).permutation(n)
        normal_raw = everything.take(np.sort(order[:n_out]))
        train_raw = everything.take(np.sort(order[n_out:]))
    else:
        train_raw, normal_raw = everything, None
    # The vocabulary is the training sessions' own: a key only the held-out
    # sessions have is as unknown to the models as one only the test files have.
    tokens = list(seen)
    present = np.zeros(len(tokens), dtype=bool)
    present[train_raw.codes] = True
    known = sorted_tokens([tokens[i] for i in np.flatnonzero(present)])
    vocabulary = {token: code for code, token in enumerate(known)}
    n_keys = len(known)
    mapping = np.array([vocabulary.get(t, n_keys) for t in tokens], dtype=np.int64)
    train = train_raw.recode(mapping)
    if normal_raw is not None:
        normal = normal_raw.recode(mapping)
    else:
        normal = read_sessions(files["test_normal"], vocabulary, grow=False, unknown=n_keys)
    abnormal = read_sessions(files["test_abnormal"], vocabulary, grow=False, unknown=n_keys)
    return SequenceSplit(
        train, normal, abnormal, n_keys, held_out, {k: p.name for k, p in files.items()}
    )


def session_flags(sessions: Sessions, anomalous: np.ndarray) -> np.ndarray:
    """A session is flagged when any of its events is anomalous."""
    return np.logical_or.reduceat(anomalous, sessions.offsets[:-1])


def _gram_keys(hist: np.ndarray, actions: np.ndarray, n: int, base: int) -> tuple:
    """Integer keys of each event's last ``n`` keys, and of those plus its own key."""
    context = np.zeros(len(actions), dtype=np.int64)
    for k in range(n):
        context = context * base + np.where(hist[:, k] < 0, base - 1, hist[:, k])
    return context, context * base + actions


def unseen_continuation(
    train: Sessions, sessions: Sessions, order: int, n_actions: int
) -> np.ndarray:
    """Per event: its key never followed its context in training, at the longest order seen.

    The context is the last ``order`` keys when training has it, else the last
    ``order - 1``, ... down to none (the key was never seen at all): the
    n-gram's maximum-likelihood probability at the order it trusts is 0.
    """
    base = n_actions + 1  # the codes, and the start
    fitted = histories(train.session_of_event(), train.codes, order)
    hist = histories(sessions.session_of_event(), sessions.codes, order)
    decided = np.zeros(len(sessions.codes), dtype=bool)
    unseen = np.zeros(len(sessions.codes), dtype=bool)
    for n in range(order, -1, -1):
        seen_context, seen_gram = _gram_keys(fitted, train.codes, n, base)
        context, gram = _gram_keys(hist, sessions.codes, n, base)
        here = ~decided & np.isin(context, seen_context)
        unseen[here] = ~np.isin(gram[here], seen_gram)
        decided |= here
    return unseen


def unseen_pair_flags(split: SequenceSplit) -> list[np.ndarray]:
    """Flags of the abnormal and normal test sessions: a pair of keys no training session has.

    The start and the end of a session are keys of their own, so an unusual
    first or last key counts; an unknown key makes every pair it is in unseen.
    """
    train = split.train.with_end(split.end)
    known = np.unique(_pairs(train, split.n_actions))
    flags = []
    for sessions in (split.abnormal, split.normal):
        sessions = sessions.with_end(split.end)
        anomalous = ~np.isin(_pairs(sessions, split.n_actions), known)
        flags.append(session_flags(sessions, anomalous | (sessions.codes == split.n_keys)))
    return flags


def _pairs(sessions: Sessions, n_actions: int) -> np.ndarray:
    return _gram_keys(
        histories(sessions.session_of_event(), sessions.codes, 1), sessions.codes, 1, n_actions + 1
    )[1]


def rank_of_actual(
    scores: Callable[[np.ndarray], np.ndarray], n_columns: int, contexts: np.ndarray, actual
) -> np.ndarray:
    """1 + the keys strictly more probable than the actual one, per event.

    ``scores(contexts)`` gives the (rows x ``n_columns``) probabilities (or
    log-probabilities) of the keys after each context row. It is called once per
    distinct (context, key) row, in chunks, so the table stays small whatever
    the number of events.
    """
    rows, inverse = np.unique(np.column_stack([contexts, actual]), axis=0, return_inverse=True)
    rank = np.empty(len(rows), dtype=np.int64)
    size = max(1, _CHUNK_CELLS // n_columns)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        table = scores(chunk[:, :-1])
        mine = table[np.arange(len(chunk)), chunk[:, -1]]
        rank[start : start + size] = 1 + (table > mine[:, None]).sum(axis=1)
    return rank[inverse.reshape(-1)]


def markov_flags(split: SequenceSplit, top_g: int, order: int = MARKOV_ORDER) -> list[np.ndarray]:
    """Flags of the abnormal and normal test sessions by the n-gram's rule.

    An event is anomalous when its key is outside the ``top_g`` most probable
    after the session's last ``order`` keys, or never followed that context in
    training (:func:`unseen_continuation`), or is unknown. The n-gram is the
    population's (sessions are not entities with a history of their own); its
    actions are the vocabulary, the unknown key (which training never sees: a
    context that holds it is a context never seen) and the session's end.
    """
    train = split.train.with_end(split.end)
    hist = histories(train.session_of_event(), train.codes, order)
    tables = fit_ngram(train.codes, hist, split.n_actions, order=order)
    flags = []
    for sessions in (split.abnormal, split.normal):
        sessions = sessions.with_end(split.end)
        hist = histories(sessions.session_of_event(), sessions.codes, order)
        rank = rank_of_actual(
            lambda h: distribution(tables, h), split.n_actions, hist, sessions.codes
        )
        anomalous = (rank > top_g) | (sessions.codes == split.n_keys)
        anomalous |= unseen_continuation(train, sessions, order, split.n_actions)
        flags.append(session_flags(sessions, anomalous))
    return flags


@dataclass(frozen=True)
class MethodResult:
    """One method's figures over the test sessions."""

    method: str
    precision: float
    recall: float
    f1: float
    fpr: float
    flagged_abnormal: int
    abnormal_sessions: int
    flagged_normal: int
    normal_sessions: int
    seconds: float


def score_flags(method: str, abnormal: np.ndarray, normal: np.ndarray, seconds: float):
    """Precision, recall, F1 (abnormal class) and false-positive rate from session flags."""
    tp, fp = int(abnormal.sum()), int(normal.sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(abnormal)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return MethodResult(
        method, precision, recall, f1, fp / len(normal), tp, len(abnormal), fp, len(normal),
        seconds,
    )  # fmt: skip


@dataclass(frozen=True)
class SequenceBenchmark:
    """The results of one run, with what was run."""

    split: SequenceSplit
    results: list[MethodResult]
    skipped: dict[str, str]
    top_g: int
    window: int
    seed: int


def run_sequence_benchmark(
    folder: Path,
    methods: Sequence[str] | None = None,
    *,
    top_g: int = 9,
    window: int = 10,
    seed: int = 0,
    step: Callable[[str], None] | None = None,
) -> SequenceBenchmark:
    """Run the protocol (module docstring) on a folder of sessions.

    Parameters
    ----------
    folder : pathlib.Path
        Session files ``*train*``, ``*test_abnormal*`` and optionally ``*test_normal*``.
    methods : sequence of str, optional
        Among :data:`METHODS`; default all, the lstm skipped (and said in
        ``skipped``) when PyTorch is absent. Asked for explicitly without
        PyTorch, the lstm raises the one-line install message.
    top_g : int, default=9
        DeepLog's ``g``: an event is normal when its key is among the ``g``
        most probable.
    window : int, default=10
        Keys the lstm reads before each key (DeepLog's ``h``).
    seed : int, default=0
        Seed of the held-out split and of the lstm's training.
    step : callable, optional
        Gets one progress line per stage.

    Returns
    -------
    SequenceBenchmark
    """
    from soc_anomaly.experiment.sequence_lstm import lstm_flags, lstm_missing

    check_positive_int("--top-g", top_g)
    check_positive_int("--window", window)
    check_seed("--seed", seed)
    asked = list(METHODS) if methods is None else list(methods)
    unknown = [m for m in asked if m not in METHODS]
    if unknown:
        raise ParameterError(
            f"--methods {', '.join(unknown)} unknown for --sequences; expected some of "
            + ", ".join(METHODS)
        )
    skipped: dict[str, str] = {}
    if "lstm" in asked and (why := lstm_missing(explicit=methods is not None)):
        skipped["lstm"] = why
        asked.remove("lstm")
    say = step or (lambda _: None)
    split = load_split(folder, seed)
    say(
        f"{len(split.train):,} training sessions ({len(split.train.codes):,} keys, "
        f"{split.n_keys} distinct), {len(split.normal):,} normal and "
        f"{len(split.abnormal):,} abnormal test sessions"
    )
    results = []
    for method in asked:
        say(f"fitting and scoring {method}")
        t0 = time.perf_counter()
        if method == "markov":
            flags = markov_flags(split, top_g)
        elif method == "unseen_pair":
            flags = unseen_pair_flags(split)
        else:
            flags = lstm_flags(split, top_g=top_g, window=window, seed=seed, step=say)
        results.append(score_flags(method, *flags, time.perf_counter() - t0))
    return SequenceBenchmark(split, results, skipped, top_g, window, seed)
