"""Write the documentation's results tables, docs/results/NAME.md, from the runs that measure them.

Each table is rendered from the file its documented command writes:

  default_detectors     soc-anomaly detect                             plots/metrics.json
  three_seeds           soc-anomaly detect --detectors all --seeds 3 --no-plots
                        --importance-repeats 0                         plots/metrics.json
  enterprise_campaigns  soc-anomaly detect --scenario enterprise --features both
                        --detectors all                                plots/metrics.json
  enterprise_campaigns_43  the same with --random-state 43             plots/metrics.json
  enterprise_no_sequences  soc-anomaly detect --scenario enterprise --features entity
                        --detectors all --drop-features action_surprise,window_surprise
                        --no-plots --importance-repeats 0              plots/metrics.json
  real_data             soc-anomaly benchmark --datasets-dir ../shared/datasets
                        --output table.csv                             table.csv
  hdfs_sequences        soc-anomaly benchmark --sequences
                        ../shared/datasets/sequences/hdfs_deeplog
                        --output table.csv                             table.csv
  hdfs_sequences_1      the same with --seed 1                         table.csv

``python scripts/results_tables.py NAME --from FILE`` reads FILE, which that command wrote
(seconds). Without ``--from`` the script runs the command itself in a temporary folder and
reads what it wrote (minutes; real_data hours of CPU, mostly OneClassSVM). ``--check`` compares with
the committed file instead of writing it (exit 1 if they differ). The first line of each table
is an HTML comment naming the command; nothing else in it depends on when it was run, so the
same run always gives the same bytes (tests/test_results_tables.py regenerates
default_detectors.md from the test session's default run and compares).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results_render import (
    DEFAULT_COMMAND,
    REAL_COMMAND,
    SEEDS_COMMAND,
    BadInput,
    default_detectors,
    real_data,
    three_seeds,
)
from results_render_sequences import SEQUENCES_COMMAND, hdfs_sequences
from results_render_world import (
    ENTERPRISE_COMMAND,
    NO_SEQUENCES_COMMAND,
    at_seed,
    enterprise_campaigns,
    without_sequences,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "docs" / "results"

# ---------------------------------------------------------------------------------------------
# Running the commands, reading their output, writing the tables


@dataclass(frozen=True)
class Table:
    """How one table is measured and rendered."""

    argv: list[str]
    output: str
    render: Callable[[Any], str]


TABLES = {
    "default_detectors": Table(
        DEFAULT_COMMAND.split()[1:], "plots/metrics.json", default_detectors
    ),
    "three_seeds": Table(SEEDS_COMMAND.split()[1:], "plots/metrics.json", three_seeds),
    "enterprise_campaigns": Table(
        ENTERPRISE_COMMAND.split()[1:], "plots/metrics.json", enterprise_campaigns
    ),
    # The same at a second seed, so no result rests on one world.
    "enterprise_campaigns_43": Table(
        [*ENTERPRISE_COMMAND.split()[1:], "--random-state", "43"],
        "plots/metrics.json",
        at_seed(43),
    ),
    # The entity features without the sequence features: what those add.
    "enterprise_no_sequences": Table(
        NO_SEQUENCES_COMMAND.split()[1:], "plots/metrics.json", without_sequences
    ),
    "real_data": Table(
        [*REAL_COMMAND.split()[1:-1], "DATASETS", "--output", "table.csv"], "table.csv", real_data
    ),
    "hdfs_sequences": Table(
        [
            *SEQUENCES_COMMAND.split()[1:-1],
            "DATASETS/sequences/hdfs_deeplog",
            "--output",
            "table.csv",
        ],
        "table.csv",
        hdfs_sequences(0),
    ),
    "hdfs_sequences_1": Table(
        [
            *SEQUENCES_COMMAND.split()[1:-1],
            "DATASETS/sequences/hdfs_deeplog",
            "--seed",
            "1",
            "--output",
            "table.csv",
        ],
        "table.csv",
        hdfs_sequences(1),
    ),
}


def read_output(path: Path) -> Any:
    """A command's output: the parsed metrics.json, or the rows of a .csv table."""
    try:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read it: {exc}") from exc


def run_command(table: Table, folder: Path, datasets: Path) -> Path:
    """Run a table's command in ``folder`` (progress on this terminal); return its output."""
    root = str(datasets.resolve())
    argv = [root + a[len("DATASETS") :] if a.startswith("DATASETS") else a for a in table.argv]
    print("running: soc-anomaly " + " ".join(argv), file=sys.stderr)
    subprocess.run([sys.executable, "-m", "soc_anomaly", *argv], cwd=folder, check=True)
    return folder / table.output


def write_atomically(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        # mkstemp makes the file private; a docs page is for every reader.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="\n\n".join((__doc__ or "").split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("table", choices=sorted(TABLES), help="the table to write")
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="read this output of the table's command instead of running the command",
    )
    parser.add_argument(
        "--datasets-dir",
        type=Path,
        default=Path("../shared/datasets"),
        help="real_data without --from: the benchmark's datasets (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, help="where to write (default: docs/results/TABLE.md of the repo)"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with --out instead of writing it"
    )
    args = parser.parse_args(argv)
    table = TABLES[args.table]
    out = args.out or RESULTS_DIR / f"{args.table}.md"
    with tempfile.TemporaryDirectory(prefix="results_tables_") as folder:
        try:
            source = args.source or run_command(table, Path(folder), args.datasets_dir)
        except subprocess.CalledProcessError as exc:
            print(f"error: the command failed with exit code {exc.returncode}", file=sys.stderr)
            return 2
        try:
            text = table.render(read_output(source))
        except BadInput as exc:
            print(f"error: {source}: {exc}", file=sys.stderr)
            return 2
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            print(
                f"error: {source} lacks {exc}; expected the output of `{args.table}`'s command",
                file=sys.stderr,
            )
            return 2
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'differs from the run'}")
        return 0 if same else 1
    write_atomically(text, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
