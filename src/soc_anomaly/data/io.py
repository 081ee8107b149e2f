"""Reading and writing tables and files, safely.

:func:`read_table` and :func:`load_events` read the formats the toolkit
accepts (CSV, Parquet, and labelled ``.npz`` via :mod:`soc_anomaly.data.npz`),
turning every failure into one :class:`~soc_anomaly.errors.DataError` line.

Every file the toolkit writes goes through :func:`atomic_write`: the content
is written to a temporary file beside the target and renamed over it only
once complete, so an interrupted or failed run never leaves a half-written
file, and an existing file is never lost.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from soc_anomaly.data.npz import load_npz_dataset
from soc_anomaly.data.schema import LABEL_COL
from soc_anomaly.errors import DataError, SocAnomalyError

__all__ = [
    "TABLE_SUFFIXES",
    "atomic_write",
    "check_writable_dir",
    "check_writable_file",
    "dump_table",
    "load_events",
    "read_table",
    "table_format",
    "write_json",
    "write_table",
    "write_via",
]

#: File name endings understood as tables, and their format.
TABLE_SUFFIXES: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Compressed CSV endings :func:`read_table` reads too (decompressed as read).
_COMPRESSED_CSV = (".csv.gz", ".csv.zst")


def table_format(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` by the file ending; a one-line error otherwise."""
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"unsupported file type '{path.suffix or '(none)'}' for {path}; "
            f"expected one of {', '.join(TABLE_SUFFIXES)}"
        )
    return fmt


