"""Per-entity figures: who alerts, how a few users' scores move, how fast campaigns are caught.

Drawn for one detector (the caller picks it, the run's best by PR AUC) at one
threshold rule, from the evaluated events in test order
(``SeedRun.test_events``):

* :func:`user_timeline_figure`: the calibrated score of the most alerted users,
  and of one attacked user, over time, with alerts, attacks and benign
  oddities marked;
* :func:`user_alerts_figure`: the users with most alerts (true and false), and
  each user's share of alerted events against its share of attacks;
* :func:`~soc_anomaly.reporting.campaign_figures.campaign_timeline_figure`
  (its own module): each campaign's events on a time axis, its first alert and
  the time to detect (the enterprise world).

A view is drawn only when the events carry what it needs
(:func:`available_views`): tables without users or times simply have fewer
figures. Everything is O(events) but a sort of the campaign events and of the
few users drawn, and scatter plots are capped, so ten million events cost
seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullLocator

from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    BENIGN_COLOR,
    FALSE_ALERT_COLOR,
    NORMAL_COLOR,
    DetectorStyle,
    figure_style,
    fit_figsize,
    legend_beside,
)
from soc_anomaly.reporting.nines_scale import MAX_NINES, nines, set_nines_scale

__all__ = [
    "CAMPAIGN_PLOT",
    "ENTITY_PLOTS",
    "USER_ALERTS_PLOT",
    "USER_TIMELINE_PLOT",
    "EntityScores",
    "available_views",
    "date_axis",
    "naive_utc",
    "timeline_users",
    "user_alerts_figure",
    "user_table",
    "user_timeline_figure",
]

USER_TIMELINE_PLOT = "user_score_timelines.png"
USER_ALERTS_PLOT = "user_alerts.png"
CAMPAIGN_PLOT = "campaign_timeline.png"
#: Every per-entity figure, in the order they are written.
ENTITY_PLOTS = (USER_TIMELINE_PLOT, USER_ALERTS_PLOT, CAMPAIGN_PLOT)
#: Most alerted users drawn on the timeline (one attacked user joins them).
TIMELINE_TOP_USERS = 2
#: Users in the bar chart of alerts.
TOP_USERS_BARS = 15
#: Users in the scatter of alert share against attack share, at most.
SCATTER_MAX_USERS = 5_000


@dataclass(frozen=True)
class EntityScores:
    """One detector's view of the evaluated events, for the per-entity figures.

    Attributes
    ----------
    events : pandas.DataFrame
        ``SeedRun.test_events``: user, time, attack type, campaign, benign tag.
    y : numpy.ndarray
        0/1 labels, in the same order.
    calibrated : numpy.ndarray
        The detector's calibrated 0-100 scores.
    alerted : numpy.ndarray
        Boolean alerts at ``threshold``.
    threshold : float
        Calibrated threshold of the rule.
    detector : str
        The detector's name.
    rule_label : str
        The threshold rule (``"normal p99"``).
    style : DetectorStyle
        The detector's style in this run.
    """

    events: pd.DataFrame
    y: np.ndarray
    calibrated: np.ndarray
    alerted: np.ndarray
    threshold: float
    detector: str
    rule_label: str
    style: DetectorStyle


def _present(events: pd.DataFrame, column: str) -> bool:
    return column in events.columns and bool(events[column].notna().any())


def available_views(events: pd.DataFrame, has_campaigns: bool) -> tuple[str, ...]:
    """The per-entity figures the events allow, in :data:`ENTITY_PLOTS` order.

    The timeline needs users and times, the alert chart users, the campaign
    timeline times, campaign ids and ``has_campaigns`` (the detector's
    campaign reports).
    """
    users, times = _present(events, "user"), _present(events, "time")
    views = []
    if users and times:
        views.append(USER_TIMELINE_PLOT)
    if users:
        views.append(USER_ALERTS_PLOT)
    if times and has_campaigns and _present(events, "campaign_id"):
        views.append(CAMPAIGN_PLOT)
    return tuple(views)


def user_table(users: pd.Series, y: np.ndarray, alerted: np.ndarray) -> pd.DataFrame:
    """Per user: events, attacks, alerts, true and false alerts (users without a name left out).

    Parameters
    ----------
    users : pandas.Series
        User of each event.
    y, alerted : numpy.ndarray
        0/1 label and alert of each event.

    Returns
    -------
    pandas.DataFrame
        Indexed by user (as str), integer columns ``events, attacks, alerts,
        true_alerts, false_alerts``.
    """
    codes, uniques = pd.factorize(users)
    keep = codes >= 0
    c = codes[keep]
    m = len(uniques)
    attack = np.asarray(y)[keep] == 1
    hit = np.asarray(alerted, dtype=bool)[keep]

    def count(mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(c if mask is None else c[mask], minlength=m)

    alerts, true_alerts = count(hit), count(hit & attack)
    return pd.DataFrame(
        {
            "events": count(),
            "attacks": count(attack),
            "alerts": alerts,
            "true_alerts": true_alerts,
            "false_alerts": alerts - true_alerts,
        },
        index=pd.Index([str(u) for u in uniques], name="user"),
    )


def timeline_users(table: pd.DataFrame, n_top: int = TIMELINE_TOP_USERS) -> list[str]:
    """The ``n_top`` most alerted users, then the most attacked user not among them.

    Ties go to the user with more events, then by name, so the choice is stable.
    Without any alert the busiest users stand in for the most alerted.
    """
    ranked = table.assign(name=table.index).sort_values(
        ["alerts", "events", "name"], ascending=[False, False, True]
    )
    alerted = ranked.index[ranked["alerts"] > 0]
    chosen = list((alerted if len(alerted) else ranked.index)[:n_top])
    attacked = table[(table["attacks"] > 0) & ~table.index.isin(chosen)]
    if len(attacked):
        attacked = attacked.assign(name=attacked.index).sort_values(
            ["attacks", "name"], ascending=[False, True]
        )
        chosen.append(attacked.index[0])
    return chosen


def naive_utc(times: pd.Series) -> np.ndarray:
    """Times as naive UTC ``datetime64`` (what matplotlib draws)."""
    t = pd.to_datetime(times)
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.to_numpy()


def _benign(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Whether each of ``rows`` is a benign oddity (a tag other than "none")."""
    if "benign_tag" not in events.columns:
        return np.zeros(len(rows), dtype=bool)
    tag = events["benign_tag"].iloc[rows].astype("string")
    return (tag.notna() & (tag != "none")).to_numpy(dtype=bool)


