"""Signed bundles: an HMAC-SHA256 of the manifest, checked by load, score and serve with a key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soc_anomaly.cli.main import main
from soc_anomaly.errors import ModelError, ParameterError
from soc_anomaly.model import AnomalyModel
from soc_anomaly.model.bundle import MANIFEST_FILE, load_bundle
from soc_anomaly.model.signing import ENV_VAR, SIGNATURE_FILE, resolve_key

KEY = "k" * 32
OTHER = "o" * 40


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "train.csv"
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(120, 3)), columns=list("abc"))
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, table: Path) -> Path:
    model = AnomalyModel(detector="kmeans", features="table").fit(pd.read_csv(table))
    return model.save(tmp_path_factory.mktemp("signed") / "b", signing_key=KEY)


def test_a_signed_bundle_loads_with_its_key_and_without_one(signed) -> None:
    sig = (signed / SIGNATURE_FILE).read_text()
    assert sig.startswith("hmac-sha256:") and len(sig.strip()) == len("hmac-sha256:") + 64
    model, _ = load_bundle(signed, KEY)
    assert model.detector == "kmeans"
    assert AnomalyModel.load(signed, signing_key=KEY.encode()).detector == "kmeans"
    assert AnomalyModel.load(signed).detector == "kmeans"  # no key: not checked


def test_another_key_an_unsigned_or_an_edited_bundle_is_refused(signed, tmp_path) -> None:
    with pytest.raises(ModelError, match="not a valid signature"):
        load_bundle(signed, OTHER)
    unsigned = shutil.copytree(signed, tmp_path / "unsigned")
    (unsigned / SIGNATURE_FILE).unlink()
    with pytest.raises(ModelError, match=r"is not signed \(no manifest.sig\)"):
        load_bundle(unsigned, KEY)
    edited = shutil.copytree(signed, tmp_path / "edited")
    # One byte of the manifest (a space of its indentation): the signature no longer holds.
    text = (edited / MANIFEST_FILE).read_text()
    (edited / MANIFEST_FILE).write_text(text.replace("\n  ", "\n   ", 1))
    assert json.loads((edited / MANIFEST_FILE).read_text()) == json.loads(text)
    with pytest.raises(ModelError, match="not a valid signature"):
        load_bundle(edited, KEY)


def test_resaving_without_a_key_removes_the_old_signature(signed, tmp_path) -> None:
    copy = shutil.copytree(signed, tmp_path / "copy")
    AnomalyModel.load(copy).save(copy)
    assert not (copy / SIGNATURE_FILE).exists()
    with pytest.raises(ModelError, match="is not signed"):
        load_bundle(copy, KEY)


def test_keys_shorter_than_32_bytes_are_refused(tmp_path) -> None:
    with pytest.raises(ParameterError, match=r"is 31 bytes; expected at least 32"):
        resolve_key(None, {ENV_VAR: "x" * 31})
    with pytest.raises(ParameterError, match=r"is 0 bytes"):
        resolve_key(None, {ENV_VAR: ""})
    key_file = tmp_path / "key"
    key_file.write_text("y" * 20 + "\n")
    with pytest.raises(ParameterError, match=r"--signing-key-file .* is 20 bytes"):
        resolve_key(key_file, {})
    key_file.write_text(KEY + "\n")  # one trailing line break is not part of the key
    assert resolve_key(key_file, {ENV_VAR: OTHER}) == KEY.encode()
    assert resolve_key(None, {}) is None


def test_train_signs_and_score_refuses_a_wrong_key_in_one_line(
    table, tmp_path, capsys, monkeypatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    bundle = tmp_path / "model"
    args = ["train", "--data-path", str(table), "--features", "table", "--detector", "kmeans"]
    assert main([*args, "--model-dir", str(bundle), "--signing-key-file", str(key_file)]) == 0
    assert (bundle / SIGNATURE_FILE).is_file()
    capsys.readouterr()
    out = tmp_path / "out.csv"
    score = ["score", "--model-dir", str(bundle), "--input", str(table), "--output", str(out)]
    monkeypatch.setenv(ENV_VAR, OTHER)
    assert main([*score, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a valid signature" in err and not out.exists()
    monkeypatch.setenv(ENV_VAR, "short")
    assert main([*score, "--quiet"]) == 2
    assert "SOC_ANOMALY_SIGNING_KEY is 5 bytes" in capsys.readouterr().err
    monkeypatch.setenv(ENV_VAR, KEY)
    assert main([*score, "--quiet"]) == 0 and out.exists()
    monkeypatch.delenv(ENV_VAR)
    (bundle / SIGNATURE_FILE).unlink()
    assert main(["serve", "--model-dir", str(bundle), "--signing-key-file", str(key_file)]) == 2
    assert "is not signed" in capsys.readouterr().err


def test_a_failed_save_over_a_bundle_leaves_it_as_it_was(scoring_world, tmp_path, monkeypatch):
    import skops.io

    bundle = tmp_path / "bundle"
    shutil.copytree(scoring_world.model_dir, bundle)
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    model = AnomalyModel.load(bundle)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the model file is written

    monkeypatch.setattr(skops.io, "dump", stopped)
    with pytest.raises(KeyboardInterrupt):
        model.save(bundle, signing_key="k" * 32)
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before  # no temporary file left
    assert AnomalyModel.load(bundle).threshold_ == model.threshold_
