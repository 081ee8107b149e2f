"""What the world and feature benchmarks share: sizing, flags, and timing in a fresh process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

#: Events a user produces over 30 days, measured on the default world (for sizing).
EVENTS_PER_USER = 947


def parse_sizes(description: str, default_sizes: str) -> tuple[int, list[int]]:
    """``--repeats`` and ``--sizes`` (event counts) from the command line, checked."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=3, help="runs per size")
    parser.add_argument("--sizes", default=default_sizes, help="comma-separated event counts")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if args.repeats < 1 or not sizes or min(sizes) < 1:
        parser.error("--repeats and every size must be positive")
    return args.repeats, sizes


def users_for(events: int) -> int:
    """Staff of a 30-day world with about ``events`` events."""
    return max(1, round(events / EVENTS_PER_USER))


def run_child(code: str, *args: str, what: str) -> dict:
    """Run ``code`` in a fresh Python; the JSON object its last stdout line prints.

    A fresh process per run, so imports and peak memory are measured as a user
    would see them; exits with ``what`` and the child's stderr if it fails.
    """
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"{what} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
