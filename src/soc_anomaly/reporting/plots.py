"""All the figures of a detection run, written into its plots folder.

:func:`write_plots` draws every figure of :mod:`~soc_anomaly.reporting.seed_figures`,
:mod:`~soc_anomaly.reporting.lab_figures`,
:mod:`~soc_anomaly.reporting.projection_figures` and
:mod:`~soc_anomaly.reporting.entity_figures` from a
:class:`~soc_anomaly.experiment.results.DetectionResult`, then removes the
figures an earlier run left in the folder that this run did not write
(:func:`remove_stale_figures`); :func:`plot_names` lists the files it writes,
in order.

Every detector keeps one colour and line style in every figure
(:func:`~soc_anomaly.reporting.figure_style.detector_styles`); the same
detector on two feature sets shares the colour and differs in line style.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from soc_anomaly.data.io import check_writable_dir
from soc_anomaly.evaluation.explain import deviant_feature_counts
from soc_anomaly.experiment.results import (
    COMPARISON_RULE,
    TEST_RULE,
    TRAIN_RULE,
    DetectionResult,
    ModelResult,
    SeedRun,
    campaign_headline,
    headline_rule,
)
from soc_anomaly.experiment.summary import rank_over_seeds
from soc_anomaly.reporting.campaign_figures import campaign_timeline_figure
from soc_anomaly.reporting.entity_figures import (
    CAMPAIGN_PLOT,
    ENTITY_PLOTS,
    USER_ALERTS_PLOT,
    USER_TIMELINE_PLOT,
    EntityScores,
    available_views,
    timeline_users,
    user_alerts_figure,
    user_table,
    user_timeline_figure,
)
from soc_anomaly.reporting.figure_style import (
    DetectorStyle,
    detector_styles,
    save_figure,
    slug,
)
from soc_anomaly.reporting.lab_figures import (
    LAB_PLOTS,
    permutation_importance_figure,
    pr_figure,
    recall_heatmap_figure,
    threshold_tradeoff_figure,
)
from soc_anomaly.reporting.projection_figures import (
    PROJECTION_MAX_EVENTS,
    PROJECTION_PLOT,
    project_events,
    projection_figure,
    projection_sample,
)
from soc_anomaly.reporting.report_notes import queue_name
from soc_anomaly.reporting.seed_figures import (
    SEED_PLOTS,
    confusion_figure,
    deviant_features_figure,
    feature_correlation_figure,
    model_comparison_figure,
    model_comparison_values,
    roc_figure,
    score_histogram_figure,
)

#: One figure to draw: its file name and a function building it.
FigureJob = tuple[str, Callable[[], Figure]]

__all__ = [
    "ENTITY_PLOTS",
    "LAB_PLOTS",
    "PROJECTION_PLOT",
    "SEED_PLOTS",
    "FigureJob",
    "figure_jobs",
    "known_figure_names",
    "plot_names",
    "remove_stale_figures",
    "run_styles",
    "write_plots",
]


def plot_names(
    model_names: Sequence[str], importance: bool = True, views: Sequence[str] = ()
) -> list[str]:
    """File names of the figures a run with these models writes, in order.

    Parameters
    ----------
    model_names : sequence of str
        The run's detector names, in result order.
    importance : bool
        Whether permutation importance was computed.
    views : sequence of str
        The per-entity figures the run's events allow
        (:func:`~soc_anomaly.reporting.entity_figures.available_views`).
    """
    lab = [p for p in LAB_PLOTS if importance or p != "permutation_importance.png"]
    return [
        *(f"feature_correlations_{slug(n)}.png" for n in model_names),
        *SEED_PLOTS,
        *lab,
        PROJECTION_PLOT,
        *(v for v in ENTITY_PLOTS if v in views),
    ]


def known_figure_names() -> set[str]:
    """Every file name :func:`write_plots` can write, for any registered detector.

    A figure of a detector on a feature set is named after both
    (``feature_correlations_isolationforest_entity.png``).
    """
    from soc_anomaly.detectors import DETECTORS, get_detector
    from soc_anomaly.experiment.config import FEATURE_SETS

    sets = sorted({s for group in FEATURE_SETS.values() for s in group})
    display = [get_detector(k).display_name for k in DETECTORS]
    models = [*display, *(f"{d} ({s})" for d in display for s in sets)]
    return set(plot_names(models, importance=True, views=ENTITY_PLOTS))


def remove_stale_figures(folder: Path, written: Iterable[str]) -> list[Path]:
    """Delete the figures of an earlier run that this run did not write.

    Only files named exactly like a figure of :func:`write_plots`
    (:func:`known_figure_names`) are touched: ``metrics.json``, the figures
    of other commands and any file of the user's stay.

    Parameters
    ----------
    folder : pathlib.Path
        The plots folder.
    written : iterable of str
        File names this run wrote.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    keep = set(written)
    stale = known_figure_names() - keep
    removed = []
    for name in sorted(stale):
        path = Path(folder) / name
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def run_styles(models: Sequence[ModelResult]) -> dict[str, DetectorStyle]:
    """Each detector's style in the figures of a run.

    Detectors run on several feature sets (keys ``iforest@seed``,
    ``iforest@entity``) share their detector's colour and differ in line style.
    """
    return detector_styles([m.name for m in models], [m.detector.split("@")[0] for m in models])


