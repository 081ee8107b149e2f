"""Score a partitioned Parquet dataset on a Dask cluster, with the single-process result.

The dataset is a folder of Parquet files (any depth, e.g. one per day), each
holding a time range; their ranges must not overlap (for a model with windows).
Scoring runs in two parallel passes on the cluster's workers:

1. each partition's *carry* (:class:`soc_anomaly.features.carry.StreamContext`:
   its last day, each user's last logon and each pair's last connection
   times), small by construction; the client folds them, in time order
   (:func:`~soc_anomaly.features.carry.merge_contexts`), into the state each
   partition starts from: exactly what a single process would hold when it
   reaches that partition;
2. each partition scored with its history, written by the worker to its own
   part file.

So every window (a user's, but also an address's failures across users, which
partitioning by user would cut) sees what it would see in one process, and the
output equals :func:`soc_anomaly.model.scoring.score_stream`'s, row for row.
Each worker process loads the bundle once and keeps it.

Output is a folder of part files, ``part-00000.parquet`` and so on in time
order (``.csv``, ``.jsonl``, or OCSF findings ``.jsonl``), written into a
temporary folder beside the target and renamed into place when every part is
done. Requires the ``[dask]`` extra (``dask[distributed]``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from soc_anomaly.errors import DataError, ParameterError
from soc_anomaly.model.scoring import ScoreSummary

__all__ = ["dataset_files", "score_dask", "write_time_partitions"]

_SUFFIX = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl", "ocsf": ".jsonl"}


def _client(scheduler: str, stack: contextlib.ExitStack) -> Any:
    """A client of ``scheduler`` (``local``: a 2-worker cluster here), closed by ``stack``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ParameterError(
            "--engine dask needs the [dask] extra: pip install 'soc-anomaly[dask]'"
        ) from None
    if scheduler == "local":
        cluster = stack.enter_context(
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        )
        return stack.enter_context(Client(cluster))
    try:
        return stack.enter_context(Client(scheduler, timeout="10s"))
    except (OSError, TimeoutError) as exc:
        raise ParameterError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}); expected an address "
            "like tcp://host:8786, or local"
        ) from None


def dataset_files(path: str | Path) -> list[Path]:
    """The Parquet files of a dataset folder, in time order of their first event.

    Raises
    ------
    soc_anomaly.errors.DataError
        If the folder is missing or holds no Parquet file, a file is unreadable
        or has no ``time``, or two files' time ranges overlap.
    """
    import pyarrow.parquet as pq

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"--engine dask reads a folder of Parquet files; {root} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".pq") and p.is_file())
    if not files:
        raise DataError(f"{root} holds no .parquet file; expected a partitioned Parquet dataset")
    ranges = []
    for f in files:
        try:
            table = pq.read_table(f, columns=["time"])
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(
                f"{f} is not a readable Parquet file with a time column ({exc})"
            ) from None
        times = pd.to_datetime(table.column("time").to_pandas(), utc=True)
        if len(times):
            ranges.append((times.min(), times.max(), f))
    ranges.sort(key=lambda r: (r[0], r[1], str(r[2])))
    for (_, end, a), (start, _, b) in itertools.pairwise(ranges):
        if start < end:
            raise DataError(
                f"partitions {a.name} and {b.name} overlap in time; expected a dataset "
                "partitioned by time (e.g. one file per day)"
            )
    return [f for _, _, f in ranges]


