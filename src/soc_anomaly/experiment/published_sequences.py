"""Published figures on HDFS log-key sessions, printed beside the sequence benchmark's.

Source: the README of the shared data sets (``datasets/README.md``, section
"Sequences of log keys"), which quotes DeepLog (Du et al., CCS 2017), loglizer's
unsupervised baselines (He et al., ISSRE 2016, and the loglizer README) and
LogBERT's re-run of DeepLog (Guo et al., IJCNN 2021). Their splits differ from
ours (and from each other), so the comparison is indicative only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PUBLISHED_SEQUENCE_FIGURES", "SEQUENCE_TARGETS", "PublishedFigure"]


@dataclass(frozen=True)
class PublishedFigure:
    """One published result on HDFS; a figure the source does not give is None."""

    method: str
    precision: float | None
    recall: float | None
    f1: float
    source: str


#: Published results on HDFS, best first as the sources give them.
PUBLISHED_SEQUENCE_FIGURES: tuple[PublishedFigure, ...] = (
    PublishedFigure("DeepLog", 0.95, 0.96, 0.96, "Du et al., CCS 2017"),
    PublishedFigure("Invariants Mining", None, None, 0.915, "loglizer (He et al., ISSRE 2016)"),
    PublishedFigure("IsolationForest", None, None, 0.802, "loglizer"),
    PublishedFigure("PCA", None, None, 0.769, "loglizer"),
    PublishedFigure("LOF", None, None, 0.710, "loglizer"),
    PublishedFigure("DeepLog (LogBERT's re-run)", None, None, 0.77, "Guo et al., IJCNN 2021"),
)

#: The F1 each of our methods is expected to reach on HDFS (issue 19).
SEQUENCE_TARGETS: dict[str, float] = {"markov": 0.90, "lstm": 0.93}
