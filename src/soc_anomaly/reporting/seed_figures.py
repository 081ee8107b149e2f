"""The seed system's figures: what each detector keys on, and how well it separates.

One correlation figure per detector, then score histograms, confusion
matrices, the headline-metric comparison, ROC curves and the features that
explain the top alerts (:data:`SEED_PLOTS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.metrics import ModelEvaluation
from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.reporting.figure_style import (
    ANOMALY_COLOR,
    MODEL_PALETTE,
    NORMAL_COLOR,
    figure_style,
    grouped_bars,
    save_figure,
)

__all__ = [
    "SEED_PLOTS",
    "model_comparison_values",
    "plot_confusion_matrices",
    "plot_deviant_features",
    "plot_feature_correlations",
    "plot_model_comparison",
    "plot_roc_curves",
    "plot_score_histograms",
]

#: The figures of the seed system, besides one correlation plot per model.
SEED_PLOTS = (
    "score_histograms.png",
    "confusion_matrices.png",
    "model_comparison.png",
    "roc_curves.png",
    "deviant_features_top_anomalies.png",
)


def plot_feature_correlations(corr: pd.Series, model_name: str, path: Path) -> Path:
    """Horizontal bars of each feature's Pearson correlation with the scores.

    Parameters
    ----------
    corr : pandas.Series
        Feature -> correlation, from
        :func:`soc_anomaly.evaluation.explain.global_feature_correlations`.
    model_name : str
        Named in the title.
    path : pathlib.Path
        PNG to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with figure_style():
        corr = corr.sort_values()
        fig = Figure(figsize=(8, 0.45 * len(corr) + 1.6))
        ax = fig.subplots()
        colors = sns.color_palette("coolwarm", as_cmap=True)((corr.to_numpy() + 1.0) / 2.0)
        ax.barh(corr.index, corr.to_numpy(), color=colors, edgecolor="black", linewidth=0.5)
        for y, v in enumerate(corr.to_numpy()):
            ax.annotate(
                f"{v:+.2f}",
                (v, y),
                xytext=(4 if v >= 0 else -4, 0),
                textcoords="offset points",
                ha="left" if v >= 0 else "right",
                va="center",
                fontsize=9,
            )
        ax.axvline(0, color="black", linestyle="--", linewidth=0.8)
        ax.set_xlim(-1.15, 1.15)
        ax.set_title(f"{model_name}: feature correlation with anomaly score")
        ax.set_xlabel("Pearson correlation with anomaly score (test events)")
        ax.set_ylabel("Feature")
        return save_figure(fig, path)


def plot_score_histograms(
    scores: dict[str, np.ndarray],
    y_true: np.ndarray,
    thresholds: dict[str, dict[str, float]],
    path: Path,
) -> Path:
    """Score distributions of normal vs anomalous events, one panel per model.

    Parameters
    ----------
    scores : dict
        Model name -> anomaly scores of the evaluated events.
    y_true : numpy.ndarray
        0/1 labels of those events.
    thresholds : dict
        Model name -> {threshold label -> value}, drawn as vertical lines.
    path : pathlib.Path
        PNG to write.
    """
    with figure_style():
        fig = Figure(figsize=(7 * len(scores), 5))
        axes = np.atleast_1d(fig.subplots(1, len(scores)))
        for ax, (name, s) in zip(axes, scores.items(), strict=True):
            bins = np.histogram_bin_edges(s, bins=60)
            # Scores with a tail orders of magnitude beyond the normal bulk (a
            # log-kernel SVM, a distance) would squeeze the bulk into one bin: bin
            # and draw them on an asinh axis, linear near the bulk, log beyond.
            bulk = np.subtract(*np.percentile(s[y_true == 0], [99, 1])) or 1.0
            if np.ptp(s) > 50 * bulk:
                lo, hi = np.arcsinh(np.array([s.min(), s.max()]) / bulk)
                bins = bulk * np.sinh(np.linspace(lo, hi, 61))
                ax.set_xscale("asinh", linear_width=bulk)
            for label, color, text in ((0, NORMAL_COLOR, "Normal"), (1, ANOMALY_COLOR, "Anomaly")):
                ax.hist(
                    s[y_true == label],
                    bins=bins,
                    color=color,
                    alpha=0.6,
                    label=f"{text} (n={int(np.sum(y_true == label)):,})",
                )
            for (tlabel, value), style in zip(
                thresholds.get(name, {}).items(), ("--", ":"), strict=False
            ):
                ax.axvline(value, color="black", linestyle=style, linewidth=1.2, label=tlabel)
            ax.set_yscale("log")
            ax.set_title(f"{name} scores")
            scale = " (asinh scale)" if ax.get_xscale() == "asinh" else ""
            ax.set_xlabel(f"Anomaly score (higher = more anomalous){scale}")
            ax.set_ylabel("Events (log scale)")
            ax.legend(fontsize=9, loc="upper center")
        return save_figure(fig, path)


