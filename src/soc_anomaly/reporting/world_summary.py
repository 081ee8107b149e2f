"""The console summary ``soc-anomaly generate`` prints for an enterprise world."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from soc_anomaly.scenarios.enterprise.summary import WorldSummary

__all__ = ["print_world_summary"]


def print_world_summary(summary: WorldSummary, console: Console) -> None:
    """Print events per kind, users, campaigns per scenario and intensity, benign oddities.

    Parameters
    ----------
    summary : WorldSummary
        From :func:`soc_anomaly.scenarios.enterprise.summary.summarize_world`.
    console : rich.console.Console
        Where to print.
    """
    days = (summary.end - summary.start).total_seconds() / 86400
    # Three short lines rather than one of ~190 characters: they fit 100 columns.
    console.print(
        f"{summary.n_events:,} events over {days:.1f} days "
        f"({summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}):\n"
        f"  {summary.n_auth:,} authentication, {summary.n_network:,} network; "
        f"{summary.n_attack:,} attack events "
        f"({summary.n_attack / max(summary.n_events, 1):.2%})\n"
        f"  {summary.n_users:,} staff accounts"
        + (
            f" (and {summary.n_attacker_only_names:,} names only attackers tried)"
            if summary.n_attacker_only_names
            else ""
        )
    )
    table = Table(title="Campaigns", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("scenario")
    for col in summary.campaigns.columns:
        table.add_column(str(col), justify="right")
    for name, row in summary.campaigns.iterrows():
        table.add_row(str(name), *(f"{int(v):,}" for v in row))
    console.print(table)
    benign = Table(
        title="Benign oddities (label 0)", title_justify="left", show_edge=False, pad_edge=False
    )
    benign.add_column("tag")
    benign.add_column("events", justify="right")
    for tag, n in summary.benign.items():
        benign.add_row(str(tag), f"{int(n):,}")
    console.print(benign)
