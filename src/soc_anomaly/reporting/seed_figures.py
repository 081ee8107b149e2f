"""The seed system's figures: what each detector keys on, and how well it separates.

One correlation figure per detector, then score histograms, confusion
matrices, the headline-metric comparison, ROC curves and the features that
explain the top alerts (:data:`SEED_PLOTS`). Each ``*_figure`` function builds
a :class:`~matplotlib.figure.Figure`;
:func:`~soc_anomaly.reporting.plots.write_plots` saves them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.metrics import ModelEvaluation
from soc_anomaly.evaluation.threshold_lab import ThresholdReport
from soc_anomaly.reporting.figure_style import (
    NORMAL_COLOR,
    DetectorStyle,
    annotated_heatmap,
    detector_styles,
    figure_style,
    fit_figsize,
    grouped_bars,
    legend_beside,
    panel_grid,
    rule_handle,
    rule_style,
)
from soc_anomaly.reporting.nines_scale import MAX_NINES, nines, set_nines_scale

__all__ = [
    "BAR_CHART_MAX_DETECTORS",
    "SEED_PLOTS",
    "confusion_figure",
    "deviant_features_figure",
    "feature_correlation_figure",
    "model_comparison_figure",
    "model_comparison_values",
    "roc_figure",
    "score_histogram_figure",
]

#: The figures of the seed system, besides one correlation plot per model.
SEED_PLOTS = (
    "score_histograms.png",
    "confusion_matrices.png",
    "model_comparison.png",
    "roc_curves.png",
    "deviant_features_top_anomalies.png",
)
#: Up to this many detectors, tables of numbers are drawn as grouped bars in
#: each detector's colour; beyond, as an annotated heatmap.
BAR_CHART_MAX_DETECTORS = 4

#: Score threshold of one rule, as the histograms draw it: (label, rule, calibrated value).
HistogramThreshold = tuple[str, str, float]


def feature_correlation_figure(corr: pd.Series, model_name: str) -> Figure:
    """Horizontal bars of each feature's Pearson correlation with the scores.

    Parameters
    ----------
    corr : pandas.Series
        Feature -> correlation, from
        :func:`soc_anomaly.evaluation.explain.global_feature_correlations`.
    model_name : str
        Named in the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        corr = corr.sort_values()
        fig = Figure(figsize=fit_figsize(8, 0.45 * len(corr) + 1.6))
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
    return fig


def _styles(names: list[str], styles: Mapping[str, DetectorStyle] | None) -> dict:
    return dict(styles) if styles is not None else detector_styles(names)


def _count_label(value: float, _pos: int) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def score_histogram_figure(
    calibrated: Mapping[str, np.ndarray],
    y_true: np.ndarray,
    thresholds: Mapping[str, list[HistogramThreshold]],
    styles: Mapping[str, DetectorStyle] | None = None,
) -> Figure:
    """Calibrated scores of normal events and attacks, one panel per detector.

    Parameters
    ----------
    calibrated : mapping
        Detector name -> calibrated 0-100 scores of the evaluated events
        (``ModelResult.calibrated_test_scores``).
    y_true : numpy.ndarray
        0/1 labels of those events.
    thresholds : mapping
        Detector name -> the thresholds to draw, as (label, rule, calibrated
        value); one line style per rule.
    styles : mapping, optional
        Detector name -> style (default :func:`detector_styles` of the names).

    Returns
    -------
    matplotlib.figure.Figure
        Attacks are filled in the detector's colour, normal events in grey;
        the x axis runs 0-100 on the nines scale, where 90, 99 and 99.9 are
        equally spaced.
    """
    names = list(calibrated)
    styles = _styles(names, styles)
    y = np.asarray(y_true)
    transformed = {n: nines(s) for n, s in calibrated.items()}
    # One x range for every panel: the deepest nine any detector reaches, at
    # least 99.9 so that the usual thresholds show.
    top = max((float(t.max()) for t in transformed.values() if t.size), default=3.0)
    top = min(MAX_NINES, max(3.0, np.ceil(top * 2) / 2))
    edges_n = np.linspace(0.0, top, 61)
    edges = 100.0 * (1.0 - 10.0**-edges_n)
    rules: dict[str, str] = {}
    with figure_style():
        fig, axes = panel_grid(len(names), 5.6, 3.7, sharey=True)
        for ax, name in zip(axes, names, strict=True):
            style = styles[name]
            for label, kind in ((0, "normal"), (1, "attack")):
                counts, _ = np.histogram(transformed[name][y == label], bins=edges_n)
                is_attack = kind == "attack"
                art = ax.stairs(
                    counts,
                    edges,
                    fill=True,
                    baseline=0.5,
                    color=style.color if is_attack else NORMAL_COLOR,
                    alpha=0.55 if is_attack else 0.6,
                )
                art.set_gid(name if is_attack else f"{name}:normal")
                if is_attack:
                    outline = ax.stairs(counts, edges, baseline=0.5, color=style.color, lw=1.4)
                    outline.set_gid(name)
            for label, rule, value in thresholds.get(name, []):
                rules.setdefault(rule, label)
                line = ax.axvline(
                    min(float(value), edges[-1]),
                    color="black",
                    linestyle=rule_style(rule)[1],
                    linewidth=1.3,
                )
                line.set_gid(f"{name}:{rule}")
            ax.set_yscale("log")
            # Plain counts (1, 10, 1,000) and no minor ticks: easier to read
            # than 10^k, and without a mathtext parse and tick per minor step.
            ax.yaxis.set_major_formatter(FuncFormatter(_count_label))
            ax.yaxis.set_minor_locator(NullLocator())
            set_nines_scale(ax, "x", 0.0, float(edges[-1]))
            ax.set_title(name, fontsize=11)
            ax.set_xlabel("Calibrated score")
        for ax in axes[:: min(len(names), 4)]:
            ax.set_ylabel("Events (log scale)")
        n_attack = int(np.sum(y == 1))
        handles = [
            Patch(color=NORMAL_COLOR, alpha=0.6, label=f"Normal events (n={len(y) - n_attack:,})"),
            Patch(
                facecolor=styles[names[0]].color if names else NORMAL_COLOR,
                alpha=0.55,
                label=f"Attacks (n={n_attack:,}), in the detector's colour",
            ),
        ]
        handles += [
            rule_handle(rule, f"threshold: {label}", marker=False) for rule, label in rules.items()
        ]
        fig.suptitle(
            "Calibrated scores (0-100, % of normal training events scored lower); "
            "axis stretched towards 100",
            fontsize=11,
        )
        legend_beside(fig, handles, ncols=min(len(handles), 3))
    return fig


