"""What the detection lab knows of the evaluated events beyond their features.

Their attack types, who and when each one is (for the alerts and the
per-entity views), and the events a day of the stream for the alert-budget
rule, with the reason when that rule has to be skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soc_anomaly.data.schema import ATTACK_TYPE_COL, NORMAL_ATTACK_TYPE
from soc_anomaly.data.split import TrainTestSplit
from soc_anomaly.data.times import parse_event_times
from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.evaluation.thresholds import events_per_day
from soc_anomaly.experiment.config import DetectConfig

if TYPE_CHECKING:
    from soc_anomaly.experiment.world_split import WorldSplit

__all__ = ["BUDGET_SKIPPED", "add_note", "attack_types", "budget_rate", "test_events"]


#: Start of the note that says why the alert-budget rule was skipped;
#: :meth:`DetectionResult.to_dict` files such notes under ``skipped_rules``.
BUDGET_SKIPPED = "alert-budget threshold skipped: "


def add_note(notes: list[str], note: str) -> None:
    """Record a note once, however many seeds run into it."""
    if note not in notes:
        notes.append(note)


def attack_types(df: pd.DataFrame, split: TrainTestSplit) -> np.ndarray:
    """Attack type of each test event."""
    if ATTACK_TYPE_COL in df.columns:
        return df.loc[split.test_index, ATTACK_TYPE_COL].astype(str).to_numpy()
    # Labelled data without scenario names: all anomalies form one group.
    return np.where(split.y_test == 1, "anomaly", NORMAL_ATTACK_TYPE)


def test_events(
    config: DetectConfig, df: pd.DataFrame, split: TrainTestSplit, world: WorldSplit | None
) -> pd.DataFrame:
    """Who and when each test event is (``TEST_EVENT_COLUMNS``), for alerts and views."""
    index = split.test_index
    # The world's table is indexed like its raw events, which name the user.
    frame = df if world is None else world.data.events
    n = len(index)
    missing = pd.Series(pd.NA, index=range(n), dtype="string")

    def column(*names: str) -> pd.Series | None:
        name = next((c for c in names if c in frame.columns), None)
        return None if name is None else frame.loc[index, name].reset_index(drop=True)

    ids = column("event_id")
    # The configured column first; the world's raw events call theirs "time".
    time_col = next((c for c in (config.timestamp_col, "time") if c in frame.columns), None)
    time = None if time_col is None else _event_times(frame.loc[index, time_col], time_col)
    if time is not None:
        time = time.reset_index(drop=True)
    attack = column(ATTACK_TYPE_COL)
    return pd.DataFrame(
        {
            "event_id": pd.Series(np.asarray(index)) if ids is None else ids,
            "user": u if (u := column("user", "user_id")) is not None else missing,
            "time": pd.Series(pd.NaT, index=range(n)) if time is None else time,
            "attack_type": pd.Series(attack_types(df, split)) if attack is None else attack,
            "campaign_id": c if (c := column("campaign_id")) is not None else missing,
            "benign_tag": b if (b := column("benign_tag")) is not None else missing,
        }
    )


def _event_times(values: pd.Series, column: str) -> pd.Series | None:
    """The column as UTC times, or None when it cannot be read as times.

    A named ``--timestamp-col`` that cannot be read was refused by
    :func:`_budget_rate` before any detector ran, so only the default column
    gets here unreadable: a table may well have a ``timestamp`` column of
    something else, and the run goes on without alert times.
    """
    try:
        return parse_event_times(values, column)
    except DataError:
        return None


def _columns_listed(columns: pd.Index) -> str:
    """The table's columns for an error message: all of them, or the first 20 of many."""
    names = [str(c) for c in columns]
    if len(names) <= 20:
        return ", ".join(names)
    return f"{', '.join(names[:20])}, ... ({len(names)} columns)"


def budget_rate(
    config: DetectConfig, df: pd.DataFrame, split: TrainTestSplit, notes: list[str]
) -> float | None:
    """Events a day of the evaluated stream, or None to skip the alert-budget rule.

    ``--events-per-day`` wins; otherwise the rate is measured from the test
    events' times in ``config.timestamp_col`` (read by
    :func:`soc_anomaly.data.times.parse_event_times`). When a budget is set and
    no rate can be had, or the budget exceeds the rate, a note starting with
    :data:`BUDGET_SKIPPED` says why the rule was skipped.

    Raises
    ------
    soc_anomaly.errors.DataError
        If ``--timestamp-col`` names a column the table lacks (the message
        lists the columns there are) or one that cannot be read as times. The
        default column (``timestamp``) may be absent or hold something else:
        the rule is then skipped with a note instead.
    """
    column = config.timestamp_col
    named = column != DetectConfig.timestamp_col
    budget, rate = config.alerts_per_day, config.events_per_day
    times: pd.Series | None = None
    reason: str | None = None
    if config.enterprise:
        pass  # the world keeps its own clock; the caller passes its rate
    elif column in df.columns:
        try:
            times = parse_event_times(df.loc[split.test_index, column], column)
        except DataError as exc:
            if named:
                raise
            reason = str(exc)
    elif named:
        raise DataError(
            f"--timestamp-col {column!r} is not a column of the events; the columns are "
            f"{_columns_listed(df.columns)}"
        )
    else:
        reason = (
            f"the events have no {column!r} column to count events a day from; expected "
            "--timestamp-col naming the column of event times, or --events-per-day"
        )
    if rate is None and times is not None:
        try:
            rate = events_per_day(times)
        except ParameterError as exc:  # a missing time, or less than a day of events
            reason = str(exc)
    if budget is None:
        return rate  # no rule to skip; the rate still gives other rules' alerts a day
    if rate is None:
        if reason is not None:
            add_note(notes, f"{BUDGET_SKIPPED}{reason}")
        return None
    if budget > rate:
        # A budget above the event rate alerts on everything: nothing to learn.
        add_note(
            notes,
            f"{BUDGET_SKIPPED}{budget:g} alerts a day exceeds the {rate:,.1f} test events a day",
        )
        return None
    return rate
