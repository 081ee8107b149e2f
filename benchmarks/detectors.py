"""Fit time and scoring throughput of every detector, and the scalable OneClassSVM.

Usage::

    python benchmarks/detectors.py                      # both sections
    python benchmarks/detectors.py --section detectors  # fit/score at 40k and 1M events
    python benchmarks/detectors.py --section ocsvm      # exact vs ocsvm_approx at 256k rows

``detectors``: for each registered detector, on the default scenario at 40,000
and 1,000,000 events, the fit time on the normal training rows (80% of the
normal events, as ``detect`` trains) and the scoring throughput over every
event, in rows per second, of the production model object
(:class:`soc_anomaly.model.AnomalyModel`, which scores row blocks in threads).
Above the exact OneClassSVM's cut-over the ``ocsvm`` row runs ``ocsvm_approx``,
as ``detect`` does.

``ocsvm``: the exact OneClassSVM and ``ocsvm_approx`` fitted on the same
256,000 normal training rows, with their fit times, the speed-up and the ROC
AUC of each on the held-out test events (target: at least 10x faster, ROC AUC
within 0.005). The exact fit takes minutes.

Prints one line per measurement and exits 1 if an ``ocsvm`` target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from soc_anomaly.data.schema import FEATURE_COLS, LABEL_COL
from soc_anomaly.data.split import split_train_test
from soc_anomaly.detectors import DETECTORS, anomaly_scores, get_detector
from soc_anomaly.detectors.ocsvm import OCSVM_EXACT_MAX_ROWS
from soc_anomaly.model import AnomalyModel
from soc_anomaly.scenarios import generate_synthetic_soc_dataset

EVENTS_PER_USER = 200


def _split(n_events: int, seed: int = 42):
    df = generate_synthetic_soc_dataset(
        n_users=max(1, n_events // EVENTS_PER_USER),
        events_per_user=EVENTS_PER_USER,
        random_state=seed,
    )
    return split_train_test(df, FEATURE_COLS, LABEL_COL, 0.2, seed)


def bench_detectors(sizes: list[int], names: list[str]) -> None:
    """Fit time and scoring rows/s of each detector at each data size."""
    for n_events in sizes:
        split = _split(n_events)
        train, test = split.X_train_df, split.X_test_df
        all_rows = pd.concat([train, test], ignore_index=True)
        print(f"\n{n_events:,} events: fit on {len(train):,} normal rows, score {len(all_rows):,}")
        print(f"{'detector':<14} {'ran':<14} {'fit (s)':>9} {'score rows/s':>14} {'ROC AUC':>8}")
        for name in names:
            ran = name
            if name == "ocsvm" and len(train) > OCSVM_EXACT_MAX_ROWS:
                ran = "ocsvm_approx"
            # The production object, as detect and score run it (threaded scoring).
            model = AnomalyModel(detector=ran, features="table", random_state=42)
            model.fit_features(train)
            fit_s = model.fit_seconds_
            X_all = model.feature_matrix(all_rows)
            t0 = time.perf_counter()
            model.raw_scores(X_all)
            score_s = time.perf_counter() - t0
            auc = roc_auc_score(split.y_test, model.raw_scores(model.feature_matrix(test)))
            print(f"{name:<14} {ran:<14} {fit_s:>9.2f} {len(X_all) / score_s:>14,.0f} {auc:>8.4f}")
            sys.stdout.flush()


def bench_ocsvm(train_rows: int) -> bool:
    """Exact OCSVM vs ocsvm_approx on ``train_rows`` normal rows; True if targets met."""
    # Training rows are 80% of the normal events (99% of all events).
    n_events = int(np.ceil(train_rows / (0.8 * 0.99) / EVENTS_PER_USER)) * EVENTS_PER_USER
    split = _split(n_events)
    X_train, X_test, y_test = split.X_train[:train_rows], split.X_test, split.y_test
    print(f"\nOneClassSVM on {len(X_train):,} normal training rows, {len(X_test):,} test events")
    results = {}
    for name in ("ocsvm_approx", "ocsvm"):
        detector = get_detector(name).build(0.01, 42, FEATURE_COLS)
        t0 = time.perf_counter()
        # libsvm is single-threaded; pin BLAS so the scorer's threads do not oversubscribe.
        with threadpool_limits(limits=1):
            detector.fit(X_train)
        fit_s = time.perf_counter() - t0
        auc = roc_auc_score(y_test, anomaly_scores(detector, X_test))
        results[name] = (fit_s, auc)
        print(f"{name:<14} fit {fit_s:>8.1f} s   ROC AUC {auc:.4f}")
        sys.stdout.flush()
    (exact_s, exact_auc), (approx_s, approx_auc) = results["ocsvm"], results["ocsvm_approx"]
    speedup = exact_s / approx_s
    gap = exact_auc - approx_auc
    fast_ok, auc_ok = speedup >= 10, gap <= 0.005
    print(
        f"speed-up {speedup:.1f}x [target >= 10x: {'met' if fast_ok else 'MISSED'}]; "
        f"ROC AUC gap {gap:+.4f} [target <= 0.005: {'met' if auc_ok else 'MISSED'}]"
    )
    return fast_ok and auc_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["detectors", "ocsvm", "all"], default="all")
    parser.add_argument(
        "--sizes", default="40000,1000000", help="comma-separated event counts (detectors)"
    )
    parser.add_argument("--detectors", default="all", help="comma-separated names or 'all'")
    parser.add_argument("--ocsvm-rows", type=int, default=256_000, help="training rows (ocsvm)")
    args = parser.parse_args()
    names = list(DETECTORS) if args.detectors == "all" else args.detectors.split(",")
    names = [n for n in names if n != "ocsvm_approx"] + (
        ["ocsvm_approx"] if "ocsvm_approx" in names else []
    )
    ok = True
    if args.section in ("detectors", "all"):
        bench_detectors([int(s) for s in args.sizes.split(",")], names)
    if args.section in ("ocsvm", "all"):
        ok = bench_ocsvm(args.ocsvm_rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
