"""The neighbour detectors at scale: chunked searches, sampled training scores, and
permutation importance that rescores only the rows a shuffle changed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from soc_anomaly.detectors import base, progress
from soc_anomaly.detectors.base import block_anomaly_scores, kept_training_scores
from soc_anomaly.detectors.knn import KNNDetector
from soc_anomaly.detectors.lof import LOFDetector
from soc_anomaly.evaluation.importance import permutation_importance
from soc_anomaly.experiment.rescoring import ChangedRowsScorer


@pytest.fixture()
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(900, 6))
    test = np.vstack([rng.normal(size=(700, 6)), rng.normal(4.0, 1.0, size=(30, 6))])
    return train, test


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # 256-row chunks against a few hundred reference rows: several chunks per call.
    monkeypatch.setattr(progress, "CHUNK_PAIRS", 256 * 300)


def test_row_chunks_cover_every_row_in_multiples_of_256() -> None:
    chunks = list(progress.row_chunks(100_000, 20_000))
    assert chunks[0] == slice(0, 4096)  # 4,096 x 20,000 pairs <= 2**27 < 8,192 x 20,000
    assert all((c.stop - c.start) % 256 == 0 for c in chunks[:-1])
    assert np.array_equal(
        np.concatenate([np.arange(100_000)[c] for c in chunks]), np.arange(100_000)
    )
    assert list(progress.row_chunks(10, 10**9)) == [slice(0, 10)]


@pytest.mark.usefixtures("small_chunks")
def test_chunked_knn_scores_match_scikit_learn(data: tuple[np.ndarray, np.ndarray]) -> None:
    train, test = data
    det = KNNDetector(n_neighbors=5, algorithm="brute").fit(train)
    distances, _ = NearestNeighbors(algorithm="brute").fit(train).kneighbors(test, 5)
    np.testing.assert_allclose(det.score_samples(test), -distances[:, -1], rtol=0, atol=1e-12)
    loo, _ = NearestNeighbors().fit(train).kneighbors(train, 6)
    np.testing.assert_allclose(det.train_scores_, -loo[:, 5], rtol=0, atol=1e-12)


@pytest.mark.usefixtures("small_chunks")
def test_chunked_lof_scores_match_scikit_learn(data: tuple[np.ndarray, np.ndarray]) -> None:
    train, test = data
    det = LOFDetector(n_neighbors=20, algorithm="brute").fit(train)
    ref = LocalOutlierFactor(n_neighbors=20, algorithm="brute", novelty=True).fit(train)
    np.testing.assert_allclose(det.score_samples(test), ref.score_samples(test), rtol=1e-12)
    np.testing.assert_allclose(det.train_scores_, ref.negative_outlier_factor_, rtol=1e-12)


@pytest.mark.parametrize("cls", [KNNDetector, LOFDetector])
def test_large_training_sets_keep_the_reference_rows_scores_only(
    cls: type[KNNDetector] | type[LOFDetector],
    data: tuple[np.ndarray, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train, _ = data
    below = cls(max_samples=200, random_state=0).fit(train)
    monkeypatch.setattr(base, "MAX_TRAIN_SCORE_ROWS", len(train) - 1)
    above = cls(max_samples=200, random_state=0).fit(train)
    ref = above.reference_indices_
    # The same reference rows and leave-one-out scores; the other 700 rows unscored.
    np.testing.assert_array_equal(ref, below.reference_indices_)
    np.testing.assert_array_equal(above.train_score_rows_, ref)
    np.testing.assert_array_equal(above.train_scores_, below.train_scores_[ref])
    assert below.train_score_rows_ is None and len(below.train_scores_) == len(train)
    np.testing.assert_array_equal(kept_training_scores(above, len(train)), -above.train_scores_)
    assert above.offset_ == pytest.approx(np.percentile(above.train_scores_, 1.0))


class _CountingKNN(KNNDetector):
    """Counts the rows it is asked to score."""

    rows_scored = 0

    def _score(self, X: np.ndarray) -> np.ndarray:
        type(self).rows_scored += len(X)
        return super()._score(X)


@pytest.mark.parametrize(
    "make",
    [
        lambda: KNNDetector(n_neighbors=5),
        lambda: LOFDetector(n_neighbors=20),
        lambda: IsolationForest(random_state=0),
    ],
    ids=["knn", "lof", "iforest"],
)
def test_rescoring_changed_rows_gives_the_same_importance(make, data) -> None:
    train, test = data
    # Two columns that are mostly zero, as most entity features are.
    rng = np.random.default_rng(1)
    for X in (train, test):
        X[:, :2] = (rng.random((len(X), 2)) < 0.05).astype(float)
    y = np.r_[np.zeros(700, dtype=int), np.ones(30, dtype=int)]
    names = [f"f{j}" for j in range(test.shape[1])]
    est = make().fit(train)
    plain = permutation_importance(est, test, y, names, n_repeats=2, random_state=3)
    fast = permutation_importance(
        ChangedRowsScorer(est, test), test, y, names, n_repeats=2, random_state=3
    )
    np.testing.assert_allclose(
        fast[["importance_mean", "importance_std", "baseline"]].to_numpy(),
        plain[["importance_mean", "importance_std", "baseline"]].to_numpy(),
        rtol=0,
        atol=1e-12,
    )
    assert fast["feature"].tolist() == plain["feature"].tolist()


def test_rescoring_skips_the_rows_a_shuffle_left_alone(data) -> None:
    train, test = data
    test[:, 0] = 0.0
    test[:5, 0] = 1.0
    est = _CountingKNN().fit(train)
    scorer = ChangedRowsScorer(est, test)
    _CountingKNN.rows_scored = 0
    shuffled = test.copy()
    shuffled[:, 0] = np.roll(test[:, 0], 3)  # ones at rows 3-7: rows 0-2 and 5-7 change
    np.testing.assert_array_equal(scorer.score_samples(shuffled), est.score_samples(shuffled))
    assert _CountingKNN.rows_scored == 6 + len(test)  # 6 rescored, then the full check


def test_progress_counts_rows_from_every_scoring_thread(data, small_chunks, monkeypatch) -> None:
    train, test = data
    det = KNNDetector().fit(train)
    ticks: list[tuple[int, int]] = []
    big = np.tile(test, (4, 1))
    # 512-row blocks in two threads, each cut into 256-row chunks by the detector.
    monkeypatch.setattr(base, "SCORE_BLOCK_ROWS", 512)
    with progress.count_rows(lambda done, total: ticks.append((done, total)), len(big)):
        scores = block_anomaly_scores(det, big, n_jobs=2)
    np.testing.assert_allclose(scores, -det.score_samples(big))
    assert ticks[-1] == (len(big), len(big))
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
    assert len(ticks) > 4


def test_an_inner_count_hides_its_rows_from_the_outer_one() -> None:
    outer: list[int] = []
    with progress.count_rows(lambda done, total: outer.append(done), 3):
        progress.advance(1)
        with progress.count_rows(None, 0):
            progress.advance(1000)
        progress.advance(1)
    progress.advance(5)  # outside any count: nothing happens
    assert outer == [1, 2]


def test_step_progress_shows_lines_at_most_every_interval(monkeypatch) -> None:
    lines: list[str] = []
    tick = progress.StepProgress("Scoring 10 events", lines.append)
    tick(3, 10)  # before the first interval: nothing
    assert lines == []
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    tick(4, 10)
    tick(10, 10)  # complete: the step's own closing line says so
    assert len(lines) == 1
    assert lines[0].startswith("  Scoring 10 events: 4/10 (40%, ")
