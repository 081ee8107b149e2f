"""Results kept as they finish: ``metrics.json`` rewritten as detectors finish.

A run of every detector on both feature sets of the enterprise world takes
minutes. :class:`Checkpoint` rewrites the run's ``metrics.json`` (atomically,
so a reader never sees half a file) when a detector has been evaluated,
marked ``"complete": false`` with a note of how many detectors it holds; the
run's last write, the whole document, replaces it. A run stopped by Ctrl-C or
SIGTERM writes every finished detector before it stops, and
:class:`RunInterrupted` says where they are.

Each write serialises every detector finished so far, so writing after each
one would cost time quadratic in their number (a fifth of a full-size world
run). Between interrupts the file is therefore rewritten at most every
:data:`WRITE_INTERVAL` seconds: a process killed outright (SIGKILL, out of
memory) loses at most that much finished work.

With several seeds, the document's comparison needs every detector of every
seed it holds, so the first seed is written detector by detector and later
seeds once each is complete.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from soc_anomaly.data.io import write_json
from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.results import DetectionResult, SeedRun
from soc_anomaly.interrupts import raise_on_sigterm

__all__ = [
    "PARTIAL_NOTE",
    "WRITE_INTERVAL",
    "Checkpoint",
    "RunInterrupted",
    "sigterm_interrupts",
]

#: Start of the note a partial ``metrics.json`` carries.
PARTIAL_NOTE = "partial results: "

#: Least seconds between two partial writes (an interrupt writes at once).
WRITE_INTERVAL = 30.0


class RunInterrupted(KeyboardInterrupt):
    """A run stopped after some detectors had finished; their results are on disk.

    Parameters
    ----------
    path : pathlib.Path
        The ``metrics.json`` holding them.
    finished : int
        Detectors (of the first seed) it holds.
    planned : int
        Detectors the run would have evaluated.
    """

    def __init__(self, path: Path, finished: int, planned: int) -> None:
        self.path = path
        self.finished = finished
        self.planned = planned
        super().__init__(
            f"the results of the {finished} of {planned} detector runs that finished are in {path}"
        )


class Checkpoint:
    """Writes a run's results so far to its ``metrics.json``.

    Parameters
    ----------
    config : DetectConfig
        The run's settings (``resolved_metrics_path`` is where it writes).
    notes : list of str
        The run's notes, shared and still growing (read at each write).
    """

    def __init__(self, config: DetectConfig, notes: list[str]) -> None:
        self.config = config
        self.notes = notes
        self.path: Path | None = None
        self.finished = 0
        self.planned = 0
        # What the next write would hold, and when the last one happened.
        self._pending: tuple[list[str], list[SeedRun], str] | None = None
        self._last_write = time.monotonic()

    def detector_finished(
        self, feature_cols: list[str], runs: list[SeedRun], current: SeedRun, planned: int
    ) -> None:
        """Write the finished seeds ``runs`` and, for the first seed, ``current`` so far.

        ``planned`` is the number of detector runs of a seed.
        """
        if runs:
            # Later seeds are written when complete (see the module's notes).
            return
        self.finished, self.planned = len(current.models), planned
        # A snapshot of the list: the run keeps appending to ``current.models``.
        snapshot = replace(current, models=list(current.models))
        self._offer(feature_cols, [snapshot], f"{self.finished} of {planned} detector runs")

    def seed_finished(self, feature_cols: list[str], runs: list[SeedRun]) -> None:
        """Write the seeds finished so far (when more are to come)."""
        if len(runs) < self.config.seeds:
            self._offer(feature_cols, list(runs), f"{len(runs)} of {self.config.seeds} seeds")

    def flush(self) -> None:
        """Write what has finished and is not on disk yet (the run stops)."""
        if self._pending is not None:
            self._write(*self._pending)

    def interrupted(self) -> KeyboardInterrupt:
        """Write what has finished, and say where it is (a plain interrupt if nothing has)."""
        self.flush()
        if self.path is None:
            return KeyboardInterrupt()
        return RunInterrupted(self.path, self.finished, self.planned)

    def _offer(self, feature_cols: list[str], runs: list[SeedRun], held: str) -> None:
        self._pending = (feature_cols, runs, held)
        if time.monotonic() - self._last_write >= WRITE_INTERVAL:
            self._write(*self._pending)

    def _write(self, feature_cols: list[str], runs: list[SeedRun], held: str) -> None:
        note = (
            f"{PARTIAL_NOTE}{held} had finished when this file was written; "
            "the complete run rewrites it"
        )
        result = DetectionResult(self.config, feature_cols, runs, [*self.notes, note])
        document = replace(result, complete=False).to_dict()
        path = self.config.resolved_metrics_path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = write_json(document, path)
        self._pending = None
        self._last_write = time.monotonic()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Inside the block, SIGTERM stops the run as Ctrl-C does (so it says where results are).

    It raises :class:`soc_anomaly.interrupts.Terminated`, a ``KeyboardInterrupt``
    (see :func:`soc_anomaly.interrupts.raise_on_sigterm`). Only the main thread
    can set a signal handler; elsewhere nothing changes (SIGTERM then ends the
    process at once, and the results written so far stay).
    """
    with raise_on_sigterm():
        yield
