"""The console report of ``benchmark --sequences``: the protocol, ours, the published figures."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.table import Table

from soc_anomaly.data.io import write_via
from soc_anomaly.experiment.published_sequences import PUBLISHED_SEQUENCE_FIGURES, SEQUENCE_TARGETS
from soc_anomaly.experiment.sequence_benchmark import HOLDOUT_FRACTION, SequenceBenchmark
from soc_anomaly.reporting.console import out

__all__ = ["CSV_COLUMNS", "print_sequence_benchmark", "protocol_lines", "write_results_csv"]


def protocol_lines(run: SequenceBenchmark) -> list[str]:
    """The protocol of this run in a few sentences (printed above the table)."""
    split = run.split
    if split.held_out:
        normal = (
            f"no *test_normal* file: {len(split.normal):,} normal test sessions are a "
            f"{HOLDOUT_FRACTION:.0%} hold-out of {split.files['train']} drawn with seed {run.seed}"
        )
    else:
        normal = f"{len(split.normal):,} normal test sessions from {split.files['test_normal']}"
    return [
        f"Fitted on {len(split.train):,} normal training sessions of {split.files['train']} "
        f"({split.n_keys} distinct keys; a key they lack is 'unknown', always anomalous); "
        f"{normal}; {len(split.abnormal):,} abnormal test sessions from "
        f"{split.files['test_abnormal']}.",
        f"A session is flagged when one of its events is, its end included: markov = key outside "
        f"the top {run.top_g} after the last 3 keys or never seen after them in training "
        f"(n-gram, back-off to shorter contexts); lstm = key outside the LSTM's top {run.top_g} "
        f"after the last {run.window} keys (DeepLog); unseen_pair = a pair of consecutive keys "
        "(start and end included) no training session has.",
    ]


def _share(value: float) -> str:
    return f"{value:.4f}"


def print_sequence_benchmark(run: SequenceBenchmark) -> None:
    """Print the protocol, our figures with the targets, and the published figures."""
    for line in protocol_lines(run):
        out.print(line, markup=False, highlight=False)
    view = Table(title="Sessions of log keys: ours", title_justify="left")
    for name in ("Method", "Precision", "Recall", "F1", "FPR", "Abnormal flagged",
                 "Normal flagged", "Seconds", "Target F1"):  # fmt: skip
        view.add_column(name, justify="left" if name == "Method" else "right")
    for r in run.results:
        target = SEQUENCE_TARGETS.get(r.method)
        verdict = (
            "-"
            if target is None
            else f">= {target:.2f} " + ("reached" if r.f1 >= target else "[bold red]not reached[/]")
        )
        view.add_row(
            r.method,
            _share(r.precision),
            _share(r.recall),
            _share(r.f1),
            _share(r.fpr),
            f"{r.flagged_abnormal:,} / {r.abnormal_sessions:,}",
            f"{r.flagged_normal:,} / {r.normal_sessions:,}",
            f"{r.seconds:.1f}",
            verdict,
        )
    out.print(view)
    n_abnormal, n_normal = len(run.split.abnormal), len(run.split.normal)
    everything = 2 * n_abnormal / (2 * n_abnormal + n_normal)
    out.print(
        f"Flagging every session would score F1 {everything:.4f} here ({n_abnormal:,} abnormal "
        f"against {n_normal:,} normal test sessions): read F1 with the FPR.",
        markup=False,
        highlight=False,
    )
    for why in run.skipped.values():
        out.print(why, markup=False, highlight=False)
    published = Table(
        title="Published on HDFS (different splits, indicative only)", title_justify="left"
    )
    for name in ("Method", "Precision", "Recall", "F1", "Source"):
        published.add_column(name, justify="left" if name in ("Method", "Source") else "right")
    for p in PUBLISHED_SEQUENCE_FIGURES:
        published.add_row(
            p.method,
            "-" if p.precision is None else f"{p.precision:.2f}",
            "-" if p.recall is None else f"{p.recall:.2f}",
            f"{p.f1:.3g}",
            p.source,
        )
    out.print(published)


#: Columns of the ``--output`` CSV: the required five, then what they were computed on.
CSV_COLUMNS = (
    "method", "precision", "recall", "f1", "fpr", "flagged_abnormal", "abnormal_sessions",
    "flagged_normal", "normal_sessions", "seconds", "top_g", "window", "seed", "held_out",
)  # fmt: skip


def write_results_csv(run: SequenceBenchmark, path: Path) -> Path:
    """Write one row per method (:data:`CSV_COLUMNS`) to ``path``, atomically."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for r in run.results:
                writer.writerow([
                    r.method, f"{r.precision:.6f}", f"{r.recall:.6f}", f"{r.f1:.6f}",
                    f"{r.fpr:.6f}", r.flagged_abnormal, r.abnormal_sessions, r.flagged_normal,
                    r.normal_sessions, f"{r.seconds:.2f}", run.top_g, run.window, run.seed,
                    str(run.split.held_out).lower(),
                ])  # fmt: skip

    return write_via(path, write)
