"""The timeline of one raised incident: its events' scores over time, and when it was raised.

Drawn for the HTML report's top incidents
(:mod:`soc_anomaly.reporting.html_incidents`), one small figure per incident,
rendered in memory and embedded as a PNG.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from soc_anomaly.incidents import Incident
from soc_anomaly.reporting.entity_figures import date_axis, naive_utc
from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    BENIGN_COLOR,
    NORMAL_COLOR,
    figure_style,
    legend_beside,
)
from soc_anomaly.reporting.incident_view import IncidentTruth
from soc_anomaly.reporting.nines_scale import MAX_NINES, set_nines_scale

__all__ = [
    "INCIDENT_FIGURE_DPI",
    "INCIDENT_FIGURE_INCHES",
    "INCIDENT_MAX_DRAWN",
    "incident_timeline_figure",
    "incident_timeline_png",
]

#: Events of one incident drawn at most (a seeded sample of a larger one).
INCIDENT_MAX_DRAWN = 2_000
#: Size of an incident's timeline, in inches, and its resolution: small, since a
#: report holds several of them.
INCIDENT_FIGURE_INCHES = (10.0, 3.0)
INCIDENT_FIGURE_DPI = 100
#: Another campaign's attack events inside an incident (Okabe-Ito orange).
OTHER_ATTACK_COLOR = "#E69F00"
_MIN_SPAN = np.timedelta64(30, "m")


def _naive(ms: np.ndarray) -> np.ndarray:
    return np.asarray(ms, dtype="int64").astype("datetime64[ms]").astype("datetime64[ns]")


def incident_timeline_figure(
    incident: Incident,
    events: pd.DataFrame,
    calibrated: np.ndarray,
    truth: IncidentTruth,
) -> Figure:
    """One incident's events on a time axis, by their calibrated score and what they were.

    Parameters
    ----------
    incident : Incident
        A raised incident; its ``events`` are positions in ``events`` and ``calibrated``.
    events : pandas.DataFrame
        The run's test events (``time``, ``campaign_id``, ``attack_type``, ``benign_tag``).
    calibrated : numpy.ndarray
        The detector's calibrated score (0-100) of every test event.
    truth : IncidentTruth
        The incident's main campaign, if any.

    Returns
    -------
    matplotlib.figure.Figure
        Events of the incident's main campaign in vermillion, another campaign's
        in orange triangles, benign oddities as purple diamonds, everyday events
        grey; the dashed line marks when it was raised. The score axis is
        stretched towards 100 (the "nines" scale).
    """
    rows = np.asarray(incident.events, dtype=np.int64)
    n_events = rows.size
    if rows.size > INCIDENT_MAX_DRAWN:
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(rows, INCIDENT_MAX_DRAWN, replace=False))
    picked = events.iloc[rows]
    if "time" in picked and picked["time"].notna().all():
        t = naive_utc(picked["time"]).astype("datetime64[ns]")
    else:  # no times: spread them over the incident's span, in order
        t = _naive(np.linspace(incident.first_ms, incident.last_ms, rows.size).astype("int64"))
    top = 100.0 * (1.0 - 10.0**-MAX_NINES)
    s = np.minimum(np.asarray(calibrated, dtype=float)[rows], top)
    campaign = (
        picked["campaign_id"].astype("string").fillna("") if "campaign_id" in picked else None
    )
    if campaign is None:
        campaign = pd.Series("", index=picked.index, dtype="string")
    main = (campaign == (truth.campaign_id or "\0")).to_numpy(dtype=bool)
    attack = (
        (picked["attack_type"].astype(str) != "normal").to_numpy(dtype=bool)
        if "attack_type" in picked
        else np.zeros(rows.size, dtype=bool)
    )
    other = attack & ~main
    tag = (
        picked["benign_tag"].astype("string").fillna("none")
        if "benign_tag" in picked
        else pd.Series("none", index=picked.index, dtype="string")
    )
    odd = ~attack & ~main & (tag != "none").to_numpy(dtype=bool) & (tag != "").to_numpy(dtype=bool)
    plain = ~attack & ~main & ~odd
    raised = None if incident.raised_at_ms is None else _naive(np.array([incident.raised_at_ms]))[0]
    with figure_style():
        fig = Figure(figsize=INCIDENT_FIGURE_INCHES)
        ax = fig.subplots()
        ax.scatter(t[plain], s[plain], s=16, color=NORMAL_COLOR, alpha=0.8, lw=0, zorder=2)
        ax.scatter(t[odd], s[odd], s=26, color=BENIGN_COLOR, marker="D", lw=0, zorder=3)
        ax.scatter(t[other], s[other], s=30, color=OTHER_ATTACK_COLOR, marker="^", lw=0, zorder=3)
        ax.scatter(t[main], s[main], s=24, color=ANOMALY_COLOR, lw=0, zorder=4)
        if raised is not None:
            ax.axvline(raised, color="black", linestyle="--", lw=1.2, zorder=5)
        lo_t = min(t.min(), raised) if raised is not None else t.min()
        hi_t = max(t.max(), raised) if raised is not None else t.max()
        span = max(hi_t - lo_t, _MIN_SPAN)
        middle = lo_t + (hi_t - lo_t) / 2
        ax.set_xlim(middle - span * 0.55, middle + span * 0.55)
        low = 90.0 if float(np.min(s, initial=100.0)) >= 90.0 else 0.0
        high = float(np.clip(np.max(s, initial=99.9), 99.9, top))
        set_nines_scale(ax, "y", low, high, pad=0.25)
        ax.set_ylabel("Calibrated score", fontsize=10)
        date_axis(ax)
        ax.set_xlabel("Time (UTC)", fontsize=10)
        drawn = f", {rows.size:,} drawn" if rows.size < n_events else ""
        when = (
            ""
            if incident.raised_at_ms is None
            else f", raised {pd.Timestamp(int(incident.raised_at_ms), unit='ms'):%Y-%m-%d %H:%M}"
            + (f" (#{incident.rank} that day)" if incident.rank is not None else "")
        )
        ax.set_title(
            f"{incident.incident_id}: score {incident.score:,.2f}, "
            f"{n_events:,} events{drawn}{when}",
            fontsize=10.5,
            loc="left",
        )
        # The legend lists only what is drawn.
        main_label = (
            f"{truth.campaign_id} ({truth.scenario})" if truth.campaign_id else "Main campaign"
        ).replace("$", r"\$")  # names are data, never mathtext
        entries = [
            (
                main.any(),
                Line2D([], [], color=ANOMALY_COLOR, marker="o", ls="none", label=main_label),
            ),
            (
                other.any(),
                Line2D(
                    [], [], color=OTHER_ATTACK_COLOR, marker="^", ls="none", label="Other campaign"
                ),
            ),
            (
                odd.any(),
                Line2D([], [], color=BENIGN_COLOR, marker="D", ls="none", label="Benign oddity"),
            ),
            (
                plain.any(),
                Line2D([], [], color=NORMAL_COLOR, marker="o", ls="none", label="Normal event"),
            ),
            (raised is not None, Line2D([], [], color="black", ls="--", label="Raised")),
        ]
        handles = [h for shown, h in entries if shown]
        legend_beside(fig, handles, ncols=len(handles))
    return fig


def incident_timeline_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes at :data:`INCIDENT_FIGURE_DPI` (laid out already)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=INCIDENT_FIGURE_DPI)
    return buffer.getvalue()
