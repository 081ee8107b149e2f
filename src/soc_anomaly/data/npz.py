"""Labelled ``.npz`` datasets: arrays ``X`` (features) and ``y`` (0/1 labels).

Public anomaly-detection benchmarks (ADBench) ship in this form; ``detect``
reads them too. Nothing is unpickled: a file must hold plain numeric arrays.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from soc_anomaly.errors import DataError

__all__ = ["load_npz_dataset"]


def load_npz_dataset(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a labelled benchmark: a ``.npz`` archive with arrays ``X`` and ``y``.

    Parameters
    ----------
    path : pathlib.Path
        The ``.npz`` file.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features), float64
        Features, all finite.
    y : numpy.ndarray of shape (n_samples,), int8
        Labels: 1 = anomaly, 0 = normal; both occur.

    Raises
    ------
    soc_anomaly.errors.DataError
        One line naming the problem: missing file, not a readable ``.npz``
        (truncated or corrupt), no ``X`` or no ``y``, ``X`` not a 2-D numeric
        array, ``y`` not 0/1 labels of both kinds, lengths that differ, or
        NaN/infinite values in ``X``.
    """
    path = Path(path)
    expected = "expected a .npz file with arrays X and y"
    if not path.exists():
        raise DataError(f"dataset file {path} does not exist; {expected}")
    if path.is_dir():
        raise DataError(f"dataset path {path} is a directory; {expected}")
    try:
        # No pickles: a benchmark file must hold plain arrays, and unpickling
        # a downloaded file could run code.
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(f"dataset file {path} is a single .npy array; {expected}")
        with archive:
            missing = [key for key in ("X", "y") if key not in archive.files]
            if missing:
                found = ", ".join(archive.files) or "none"
                names = " and ".join(f"'{key}'" for key in missing)
                raise DataError(
                    f"dataset file {path} has no array {names} (arrays found: {found}); {expected}"
                )
            X = archive["X"]
            y = archive["y"]
    except DataError:
        raise
    except (
        OSError,
        EOFError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        NotImplementedError,
    ) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not zipfile.is_zipfile(path):
            # numpy falls back to unpickling anything that is not an archive;
            # its pickle message would mislead about a file that is just garbage.
            raise DataError(
                f"dataset file {path} is not a readable .npz archive (truncated or corrupt); "
                f"{expected}"
            ) from None
        if detail.startswith("Object arrays cannot be loaded"):
            raise DataError(
                f"dataset file {path} holds Python objects (pickled arrays), which are not "
                f"loaded; {expected} of numbers"
            ) from None
        # numpy and zipfile raise many unrelated types for truncated or
        # corrupt archives.
        raise DataError(
            f"dataset file {path} is not a readable .npz archive (truncated or corrupt: "
            f"{detail}); {expected}"
        ) from None
    return _check_arrays(path, X, y)


def _check_arrays(path: Path, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate the two arrays of one file; return float64 ``X`` and int8 ``y``."""
    if X.ndim != 2:
        raise DataError(f"X in {path} has shape {X.shape}; expected a 2-D array (rows x features)")
    if X.dtype.kind not in "biuf":
        raise DataError(f"X in {path} has dtype {X.dtype}; expected numbers")
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise DataError(f"X in {path} has shape {X.shape}; expected at least 2 rows and 1 feature")
    # A column vector of labels is still one label per row.
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise DataError(f"y in {path} has shape {y.shape}; expected one label per row (1-D)")
    if y.dtype.kind not in "biuf":
        raise DataError(f"y in {path} has dtype {y.dtype}; expected 0/1 labels")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        example = y[np.argmax(bad)].item()
        raise DataError(
            f"y in {path} has {int(bad.sum()):,} labels other than 0 and 1 (first: "
            f"{example!r} at row {int(np.argmax(bad))}); expected 1 = anomaly, 0 = normal"
        )
    if len(y) != len(X):
        raise DataError(
            f"X in {path} has {len(X):,} rows but y has {len(y):,} labels; "
            "expected one label per row"
        )
    X = np.asarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise DataError(
            f"X in {path} has {int((~finite).sum()):,} NaN or infinite values (first at row "
            f"{row}, column {col}: {X[row, col]}); expected finite numbers"
        )
    y = y.astype(np.int8)
    n_anomalies = int(y.sum())
    if n_anomalies in (0, len(y)):
        only = "anomalies (1)" if n_anomalies else "normal rows (0)"
        raise DataError(f"y in {path} has only {only}; expected both labels, as ROC AUC needs both")
    return X, y
