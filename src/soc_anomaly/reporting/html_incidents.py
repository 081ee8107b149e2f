"""The incident section of the ``detect`` HTML report (the enterprise world).

For the chosen detector (ranked first), a table of its strongest raised
incidents (:data:`HTML_TOP_INCIDENTS`, by score; see
:mod:`soc_anomaly.reporting.incident_view`) with what they hold, the ATT&CK
techniques their events suggest, their narrative and the truth, then a
timeline of each of the first :data:`HTML_INCIDENT_TIMELINES` (drawn unless
the run turned figures off). Every value from the events (names, narratives)
is escaped.
"""

from __future__ import annotations

from typing import Any

from soc_anomaly.experiment.results import DetectionResult, ModelResult
from soc_anomaly.incidents import Incident
from soc_anomaly.reporting.html_alerts import when
from soc_anomaly.reporting.html_page import Markup, esc, figure_from_bytes
from soc_anomaly.reporting.incident_view import (
    chosen_model,
    incident_truth,
    listed,
    outcomes_of,
    raised_time,
    sources,
    technique_names,
    top_incidents,
)

__all__ = ["HTML_INCIDENT_TIMELINES", "HTML_TOP_INCIDENTS", "has_incidents", "incidents_section"]

#: Raised incidents listed in the table, strongest first.
HTML_TOP_INCIDENTS = 20
#: Of those, how many get a timeline figure (each is a ~30 KB PNG).
HTML_INCIDENT_TIMELINES = 6
_NONE = "\N{EN DASH}"


def has_incidents(result: DetectionResult) -> bool:
    """Whether the chosen detector raised incidents the report can show."""
    return chosen_model(result) is not None


def _anchor(k: int) -> str:
    return f"incident-timeline-{k}"


def _cell_list(names: list[str]) -> str:
    return listed(names) if names else _NONE


def incidents_section(result: DetectionResult) -> Markup:
    """The incident table and timelines of the chosen detector (a note when it raised none)."""
    m = chosen_model(result)
    if m is None or m.incidents is None:
        return Markup("<p>No incidents were raised.</p>")
    run = result.runs[0]
    shown = top_incidents(m.incidents, HTML_TOP_INCIDENTS)
    n_days = len({i.incident_id.split("-")[1] for i in m.incidents if "-" in i.incident_id})
    intro = (
        f"<p>{esc(m.name)} raised {len(m.incidents):,} incidents"
        + (f" over {n_days:,} days" if n_days else "")
        + (" (first seed)" if len(result.runs) > 1 else "")
        + f"; the {len(shown):,} strongest, by score (ties: raised earlier first). An incident "
        "is candidate events linked by a rare entity they share (account, source host or "
        "address, destination); its score grows with the evidence, how far into the tail "
        "of normal scores its events lie across principals and hours.</p>"
    )
    if not shown:
        return Markup(intro)
    outcomes = outcomes_of(m)
    timelines = min(HTML_INCIDENT_TIMELINES, len(shown)) if result.config.plots else 0
    rows: list[tuple[list[Any], Markup]] = []
    for k, inc in enumerate(shown, start=1):
        truth = incident_truth(inc, run.test_events, outcomes)
        ident: Any = inc.incident_id
        if k <= timelines:
            ident = Markup(f'<a href="#{_anchor(k)}">{esc(inc.incident_id)}</a>')
        raised = raised_time(inc)
        techniques = technique_names(inc)
        cells = [
            k,
            ident,
            _NONE if raised is None else when(raised),
            f"{inc.score:,.2f}",
            len(inc.events),
            _cell_list(inc.entities.get("account", [])),
            _cell_list(sources(inc)),
            _cell_list(inc.entities.get("destination", [])),
            _truth_cell(truth.text(), truth.campaign_id is not None, truth.known),
        ]
        attack = (
            Markup(f"<br><strong>ATT&amp;CK:</strong> {esc('; '.join(techniques))}")
            if techniques
            else Markup("")
        )
        rows.append((cells, Markup(f"<strong>Narrative:</strong> {esc(inc.narrative)}{attack}")))
    headers = [
        "#",
        "Incident",
        "Raised (UTC)",
        "Score",
        "Events",
        "Accounts",
        "Sources",
        "Destinations",
        "Truth",
    ]
    incident_table = _paired_table(headers, rows, numeric={0, 3, 4}, nowrap={1, 2}) + Markup(
        '<p class="caption">Raised: when its score first reached the lowest score raised '
        "that day. Sources: source hosts, then addresses; three names are listed, then how "
        "many more. ATT&amp;CK: the techniques its events suggest, by the rules of "
        "<code>soc_anomaly.incidents.TECHNIQUES</code>. Truth: its main campaign (the one most "
        "of its campaign events belong to, the only one it counts as catching) with its "
        "scenario and intensity and how many of its events are that campaign's, or none "
        "(false) with its events' commonest benign tag.</p>"
    )
    return Markup(intro + incident_table + _timelines(result, m, shown[:timelines]))


