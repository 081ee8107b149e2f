"""The "world to findings" notebook runs against the installed package and its
findings are valid OCSF Detection Findings, one per alert."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import ocsf_emitter
import pytest
from nbclient import NotebookClient
from ocsf_emitter import models

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "world_to_findings.ipynb"


def _count(pattern: str, text: str) -> tuple[int, ...]:
    match = re.search(pattern, text)
    assert match, f"no line matching {pattern!r} in the notebook's output"
    return tuple(int(g.replace(",", "")) for g in match.groups())


def test_notebook_is_saved_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.fixture()
def notebook_env(monkeypatch, tmp_path):
    # The kernel inherits the environment: the jupyter paths must not depend on
    # the user's home being writable, and the notebook writes into `out` only.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / "out"
    monkeypatch.setenv("SOC_ANOMALY_NOTEBOOK_OUT", str(out))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return workdir, out


def test_world_to_findings_notebook_executes(notebook_env):
    workdir, out = notebook_env
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    stdout = "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stdout"
    )
    assert f"Output folder: {out}" in stdout
    n_scored, n_alerts, n_findings = _count(
        r"Scored ([\d,]+) events: ([\d,]+) alerts, ([\d,]+) findings", stdout
    )
    (n_test,) = _count(r"test: +([\d,]+) events", stdout)
    assert n_scored == n_test > 0
    assert 1 <= n_alerts == n_findings < n_scored

    records = [
        json.loads(line)
        for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(records) == n_alerts
    for rec in records:
        ocsf_emitter.validate(models.DetectionFinding.model_validate(rec))
        assert rec["class_uid"] == 2004 and rec["is_alert"] is True
    # One finding per alerting event: distinct source events and finding uids.
    related = [rec["finding_info"]["related_events"][0]["uid"] for rec in records]
    assert len(set(related)) == len(records)
    assert len({rec["finding_info"]["uid"] for rec in records}) == len(records)
    manifest = json.loads((out / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert {rec["finding_info"]["analytic"]["uid"] for rec in records} == {
        manifest["model_sha256"][:16]
    }

    attack_alerts, alerts = _count(r"([\d,]+) of ([\d,]+) alerts are attack events", stdout)
    assert alerts == n_alerts and 0 <= attack_alerts <= alerts
    caught, n_campaigns = _count(r"(\d+) of (\d+) campaigns got at least one alert", stdout)
    assert n_campaigns == 12 and 0 <= caught <= n_campaigns

    # Everything went into the output folder, nothing into the working directory.
    assert list(workdir.iterdir()) == []
    assert {"model", "train.parquet", "events.jsonl", "findings.jsonl"} <= {
        p.name for p in out.iterdir()
    }
