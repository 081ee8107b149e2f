"""The HTML reports of ``detect --report`` and ``score --report``.

The detect report is opened in a real headless Chromium (Debian's package,
driven by Playwright): it must render with no console error, fetch nothing
but its own file and data: URIs, and show every figure. A screenshot of its
first screen is saved beside the test's files, and with
SOC_ANOMALY_UPDATE_SCREENSHOT=1 to docs/images/html_report.png for the README.

Chromium is required, not optional: CI installs it (``apt-get install -y
chromium``). Without it the browser tests fail with a message saying so,
unless ``SOC_ANOMALY_SKIP_BROWSER=1`` is set.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.cli import main
from soc_anomaly.data.event_stream import read_event_chunks
from soc_anomaly.data.io import atomic_write
from soc_anomaly.errors import SocAnomalyError
from soc_anomaly.experiment.results import campaign_headline
from soc_anomaly.model import AnomalyModel, read_manifest
from soc_anomaly.model.scoring import ScoredWriter, score_stream
from soc_anomaly.reporting import html_page, html_report
from soc_anomaly.reporting.html_report import detect_report_html, event_rows, write_detect_report
from soc_anomaly.reporting.score_report import ScoreReportCollector
from soc_anomaly.scenarios import generate_world

#: The browser: Debian's Chromium unless SOC_ANOMALY_CHROMIUM names another binary.
CHROMIUM = Path(os.environ.get("SOC_ANOMALY_CHROMIUM", "/usr/bin/chromium"))
#: Headless, as root in a container (no sandbox), no GPU, and no traffic of its own
#: (updates, sync, field trials) that would muddy the record of requests.
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "html_report.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detect_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small seed run through the command line with --report, and the result it reported."""
    root = tmp_path_factory.mktemp("detect_report")
    report = root / "report.html"
    reported: list[Any] = []

    def keep(result: Any, path: Path) -> Path:
        reported.append(result)
        return write_detect_report(result, path)

    # The command imports the writer when it needs it: catch the result on its way.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(html_report, "write_detect_report", keep)
        argv = [
            "detect",
            "--n-users",
            "40",
            "--plots-dir",
            str(root / "plots"),
            "--importance-repeats",
            "0",
            "--report",
            str(report),
        ]
        assert main(argv) == 0
    assert len(reported) == 1
    return {"report": report, "root": root, "result": reported[0]}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if os.environ.get("SOC_ANOMALY_SKIP_BROWSER") == "1":
        pytest.skip("SOC_ANOMALY_SKIP_BROWSER=1: the browser checks of the HTML report are off")
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the HTML report is tested in Debian's Chromium; install it "
            "with `apt-get install -y chromium` (or set SOC_ANOMALY_SKIP_BROWSER=1 to skip)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "playwright is missing; install the test extra: pip install '.[test]'", pytrace=False
        )
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def open_report(browser: Any, path: Path) -> tuple[Any, Any, dict[str, list[str]]]:
    """Load ``path`` in a fresh context; record console errors and every request.

    Every request is routed: data: and file: go through, anything else is
    aborted and recorded, so a report that reaches out fails here even offline.
    """
    seen: dict[str, list[str]] = {"errors": [], "requests": [], "routed": [], "failed": []}
    context = browser.new_context(viewport=VIEWPORT)

    def route(r: Any) -> None:
        seen["routed"].append(r.request.url)
        if r.request.url.startswith(("data:", "file:")):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return context, page, seen


def assert_self_contained(page: Any, seen: dict[str, list[str]]) -> None:
    """No console error, no request but data:/file:, no script, every image decoded."""
    assert seen["errors"] == []
    assert seen["failed"] == []
    foreign = [u for u in seen["requests"] + seen["routed"] if not u.startswith(("data:", "file:"))]
    assert foreign == []
    active = "script, link, iframe, object, embed, form, base, [src^='http'], [href^='http']"
    assert page.eval_on_selector_all(active, "els => els.length") == 0
    images = page.eval_on_selector_all(
        "img", "els => els.map(i => [i.complete, i.naturalWidth, i.src.slice(0, 22)])"
    )
    assert all(
        done and width > 0 and src == "data:image/png;base64," for done, width, src in images
    )
    # Every contents entry leads somewhere on the page.
    targets = page.eval_on_selector_all(
        "nav a", "els => els.map(a => !!document.getElementById(a.hash.slice(1)))"
    )
    assert targets and all(targets)


# --- detect --report in the browser --------------------------------------------------


