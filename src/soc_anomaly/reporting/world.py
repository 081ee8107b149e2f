"""Figures that show what a generated enterprise world looks like.

Three PNGs: when events happen (local hour of day, day of week), one user's
timeline with benign oddities and attacks marked, and every campaign on a time
axis. They are for eyeballing a world before training on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from soc_anomaly.data.io import atomic_write

__all__ = ["WORLD_PLOTS", "pick_showcase_user", "plot_world_overview"]

PLOT_DPI = 150
#: File names of the overview figures, in the order they are drawn.
WORLD_PLOTS: tuple[str, ...] = (
    "world_rhythm.png",
    "world_user_timeline.png",
    "world_campaigns.png",
)
# Okabe-Ito, safe for colour-blind readers.
_OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
_INTENSITY_COLOURS = {"blatant": "#D55E00", "moderate": "#E69F00", "subtle": "#0072B2"}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CLASS_NAMES = {3002: "authentication", 4001: "network"}


def _save(fig: Figure, path: Path) -> Path:
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=PLOT_DPI, format="png", bbox_inches="tight")
    return path


def _local(events: pd.DataFrame) -> pd.Series:
    offset = pd.to_timedelta(events["timezone_offset"].astype(np.int64), unit="min")
    return events["time"].dt.tz_localize(None) + offset


def _rhythm(events: pd.DataFrame, path: Path) -> Path:
    local = _local(events)
    fig = Figure(figsize=(12, 4.2))
    ax_h, ax_d = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    for k, (uid, name) in enumerate(_CLASS_NAMES.items()):
        rows = (events["class_uid"] == uid).to_numpy()
        hours = np.bincount(local[rows].dt.hour, minlength=24)
        days = np.bincount(local[rows].dt.day_of_week, minlength=7)
        width = 0.4
        ax_h.bar(
            np.arange(24) + (k - 0.5) * width, hours, width, label=name, color=_OKABE_ITO[4 + k * 1]
        )
        ax_d.bar(
            np.arange(7) + (k - 0.5) * width, days, width, label=name, color=_OKABE_ITO[4 + k * 1]
        )
    ax_h.set(
        title="Events per hour of day (user's local time)",
        xlabel="hour",
        ylabel="events",
        xticks=range(0, 24, 2),
    )
    ax_d.set(title="Events per day of week", xticks=range(7), xticklabels=_WEEKDAYS)
    ax_h.legend(frameon=False)
    for ax in (ax_h, ax_d):
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def pick_showcase_user(events: pd.DataFrame) -> str:
    """A user whose timeline shows both benign oddities and an attack, if any does.

    Ties are broken by the most distinct benign tags, then by name, so the
    choice is deterministic.
    """
    attacked = set(events.loc[events["label"] == 1, "user"].astype(str))
    odd = events[events["benign_tag"].astype(str) != "none"]
    tags = odd.groupby(odd["user"].astype(str))["benign_tag"].nunique()
    both = tags[tags.index.isin(attacked)]
    pool = both if len(both) else tags
    if len(pool):
        best = pool[pool == pool.max()].index
        return str(sorted(best)[0])
    return str(events["user"].astype(str).iloc[0])


def _user_timeline(events: pd.DataFrame, user: str, path: Path) -> Path:
    mine = events[events["user"].astype(str) == user]
    lanes = {"logon ok": 0, "logon failed": 1, "connection": 2}
    lane = np.where(
        mine["class_uid"] == 4001, 2, np.where(mine["status"].astype(str) == "Success", 0, 1)
    )
    rng = np.random.default_rng(0)  # vertical jitter only, for legibility
    y = lane + rng.uniform(-0.25, 0.25, len(mine))
    fig = Figure(figsize=(13, 4.8))
    ax = fig.subplots()
    tag = mine["benign_tag"].astype(str).to_numpy()
    attack = (mine["label"] == 1).to_numpy()
    plain = (tag == "none") & ~attack
    ax.scatter(
        mine["time"][plain], y[plain], s=6, color="#999999", alpha=0.5, label="normal", linewidths=0
    )
    for k, name in enumerate(sorted(set(tag) - {"none"})):
        sel = (tag == name) & ~attack
        ax.scatter(
            mine["time"][sel],
            y[sel],
            s=18,
            color=_OKABE_ITO[k % 7],
            label=name,
            marker="o",
            linewidths=0,
        )
    scen = mine["attack_type"].astype(str).to_numpy()
    for k, name in enumerate(sorted(set(scen[attack]))):
        sel = attack & (scen == name)
        ax.scatter(
            mine["time"][sel],
            y[sel],
            s=40,
            color="#D55E00" if k == 0 else "#CC79A7",
            marker="x",
            label=f"attack: {name}",
        )
    ax.set_yticks(list(lanes.values()), list(lanes))
    ax.set(
        title=f"Timeline of {user}: everyday activity, benign oddities and attacks",
        xlabel="time (UTC)",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _save(fig, path)


def _campaigns(
    campaigns: pd.DataFrame,
    attack_start: pd.Timestamp | None,
    period: tuple[pd.Timestamp, pd.Timestamp],
    path: Path,
) -> Path:
    n = len(campaigns)
    fig = Figure(figsize=(12, max(2.5, 0.32 * n + 1.5)))
    ax = fig.subplots()
    start = pd.to_datetime(campaigns["start"], utc=True)
    end = pd.to_datetime(campaigns["end"], utc=True)
    # A campaign of minutes still needs a visible bar: at least 0.3% of the period.
    min_width = (period[1] - period[0]) * 0.003
    width = np.maximum(end - start, min_width)
    for i, row in enumerate(campaigns.itertuples(index=False)):
        ax.barh(
            i,
            width.iloc[i],
            left=start.iloc[i],
            height=0.6,
            color=_INTENSITY_COLOURS.get(row.intensity, "#777777"),
        )
    ax.set_yticks(
        range(n),
        [f"{c} {s}" for c, s in zip(campaigns["campaign_id"], campaigns["scenario"], strict=True)],
    )
    ax.invert_yaxis()
    ax.set_xlim(period[0], period[1])
    handles: list = [Patch(color=c, label=k) for k, c in _INTENSITY_COLOURS.items()]
    if attack_start is not None:
        handles.append(
            ax.axvline(
                attack_start,
                color="#555555",
                linestyle="--",
                linewidth=1,
                label="earliest campaign start",
            )
        )
    ax.legend(
        handles=handles,
        title="intensity",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    ax.set(title="Attack campaigns over the period", xlabel="time (UTC)")
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _save(fig, path)


def plot_world_overview(
    events: pd.DataFrame,
    campaigns: pd.DataFrame,
    plots_dir: Path,
    *,
    attack_start: pd.Timestamp | None = None,
    user: str | None = None,
) -> list[Path]:
    """Draw the overview figures of a world into ``plots_dir``.

    Parameters
    ----------
    events : pandas.DataFrame
        The world's events.
    campaigns : pandas.DataFrame
        Its manifest.
    plots_dir : pathlib.Path
        Folder to write into (created if missing).
    attack_start : pandas.Timestamp, optional
        Marked on the campaigns figure.
    user : str, optional
        Whose timeline to draw; by default :func:`pick_showcase_user`.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :data:`WORLD_PLOTS`.
    """
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    period = (events["time"].min().floor("D"), events["time"].max().ceil("D"))
    who = user if user is not None else pick_showcase_user(events)
    return [
        _rhythm(events, plots_dir / WORLD_PLOTS[0]),
        _user_timeline(events, who, plots_dir / WORLD_PLOTS[1]),
        _campaigns(campaigns, attack_start, period, plots_dir / WORLD_PLOTS[2]),
    ]
