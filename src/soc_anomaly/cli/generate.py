"""``soc-anomaly generate``: write a seeded synthetic SOC dataset."""

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
)
from soc_anomaly.data.io import check_writable_file, table_format, write_table
from soc_anomaly.errors import check_positive_int, check_range, check_seed
from soc_anomaly.scenarios import generate_synthetic_soc_dataset


def generate(
    output_path: Annotated[
        Path, typer.Option("--output-path", help="File to write: .csv or .parquet.")
    ] = DEFAULT_DATA_PATH,
    n_users: Annotated[int, typer.Option("--n-users", help="Users in the catalog.")] = (
        DEFAULT_N_USERS
    ),
    events_per_user: Annotated[
        int, typer.Option("--events-per-user", help="Sessions per user.")
    ] = DEFAULT_EVENTS_PER_USER,
    anomaly_fraction: Annotated[
        float,
        typer.Option(
            "--anomaly-fraction", help="Share of events that are injected attacks, in (0, 0.5)."
        ),
    ] = DEFAULT_ANOMALY_FRACTION,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed; the same seed gives the same bytes.")
    ] = DEFAULT_RANDOM_STATE,
) -> None:
    """Generate users, normal sessions and labelled attacks, and write them to a file."""
    check_positive_int("--n-users", n_users)
    check_positive_int("--events-per-user", events_per_user)
    check_range("--anomaly-fraction", anomaly_fraction, 0.0, 0.5)
    check_seed("--random-state", random_state)
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
    out.print(
        f"Wrote {len(df):,} events with {int(df['label'].sum()):,} anomalies "
        f"({detail}) to {output_path}"
    )