def test_detect_report_renders_offline_in_chromium(detect_run, browser, tmp_path) -> None:
    result = detect_run["result"]
    context, page, seen = open_report(browser, detect_run["report"])
    try:
        assert_self_contained(page, seen)
        # One embedded figure per PNG of the run, each with a caption.
        n_figures = len(list((detect_run["root"] / "plots").glob("*.png")))
        assert n_figures == len(result.plot_paths) > 0
        assert page.eval_on_selector_all("figure img", "els => els.length") == n_figures
        assert page.eval_on_selector_all("figcaption", "els => els.length") == n_figures
        # The summary comes first, then the contents; the page is laid out, not a wall.
        order = page.eval_on_selector_all(
            "main > section, main > nav", "els => els.map(e => e.id || e.tagName)"
        )
        assert order[:2] == ["summary", "NAV"]
        width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert 800 <= width <= 1200
        summary = page.inner_text("#summary")
        best = result.comparison()[0].name
        assert f"Use {best}, ranked first: PR AUC" in summary
        assert f"{result.dataset.n_events:,}" in summary
        terminal = page.inner_text("#terminal pre")
        for m in result.models:
            assert m.name in terminal
        config = page.inner_text("#configuration")
        assert "threshold_percentile" in config and "99.0" in config
        # The first screen goes into the docs (and beside the test's files).
        shot = tmp_path / "html_report.png"
        page.screenshot(path=str(shot))
    finally:
        context.close()
    png = shot.read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert 10_000 < len(png) < 400_000
    # The README's picture is refreshed on request only, so a test run does not
    # leave the work tree changed: SOC_ANOMALY_UPDATE_SCREENSHOT=1 pytest ...
    if os.environ.get("SOC_ANOMALY_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(SCREENSHOT) as tmp:
            tmp.write_bytes(png)


def test_top_alerts_name_the_events_they_explain(detect_run) -> None:
    result = detect_run["result"]
    run = result.runs[0]
    text = _Text.of(detect_report_html(result))
    for m in result.models:
        rows = event_rows(run, m.explanations)
        assert len(rows) == len(m.explanations) > 0
        for e, row in zip(m.explanations, rows, strict=True):
            assert row is not None
            # test_events is positional, in the order of test_index: the explained event.
            position = list(run.test_index).index(e.index)
            assert row["event_id"] == run.test_events["event_id"].iloc[position]
            assert (row["attack_type"] != "normal") == (e.true_label == 1)
            assert str(row["user"]) in text
            for sentence in e.explanations:
                assert sentence in text


def test_report_file_is_the_page_and_embeds_the_plots(detect_run) -> None:
    report = detect_run["report"]
    page = report.read_text(encoding="utf-8")
    parsed = _Parsed.of(page)
    plots = sorted((detect_run["root"] / "plots").glob("*.png"))
    embedded = [base64.b64decode(src.split(",", 1)[1]) for src in parsed.images]
    assert sorted(embedded) == sorted(p.read_bytes() for p in plots)
    assert parsed.scripts == 0
    assert {
        "summary",
        "thresholds",
        "top-alerts",
        "figures",
        "terminal",
        "configuration",
        "data",
    } <= parsed.ids
    assert "campaigns" not in parsed.ids  # the seed scenario has none
    assert not list(report.parent.glob(".report.html.*"))  # no temporary file left behind


def test_text_is_escaped(detect_run) -> None:
    result = detect_run["result"]
    hostile = "<script>alert('x')</script> & <img src=http://evil.example/x.png>"
    odd = dataclasses.replace(result, notes=[hostile])
    page = detect_report_html(odd)
    assert "<script>" not in page and "evil.example/x.png>" not in page
    assert html_page.esc(hostile) in page
    assert _Parsed.of(page).scripts == 0


def test_without_plots_the_report_says_so(detect_run) -> None:
    result = detect_run["result"]
    off = dataclasses.replace(
        result, config=dataclasses.replace(result.config, plots=False), plot_paths=[]
    )
    page = detect_report_html(off)
    assert "Figures were turned off for this run (--no-plots)." in page
    assert _Parsed.of(page).images == []


def test_enterprise_report_lists_every_campaign(tmp_path, world_run) -> None:
    result = world_run  # the session's full-size enterprise run (tests/conftest.py)
    page = write_detect_report(result, tmp_path / "world.htm").read_text(encoding="utf-8")
    parsed = _Parsed.of(page)
    assert "campaigns" in parsed.ids
    text = _Text.of(page)
    campaigns = result.models[0].campaigns
    head = campaign_headline(campaigns)
    assert len(head.outcomes) == head.n_campaigns > 0
    for o in head.outcomes:
        assert o.campaign_id in text
    assert f"{head.caught}/{head.n_campaigns}" in text
    # Every explained alert of the world names its user and, for an attack, its campaign.
    run = result.runs[0]
    for e, row in zip(
        result.models[0].explanations, event_rows(run, result.models[0].explanations), strict=True
    ):
        assert row is not None and str(row["user"]) in text
        if e.true_label == 1:
            assert str(row["campaign_id"]) in text


# --- bad destinations: one line, before the run ---------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("missing/report.html", r"--report folder .*missing does not exist"),
        ("report.txt", r"--report .*report\.txt does not end in \.html or \.htm"),
        ("report", r"does not end in \.html or \.htm"),
        ("a_folder", r"--report .*a_folder is a folder"),
    ],
)
def test_detect_refuses_a_bad_report_path_before_running(capsys, tmp_path, name, pattern):
    (tmp_path / "a_folder").mkdir()
    plots = tmp_path / "plots"
    code, _, err = run_cli(
        capsys, "detect", "--plots-dir", str(plots), "--report", str(tmp_path / name)
    )
    assert_one_line_error(code, err, pattern)
    # Nothing ran: no step finished, no plot or metrics file, no report.
    assert "done" not in err
    assert not plots.exists()
    assert not (tmp_path / "missing").exists()


