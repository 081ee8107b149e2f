"""The command line answers ``-h`` and ``--version`` without loading the heavy libraries.

Typer builds every command's help from its signature when the app loads, so a
command module that imports numpy or scikit-learn at the top costs every
invocation seconds. This is a behavioural check of what gets imported (in a
fresh interpreter), not a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from soc_anomaly.cli.main import app

#: Imported only by the commands that need them, when they run.
HEAVY = ("numpy", "pandas", "sklearn", "scipy", "matplotlib", "numba", "pyarrow", "skops")

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)

_PROBE = """
import contextlib, io, json, sys
from soc_anomaly.cli.main import main
codes = []
with contextlib.redirect_stdout(io.StringIO()) as text:
    for argv in json.loads(sys.argv[1]):
        codes.append(main(argv))
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"codes": codes, "heavy": heavy, "chars": len(text.getvalue())}))
"""


def _probe(argvs: list[list[str]]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_commands_are_all_probed() -> None:
    assert set(COMMANDS) == {"benchmark", "detect", "diff", "generate", "score", "serve", "train"}


def test_help_and_version_load_no_heavy_library() -> None:
    argvs = [["-h"], ["--version"], *([name, "-h"] for name in COMMANDS)]
    result = _probe(argvs)
    assert result["codes"] == [0] * len(argvs)
    assert result["chars"] > 1000  # the help was printed, not skipped
    assert result["heavy"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--detector", "all"],
        ["train", "--features", "entity", "--feature-cols", "hour"],
        ["detect", "--detectors", "nope"],
    ],
)
def test_a_bad_flag_is_refused_before_the_heavy_imports(argv) -> None:
    result = _probe([argv])
    assert result["codes"] == [2]
    assert result["heavy"] == []