def confusion_figure(confusions: Mapping[str, Mapping[str, ThresholdReport]]) -> Figure:
    """Confusion matrices per detector, one per threshold rule side by side.

    Parameters
    ----------
    confusions : mapping
        Threshold label -> detector name -> the report of that threshold.

    Returns
    -------
    matplotlib.figure.Figure
        Up to three detectors a row (six matrices with two rules).
    """
    rules = list(confusions)
    models = list(next(iter(confusions.values())))
    per_row = min(len(models), 2 if len(models) <= 4 else 3)
    with figure_style(), sns.axes_style("white"):
        fig, axes = panel_grid(len(models) * len(rules), 3.3, 3.1, max_cols=per_row * len(rules))
        for i, (model, rule) in enumerate((m, r) for m in models for r in rules):
            rep = confusions[rule][model]
            cm = np.array([[rep.tn, rep.fp], [rep.fn, rep.tp]])
            ax = axes[i]
            # Shares of each actual class colour the cells: raw counts would
            # paint the normal row dark and the attack row blank.
            share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
            for (r, c), v in np.ndenumerate(cm):
                ax.text(
                    c,
                    r,
                    f"{v:,}",
                    ha="center",
                    va="center",
                    fontsize=12,
                    color="white" if share[r, c] > 0.6 else "black",
                )
            ax.set_xticks([0, 1], ["Normal", "Attack"])
            ax.set_yticks([0, 1], ["Normal", "Attack"])
            ax.set_title(f"{model}\n{rule}", fontsize=9.5)
            ax.set_xlabel("Predicted", fontsize=10)
            ax.set_ylabel("Actual", fontsize=10)
    return fig


def model_comparison_figure(
    metrics: dict[str, dict[str, float]], styles: Mapping[str, DetectorStyle] | None = None
) -> Figure:
    """The headline metrics of every detector.

    Parameters
    ----------
    metrics : dict
        Detector name -> {metric label -> value in [0, 1]}.
    styles : mapping, optional
        Detector name -> style, for the bar colours.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars in the detectors' colours up to
        :data:`BAR_CHART_MAX_DETECTORS` detectors, an annotated heatmap
        (detectors x metrics) beyond.
    """
    frame = pd.DataFrame(metrics)
    styles = _styles(list(frame.columns), styles)
    with figure_style():
        if len(frame.columns) > BAR_CHART_MAX_DETECTORS:
            fig = Figure(
                figsize=fit_figsize(1.5 * len(frame.index) + 5, 0.42 * len(frame.columns) + 2)
            )
            ax = fig.subplots()
            annotated_heatmap(
                ax, frame.T, fmt=".3f", cmap="viridis", vmin=0, vmax=1, cbar_label="Score"
            )
            ax.set_xticks(ax.get_xticks(), frame.index, rotation=20, ha="right")
            ax.set_ylabel("Detector")
        else:
            fig = Figure(figsize=(13, 5))
            ax = fig.subplots()
            colors = {n: s.color for n, s in styles.items()}
            x = grouped_bars(ax, frame, horizontal=False, label_fmt="%.3f", colors=colors)
            ax.set_xticks(x, frame.index, rotation=15, ha="right")
            ax.set_ylim(0, 1.18)
            ax.set_ylabel("Score (higher is better)")
        ax.set_title("Model comparison on the test events")
        if len(frame.columns) <= BAR_CHART_MAX_DETECTORS:
            # Outside the axes, so no bar label is hidden behind it.
            legend_beside(fig, side="right", title="Detector")
    return fig