def test_check_report_path_accepts_html_and_htm(tmp_path) -> None:
    for name in ("r.html", "r.HTM", "r.htm"):
        assert html_page.check_report_path(tmp_path / name) == tmp_path / name


def test_report_is_written_atomically(detect_run, tmp_path, monkeypatch) -> None:
    result = detect_run["result"]
    path = tmp_path / "report.html"
    path.write_text("the previous report", encoding="utf-8")
    real = Path.write_text

    def half_then_fail(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(SocAnomalyError, match=r"cannot write .*report\.html: No space left"):
        write_detect_report(result, path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# --- score --report --------------------------------------------------------------------


@pytest.fixture(scope="module")
def scoring(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    world = generate_world(n_users=60, days=8, campaigns=4, random_state=7)
    events = world.events
    root = tmp_path_factory.mktemp("score_report")
    bundle = root / "bundle"
    train = events[events["time"] < world.attack_start]
    AnomalyModel(detector="iforest", features="entity").fit(train, users=world.users).save(bundle)
    test = events[events["time"] >= world.attack_start].reset_index(drop=True)
    test.to_parquet(root / "events.parquet", index=False)
    return {"root": root, "bundle": bundle, "events": test}


def _collect(scoring: dict[str, Any], chunk_rows: int, tmp: Path) -> ScoreReportCollector:
    model = AnomalyModel.load(scoring["bundle"])
    collector = ScoreReportCollector(top=10, label_col="label")
    chunks = read_event_chunks(
        str(scoring["root"] / "events.parquet"), "parquet", chunk_rows, "fail"
    )
    manifest = read_manifest(scoring["bundle"])
    with ScoredWriter(str(tmp / f"out_{chunk_rows}.csv"), "csv", manifest) as writer:
        summary = score_stream(model, chunks, writer, label_col="label", observe=collector)
    assert collector.events == summary.events and collector.alerts == summary.alerts
    return collector


def test_collector_keeps_the_top_alerts_and_histogram_whatever_the_chunks(scoring, tmp_path):
    small = _collect(scoring, 700, tmp_path)
    whole = _collect(scoring, 1_000_000, tmp_path)
    events = scoring["events"]
    scored = AnomalyModel.load(scoring["bundle"]).score(events)
    # The ten highest raw scores among the alerts (the earlier event first on ties).
    alerting = scored[scored["alert"]].sort_values("raw_score", ascending=False, kind="stable")
    expected = events.loc[alerting.index[:10], "event_id"].tolist()
    for c in (small, whole):
        assert c.top_alerts["event_id"].tolist() == expected
        assert c.top_alerts["row"].tolist() == [i + 1 for i in alerting.index[:10]]
        assert sum(int(v.sum()) for v in c.counts.values()) == len(events)
        assert int(c.counts["attack"].sum()) == int(events["label"].sum())
        assert c.first_time == events["time"].min() and c.last_time == events["time"].max()
    for group in small.counts:
        np.testing.assert_array_equal(small.counts[group], whole.counts[group])
    expected_bins = np.bincount(
        np.clip((scored["score"].to_numpy() * 10).astype(int), 0, 999), minlength=1000
    )
    np.testing.assert_array_equal(small.counts["normal"] + small.counts["attack"], expected_bins)
    users = events.loc[scored["alert"].to_numpy(), "user"].astype(str).value_counts()
    assert dict(small.alerts_by_user) == users.to_dict()


def test_score_report_holds_model_counts_histogram_alerts_and_evaluation(capsys, scoring):
    root = scoring["root"]
    report = root / "score.html"
    code, _, err = run_cli(
        capsys,
        "score",
        "--model-dir",
        str(scoring["bundle"]),
        "--input",
        str(root / "events.parquet"),
        "--output",
        str(root / "scored.csv"),
        "--label-col",
        "label",
        "--chunk-rows",
        "1500",
        "--report",
        str(report),
    )
    assert code == 0, err
    assert f"Wrote the report to {report}" in err
    page = report.read_text(encoding="utf-8")
    parsed = _Parsed.of(page)
    text = _Text.of(page)
    scored = pd.read_csv(root / "scored.csv")
    manifest = read_manifest(scoring["bundle"])
    n, alerts = len(scored), int(scored["alert"].sum())
    assert {
        "summary",
        "scores",
        "top-alerts",
        "users",
        "evaluation",
        "model",
        "input",
    } <= parsed.ids
    assert f"{n:,} events scored, {alerts:,} alerts ({100 * alerts / n:.2f}%)" in text
    # The model: detector, features, threshold and training window from the manifest.
    assert f"{manifest['detector']['name']} ({manifest['detector']['class']})" in text
    assert f"{manifest['features']}: {len(manifest['feature_names'])} columns" in text
    assert f"calibrated {manifest['threshold']['calibrated']:.2f}" in text
    assert f"{manifest['training']['start']} to {manifest['training']['end']}" in text
    # One embedded figure: the histogram, a real PNG.
    assert len(parsed.images) == 1
    png = base64.b64decode(parsed.images[0].split(",", 1)[1])
    assert png.startswith(PNG_MAGIC)
    # The top alerts: 25 (or every alert), highest calibrated score first, with reasons.
    top = scored[scored["alert"]].sort_values("score", ascending=False, kind="stable")
    rows = parsed.tables["top-alerts"]
    assert len(rows) == min(25, alerts)
    shown = [float(r[-3]) for r in rows]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(top["score"].iloc[0], abs=1e-4)
    first_reasons = json.loads(top["reasons"].iloc[0])  # a CSV cell: the list as JSON
    assert all(s in text for s in first_reasons)
    # The evaluation against the labels.
    evaluation = dict((r[0], r[1]) for r in parsed.tables["evaluation"])
    assert evaluation["Attack events (label 1)"] == f"{int(scoring['events']['label'].sum()):,}"
    assert evaluation["Alerts"] == f"{alerts:,}"


def test_score_report_renders_offline_in_chromium(capsys, scoring, browser, tmp_path) -> None:
    report = tmp_path / "score.htm"
    code, _, err = run_cli(
        capsys,
        "score",
        "--model-dir",
        str(scoring["bundle"]),
        "--input",
        str(scoring["root"] / "events.parquet"),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--alerts-only",
        "--quiet",
        "--report",
        str(report),
    )
    assert code == 0, err
    context, page, seen = open_report(browser, report)
    try:
        assert_self_contained(page, seen)
        assert page.eval_on_selector_all("figure img", "els => els.length") == 1
        assert "evaluation" not in page.eval_on_selector_all("section", "e => e.map(s => s.id)")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (["--report", "{tmp}/nowhere/r.html"], r"--report folder .*nowhere does not exist"),
        (["--report", "{tmp}/r.pdf"], r"--report .*r\.pdf does not end in \.html or \.htm"),
        (["--report", "{tmp}/r.html", "--engine", "dask"], r"--report needs --engine local"),
        (["--report", "{tmp}/out.html", "--format", "csv"], r"--report .* is the --output file"),
    ],
)
def test_score_refuses_a_bad_report_path_before_reading(capsys, scoring, tmp_path, extra, pattern):
    out = tmp_path / ("out.html" if "--format" in extra else "out.csv")
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    code, _, err = run_cli(
        capsys,
        "score",
        "--model-dir",
        str(scoring["bundle"]),
        "--input",
        str(scoring["root"] / "events.parquet"),
        "--output",
        str(out),
        *args,
    )
    assert_one_line_error(code, err, pattern)
    assert list(tmp_path.iterdir()) == []  # no output, no report, no temporary file


# --- helpers ---------------------------------------------------------------------------


class _Parsed(HTMLParser):
    """Ids, image sources, script count and the cells of each section's first table."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.scripts = 0
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    @classmethod
    def of(cls, page: str) -> _Parsed:
        parser = cls()
        parser.feed(page)
        parser.close()
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "section":
            self._section = str(a.get("id"))
        elif tag == "img":
            self.images.append(str(a.get("src")))
        elif tag == "script":
            self.scripts += 1
        elif tag == "tbody":
            self._in_body = self._section not in self.tables
            if self._in_body:
                self.tables[self._section] = []
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._section].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


class _Text(HTMLParser):
    """The page's text, entities decoded, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    @classmethod
    def of(cls, page: str) -> str:
        parser = cls()
        parser.feed(page)
        parser.close()
        return re.sub(r"\s+", " ", " ".join(parser.parts))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
