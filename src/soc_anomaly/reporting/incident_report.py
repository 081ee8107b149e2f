"""The "Top incidents" block of ``detect``'s console report (the enterprise world).

Printed after the summary: the chosen detector's strongest raised incidents
(by score, see :mod:`soc_anomaly.reporting.incident_view`), at most ``--top``
of them, each with its id, score, when it was raised, its main campaign (the
truth) and its narrative. Names inside a narrative are data: the console
prints them as plain text, never as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from soc_anomaly.experiment.results import DetectionResult
from soc_anomaly.reporting.console import out as default_out
from soc_anomaly.reporting.incident_view import (
    chosen_model,
    incident_truth,
    outcomes_of,
    raised_time,
    technique_names,
    top_incidents,
)
from soc_anomaly.reporting.report_format import print_wrapped

__all__ = ["print_top_incidents"]


def print_top_incidents(
    result: DetectionResult, console: Console | None = None, top: int | None = None
) -> None:
    """Print the chosen detector's strongest raised incidents (nothing without incidents).

    Parameters
    ----------
    result : DetectionResult
        The run.
    console : rich.console.Console, optional
        Where to print; default stdout.
    top : int, optional
        Incidents listed at most; default the run's ``--top``.
    """
    out = console if console is not None else default_out
    m = chosen_model(result)
    if m is None or m.incidents is None:
        return
    n = result.config.top_explanations if top is None else top
    shown = top_incidents(m.incidents, n)
    first = " (first seed)" if len(result.runs) > 1 else ""
    out.print(
        f"\n[bold]Top {len(shown)} of {len(m.incidents):,} raised incidents of "
        f"{escape(m.name)}[/]{first} (by score; main campaign: the truth)",
        soft_wrap=False,
    )
    if not shown:
        print_wrapped(out, "  none were raised")
        return
    outcomes = outcomes_of(m)
    events = result.runs[0].test_events
    for k, inc in enumerate(shown, start=1):
        truth = incident_truth(inc, events, outcomes)
        at = raised_time(inc)
        raised = "" if at is None else f"  raised {at:%Y-%m-%d %H:%M}"
        techniques = technique_names(inc)
        print_wrapped(
            out,
            f"{k:>3}. {inc.incident_id}  score {inc.score:,.2f}  {len(inc.events):,} events"
            f"{raised}  {truth.text()}",
        )
        print_wrapped(out, f"       {inc.narrative}")
        if techniques:
            print_wrapped(out, f"       ATT&CK: {', '.join(techniques)}")
