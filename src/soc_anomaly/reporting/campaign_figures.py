"""The campaign timeline: each campaign's evaluated events, its first alert and time to detect.

For the enterprise world, drawn for the detector with the best PR AUC from its
campaign outcomes (:class:`~soc_anomaly.evaluation.campaigns.CampaignOutcome`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from soc_anomaly.evaluation.campaigns import CampaignOutcome
from soc_anomaly.reporting.entity_figures import EntityScores, date_axis, naive_utc
from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    figure_style,
    fit_figsize,
    legend_beside,
)

__all__ = ["CAMPAIGN_MAX_DRAWN", "campaign_timeline_figure"]

#: Events of one campaign drawn on its timeline row, at most.
CAMPAIGN_MAX_DRAWN = 2_000


def _duration(hours: float) -> str:
    if hours * 60 < 1:
        return "<1 min"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _stamp(ts: pd.Timestamp) -> np.datetime64:
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return np.datetime64(ts.to_datetime64())


def campaign_timeline_figure(
    data: EntityScores, outcomes: Sequence[CampaignOutcome], caught_by: str
) -> Figure:
    """Each campaign's evaluated events on a time axis, with its first alert and time to detect.

    Parameters
    ----------
    data : EntityScores
        The events (``campaign_id``, ``time``) and the detector drawn.
    outcomes : sequence of CampaignOutcome
        The detector's campaign outcomes (``CampaignReport.outcomes``).
    caught_by : str
        What raised the alerts, for the title (``"the daily alert queue"``).

    Returns
    -------
    matplotlib.figure.Figure
        Campaigns earliest first; a star marks the first alert, labelled with
        the time from the campaign's start.
    """
    ev = data.events
    codes, uniques = pd.factorize(ev["campaign_id"])
    rows = np.flatnonzero(codes >= 0)
    order = rows[np.argsort(codes[rows], kind="stable")]
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    where = {str(u): order[bounds[i] : bounds[i + 1]] for i, u in enumerate(uniques)}
    rng = np.random.default_rng(0)
    drawn = []
    for o in outcomes:
        idx = where.get(o.campaign_id)
        if idx is None or not idx.size:
            continue
        if idx.size > CAMPAIGN_MAX_DRAWN:
            idx = np.sort(rng.choice(idx, CAMPAIGN_MAX_DRAWN, replace=False))
        t = naive_utc(ev["time"].iloc[idx])
        first = None if o.first_alert is None else _stamp(o.first_alert)
        start = (
            t.min()
            if first is None or o.time_to_detect_hours is None
            else (first - np.timedelta64(int(o.time_to_detect_hours * 3.6e12), "ns"))
        )
        drawn.append((start, o, t, first))
    drawn.sort(key=lambda d: d[0])
    caught = [d[1] for d in drawn if d[1].caught]
    ttd = [o.time_to_detect_hours for o in caught if o.time_to_detect_hours is not None]
    with figure_style():
        fig = Figure(figsize=fit_figsize(14.0, 0.34 * len(drawn) + 2.2))
        ax = fig.subplots()
        for i, (start, o, t, first) in enumerate(drawn):
            end = t.max()
            ax.plot([start, end], [i, i], color="black", lw=0.8, alpha=0.6)
            ax.scatter(t, np.full(len(t), i), marker="|", s=50, color=ANOMALY_COLOR, alpha=0.5)
            ax.scatter([start], [i], marker="|", s=160, color="black")
            if first is not None:
                ax.scatter(
                    [first],
                    [i],
                    marker="*",
                    s=170,
                    color=data.style.color,
                    edgecolors="black",
                    linewidths=0.7,
                    zorder=5,
                )
                ax.annotate(
                    f"TTD {_duration(o.time_to_detect_hours or 0.0)}",
                    (first, i),
                    xytext=(8, -3),
                    textcoords="offset points",
                    fontsize=8.5,
                )
            else:
                ax.annotate(
                    "missed",
                    (end, i),
                    xytext=(8, -3),
                    textcoords="offset points",
                    fontsize=8.5,
                    color="#555555",
                    style="italic",
                )
        ax.set_yticks(
            range(len(drawn)), [f"{d[1].campaign_id} {d[1].scenario}" for d in drawn], fontsize=8.5
        )
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        date_axis(ax)
        ax.set_xlabel("Time (UTC)")
        handles = [
            Line2D([], [], color="black", marker="|", ms=12, ls="none", label="Campaign start"),
            Patch(color=ANOMALY_COLOR, alpha=0.6, label="Campaign event"),
            Line2D(
                [],
                [],
                color=data.style.color,
                marker="*",
                mec="black",
                ms=13,
                ls="none",
                label="First alert (TTD: time from start)",
            ),
        ]
        median = f"; median time to detect {_duration(float(np.median(ttd)))}" if ttd else ""
        ax.set_title(
            f"{data.detector}: {len(caught)} of {len(drawn)} campaigns caught by "
            f"{caught_by}{median}",
            fontsize=12,
        )
        legend_beside(fig, handles, ncols=3)
    return fig