def write_time_partitions(events: pd.DataFrame, folder: str | Path, freq: str = "D") -> list[Path]:
    """Write events as a Parquet dataset with one file per ``freq`` period (UTC).

    Returns the files written, in time order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    times = pd.to_datetime(events["time"], utc=True)
    period = times.dt.tz_localize(None).dt.to_period(freq)
    out = []
    for key, part in events.groupby(period.to_numpy(), sort=True):
        path = folder / f"time={key}.parquet"
        part.to_parquet(path, index=False)
        out.append(path)
    return out


@functools.lru_cache(maxsize=4)
def _model(model_dir: str, sha256: str) -> Any:
    """The bundle, loaded once per worker process (keyed by its hash).

    Only a model file of that hash loads: the one the command checked (and whose
    signature it verified when given a key) before the workers started.
    """
    from soc_anomaly.model import load_model

    return load_model(model_dir, model_sha256=sha256)


def _carry(model_dir: str, sha256: str, file: str) -> Any:
    """The state a stream would carry out of this partition alone (None without windows)."""
    from soc_anomaly.data.event_stream import parse_times
    from soc_anomaly.features.carry import next_context

    model = _model(model_dir, sha256)
    featurizer = model.featurizer_
    if not hasattr(featurizer, "beacon_intervals"):
        return None
    events = parse_times(pd.read_parquet(file))
    return next_context(None, events, featurizer)


def _score_part(
    model_dir: str,
    sha256: str,
    file: str,
    history: Any,
    part: str,
    fmt: str,
    manifest: dict[str, Any],
    columns: Sequence[str],
    alerts_only: bool,
    label_col: str | None,
    reasons: int,
    raw_csv: bool = False,
) -> dict[str, Any]:
    from soc_anomaly.data.event_stream import EventChunk, parse_times
    from soc_anomaly.model.scoring import ScoredWriter, score_stream
    from soc_anomaly.model.stream import StreamScorer

    model = _model(model_dir, sha256)
    events = parse_times(pd.read_parquet(file))
    with ScoredWriter(part, fmt, manifest, raw_csv=raw_csv) as writer:
        scorer = StreamScorer(model, reasons=reasons)
        scorer.prime(history)
        summary = score_stream(
            model,
            [EventChunk(events, 0)],
            writer,
            columns=columns,
            alerts_only=alerts_only,
            label_col=label_col,
            reasons=reasons,
            scorer=scorer,
            keep_labels=True,
        )
    return {
        "events": summary.events,
        "alerts": summary.alerts,
        "written": summary.written,
        "labels": summary.labels,
    }


def score_dask(
    model_dir: Path,
    input_path: str,
    output_path: str,
    fmt: str,
    *,
    scheduler: str = "local",
    columns: Sequence[str] = (),
    alerts_only: bool = False,
    label_col: str | None = None,
    reasons: int = 5,
    raw_csv: bool = False,
    manifest: dict[str, Any] | None = None,
) -> ScoreSummary:
    """Score a partitioned Parquet dataset on a Dask cluster (see the module docstring).

    Parameters
    ----------
    model_dir : pathlib.Path
        The bundle; every worker must be able to read this path.
    input_path : str
        Folder of Parquet files partitioned by time.
    output_path : str
        Folder to write the part files into (replaced when complete).
    fmt : {"parquet", "csv", "jsonl", "ocsf"}
        Format of the part files.
    scheduler : str, default="local"
        A scheduler address, or ``local`` for a 2-worker cluster on this machine.
    columns, alerts_only, label_col, reasons
        As for :func:`soc_anomaly.model.scoring.score_stream`.
    raw_csv : bool, default=False
        CSV parts: text values as they are (see
        :class:`~soc_anomaly.model.writers.ScoredWriter`).
    manifest : dict, optional
        The bundle's manifest as the caller checked it (signature included);
        read from ``model_dir`` when not given. Workers load only the model file
        of its SHA-256.

    Returns
    -------
    ScoreSummary
    """
    import time

    from soc_anomaly.model import read_manifest
    from soc_anomaly.model.scoring import evaluate_labels

    t0 = time.perf_counter()
    if output_path == "-":
        raise ParameterError("--engine dask writes a folder of part files; expected --output DIR")
    files = dataset_files(input_path)
    if manifest is None:
        manifest = read_manifest(model_dir)
    sha = str(manifest["model_sha256"])
    out = Path(output_path)
    if not out.parent.exists():
        raise ParameterError(f"--output folder {out.parent} does not exist")
    mdir = str(Path(model_dir).resolve())
    with contextlib.ExitStack() as stack:
        client = _client(scheduler, stack)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        try:
            carries = client.gather(
                [client.submit(_carry, mdir, sha, str(f), pure=False) for f in files]
            )
            histories = _histories(carries, _model(mdir, sha))
            futures = [
                client.submit(
                    _score_part,
                    mdir,
                    sha,
                    str(f),
                    h,
                    str(tmp / f"part-{i:05d}{_SUFFIX[fmt]}"),
                    fmt,
                    manifest,
                    list(columns),
                    alerts_only,
                    label_col,
                    reasons,
                    raw_csv,
                    pure=False,
                )
                for i, (f, h) in enumerate(zip(files, histories, strict=True))
            ]
            results = client.gather(futures)
            _replace_dir(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    summary = ScoreSummary(
        events=sum(r["events"] for r in results),
        alerts=sum(r["alerts"] for r in results),
        written=sum(r["written"] for r in results),
    )
    if label_col:
        summary.evaluation = evaluate_labels([r["labels"] for r in results])
    summary.seconds = time.perf_counter() - t0
    return summary


def _histories(carries: list[Any], model: Any) -> list[Any]:
    """What each partition starts from: the fold of the states of the partitions before it."""
    from soc_anomaly.features.carry import merge_contexts

    featurizer = model.featurizer_
    if not hasattr(featurizer, "beacon_intervals"):
        return [None] * len(carries)
    out: list[Any] = [None]
    held = None
    for carry in carries[:-1]:
        held = merge_contexts(held, carry, featurizer)
        out.append(held)
    return out


def _replace_dir(tmp: Path, out: Path) -> None:
    """Put the finished folder in place; an older one is removed only after."""
    old = None
    if out.exists():
        if not out.is_dir():
            raise DataError(f"--output {out} is a file; --engine dask writes a folder")
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