def date_axis(ax: object) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)  # type: ignore[attr-defined]
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[attr-defined]


def user_timeline_figure(data: EntityScores, users: Sequence[str]) -> Figure:
    """Each chosen user's calibrated scores over time, one row per user.

    Parameters
    ----------
    data : EntityScores
        The detector's scores and alerts of the evaluated events.
    users : sequence of str
        Users to draw (:func:`timeline_users`).

    Returns
    -------
    matplotlib.figure.Figure
        Normal events grey, benign oddities purple diamonds, attacks
        vermillion; a black ring marks each alert, the dashed line the threshold.
    """
    ev = data.events
    codes, uniques = pd.factorize(ev["user"])
    lookup = {str(u): i for i, u in enumerate(uniques)}
    tagged = _present(ev, "benign_tag")
    rows = [np.flatnonzero(codes == lookup[u]) for u in users]
    deepest = max((float(nines(data.calibrated[r]).max()) for r in rows if r.size), default=3.0)
    top = float(100.0 * (1.0 - 10.0 ** -min(MAX_NINES, max(3.0, np.ceil(deepest * 2) / 2))))
    with figure_style():
        size = fit_figsize(12.0, 2.2 * len(users) + 1.3)
        fig = Figure(figsize=size)
        axes = np.atleast_1d(fig.subplots(len(users), 1, sharex=True, squeeze=False)).ravel()
        for ax, user, idx in zip(axes, users, rows, strict=True):
            t = naive_utc(ev["time"].iloc[idx])
            # Scores past the deepest nine drawn sit on it.
            s = np.minimum(data.calibrated[idx], top)
            attack = data.y[idx] == 1
            odd = _benign(ev, idx) & ~attack
            hit = data.alerted[idx]
            plain = ~attack & ~odd
            # Alert rings go under the markers: a burst of alerted attacks
            # would otherwise hide its attacks behind a band of black rings.
            ax.scatter(t[plain], s[plain], s=8, color=NORMAL_COLOR, alpha=0.6, lw=0, zorder=2)
            ax.scatter(
                t[hit], s[hit], s=80, facecolors="none", edgecolors="#222222", lw=0.9, zorder=3
            )
            ax.scatter(t[odd], s[odd], s=26, color=BENIGN_COLOR, marker="D", lw=0, zorder=4)
            ax.scatter(t[attack], s[attack], s=26, color=ANOMALY_COLOR, lw=0, zorder=4)
            ax.axhline(min(data.threshold, top), color="black", linestyle="--", lw=1.1)
            set_nines_scale(ax, "y", 0.0, top, pad=0.25)
            ax.set_ylabel("Calibrated score", fontsize=10)
            oddities = f"{int(odd.sum()):,} benign oddities, " if tagged else ""
            ax.set_title(
                f"{user}: {len(idx):,} events, {int(attack.sum()):,} attacks, {oddities}"
                f"{int(hit.sum()):,} alerts ({int((hit & attack).sum()):,} on attacks)",
                fontsize=10.5,
                loc="left",
            )
        date_axis(axes[-1])
        axes[-1].set_xlabel("Time (UTC)")
        handles = [
            Line2D([], [], color=NORMAL_COLOR, marker="o", ls="none", label="Normal event"),
            *(
                [Line2D([], [], color=BENIGN_COLOR, marker="D", ls="none", label="Benign oddity")]
                if tagged
                else []
            ),
            Line2D([], [], color=ANOMALY_COLOR, marker="o", ls="none", label="Attack"),
            Line2D([], [], color="black", marker="o", mfc="none", ms=9, ls="none", label="Alert"),
            Line2D([], [], color="black", ls="--", label=f"Threshold: {data.rule_label}"),
        ]
        fig.suptitle(
            f"{data.detector}: scores of the most alerted users and of one attacked user "
            "(score axis stretched towards 100)",
            fontsize=12,
        )
        legend_beside(fig, handles, ncols=len(handles))
    return fig


