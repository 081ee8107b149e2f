"""Load the REST scoring service and time it: latency percentiles and events per second.

Usage::

    python benchmarks/service.py [--requests 1000] [--events 100] [--clients 4]
                                 [--model-dir DIR] [--n-users 120] [--days 14] [--campaigns 20]

Starts ``soc-anomaly serve`` on a free port of 127.0.0.1 in its own process
(training a small entity iforest on a generated world first, unless
``--model-dir`` names a bundle), then ``--clients`` threads, each with its own
keep-alive connection, send ``--requests`` requests in all, each a JSON array
of ``--events`` consecutive flat events of the world's second half (attacks
included). Bodies are serialised before the clock starts, so the figures are
the server's and the network stack's, not the client's JSON encoder. Every
request must answer 200; the server is stopped at the end. Prints the latency
percentiles of one request and the events scored per second over the run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

#: Ground truth the generator writes; a client would not send it.
TRUTH = ["label", "campaign_id", "attack_type", "mitre_technique", "step", "benign_tag"]


def parse_args() -> argparse.Namespace:
    """The flags, checked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests in all")
    parser.add_argument("--events", type=int, default=100, help="events per request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--model-dir", type=Path, default=None, help="bundle to serve")
    parser.add_argument("--n-users", type=int, default=120, help="staff of the generated world")
    parser.add_argument("--days", type=int, default=14, help="days of the generated world")
    parser.add_argument("--campaigns", type=int, default=20, help="attacks in the world")
    args = parser.parse_args()
    for name in ("requests", "events", "clients", "n_users", "days", "campaigns"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def bodies(args: argparse.Namespace, tmp: Path) -> tuple[Path, list[bytes]]:
    """(model directory, request bodies): one body per block of ``--events`` raw events."""
    from soc_anomaly.model import AnomalyModel
    from soc_anomaly.scenarios import generate_world

    world = generate_world(
        n_users=args.n_users, days=args.days, campaigns=args.campaigns, random_state=7
    )
    model_dir, events = args.model_dir, args.events
    ev = world.events
    if model_dir is None:
        model_dir = tmp / "model"
        train = ev[(ev["time"] < world.attack_start) & (ev["label"] == 0)]
        AnomalyModel(detector="iforest", features="entity").fit(train, users=world.users).save(
            model_dir
        )
    test = ev[ev["time"] >= world.attack_start].drop(columns=TRUTH)
    frame = test.astype(object).where(test.notna(), None)
    frame["time"] = [t.isoformat() for t in test["time"]]
    records = json.loads(json.dumps(frame.to_dict("records"), default=lambda v: v.item()))
    blocks = [records[i : i + events] for i in range(0, len(records) - events + 1, events)]
    if not blocks:
        sys.exit(f"the world's second half has {len(records)} events; --events {events} is more")
    return model_dir, [json.dumps(b).encode() for b in blocks]


def start_server(model_dir: Path, events: int, log: Path) -> tuple[subprocess.Popen, str]:
    """``soc-anomaly serve`` on a free port; its process and URL once /healthz answers."""
    argv = [sys.executable, "-m", "soc_anomaly", "serve", "--model-dir", str(model_dir)]
    argv += ["--port", "0", "--max-events", str(max(events, 10_000))]
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited {proc.returncode}:\n{log.read_text()}")
        found = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
        if found:
            try:
                if httpx.get(f"{found.group(0)}/healthz", timeout=2).status_code == 200:
                    return proc, found.group(0)
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"the server did not start within 120 s:\n{log.read_text()}")


def load(url: str, payloads: list[bytes], requests: int, clients: int) -> tuple[list, float, int]:
    """Send ``requests`` bodies from ``clients`` threads; latencies (s), wall time, alerts."""
    latencies: list[float] = []
    alerts = 0
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        nonlocal alerts
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=url, timeout=60) as session:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None or failures:
                    return
                t0 = time.perf_counter()
                body = payloads[i % len(payloads)]
                response = session.post("/v1/score", content=body, headers=headers)
                elapsed = time.perf_counter() - t0
                with lock:
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        return
                    latencies.append(elapsed)
                    alerts += response.json()["alerts"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if failures:
        sys.exit(f"a request failed: {failures[0]}")
    return latencies, wall, alerts


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, payloads = bodies(args, Path(tmp))
        proc, url = start_server(model_dir, args.events, Path(tmp) / "server.log")
        try:
            # Warm up: first requests pay for lazy imports and allocations.
            load(url, payloads, min(20, args.requests), 1)
            latencies, wall, alerts = load(url, payloads, args.requests, args.clients)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    ms = np.array(latencies) * 1000
    events = args.requests * args.events
    print(
        f"POST /v1/score: {args.requests:,} requests of {args.events} events from "
        f"{args.clients} client(s) in {wall:.1f} s; latency p50 {np.percentile(ms, 50):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms, mean {statistics.fmean(ms):.1f} ms; "
        f"{args.requests / wall:,.1f} requests/s, {events / wall:,.0f} events/s; "
        f"{alerts:,} alerts",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
