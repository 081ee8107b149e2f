"""Events in and out: the schema, readers and writers, validation, and the split.

=====================  =========================================================
module                 what lives there
=====================  =========================================================
``schema``             column names every stage agrees on (``FEATURE_COLS``, ...)
``io``                 CSV/Parquet readers and atomic writers, ``load_events``
``npz``                labelled ``.npz`` datasets (arrays ``X`` and ``y``)
``validation``         one-line checks that a table can be trained and evaluated on
``split``              the train/test split (normal-only training), as a dataclass
=====================  =========================================================

Only the schema is imported here: ``split`` pulls in scikit-learn, which
generating data does not need.
"""

from soc_anomaly.data.schema import (
    ATTACK_TYPE_COL,
    EVENT_COLUMNS,
    FEATURE_COLS,
    LABEL_COL,
    NO_TECHNIQUE,
    NORMAL_ATTACK_TYPE,
    TECHNIQUE_COL,
    USER_COLUMNS,
)

__all__ = [
    "ATTACK_TYPE_COL",
    "EVENT_COLUMNS",
    "FEATURE_COLS",
    "LABEL_COL",
    "NORMAL_ATTACK_TYPE",
    "NO_TECHNIQUE",
    "TECHNIQUE_COL",
    "USER_COLUMNS",
]
