"""Number formats and wrapped prose shared by the console reports.

One format per kind of number, so that a quantity reads the same in every
table: shares and rank metrics with three decimals, counts with thousands
separators, alerts a day with one decimal, calibrated scores with as many
decimals as tell them apart.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Console

from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.results import TEST_RULE, TRAIN_RULE, MeanStd

__all__ = [
    "RULE_LABELS",
    "calibrated_text",
    "count",
    "pct",
    "per_day",
    "pm",
    "print_wrapped",
    "ranks",
    "rate",
    "rule_label",
    "score_digits",
]

#: Threshold rules in the order they are printed.
RULE_LABELS = {
    TRAIN_RULE: "p{pct} of normal training scores",
    TEST_RULE: "p{pct} of test scores",
    "fbeta": "F{beta} optimum of the PR curve",
    "alert_budget": "{budget} alerts a day",
}


def rate(value: float) -> str:
    """A share or a rank metric (precision, recall, AUC): three decimals."""
    return f"{value:.3f}"


def count(value: int) -> str:
    return f"{value:,}"


def per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def pct(value: float) -> str:
    return f"{value:.0%}"


def rule_label(rule: str, cfg: DetectConfig) -> str:
    label = RULE_LABELS[rule].format(
        pct=f"{cfg.threshold_percentile:g}", beta=f"{cfg.beta:g}", budget=f"{cfg.alerts_per_day:g}"
    )
    # The enterprise world's budget scales with the organisation (see DetectConfig).
    return f"{label} per 500 staff" if rule == "alert_budget" and cfg.enterprise else label


def pm(value: MeanStd, fmt: str, n_seeds: int) -> str:
    text = format(value.mean, fmt)
    return f"{text} ± {format(value.std, fmt)}" if n_seeds > 1 else text


def ranks(keys: Sequence[tuple[float, ...]]) -> list[int]:
    """Competition ranks of already sorted keys: equal keys share a rank (1, 1, 3)."""
    out: list[int] = []
    for i, key in enumerate(keys):
        out.append(out[-1] if i and key == keys[i - 1] else i + 1)
    return out


def score_digits(values: Sequence[float], lowest: int = 1, highest: int = 4) -> int:
    """Fewest decimals (within bounds) that print distinct values distinctly.

    When even ``highest`` decimals cannot (scores so far above every training
    score that they all round to 100), ``lowest``: more digits would not help,
    and the raw scores printed beside them tell the alerts apart.
    """
    distinct = sorted(set(float(v) for v in values))
    for digits in range(lowest, highest + 1):
        if len({f"{v:.{digits}f}" for v in distinct}) == len(distinct):
            return digits
    return lowest


def calibrated_text(
    value: float, saturated: str = "100 (above every normal training score)"
) -> str:
    """A calibrated threshold or score: one decimal, more when it would read 100.

    ``saturated`` is printed for a value that rounds to 100 even at four decimals.
    """
    for digits in range(1, 5):
        text = f"{value:.{digits}f}"
        if float(text) < 100.0:
            return text
    return saturated


def print_wrapped(out: Console, line: str) -> None:
    """Print a plain line wrapped at the console width, keeping its indent."""
    indent = " " * (len(line) - len(line.lstrip(" ")))
    for part in textwrap.wrap(
        line.strip(),
        out.width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        # Flags, names and paths stay whole: "--feature-cols" never becomes "--feature-".
        break_on_hyphens=False,
    ):
        out.print(part, markup=False, highlight=False)
