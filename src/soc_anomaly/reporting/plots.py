"""All the figures of a detection run, written into its plots folder.

:func:`write_plots` draws every figure of :mod:`~soc_anomaly.reporting.seed_figures`
and :mod:`~soc_anomaly.reporting.lab_figures` from a
:class:`~soc_anomaly.experiment.results.DetectionResult`; :func:`plot_names`
lists the files it writes, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from soc_anomaly.data.io import check_writable_dir
from soc_anomaly.evaluation.curves import RankingCurves
from soc_anomaly.evaluation.explain import deviant_feature_counts
from soc_anomaly.experiment.results import (
    COMPARISON_RULE,
    TEST_RULE,
    TRAIN_RULE,
    DetectionResult,
)
from soc_anomaly.reporting.figure_style import slug
from soc_anomaly.reporting.lab_figures import (
    LAB_PLOTS,
    plot_permutation_importance,
    plot_pr_curves,
    plot_recall_heatmap,
    plot_threshold_tradeoff,
)
from soc_anomaly.reporting.seed_figures import (
    SEED_PLOTS,
    model_comparison_values,
    plot_confusion_matrices,
    plot_deviant_features,
    plot_feature_correlations,
    plot_model_comparison,
    plot_roc_curves,
    plot_score_histograms,
)

__all__ = ["LAB_PLOTS", "SEED_PLOTS", "plot_names", "write_plots"]


def plot_names(model_names: Sequence[str], importance: bool = True) -> list[str]:
    """File names of the figures a run with these models writes, in order."""
    lab = [p for p in LAB_PLOTS if importance or p != "permutation_importance.png"]
    return [*(f"feature_correlations_{slug(n)}.png" for n in model_names), *SEED_PLOTS, *lab]


def write_plots(result: DetectionResult) -> list[Path]:
    """Write the run's figures into ``config.plots_dir``.

    Returns
    -------
    list of pathlib.Path
        The files written, in :func:`plot_names` order.
    """
    cfg = result.config
    out = Path(cfg.plots_dir)
    check_writable_dir(out, what="plots folder", create=True)
    pct = cfg.threshold_percentile
    test_label = f"p{pct:g} of test scores"
    train_label = f"p{pct:g} of normal training scores"
    paths = [
        plot_feature_correlations(
            m.correlations, m.name, out / f"feature_correlations_{slug(m.name)}.png"
        )
        for m in result.models
    ]
    scores = {m.name: m.test_scores for m in result.models}
    paths.append(
        plot_score_histograms(
            scores,
            result.y_test,
            {
                m.name: {
                    f"threshold: {test_label}": m.thresholds[TEST_RULE].threshold,
                    f"threshold: {train_label}": m.thresholds[TRAIN_RULE].threshold,
                }
                for m in result.models
            },
            out / "score_histograms.png",
        )
    )
    paths.append(
        plot_confusion_matrices(
            {
                f"threshold at {test_label}": {
                    m.name: m.thresholds[TEST_RULE] for m in result.models
                },
                f"threshold at {train_label}": {
                    m.name: m.thresholds[TRAIN_RULE] for m in result.models
                },
            },
            out / "confusion_matrices.png",
        )
    )
    paths.append(
        plot_model_comparison(
            model_comparison_values(
                {m.name: m.metrics for m in result.models},
                {m.name: m.thresholds[TRAIN_RULE] for m in result.models},
                cfg.k,
                pct,
            ),
            out / "model_comparison.png",
        )
    )
    curves = {
        m.name: m.curves or RankingCurves.of(result.y_test, m.test_scores).for_plot()
        for m in result.models
    }
    paths.append(plot_roc_curves(curves, out / "roc_curves.png"))
    paths.append(
        plot_deviant_features(
            {m.name: deviant_feature_counts(m.explanations) for m in result.models},
            cfg.top_explanations,
            out / "deviant_features_top_anomalies.png",
        )
    )
    paths.append(
        plot_pr_curves(
            curves,
            {m.name: m.metrics.pr_auc for m in result.models},
            float(np.mean(result.y_test)),
            out / "pr_curves.png",
        )
    )
    paths.append(
        plot_threshold_tradeoff(
            {m.name: m.sweep for m in result.models}, out / "threshold_tradeoff.png"
        )
    )
    recall = pd.DataFrame(
        {m.name: m.thresholds[COMPARISON_RULE].recall_by_attack for m in result.models}
    ).T
    paths.append(plot_recall_heatmap(recall, train_label, out / "recall_by_attack_heatmap.png"))
    importances = {m.name: m.importance for m in result.models if m.importance is not None}
    if importances:
        paths.append(plot_permutation_importance(importances, out / "permutation_importance.png"))
    return paths