def _paired_table(
    headers: list[str],
    rows: list[tuple[list[Any], Markup]],
    *,
    numeric: set[int],
    nowrap: set[int],
) -> Markup:
    """A table of two rows per incident: its cells, then its narrative across the table.

    Each incident is its own ``<tbody>``, so the zebra stripes pair the two rows.
    """

    def attrs(j: int) -> str:
        return ' class="num"' if j in numeric else ' class="nowrap"' if j in nowrap else ""

    head = "".join(f'<th scope="col"{attrs(j)}>{esc(h)}</th>' for j, h in enumerate(headers))
    bodies = []
    for cells, detail in rows:
        tds = "".join(f"<td{attrs(j)}>{_cell(c)}</td>" for j, c in enumerate(cells))
        bodies.append(
            f'<tbody><tr>{tds}</tr><tr class="detail"><td></td>'
            f'<td colspan="{len(headers) - 1}">{detail}</td></tr></tbody>'
        )
    return Markup(
        f'<div class="table-wrap"><table class="incidents"><thead><tr>{head}</tr></thead>'
        f"{''.join(bodies)}</table></div>"
    )


def _cell(value: Any) -> Markup:
    # Counts with thousands separators; everything else escaped (Markup passes).
    if isinstance(value, int) and not isinstance(value, bool):
        return Markup(f"{value:,}")
    return esc(value)


def _truth_cell(text: str, attack: bool, known: bool) -> Any:
    if not known:
        return _NONE
    kind = "attack" if attack else "normal"
    return Markup(f'<span class="tag {kind}">{esc(text)}</span>')


def _timelines(result: DetectionResult, m: ModelResult, shown: list[Incident]) -> Markup:
    if not result.config.plots:
        return Markup(
            '<p class="note">Incident timelines were turned off for this run (--no-plots).</p>'
        )
    if not shown:
        return Markup("")
    # Imported here: matplotlib is only loaded when a timeline is drawn.
    from soc_anomaly.reporting.incident_figures import (
        incident_timeline_figure,
        incident_timeline_png,
    )

    run = result.runs[0]
    outcomes = outcomes_of(m)
    parts = [
        f"<h3>Timelines of the {len(shown):,} strongest incidents</h3>"
        "<p>Each event of the incident by its calibrated score (axis stretched towards 100) "
        "and what it was; the dashed line marks when the incident was raised.</p>"
    ]
    for k, inc in enumerate(shown, start=1):
        truth = incident_truth(inc, run.test_events, outcomes)
        fig = incident_timeline_figure(inc, run.test_events, m.calibrated_test_scores, truth)
        png = incident_timeline_png(fig)
        caption = f"Incident {k}: {inc.incident_id} of {m.name}, {truth.text()}"
        parts.append(figure_from_bytes(png, caption, alt=caption, anchor=_anchor(k)))
    return Markup("".join(parts))
