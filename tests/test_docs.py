"""The documentation site builds in strict mode, offline.

A broken link or anchor, a missing included results table or an API reference
that does not resolve is a warning, and ``--strict`` makes any warning fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_strictly_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        # Any attempt to reach the network fails fast instead of passing by luck.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    # The results tables are included into their pages, not pages of their own.
    assert not (site / "results").exists()
    campaigns = (site / "campaigns.html").read_text(encoding="utf-8")
    assert "--8&lt;--" not in campaigns and "IsolationForest (entity)" in campaigns
    # The API reference is rendered from the docstrings.
    model = (site / "api" / "model.html").read_text(encoding="utf-8")
    assert 'id="soc_anomaly.model.AnomalyModel"' in model
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")
