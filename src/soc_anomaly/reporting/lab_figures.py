"""The comparison and threshold-lab figures, and the before/after figure of a diff.

Precision-recall curves with each rule's operating point, the threshold
trade-off, recall per attack type, permutation importance (:data:`LAB_PLOTS`),
and :func:`plot_run_diff`. Each ``*_figure`` function builds a
:class:`~matplotlib.figure.Figure`;
:func:`~soc_anomaly.reporting.plots.write_plots` saves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    FALSE_ALERT_COLOR,
    DetectorStyle,
    annotated_heatmap,
    detector_styles,
    figure_style,
    fit_figsize,
    grouped_bars,
    legend_beside,
    mark_panel,
    panel_grid,
    rule_handle,
    rule_style,
    save_figure,
)
from soc_anomaly.reporting.nines_scale import set_nines_scale

__all__ = [
    "LAB_PLOTS",
    "permutation_importance_figure",
    "plot_run_diff",
    "pr_figure",
    "recall_heatmap_figure",
    "threshold_tradeoff_figure",
]

#: The comparison and threshold-lab figures.
LAB_PLOTS = (
    "pr_curves.png",
    "threshold_tradeoff.png",
    "recall_by_attack_heatmap.png",
    "permutation_importance.png",
)
#: Up to this many detectors, permutation importance is drawn as one bar
#: chart per detector; beyond, as one heatmap (features x detectors).
IMPORTANCE_BARS_MAX_DETECTORS = 4
#: Colour and marker of each line of the threshold trade-off (Okabe-Ito).
_SWEEP_LINES = (
    ("precision", "Precision", FALSE_ALERT_COLOR, "o"),
    ("recall", "Recall", ANOMALY_COLOR, "s"),
    ("f1", "F1", "#009E73", "^"),
)


def _styles(names: list[str], styles: Mapping[str, DetectorStyle] | None) -> dict:
    return dict(styles) if styles is not None else detector_styles(names)


def pr_figure(
    curves: Mapping[str, RankingCurves],
    average_precision: Mapping[str, float],
    base_rate: float,
    operating_points: Mapping[str, Mapping[str, ThresholdReport]] | None = None,
    styles: Mapping[str, DetectorStyle] | None = None,
) -> Figure:
    """Precision-recall curves of every detector, with each threshold rule's operating point.

    Parameters
    ----------
    curves : mapping
        Detector name -> its curves on the evaluated events (thinned for
        plotting: :meth:`RankingCurves.for_plot`).
    average_precision : mapping
        Detector name -> its average precision (PR AUC), for the legend.
    base_rate : float
        Share of attacks among the evaluated events: a random ranking's precision.
    operating_points : mapping, optional
        Detector name -> rule -> the report of that rule's threshold
        (``ModelResult.thresholds``); each is marked on the detector's curve,
        one marker shape per rule.
    styles : mapping, optional
        Detector name -> style (default :func:`detector_styles` of the names).

    Returns
    -------
    matplotlib.figure.Figure
        Each detector's curve carries its name as ``gid``, each marker
        ``"<name>:<rule>"``.
    """
    styles = _styles(list(curves), styles)
    rules: dict[str, str] = {}
    with figure_style():
        # A long legend takes width from the axes: give it more with many detectors.
        fig = Figure(figsize=(10.5 if len(curves) <= 9 else 13.0, 6.5))
        ax = fig.subplots()
        for name, c in curves.items():
            s = styles[name]
            (line,) = ax.step(
                c.recall,
                c.precision,
                where="post",
                color=s.color,
                linestyle=s.linestyle,
                linewidth=2,
                label=f"{name} (PR AUC={average_precision[name]:.4f})",
            )
            line.set_gid(name)
            for rule, rep in (operating_points or {}).get(name, {}).items():
                rules.setdefault(rule, rep.name)
                (point,) = ax.plot(
                    rep.recall,
                    rep.precision,
                    marker=rule_style(rule)[0],
                    markersize=8,
                    markerfacecolor=s.color,
                    markeredgecolor="black",
                    linestyle="none",
                    zorder=5,
                )
                point.set_gid(f"{name}:{rule}")
        ax.axhline(base_rate, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.04)
        ax.set_xlabel("Recall (attacks alerted)")
        ax.set_ylabel("Precision (alerts that are attacks)")
        ax.set_title("Precision-recall curves and the operating point of each threshold rule")
        handles, _ = ax.get_legend_handles_labels()
        handles.append(
            Line2D([], [], color="grey", linestyle="--", label=f"Chance ({base_rate:.3f})")
        )
        handles += [
            rule_handle(r, f"threshold: {label}", marker=True) for r, label in rules.items()
        ]
        legend_beside(fig, handles, side="right", fontsize=9 if len(curves) <= 9 else 8)
    return fig


def _per_day(count: float) -> str:
    """An alert rate for a tick label: 1.2k, 154, 15, 1.5, 0.2."""
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return f"{count:.0f}" if count >= 10 else f"{count:.1f}" if count >= 0.1 else f"{count:.2f}"


def threshold_tradeoff_figure(
    sweeps: Mapping[str, pd.DataFrame],
    n_events: int,
    events_per_day: float | None,
    percentile_in_use: float | None = None,
    styles: Mapping[str, DetectorStyle] | None = None,
) -> Figure:
    """Precision, recall and F1 against the threshold percentile, one panel per detector.

    Parameters
    ----------
    sweeps : mapping
        Detector name -> :func:`soc_anomaly.evaluation.threshold_lab.percentile_sweep`
        table (thresholds at percentiles of the normal training scores).
    n_events : int
        Evaluated events, that the sweep's ``alerts`` are out of.
    events_per_day : float or None
        Events a day of the evaluated stream: the top axis of each panel then
        reads alerts a day (``alerts / n_events * events_per_day``). None says
        in the figure that the rate is unknown.
    percentile_in_use : float, optional
        The run's percentile, marked with a vertical line.
    styles : mapping, optional
        Detector name -> style; each panel's title is in its detector's colour.

    Returns
    -------
    matplotlib.figure.Figure
        The x axis spreads 90-99.9 on the nines scale (90, 99, 99.9 equally spaced).
    """
    names = list(sweeps)
    styles = _styles(names, styles)
    with figure_style():
        # Three panels a row leave room for the alerts-a-day labels; past nine
        # detectors a fourth keeps the grid from growing too tall.
        cols = 3 if len(names) <= 9 else 4
        fig, axes = panel_grid(len(names), 5.6, 4.2, max_cols=cols, sharey=True)
        for ax, name in zip(axes, names, strict=True):
            sweep = sweeps[name]
            p = sweep["percentile"].to_numpy(dtype=float)
            lo, hi = float(p.min()), float(p.max())
            for col, label, color, marker in _SWEEP_LINES:
                ax.plot(p, sweep[col], marker=marker, color=color, lw=1.8, ms=4.5, label=label)
            if percentile_in_use is not None and lo <= percentile_in_use <= hi:
                ax.axvline(percentile_in_use, color="black", linestyle="--", lw=1.1)
            set_nines_scale(ax, "x", lo, hi)
            ax.set_ylim(0, 1.05)
            ax.set_xlabel("Threshold: percentile of normal training scores")
            # The detector's band goes on the topmost axes: a twin covers ax.
            band = ax
            if events_per_day is not None and n_events > 0:
                top = band = ax.twiny()
                set_nines_scale(top, "x", lo, hi)
                ticks = top.get_xticks()
                per_day = np.interp(ticks, p, sweep["alerts"].to_numpy(float)) / n_events
                top.set_xticks(ticks, [_per_day(v * events_per_day) for v in per_day])
                top.tick_params(axis="x", labelsize=9)
                top.set_xlabel("Alerts a day", fontsize=10)
                top.grid(False)
            ax.set_title(name, fontsize=11)
            mark_panel(band, styles[name])
        for ax in axes[:: min(len(names), cols)]:
            ax.set_ylabel("Score")
        handles, _ = axes[0].get_legend_handles_labels() if len(axes) else ([], [])
        if percentile_in_use is not None:
            handles.append(
                Line2D(
                    [],
                    [],
                    color="black",
                    ls="--",
                    label=f"threshold in use: p{percentile_in_use:g}",
                )
            )
        note = (
            ""
            if events_per_day is not None
            else "\nAlerts a day unknown: the events carry no usable timestamps "
            "(--timestamp-col names them, --events-per-day gives the rate)"
        )
        fig.suptitle(f"Threshold trade-off{note}", fontsize=12)
        legend_beside(fig, handles, ncols=len(handles))
    return fig


def recall_heatmap_figure(recall: pd.DataFrame, rule_label: str) -> Figure:
    """Recall of each detector (rows) on each attack type (columns).

    Parameters
    ----------
    recall : pandas.DataFrame
        Detector x attack type, values in [0, 1].
    rule_label : str
        The threshold rule the recall was measured at (named in the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style(), sns.axes_style("white"):
        size = fit_figsize(1.25 * len(recall.columns) + 5, 0.45 * len(recall.index) + 2.6)
        fig = Figure(figsize=size)
        ax = fig.subplots()
        annotated_heatmap(
            ax, recall, fmt=".2f", cmap="viridis", vmin=0, vmax=1, cbar_label="Recall"
        )
        ax.set_xticks(ax.get_xticks(), recall.columns, rotation=30, ha="right")
        ax.set_title(f"Recall per attack type (threshold: {rule_label})")
        ax.set_xlabel("Attack type")
        ax.set_ylabel("Detector")
    return fig


def permutation_importance_figure(
    importances: Mapping[str, pd.DataFrame],
    styles: Mapping[str, DetectorStyle] | None = None,
) -> Figure:
    """Drop in PR AUC when each feature is shuffled.

    Parameters
    ----------
    importances : mapping
        Detector name -> :func:`soc_anomaly.evaluation.importance.permutation_importance` table.
    styles : mapping, optional
        Detector name -> style, for the bar colours.

    Returns
    -------
    matplotlib.figure.Figure
        Up to :data:`IMPORTANCE_BARS_MAX_DETECTORS` detectors get a
        bar chart each (mean and std over repeats); more share one heatmap of
        the mean drops (features x detectors, blank where a detector does not
        use the feature).
    """
    names = list(importances)
    styles = _styles(names, styles)
    with figure_style():
        if len(names) > IMPORTANCE_BARS_MAX_DETECTORS:
            frame = pd.DataFrame(
                {n: t.set_index("feature")["importance_mean"] for n, t in importances.items()}
            )
            frame = frame.loc[frame.max(axis=1).sort_values(ascending=False).index]
            fig = Figure(figsize=fit_figsize(0.75 * len(names) + 5, 0.36 * len(frame) + 3))
            ax = fig.subplots()
            bound = float(np.nanmax(np.abs(frame.to_numpy()))) or 1.0
            annotated_heatmap(
                ax,
                frame,
                fmt=".3f",
                cmap="vlag",
                vmin=-bound,
                vmax=bound,
                cbar_label="Drop in PR AUC when shuffled",
            )
            ax.set_xticks(ax.get_xticks(), frame.columns, rotation=35, ha="right")
            ax.set_xlabel("Detector")
            ax.set_ylabel("Feature")
            ax.set_title("Permutation importance (mean drop in PR AUC over repeats)")
            return fig
        n_features = max(len(t) for t in importances.values())
        fig, axes = panel_grid(len(names), 6.0, 0.3 * n_features + 1.8, max_cols=2)
        for ax, (name, table) in zip(axes, importances.items(), strict=True):
            t = table.sort_values("importance_mean")
            ax.barh(
                t["feature"],
                t["importance_mean"],
                xerr=t["importance_std"],
                color=styles[name].color,
                edgecolor="black",
                linewidth=0.5,
                capsize=3,
            )
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_title(name)
            ax.set_xlabel("Drop in PR AUC when shuffled")
            ax.set_ylabel("Feature")
        fig.suptitle("Permutation importance (mean ± std over repeats)")
    return fig


def plot_run_diff(deltas: pd.DataFrame, path: Path) -> Path:
    """Metric changes between two runs, one group of bars per detector.

    Parameters
    ----------
    deltas : pandas.DataFrame
        Columns ``detector, metric, before, after, delta`` (see
        :func:`soc_anomaly.experiment.run_diff.diff_runs`); only rates in [0, 1] are drawn.
    path : pathlib.Path
        PNG to write.
    """
    rates = deltas[~deltas["metric"].str.endswith((".tp", ".fp"))]
    frame = rates.pivot_table(index="metric", columns="detector", values="delta", sort=False)
    with figure_style():
        fig = Figure(figsize=(11, 0.45 * len(frame.index) * max(1, len(frame.columns)) / 2 + 2))
        ax = fig.subplots()
        y = grouped_bars(ax, frame, horizontal=True, label_fmt="%+.3f")
        ax.set_yticks(y, frame.index)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("Change (after - before)")
        ax.set_ylabel("Metric")
        ax.set_title("What changed between the two runs")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Detector")
        return save_figure(fig, path)
