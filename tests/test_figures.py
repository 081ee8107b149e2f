"""The figures of ``detect``: readable from one detector to eighteen, one style per
detector in every figure, calibrated histograms, operating points, the threshold
trade-off, the 2-D map, the per-entity views, and stale figures removed."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import StepPatch
from PIL import Image

from soc_anomaly.experiment import DetectConfig, run_detection
from soc_anomaly.experiment.results import TRAIN_RULE, campaign_headline
from soc_anomaly.reporting.entity_figures import (
    CAMPAIGN_PLOT,
    SCATTER_MAX_USERS,
    USER_ALERTS_PLOT,
    USER_TIMELINE_PLOT,
    EntityScores,
    timeline_users,
    user_alerts_figure,
    user_table,
)
from soc_anomaly.reporting.figure_style import (
    MAX_FIGURE_INCHES,
    MODEL_PALETTE,
    PLOT_DPI,
    detector_styles,
)
from soc_anomaly.reporting.lab_figures import threshold_tradeoff_figure
from soc_anomaly.reporting.nines_scale import nines
from soc_anomaly.reporting.plots import (
    PROJECTION_PLOT,
    figure_jobs,
    known_figure_names,
    plot_names,
    remove_stale_figures,
    run_styles,
    write_plots,
)
from soc_anomaly.reporting.projection_figures import PROJECTION_MAX_EVENTS, projection_sample

#: The size cap every figure must respect, in pixels.
CAP_PX = 4000


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def nine(all_detectors_run):
    """Every registered detector on a small seed table (tests/conftest.py); figures built,
    not saved."""
    assert len(all_detectors_run.models) == 9
    return all_detectors_run


@pytest.fixture(scope="module")
def nine_figures(nine):
    return {name: build() for name, build in figure_jobs(nine)}


@pytest.fixture(scope="module")
def eighteen(nine):
    """The nine detectors twice, as if on two feature sets: 18 detector/feature-set pairs."""
    run = nine.runs[0]
    models = [
        replace(m, name=f"{m.name} ({fs})", detector=f"{m.detector}@{fs}")
        for fs in ("seed", "entity")
        for m in run.models
    ]
    return replace(nine, runs=[replace(run, models=models)])


@pytest.fixture(scope="module")
def eighteen_figures(eighteen):
    return {name: build() for name, build in figure_jobs(eighteen)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small enterprise world on both feature sets, figures written."""
    out = tmp_path_factory.mktemp("world") / "plots"
    return run_detection(
        DetectConfig(
            scenario="enterprise",
            n_users=200,
            days=14,
            features="both",
            detectors=("iforest", "mahalanobis"),
            importance_repeats=0,
            plots_dir=out,
        )
    )


# ------------------------------------------------------------------ helpers


def _line_styles(fig, names) -> dict[str, tuple[str, object]]:
    """Detector name -> (colour, line style) of the lines carrying its name as gid."""
    found = {}
    for line in fig.findobj(Line2D):
        if line.get_gid() in names:
            found[line.get_gid()] = (to_hex(line.get_color()), line.get_linestyle())
    return found


def _histogram_colors(fig, names) -> dict[str, str]:
    """Detector name -> edge colour of its attack histogram."""
    return {
        p.get_gid(): to_hex(p.get_edgecolor())
        for p in fig.findobj(StepPatch)
        if p.get_gid() in names
    }


def _size_px(fig) -> tuple[float, float]:
    w, h = fig.get_size_inches() * PLOT_DPI
    return float(w), float(h)


# ------------------------------------------------------------------ styles


@pytest.mark.parametrize("n", [1, 2, 9, 12, 18, 30])
def test_every_detector_gets_its_own_colour_and_style(n):
    names = [f"detector {i}" for i in range(n)]
    styles = detector_styles(names)
    assert len({(s.color, str(s.linestyle)) for s in styles.values()}) == n
    # Up to the palette's size, the colour alone tells detectors apart.
    if n <= len(MODEL_PALETTE):
        assert len({s.color for s in styles.values()}) == n
    assert detector_styles(names) == styles  # the same run, the same look


def test_a_detector_on_two_feature_sets_keeps_its_colour():
    models = ["IsolationForest (seed)", "k-means (seed)", "IsolationForest (entity)"]
    styles = detector_styles(models, ["iforest", "kmeans", "iforest"])
    seed, entity = styles["IsolationForest (seed)"], styles["IsolationForest (entity)"]
    assert seed.color == entity.color and seed.linestyle != entity.linestyle
    assert styles["k-means (seed)"].color != seed.color


