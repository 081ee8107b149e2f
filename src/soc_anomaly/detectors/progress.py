"""Progress of long scoring loops, told to whoever asked for it (no one by default).

A neighbour search over a quarter of a million events takes a minute or more
on two cores. The caller that knows what the rows are (the detection lab's
"Scoring 246,223 test events" step) opens :func:`count_rows` with a ``tick``;
the loop doing the work calls :func:`advance` after each chunk of rows. When no
one asked, :func:`advance` only reads a context variable.

Threads started inside a :func:`count_rows` block see it only when they run in
a copy of the caller's context (``contextvars.copy_context().run``), as
:func:`~soc_anomaly.detectors.base.block_anomaly_scores` does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = [
    "PROGRESS_SECONDS",
    "ProgressTick",
    "StepProgress",
    "advance",
    "count_rows",
    "row_chunks",
]

#: ``tick(done, total)``: ``done`` of ``total`` rows are finished. Called from
#: any thread, under a lock, after every chunk; it decides itself how often to show it.
ProgressTick = Callable[[int, int], None]

#: Seconds of a step before its first progress line, and between two lines.
#: Read at every tick, so a test (or a patient user) may change it.
PROGRESS_SECONDS = 5.0

#: Distance pairs (query rows x reference rows) per chunk of a neighbour search:
#: about half a second of one core, so progress moves and a chunk's overhead is nil.
CHUNK_PAIRS = 2**27


class _Counter:
    """Rows finished so far in one :func:`count_rows` block (shared by its threads)."""

    def __init__(self, tick: ProgressTick, total: int) -> None:
        self._tick = tick
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def advance(self, n_rows: int) -> None:
        with self._lock:
            self._done = min(self._done + n_rows, self._total)
            self._tick(self._done, self._total)


_CURRENT: ContextVar[_Counter | None] = ContextVar("soc_anomaly_row_progress", default=None)


@contextlib.contextmanager
def count_rows(tick: ProgressTick | None, total: int) -> Iterator[None]:
    """Send the progress of the rows finished inside the block to ``tick``.

    Parameters
    ----------
    tick : callable or None
        ``tick(done, total)``; None reports nothing.
    total : int
        Rows the block will finish (``done`` never exceeds it).

    Notes
    -----
    Inside the block, only this count hears :func:`advance`: an enclosing
    block that counts something else (shuffles, not rows) is not told, so a
    caller that calls a row-counting detector opens ``count_rows(None, 0)``
    around it.
    """
    token = _CURRENT.set(None if tick is None else _Counter(tick, total))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def advance(n_rows: int) -> None:
    """Count ``n_rows`` more rows finished (nothing happens outside :func:`count_rows`)."""
    counter = _CURRENT.get()
    if counter is not None:
        counter.advance(n_rows)


def row_chunks(n_rows: int, n_reference: int) -> Iterator[slice]:
    """Slices of ``n_rows`` query rows, each about :data:`CHUNK_PAIRS` distances.

    The chunk length is a power of two of at least 256 rows: scikit-learn's
    neighbour search cuts its queries into chunks of 256 itself, so cutting
    into multiples of it leaves its own chunks, and therefore every distance,
    as they were without this outer cut.
    """
    rows = 256
    while rows * 2 * max(n_reference, 1) <= CHUNK_PAIRS:
        rows *= 2
    for start in range(0, n_rows, rows):
        yield slice(start, min(start + rows, n_rows))


class StepProgress:
    """``tick(done, total)`` of one step: a line at most every :data:`PROGRESS_SECONDS`.

    Parameters
    ----------
    description : str
        The step, as its reporter shows it.
    emit : callable
        Shows one line (the command line prints it on stderr), e.g.
        ``"  Scoring 246,223 test events with kNN distance: 12,288/246,223 (5%, 6 s)"``:
        the step, what is finished of how much, and the seconds since it began.

    Notes
    -----
    Nothing is shown for a step shorter than :data:`PROGRESS_SECONDS`, nor
    when the work is complete (the step's own closing line follows).
    """

    def __init__(self, description: str, emit: Callable[[str], None]) -> None:
        self.description = description
        self.emit = emit
        self._start = self._last = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        share = done / total if total else 0.0
        self.emit(
            f"  {self.description}: {done:,}/{total:,} ({share:.0%}, {now - self._start:.0f} s)"
        )
