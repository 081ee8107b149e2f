"""What ``score --report`` keeps of a stream: bounded, whatever its length.

:class:`ScoreReportCollector` is handed each scored chunk (the ``observe``
hook of :func:`soc_anomaly.model.scoring.score_stream`) and keeps only what
the report shows: the top alerts by raw score, a fixed-bin histogram of the
calibrated scores, counts, the time range and the alert count per alerting
user.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from soc_anomaly.model.scoring import ID_COLUMNS

__all__ = ["DEFAULT_TOP_ALERTS", "HISTOGRAM_BINS", "ScoreReportCollector"]

#: Alerts the report lists, highest raw score first.
DEFAULT_TOP_ALERTS = 25
#: Bins of the calibrated-score histogram over [0, 100]: 0.1 points each, so the
#: figure can zoom into the top few points where the alerts are.
HISTOGRAM_BINS = 1000


class ScoreReportCollector:
    """What the score report needs, gathered chunk by chunk in bounded memory.

    Call it with ``(events, scored)`` for every chunk (the ``observe`` hook of
    :func:`~soc_anomaly.model.scoring.score_stream`).

    Parameters
    ----------
    top : int, default=25
        Alerts kept, highest raw score first (ties: the earlier event).
    label_col : str, optional
        Column of 0/1 labels: the histogram is split by label instead of by alert.
    bins : int, default=1000
        Equal-width histogram bins over the calibrated 0-100 scale.

    Attributes
    ----------
    events, alerts : int
        Events seen and alerts among them.
    counts : dict of str to numpy.ndarray
        Histogram counts per group (``"no alert"``/``"alert"``, or with labels
        ``"normal"``/``"attack"``), ``bins`` each.
    first_time, last_time : pandas.Timestamp or None
        Earliest and latest event time seen.
    alerts_by_user : collections.Counter
        Alerts per user (only users that alerted).
    """

    def __init__(
        self,
        top: int = DEFAULT_TOP_ALERTS,
        label_col: str | None = None,
        bins: int = HISTOGRAM_BINS,
    ) -> None:
        self.top = top
        self.label_col = label_col
        self.bins = bins
        self.events = 0
        self.alerts = 0
        groups = ("normal", "attack") if label_col else ("no alert", "alert")
        self.counts: dict[str, np.ndarray] = {g: np.zeros(bins, dtype=np.int64) for g in groups}
        self.first_time: pd.Timestamp | None = None
        self.last_time: pd.Timestamp | None = None
        self.alerts_by_user: Counter[str] = Counter()
        self._top: pd.DataFrame | None = None

    def __call__(self, events: pd.DataFrame, scored: pd.DataFrame) -> None:
        """Fold one scored chunk in."""
        score = scored["score"].to_numpy(dtype=float)
        alert = scored["alert"].to_numpy(dtype=bool)
        # Bin i holds [i, i + 1) * 100 / bins; a score of exactly 100 joins the last bin.
        idx = np.clip((score * (self.bins / 100.0)).astype(np.int64), 0, self.bins - 1)
        if self.label_col:
            attack = pd.to_numeric(events[self.label_col]).to_numpy() == 1
            split = {"normal": ~attack, "attack": attack}
        else:
            split = {"no alert": ~alert, "alert": alert}
        for group, mask in split.items():
            self.counts[group] += np.bincount(idx[mask], minlength=self.bins)
        if "time" in events.columns:
            self._times(events["time"])
        if alert.any():
            self._keep_top(events, scored, alert)
            if "user" in events.columns:
                self.alerts_by_user.update(events["user"].iloc[np.flatnonzero(alert)].astype(str))
        self.events += len(events)
        self.alerts += int(alert.sum())

    def _times(self, times: pd.Series) -> None:
        if pd.api.types.is_integer_dtype(times.dtype):  # epoch milliseconds
            times = pd.to_datetime(times, unit="ms", utc=True)
        if not pd.api.types.is_datetime64_any_dtype(times.dtype):
            return
        lo, hi = times.min(), times.max()  # NaT skipped; NaT only if there is no time at all
        if pd.isna(lo):
            return
        self.first_time = lo if self.first_time is None else min(self.first_time, lo)
        self.last_time = hi if self.last_time is None else max(self.last_time, hi)

    def _keep_top(self, events: pd.DataFrame, scored: pd.DataFrame, alert: np.ndarray) -> None:
        rows = np.flatnonzero(alert)
        if len(rows) > self.top:
            # Only this chunk's best can make the list; kept in stream order for ties.
            raw = scored["raw_score"].to_numpy(dtype=float)[rows]
            rows = np.sort(rows[np.argsort(-raw, kind="stable")[: self.top]])
        picked = pd.DataFrame({"row": self.events + rows + 1})
        for name in (*ID_COLUMNS, *((self.label_col,) if self.label_col else ())):
            # Only the alerting rows are taken out: converting a whole chunk of
            # zoned times to objects would cost more than scoring it.
            if name in events.columns:
                picked[name] = events[name].iloc[rows].to_numpy()
        for name in ("score", "raw_score", "reasons"):
            picked[name] = scored[name].iloc[rows].to_numpy()
        merged = picked if self._top is None else pd.concat([self._top, picked])
        # Stable: among equal raw scores the earlier event (already kept) stays first.
        merged = merged.sort_values("raw_score", ascending=False, kind="stable")
        self._top = merged.head(self.top).reset_index(drop=True)

    @property
    def top_alerts(self) -> pd.DataFrame:
        """The kept alerts, highest raw score first (``row`` is 1-based in the stream)."""
        if self._top is None:
            return pd.DataFrame(columns=["row", "score", "raw_score", "reasons"])
        return self._top
