"""The comparison and threshold-lab figures, and the before/after figure of a diff.

Precision-recall curves, the threshold trade-off, recall per attack type,
permutation importance (:data:`LAB_PLOTS`), and :func:`plot_run_diff`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.reporting.figure_style import (
    MODEL_PALETTE,
    figure_style,
    grouped_bars,
    panel_grid,
    save_figure,
)

__all__ = [
    "LAB_PLOTS",
    "plot_permutation_importance",
    "plot_pr_curves",
    "plot_recall_heatmap",
    "plot_run_diff",
    "plot_threshold_tradeoff",
]

#: The comparison and threshold-lab figures.
LAB_PLOTS = (
    "pr_curves.png",
    "threshold_tradeoff.png",
    "recall_by_attack_heatmap.png",
    "permutation_importance.png",
)


def plot_pr_curves(
    curves: dict[str, RankingCurves],
    average_precision: dict[str, float],
    base_rate: float,
    path: Path,
) -> Path:
    """Precision-recall curves of every model, with each curve's average precision.

    Parameters
    ----------
    curves : dict
        Model name -> its curves on the evaluated events (thinned for plotting:
        :meth:`RankingCurves.for_plot`).
    average_precision : dict
        Model name -> its average precision (PR AUC), for the legend.
    base_rate : float
        Share of attacks among the evaluated events: a random ranking's precision.
    path : pathlib.Path
        PNG to write.
    """
    with figure_style():
        fig = Figure(figsize=(8, 6))
        ax = fig.subplots()
        for i, (name, c) in enumerate(curves.items()):
            ap = average_precision[name]
            ax.step(
                c.recall,
                c.precision,
                where="post",
                color=MODEL_PALETTE[i % len(MODEL_PALETTE)],
                linewidth=2,
                label=f"{name} (PR AUC={ap:.4f})",
            )
        base = base_rate
        ax.axhline(base, color="grey", linestyle="--", linewidth=1, label=f"Chance ({base:.3f})")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.03)
        ax.set_xlabel("Recall (attacks alerted)")
        ax.set_ylabel("Precision (alerts that are attacks)")
        ax.set_title("Precision-recall curves")
        ax.legend(loc="lower left", fontsize=9)
        return save_figure(fig, path)


def plot_threshold_tradeoff(sweeps: dict[str, pd.DataFrame], path: Path) -> Path:
    """Precision, recall and F1 against the threshold percentile, one panel per model.

    Parameters
    ----------
    sweeps : dict
        Model name -> :func:`soc_anomaly.evaluation.threshold_lab.percentile_sweep` table.
    path : pathlib.Path
        PNG to write.
    """
    with figure_style():
        fig, axes = panel_grid(len(sweeps), 6.0, 4.5)
        for ax, (name, sweep) in zip(axes, sweeps.items(), strict=True):
            for col, color, marker in (
                ("precision", "#1f77b4", "o"),
                ("recall", "#d62728", "s"),
                ("f1", "#2ca02c", "^"),
            ):
                ax.plot(
                    sweep["percentile"],
                    sweep[col],
                    marker=marker,
                    color=color,
                    linewidth=1.8,
                    markersize=4,
                    label="F1" if col == "f1" else col.capitalize(),
                )
            ax.set_ylim(0, 1.05)
            ax.set_title(name)
            ax.set_xlabel("Threshold: percentile of normal training scores")
            ax.set_ylabel("Score")
            ax.legend(loc="lower left", fontsize=9)
        fig.suptitle("Threshold trade-off")
        return save_figure(fig, path)


def plot_recall_heatmap(recall: pd.DataFrame, rule_label: str, path: Path) -> Path:
    """Recall of each detector (rows) on each attack type (columns).

    Parameters
    ----------
    recall : pandas.DataFrame
        Detector x attack type, values in [0, 1].
    rule_label : str
        The threshold rule the recall was measured at (named in the title).
    path : pathlib.Path
        PNG to write.
    """
    with figure_style(), sns.axes_style("white"):
        fig = Figure(figsize=(2.2 * len(recall.columns) + 3.5, 0.6 * len(recall.index) + 2.2))
        ax = fig.subplots()
        sns.heatmap(
            recall,
            annot=True,
            fmt=".2f",
            cmap="RdYlGn",
            vmin=0,
            vmax=1,
            linewidths=1,
            linecolor="white",
            cbar_kws={"label": "Recall"},
            ax=ax,
        )
        ax.set_title(f"Recall per attack type (threshold: {rule_label})")
        ax.set_xlabel("Attack type")
        ax.set_ylabel("Detector")
        ax.tick_params(axis="y", rotation=0)
        return save_figure(fig, path)


def plot_permutation_importance(importances: dict[str, pd.DataFrame], path: Path) -> Path:
    """Drop in PR AUC when each feature is shuffled, one panel per model.

    Parameters
    ----------
    importances : dict
        Model name -> :func:`soc_anomaly.evaluation.importance.permutation_importance` table.
    path : pathlib.Path
        PNG to write.
    """
    with figure_style():
        n_features = max(len(t) for t in importances.values())
        fig, axes = panel_grid(len(importances), 6.0, 0.4 * n_features + 1.8)
        for i, (ax, (name, table)) in enumerate(zip(axes, importances.items(), strict=True)):
            t = table.sort_values("importance_mean")
            ax.barh(
                t["feature"],
                t["importance_mean"],
                xerr=t["importance_std"],
                color=MODEL_PALETTE[i % len(MODEL_PALETTE)],
                edgecolor="black",
                linewidth=0.5,
                capsize=3,
            )
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_title(name)
            ax.set_xlabel("Drop in PR AUC when shuffled")
            ax.set_ylabel("Feature")
        fig.suptitle("Permutation importance (mean ± std over repeats)")
        return save_figure(fig, path)


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
