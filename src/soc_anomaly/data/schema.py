"""The event schema: the column names every stage of the toolkit agrees on.

Scenarios write events with these columns, readers check them, detectors
read :data:`FEATURE_COLS`, and evaluation groups by :data:`ATTACK_TYPE_COL`.
"""

from __future__ import annotations

import pandas as pd

from soc_anomaly import config as _config
from soc_anomaly.errors import DataError

__all__ = [
    "ATTACK_TYPE_COL",
    "EVENT_COLUMNS",
    "FEATURE_COLS",
    "LABEL_COL",
    "NORMAL_ATTACK_TYPE",
    "NO_TECHNIQUE",
    "TECHNIQUE_COL",
    "USER_COLUMNS",
    "resolve_feature_cols",
]

#: Numeric columns of a generated events table that the detectors use.
FEATURE_COLS: list[str] = [
    "hour",
    "geo_distance",
    "bytes_in",
    "bytes_out",
    "failed_logins",
    "successful_logins",
    "device_trust_score",
    "user_risk_score",
]
#: Ground-truth column: 1 for an attack, 0 for a normal event (defined in the light
#: soc_anomaly.config, which the command line's help reads).
LABEL_COL: str = _config.LABEL_COL
#: Scenario name of each event (``"normal"`` for benign ones), when known.
ATTACK_TYPE_COL: str = "attack_type"
#: MITRE ATT&CK technique id of each event (``"none"`` for benign ones), when known.
TECHNIQUE_COL: str = "mitre_technique"
#: ``attack_type`` of the normal (benign) events.
NORMAL_ATTACK_TYPE: str = "normal"
#: ``mitre_technique`` of the normal events.
NO_TECHNIQUE: str = "none"

#: Columns of a user catalog, in order.
USER_COLUMNS: tuple[str, ...] = (
    "user_id",
    "risk_score",
    "is_high_risk",
    "night_shift",
    "typical_login_hour",
    "work_start_hour",
    "work_end_hour",
    "baseline_bytes_in",
    "baseline_bytes_out",
    "home_city",
    "home_country",
    "home_lat",
    "home_lon",
)

#: Columns of an events table, in order.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "timestamp",
    "user_id",
    "country",
    "src_lat",
    "src_lon",
    *FEATURE_COLS,
    LABEL_COL,
    ATTACK_TYPE_COL,
    TECHNIQUE_COL,
)


def resolve_feature_cols(
    df: pd.DataFrame, label_col: str, feature_cols: tuple[str, ...] | None
) -> list[str]:
    """The feature columns of a run.

    Named columns when given; else the toolkit's event features when the table
    has them all; else every numeric column but the label.
    """
    if feature_cols:
        return list(feature_cols)
    present = [c for c in FEATURE_COLS if c in df.columns]
    if len(present) == len(FEATURE_COLS):
        return list(FEATURE_COLS)
    if present:
        # Looks like the toolkit's events with columns lost: guessing another
        # feature set would silently train on the wrong thing.
        missing = [c for c in FEATURE_COLS if c not in df.columns]
        raise DataError(
            f"the table is missing column(s) {', '.join(missing)} of the event features; "
            f"expected columns {', '.join(FEATURE_COLS)}, or --feature-cols naming the features"
        )
    numeric = [
        str(c)
        for c in df.columns
        if c != label_col
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]
    if not numeric:
        raise DataError(
            f"the table has no numeric columns besides '{label_col}'; expected numeric "
            "features or --feature-cols naming them"
        )
    return numeric
