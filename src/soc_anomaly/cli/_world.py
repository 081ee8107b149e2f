"""``soc-anomaly generate --scenario enterprise``: the world, its manifest and overview."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from soc_anomaly.cli._console import err, out, step
from soc_anomaly.data.io import (
    atomic_write,
    check_writable_dir,
    check_writable_file,
    dump_table,
    table_format,
)
from soc_anomaly.data.ocsf import OCSF_SUFFIXES, dump_ocsf_jsonl
from soc_anomaly.errors import DataError, ParameterError, SocAnomalyError, check_positive_int
from soc_anomaly.scenarios.enterprise import generate_world
from soc_anomaly.scenarios.enterprise.summary import summarize_world

__all__ = ["default_manifest_path", "generate_enterprise"]


def default_manifest_path(output_path: Path) -> Path:
    """``<name>_campaigns.csv`` beside the events file."""
    stem = output_path.name.split(".")[0] or "events"
    return output_path.with_name(f"{stem}_campaigns.csv")


def _table_format(path: Path, flag: str) -> str:
    try:
        return table_format(path)
    except DataError:
        raise DataError(
            f"{flag} {path} has an unsupported ending '{path.suffix or '(none)'}'; expected "
            f".csv or .parquet"
        ) from None


def generate_enterprise(
    *,
    output_path: Path,
    output_format: str,
    n_users: int,
    days: int,
    intensity: str,
    campaigns: int | None,
    scenarios: tuple[str, ...] | None,
    manifest_path: Path | None,
    plots_dir: Path | None,
    random_state: int,
) -> None:
    """Generate an enterprise world, print its summary, write events and manifest together.

    Every path is checked before anything is generated, and the events and the
    manifest are written to temporary files that are renamed into place only
    when both are complete, so a failure never leaves one without the other.
    """
    check_positive_int("--n-users", n_users)
    check_positive_int("--days", days)
    if campaigns is not None:
        check_positive_int("--campaigns", campaigns)
    if output_format == "ocsf":
        if output_path.suffix.lower() not in OCSF_SUFFIXES:
            raise ParameterError(
                f"--format ocsf writes OCSF JSON Lines; expected --output-path ending in "
                f"{', '.join(OCSF_SUFFIXES)}, got {output_path}"
            )
        events_format = "ocsf"
    else:
        events_format = _table_format(output_path, "--output-path")
    manifest_path = manifest_path or default_manifest_path(output_path)
    manifest_format = _table_format(manifest_path, "--manifest-path")
    if manifest_path.resolve() == output_path.resolve():
        raise ParameterError(f"--manifest-path and --output-path are the same file {output_path}")
    for path, flag in ((output_path, "--output-path"), (manifest_path, "--manifest-path")):
        check_writable_file(path, what=flag)
    if plots_dir is not None:
        check_writable_dir(plots_dir, what="--plots-dir", create=False)

    with step(f"Generating the enterprise world ({n_users:,} users, {days} days)"):
        world = generate_world(
            n_users=n_users,
            days=days,
            intensity=intensity,
            campaigns=campaigns,
            scenarios=scenarios,
            random_state=random_state,
        )
    with step(f"Writing {output_path} and {manifest_path}"):
        try:
            output_path.parent.mkdir(parents=True, exist_ok=True)
            manifest_path.parent.mkdir(parents=True, exist_ok=True)
            with ExitStack() as stack:
                events_tmp = stack.enter_context(atomic_write(output_path))
                manifest_tmp = stack.enter_context(atomic_write(manifest_path))
                if events_format == "ocsf":
                    dump_ocsf_jsonl(world.events, events_tmp)
                else:
                    dump_table(world.events, events_tmp, events_format)
                dump_table(world.campaigns, manifest_tmp, manifest_format)
        except OSError as exc:
            raise SocAnomalyError(f"cannot write {output_path}: {exc.strerror or exc}") from None
    plots: list[Path] = []
    if plots_dir is not None:
        # Imported here so a run without figures never loads matplotlib.
        from soc_anomaly.reporting.world import plot_world_overview

        with step(f"Drawing the overview in {plots_dir}"):
            plots = plot_world_overview(
                world.events, world.campaigns, plots_dir, attack_start=world.attack_start
            )

    from soc_anomaly.reporting.world_summary import print_world_summary

    print_world_summary(summarize_world(world.events, world.campaigns), out)
    # One path per line: each stays whole, and the lines fit 100 columns.
    out.print(f"Wrote {len(world.events):,} events to {output_path}")
    out.print(f"Wrote {len(world.campaigns):,} campaigns to {manifest_path}")
    for path in plots:
        err.print(f"figure: {path}")
