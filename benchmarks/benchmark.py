"""Time the default detection run, a 1,000,000-event generation, and detect on 10M events.

Usage::

    python benchmarks/benchmark.py [--repeats 3] [--events 1000000]
                                   [--large-events 10000000 | --skip-large]

Each measurement runs in a fresh Python process, so imports count towards
the detection run's wall time (as a user waits for them) and peak memory is
the child's own maximum resident set size. The large run generates a file of
``--large-events`` seed-scenario events once (cached in ``benchmarks/.cache/``)
and times ``soc-anomaly detect --data-path`` on it, plots and permutation
importance included. Prints one line per figure with its target, and exits 1
if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DETECT_TARGET_S = 15.0
LARGE_TARGET_S = 60.0
LARGE_TARGET_MIB = 4096.0
CACHE = Path(__file__).resolve().parent / ".cache"
GENERATE_TARGET_S = 5.0
GENERATE_TARGET_MIB = 1024.0

_GENERATE = """
import json, resource, sys, time
t0 = time.perf_counter()
from soc_anomaly.scenarios import generate_synthetic_soc_dataset
from soc_anomaly.data.io import write_table
imported = time.perf_counter()
n_users, per_user, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
df = generate_synthetic_soc_dataset(n_users=n_users, events_per_user=per_user)
generated = time.perf_counter()
write_table(df, out)
written = time.perf_counter()
print(json.dumps({
    "events": len(df),
    "anomalies": int(df["label"].sum()),
    "import_s": imported - t0,
    "generate_s": generated - imported,
    "write_parquet_s": written - generated,
    "frame_mib": df.memory_usage(deep=True).sum() / 2**20,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

_DETECT = """
import resource, sys, time
t0 = time.perf_counter()
from soc_anomaly.cli import main
code = main(["detect", "--plots-dir", sys.argv[1], *sys.argv[2:]])
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"BENCH {time.perf_counter() - t0} {peak_mib}")
sys.exit(code)
"""


def time_detect(repeats: int, *extra: str) -> dict[str, float]:
    """Wall time of ``soc-anomaly detect`` (defaults, or ``extra`` flags), in fresh processes."""
    walls, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _DETECT, str(Path(tmp) / "plots"), *extra],
                capture_output=True,
                text=True,
                check=False,
            )
            walls.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                sys.exit(f"detect failed:\n{proc.stderr}")
            line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH "))
            rss.append(float(line.split()[2]))
    return {"median_s": statistics.median(walls), "min_s": min(walls), "peak_rss_mib": max(rss)}


def time_generate(n_events: int, repeats: int) -> dict[str, float]:
    """Generation (and Parquet writing) of ``n_events`` events, in fresh processes."""
    per_user = 200
    n_users = max(1, n_events // per_user)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _GENERATE,
                    str(n_users),
                    str(per_user),
                    str(Path(tmp) / "events.parquet"),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                sys.exit(f"generation failed:\n{proc.stderr}")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["generate_s"])
    return {
        **best,
        "median_generate_s": statistics.median(r["generate_s"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument(
        "--large-events", type=int, default=10_000_000, help="events of the large detect run"
    )
    parser.add_argument("--skip-large", action="store_true", help="no large detect run")
    args = parser.parse_args()
    if args.repeats < 1 or args.events < 1:
        parser.error("--repeats and --events must be positive")

    ok = True
    detect = time_detect(args.repeats)
    passed = detect["median_s"] < DETECT_TARGET_S
    ok &= passed
    print(
        f"detect (defaults, 40,000 events, end to end): median {detect['median_s']:.2f} s, "
        f"min {detect['min_s']:.2f} s over {args.repeats} runs, peak RSS "
        f"{detect['peak_rss_mib']:.0f} MiB  [target < {DETECT_TARGET_S:g} s: "
        f"{'met' if passed else 'MISSED'}]"
    )

    gen = time_generate(args.events, args.repeats)
    passed_t = gen["median_generate_s"] < GENERATE_TARGET_S
    passed_m = gen["peak_rss_mib"] < GENERATE_TARGET_MIB
    ok &= passed_t and passed_m
    print(
        f"generate {gen['events']:,} events: median {gen['median_generate_s']:.2f} s, "
        f"best {gen['generate_s']:.2f} s  [target < {GENERATE_TARGET_S:g} s: "
        f"{'met' if passed_t else 'MISSED'}]"
    )
    print(
        f"generate {gen['events']:,} events: peak RSS {gen['peak_rss_mib']:.0f} MiB "
        f"(frame {gen['frame_mib']:.0f} MiB; includes writing Parquet) "
        f"[target < {GENERATE_TARGET_MIB:g} MiB: {'met' if passed_m else 'MISSED'}]"
    )
    print(
        f"write {gen['events']:,} events to Parquet: {gen['write_parquet_s']:.2f} s; "
        f"imports {gen['import_s']:.2f} s"
    )
    if not args.skip_large:
        ok &= large_detect(args.large_events)
    return 0 if ok else 1


def large_detect(n_events: int) -> bool:
    """``detect --data-path`` on ``n_events`` generated events (one run); True if targets met."""
    per_user = 200
    CACHE.mkdir(exist_ok=True)
    data = CACHE / f"seed_{n_events}.parquet"
    if not data.exists():
        proc = subprocess.run(
            [sys.executable, "-c", _GENERATE, str(max(1, n_events // per_user)), str(per_user),
             str(data)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            sys.exit(f"generation failed:\n{proc.stderr}")
    run = time_detect(1, "--data-path", str(data))
    ok = run["median_s"] < LARGE_TARGET_S and run["peak_rss_mib"] < LARGE_TARGET_MIB
    print(
        f"detect --data-path ({n_events:,} events, end to end): {run['median_s']:.1f} s, "
        f"peak RSS {run['peak_rss_mib']:,.0f} MiB  [target < {LARGE_TARGET_S:g} s and "
        f"< {LARGE_TARGET_MIB:,.0f} MiB: {'met' if ok else 'MISSED'}]"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
