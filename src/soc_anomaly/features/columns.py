"""Raw events as the plain numpy arrays the feature code works on.

The event table is read once: times become int64 epoch milliseconds, text
columns integer codes (categorical codes when the column is a categorical, so a
million rows cost no string work), nullable numbers float64 with NaN. Arrays
are kept in time order; :meth:`Events.restore` puts results back in the table's
row order.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from soc_anomaly.errors import DataError
from soc_anomaly.features.catalog import REQUIRED_COLUMNS
from soc_anomaly.features.entity_keys import entity_codes
from soc_anomaly.sequences.vocabulary import FAILURE_REASONS, LOGON_KINDS

__all__ = [
    "MAX_UTC_OFFSET_MIN",
    "TEXT_COLUMNS",
    "Events",
    "check_columns",
    "read_events",
    "text_index",
    "utc_offsets",
]

#: Text columns the features key on.
TEXT_COLUMNS: tuple[str, ...] = ("user", "src_ip", "device_id", "dst_host", "src_country")
AUTH_CLASS_UID = 3002
NETWORK_CLASS_UID = 4001
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000


@dataclass
class Events:
    """Columns of an event table, in time order.

    Attributes
    ----------
    order : ndarray or None
        Row positions of the table in time order (stable), or None when the
        table is in time order already.
    time, tz_min : ndarray of int64
        Epoch milliseconds (UTC) and the device's minutes east of UTC.
    is_auth, is_net, failure, mfa_denied, outbound, direction_known, mfa : ndarray of bool
        Authentication row, network row, failed logon, MFA push denied or timed
        out, connection to the internet, a direction is given, a logon with MFA
        (``is_mfa`` true; false where absent or null).
    reason : ndarray of int8
        Why a logon failed, an index into
        :data:`~soc_anomaly.sequences.vocabulary.FAILURE_REASONS` (0 where it did not).
    logon_kind : ndarray of int8
        The logon type, an index into
        :data:`~soc_anomaly.sequences.vocabulary.LOGON_KINDS` (0: other or unknown).
    lat, lon, bytes_in, bytes_out : ndarray of float64
        NaN where null.
    codes : dict of str to ndarray of int64
        Codes of each text column into ``categories`` (-1 where null); those of
        ``user`` are the event's entity (never -1, see :func:`read_events`).
    categories : dict of str to pandas.Index
        The strings of each text column; those of ``user`` the entities' keys
        (:mod:`soc_anomaly.features.entity_keys`).
    """

    order: np.ndarray | None
    time: np.ndarray
    tz_min: np.ndarray
    is_auth: np.ndarray
    is_net: np.ndarray
    failure: np.ndarray
    mfa_denied: np.ndarray
    outbound: np.ndarray
    direction_known: np.ndarray
    mfa: np.ndarray
    reason: np.ndarray
    logon_kind: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    bytes_in: np.ndarray
    bytes_out: np.ndarray
    codes: dict[str, np.ndarray]
    categories: dict[str, pd.Index]

    def __len__(self) -> int:
        return len(self.time)

    @property
    def local_ms(self) -> np.ndarray:
        """Milliseconds on the user's clock (for the local hour, weekday and day)."""
        return self.time + self.tz_min * MS_PER_MINUTE

    def fitted_codes(self, name: str, vocab: np.ndarray | pd.Index) -> np.ndarray:
        """Codes of text column ``name`` into a fitted ``vocab`` (-1 if null or unseen)."""
        # Fitted vocabularies are plain string arrays (so a model file holds no pandas
        # objects); the hash index is rebuilt here, once per call.
        index = pd.Index(np.asarray(vocab, dtype=object))
        lut = np.append(index.get_indexer(self.categories[name]), -1).astype(np.int64)
        return lut[self.codes[name]]

    def take(self, rows: np.ndarray) -> Events:
        """The events at time-order positions ``rows`` (still in time order)."""
        arrays = {
            f.name: getattr(self, f.name)[rows]
            for f in fields(self)
            if f.name not in ("order", "codes", "categories")
        }
        codes = {name: c[rows] for name, c in self.codes.items()}
        return Events(order=None, codes=codes, categories=self.categories, **arrays)

    def restore(self, values: np.ndarray) -> np.ndarray:
        """``values`` (events in time order along the last axis) in the table's row order."""
        if self.order is None:
            return values
        out = np.empty_like(values)
        out[..., self.order] = values
        return out


