"""Running the command line in-process, and checking its one-line errors."""

from __future__ import annotations

import re

from soc_anomaly.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``soc-anomaly ARGV``."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, pattern: str) -> None:
    """Exit code 2 and exactly one ``error:`` line matching ``pattern``, no traceback."""
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err
