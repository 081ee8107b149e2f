"""``soc-anomaly score``: score unlabelled events with a saved model, in bounded memory.

The heavy modules (pandas, the model, the report) are imported inside the
command, so ``soc-anomaly -h`` does not load them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from soc_anomaly.cli._console import err
from soc_anomaly.cli._score_checks import check_incident_flags, check_incidents_path, check_paths
from soc_anomaly.cli._score_lines import Progress, final_lines
from soc_anomaly.errors import ParameterError, SocAnomalyError, check_positive_int

ENGINES = ("local", "dask")
DEFAULT_CHUNK_ROWS = 1_000_000
# Named here, not imported: importing soc_anomaly.data (input_source's package) loads
# pandas. tests/test_score_extras.py checks these against the format tables.
_INPUT_FORMATS = "csv, parquet, jsonl, ocsf"
_OUTPUT_FORMATS = "csv, parquet, jsonl, ocsf"


def _columns(text: str | None) -> list[str]:
    if not text:
        return []
    if text.strip() == "all":
        return ["*"]
    return [c.strip() for c in text.split(",") if c.strip()]


def score(
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="Bundle written by soc-anomaly train.")
    ],
    input_path: Annotated[
        str,
        typer.Option(
            "--input",
            help="Events: .csv, .parquet, .jsonl (each optionally .gz or .zst), or - for "
            "standard input (compressed or not; format told by the content).",
        ),
    ] = "-",
    output_path: Annotated[
        str, typer.Option("--output", help="Results file, or - for standard output.")
    ] = "-",
    input_fmt: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help=f"Input format: {_INPUT_FORMATS} (ocsf: OCSF 3002/4001 JSON Lines). "
            "Default: by the file ending; JSON Lines of OCSF records are read as ocsf.",
        ),
    ] = None,
    output_fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"Output format: {_OUTPUT_FORMATS} (ocsf: a Detection Finding per "
            "alert). Default: by the file ending, jsonl on standard output.",
        ),
    ] = None,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="CSV output: write text values as they are. By default a value starting "
            "with = + - @ (or a tab or carriage return) is prefixed with ' so that a "
            "spreadsheet shows it as text, and control characters (NUL, ESC, ...) are "
            r"written as \uXXXX; a carriage return is quoted either way.",
        ),
    ] = False,
    alerts_only: Annotated[
        bool, typer.Option("--alerts-only", help="Write alerting events only.")
    ] = False,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Input columns to keep, comma-separated, or 'all' (event_id, time and user "
            "are always kept).",
        ),
    ] = None,
    label_col: Annotated[
        str | None,
        typer.Option("--label-col", help="Column of 0/1 labels: evaluate the scores."),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="Events before the input, read but not scored (any input format): the "
            "entity features' windows (failures over 24 hours, previous logon, ...) see them.",
        ),
    ] = None,
    on_error: Annotated[
        str,
        typer.Option(
            "--on-error",
            help="A JSON line that is no event (malformed, nested too deeply, an object where "
            "a value is expected, an OCSF record that cannot be mapped): fail (default) or "
            "skip and count it.",
        ),
    ] = "fail",
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", help="Events read and scored at a time.")
    ] = DEFAULT_CHUNK_ROWS,
    reasons: Annotated[int, typer.Option("--reasons", help="Most reasons per alert.")] = 5,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local, or dask: a partitioned Parquet dataset on a Dask cluster.",
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="With --engine dask: the scheduler's address, or 'local' for a cluster "
            "on this machine.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr.")] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write a self-contained HTML report (model, counts, score histogram, "
            "top alerts, evaluation) to this file.",
        ),
    ] = None,
    signing_key_file: Annotated[
        Path | None,
        typer.Option(
            "--signing-key-file",
            help="Load the bundle only if manifest.sig signs it with the key in this file "
            "(HMAC-SHA256). Default: the key in $SOC_ANOMALY_SIGNING_KEY, if set; with "
            "neither, the signature is not checked.",
        ),
    ] = None,
    incidents: Annotated[
        Path | None,
        typer.Option(
            "--incidents",
            help="Also write the raised incidents to this file, one a line (written whole "
            "when the run ends). Needs a bundle with an incident linker (train fits one "
            "for entity and seed features).",
        ),
    ] = None,
    incidents_fmt: Annotated[
        str | None,
        typer.Option(
            "--incidents-format",
            help="jsonl: an incident object a line; ocsf: an OCSF 1.5.0 Incident Finding "
            "(2005) a line. Default: ocsf with --format ocsf, else jsonl.",
        ),
    ] = None,
    incidents_per_day: Annotated[
        float | None,
        typer.Option(
            "--incidents-per-day",
            help="Incidents raised a day per 500 staff, instead of the bundle's budget "
            "(set by train --incidents-per-day).",
        ),
    ] = None,
) -> None:
    """Score events with a saved model: calibrated score, alert flag and reasons, and the
    incidents they link into."""
    from soc_anomaly.model.scoring import output_format, training_overlap

    check_positive_int("--chunk-rows", chunk_rows)
    check_positive_int("--reasons", reasons)
    check_incident_flags(incidents, incidents_fmt, incidents_per_day, engine)
    if engine not in ENGINES:
        raise ParameterError(f"unknown --engine {engine!r}; expected local or dask")
    if on_error not in ("fail", "skip"):
        raise ParameterError(f"unknown --on-error {on_error!r}; expected fail or skip")
    if report is not None:
        from soc_anomaly.reporting.html_page import check_report_path

        # Checked before any event is read: a long run must not end on a bad path.
        if engine == "dask":
            raise ParameterError("--report needs --engine local; expected one or the other")
        check_report_path(report)
        if output_path != "-" and report.resolve() == Path(output_path).resolve():
            raise ParameterError(f"--report {report} is the --output file; expected another file")
    if engine == "dask":
        if input_fmt not in (None, "parquet"):
            raise ParameterError(
                f"--engine dask reads a Parquet dataset; --input-format {input_fmt} does not apply"
            )
        if history is not None:
            raise ParameterError("--history needs --engine local; expected one or the other")
        # A folder of part files: Parquet unless --format says otherwise.
        out_fmt = output_format("x.parquet", output_fmt)
    else:
        out_fmt = output_format(output_path, output_fmt)
    if raw_csv and out_fmt != "csv":
        raise ParameterError(f"--raw-csv applies to CSV output; the output format is {out_fmt}")
    from soc_anomaly.model.bundle import load_bundle
    from soc_anomaly.model.signing import resolve_key

    # Loaded and checked (signature, hash, every fitted array, the manifest's agreement
    # with the model) before any input is read or output opened.
    model, manifest = load_bundle(model_dir, resolve_key(signing_key_file))
    if incidents is not None or incidents_per_day is not None:
        from soc_anomaly.model.incident_scoring import require_linker

        require_linker(model, "--incidents" if incidents is not None else "--incidents-per-day")
    if engine == "dask":
        from soc_anomaly.model.dask_engine import score_dask

        if scheduler is None:
            scheduler = "local"
        summary = score_dask(
            model_dir,
            input_path,
            output_path,
            out_fmt,
            scheduler=scheduler,
            columns=_columns(columns),
            alerts_only=alerts_only,
            label_col=label_col,
            reasons=reasons,
            raw_csv=raw_csv,
            manifest=manifest,
        )
        final_lines(summary, output_path, out_fmt, manifest, quiet)
    else:
        if scheduler is not None:
            raise ParameterError("--scheduler needs --engine dask")
        check_paths(input_path, output_path, history)
        if incidents is not None:
            check_incidents_path(incidents, input_path, output_path, history, report)
        _score_local(
            model,
            manifest,
            model_dir=model_dir,
            input_path=input_path,
            input_fmt=input_fmt,
            output_path=output_path,
            out_fmt=out_fmt,
            columns=_columns(columns),
            alerts_only=alerts_only,
            label_col=label_col,
            history=history,
            on_error=on_error,
            chunk_rows=chunk_rows,
            reasons=reasons,
            quiet=quiet,
            report=report,
            raw_csv=raw_csv,
            incidents=incidents,
            incidents_fmt=incidents_fmt or ("ocsf" if out_fmt == "ocsf" else "jsonl"),
            incidents_per_day=incidents_per_day,
        )
        return
    warning = training_overlap(
        getattr(model, "training_", None), summary.first_time, summary.last_time
    )
    if warning:
        err.print(f"warning: {warning}", soft_wrap=True)


def _score_local(
    model: Any,
    manifest: dict,
    *,
    model_dir: Path,
    input_path: str,
    input_fmt: str | None,
    output_path: str,
    out_fmt: str,
    columns: list[str],
    alerts_only: bool,
    label_col: str | None,
    history: str | None,
    on_error: str,
    chunk_rows: int,
    reasons: int,
    quiet: bool,
    report: Path | None,
    raw_csv: bool = False,
    incidents: Path | None = None,
    incidents_fmt: str = "jsonl",
    incidents_per_day: float | None = None,
) -> None:
    """Score the input on this machine, stream by stream, and say what was done."""
    from soc_anomaly.data.event_stream import read_event_chunks, read_source_chunks
    from soc_anomaly.data.input_source import open_input
    from soc_anomaly.data.io import atomic_write
    from soc_anomaly.model.incident_scoring import IncidentStream, IncidentWriter, linker_of
    from soc_anomaly.model.scoring import (
        ScoredWriter,
        input_columns,
        score_stream,
        training_overlap,
    )
    from soc_anomaly.model.stream import StreamScorer, history_context

    if history == "-" and input_path == "-":
        raise ParameterError("--history and --input are both standard input; expected files")
    wanted = input_columns(model, columns, label_col, out_fmt)
    scorer = StreamScorer(model, reasons=reasons)
    if history is not None:
        if model.featurizer_ is None or not hasattr(model.featurizer_, "beacon_intervals"):
            err.print(
                f"note: --history is not read: {model.features} features are per event",
                soft_wrap=True,
            )
        else:
            # The history is told by its own name or content: --input-format is the input's.
            chunks = read_event_chunks(history, None, chunk_rows, on_error, wanted)
            scorer.prime(history_context(model, (c.events for c in chunks)))
    collector = None
    # Nothing is renamed into place before everything that can fail has run: the
    # report is written to its temporary file and the closing lines are checked
    # inside the output's block; the output is renamed when it ends, the report after.
    with contextlib.ExitStack() as stack, open_input(input_path, input_fmt) as source:
        if source.note:
            err.print(f"note: {source.note}", soft_wrap=True)
        chunks = read_source_chunks(source, input_path, chunk_rows, on_error, wanted)
        report_tmp = None
        if report is not None:
            from soc_anomaly.reporting.score_report import ScoreReportCollector

            # Bounded memory: the report keeps the top alerts and a histogram, not the events.
            collector = ScoreReportCollector(label_col=label_col)
            report_tmp = stack.enter_context(atomic_write(report))
        linker = linker_of(model)
        stream = None
        if linker is not None:
            incident_writer = None
            if incidents is not None:
                # Made now (a folder that cannot be written fails before any scoring),
                # renamed into place only after the output, when everything has run.
                incident_writer = IncidentWriter(
                    incidents, incidents_fmt, manifest, linker.candidate_score
                )
                incident_writer.open(stack.enter_context(atomic_write(incidents)))
                stack.callback(incident_writer.close)
            stream = IncidentStream(linker, incidents_per_day, incident_writer)
        with ScoredWriter(output_path, out_fmt, manifest, raw_csv=raw_csv) as writer:
            summary = score_stream(
                model,
                chunks,
                writer,
                columns=columns,
                alerts_only=alerts_only,
                label_col=label_col,
                reasons=reasons,
                progress=Progress(quiet),
                scorer=scorer,
                observe=collector,
                incidents=stream,
            )
            if stream is not None and stream.writer is not None:
                stream.writer.close()
            warning = training_overlap(
                getattr(model, "training_", None), summary.first_time, summary.last_time
            )
            if report_tmp is not None and collector is not None:
                from soc_anomaly.reporting.score_report import ScoreRunInfo, score_report_html

                info = ScoreRunInfo(
                    model_dir=model_dir,
                    input_path=input_path,
                    input_format=source.fmt,
                    output_path=output_path,
                    output_format=out_fmt,
                    alerts_only=alerts_only,
                    label_col=label_col,
                    chunk_rows=chunk_rows,
                )
                page = score_report_html(collector, summary, manifest, info)
                try:
                    report_tmp.write_text(page, encoding="utf-8")
                except OSError as exc:
                    raise SocAnomalyError(f"cannot write {report}: {exc.strerror or exc}") from None
    final_lines(summary, output_path, out_fmt, manifest, quiet)
    if warning:
        err.print(f"warning: {warning}", soft_wrap=True)
    if report is not None and not quiet:
        err.print(f"Wrote the report to {report}", soft_wrap=True)
