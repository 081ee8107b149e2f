"""Safe model bundles: a skops file with an allow-list of types, and a manifest.

A bundle is a directory with two files:

``model.skops``
    The fitted :class:`~soc_anomaly.model.AnomalyModel`, written with
    :mod:`skops.io`, which stores objects as data and rebuilds only the types it
    is told to trust. Never pickle or joblib: loading a pickle runs whatever
    code it names.
``manifest.json``
    What the model is and where it came from: feature names in order, detector
    and parameters, calibration, threshold, training window, rows and SHA-256 of
    the training data, SHA-256 of ``model.skops``, the seed, the versions of the
    package, scikit-learn, numpy and skops, and the OCSF and ATT&CK versions
    the toolkit follows.

:func:`load_model` refuses, with one line each, a directory without a
manifest, a model file whose SHA-256 differs from the manifest's (altered
after saving), a type outside :func:`trusted_types`, and a bundle written by a
package or scikit-learn of another major.minor version.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from soc_anomaly import __version__
from soc_anomaly.data.io import write_json, write_via
from soc_anomaly.data.ocsf_mapping import OCSF_VERSION
from soc_anomaly.errors import ModelError
from soc_anomaly.features.columns import epoch_ms
from soc_anomaly.scenarios.enterprise.attacks.base import ATTACK_VERSION

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST_FILE",
    "MODEL_FILE",
    "load_model",
    "read_manifest",
    "save_model",
    "training_record",
    "trusted_types",
]

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
#: Version of the bundle layout; a loader refuses another.
BUNDLE_FORMAT = 1
#: Types outside the toolkit that skops does not trust by default but a model needs.
_THIRD_PARTY = ("sklearn.tree._tree.Tree", "sklearn.utils._bunch.Bunch")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def trusted_types() -> list[str]:
    """Every type a model file may hold beyond what skops trusts by default.

    The toolkit's own classes (the model, featurisers, calibrator and every
    registered detector) and the two scikit-learn internals a forest needs.
    """
    from soc_anomaly.detectors import DETECTORS, get_detector
    from soc_anomaly.detectors.calibration import ScoreCalibrator
    from soc_anomaly.features import EntityFeatures
    from soc_anomaly.features.peers import PeerTables
    from soc_anomaly.features.seed_columns import SeedColumns
    from soc_anomaly.model.fitted import AnomalyModel

    own = [AnomalyModel, EntityFeatures, PeerTables, SeedColumns, ScoreCalibrator]
    # A detector's class is whatever its spec builds; building one fits nothing.
    own += [type(get_detector(n).build(0.01, 0, ["x"])) for n in DETECTORS]
    return sorted({*map(_qualname, own), *_THIRD_PARTY})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _plain(value: Any) -> Any:
    """JSON-ready parameters: numbers, strings, None, lists; anything else as text."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _manifest(model: Any, model_sha256: str) -> dict[str, Any]:
    import skops

    detector = model.detector_
    params = detector.get_params(deep=False) if hasattr(detector, "get_params") else {}
    return {
        "bundle_format": BUNDLE_FORMAT,
        "model_file": MODEL_FILE,
        "model_sha256": model_sha256,
        "parameters": {k: _plain(v) for k, v in model.get_params().items()},
        "features": model.features,
        "feature_names": list(model.feature_names_),
        "detector": {
            "name": model.detector,
            "class": _qualname(type(detector)),
            "parameters": {k: _plain(v) for k, v in sorted(params.items())},
        },
        "calibration": {"knots": len(model.calibrator_.knots_)},
        "threshold": {
            "rule": "normal_percentile",
            "percentile": model.threshold_percentile,
            "raw": model.threshold_,
            "calibrated": float(model.calibrator_.transform(np.array([model.threshold_]))[0]),
        },
        "training": dict(model.training_),
        "random_state": model.random_state,
        "versions": {
            "soc_anomaly": __version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "skops": skops.__version__,
            "python": platform.python_version(),
        },
        "ocsf_version": OCSF_VERSION,
        "attack_version": ATTACK_VERSION,
    }