def roc_figure(
    curves: Mapping[str, RankingCurves], styles: Mapping[str, DetectorStyle] | None = None
) -> Figure:
    """ROC curves of every detector: the full curve and the low false-positive region.

    Parameters
    ----------
    curves : mapping
        Detector name -> its curves on the evaluated events.
    styles : mapping, optional
        Detector name -> style (default :func:`detector_styles` of the names).

    Returns
    -------
    matplotlib.figure.Figure
        Each detector's lines carry its name as ``gid``.
    """
    styles = _styles(list(curves), styles)
    with figure_style():
        fig = Figure(figsize=(14, 5.5))
        full, zoom = fig.subplots(1, 2)
        for name, c in curves.items():
            s = styles[name]
            for ax in (full, zoom):
                (line,) = ax.plot(
                    c.fpr,
                    c.tpr,
                    color=s.color,
                    linestyle=s.linestyle,
                    linewidth=2,
                    label=f"{name} (AUC={c.roc_auc:.4f})",
                )
                line.set_gid(name)
        full.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="Chance")
        full.set_title("ROC curves")
        zoom.set_xlim(0, 0.05)
        zoom.set_ylim(0, 1.02)
        zoom.set_title("ROC curves, false-positive rate <= 5%")
        for ax in (full, zoom):
            ax.set_xlabel("False-positive rate (normal events alerted)")
            ax.set_ylabel("True-positive rate (attacks alerted)")
        # One legend for both panels, beside them: with many detectors an
        # in-axes legend would hide the curves.
        legend_beside(fig, side="right", fontsize=9 if len(curves) <= 9 else 8)
    return fig


def deviant_features_figure(
    counts: dict[str, pd.Series], top_m: int, styles: Mapping[str, DetectorStyle] | None = None
) -> Figure:
    """How often each feature explains one of the top anomalies, per detector.

    Parameters
    ----------
    counts : dict
        Detector name -> Series feature -> count, from
        :func:`soc_anomaly.evaluation.explain.deviant_feature_counts`.
    top_m : int
        Number of top anomalies explained (named in the title).
    styles : mapping, optional
        Detector name -> style, for the bar colours.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars up to :data:`BAR_CHART_MAX_DETECTORS` detectors, a
        heatmap (features x detectors) beyond.
    """
    frame = pd.DataFrame(counts).fillna(0).astype(int)
    frame = frame.loc[frame.sum(axis=1).sort_values(ascending=True).index]
    styles = _styles(list(frame.columns), styles)
    title = f"Most frequent deviant features in the top-{top_m} anomalies"
    with figure_style():
        if len(frame.columns) > BAR_CHART_MAX_DETECTORS:
            frame = frame.iloc[::-1]
            fig = Figure(figsize=fit_figsize(0.75 * len(frame.columns) + 5, 0.36 * len(frame) + 3))
            ax = fig.subplots()
            annotated_heatmap(
                ax, frame, fmt="d", cmap="rocket_r", vmin=0, vmax=top_m, cbar_label="Times listed"
            )
            ax.set_xticks(ax.get_xticks(), frame.columns, rotation=35, ha="right")
            ax.set_xlabel("Detector")
        else:
            fig = Figure(figsize=fit_figsize(10, 0.5 * max(len(frame), 3) + 1.8))
            ax = fig.subplots()
            colors = {n: s.color for n, s in styles.items()}
            y = grouped_bars(ax, frame, horizontal=True, label_fmt="%g", colors=colors)
            ax.set_yticks(y, frame.index)
            ax.set_xlim(0, top_m + 1)
            ax.set_xlabel(f"Times listed among the top-{top_m} anomalies' explanations")
        ax.set_ylabel("Feature")
        ax.set_title(title)
        if len(frame.columns) <= BAR_CHART_MAX_DETECTORS:
            legend_beside(fig, side="right", title="Detector")
    return fig


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