def user_alerts_figure(data: EntityScores, table: pd.DataFrame, marked: Sequence[str]) -> Figure:
    """Users with most alerts, and each user's alerted share against its attack share.

    Parameters
    ----------
    data : EntityScores
        The detector's scores and alerts (for the titles and the colour).
    table : pandas.DataFrame
        :func:`user_table` of the events.
    marked : sequence of str
        Users named on the scatter (those of the timeline figure).

    Returns
    -------
    matplotlib.figure.Figure
    """
    top = table[table["alerts"] > 0]
    top = top.assign(name=top.index)
    top = top.sort_values(["alerts", "name"], ascending=[False, True]).head(TOP_USERS_BARS)
    with figure_style():
        fig = Figure(figsize=(13, max(4.8, 0.3 * len(top) + 1.8)))
        bars, dots = fig.subplots(1, 2, width_ratios=[1, 1.15])
        y = np.arange(len(top))
        bars.barh(y, top["true_alerts"], color=ANOMALY_COLOR, label="Alerts on attacks")
        bars.barh(
            y,
            top["false_alerts"],
            left=top["true_alerts"],
            color=FALSE_ALERT_COLOR,
            label="False alerts",
        )
        for yi, total in zip(y, top["alerts"], strict=True):
            bars.annotate(
                f"{total:,}",
                (total, yi),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
            )
        bars.set_yticks(y, top.index, fontsize=9)
        bars.invert_yaxis()
        bars.set_xlabel(f"Alerts at the {data.rule_label} threshold")
        bars.set_title(f"Top {len(top)} users by alerts", fontsize=11)
        bars.legend(loc="lower right", fontsize=9)
        if top.empty:
            bars.text(
                0.5, 0.5, "No alerts at this threshold", ha="center", transform=bars.transAxes
            )

        shown = _scatter_users(table)
        share_attack = shown["attacks"] / shown["events"]
        share_alert = shown["alerts"] / shown["events"]
        attacked = (shown["attacks"] > 0).to_numpy()
        # Users without attacks all sit at x = 0: drawn last, so the attacked
        # users near zero do not hide them.
        for mask, color, size, label in (
            (attacked, ANOMALY_COLOR, 22, "User with attacks"),
            (~attacked, NORMAL_COLOR, 16, "User without attacks"),
        ):
            dots.scatter(
                share_attack[mask],
                share_alert[mask],
                s=size,
                color=color,
                alpha=0.75,
                lw=0,
                label=label,
            )
        dots.plot([0, 1], [0, 1], color="black", linestyle="--", lw=1, label="Alerts = attacks")
        for user in marked:
            if user in shown.index:
                dots.annotate(
                    user,
                    (share_attack[user], share_alert[user]),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=8.5,
                )
        # Most shares are a few percent: a square-root scale on both axes
        # spreads them and keeps the diagonal straight.
        reach = min(1.0, 1.1 * max(float(share_attack.max()), float(share_alert.max()), 0.05))
        ticks = [t for t in (0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0) if t <= reach]
        for axis in (dots.xaxis, dots.yaxis):
            setter = dots.set_xscale if axis is dots.xaxis else dots.set_yscale
            setter("function", functions=(_sqrt, np.square))
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_minor_locator(NullLocator())
        dots.set_xlim(0, reach)
        dots.set_ylim(0, reach)
        dots.set_xlabel("Share of the user's events that are attacks (square-root scale)")
        dots.set_ylabel("Share of the user's events alerted (square-root scale)")
        note = "" if len(shown) == len(table) else f" ({len(shown):,} of {len(table):,} users)"
        dots.set_title(f"Alerted share against attack share per user{note}", fontsize=11)
        dots.legend(loc="upper left", fontsize=9)
        fig.suptitle(
            f"{data.detector}: alerts per user at the {data.rule_label} threshold", fontsize=12
        )
    return fig


def _sqrt(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(values, 0.0, None))


def _scatter_users(table: pd.DataFrame) -> pd.DataFrame:
    """At most :data:`SCATTER_MAX_USERS` users with events, attacked ones first.

    Every user when there are few enough; otherwise a seeded sample that
    keeps the attacked users (a sample of them too if they alone pass the
    cap) and fills up with the others.
    """
    table = table[table["events"] > 0]
    if len(table) <= SCATTER_MAX_USERS:
        return table
    attacked = table[table["attacks"] > 0]
    if len(attacked) > SCATTER_MAX_USERS:
        attacked = attacked.sample(n=SCATTER_MAX_USERS, random_state=0)
    rest = table[table["attacks"] == 0]
    k = min(SCATTER_MAX_USERS - len(attacked), len(rest))
    return pd.concat([rest.sample(n=k, random_state=0), attacked])
