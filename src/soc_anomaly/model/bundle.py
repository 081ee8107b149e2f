"""Safe model bundles: a skops file with an allow-list of types, and a manifest.

A bundle is a directory with two files, and a third when signed:

``model.skops``
    The fitted :class:`~soc_anomaly.model.AnomalyModel`, written with
    :mod:`skops.io`, which stores objects as data and rebuilds only the types it
    is told to trust. Never pickle or joblib: loading a pickle runs whatever
    code it names.
``manifest.json``
    What the model is and where it came from: feature names in order, detector
    and parameters, calibration, threshold, training window, rows and SHA-256 of
    the training data, the incident queue's budget (``incidents``: incidents a
    day per 500 staff, the staff, incidents a day, the linker's parameters; null
    for a model without a linker), SHA-256 of ``model.skops``, the seed, the versions of the
    package, scikit-learn, numpy and skops, and the OCSF and ATT&CK versions
    the toolkit follows.
``manifest.sig``
    Optional: the HMAC-SHA256 of the manifest's bytes under a key
    (:mod:`soc_anomaly.model.signing`).

:func:`load_bundle` (and :func:`load_model`, :func:`read_manifest`) refuse,
with one line each: a directory without a manifest, a manifest over
:data:`~soc_anomaly.model.manifest_check.MAX_MANIFEST_BYTES` or that is not
JSON, nests too deep, or has a missing or ill-typed field
(:mod:`soc_anomaly.model.manifest_check`); with a key, an unsigned or wrongly
signed bundle; a model file whose SHA-256 differs from the manifest's; a type
outside :func:`trusted_types`; a fitted array that is inconsistent or out of
range (:mod:`soc_anomaly.model.bundle_check`, run before anything scores); a
manifest whose threshold, features, detector or other model-determined field
differs from the model's; and a bundle written by a package or scikit-learn
of another major.minor version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from soc_anomaly import __version__
from soc_anomaly.data.io import atomic_write
from soc_anomaly.data.ocsf_mapping import OCSF_VERSION
from soc_anomaly.errors import ModelError
from soc_anomaly.features.columns import epoch_ms
from soc_anomaly.model.bundle_check import check_model
from soc_anomaly.model.incident_scoring import incident_record
from soc_anomaly.model.manifest_check import MAX_MANIFEST_BYTES, check_agreement, parse_manifest
from soc_anomaly.model.signing import SIGNATURE_FILE, as_key, signature, verify
from soc_anomaly.scenarios.enterprise.attacks.base import ATTACK_VERSION

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST_FILE",
    "MODEL_FILE",
    "SIGNATURE_FILE",
    "load_bundle",
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
#: Largest model file read (the largest bundles measured are a few tens of MB).
MAX_MODEL_BYTES = 2_000_000_000
#: Types outside the toolkit that skops does not trust by default but a model needs.
_THIRD_PARTY = ("sklearn.tree._tree.Tree", "sklearn.utils._bunch.Bunch")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def trusted_types() -> list[str]:
    """Every type a model file may hold beyond what skops trusts by default.

    The toolkit's own classes (the model, featurisers, calibrator, incident
    linker and every registered detector) and the two scikit-learn internals a
    forest needs.
    """
    from soc_anomaly.detectors import DETECTORS, get_detector
    from soc_anomaly.detectors.calibration import ScoreCalibrator
    from soc_anomaly.features import EntityFeatures
    from soc_anomaly.features.peers import PeerTables
    from soc_anomaly.features.seed_columns import SeedColumns
    from soc_anomaly.incidents import IncidentLinker
    from soc_anomaly.model.fitted import AnomalyModel
    from soc_anomaly.sequences.lstm import LSTMWeights
    from soc_anomaly.sequences.ngram import NGramTables

    own = [AnomalyModel, EntityFeatures, PeerTables, NGramTables, SeedColumns, ScoreCalibrator]
    own += [IncidentLinker, LSTMWeights]
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
        "incidents": incident_record(model),
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


def save_model(model: Any, directory: str | Path, signing_key: bytes | str | None = None) -> Path:
    """Write ``model`` and its manifest into ``directory`` (created if missing).

    Every file is written whole to a temporary name before any is renamed into
    place, the manifest last: a failed or interrupted save leaves an earlier
    bundle in ``directory`` as it was, and never leaves a bundle that loads
    half-written.

    Parameters
    ----------
    model : AnomalyModel
        A fitted model.
    directory : str or pathlib.Path
        The bundle's directory.
    signing_key : bytes or str, optional
        Sign the manifest with HMAC-SHA256 under this key (at least 32 bytes)
        into ``manifest.sig`` (:mod:`soc_anomaly.model.signing`). Without it, a
        signature left by an earlier save is removed.

    Returns
    -------
    pathlib.Path
        The directory.
    """
    import skops.io as sio

    if not hasattr(model, "detector_"):
        raise ModelError("the model is not fitted; expected fit() before save()")
    key = None if signing_key is None else as_key(signing_key)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model directory {directory}: {exc.strerror}") from None
    # Every file is written whole to a temporary name first, so a failed or interrupted
    # save leaves an earlier bundle as it was. Then the old manifest goes and the files
    # are renamed in (on leaving the blocks, innermost first), the manifest last: a
    # bundle that loads is always complete.
    try:
        with contextlib.ExitStack() as stack:
            manifest_tmp = stack.enter_context(atomic_write(directory / MANIFEST_FILE))
            sig_tmp = stack.enter_context(atomic_write(directory / SIGNATURE_FILE)) if key else None
            model_tmp = stack.enter_context(atomic_write(directory / MODEL_FILE))
            sio.dump(model, model_tmp)
            text = json.dumps(_manifest(model, _sha256(model_tmp)), indent=2, allow_nan=False)
            data = (text + "\n").encode("utf-8")
            manifest_tmp.write_bytes(data)
            if sig_tmp is not None and key is not None:
                sig_tmp.write_text(signature(data, key), encoding="ascii")
            (directory / MANIFEST_FILE).unlink(missing_ok=True)
            (directory / SIGNATURE_FILE).unlink(missing_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write the model to {directory}: {exc.strerror or exc}") from None
    return directory


def read_manifest(directory: str | Path, signing_key: bytes | str | None = None) -> dict[str, Any]:
    """The manifest of a bundle, checked for its size, format, field types and versions.

    Parameters
    ----------
    directory : str or pathlib.Path
        The bundle.
    signing_key : bytes or str, optional
        Refuse the bundle unless ``manifest.sig`` signs the manifest under this key.

    Raises
    ------
    soc_anomaly.errors.ModelError
        If there is no readable, well-typed manifest of this bundle format, it
        was saved by another major.minor version, or (with a key) it is not signed
        with the key.
    """
    return _read_manifest(Path(directory), signing_key)[0]


def _read_manifest(
    directory: Path, signing_key: bytes | str | None
) -> tuple[dict[str, Any], bytes]:
    key = None if signing_key is None else as_key(signing_key)
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(
            f"{directory} is not a model bundle (no {MANIFEST_FILE}); expected a directory "
            "written by AnomalyModel.save()"
        )
    data = _read_bounded(path, MAX_MANIFEST_BYTES, "a manifest")
    if key is not None:
        # Before parsing: nothing of an unsigned manifest is read.
        verify(directory, data, key)
    manifest = parse_manifest(data, path)
    versions = manifest["versions"]
    for name, current in (("soc_anomaly", __version__), ("scikit-learn", sklearn.__version__)):
        saved = versions[name]
        if _major_minor(saved) != _major_minor(current):
            raise ModelError(
                f"{directory} was saved with {name} {saved}, this is {current}; expected the "
                "same major.minor version: retrain the model"
            )
    return manifest, data


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            # read(n) allocates n bytes up front: ask for the file's size, not the limit.
            size = path.stat().st_size
            data = f.read(min(size, limit) + 1)
    except OSError as exc:
        raise ModelError(f"{path} cannot be read: {exc.strerror}; expected {what}") from None
    if len(data) > limit:
        raise ModelError(f"{path} is over {limit:,} bytes; expected {what}")
    return data


def load_model(
    directory: str | Path,
    signing_key: bytes | str | None = None,
    *,
    model_sha256: str | None = None,
) -> Any:
    """Load a bundle written by :func:`save_model`, after checking it.

    See :func:`load_bundle`; ``model_sha256`` also refuses a model file of
    another SHA-256 (a worker loading the bundle its coordinator checked).
    """
    model, manifest = load_bundle(directory, signing_key)
    if model_sha256 is not None and manifest["model_sha256"] != model_sha256:
        raise ModelError(f"{directory} changed while it was being loaded; refusing to load it")
    return model


def load_bundle(
    directory: str | Path, signing_key: bytes | str | None = None
) -> tuple[Any, dict[str, Any]]:
    """The model of a bundle and its manifest, after checking both.

    The manifest is read once (at most 1 MB), its signature checked when a key
    is given, its fields checked for type; the model file is read once, its
    SHA-256 compared with the manifest's, loaded with the allow-list of types,
    and every fitted array validated (:mod:`soc_anomaly.model.bundle_check`)
    before anything scores with it. Finally every manifest field the model
    determines (detector, features, feature names, threshold, calibration,
    parameters, training window) must equal the loaded model's, so what the
    manifest says is what scores.

    Parameters
    ----------
    directory : str or pathlib.Path
        The bundle.
    signing_key : bytes or str, optional
        Refuse an unsigned bundle, or one signed with another key.

    Returns
    -------
    model : AnomalyModel
    manifest : dict

    Raises
    ------
    soc_anomaly.errors.ModelError
        One line naming what is wrong: a missing, oversized, unreadable or
        ill-typed manifest, a bad signature, a model file whose SHA-256 is not
        the manifest's, an untrusted type, an invalid fitted array, a manifest
        field that disagrees with the model, or another major.minor version of
        soc-anomaly or scikit-learn.
    """
    import skops.io as sio

    directory = Path(directory)
    manifest, _ = _read_manifest(directory, signing_key)
    path = directory / MODEL_FILE
    if path.exists() and not path.is_file():
        raise ModelError(f"{path} is not a file; expected the saved model beside {MANIFEST_FILE}")
    if not path.is_file():
        raise ModelError(f"{directory} has no {MODEL_FILE}; expected the saved model beside "
                         f"{MANIFEST_FILE}")  # fmt: skip
    # Read once: the bytes hashed are the bytes loaded.
    data = _read_bounded(path, MAX_MODEL_BYTES, "a model file")
    if hashlib.sha256(data).hexdigest() != manifest["model_sha256"]:
        raise ModelError(
            f"{path} does not match the SHA-256 in {MANIFEST_FILE}; the model was altered "
            "after it was saved, refusing to load it"
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many types on a corrupt file
        raise ModelError(f"{path} is not a readable skops file ({type(exc).__name__})") from None
    refused = sorted(set(untrusted) - set(trusted_types()))
    if refused:
        raise ModelError(
            f"{path} holds untrusted type(s) {', '.join(refused)}; refusing to load it"
        )
    try:
        model = sio.loads(data, trusted=list(untrusted))
    except Exception as exc:  # includes RecursionError on a deeply nested file
        raise ModelError(f"{path} cannot be loaded ({type(exc).__name__}); refusing it") from None
    check_model(model)
    # Recomputed from the model: the manifest describes it, it does not configure it.
    check_agreement(manifest, _manifest(model, manifest["model_sha256"]))
    return model, manifest


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
