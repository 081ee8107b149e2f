"""One vocabulary of detector names: every command takes the same names, and swaps alike."""

from __future__ import annotations

import json

import pytest
from cli_helpers import assert_one_line_error, run_cli

from soc_anomaly.data.io import write_table
from soc_anomaly.detectors import registry
from soc_anomaly.detectors.names import (
    DETECTOR_NAMES,
    cli_name,
    parse_detector_names,
    resolve_detector_name,
)
from soc_anomaly.detectors.ocsvm import OCSVM_EXACT_MAX_ROWS
from soc_anomaly.errors import ParameterError
from soc_anomaly.experiment import pipeline
from soc_anomaly.model import AnomalyModel
from soc_anomaly.scenarios import generate_synthetic_soc_dataset


def test_the_light_vocabulary_is_the_registry() -> None:
    assert list(DETECTOR_NAMES) == list(registry.DETECTORS)
    for short, spec in registry.DETECTORS.items():
        assert spec.display_name == DETECTOR_NAMES[short]


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("ocsvm_approx", "ocsvm_approx"),
        ("OneClassSVM (subsampled)", "ocsvm_approx"),
        ("oneclasssvm  (SUBSAMPLED)", "ocsvm_approx"),
        ("IsolationForest", "iforest"),
        ("IFOREST", "iforest"),
        ("risk-score", "risk_score"),
        ("k-means distance", "kmeans"),
    ],
)
def test_short_and_display_names_resolve_in_any_case(text: str, short: str) -> None:
    assert resolve_detector_name(text) == short
    assert registry.get_detector(text).name == short


def test_every_printed_name_maps_back_to_a_flag_value() -> None:
    for short, display in DETECTOR_NAMES.items():
        assert cli_name(display) == short
        # A run over several feature sets prints "<display> (<feature set>)".
        assert cli_name(f"{display} (entity)") == short
    assert cli_name("OneClassSVM (subsampled) (seed)") == "ocsvm_approx"
    assert cli_name("CBLOF") is None


def test_an_unknown_name_lists_the_short_names_and_offers_nothing_refused() -> None:
    with pytest.raises(ParameterError, match=r"unknown detector 'forest'; expected one of iforest"):
        resolve_detector_name("forest")
    with pytest.raises(ParameterError) as caught:
        registry.get_detector("all")
    # Named once, as the value received; not offered back as a choice.
    assert str(caught.value).count("'all'") == 1


def test_lists_take_display_names_and_all() -> None:
    assert parse_detector_names("IsolationForest, OneClassSVM (subsampled)") == (
        "iforest",
        "ocsvm_approx",
    )
    assert parse_detector_names("iforest,IsolationForest") == ("iforest",)
    assert parse_detector_names("ALL") == tuple(DETECTOR_NAMES)
    with pytest.raises(ParameterError, match=r"unknown detector 'svm'.*or 'all'"):
        parse_detector_names("iforest,svm")


def test_the_exact_ocsvm_is_swapped_above_its_cut_over_only() -> None:
    assert registry.detector_for_rows("ocsvm", OCSVM_EXACT_MAX_ROWS) == ("ocsvm", None)
    name, note = registry.detector_for_rows("OneClassSVM", OCSVM_EXACT_MAX_ROWS + 1)
    assert name == "ocsvm_approx"
    assert note is not None
    assert f"{OCSVM_EXACT_MAX_ROWS + 1:,} training rows" in note
    assert "ran ocsvm_approx" in note
    for short in DETECTOR_NAMES:
        if short != "ocsvm":
            assert registry.detector_for_rows(short, 10**9) == (short, None)


def test_detect_swaps_through_the_registry() -> None:
    notes: list[str] = []
    assert pipeline._resolve_detector("ocsvm", OCSVM_EXACT_MAX_ROWS + 1, notes) == "ocsvm_approx"
    assert notes == [registry.detector_for_rows("ocsvm", OCSVM_EXACT_MAX_ROWS + 1)[1]]


@pytest.fixture()
def table(tmp_path):
    return write_table(
        generate_synthetic_soc_dataset(n_users=20, events_per_user=40, random_state=3),
        tmp_path / "table.csv",
    )


def test_train_swaps_like_detect_and_says_so(capsys, tmp_path, table, monkeypatch) -> None:
    # The real cut-over is 100,000 rows; a small one keeps the test fast.
    monkeypatch.setattr(registry, "_SWAPS", {"ocsvm": (100, "ocsvm_approx")})
    bundle = tmp_path / "m"
    code, out, err = run_cli(
        capsys, "train", "--data-path", str(table), "--features", "table",
        "--detector", "ocsvm", "--model-dir", str(bundle),
    )  # fmt: skip
    assert code == 0, err
    assert "note: ocsvm:" in err and "ran ocsvm_approx" in " ".join(err.split())
    assert "Trained ocsvm_approx on table features" in out
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["detector"]["name"] == "ocsvm_approx"


def test_train_takes_the_name_a_report_prints(capsys, tmp_path, table) -> None:
    bundle = tmp_path / "m"
    code, _, err = run_cli(
        capsys, "train", "--data-path", str(table), "--features", "table",
        "--detector", "OneClassSVM (subsampled)", "--model-dir", str(bundle),
    )  # fmt: skip
    assert code == 0, err
    assert AnomalyModel.load(bundle).detector == "ocsvm_approx"


@pytest.mark.parametrize("value", ["all", "iforest,lof"])
def test_train_refuses_several_detectors_without_offering_them(capsys, tmp_path, value) -> None:
    code, _, err = run_cli(capsys, "train", "--detector", value, "--model-dir", str(tmp_path))
    assert_one_line_error(code, err, r"train fits one detector; expected one of iforest, ocsvm")
    assert err.count("'all'") == (1 if value == "all" else 0)


def test_benchmark_methods_take_our_display_names_too() -> None:
    from soc_anomaly.experiment.benchmark import _resolve_methods

    assert _resolve_methods(["IsolationForest", "mahalanobis", "OCSVM"]) == [
        "IForest",
        "MCD",
        "OCSVM",
    ]
    # The published protocol has no subsampled OneClassSVM to compare with.
    with pytest.raises(ParameterError, match=r"unknown method 'OneClassSVM \(subsampled\)'"):
        _resolve_methods(["OneClassSVM (subsampled)"])


def test_train_help_states_the_real_cut_over() -> None:
    import typer

    from soc_anomaly.cli.main import app

    train = typer.main.get_command(app).commands["train"]
    (option,) = [p for p in train.params if p.name == "detector"]
    assert f"Above {OCSVM_EXACT_MAX_ROWS:,} training rows" in option.help
