"""SIGTERM stops a run as Ctrl-C does, and says which signal it was.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`, so every
``with``/``finally`` block runs: temporary files are removed, finished results
are written (see :mod:`soc_anomaly.experiment.checkpoint`). SIGTERM, what
``kill``, systemd, Docker and Kubernetes send, ends the process at once by
default and leaves a temporary file behind. :func:`raise_on_sigterm` makes it
raise :class:`Terminated`, a :class:`KeyboardInterrupt`, so it takes the same
path; :func:`interrupt_signal` tells the two apart afterwards (the command
line exits with 128 + the signal number: 130 for SIGINT, 143 for SIGTERM).

Only the standard library is imported here: the command line installs the
handler before any heavy module loads.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "interrupt_signal", "raise_on_sigterm"]


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (raised by :func:`raise_on_sigterm`'s handler)."""

    signum = signal.SIGTERM


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def raise_on_sigterm() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`Terminated` (as Ctrl-C raises KeyboardInterrupt).

    Only the main thread can set a signal handler; elsewhere nothing changes
    (SIGTERM then ends the process at once). The previous handler is put back
    when the block ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_signal(exc: BaseException) -> int:
    """The signal behind an interrupt: SIGTERM if a :class:`Terminated` is in its chain.

    Code that catches an interrupt to write what it kept re-raises a new
    :class:`KeyboardInterrupt` with that message; the original stays its
    ``__cause__`` or ``__context__``, which this follows.

    Parameters
    ----------
    exc : BaseException
        The interrupt that stopped the run.

    Returns
    -------
    int
        ``signal.SIGTERM`` or ``signal.SIGINT``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, Terminated):
            return int(signal.SIGTERM)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return int(signal.SIGINT)
