"""Publication-ready figures of a detection run.

Figures are built on :class:`matplotlib.figure.Figure` directly rather than
through ``pyplot``: no GUI backend is ever touched, nothing global is left
open, and plotting works the same in a terminal, a test or a server. Each
figure is saved atomically at 150 dpi or more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from soc_anomaly.data.io import atomic_write

__all__ = [
    "PLOT_DPI",
    "plot_confusion_matrices",
    "plot_deviant_features",
    "plot_feature_correlations",
    "plot_model_comparison",
    "plot_roc_curves",
    "plot_score_histograms",
    "slug",
]

PLOT_DPI = 150
NORMAL_COLOR = "#2ca02c"
ANOMALY_COLOR = "#d62728"
MODEL_PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def slug(name: str) -> str:
    """File-name-safe lower-case form of a model name (``One Class`` -> ``one_class``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@contextmanager
def _style() -> Iterator[None]:
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=1.05):
        yield


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        # The temporary name ends in .tmp, so say the format explicitly.
        fig.savefig(tmp, dpi=PLOT_DPI, format="png", bbox_inches="tight")
    return path


def _grouped_bars(ax: Any, frame: pd.DataFrame, *, horizontal: bool, label_fmt: str) -> np.ndarray:
    """One bar per (row, column) of ``frame``, grouped by row, one colour per column.

    Returns the group positions, for the tick labels.
    """
    n = len(frame.columns)
    size = 0.8 / n
    pos = np.arange(len(frame.index))
    for i, model in enumerate(frame.columns):
        style = {
            "label": model,
            "color": MODEL_PALETTE[i % len(MODEL_PALETTE)],
            "edgecolor": "black",
            "linewidth": 0.5,
        }
        if horizontal:
            # The first model's bar sits on top within each group.
            bars = ax.barh(pos + ((n - 1) / 2 - i) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2)
        else:
            bars = ax.bar(pos + (i - (n - 1) / 2) * size, frame[model].to_numpy(), size, **style)
            ax.bar_label(bars, fmt=label_fmt, fontsize=8, padding=2, rotation=90)
    return pos


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
    with _style():
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
        return _save(fig, path)


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
    with _style():
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
        return _save(fig, path)


def plot_confusion_matrices(confusions: dict[str, dict[str, dict[str, Any]]], path: Path) -> Path:
    """Confusion matrices per model (columns) and threshold rule (rows).

    Parameters
    ----------
    confusions : dict
        Threshold label -> model name -> dict with ``tp, fp, tn, fn``.
    path : pathlib.Path
        PNG to write.
    """
    rules = list(confusions)
    models = list(next(iter(confusions.values())))
    with _style(), sns.axes_style("white"):
        fig = Figure(figsize=(5.2 * len(models), 4.4 * len(rules)))
        axes = np.atleast_2d(fig.subplots(len(rules), len(models), squeeze=False))
        for r, rule in enumerate(rules):
            for c, model in enumerate(models):
                m = confusions[rule][model]
                cm = np.array([[m["tn"], m["fp"]], [m["fn"], m["tp"]]])
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
        return _save(fig, path)


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
    with _style():
        fig = Figure(figsize=(13, 5))
        ax = fig.subplots()
        x = _grouped_bars(ax, frame, horizontal=False, label_fmt="%.3f")
        ax.set_xticks(x, frame.index, rotation=15, ha="right")
        ax.set_ylim(0, 1.18)
        ax.set_ylabel("Score (higher is better)")
        ax.set_title("Model comparison on the test events")
        # Outside the axes, so no bar label is hidden behind it.
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Model")
        return _save(fig, path)


def plot_roc_curves(scores: dict[str, np.ndarray], y_true: np.ndarray, path: Path) -> Path:
    """ROC curves of every model: the full curve and the low false-positive region.

    Parameters
    ----------
    scores : dict
        Model name -> anomaly scores.
    y_true : numpy.ndarray
        0/1 labels.
    path : pathlib.Path
        PNG to write.
    """
    from sklearn.metrics import auc

    with _style():
        fig = Figure(figsize=(13, 5.5))
        full, zoom = fig.subplots(1, 2)
        for i, (name, s) in enumerate(scores.items()):
            fpr, tpr, _ = roc_curve(y_true, s)
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
        return _save(fig, path)


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
    with _style():
        fig = Figure(figsize=(9, 0.5 * max(len(frame), 3) + 1.8))
        ax = fig.subplots()
        y = _grouped_bars(ax, frame, horizontal=True, label_fmt="%g")
        ax.set_yticks(y, frame.index)
        ax.set_xlim(0, top_m + 1)
        ax.set_xlabel(f"Times listed among the top-{top_m} anomalies' explanations")
        ax.set_ylabel("Feature")
        ax.set_title("Most frequent deviant features in the top anomalies")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Model")
        return _save(fig, path)


