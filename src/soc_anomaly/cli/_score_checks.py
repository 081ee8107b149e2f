"""The checks ``soc-anomaly score`` runs on its paths and flags before reading any event."""

from __future__ import annotations

from pathlib import Path

from soc_anomaly.errors import ParameterError

__all__ = ["check_incident_flags", "check_incidents_path", "check_paths"]


def check_incident_flags(
    incidents: Path | None, fmt: str | None, per_day: float | None, engine: str
) -> None:
    """One-line errors for incident flags that cannot apply, before anything is loaded."""
    if fmt is not None and fmt not in ("jsonl", "ocsf"):
        raise ParameterError(f"unknown --incidents-format {fmt!r}; expected jsonl or ocsf")
    if fmt is not None and incidents is None:
        raise ParameterError("--incidents-format needs --incidents FILE")
    if per_day is not None:
        from soc_anomaly.model.incident_scoring import check_budget

        check_budget(per_day)
    if engine == "dask" and (incidents is not None or per_day is not None):
        # Incidents link across partitions in time order: one state, one process.
        raise ParameterError(
            "incidents need --engine local (the linker carries its state from chunk to chunk)"
        )


def check_incidents_path(
    path: Path, input_path: str, output_path: str, history: str | None, report: Path | None
) -> None:
    """One-line errors for an incidents file that is another file of the run or cannot be
    made; checked before any event is read."""
    if str(path) == "-":
        raise ParameterError("--incidents needs a file; expected a path, not standard output")
    target = path.resolve()
    for flag, other in (("the input", input_path), ("the --output file", output_path),
                        ("the --history file", history)):  # fmt: skip
        if other is not None and target == _resolved(other):
            raise ParameterError(f"--incidents {path} is {flag}; expected another file")
    if report is not None and target == report.resolve():
        raise ParameterError(f"--incidents {path} is the --report file; expected another file")
    if path.is_dir():
        raise ParameterError(f"--incidents {path} is a folder; expected a file")
    if not path.parent.is_dir():
        raise ParameterError(
            f"--incidents folder {path.parent} does not exist; expected an existing folder"
        )


def check_paths(input_path: str, output_path: str, history: str | None) -> None:
    """One-line errors for an output that is an input, or in a missing folder."""
    if output_path == "-":
        return
    out = Path(output_path).resolve()
    if out == _resolved(input_path):
        raise ParameterError(f"--output {output_path} is the input; expected another file")
    if history is not None and out == _resolved(history):
        raise ParameterError(f"--output {output_path} is the --history file; expected another file")
    if not Path(output_path).parent.exists():
        raise ParameterError(
            f"--output folder {Path(output_path).parent} does not exist; expected an "
            "existing folder"
        )


def _resolved(path: str) -> Path | None:
    return None if path == "-" else Path(path).resolve()
