"""Progress reporting of long runs, without depending on any console."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["StepReporter", "quiet"]

#: ``step(description)`` returns a context manager wrapped around one step of a
#: run; the command line passes one that shows a spinner and the step's duration.
StepReporter = Callable[[str], AbstractContextManager[Any]]


@contextlib.contextmanager
def quiet(_: str) -> Iterator[None]:
    """The step reporter that reports nothing."""
    yield
