"""Time EntityFeatures' fit and transform on enterprise worlds of 1,000,000 and 2,000,000 events.

Usage::

    python benchmarks/features.py [--repeats 3] [--sizes 1000000,2000000]

For each size, the world is generated once (30 days, as many users as give
about that many events, seed 42) and written to Parquet. Each run is a fresh
Python process that reads it back (not timed), then times ``fit`` on the first
half of the period's normal events (with the users table) and ``transform`` of
every event, and reports its peak resident set size. Prints one line per size
with the median and minimum of each time beside the target (1M events:
transform < 10 s), and exits 1 if one is missed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _child import parse_sizes, run_child, users_for

#: events -> transform seconds; a size not listed has no target.
TARGETS: dict[int, float] = {1_000_000: 10.0}

_RUN = """
import json, resource, sys, time
import pandas as pd
from soc_anomaly.features import EntityFeatures
events = pd.read_parquet(sys.argv[1])
users = pd.read_parquet(sys.argv[2])
cut = pd.Timestamp(sys.argv[3])
train = events[(events["time"] < cut).to_numpy() & (events["label"].to_numpy() == 0)]
t0 = time.perf_counter()
fe = EntityFeatures().fit(train, users=users)
fit_s = time.perf_counter() - t0
del train
t0 = time.perf_counter()
feats = fe.transform(events)
transform_s = time.perf_counter() - t0
print(json.dumps({"fit_s": fit_s, "transform_s": transform_s, "events": len(events),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_world(n_users: int, folder: Path) -> tuple[Path, Path, str]:
    """Generate a 30-day world; its events and users as Parquet, and the training cut."""
    from soc_anomaly.scenarios import generate_world

    world = generate_world(n_users=n_users, days=30, random_state=42)
    events, users = folder / "events.parquet", folder / "users.parquet"
    world.events.to_parquet(events)
    world.users.to_parquet(users)
    return events, users, world.attack_start.isoformat()


def run_once(events: Path, users: Path, cut: str) -> dict[str, float]:
    """One fit and transform in a fresh process; its times, events and peak memory."""
    return run_child(_RUN, str(events), str(users), cut, what="feature run")


def main() -> int:
    repeats, sizes = parse_sizes(__doc__.splitlines()[0], "1000000,2000000")

    ok = True
    for size in sizes:
        n_users = users_for(size)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            events, users, cut = make_world(n_users, Path(tmp))
            gen_s = time.perf_counter() - t0
            runs = [run_once(events, users, cut) for _ in range(repeats)]
        fits = [r["fit_s"] for r in runs]
        transforms = [r["transform_s"] for r in runs]
        rss = max(r["peak_rss_mib"] for r in runs)
        verdict = ""
        target = TARGETS.get(size)
        if target is not None:
            met = statistics.median(transforms) < target
            ok &= met
            verdict = f"  [target transform < {target:g} s: {'met' if met else 'MISSED'}]"
        print(
            f"EntityFeatures, world of {n_users:,} users x 30 days ({runs[0]['events']:,} events, "
            f"generated in {gen_s:.1f} s): fit (first half, normal) median "
            f"{statistics.median(fits):.2f} s, min {min(fits):.2f} s; transform (all) median "
            f"{statistics.median(transforms):.2f} s, min {min(transforms):.2f} s over "
            f"{repeats} run(s); peak RSS {rss:,.0f} MiB (events loaded included)" + verdict,
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
