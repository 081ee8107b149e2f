"""A real ``soc-anomaly serve`` process for the service tests, stopped when they are done."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest


@contextlib.contextmanager
def serving(args: Sequence[str], log: Path) -> Iterator[str]:
    """Base URL of ``soc-anomaly serve ARGS`` (give ``--port 0``), its output in ``log``.

    Yields once ``/healthz`` answers; the server is stopped when the block ends.
    """
    argv = [sys.executable, "-m", "soc_anomaly", "serve", *args]
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield _wait_until_up(proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> str:
    """The URL the server prints once it listens, after /healthz answers."""
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited {proc.returncode}:\n{log.read_text()}")
        if url is None:
            found = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
            url = found.group(0) if found else None
        if url is not None:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer /healthz within {timeout:g} s:\n{log.read_text()}")