def _events_per_day(models: Sequence[ModelResult]) -> float | None:
    """Events a day of the evaluated stream, recovered from the threshold reports."""
    for m in models:
        for rep in m.thresholds.values():
            if rep.alerts_per_day is not None and rep.alert_share > 0:
                return rep.alerts_per_day / rep.alert_share
    return None


def _calibrated(m: ModelResult, value: float) -> float:
    return float(m.calibrator.transform(np.array([value], dtype=float))[0])


def _headline(models: Sequence[ModelResult]) -> ModelResult:
    """The detector the per-entity figures are drawn for: the first in the report's
    ranking (PR AUC as shown, then fewer false alerts) on this seed."""
    first = rank_over_seeds([(m.detector, m.name) for m in models], [[m.summary() for m in models]])
    return next(m for m in models if m.name == first[0].name)


def _views(run: SeedRun) -> tuple[str, ...]:
    if run.test_events.empty or len(run.test_events) != len(run.y_test):
        return ()
    campaigns = campaign_headline(_headline(run.models).campaigns) is not None
    return available_views(run.test_events, campaigns)


def figure_jobs(result: DetectionResult) -> list[FigureJob]:
    """Every figure of a run, as (file name, builder), in :func:`plot_names` order.

    Nothing is drawn until a builder is called: :func:`write_plots` calls
    and saves them one at a time, and a test can build one figure and look
    at its artists without writing anything.

    Parameters
    ----------
    result : DetectionResult
        The run; its first seed is drawn.

    Returns
    -------
    list of (str, callable)
    """
    cfg = result.config
    run = result.runs[0]
    models = run.models
    styles = run_styles(models)
    pct = cfg.threshold_percentile
    train_label = f"p{pct:g} of normal training scores"
    jobs: list[FigureJob] = [
        (
            f"feature_correlations_{slug(m.name)}.png",
            partial(feature_correlation_figure, m.correlations, m.name),
        )
        for m in models
    ]
    thresholds = {
        m.name: [(r.name, rule, _calibrated(m, r.threshold)) for rule, r in m.thresholds.items()]
        for m in models
    }
    calibrated = {m.name: m.calibrated_test_scores for m in models}
    confusions = {
        f"{models[0].thresholds[rule].name} threshold": {m.name: m.thresholds[rule] for m in models}
        for rule in (TEST_RULE, TRAIN_RULE)
    }
    comparison = model_comparison_values(
        {m.name: m.metrics for m in models},
        {m.name: m.thresholds[TRAIN_RULE] for m in models},
        cfg.k,
        pct,
    )
    # The curves were computed with the metrics, from the one sort of each
    # detector's scores; a run whose test events are of one class has none.
    curves = {m.name: m.curves for m in models if m.curves is not None}
    deviant = {m.name: deviant_feature_counts(m.explanations) for m in models}
    recall = pd.DataFrame(
        {m.name: m.thresholds[COMPARISON_RULE].recall_by_attack for m in models}
    ).T
    jobs += [
        (
            "score_histograms.png",
            partial(score_histogram_figure, calibrated, run.y_test, thresholds, styles),
        ),
        ("confusion_matrices.png", partial(confusion_figure, confusions)),
        ("model_comparison.png", partial(model_comparison_figure, comparison, styles)),
        ("roc_curves.png", partial(roc_figure, curves, styles)),
        (
            "deviant_features_top_anomalies.png",
            partial(deviant_features_figure, deviant, cfg.top_explanations, styles),
        ),
        (
            "pr_curves.png",
            partial(
                pr_figure,
                curves,
                {m.name: m.metrics.pr_auc for m in models},
                float(np.mean(run.y_test)),
                {m.name: m.thresholds for m in models},
                styles,
            ),
        ),
        (
            "threshold_tradeoff.png",
            partial(
                threshold_tradeoff_figure,
                {m.name: m.sweep for m in models},
                len(run.y_test),
                _events_per_day(models),
                pct,
                styles,
            ),
        ),
        ("recall_by_attack_heatmap.png", partial(recall_heatmap_figure, recall, train_label)),
    ]
    importances = {m.name: m.importance for m in models if m.importance is not None}
    if importances:
        jobs.append(
            (
                "permutation_importance.png",
                partial(permutation_importance_figure, importances, styles),
            )
        )
    jobs.append((PROJECTION_PLOT, partial(_projection, run, cfg.random_state, styles)))
    return jobs + _entity_jobs(run, styles)


