"""Incidents in the reports: the HTML incident table and timelines, the console's top incidents.

Read from the session's full-size enterprise run (``world_run``, tests/conftest.py);
a hostile incident is made by replacing one incident of that run.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from rich.console import Console

from soc_anomaly.evaluation.campaigns import CampaignOutcome
from soc_anomaly.experiment.results import DetectionResult
from soc_anomaly.incidents import Incident
from soc_anomaly.reporting.detect_report import print_report
from soc_anomaly.reporting.html_incidents import HTML_INCIDENT_TIMELINES, HTML_TOP_INCIDENTS
from soc_anomaly.reporting.html_page import esc
from soc_anomaly.reporting.html_report import detect_report_html
from soc_anomaly.reporting.incident_figures import INCIDENT_FIGURE_DPI, INCIDENT_FIGURE_INCHES
from soc_anomaly.reporting.incident_report import print_top_incidents
from soc_anomaly.reporting.incident_view import chosen_model, incident_truth, top_incidents

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: A table row of the incident table: its rank, the timeline it links to, its id.
ROW = re.compile(
    r'<tbody><tr><td class="num">(\d+)</td><td class="nowrap">'
    r'(?:<a href="#([^"]+)">)?(INC-\d{8}-\d{4})'
)
HOSTILE_NAME = "<img src=x onerror=alert(1)>[bold red]forged[/]"
HOSTILE_NARRATIVE = "</td></tr><script>alert('x')</script> [red]forged[/]\nfake row"


def _with_plots(result: DetectionResult) -> DetectionResult:
    return dataclasses.replace(result, config=dataclasses.replace(result.config, plots=True))


def _section(page: str) -> str:
    start = page.index('<section id="incidents">')
    return page[start : page.index("</section>", start)]


def _console(width: int = 100) -> Console:
    return Console(width=width, record=True, file=io.StringIO(), highlight=False)


@pytest.fixture(scope="module")
def world_page(world_run: DetectionResult) -> str:
    """The world run's HTML report, timelines drawn (the fixture's run has figures off)."""
    return detect_report_html(_with_plots(world_run))


def _raised(result: DetectionResult) -> list[dict[str, Any]]:
    """The chosen detector's raised incidents, as metrics.json lists them."""
    assert result.metrics_path is not None
    metrics = json.loads(result.metrics_path.read_text(encoding="utf-8"))
    name = result.comparison()[0].name
    raised = metrics["models"][name]["raised_incidents"]
    assert raised, "the chosen detector raised no incident on the world"
    return raised


def test_the_incident_table_lists_the_strongest_raised_incidents(world_run, world_page) -> None:
    raised = _raised(world_run)
    rows = ROW.findall(_section(world_page))
    ids = [i for _, _, i in rows]
    assert [int(k) for k, _, _ in rows] == list(range(1, len(rows) + 1))
    assert len(ids) == len(set(ids)) == min(HTML_TOP_INCIDENTS, len(raised))
    # The table's incidents are raised ones, the strongest by score (metrics.json rounds
    # scores to 4 decimals).
    score = {r["incident_id"]: r["score"] for r in raised}
    assert set(ids) <= set(score)
    shown = [score[i] for i in ids]
    assert shown == sorted(shown, reverse=True)
    left_out = [s for i, s in score.items() if i not in set(ids)]
    assert max(left_out, default=0.0) <= min(shown) + 1e-4
    # Each row says what it holds and what it was.
    section = _section(world_page)
    assert ">Narrative:</strong>" in section and "ATT&amp;CK" in section
    assert re.search(r'<span class="tag attack">C\d{3} \w+ \(\w+\), \d+ of \d+ events', section)
    m = chosen_model(world_run)
    assert m is not None and m.incidents is not None
    top = top_incidents(m.incidents, 1)[0]
    assert esc(top.narrative) in section
    for kind in ("account", "destination"):
        if top.entities[kind]:
            assert esc(top.entities[kind][0]) in section


def test_the_first_incidents_get_timelines_that_are_valid_pngs(world_run, world_page) -> None:
    section = _section(world_page)
    rows = ROW.findall(section)
    links = [anchor for _, anchor, _ in rows if anchor]
    n = min(HTML_INCIDENT_TIMELINES, len(rows))
    assert len(links) == n > 0
    figures = re.findall(r'<figure id="([^"]+)"><img src="data:image/png;base64,([^"]+)"', section)
    assert [anchor for anchor, _ in figures] == links  # each table link finds its figure
    width, height = (round(x * INCIDENT_FIGURE_DPI) for x in INCIDENT_FIGURE_INCHES)
    for (_, data), (_, _, incident_id) in zip(figures, rows, strict=False):
        png = base64.b64decode(data)
        assert png.startswith(PNG_MAGIC) and len(png) < 150_000
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (width, height)
        assert f"{incident_id} of " in section  # captioned with its incident
    # Figures off: the table stays, a note says why there are no timelines.
    plain = _section(detect_report_html(world_run))
    assert "Incident timelines were turned off for this run (--no-plots)." in plain
    assert "<img" not in plain and len(ROW.findall(plain)) == len(rows)


