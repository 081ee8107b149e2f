"""Time the sequence detectors on the default enterprise world: fitting and scoring.

Usage::

    python benchmarks/sequences.py [--repeats 3] [--users 500]

The world (500 staff, 30 days, seed 42: the default of ``soc-anomaly generate
--scenario enterprise``, about 480,000 events; ``--users`` picks another size)
is generated once and written to Parquet. Each run is a fresh Python process
that reads it back (not timed), fits the entity featuriser on the first half's
normal events (not timed), then times:

- markov fit: the action sequences of the training window and their n-gram
  counts (``training_sequences`` and ``fit_ngram``), from the raw events;
- markov score: ``action_surprise`` and ``window_surprise`` of every event
  (actions, histories and n-gram lookups: ``compute.sequences_of``), events/s
  in the steady state: the median of passes 3 to 5 over the events (the first
  passes of a process, the first also printed, pay for the allocator mapping
  fresh memory, as a scorer that has run for a while does not);
- lstm train: the next-action LSTM on the training window's sequences
  (``fit_lstm``; PyTorch on the CPU, one thread, as the detector trains it);
- lstm score: ``lstm_surprise`` and ``lstm_rank`` of every event (numpy, batches
  on every core), events/s, likewise;
- for context, ``train --detector markov`` end to end in Python
  (``AnomalyModel(detector="markov").fit``: every entity feature, the detector,
  the calibration and the incident linker).

Prints one line per figure (median and minimum over the runs) beside its
target (markov fit < 10 s and >= 500,000 events/s; lstm train < 300 s and
>= 50,000 events/s), and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _child import run_child
from features import make_world

#: Scoring passes over the events per run, and those not counted (warm-up).
PASSES = 5
WARM_UP = 2
#: figure -> (target, "<" for seconds or ">=" for a rate)
TARGETS: dict[str, tuple[float, str]] = {
    "markov_fit_s": (10.0, "<"),
    "markov_rate": (500_000.0, ">="),
    "lstm_train_s": (300.0, "<"),
    "lstm_rate": (50_000.0, ">="),
}

_RUN = """
import json, resource, sys, time
import numpy as np
import pandas as pd
from soc_anomaly.features import EntityFeatures
from soc_anomaly.features.columns import read_events
from soc_anomaly.features.compute import sequences_of
from soc_anomaly.features.lstm_features import fit_lstm, lstm_values
from soc_anomaly.features.sequence_features import in_sequences, training_sequences
from soc_anomaly.model import AnomalyModel
from soc_anomaly.sequences.ngram import MAX_ORDER, fit_ngram
from soc_anomaly.sequences.vocabulary import ACTIONS

PASSES = int(sys.argv[4])
events = pd.read_parquet(sys.argv[1])
users = pd.read_parquet(sys.argv[2])
cut = pd.Timestamp(sys.argv[3])
train = events[(events["time"] < cut).to_numpy() & (events["label"].to_numpy() == 0)]
fe = EntityFeatures().fit(train, users=users)
out = {"events": len(events), "train_events": len(train)}

t0 = time.perf_counter()
ev = read_events(train)
seq, now = training_sequences(fe, ev)
keep = in_sequences(ev)
user = ev.fitted_codes("user", fe.vocab_["user"])[keep]
fit_ngram(seq.actions, seq.history[:, :MAX_ORDER], len(ACTIONS), user, len(fe.vocab_["user"]))
out["markov_fit_s"] = time.perf_counter() - t0

every = read_events(events)

def passes(run):
    # Seconds of each pass: the first ones also pay for the allocator mapping fresh
    # memory, which a scorer that has run for a while no longer does.
    seconds = []
    for _ in range(PASSES):
        t0 = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - t0)
    return result, seconds

scored, out["markov_passes_s"] = passes(lambda: sequences_of(fe, every, None))

t0 = time.perf_counter()
fit_lstm(fe, seq, now)
out["lstm_train_s"] = time.perf_counter() - t0
fe.lstm = True
kept = in_sequences(every)
_, out["lstm_passes_s"] = passes(lambda: lstm_values(fe, scored, every.time, kept))

t0 = time.perf_counter()
AnomalyModel(detector="markov").fit(train, users=users)
out["markov_model_s"] = time.perf_counter() - t0
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _verdict(name: str, value: float) -> tuple[bool, str]:
    target, sense = TARGETS[name]
    met = value < target if sense == "<" else value >= target
    return met, f"  [target {sense} {target:,.0f}: {'met' if met else 'MISSED'}]"


def _line(label: str, values: list[float], name: str, rate: bool) -> tuple[bool, str]:
    """One figure: median and best of the runs beside its target."""
    middle = statistics.median(values)
    met, verdict = _verdict(name, middle)
    if rate:
        return met, f"  {label}: median {middle:,.0f} events/s, max {max(values):,.0f}" + verdict
    return met, f"  {label}: median {middle:.2f} s, min {min(values):.2f} s" + verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs, each a fresh process")
    parser.add_argument("--users", type=int, default=500, help="staff of the 30-day world")
    args = parser.parse_args()
    if args.repeats < 1 or args.users < 1:
        parser.error("--repeats and --users must be positive")
    with tempfile.TemporaryDirectory() as tmp:
        events, users, cut = make_world(args.users, Path(tmp))
        runs = [
            run_child(_RUN, str(events), str(users), cut, str(PASSES), what="sequence run")
            for _ in range(args.repeats)
        ]
    n, n_train = runs[0]["events"], runs[0]["train_events"]
    print(
        f"World of {args.users:,} users x 30 days: {n:,} events, {n_train:,} normal training "
        f"events; {args.repeats} run(s), peak RSS "
        f"{max(r['peak_rss_mib'] for r in runs):,.0f} MiB",
        flush=True,
    )
    ok = True
    for label, name, key, rate in (
        ("markov fit", "markov_fit_s", "markov_fit_s", False),
        ("markov score", "markov_rate", "markov_passes_s", True),
        ("lstm train", "lstm_train_s", "lstm_train_s", False),
        ("lstm score", "lstm_rate", "lstm_passes_s", True),
    ):
        if rate:
            # Steady state: each run's median over its passes after the warm-up ones.
            values = [n / statistics.median(r[key][WARM_UP:]) for r in runs]
        else:
            values = [r[key] for r in runs]
        met, line = _line(label, values, name, rate)
        ok &= met
        if rate:
            first = statistics.median(n / r[key][0] for r in runs)
            line += f" (a process's first pass: median {first:,.0f} events/s)"
        print(line, flush=True)
    model = [r["markov_model_s"] for r in runs]
    print(
        f"  for context, AnomalyModel(detector='markov').fit end to end: median "
        f"{statistics.median(model):.2f} s, min {min(model):.2f} s",
        flush=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