def test_the_nines_scale_spreads_the_thresholds_evenly():
    np.testing.assert_allclose(nines([0, 90, 99, 99.9]), [0, 1, 2, 3], atol=1e-12)
    assert np.isfinite(nines(100.0))  # a saturated score lands on the deepest nine


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize("which", ["nine_figures", "eighteen_figures"])
def test_no_figure_exceeds_the_size_cap(request, which):
    figures = request.getfixturevalue(which)
    for name, fig in figures.items():
        w, h = _size_px(fig)
        assert max(w, h) <= MAX_FIGURE_INCHES * PLOT_DPI <= CAP_PX, (name, w, h)
    # Grids, not rows: at most four panels of histograms a row.
    hist = figures["score_histograms.png"]
    columns = {round(ax.get_position().x0, 3) for ax in hist.axes if ax.get_visible()}
    assert len(columns) <= 4


def test_saved_figures_stay_under_the_cap_in_pixels(world):
    for path in world.plot_paths:
        with Image.open(path) as img:
            assert img.width <= CAP_PX and img.height <= CAP_PX, path.name
            assert img.info["dpi"][0] >= PLOT_DPI - 1


# ------------------------------------------------------------------ colours


@pytest.mark.parametrize("which", ["nine", "eighteen"])
def test_each_detector_has_one_style_in_roc_pr_and_histograms(request, which):
    result = request.getfixturevalue(which)
    figures = request.getfixturevalue(f"{which}_figures")
    names = [m.name for m in result.models]
    roc = _line_styles(figures["roc_curves.png"], names)
    pr = _line_styles(figures["pr_curves.png"], names)
    hist = _histogram_colors(figures["score_histograms.png"], names)
    assert set(roc) == set(pr) == set(hist) == set(names)
    assert roc == pr
    assert {n: c for n, (c, _) in roc.items()} == hist
    assert len(set(roc.values())) == len(names)  # no two detectors look alike
    styles = run_styles(result.models)
    assert {n: to_hex(s.color) for n, s in styles.items()} == hist


# ------------------------------------------------------------------ content


def test_histograms_are_on_the_calibrated_0_to_100_scale(nine_figures):
    fig = nine_figures["score_histograms.png"]
    for ax in (ax for ax in fig.axes if ax.get_visible()):
        lo, hi = ax.get_xlim()
        assert 0.0 <= lo < hi <= 100.0
        for patch in ax.findobj(StepPatch):
            edges = patch.get_data().edges
            assert edges.min() >= 0.0 and edges.max() <= 100.0
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert {"0", "90", "99", "99.9"} <= set(labels)


def test_pr_curves_mark_every_rule_at_its_operating_point(nine, nine_figures):
    marks = {
        line.get_gid(): line.get_xydata()[0]
        for line in nine_figures["pr_curves.png"].findobj(Line2D)
        if line.get_gid() and ":" in line.get_gid()
    }
    for m in nine.models:
        assert set(m.thresholds) == {
            "normal_percentile",
            "evaluated_percentile",
            "fbeta",
            "alert_budget",
        }
        for rule, report in m.thresholds.items():
            np.testing.assert_allclose(marks[f"{m.name}:{rule}"], [report.recall, report.precision])


