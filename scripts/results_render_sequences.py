"""Render docs/results/hdfs_sequences*.md from the CSV of ``benchmark --sequences --output``.

The published figures come from the package (soc_anomaly.experiment.published_sequences), the
same data the command prints, so the page and the console cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable

from results_render import BadInput, _header, _row, _rule

from soc_anomaly.experiment.published_sequences import PUBLISHED_SEQUENCE_FIGURES, SEQUENCE_TARGETS

#: The documented command (the folder is the shared data set's, relative to a checkout).
SEQUENCES_COMMAND = "soc-anomaly benchmark --sequences ../shared/datasets/sequences/hdfs_deeplog"
_COLUMNS = (
    "method",
    "precision",
    "recall",
    "f1",
    "fpr",
    "flagged_abnormal",
    "abnormal_sessions",
    "flagged_normal",
    "normal_sessions",
    "seed",
    "held_out",
)


def hdfs_sequences(seed: int) -> Callable[[list[dict[str, str]]], str]:
    """The renderer of the sequence benchmark's table at ``--seed seed``."""

    def render(rows: list[dict[str, str]]) -> str:
        if not rows or any(c not in rows[0] for c in _COLUMNS):
            raise BadInput(
                "not the table of `soc-anomaly benchmark --sequences --output` (expected the "
                "columns " + ", ".join(_COLUMNS) + ")"
            )
        if any(int(r["seed"]) != seed for r in rows):
            raise BadInput(f"the run is not at --seed {seed}, which this table documents")
        first = rows[0]
        n_abnormal, n_normal = int(first["abnormal_sessions"]), int(first["normal_sessions"])
        held = first["held_out"] == "true"
        command = SEQUENCES_COMMAND + (f" --seed {seed}" if seed else "")
        lines = [
            _header(command, "--output table.csv"),
            "",
            f"Sessions: {n_abnormal:,} abnormal test sessions, {n_normal:,} normal test sessions"
            + (f" (a 20% hold-out of the training file drawn with seed {seed})" if held else "")
            + ". A session is flagged when any of its events (its end included) is anomalous: "
            f"`markov`, its key is outside the {first['top_g']} most probable after the last 3 "
            "keys (population n-gram, Witten-Bell back-off) or never followed them in training; "
            f"`lstm`, outside the LSTM's top {first['top_g']} after the last {first['window']} "
            "keys (DeepLog); `unseen_pair`, a pair of consecutive keys (start and end included) "
            "no training session has. A key the training sessions lack is always anomalous.",
            "",
            _row(
                [
                    "method",
                    "precision",
                    "recall",
                    "F1",
                    "FPR",
                    "abnormal flagged",
                    "normal flagged",
                    "target F1",
                ]
            ),
            _rule(["---"] + ["---:"] * 7),
        ]
        for r in rows:
            target = SEQUENCE_TARGETS.get(r["method"])
            f1 = float(r["f1"])
            verdict = (
                "-"
                if target is None
                else (f">= {target:.2f} {'reached' if f1 >= target else 'not reached'}")
            )
            lines.append(
                _row(
                    [
                        f"`{r['method']}`",
                        f"{float(r['precision']):.4f}",
                        f"{float(r['recall']):.4f}",
                        f"{f1:.4f}",
                        f"{float(r['fpr']):.4f}",
                        f"{int(r['flagged_abnormal']):,} / {n_abnormal:,}",
                        f"{int(r['flagged_normal']):,} / {n_normal:,}",
                        verdict,
                    ]
                )
            )
        everything = 2 * n_abnormal / (2 * n_abnormal + n_normal)
        lines += [
            "",
            f"Flagging every session would score F1 {everything:.4f} on these sessions, so F1 "
            "says little here: read it with the false-positive rate.",
            "",
            "Published on HDFS (different splits, indicative only):",
            "",
            _row(["method", "precision", "recall", "F1", "source"]),
            _rule(["---", "---:", "---:", "---:", "---"]),
        ]
        for p in PUBLISHED_SEQUENCE_FIGURES:
            lines.append(
                _row(
                    [
                        p.method,
                        "-" if p.precision is None else f"{p.precision:.2f}",
                        "-" if p.recall is None else f"{p.recall:.2f}",
                        f"{p.f1:.3g}",
                        p.source,
                    ]
                )
            )
        return "\n".join(lines) + "\n"

    return render
