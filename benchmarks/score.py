"""Time ``soc-anomaly score`` on 10,000,000 events, and a 100,000,000-event stream.

Usage::

    python benchmarks/score.py [--events 10000000] [--passes 10] [--skip-stream]

Prepares (once, cached in ``benchmarks/.cache/``) a generated enterprise world
of about ``--events`` events and two models trained on its first half:
IsolationForest on the seed features and on the entity features. Then, each
in a fresh Python process that reports its own wall time and peak resident
set size:

* ``soc-anomaly score`` of the whole world file (Parquet in, Parquet out with
  every event's score, alert flag, reasons and incident columns, and the raised
  incidents to ``--incidents``), with each model, then with the same model
  without its incident linker, to show what incident correlation costs (target:
  at most 20% more wall time);
* a stream of ``--passes`` replays of the world (each shifted in time past the
  previous one, event ids renumbered) scored by the seed model with
  ``--alerts-only`` output, printing the resident memory after every pass so
  growth would show.

Prints one line per run with its targets, and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _child import run_child, users_for

CACHE = Path(__file__).resolve().parent / ".cache"
#: (seconds, MiB) targets per run; None = no target.
TARGETS = {
    "seed": (60.0, 2048.0),
    "entity": (120.0, None),
    "stream": (900.0, None),
}
#: Most that incident correlation may add to a ``score`` run's wall time.
INCIDENT_OVERHEAD = 0.20

_PREPARE = """
import json, sys
from pathlib import Path
import pandas as pd
from soc_anomaly.cli import main
from soc_anomaly.experiment.enterprise import training_cut
from soc_anomaly.model import AnomalyModel
world, n_users, seed_dir, entity_dir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if not Path(world).exists():
    assert main(["generate", "--scenario", "enterprise", "--n-users", n_users,
                 "--output-path", world, "--random-state", "42"]) == 0
events = pd.read_parquet(world)
train = events[events["time"] < training_cut(events["time"])]
for kind, where in (("seed", seed_dir), ("entity", entity_dir)):
    saved = (Path(where) / "manifest.json").exists()
    if not saved or AnomalyModel.load(where).linker_ is None:  # cached before incidents
        AnomalyModel(detector="iforest", features=kind).fit(train).save(where)
    # The same model without its incident linker: what scoring costs without incidents.
    bare = AnomalyModel.load(where)
    bare.linker_ = None
    bare.save(where + "_no_incidents")
print(json.dumps({"events": len(events), "train": len(train)}))
"""

_SCORE = """
import json, resource, sys, time
t0 = time.perf_counter()
from soc_anomaly.cli import main
code = main(["score", "--model-dir", sys.argv[1], "--input", sys.argv[2],
             "--output", sys.argv[3], "--quiet", *sys.argv[4:]])
wall = time.perf_counter() - t0
print(json.dumps({"code": code, "wall_s": wall,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_STREAM = """
import json, resource, sys, time
t0 = time.perf_counter()
import pandas as pd
import pyarrow.parquet as pq
from soc_anomaly.data.event_stream import EventChunk, parse_times
from soc_anomaly.model import AnomalyModel, read_manifest
from soc_anomaly.model.scoring import ScoredWriter, score_stream

model_dir, world, out, passes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rss = []

def rss_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def replays():
    pf = pq.ParquetFile(world)
    meta = pq.read_table(world, columns=["time", "event_id"])
    span = pd.to_datetime(meta.column("time").to_pandas(), utc=True)
    shift = (span.max() - span.min()).ceil("D") + pd.Timedelta(days=1)
    n_ids = int(meta.column("event_id").to_pandas().max()) + 1
    del meta, span
    row = 0
    for k in range(passes):
        for batch in pf.iter_batches(batch_size=1_000_000):
            frame = parse_times(batch.to_pandas())
            frame["time"] = frame["time"] + k * shift
            frame["event_id"] = frame["event_id"] + k * n_ids
            yield EventChunk(frame, row)
            row += len(frame)
        rss.append(rss_mib())

model = AnomalyModel.load(model_dir)
with ScoredWriter(out, "parquet", read_manifest(model_dir)) as writer:
    summary = score_stream(model, replays(), writer, alerts_only=True)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "events": summary.events, "alerts": summary.alerts,
                  "rss_after_pass_mib": rss,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _line(name: str, wall: float, rss: float, events: int) -> bool:
    secs, mib = TARGETS[name]
    ok = wall < secs and (mib is None or rss < mib)
    target = f"< {secs:.0f} s" + (f", < {mib:,.0f} MiB" if mib else "")
    print(
        f"{name:>6}: {events:>12,} events in {wall:7.1f} s ({events / wall:>9,.0f} events/s), "
        f"peak {rss:,.0f} MiB  [target {target}: {'met' if ok else 'MISSED'}]"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="world size")
    parser.add_argument("--passes", type=int, default=10, help="replays in the stream run")
    parser.add_argument("--skip-stream", action="store_true", help="no stream run")
    args = parser.parse_args()
    if args.events < 100_000 or args.passes < 1:
        parser.error("--events must be at least 100000 and --passes positive")

    CACHE.mkdir(exist_ok=True)
    world = CACHE / f"world_{args.events}.parquet"
    models = {k: CACHE / f"iforest_{k}_{args.events}" for k in ("seed", "entity")}
    prep = run_child(
        _PREPARE, str(world), str(users_for(args.events)), str(models["seed"]),
        str(models["entity"]), what="preparing the world and models",
    )  # fmt: skip
    print(f"world: {prep['events']:,} events ({world}); models trained on {prep['train']:,}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("seed", "entity"):
            out = Path(tmp) / f"{kind}.parquet"
            incidents = Path(tmp) / f"{kind}_incidents.jsonl"
            r = run_child(
                _SCORE, str(models[kind]), str(world), str(out), "--incidents", str(incidents),
                what=f"{kind} scoring",
            )  # fmt: skip
            if r["code"] != 0:
                sys.exit(f"{kind} scoring exited {r['code']}")
            ok &= _line(kind, r["wall_s"], r["peak_rss_mib"], prep["events"])
            bare = run_child(
                _SCORE, f"{models[kind]}_no_incidents", str(world), str(out),
                what=f"{kind} scoring without incidents",
            )  # fmt: skip
            added = r["wall_s"] / bare["wall_s"] - 1.0
            within = added <= INCIDENT_OVERHEAD
            ok &= within
            raised = sum(1 for _ in incidents.open(encoding="utf-8"))
            print(
                f"        without incidents {bare['wall_s']:7.1f} s, peak "
                f"{bare['peak_rss_mib']:,.0f} MiB: incidents add {added:+.1%} "
                f"({raised:,} raised) [target <= {INCIDENT_OVERHEAD:.0%}: "
                f"{'met' if within else 'MISSED'}]"
            )
        if not args.skip_stream:
            out = Path(tmp) / "stream_alerts.parquet"
            r = run_child(
                _STREAM, str(models["seed"]), str(world), str(out), str(args.passes),
                what="stream scoring",
            )  # fmt: skip
            ok &= _line("stream", r["wall_s"], r["peak_rss_mib"], r["events"])
            after = ", ".join(f"{m:,.0f}" for m in r["rss_after_pass_mib"])
            print(f"        resident MiB after each pass of {prep['events']:,}: {after}")
            print(json.dumps({"stream_alerts": r["alerts"]}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