def test_threshold_tradeoff_spreads_the_high_percentiles_and_counts_alerts_a_day(
    nine, nine_figures
):
    fig = nine_figures["threshold_tradeoff.png"]
    panels = [ax for ax in fig.axes if ax.get_xlabel().startswith("Threshold")]
    assert len(panels) == len(nine.models)
    ax = panels[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["90", "95", "99", "99.5", "99.9"]
    # 99 -> 99.9 spans as much of the axis as 90 -> 99.
    x = ax.transData.transform([(90, 0), (99, 0), (99.9, 0)])[:, 0]
    assert np.diff(x) == pytest.approx([x[1] - x[0]] * 2, rel=1e-6)
    tops = [a for a in fig.axes if a.get_xlabel() == "Alerts a day"]
    assert len(tops) == len(nine.models)
    # At p90 a tenth of normal traffic alerts: tens of alerts a day on this table.
    first = float(tops[0].get_xticklabels()[0].get_text().replace("k", "e3"))
    m = nine.models[0]
    budget = m.thresholds["alert_budget"]
    rate = budget.alerts_per_day / budget.alert_share
    expected = m.sweep["alerts"].iloc[0] / len(nine.y_test) * rate
    assert first == pytest.approx(expected, rel=0.05)


def test_threshold_tradeoff_says_so_when_the_event_rate_is_unknown(nine):
    m = nine.models[0]
    fig = threshold_tradeoff_figure({m.name: m.sweep}, len(nine.y_test), None, 99.0)
    assert "Alerts a day unknown" in fig.get_suptitle()
    assert not [a for a in fig.axes if a.get_xlabel() == "Alerts a day"]


def test_the_event_map_draws_a_capped_sample_with_attacks_in_it(nine, nine_figures):
    fig = nine_figures[PROJECTION_PLOT]
    truth = fig.axes[0]
    drawn = sum(len(c.get_offsets()) for c in truth.collections)
    assert drawn == min(len(nine.y_test), PROJECTION_MAX_EVENTS)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == len(nine.models) + 1


def test_projection_sample_is_capped_seeded_and_keeps_attacks():
    y = np.zeros(100_000, dtype=int)
    y[:50] = 1  # 0.05% attacks
    rows = projection_sample(y, 5_000, seed=7)
    assert len(rows) == 5_000 and np.all(np.diff(rows) > 0)
    assert y[rows].sum() == 50  # all of them: rarer than a tenth of the sample
    np.testing.assert_array_equal(rows, projection_sample(y, 5_000, seed=7))
    np.testing.assert_array_equal(projection_sample(y[:300], 5_000, seed=7), np.arange(300))


# ------------------------------------------------------------------ per-entity views


def test_timeline_users_are_the_most_alerted_and_one_attacked():
    users = pd.Series(["a"] * 5 + ["b"] * 5 + ["c"] * 5 + ["d"] * 5)
    y = np.array([0] * 15 + [1, 1, 0, 0, 0])
    # Alerts per user, five events each: a 3, b 1, c 2, d 1 (on one of its two attacks).
    alerted = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    table = user_table(users, y, alerted.ravel().astype(bool))
    assert table.loc["a", "alerts"] == 3 and table.loc["d", "true_alerts"] == 1
    assert table.loc["d", "false_alerts"] == 0 and table.loc["d", "attacks"] == 2
    assert timeline_users(table, n_top=2) == ["a", "c", "d"]


def test_the_user_scatter_draws_at_most_the_cap_and_every_attacked_user():
    n = 12_000
    table = pd.DataFrame(
        {
            "events": 10,
            "attacks": np.r_[np.full(100, 2), np.zeros(n - 100, dtype=int)],
            "alerts": 1,
            "true_alerts": np.r_[np.ones(100, dtype=int), np.zeros(n - 100, dtype=int)],
            "false_alerts": np.r_[np.zeros(100, dtype=int), np.ones(n - 100, dtype=int)],
        },
        index=pd.Index([f"user{i}" for i in range(n)], name="user"),
    )
    data = EntityScores(
        events=pd.DataFrame(),
        y=np.zeros(0),
        calibrated=np.zeros(0),
        alerted=np.zeros(0, dtype=bool),
        threshold=99.0,
        detector="IsolationForest",
        rule_label="normal p99",
        style=detector_styles(["IsolationForest"])["IsolationForest"],
    )
    fig = user_alerts_figure(data, table, ["user0"])
    dots = fig.axes[1]
    sizes = {c.get_label(): len(c.get_offsets()) for c in dots.collections}
    assert sizes == {"User with attacks": 100, "User without attacks": SCATTER_MAX_USERS - 100}
    assert "(5,000 of 12,000 users)" in dots.get_title()


def test_the_world_gets_its_per_entity_figures(world):
    names = [p.name for p in world.plot_paths]
    assert names[-3:] == [USER_TIMELINE_PLOT, USER_ALERTS_PLOT, CAMPAIGN_PLOT]
    assert names == plot_names(
        [m.name for m in world.models],
        importance=False,
        views=(USER_TIMELINE_PLOT, USER_ALERTS_PLOT, CAMPAIGN_PLOT),
    )
    # The same detector on both feature sets: one colour, two line styles.
    styles = run_styles(world.models)
    seed, entity = styles["IsolationForest (seed)"], styles["IsolationForest (entity)"]
    assert seed.color == entity.color and seed.linestyle != entity.linestyle


def test_the_campaign_timeline_marks_each_caught_campaign(world):
    jobs = dict(figure_jobs(world))
    fig = jobs[CAMPAIGN_PLOT]()
    # The figures follow the ranking: on a world, campaigns caught first.
    best = next(m for m in world.models if m.name == world.comparison()[0].name)
    outcomes = campaign_headline(best.campaigns).outcomes
    texts = [t.get_text() for t in fig.axes[0].texts]
    caught = [o for o in outcomes if o.caught]
    assert sum(t.startswith("TTD ") for t in texts) == len(caught)
    assert f"{len(caught)} of" in fig.axes[0].get_title()


# ------------------------------------------------------------------ the plots folder


def test_a_table_without_users_skips_the_entity_views_and_stale_figures_go(tmp_path, small_df):
    out = tmp_path / "plots"
    out.mkdir()
    stale = ["feature_correlations_oneclasssvm.png", "user_alerts.png", "campaign_timeline.png"]
    mine = ["notes.png", "world_rhythm.png", "run_diff.png", "feature_correlations_mine.png"]
    for name in [*stale, *mine, "score_histograms.png"]:
        (out / name).write_bytes(b"an earlier run")
    table = small_df.drop(columns=["user_id", "timestamp"])
    result = run_detection(
        DetectConfig(
            detectors=("iforest",),
            k=5,
            anomaly_fraction=0.02,
            importance_repeats=0,
            plots_dir=out,
        ),
        df=table,
    )
    written = [p.name for p in result.plot_paths]
    assert written == plot_names(["IsolationForest"], importance=False)
    assert not {USER_TIMELINE_PLOT, USER_ALERTS_PLOT, CAMPAIGN_PLOT} & set(written)
    assert sorted(p.name for p in out.iterdir()) == sorted([*written, *mine, "metrics.json"])
    assert (out / "score_histograms.png").read_bytes().startswith(b"\x89PNG")
    assert result.runs[0].test_events["user"].isna().all()


def test_remove_stale_figures_touches_only_known_figure_names(tmp_path):
    known = sorted(known_figure_names())
    assert "feature_correlations_isolationforest_entity.png" in known
    assert "run_diff.png" not in known and "metrics.json" not in known
    for name in [known[0], known[1], "holiday.png"]:
        (tmp_path / name).write_text("x")
    removed = remove_stale_figures(tmp_path, [known[1]])
    assert [p.name for p in removed] == [known[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([known[1], "holiday.png"])


def test_the_alert_threshold_of_the_views_is_the_normal_percentile(world):
    # The figures follow the ranking: on a world, campaigns caught first.
    best = next(m for m in world.models if m.name == world.comparison()[0].name)
    report = best.thresholds[TRAIN_RULE]
    jobs = dict(figure_jobs(world))
    fig = jobs[USER_ALERTS_PLOT]()
    bars = fig.axes[0]
    assert report.name in bars.get_xlabel()
    total = sum(p.get_width() for p in bars.patches)
    top = user_table(
        world.runs[0].test_events["user"], world.y_test, best.test_scores >= report.threshold
    )
    assert total == top["alerts"].sort_values(ascending=False).head(15).sum()


def test_figures_drawn_in_worker_processes_match_those_drawn_in_turn(
    default_run, tmp_path, monkeypatch
) -> None:
    import soc_anomaly.reporting.plots as plots

    # The shared default run drew its figures in worker processes, on every core of a
    # machine with two or more; on one core, draw them again in two workers.
    if (os.cpu_count() or 1) >= 2:
        forked = default_run.plot_paths
    else:
        monkeypatch.setattr(plots.os, "cpu_count", lambda: 2)
        config = replace(default_run.config, plots_dir=tmp_path / "parallel")
        forked = write_plots(replace(default_run, config=config))
    monkeypatch.setattr(plots.os, "cpu_count", lambda: 1)
    config = replace(default_run.config, plots_dir=tmp_path / "in_turn")
    alone = write_plots(replace(default_run, config=config))
    # The same files, in the same order, byte for byte.
    names = [n for n, _ in figure_jobs(default_run)]
    assert [p.name for p in forked] == [p.name for p in alone] == names
    for a, b in zip(forked, alone, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