def check_writable_file(path: Path, *, what: str = "output file") -> None:
    """Fail early, with one line, if ``path`` cannot be written.

    Parameters
    ----------
    path : pathlib.Path
        The file that will be written (it may not exist yet).
    what : str
        How the file is named in the message.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If the path is a directory, or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise SocAnomalyError(f"{what} {path} is a directory; expected a file path")
    check_writable_dir(path.parent, what=f"folder of the {what}", create=False)


def check_writable_dir(path: Path, *, what: str = "output folder", create: bool = True) -> None:
    """Fail early, with one line, if files cannot be written into ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The folder; with ``create=True`` it is created if missing.
    what : str
        How the folder is named in the message.
    create : bool, default=True
        Create the folder (and its parents) now.
    """
    path = Path(path)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise SocAnomalyError(f"{what} {path} cannot be created: {existing} is a file")
    # Probe by writing: permission bits say nothing for root or read-only mounts.
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        raise SocAnomalyError(
            f"{what} {path} is not writable; expected a folder you can write to"
        ) from None
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SocAnomalyError(f"{what} {path} cannot be created: {exc.strerror}") from None


def _default_mode() -> int:
    """0666 less the process umask: the mode ``open(path, "w")`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path; on success rename it over ``path``.

    Parameters
    ----------
    path : pathlib.Path
        Final destination. Its folder must exist.

    Yields
    ------
    pathlib.Path
        Where to write. It is removed if the block raises (an interrupt
        included), and then ``path`` is left as it was.

    Raises
    ------
    soc_anomaly.errors.SocAnomalyError
        If the temporary file cannot be made or renamed (one line naming
        ``path``); an exception of the block passes through unchanged.
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SocAnomalyError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        # mkstemp creates the file private (0600); give the result the
        # permissions any new file would get, or keep those of the file replaced.
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SocAnomalyError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_via(path: Path, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer`` on a temporary path and rename the result over ``path``.

    An ``OSError`` becomes one :class:`~soc_anomaly.errors.SocAnomalyError` line
    naming ``path``; on any failure the temporary file is removed and an
    existing ``path`` is left as it was.
    """
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            writer(tmp)
    except OSError as exc:
        raise SocAnomalyError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as CSV or Parquet (by the file ending), atomically.

    The same frame always gives the same bytes: CSV without the index,
    Parquet with pyarrow's defaults and no wall-clock metadata.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : pathlib.Path
        Destination ending in ``.csv``, ``.parquet`` or ``.pq``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    fmt = table_format(path)
    return write_via(path, lambda tmp: dump_table(df, tmp, fmt))


def dump_table(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write ``df`` to ``path`` as it is, in ``fmt`` (``"csv"`` or ``"parquet"``).

    The building block of :func:`write_table` for a caller that manages its own
    temporary files (e.g. to rename several outputs into place together).
    """
    if fmt == "csv":
        df.to_csv(path, index=False, lineterminator="\n")
    elif fmt == "parquet":
        df.to_parquet(path, index=False, engine="pyarrow")
    else:
        raise ValueError(f"unknown table format {fmt!r}")


def write_json(obj: Any, path: Path) -> Path:
    """Write ``obj`` as indented JSON, atomically."""

    def _dump(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")

    return write_via(Path(path), _dump)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet table, turning every failure into one clear line.

    Parameters
    ----------
    path : pathlib.Path
        A ``.csv``, ``.parquet`` or ``.pq`` file; ``.csv.gz`` and ``.csv.zst``
        are decompressed as they are read.

    Returns
    -------
    pandas.DataFrame
        The table, with a fresh ``RangeIndex``.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the file is missing, empty, of another type, or cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {path} does not exist; expected a .csv, .parquet or .npz file")
    if path.is_dir():
        raise DataError(f"data path {path} is a directory; expected a .csv, .parquet or .npz file")
    compressed = path.name.lower().endswith(_COMPRESSED_CSV)
    fmt = "csv" if compressed else table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty; expected a header row and events")
    try:
        if compressed:
            from soc_anomaly.data.input_source import open_input

            # The toolkit's decompressors: a cut zstd file is an error, not fewer rows.
            with open_input(str(path), "csv") as source:
                df = pd.read_csv(source.stream)
        elif fmt == "csv":
            df = pd.read_csv(path)
        else:
            df = pd.read_parquet(path, engine="pyarrow")
            _release_arrow_memory()
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no columns; expected a header row") from None
    except UnicodeDecodeError:
        raise DataError(f"data file {path} is not text; expected a UTF-8 CSV file") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataError(f"data file {path} is not a well-formed CSV ({detail})") from None
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        if fmt == "parquet":
            raise DataError(
                f"data file {path} is not a readable Parquet file (truncated or corrupt: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None
        if compressed:  # gzip and zstandard raise their own types for a cut stream
            raise DataError(
                f"data file {path} is a truncated or corrupt compressed CSV "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None
        raise
    if df.empty:
        raise DataError(f"data file {path} has a header but no rows; expected events")
    if fmt == "csv" and not compressed:
        # A cut compressed file fails in its decompressor instead.
        _check_last_csv_row(path, len(df.columns), len(df))
    return df.reset_index(drop=True)


def _release_arrow_memory() -> None:
    """Hand the pages of freed Arrow tables back to the system.

    Arrow's allocator keeps them for later Arrow allocations, which a run that
    has converted its table to pandas no longer makes: without this, ten
    million events (1 GiB in pandas) held a second gibibyte for the whole run.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _check_last_csv_row(path: Path, n_columns: int, n_rows: int) -> None:
    """Reject a CSV whose last row has fewer fields than the header: a cut-off file.

    pandas fills the missing trailing fields of a short row with NaN, which
    would pass as data when only unused columns were cut.
    """
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        tail = fh.read().decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return
    fields = next(csv.reader([lines[-1]]))
    if len(fields) < n_columns:
        raise DataError(
            f"data file {path} ends with an incomplete row (data row {n_rows} has "
            f"{len(fields)} of {n_columns} fields); the file looks truncated"
        )


def load_events(path: Path) -> pd.DataFrame:
    """Read a table of events: CSV, Parquet, or ``.npz`` with ``X`` and ``y``.

    An ``.npz`` becomes columns ``x0 .. x{d-1}`` plus ``label``.
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        X, y = load_npz_dataset(path)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        frame[LABEL_COL] = y
        return frame
    return read_table(path)
