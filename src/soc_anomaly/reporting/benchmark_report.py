"""The console table of ``benchmark``: our ROC AUC beside the published one, with notes."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

from soc_anomaly.experiment.published import TOLERANCE
from soc_anomaly.reporting.console import out

__all__ = ["print_table"]


def _auc(mean: float, std: float) -> str:
    """``0.9221 ± 0.0122``; a std the paper did not give is unknown, not zero."""
    if math.isnan(mean):
        return "-"
    return f"{mean:.4f} ± {'unknown' if math.isnan(std) else f'{std:.4f}'}"


def print_table(table: pd.DataFrame, seeds: int) -> None:
    """Print ours beside published, the difference, and the notes as footnotes."""
    view = Table(
        title=f"ROC AUC, published protocol, {seeds} seed{'s' if seeds != 1 else ''}",
        title_justify="left",
    )
    for name, justify in (
        ("Dataset", "left"),
        ("Method", "left"),
        ("Our detector", "left"),
        ("Ours mean ± std", "right"),
        ("Published mean ± std", "right"),
        ("Δ ours - published", "right"),
        ("Fit s/seed", "right"),
        ("Notes", "left"),
    ):
        view.add_column(name, justify=justify)

    footnotes: dict[str, int] = {}
    outside = 0
    previous = None
    for r in table.itertuples(index=False):
        if previous is not None and r.dataset != previous:
            view.add_section()
        previous = r.dataset
        if math.isnan(r.delta):
            delta = "-"
        elif r.within_0_03:
            delta = f"{r.delta:+.4f}"
        else:
            outside += 1
            delta = f"[bold red]{r.delta:+.4f} ✗[/]"
        marks = []
        for note in filter(None, r.note.split("; ")):
            marks.append(f"[{footnotes.setdefault(note, len(footnotes) + 1)}]")
        view.add_row(
            r.dataset,
            r.method,
            r.detector or "-",
            _auc(r.ours_mean, r.ours_std),
            _auc(r.published_mean, r.published_std),
            delta,
            "-" if math.isnan(r.fit_seconds) else f"{r.fit_seconds:.2f}",
            " ".join(marks),
        )
    out.print(view)
    out.print(
        f"✗ = outside ±{TOLERANCE:g} of the published mean "
        f"({outside} of {int(table['delta'].notna().sum())} compared)"
    )
    for note, number in footnotes.items():
        out.print(f"[{number}] {note}", markup=False)