def plot_confusion_matrices(
    confusions: Mapping[str, Mapping[str, ThresholdReport]], path: Path
) -> Path:
    """Confusion matrices per model (columns) and threshold rule (rows).

    Parameters
    ----------
    confusions : mapping
        Threshold label -> model name -> the report of that threshold.
    path : pathlib.Path
        PNG to write.
    """
    rules = list(confusions)
    models = list(next(iter(confusions.values())))
    with figure_style(), sns.axes_style("white"):
        fig = Figure(figsize=(5.2 * len(models), 4.4 * len(rules)))
        axes = np.atleast_2d(fig.subplots(len(rules), len(models), squeeze=False))
        for r, rule in enumerate(rules):
            for c, model in enumerate(models):
                m = confusions[rule][model]
                cm = np.array([[m.tn, m.fp], [m.fn, m.tp]])
                ax = axes[r, c]
                sns.heatmap(
                    cm,
                    annot=np.array([[f"{v:,}" for v in row] for row in cm]),
                    fmt="",
                    cmap="Blues",
                    cbar=False,
                    square=True,
                    linewidths=1,
                    linecolor="white",
                    xticklabels=["Normal", "Anomaly"],
                    yticklabels=["Normal", "Anomaly"],
                    annot_kws={"fontsize": 13},
                    ax=ax,
                )
                ax.set_title(f"{model}\n{rule}", fontsize=11)
                ax.set_xlabel("Predicted")
                ax.set_ylabel("Actual")
        return save_figure(fig, path)


def plot_model_comparison(metrics: dict[str, dict[str, float]], path: Path) -> Path:
    """Grouped bars of the headline metrics, one colour per model.

    Parameters
    ----------
    metrics : dict
        Model name -> {metric label -> value in [0, 1]}.
    path : pathlib.Path
        PNG to write.
    """
    frame = pd.DataFrame(metrics)
    with figure_style():
        fig = Figure(figsize=(13, 5))
        ax = fig.subplots()
        x = grouped_bars(ax, frame, horizontal=False, label_fmt="%.3f")
        ax.set_xticks(x, frame.index, rotation=15, ha="right")
        ax.set_ylim(0, 1.18)
        ax.set_ylabel("Score (higher is better)")
        ax.set_title("Model comparison on the test events")
        # Outside the axes, so no bar label is hidden behind it.
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Model")
        return save_figure(fig, path)


def plot_roc_curves(curves: dict[str, RankingCurves], path: Path) -> Path:
    """ROC curves of every model: the full curve and the low false-positive region.

    Parameters
    ----------
    curves : dict
        Model name -> its curves on the evaluated events.
    path : pathlib.Path
        PNG to write.
    """
    from sklearn.metrics import auc

    with figure_style():
        fig = Figure(figsize=(13, 5.5))
        full, zoom = fig.subplots(1, 2)
        for i, (name, c) in enumerate(curves.items()):
            fpr, tpr = c.fpr, c.tpr
            color = MODEL_PALETTE[i % len(MODEL_PALETTE)]
            for ax in (full, zoom):
                ax.plot(
                    fpr, tpr, color=color, linewidth=2, label=f"{name} (AUC={auc(fpr, tpr):.4f})"
                )
        full.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="Chance")
        full.set_title("ROC curves")
        zoom.set_xlim(0, 0.05)
        zoom.set_ylim(0, 1.02)
        zoom.set_title("ROC curves, false-positive rate <= 5%")
        for ax in (full, zoom):
            ax.set_xlabel("False-positive rate (normal events alerted)")
            ax.set_ylabel("True-positive rate (attacks alerted)")
            ax.legend(loc="lower right", fontsize=9)
        return save_figure(fig, path)


def plot_deviant_features(counts: dict[str, pd.Series], top_m: int, path: Path) -> Path:
    """How often each feature explains one of the top anomalies, per model.

    Parameters
    ----------
    counts : dict
        Model name -> Series feature -> count, from
        :func:`soc_anomaly.evaluation.explain.deviant_feature_counts`.
    top_m : int
        Number of top anomalies explained (named in the title).
    path : pathlib.Path
        PNG to write.
    """
    frame = pd.DataFrame(counts).fillna(0).astype(int)
    frame = frame.loc[frame.sum(axis=1).sort_values(ascending=True).index]
    with figure_style():
        fig = Figure(figsize=(9, 0.5 * max(len(frame), 3) + 1.8))
        ax = fig.subplots()
        y = grouped_bars(ax, frame, horizontal=True, label_fmt="%g")
        ax.set_yticks(y, frame.index)
        ax.set_xlim(0, top_m + 1)
        ax.set_xlabel(f"Times listed among the top-{top_m} anomalies' explanations")
        ax.set_ylabel("Feature")
        ax.set_title("Most frequent deviant features in the top anomalies")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Model")
        return save_figure(fig, path)


def model_comparison_values(
    metrics: Mapping[str, ModelEvaluation],
    train_thresholds: Mapping[str, ThresholdReport],
    k: int,
    percentile: float,
) -> dict[str, dict[str, float]]:
    """The headline numbers :func:`plot_model_comparison` draws, labelled.

    Parameters
    ----------
    metrics : mapping
        Model name -> :class:`~soc_anomaly.evaluation.metrics.ModelEvaluation`
        (threshold at a percentile of the evaluated scores).
    train_thresholds : mapping
        Model name -> :class:`~soc_anomaly.evaluation.threshold_lab.ThresholdReport`
        at the percentile of the normal training scores.
    k : int
        ``k`` of precision@k, for the label.
    percentile : float
        The percentile, for the labels.
    """
    p = f"p{percentile:g}"
    return {
        name: {
            "ROC AUC": m.roc_auc,
            "PR AUC": m.pr_auc,
            f"Precision@{k}": m.precision_at_k,
            f"Precision ({p} test)": m.precision,
            f"Recall ({p} test)": m.recall,
            f"Precision ({p} train)": train_thresholds[name].precision,
            f"Recall ({p} train)": train_thresholds[name].recall,
        }
        for name, m in metrics.items()
    }
