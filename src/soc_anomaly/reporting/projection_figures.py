"""A 2-D map of the evaluated events: where the attacks are, and what each detector alerts.

The events' features are standardised against the normal events and
projected on their first two principal components. The map is drawn from a
seeded sample of at most :data:`PROJECTION_MAX_EVENTS` events, so it costs the
same on ten thousand events as on ten million; attacks keep at least a tenth
of the sample, or a rare attack class would leave a handful of points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    FALSE_ALERT_COLOR,
    MAX_PANEL_COLUMNS,
    MISSED_COLOR,
    NORMAL_COLOR,
    DetectorStyle,
    figure_style,
    legend_beside,
    mark_panel,
    panel_grid,
)

__all__ = [
    "PROJECTION_MAX_EVENTS",
    "PROJECTION_PLOT",
    "Projection",
    "project_events",
    "projection_figure",
    "projection_sample",
]

#: File name of the map.
PROJECTION_PLOT = "event_map_pca.png"
#: Events the map draws at most.
PROJECTION_MAX_EVENTS = 5_000
#: Share of the sample kept for attacks when they are rarer than that.
_MIN_ATTACK_SHARE = 0.1


def projection_sample(y: np.ndarray, max_events: int, seed: int) -> np.ndarray:
    """Sorted rows of a seeded sample of at most ``max_events`` events.

    Every event when there are few enough; otherwise attacks are drawn at
    their own share of the events, but at least :data:`_MIN_ATTACK_SHARE` of
    the sample (all of them if fewer), and normal events fill the rest.

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels of the evaluated events.
    max_events : int
        Sample size cap (> 0).
    seed : int
        Seed of the draw.

    Returns
    -------
    numpy.ndarray
        Row positions, ascending.
    """
    y = np.asarray(y)
    n = len(y)
    if n <= max_events:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    attacks = np.flatnonzero(y == 1)
    normals = np.flatnonzero(y != 1)
    quota = max(round(max_events * len(attacks) / n), round(max_events * _MIN_ATTACK_SHARE))
    k_attack = min(len(attacks), quota)
    k_normal = min(len(normals), max_events - k_attack)
    rows = np.concatenate(
        [rng.choice(attacks, k_attack, replace=False), rng.choice(normals, k_normal, replace=False)]
    )
    rows.sort()
    return rows


@dataclass(frozen=True)
class Projection:
    """Sampled events on their first two principal components.

    Attributes
    ----------
    rows : numpy.ndarray
        Positions of the sampled events among the evaluated ones.
    xy : numpy.ndarray of shape (len(rows), 2)
        Their coordinates.
    explained : tuple of float
        Share of the (standardised) variance each component explains.
    """

    rows: np.ndarray
    xy: np.ndarray
    explained: tuple[float, float]


def project_events(features: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> Projection:
    """PCA of the sampled events' numeric features, standardised against the normal ones.

    Parameters
    ----------
    features : pandas.DataFrame
        Unscaled features of every evaluated event (``SeedRun.X_test_df``).
    y : numpy.ndarray
        0/1 labels of those events.
    rows : numpy.ndarray
        The sample (:func:`projection_sample`).

    Returns
    -------
    Projection
    """
    x = features.iloc[rows].select_dtypes("number").to_numpy(dtype=float)
    normal = np.asarray(y)[rows] == 0
    ref = x[normal] if normal.sum() > 1 else x
    center = np.nanmean(ref, axis=0)
    scale = np.nanstd(ref, axis=0)
    # A constant or missing column contributes nothing rather than a division by zero.
    scale[~np.isfinite(scale) | (scale == 0)] = 1.0
    z = np.nan_to_num((x - np.nan_to_num(center)) / scale)
    # Heavy tails (bytes, distances) would make every component one outlier:
    # arcsinh keeps the sign and order, linear within a std, logarithmic beyond.
    z = np.arcsinh(z)
    z -= z.mean(axis=0)
    if z.shape[1] == 0 or len(z) < 2:
        return Projection(rows, np.zeros((len(rows), 2)), (0.0, 0.0))
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    comps = vt[:2]
    # Fix each component's sign (largest loading positive): the same data
    # always gives the same picture.
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    xy = z @ comps.T
    if xy.shape[1] == 1:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    var = sv**2
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    explained = (float(share[0]), float(share[1]) if len(share) > 1 else 0.0)
    return Projection(rows, xy, explained)


def projection_figure(
    projection: Projection,
    y: np.ndarray,
    alerts: Mapping[str, np.ndarray],
    n_events: int,
    rule_label: str,
    styles: Mapping[str, DetectorStyle],
) -> Figure:
    """The map: one panel by truth, then one per detector by alert outcome.

    Parameters
    ----------
    projection : Projection
        The sampled events' coordinates.
    y : numpy.ndarray
        0/1 labels of the sampled events (``projection.rows``).
    alerts : mapping
        Detector name -> boolean alert of each sampled event at the rule
        named ``rule_label``.
    n_events : int
        Evaluated events the sample was drawn from, for the title.
    rule_label : str
        The threshold rule, for the titles.
    styles : mapping
        Detector name -> style; panel titles are in the detector's colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = projection.rows
    truth = np.asarray(y) == 1
    x, yy = projection.xy[:, 0], projection.xy[:, 1]
    names = list(alerts)
    n_attack = int(truth.sum())
    with figure_style():
        fig, axes = panel_grid(len(names) + 1, 4.6, 4.2, sharex=True, sharey=True)
        ax = axes[0]
        ax.scatter(x[~truth], yy[~truth], s=5, color=NORMAL_COLOR, alpha=0.5, lw=0)
        ax.scatter(x[truth], yy[truth], s=9, color=ANOMALY_COLOR, alpha=0.8, lw=0)
        ax.set_title("Truth: normal events and attacks", fontsize=11)
        for ax, name in zip(axes[1:], names, strict=True):
            hit = np.asarray(alerts[name], dtype=bool)
            # Drawn in this order, so the rare outcomes (missed attacks) stay on top.
            groups = (
                (~truth & ~hit, NORMAL_COLOR, ".", 5, 0.4),
                (truth & hit, ANOMALY_COLOR, "o", 9, 0.8),
                (~truth & hit, FALSE_ALERT_COLOR, "^", 18, 0.9),
                (truth & ~hit, MISSED_COLOR, "x", 30, 1.0),
            )
            for mask, color, marker, size, alpha in groups:
                ax.scatter(
                    x[mask], yy[mask], s=size, color=color, marker=marker, alpha=alpha, lw=1.2
                )
            ax.set_title(
                f"{name}: {int((hit & ~truth).sum())} false, {int((~hit & truth).sum())} missed",
                fontsize=10,
            )
            if name in styles:
                mark_panel(ax, styles[name])
        cols = min(len(axes), MAX_PANEL_COLUMNS)
        for i, ax in enumerate(axes):
            if i % cols == 0:
                ax.set_ylabel(f"PC2 ({projection.explained[1]:.0%} of variance)")
            if i + cols >= len(axes):  # no panel below
                ax.set_xlabel(f"PC1 ({projection.explained[0]:.0%} of variance)")
                ax.xaxis.set_tick_params(labelbottom=True)
        handles = [
            _dot(NORMAL_COLOR, "o", "Normal event, no alert"),
            _dot(ANOMALY_COLOR, "o", "Attack, alerted"),
            _dot(FALSE_ALERT_COLOR, "^", "False alert"),
            _dot(MISSED_COLOR, "x", "Missed attack"),
        ]
        n, total = len(rows), n_events
        sample = f"all {n:,} events" if n == total else f"a seeded sample of {n:,} of {total:,}"
        fig.suptitle(
            f"The evaluated events on two principal components of the standardised features\n"
            f"{sample} ({n_attack:,} attacks); alerts at the {rule_label} threshold, "
            "counted in the sample",
            fontsize=11,
        )
        legend_beside(fig, handles, ncols=4)
    return fig


def _dot(color: str, marker: str, label: str) -> Line2D:
    return Line2D([], [], color=color, marker=marker, linestyle="none", markersize=7, label=label)