def write_plots(result: DetectionResult) -> list[Path]:
    """Write the run's figures into ``config.plots_dir`` and remove stale ones.

    Returns
    -------
    list of pathlib.Path
        The files written, in :func:`plot_names` order.
    """
    out = Path(result.config.plots_dir)
    check_writable_dir(out, what="plots folder", create=True)
    paths = _render(figure_jobs(result), out)
    remove_stale_figures(out, [p.name for p in paths])
    return paths


#: The figures being rendered, for the worker processes of :func:`_render`.
_JOBS: list[tuple[list[FigureJob], Path]] = []


def _render_one(index: int) -> Path:
    jobs, out = _JOBS[-1]
    name, build = jobs[index]
    return save_figure(build(), out / name)


def _render(jobs: list[FigureJob], out: Path) -> list[Path]:
    """Draw and save every figure, on every core where processes can be forked.

    Drawing is pure Python under the GIL, so threads would not help; forked
    workers inherit the run's results without copying them (at ten million
    events they are gigabytes) and each draws whole figures, about halving
    the plotting time on two cores. Each figure is drawn, saved and dropped
    before the next. Off Linux (or on one core) they are drawn in turn.
    """
    workers = min(len(jobs), os.cpu_count() or 1)
    # Only on Linux: elsewhere fork is the unsafe default no longer (macOS's
    # system libraries are not fork-safe) or not there at all.
    if workers < 2 or not sys.platform.startswith("linux"):
        return [save_figure(build(), out / name) for name, build in jobs]
    _JOBS.append((jobs, out))
    try:
        context = multiprocessing.get_context("fork")
        # The per-entity and projection figures, the slowest, come last in the
        # list: start them first, so that no core waits alone at the end.
        order = range(len(jobs) - 1, -1, -1)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            return list(pool.map(_render_one, order))[::-1]
    finally:
        _JOBS.pop()


def _projection(run: SeedRun, seed: int, styles: dict[str, DetectorStyle]) -> Figure:
    rows = projection_sample(run.y_test, PROJECTION_MAX_EVENTS, seed)
    projection = project_events(run.X_test_df, run.y_test, rows)
    alerts = {m.name: m.test_scores[rows] >= m.thresholds[TRAIN_RULE].threshold for m in run.models}
    label = run.models[0].thresholds[TRAIN_RULE].name
    return projection_figure(projection, run.y_test[rows], alerts, len(run.y_test), label, styles)


def _entity_jobs(run: SeedRun, styles: dict[str, DetectorStyle]) -> list[FigureJob]:
    """The per-entity figures the run's events allow, for the best detector by PR AUC."""
    views = _views(run)
    if not views:
        return []
    m = _headline(run.models)
    report = m.thresholds[TRAIN_RULE]
    data = EntityScores(
        events=run.test_events,
        y=np.asarray(run.y_test),
        calibrated=m.calibrated_test_scores,
        alerted=m.test_scores >= report.threshold,
        threshold=_calibrated(m, report.threshold),
        detector=m.name,
        rule_label=report.name,
        style=styles[m.name],
    )
    jobs: list[FigureJob] = []
    if USER_ALERTS_PLOT in views:
        table = user_table(run.test_events["user"], data.y, data.alerted)
        users = timeline_users(table)
        if USER_TIMELINE_PLOT in views:
            jobs.append((USER_TIMELINE_PLOT, partial(user_timeline_figure, data, users)))
        jobs.append((USER_ALERTS_PLOT, partial(user_alerts_figure, data, table, users)))
    headline = campaign_headline(m.campaigns)
    if CAMPAIGN_PLOT in views and headline is not None:
        by = queue_name(headline_rule(m.campaigns)) or f"the {report.name} threshold"
        jobs.append((CAMPAIGN_PLOT, partial(campaign_timeline_figure, data, headline.outcomes, by)))
    return jobs
