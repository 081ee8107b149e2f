"""``soc-anomaly generate``: write a seeded synthetic dataset, the seed scenario's
labelled sessions or the enterprise world's raw events with their campaign manifest.

Only light modules are imported at the top (the help is built from them); the
generators and writers, which load numpy and pandas, are imported when the
command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc_anomaly.cli._console import out, step
from soc_anomaly.config import (
    DEFAULT_ANOMALY_FRACTION,
    DEFAULT_DATA_PATH,
    DEFAULT_EVENTS_PER_USER,
    DEFAULT_N_USERS,
    DEFAULT_RANDOM_STATE,
    DEFAULT_WORLD_DAYS,
    DEFAULT_WORLD_USERS,
)
from soc_anomaly.errors import ParameterError, check_positive_int, check_range, check_seed

#: ``--scenario`` values.
SCENARIO_CHOICES: tuple[str, ...] = ("seed", "enterprise")
#: ``--format`` values: a table chosen by the file's ending, or OCSF JSON Lines.
FORMAT_CHOICES: tuple[str, ...] = ("table", "ocsf")
#: Where ``generate --scenario enterprise`` writes by default.
DEFAULT_WORLD_PATH = Path("data") / "enterprise_events.parquet"


def _choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ParameterError(f"unknown {flag} {value!r}; expected one of {', '.join(choices)}")
    return value


def _names(flag: str, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    from soc_anomaly.scenarios.enterprise import SCENARIOS

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in SCENARIOS]
    if not names or unknown:
        raise ParameterError(
            f"unknown {flag} {', '.join(map(repr, unknown or [text]))}; expected any of "
            f"{', '.join(SCENARIOS)} (comma-separated)"
        )
    return names


def _seed_only(scenario: str, **given: object) -> None:
    flags = [flag for flag, value in given.items() if value is not None]
    if scenario != "seed" and flags:
        raise ParameterError(
            f"{', '.join(flags)} appl{'ies' if len(flags) == 1 else 'y'} to --scenario seed "
            f"only; the enterprise world takes --n-users, --days, --intensity, --campaigns "
            f"and --attacks"
        )


def _enterprise_only(scenario: str, **given: object) -> None:
    flags = [flag for flag, value in given.items() if value is not None]
    if scenario != "enterprise" and flags:
        raise ParameterError(
            f"{', '.join(flags)} appl{'ies' if len(flags) == 1 else 'y'} to --scenario "
            f"enterprise only"
        )


def generate(
    scenario: Annotated[
        str, typer.Option("--scenario", help="seed (labelled sessions) or enterprise (raw events).")
    ] = "seed",
    output_path: Annotated[
        Path | None,
        typer.Option(
            "--output-path",
            help="File to write: .csv or .parquet; .jsonl with --format ocsf. Default "
            f"{DEFAULT_DATA_PATH} (seed) or {DEFAULT_WORLD_PATH} (enterprise).",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (CSV or Parquet by the file ending) or ocsf "
            "(OCSF JSON Lines; enterprise only).",
        ),
    ] = "table",
    n_users: Annotated[
        int | None,
        typer.Option(
            "--n-users",
            help=f"Users: default {DEFAULT_N_USERS} (seed), {DEFAULT_WORLD_USERS} (enterprise).",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help=f"Days simulated (enterprise; default {DEFAULT_WORLD_DAYS})."),
    ] = None,
    intensity: Annotated[
        str | None,
        typer.Option(
            "--intensity",
            help="Campaign intensity (enterprise): blatant, moderate, subtle or mixed (default).",
        ),
    ] = None,
    campaigns: Annotated[
        int | None,
        typer.Option(
            "--campaigns", help="Attack campaigns (enterprise; default three per scenario)."
        ),
    ] = None,
    attacks: Annotated[
        str | None,
        typer.Option(
            "--attacks",
            help="Comma-separated attack scenarios to draw campaigns "
            "from (enterprise; default all).",
        ),
    ] = None,
    manifest_path: Annotated[
        Path | None,
        typer.Option(
            "--manifest-path",
            help="Ground-truth campaign manifest, .csv or "
            ".parquet (enterprise; default <output>_campaigns.csv beside it).",
        ),
    ] = None,
    plots_dir: Annotated[
        Path | None,
        typer.Option("--plots-dir", help="Draw an overview of the world here (enterprise)."),
    ] = None,
    events_per_user: Annotated[
        int | None,
        typer.Option(
            "--events-per-user",
            help=f"Sessions per user (seed; default {DEFAULT_EVENTS_PER_USER}).",
        ),
    ] = None,
    anomaly_fraction: Annotated[
        float | None,
        typer.Option(
            "--anomaly-fraction",
            help="Share of events that are injected attacks, "
            f"in (0, 0.5) (seed; default {DEFAULT_ANOMALY_FRACTION}).",
        ),
    ] = None,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed; the same seed gives the same bytes.")
    ] = DEFAULT_RANDOM_STATE,
) -> None:
    """Generate labelled synthetic telemetry and write it to a file.

    The seed scenario writes independent login sessions with three attack types.
    The enterprise world writes raw authentication and network events of an
    organisation over days, benign oddities and ATT&CK attack campaigns, plus a
    manifest with one row per campaign.
    """
    _choice("--scenario", scenario, SCENARIO_CHOICES)
    _choice("--format", output_format, FORMAT_CHOICES)
    check_seed("--random-state", random_state)
    if n_users is not None:
        check_positive_int("--n-users", n_users)
    _seed_only(
        scenario, **{"--events-per-user": events_per_user, "--anomaly-fraction": anomaly_fraction}
    )
    _enterprise_only(
        scenario,
        **{
            "--days": days,
            "--intensity": intensity,
            "--campaigns": campaigns,
            "--attacks": attacks,
            "--manifest-path": manifest_path,
            "--plots-dir": plots_dir,
        },
    )
    if scenario == "seed":
        if output_format != "table":
            raise ParameterError(
                "--format ocsf applies to --scenario enterprise only; the "
                "seed scenario writes .csv or .parquet"
            )
        _generate_seed(
            output_path or DEFAULT_DATA_PATH,
            n_users,
            events_per_user,
            anomaly_fraction,
            random_state,
        )
        return
    from soc_anomaly.cli._world import generate_enterprise
    from soc_anomaly.scenarios.enterprise import INTENSITY_CHOICES

    generate_enterprise(
        output_path=output_path
        or (
            DEFAULT_WORLD_PATH.with_suffix(".jsonl")
            if output_format == "ocsf"
            else DEFAULT_WORLD_PATH
        ),
        output_format=output_format,
        n_users=DEFAULT_WORLD_USERS if n_users is None else n_users,
        days=DEFAULT_WORLD_DAYS if days is None else days,
        intensity=_choice("--intensity", intensity or "mixed", INTENSITY_CHOICES),
        campaigns=campaigns,
        scenarios=_names("--attacks", attacks),
        manifest_path=manifest_path,
        plots_dir=plots_dir,
        random_state=random_state,
    )


def _generate_seed(
    output_path: Path,
    n_users: int | None,
    events_per_user: int | None,
    anomaly_fraction: float | None,
    random_state: int,
) -> None:
    n_users = DEFAULT_N_USERS if n_users is None else n_users
    events_per_user = DEFAULT_EVENTS_PER_USER if events_per_user is None else events_per_user
    anomaly_fraction = DEFAULT_ANOMALY_FRACTION if anomaly_fraction is None else anomaly_fraction
    from soc_anomaly.data.io import check_writable_file, table_format, write_table
    from soc_anomaly.data_generation import generate_synthetic_soc_dataset

    check_positive_int("--events-per-user", events_per_user)
    check_range("--anomaly-fraction", anomaly_fraction, 0.0, 0.5)
    # Reject an unusable path (or extension) before spending time generating.
    table_format(output_path)
    check_writable_file(output_path, what="--output-path")
    with step(f"Generating {n_users * events_per_user:,} events"):
        df = generate_synthetic_soc_dataset(
            n_users=n_users,
            events_per_user=events_per_user,
            anomaly_fraction=anomaly_fraction,
            random_state=random_state,
        )
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with step(f"Writing {output_path}"):
        write_table(df, output_path)
    counts = df.loc[df["label"] == 1, "attack_type"].value_counts().sort_index()
    detail = ", ".join(f"{name} {int(n):,}" for name, n in counts.items() if n)
    # The path ends its own line (it may be long); the counts go on the next one.
    out.print(
        f"Wrote {len(df):,} events with {int(df['label'].sum()):,} anomalies to {output_path}"
    )
    if detail:
        out.print(f"  anomalies: {detail}")
