"""Progress reporting of long runs, without depending on any console.

A run wraps each of its steps in ``step(description)``. A step reporter's
context manager may yield a ``tick(done, total)`` callable (such as a
:class:`StepProgress`): steps that can count their work (events scored,
shuffles rescored) then report it through it, so a user sees a step of minutes
is alive. Reporters that yield anything else get no progress.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from soc_anomaly.detectors.progress import ProgressTick, StepProgress

__all__ = ["ProgressTick", "StepProgress", "StepReporter", "quiet", "tick_of"]

#: ``step(description)`` returns a context manager wrapped around one step of a
#: run; the command line passes one that shows a spinner and the step's duration.
StepReporter = Callable[[str], AbstractContextManager[Any]]


@contextlib.contextmanager
def quiet(_: str) -> Iterator[None]:
    """The step reporter that reports nothing."""
    yield


def tick_of(entered: object) -> ProgressTick | None:
    """The progress callable a step reporter's context manager yielded, if any."""
    return entered if callable(entered) else None