def _hostile(result: DetectionResult) -> tuple[DetectionResult, Incident]:
    """``result`` with its chosen detector's strongest incident carrying hostile names."""
    m = chosen_model(result)
    assert m is not None and m.incidents is not None
    target = top_incidents(m.incidents, 1)[0]
    bad = dataclasses.replace(
        target,
        narrative=HOSTILE_NARRATIVE,
        entities={**target.entities, "account": [HOSTILE_NAME], "host": [HOSTILE_NAME]},
    )
    incidents = [bad if i is target else i for i in m.incidents]
    run = result.runs[0]
    models = [dataclasses.replace(x, incidents=incidents) if x is m else x for x in run.models]
    runs = [dataclasses.replace(run, models=models), *result.runs[1:]]
    return dataclasses.replace(result, runs=runs), bad


def test_hostile_names_and_narratives_are_escaped(world_run) -> None:
    odd, bad = _hostile(world_run)
    page = detect_report_html(odd)
    section = _section(page)
    assert "<script>" not in page and "<img src=x" not in page
    assert esc(HOSTILE_NARRATIVE) in section and esc(HOSTILE_NAME) in section
    # The console prints them as text: no Rich markup applied, no line forged.
    console = _console()
    print_top_incidents(odd, console, top=1)
    text = console.export_text()
    assert bad.incident_id in text
    assert "[red]forged[/]" in text
    assert all("forged" in line for line in text.splitlines() if "fake row" in line)


def test_the_console_lists_the_top_incidents_after_the_summary(world_run) -> None:
    m = chosen_model(world_run)
    assert m is not None and m.incidents is not None
    console = _console()
    print_top_incidents(world_run, console, top=3)
    text = console.export_text()
    expected = [i.incident_id for i in top_incidents(m.incidents, 3)]
    listed = re.findall(r"^ +\d+\. (INC-\d{8}-\d{4}) +score", text, flags=re.M)
    assert listed == expected
    assert f"Top 3 of {len(m.incidents):,} raised incidents of {m.name}" in " ".join(text.split())
    # In the whole report, --top bounds it, after the summary and before the ranking.
    console = _console()
    print_report(world_run, console=console)
    report = console.export_text()
    top = world_run.config.top_explanations
    block = report.index(f"Top {min(top, len(m.incidents))} of {len(m.incidents):,} raised")
    assert report.index("Summary") < block < report.index("Detectors ranked")
    assert len(re.findall(r"^ +\d+\. INC-\d{8}-\d{4} ", report, flags=re.M)) == min(
        top, len(m.incidents)
    )


def test_no_incidents_no_section_and_no_block(world_run) -> None:
    runs = [
        dataclasses.replace(
            run, models=[dataclasses.replace(x, incidents=None) for x in run.models]
        )
        for run in world_run.runs
    ]
    none = dataclasses.replace(world_run, runs=runs)
    assert '<section id="incidents">' not in detect_report_html(none)
    console = _console()
    print_top_incidents(none, console)
    assert console.export_text() == ""


def _outcome(cid: str, scenario: str) -> CampaignOutcome:
    return CampaignOutcome(cid, scenario, "subtle", 2, True, None, None, 0)


def test_truth_is_the_main_campaign_or_a_false_incident() -> None:
    events = pd.DataFrame(
        {
            "campaign_id": ["C002", "C001", "C002", "C001", pd.NA, pd.NA, pd.NA],
            "attack_type": ["spray", "stuffing", "spray", "stuffing", "normal", "normal", "normal"],
            "benign_tag": [pd.NA, pd.NA, pd.NA, pd.NA, "travel", "new_device", "travel"],
        }
    )
    outcomes = [_outcome("C001", "credential_stuffing"), _outcome("C002", "password_spray")]

    def incident(rows: list[int]) -> Incident:
        return Incident("INC-20260101-0001", rows, {}, 0, 1, 1.0, 99.0, 0, 1, [], "")

    # A tie goes to the first campaign of the manifest, as the queue's evaluation does.
    tie = incident_truth(incident([0, 1, 2, 3, 4]), events, outcomes)
    assert (tie.campaign_id, tie.scenario, tie.main_events, tie.n_events) == (
        "C001",
        "credential_stuffing",
        2,
        5,
    )
    assert tie.text() == "C001 credential_stuffing (subtle), 2 of 5 events"
    false = incident_truth(incident([4, 5, 6]), events, outcomes)
    assert false.campaign_id is None and false.text() == "none (false): benign travel"
    unknown = incident_truth(incident([0, 9]), events, outcomes)
    assert unknown.text() == "unknown"
