"""Real-data benchmark: the published protocol reproduced, and bad inputs refused in one line."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli
from rich.console import Console

import soc_anomaly.experiment.benchmark as bench_module
from soc_anomaly.data.npz import load_npz_dataset
from soc_anomaly.detectors import registry
from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.experiment.benchmark import BENCHMARK_COLUMNS, benchmark
from soc_anomaly.experiment.published import (
    PUBLISHED_METHODS,
    TOLERANCE,
    protocol_indices,
    read_published_auc,
    run_protocol,
)
from soc_anomaly.reporting import benchmark_report

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _raises_one_line(exc_type: type[Exception], pattern: str, func, *args, **kwargs) -> str:
    with pytest.raises(exc_type, match=pattern) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# ------------------------------------------------------- published numbers


@pytest.fixture(scope="module")
def thyroid() -> tuple[np.ndarray, np.ndarray]:
    if not (DATASETS / "thyroid.npz").is_file():
        pytest.skip(f"benchmark data not found at {DATASETS}")
    return load_npz_dataset(DATASETS / "thyroid.npz")


@pytest.mark.parametrize("method", ["IForest", "OCSVM"])
def test_thyroid_reproduces_the_published_auc(thyroid, method):
    X, y = thyroid
    assert X.shape == (3772, 6) and int(y.sum()) == 93
    published = read_published_auc(DATASETS / "published_auc.csv").set_index(["dataset", "method"])
    expected = published.loc[("thyroid", method), "published_mean"]
    pm = PUBLISHED_METHODS[method]
    aucs = run_protocol(X, y, pm.detector, pm.overrides, seeds=range(5))
    assert len(aucs) == 5
    assert abs(np.mean(aucs) - expected) <= TOLERANCE, (aucs, expected)


def test_legacy_subsample_and_bootstrap_match_the_original_global_stream():
    y = np.zeros(1000, dtype=np.int8)
    y[::37] = 1
    saved = np.random.get_state()  # noqa: NPY002
    try:
        for seed in range(3):
            rows, bootstrap = protocol_indices(y, seed, max_rows=300)
            # The original code, on NumPy's global legacy stream (hence the noqa).
            np.random.seed(seed)  # noqa: NPY002
            expected_rows = np.random.choice(1000, 300, replace=False)  # noqa: NPY002
            np.random.choice(np.flatnonzero(y[expected_rows] == 1), 0, replace=False)  # noqa: NPY002
            expected_boot = np.random.choice(np.arange(300), 300, replace=True)  # noqa: NPY002
            np.testing.assert_array_equal(rows, expected_rows)
            np.testing.assert_array_equal(bootstrap, expected_boot)
        # Small enough: every row, in order, and the bootstrap still drawn.
        rows, bootstrap = protocol_indices(y, 0, max_rows=5000)
        np.testing.assert_array_equal(rows, np.arange(1000))
        assert len(bootstrap) == 1000 and len(np.unique(bootstrap)) < 1000
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def test_protocol_leaves_the_global_stream_alone():
    np.random.seed(123)  # noqa: NPY002
    before = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    protocol_indices(np.array([0, 1] * 50), 4, max_rows=20)
    assert np.random.random() == before  # noqa: NPY002


# ----------------------------------------------------- benchmark on a stub


def _write_folder(tmp_path: Path, *, published: bool = True) -> Path:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(190, 3)), rng.normal(6.0, 1.0, size=(10, 3))])
    y = np.r_[np.zeros(190, dtype=int), np.ones(10, dtype=int)]
    np.savez(tmp_path / "toy.npz", X=X, y=y)
    if published:
        pd.DataFrame(
            {
                "dataset": ["toy", "toy", "toy"],
                "detector": ["IForest", "PCA", "LOF"],
                "roc_auc": [0.99, 0.9, 0.5],
                "std_over_5_seeds": [0.01, 0.0, 0.1],
                "source": ["stub"] * 3,
            }
        ).to_csv(tmp_path / "published_auc.csv", index=False)
    return tmp_path


@pytest.fixture(autouse=True)
def _registry_order():
    """Keep the registry's order: monkeypatch puts a removed detector back at the end,
    and other tests read the registry's order as the detectors' order."""
    saved = dict(registry.DETECTORS)
    yield
    registry.DETECTORS.clear()
    registry.DETECTORS.update(saved)


def test_benchmark_table_with_skipped_methods(tmp_path, monkeypatch):
    folder = _write_folder(tmp_path)
    # Whether or not LOF is registered by now, an absent detector must not crash.
    monkeypatch.delitem(registry.DETECTORS, "lof", raising=False)
    seen = []

    def step(description):
        seen.append(description)
        return contextlib.nullcontext()

    table = benchmark(folder, methods=["iforest", "lof", "PCA"], seeds=2, step=step)
    assert list(table.columns) == list(BENCHMARK_COLUMNS)
    assert list(table["method"]) == ["IForest", "LOF", "PCA"]
    iforest, lof, pca = (row for _, row in table.iterrows())
    assert iforest["ours_mean"] > 0.95 and iforest["within_0_03"]
    assert iforest["delta"] == pytest.approx(iforest["ours_mean"] - 0.99)
    assert "not registered" in lof["note"] and np.isnan(lof["ours_mean"])
    assert pd.isna(lof["within_0_03"])
    assert "no PCA detector" in pca["note"]
    assert seen == ["Loading toy", "toy: IForest (iforest), 2 seeds on 200 rows"]


def test_detector_registered_later_is_looked_up_at_run_time(tmp_path, monkeypatch):
    # A 'lof' whose class lacks n_neighbors: found in the registry now, and
    # reported as not buildable with PyOD's defaults instead of crashing.
    iforest = registry.DETECTORS["iforest"]
    monkeypatch.setitem(
        registry.DETECTORS,
        "lof",
        registry.DetectorSpec("lof", "LOF", iforest.cls, iforest.defaults),
    )
    table = benchmark(_write_folder(tmp_path), methods=["LOF"], seeds=1)
    note = table.loc[0, "note"]
    assert "cannot build 'lof' with {'n_neighbors': 20, 'max_samples': None}" in note
    assert "\n" not in note and np.isnan(table.loc[0, "ours_mean"])


def test_each_finished_row_is_handed_on_as_the_table_grows(tmp_path):
    tables = []
    final = benchmark(
        _write_folder(tmp_path), methods=["iforest", "PCA", "LOF"], seeds=1, on_row=tables.append
    )
    assert [len(t) for t in tables] == [1, 2, 3]
    for t in tables:
        assert list(t.columns) == list(BENCHMARK_COLUMNS)
    pd.testing.assert_frame_equal(tables[-1], final)


def test_an_empty_published_std_is_unknown_not_zero(tmp_path, monkeypatch):
    folder = _write_folder(tmp_path)
    text = (folder / "published_auc.csv").read_text().replace("0.99,0.01,", "0.99,,")
    (folder / "published_auc.csv").write_text(text)
    published = read_published_auc(folder / "published_auc.csv").set_index("method")
    assert np.isnan(published.loc["IForest", "published_std"])
    assert published.loc["LOF", "published_std"] == 0.1
    table = benchmark(folder, methods=["IForest"], seeds=1)
    assert np.isnan(table.loc[0, "published_std"]) and table.loc[0, "within_0_03"]
    console = Console(width=200, file=io.StringIO())
    monkeypatch.setattr(benchmark_report, "out", console)
    benchmark_report.print_table(table, 1)
    shown = console.file.getvalue()
    assert "0.9900 ± unknown" in shown and "0.9900 ± 0.0000" not in shown


@pytest.mark.parametrize(
    ("cell", "pattern"),
    [
        ("big", r"std_over_5_seeds='big' on data row 1; expected a number in \[0, 0\.5\] or empty"),
        ("0.7", r"std_over_5_seeds='0\.7' on data row 1"),
    ],
)
def test_a_malformed_published_std_is_quoted_as_written(tmp_path, cell, pattern):
    path = tmp_path / "published_auc.csv"
    path.write_text(f"dataset,detector,roc_auc,std_over_5_seeds\ntoy,IForest,0.9,{cell}\n")
    message = _raises_one_line(DataError, pattern, read_published_auc, path)
    assert "np.float64" not in message and "nan" not in message


def test_an_empty_published_auc_is_refused(tmp_path):
    path = tmp_path / "published_auc.csv"
    path.write_text("dataset,detector,roc_auc,std_over_5_seeds\ntoy,IForest,0.9,\ntoy,LOF,,0.1\n")
    _raises_one_line(DataError, r"roc_auc empty on data row 2", read_published_auc, path)


def test_an_interrupted_benchmark_keeps_its_finished_rows(tmp_path, capsys, monkeypatch):
    folder = _write_folder(tmp_path)
    output = tmp_path / "out" / "table.csv"
    real = bench_module.run_seeds
    calls = []

    def interrupted_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(bench_module, "run_seeds", interrupted_second_time)
    code, _, err = run_cli(
        capsys,
        "benchmark",
        "--datasets-dir",
        str(folder),
        "--methods",
        "IForest,PCA,LOF",
        "--seeds",
        "1",
        "--output",
        str(output),
    )
    assert code == 130
    assert "keeps the 2 finished rows" in " ".join(err.split())
    kept = pd.read_csv(output)
    assert list(kept["method"]) == ["IForest", "PCA"]
    assert kept.loc[0, "ours_mean"] > 0.95 and np.isnan(kept.loc[1, "ours_mean"])
    assert [p.name for p in output.parent.iterdir()] == ["table.csv"]  # no temporary left


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"datasets": ["nope"]}, ParameterError, r"unknown dataset 'nope'; expected one of toy"),
        ({"methods": ["svm"]}, ParameterError, r"unknown method 'svm'; expected one of IForest"),
        ({"seeds": 0}, ParameterError, r"seeds must be a positive integer, got 0"),
    ],
)
def test_benchmark_rejects_bad_names(tmp_path, kwargs, exc, pattern):
    _raises_one_line(exc, pattern, benchmark, _write_folder(tmp_path), **kwargs)


# ------------------------------------------------------------- bad inputs


def test_missing_or_empty_folder(tmp_path):
    _raises_one_line(
        DataError, r"datasets folder .*gone does not exist", benchmark, tmp_path / "gone"
    )
    (tmp_path / "published_auc.csv").write_text("dataset,detector,roc_auc,std_over_5_seeds\n")
    _raises_one_line(DataError, r"has no \.npz files", benchmark, tmp_path)


def test_missing_or_malformed_published_csv(tmp_path):
    folder = _write_folder(tmp_path, published=False)
    _raises_one_line(DataError, r"published AUC file .* does not exist", benchmark, folder)
    (folder / "published_auc.csv").write_text("dataset,detector,auc\ntoy,IForest,0.9\n")
    _raises_one_line(DataError, r"has no column roc_auc, std_over_5_seeds", benchmark, folder)
    (folder / "published_auc.csv").write_text(
        "dataset,detector,roc_auc,std_over_5_seeds\ntoy,IForest,high,0.1\n"
    )
    _raises_one_line(DataError, r"roc_auc='high' on data row 1", benchmark, folder)


def _npz(tmp_path: Path, name: str = "d.npz", **arrays) -> Path:
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


GOOD_X = np.arange(12, dtype=float).reshape(6, 2)
GOOD_Y = np.array([0, 0, 0, 0, 1, 1])


@pytest.mark.parametrize(
    ("arrays", "pattern"),
    [
        ({"y": GOOD_Y}, r"has no array 'X' \(arrays found: y\)"),
        ({"X": GOOD_X}, r"has no array 'y' \(arrays found: X\)"),
        ({"Z": GOOD_X}, r"has no array 'X' and 'y' \(arrays found: Z\)"),
        (
            {"X": GOOD_X, "y": np.array([0, 0, 2, 0, 1, 1])},
            r"other than 0 and 1 \(first: 2 at row 2\)",
        ),
        ({"X": GOOD_X.astype(object), "y": GOOD_Y}, r"holds Python objects \(pickled arrays\)"),
        ({"X": GOOD_X, "y": np.zeros(6)}, r"has only normal rows \(0\)"),
        ({"X": GOOD_X.ravel(), "y": GOOD_Y}, r"has shape \(12,\); expected a 2-D array"),
        ({"X": GOOD_X.astype(str), "y": GOOD_Y}, r"has dtype <U32; expected numbers"),
        ({"X": GOOD_X, "y": GOOD_Y[:5]}, r"has 6 rows but y has 5 labels"),
        (
            {"X": np.where(GOOD_X == 5, np.nan, GOOD_X), "y": GOOD_Y},
            r"1 NaN or infinite values \(first at row 2, column 1: nan\)",
        ),
        ({"X": np.where(GOOD_X == 0, np.inf, GOOD_X), "y": GOOD_Y}, r"NaN or infinite values"),
    ],
)
def test_bad_npz_contents(tmp_path, arrays, pattern):
    _raises_one_line(DataError, pattern, load_npz_dataset, _npz(tmp_path, **arrays))


def test_truncated_missing_and_foreign_files(tmp_path):
    path = _npz(tmp_path, X=np.random.default_rng(0).normal(size=(500, 4)), y=np.r_[[0] * 499, 1])
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    _raises_one_line(
        DataError, r"cut\.npz is not a readable \.npz archive \(truncated", load_npz_dataset, cut
    )
    text = tmp_path / "text.npz"
    text.write_text("X,y\n1,0\n")
    _raises_one_line(
        DataError, r"text\.npz is not a readable \.npz archive", load_npz_dataset, text
    )
    npy = tmp_path / "single.npz"
    with npy.open("wb") as fh:
        np.save(fh, GOOD_X)
    _raises_one_line(DataError, r"is a single \.npy array", load_npz_dataset, npy)
    _raises_one_line(
        DataError, r"absent\.npz does not exist", load_npz_dataset, tmp_path / "absent.npz"
    )


def test_good_file_loads_as_float_and_labels(tmp_path):
    X, y = load_npz_dataset(_npz(tmp_path, X=GOOD_X.astype(np.int16), y=GOOD_Y.reshape(-1, 1)))
    assert X.dtype == np.float64 and X.shape == (6, 2)
    np.testing.assert_array_equal(y, GOOD_Y)


def test_truncated_file_in_benchmark_is_one_line(tmp_path):
    folder = _write_folder(tmp_path)
    data = (folder / "toy.npz").read_bytes()
    (folder / "toy.npz").write_bytes(data[:100])
    message = _raises_one_line(DataError, r"toy\.npz is not a readable", benchmark, folder)
    assert re.search(r"expected a \.npz file with arrays X and y$", message)
