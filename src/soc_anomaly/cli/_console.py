"""Console output shared by the commands: results on stdout, progress on stderr."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console

from soc_anomaly.detectors.progress import StepProgress
from soc_anomaly.reporting.console import out

__all__ = ["err", "out", "step"]

#: Progress and status lines, kept off stdout so results can be piped.
err = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def step(description: str) -> Iterator[StepProgress]:
    """Show a spinner while a step runs, then one line with its duration.

    Yields the step's ``tick(done, total)``: a step that counts its work
    prints a progress line at most every few seconds.
    """
    t0 = time.perf_counter()
    with err.status(f"{description}...", spinner="dots"):
        yield StepProgress(description, lambda line: err.print(line, soft_wrap=True))
    err.print(f"[green]done[/] {description} ({time.perf_counter() - t0:.1f} s)")