def check_columns(X: object) -> None:
    """Raise :class:`DataError` unless ``X`` is a DataFrame with every required column."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"events must be a pandas DataFrame with columns {', '.join(REQUIRED_COLUMNS)}; "
            f"got {type(X).__name__}"
        )
    # src_host only names the entity of a flow without an account: it may be absent.
    missing = [c for c in REQUIRED_COLUMNS if c not in X.columns and c != "src_host"]
    if missing:
        raise DataError(
            f"events are missing column(s) {', '.join(missing)}; expected the raw enterprise "
            f"event columns {', '.join(REQUIRED_COLUMNS)}"
        )


def epoch_ms(s: pd.Series) -> np.ndarray:
    """Milliseconds since the epoch (UTC) of a ``time`` column.

    Datetimes of any resolution, time zone aware or UTC-naive, or integers that
    are epoch milliseconds already; anything else is a :class:`DataError`.
    """
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        return pd.DatetimeIndex(s).as_unit("ms").asi8.astype(np.int64, copy=False)
    if pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
        return s.to_numpy(dtype=np.int64)
    raise DataError(
        f"column time has dtype {s.dtype}; expected datetimes or integer epoch milliseconds "
        "without nulls"
    )


#: The widest UTC offset allowed (ISO 8601 and OCSF: within 18 hours), in minutes.
MAX_UTC_OFFSET_MIN = 18 * 60


def utc_offsets(s: pd.Series) -> np.ndarray:
    """A ``timezone_offset`` column as int64 minutes (0 where null), checked to be in range."""
    minutes = np.nan_to_num(_floats(s), nan=0.0)
    wild = np.abs(minutes) > MAX_UTC_OFFSET_MIN
    if wild.any():
        value = minutes[int(np.flatnonzero(wild)[0])]
        raise DataError(
            f"timezone_offset {value:g} is out of range; expected minutes east of UTC within "
            f"+/-{MAX_UTC_OFFSET_MIN}"
        )
    return minutes.astype(np.int64)


def _floats(s: pd.Series) -> np.ndarray:
    try:
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"column {s.name} has dtype {s.dtype}; expected numbers") from exc


def text_index(values: object) -> pd.Index:
    """Distinct values as an object Index of Python strings (non-text values as ``str(v)``).

    Never a fixed-width numpy text array: ``np.asarray(values).astype(str)`` costs
    distinct values x longest value x 4 bytes, so one 50 MB user name among a
    hundred others asked for gigabytes. Object strings cost what they hold.
    """
    index = pd.Index(values)
    if pd.api.types.infer_dtype(index, skipna=False) == "string":
        return pd.Index(index, dtype=object)
    return pd.Index([v if isinstance(v, str) else str(v) for v in index], dtype=object)


def _text(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        cats = s.cat.categories
    else:
        codes, cats = pd.factorize(s, use_na_sentinel=True)
        codes = codes.astype(np.int64)
    return codes, text_index(cats)


def _matches(s: pd.Series, predicate) -> np.ndarray:
    """Rows whose text value satisfies ``predicate`` (evaluated once per distinct value)."""
    codes, cats = _text(s)
    hit = np.append(np.array([bool(predicate(c)) for c in cats], dtype=bool), False)
    return hit[codes]


def _is_failure(value: str) -> bool:
    return value.lower() == "failure"


def _flag(s: pd.Series) -> np.ndarray:
    """True where a boolean-like column is true (1, True, "true"); nulls are false."""
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return s.fillna(False).to_numpy(dtype=bool)
    return _matches(s.astype(object).map(str), lambda v: v.strip().lower() in ("true", "1"))


def _failure_reasons(s: pd.Series) -> np.ndarray:
    """Index into ``FAILURE_REASONS`` of each ``status_detail`` (last: any other)."""
    codes, cats = _text(s)

    def reason(text: str) -> int:
        low = text.lower()
        hit = [i for i, r in enumerate(FAILURE_REASONS[1:-1], 1) if r in low]
        return hit[0] if hit else len(FAILURE_REASONS) - 1

    lut = np.append(np.array([reason(c) for c in cats], dtype=np.int8), len(FAILURE_REASONS) - 1)
    return lut[codes]


def _logon_kinds(X: pd.DataFrame) -> np.ndarray:
    if "logon_type" not in X.columns:
        return np.zeros(len(X), dtype=np.int8)
    codes, cats = _text(X["logon_type"])
    lut = np.append(
        np.array([LOGON_KINDS.index(c.lower()) if c.lower() in LOGON_KINDS else 0 for c in cats]),
        0,
    ).astype(np.int8)
    return lut[codes]


def _check_entities(entity: np.ndarray, is_net: np.ndarray) -> None:
    """Refuse events whose baselines would belong to no one (the readers name the line)."""
    missing = entity < 0
    if not missing.any():
        return
    if (missing & ~is_net).any():
        raise DataError(
            "column user has nulls on events that are not network events; expected an "
            "account name on every authentication event"
        )
    raise DataError(
        "a network event names no user, src_host or src_ip; expected an account or a "
        "source endpoint on every network event"
    )


def read_events(X: pd.DataFrame) -> Events:
    """Validate ``X`` and read its columns (see :class:`Events`).

    ``codes["user"]`` and ``categories["user"]`` are the entity each event's
    baselines belong to (:func:`~soc_anomaly.features.entity_keys.entity_codes`):
    its account, else (a network event) its source host, else its source address.
    """
    check_columns(X)
    time = epoch_ms(X["time"])
    order = None
    if len(time) > 1 and bool(np.any(time[1:] < time[:-1])):
        order = np.argsort(time, kind="stable")

    def arr(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    cls = _floats(X["class_uid"])
    is_net = arr(cls == NETWORK_CLASS_UID)
    tz = utc_offsets(X["timezone_offset"])
    codes: dict[str, np.ndarray] = {}
    cats: dict[str, pd.Index] = {}
    for name in TEXT_COLUMNS:
        c, k = _text(X[name])
        codes[name], cats[name] = arr(c), k
    # The "user" codes are the entity's: the account, else a flow's source endpoint.
    host = None
    if "src_host" in X.columns and bool((codes["user"] < 0).any()):
        c, k = _text(X["src_host"])
        host = (arr(c), k)
    codes["user"], cats["user"] = entity_codes(
        (codes["user"], cats["user"]), host, (codes["src_ip"], cats["src_ip"]), is_net
    )
    _check_entities(codes["user"], is_net)
    return Events(
        order=order,
        time=arr(time),
        tz_min=arr(tz),
        is_auth=arr(cls == AUTH_CLASS_UID),
        is_net=is_net,
        failure=arr(_matches(X["status"], _is_failure)),
        # "MFA push denied" and "MFA push timed out": the second factor was refused.
        mfa_denied=arr(_matches(X["status_detail"], lambda v: "mfa" in v.lower())),
        outbound=arr(_matches(X["direction"], lambda v: v.lower() == "outbound")),
        direction_known=arr(X["direction"].notna().to_numpy(dtype=bool)),
        mfa=arr(_flag(X["is_mfa"])) if "is_mfa" in X.columns else np.zeros(len(X), bool),
        reason=arr(_failure_reasons(X["status_detail"]) * _matches(X["status"], _is_failure)),
        logon_kind=arr(_logon_kinds(X)),
        lat=arr(_floats(X["src_lat"])),
        lon=arr(_floats(X["src_lon"])),
        bytes_in=arr(_floats(X["bytes_in"])),
        bytes_out=arr(_floats(X["bytes_out"])),
        codes=codes,
        categories=cats,
    )
