"""Reading a folder of sessions for the sequence benchmark, with bounded memory.

A session is one line of space-separated keys (integers or any tokens, as the
DeepLog data sets ship them). The folder holds one file per kind, found by
name: ``*train*`` (normal training sessions), ``*test_abnormal*`` (abnormal
test sessions) and, when present, ``*test_normal*`` (normal test sessions).
Blank lines are skipped. Keys become integer codes as they are read, so a
folder takes about four bytes per key in memory, whatever the tokens.

Every problem a user can cause (no such folder, a missing or ambiguous file,
an empty or binary file, an absurd line, too many distinct keys) raises
:class:`~soc_anomaly.errors.DataError` with one line.
"""

from __future__ import annotations

import fnmatch
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soc_anomaly.errors import DataError

__all__ = [
    "MAX_KEYS_PER_LINE",
    "MAX_LINE_BYTES",
    "MAX_VOCABULARY",
    "Sessions",
    "find_session_files",
    "read_sessions",
]

#: Longest line read, in bytes; a longer one is refused, not read.
MAX_LINE_BYTES = 1_000_000
#: Most keys on one line (one session).
MAX_KEYS_PER_LINE = 100_000
#: Most distinct keys in the training file: log keys are message templates,
#: a few hundred in the public data sets; the models' tables grow with its square.
MAX_VOCABULARY = 10_000
#: File name patterns of each kind of session file, tried in this order.
PATTERNS = {"test_abnormal": "*test_abnormal*", "test_normal": "*test_normal*", "train": "*train*"}


@dataclass(frozen=True)
class Sessions:
    """Sessions as one flat array of key codes and the offsets where each begins.

    Attributes
    ----------
    codes : numpy.ndarray of int64
        Every session's keys, session after session.
    offsets : numpy.ndarray of int64, shape (n_sessions + 1,)
        Session ``i`` is ``codes[offsets[i]:offsets[i + 1]]``; none is empty.
    """

    codes: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def session_of_event(self) -> np.ndarray:
        """The session index of each key, in the order of :attr:`codes`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))

    def take(self, rows: np.ndarray) -> Sessions:
        """The sessions ``rows`` (indices, in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = np.diff(self.offsets)[rows]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        starts = np.repeat(self.offsets[rows] - offsets[:-1], lengths)
        index = np.arange(offsets[-1], dtype=np.int64) + starts
        return Sessions(self.codes[index], offsets)

    def with_end(self, end: int) -> Sessions:
        """The same sessions, each followed by the code ``end`` (the end is an event too)."""
        lengths = np.diff(self.offsets) + 1
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        codes = np.full(offsets[-1], end, dtype=np.int64)
        codes[np.arange(len(self.codes)) + self.session_of_event()] = self.codes
        return Sessions(codes, offsets)

    def recode(self, mapping: np.ndarray) -> Sessions:
        """The same sessions with each code ``c`` replaced by ``mapping[c]``."""
        return Sessions(mapping[self.codes], self.offsets)


def find_session_files(folder: Path) -> dict[str, Path]:
    """The session files of ``folder`` by kind: ``train``, ``test_abnormal``, maybe ``test_normal``.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the folder does not exist, a required file is missing, or two files
        match one kind.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--sequences {folder} is not a folder; expected a folder of session files")
    found: dict[str, list[Path]] = {kind: [] for kind in PATTERNS}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        for kind, pattern in PATTERNS.items():
            if fnmatch.fnmatch(path.name, pattern):
                found[kind].append(path)
                break  # "x_test_normal" is a test file even though it does not say train
    for kind, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise DataError(
                f"{folder} has {len(paths)} {PATTERNS[kind]} files ({names}); expected one"
            )
    for kind in ("train", "test_abnormal"):
        if not found[kind]:
            raise DataError(
                f"{folder} has no {PATTERNS[kind]} file; expected files *train*, *test_abnormal* "
                "and optionally *test_normal*, one session of space-separated keys a line"
            )
    return {kind: paths[0] for kind, paths in found.items() if paths}


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank line's number and tokens; refuses binary files and absurd lines."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise DataError(
                    f"{path} line {number} is longer than {MAX_LINE_BYTES:,} bytes; "
                    "expected one session of space-separated keys a line"
                )
            try:
                if b"\x00" in raw:
                    raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(
                    f"{path} line {number} is not UTF-8 text; expected one session of "
                    "space-separated keys a line"
                ) from None
            tokens = text.split()
            if len(tokens) > MAX_KEYS_PER_LINE:
                raise DataError(
                    f"{path} line {number} has {len(tokens):,} keys; expected at most "
                    f"{MAX_KEYS_PER_LINE:,} per session"
                )
            if tokens:
                yield number, tokens


def read_sessions(
    path: Path, vocabulary: dict[str, int] | Mapping[str, int], *, grow: bool, unknown: int = -1
) -> Sessions:
    """Read one file of sessions, coding each key through ``vocabulary``.

    Parameters
    ----------
    path : pathlib.Path
        One session a line, keys separated by white space.
    vocabulary : dict
        Key -> code. With ``grow=True`` a new key gets the next code (the dict
        is extended in place, at most :data:`MAX_VOCABULARY` keys); otherwise
        it gets ``unknown``.
    grow : bool
        Whether new keys join the vocabulary.
    unknown : int, default=-1
        Code of a key not in the vocabulary when ``grow`` is False.

    Returns
    -------
    Sessions

    Raises
    ------
    soc_anomaly.errors.DataError
        If the file cannot be read, is not text, has a line over
        :data:`MAX_LINE_BYTES` bytes or :data:`MAX_KEYS_PER_LINE` keys, too many
        distinct keys, or no session at all.
    """
    codes = array("q")
    lengths = array("q")
    for number, tokens in _lines(path):
        if grow:
            for token in tokens:
                if token not in vocabulary:
                    if len(vocabulary) >= MAX_VOCABULARY:
                        raise DataError(
                            f"{path} line {number} brings the distinct keys past "
                            f"{MAX_VOCABULARY:,}; expected log keys (message templates)"
                        )
                    vocabulary[token] = len(vocabulary)  # type: ignore[index]
        codes.extend(vocabulary.get(t, unknown) for t in tokens)
        lengths.append(len(tokens))
    if not lengths:
        raise DataError(f"{path} holds no session; expected one session of keys a line")
    offsets = np.r_[0, np.cumsum(np.frombuffer(lengths, dtype=np.int64))].astype(np.int64)
    return Sessions(np.frombuffer(codes, dtype=np.int64).copy(), offsets)


def sorted_tokens(tokens: list[str]) -> list[str]:
    """Tokens in a stable order: integers by value first, then other tokens as text."""
    return sorted(tokens, key=lambda t: (0, int(t), t) if t.isdecimal() else (1, 0, t))