def model_comparison_values(
    metrics: dict[str, dict[str, Any]],
    train_thresholds: dict[str, dict[str, Any]],
    k: int,
    percentile: float,
) -> dict[str, dict[str, float]]:
    """The headline numbers :func:`plot_model_comparison` draws, labelled.

    Parameters
    ----------
    metrics : dict
        Model name -> :func:`soc_anomaly.evaluation.metrics.evaluate_model` result
        (threshold at a percentile of the evaluated scores).
    train_thresholds : dict
        Model name -> confusion block at the percentile of the normal
        training scores.
    k : int
        ``k`` of precision@k, for the label.
    percentile : float
        The percentile, for the labels.
    """
    p = f"p{percentile:g}"
    return {
        name: {
            "ROC AUC": m["roc_auc"],
            "PR AUC": m["pr_auc"],
            f"Precision@{k}": m["precision_at_k"],
            f"Precision ({p} test)": m["precision"],
            f"Recall ({p} test)": m["recall"],
            f"Precision ({p} train)": train_thresholds[name]["precision"],
            f"Recall ({p} train)": train_thresholds[name]["recall"],
        }
        for name, m in metrics.items()
    }


#: The figures of the seed system, besides one correlation plot per model.
SEED_PLOTS = (
    "score_histograms.png",
    "confusion_matrices.png",
    "model_comparison.png",
    "roc_curves.png",
    "deviant_features_top_anomalies.png",
)
#: The comparison and threshold-lab figures.
LAB_PLOTS = (
    "pr_curves.png",
    "threshold_tradeoff.png",
    "recall_by_attack_heatmap.png",
    "permutation_importance.png",
)


def plot_names(model_names: Sequence[str], importance: bool = True) -> list[str]:
    """File names of the figures a run with these models writes, in order."""
    lab = [p for p in LAB_PLOTS if importance or p != "permutation_importance.png"]
    return [*(f"feature_correlations_{slug(n)}.png" for n in model_names), *SEED_PLOTS, *lab]


def _grid(n: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` panels, at most three a row; unused panels hidden."""
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(width * cols, height * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def plot_pr_curves(scores: dict[str, np.ndarray], y_true: np.ndarray, path: Path) -> Path:
    """Precision-recall curves of every model, with each curve's average precision.

    Parameters
    ----------
    scores : dict
        Model name -> anomaly scores of the evaluated events.
    y_true : numpy.ndarray
        0/1 labels.
    path : pathlib.Path
        PNG to write.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    with _style():
        fig = Figure(figsize=(8, 6))
        ax = fig.subplots()
        for i, (name, s) in enumerate(scores.items()):
            precision, recall, _ = precision_recall_curve(y_true, s)
            ap = average_precision_score(y_true, s)
            ax.step(
                recall,
                precision,
                where="post",
                color=MODEL_PALETTE[i % len(MODEL_PALETTE)],
                linewidth=2,
                label=f"{name} (PR AUC={ap:.4f})",
            )
        base = float(np.mean(y_true))
        ax.axhline(base, color="grey", linestyle="--", linewidth=1, label=f"Chance ({base:.3f})")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.03)
        ax.set_xlabel("Recall (attacks alerted)")
        ax.set_ylabel("Precision (alerts that are attacks)")
        ax.set_title("Precision-recall curves")
        ax.legend(loc="lower left", fontsize=9)
        return _save(fig, path)


def plot_threshold_tradeoff(sweeps: dict[str, pd.DataFrame], path: Path) -> Path:
    """Precision, recall and F1 against the threshold percentile, one panel per model.

    Parameters
    ----------
    sweeps : dict
        Model name -> :func:`soc_anomaly.evaluation.threshold_lab.percentile_sweep` table.
    path : pathlib.Path
        PNG to write.
    """
    with _style():
        fig, axes = _grid(len(sweeps), 6.0, 4.5)
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
        return _save(fig, path)


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
    with _style(), sns.axes_style("white"):
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
        return _save(fig, path)


def plot_permutation_importance(importances: dict[str, pd.DataFrame], path: Path) -> Path:
    """Drop in PR AUC when each feature is shuffled, one panel per model.

    Parameters
    ----------
    importances : dict
        Model name -> :func:`soc_anomaly.evaluation.importance.permutation_importance` table.
    path : pathlib.Path
        PNG to write.
    """
    with _style():
        n_features = max(len(t) for t in importances.values())
        fig, axes = _grid(len(importances), 6.0, 0.4 * n_features + 1.8)
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
        return _save(fig, path)


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
    with _style():
        fig = Figure(figsize=(11, 0.45 * len(frame.index) * max(1, len(frame.columns)) / 2 + 2))
        ax = fig.subplots()
        y = _grouped_bars(ax, frame, horizontal=True, label_fmt="%+.3f")
        ax.set_yticks(y, frame.index)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("Change (after - before)")
        ax.set_ylabel("Metric")
        ax.set_title("What changed between the two runs")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Detector")
        return _save(fig, path)
