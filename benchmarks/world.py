"""Time the enterprise world's generation at 1,000,000 and 10,000,000 events.

Usage::

    python benchmarks/world.py [--repeats 3] [--sizes 1000000,10000000]

Each run is ``soc-anomaly generate --scenario enterprise`` end to end (imports,
generation, the summary, writing Parquet and the manifest) in a fresh Python
process; the child reports its own wall time and peak resident set size. The
number of users is chosen so a 30-day world has about the asked number of
events. Prints one line per size with its targets, and exits 1 if one is missed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from _child import parse_sizes, run_child, users_for

#: (events, seconds, MiB) targets; a size not listed has no target.
TARGETS: dict[int, tuple[float, float | None]] = {
    1_000_000: (10.0, None),
    10_000_000: (90.0, 4096.0),
}

_RUN = """
import json, resource, sys, time
t0 = time.perf_counter()
from soc_anomaly.cli import main
code = main(["generate", "--scenario", "enterprise", "--n-users", sys.argv[1],
             "--output-path", sys.argv[2], "--random-state", "42"])
wall = time.perf_counter() - t0
import pyarrow.parquet as pq
rows = pq.ParquetFile(sys.argv[2]).metadata.num_rows
print(json.dumps({"code": code, "wall_s": wall, "events": rows,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_once(n_users: int, out: Path) -> dict[str, float]:
    """One generation in a fresh process; its wall time, events and peak memory."""
    result = run_child(_RUN, str(n_users), str(out), what="generation")
    if result["code"] != 0:
        sys.exit(f"generation exited {result['code']}")
    return result


def main() -> int:
    repeats, sizes = parse_sizes(__doc__.splitlines()[0], "1000000,10000000")

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            n_users = users_for(size)
            runs = [run_once(n_users, Path(tmp) / "world.parquet") for _ in range(repeats)]
            walls = [r["wall_s"] for r in runs]
            rss = max(r["peak_rss_mib"] for r in runs)
            target_s, target_mib = TARGETS.get(size, (None, None))
            verdicts = []
            if target_s is not None:
                met = statistics.median(walls) < target_s
                ok &= met
                verdicts.append(f"< {target_s:g} s: {'met' if met else 'MISSED'}")
            if target_mib is not None:
                met = rss < target_mib
                ok &= met
                verdicts.append(f"< {target_mib / 1024:g} GiB: {'met' if met else 'MISSED'}")
            print(
                f"generate --scenario enterprise --n-users {n_users:,}: {runs[0]['events']:,} "
                f"events, median {statistics.median(walls):.1f} s, min {min(walls):.1f} s over "
                f"{repeats} run(s), peak RSS {rss:,.0f} MiB"
                + (f"  [target {'; '.join(verdicts)}]" if verdicts else ""),
                flush=True,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