def save_model(model: Any, directory: str | Path) -> Path:
    """Write ``model`` and its manifest into ``directory`` (created if missing).

    Both files are written to temporary names and renamed into place, the
    manifest last, so a failed save never leaves a bundle that loads.

    Returns
    -------
    pathlib.Path
        The directory.
    """
    import skops.io as sio

    if not hasattr(model, "detector_"):
        raise ModelError("the model is not fitted; expected fit() before save()")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model directory {directory}: {exc.strerror}") from None
    (directory / MANIFEST_FILE).unlink(missing_ok=True)
    path = write_via(directory / MODEL_FILE, lambda tmp: sio.dump(model, tmp))
    write_json(_manifest(model, _sha256(path)), directory / MANIFEST_FILE)
    return directory


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a bundle, checked for its format.

    Raises
    ------
    soc_anomaly.errors.ModelError
        If there is no readable manifest of this bundle format.
    """
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(
            f"{directory} is not a model bundle (no {MANIFEST_FILE}); expected a directory "
            "written by AnomalyModel.save()"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not readable JSON ({exc}); expected a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("bundle_format") != BUNDLE_FORMAT:
        found = manifest.get("bundle_format") if isinstance(manifest, dict) else None
        raise ModelError(
            f"{path} has bundle format {found!r}; expected {BUNDLE_FORMAT} (this version of "
            "soc-anomaly)"
        )
    return manifest


def load_model(directory: str | Path) -> Any:
    """Load a bundle written by :func:`save_model`, after checking it.

    Raises
    ------
    soc_anomaly.errors.ModelError
        On a missing or unreadable manifest or model file, a model file whose
        SHA-256 is not the manifest's, an untrusted type, or a bundle saved by
        another major.minor version of soc-anomaly or scikit-learn.
    """
    import skops.io as sio

    from soc_anomaly.model.fitted import AnomalyModel

    directory = Path(directory)
    manifest = read_manifest(directory)
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{directory} has no {MODEL_FILE}; expected the saved model beside "
                         f"{MANIFEST_FILE}")  # fmt: skip
    if _sha256(path) != manifest.get("model_sha256"):
        raise ModelError(
            f"{path} does not match the SHA-256 in {MANIFEST_FILE}; the model was altered "
            "after it was saved, refusing to load it"
        )
    versions = manifest.get("versions") or {}
    for name, current in (("soc_anomaly", __version__), ("scikit-learn", sklearn.__version__)):
        saved = str(versions.get(name, "unknown"))
        if _major_minor(saved) != _major_minor(current):
            raise ModelError(
                f"{directory} was saved with {name} {saved}, this is {current}; expected the "
                "same major.minor version: retrain the model"
            )
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many types on a corrupt file
        raise ModelError(f"{path} is not a readable skops file ({type(exc).__name__})") from None
    allowed = set(trusted_types())
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise ModelError(
            f"{path} holds untrusted type(s) {', '.join(refused)}; refusing to load it"
        )
    try:
        model = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"{path} cannot be loaded ({type(exc).__name__}: {exc})") from None
    if not isinstance(model, AnomalyModel):
        raise ModelError(f"{path} holds a {type(model).__name__}; expected an AnomalyModel")
    return model


def training_record(train: pd.DataFrame) -> dict[str, Any]:
    """What the manifest says of the training events: rows, SHA-256 and time window."""
    return {"rows": len(train), "sha256": _data_sha256(train), **_window(train)}


def _data_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's content (values and column names, not its memory layout)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _window(train: pd.DataFrame) -> dict[str, Any]:
    """First and last training time (ISO 8601, UTC) when the events are timed."""
    if "time" not in train.columns or not len(train):
        return {"start": None, "end": None}
    try:
        ms = epoch_ms(train["time"])
    except (TypeError, ValueError):
        return {"start": None, "end": None}
    first, last = (pd.Timestamp(int(v), unit="ms", tz="UTC") for v in (ms.min(), ms.max()))
    return {"start": first.isoformat(), "end": last.isoformat()}
