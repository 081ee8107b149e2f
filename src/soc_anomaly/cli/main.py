"""One Typer app; each command lives in its own module and stays thin.

:func:`main` is the console entry point. It runs the app in click's
non-standalone mode so that *every* user error, whether click's own (a bad
flag value) or the toolkit's (a bad file), is printed the same way: one line
on stderr, exit code 2, no traceback.

An interrupt is one line too. Ctrl-C (SIGINT) and, while :func:`main` runs,
SIGTERM raise ``KeyboardInterrupt`` (:mod:`soc_anomaly.interrupts`), so every
command cleans up the same way: temporary files removed, nothing half-written
renamed into place, finished results written where a command keeps them. The
line is ``interrupted: ...`` or ``interrupted (SIGTERM): ...``, followed by
what the command kept when it says so (the interrupt's message), and the exit
code is 128 + the signal number: 130 or 143.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from soc_anomaly.cli.benchmark import benchmark
from soc_anomaly.cli.detect import detect
from soc_anomaly.cli.diff import diff
from soc_anomaly.cli.generate import generate
from soc_anomaly.cli.score import score
from soc_anomaly.cli.serve import serve
from soc_anomaly.cli.train import train
from soc_anomaly.errors import SocAnomalyError
from soc_anomaly.interrupts import interrupt_signal, raise_on_sigterm


class _Interrupted(Exception):
    """A command's interrupt, carried past Typer (which would return 130 and drop it)."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__(str(interrupt))
        self.interrupt = interrupt


class _Group(TyperGroup):
    """The command group; an interrupt inside a command reaches :func:`main` whole."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted(exc) from exc


app = typer.Typer(
    cls=_Group,
    name="soc-anomaly",
    help=(
        "Build, evaluate and explain unsupervised anomaly detectors for security "
        "telemetry on seeded synthetic SOC data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click hands these to every command's context, so `-h` works everywhere.
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("generate")(generate)
app.command("detect")(detect)
app.command("diff")(diff)
app.command("benchmark")(benchmark)
app.command("train")(train)
app.command("serve")(serve)
app.command("score")(score)


def _version(value: bool) -> None:
    if value:
        from soc_anomaly import __version__

        typer.echo(f"soc-anomaly {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Build, evaluate and explain unsupervised anomaly detectors for security telemetry."""


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main(argv: Sequence[str] | None = None, prog_name: str = "soc-anomaly") -> int:
    """Run the command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` if None.
    prog_name : str, default="soc-anomaly"
        Name shown in usage lines.

    Returns
    -------
    int
        0 on success, 2 on bad input, 130 when interrupted by SIGINT (Ctrl-C),
        143 by SIGTERM. Run as the command (``argv`` None) and interrupted while
        a thread is still blocked (reading a pipe that stays open), it exits with
        that code after the clean-up instead of returning.
    """
    command = typer.main.get_command(app)
    try:
        with raise_on_sigterm():
            rv = command.main(
                args=list(sys.argv[1:] if argv is None else argv),
                prog_name=prog_name,
                standalone_mode=False,
            )
    except _Interrupted as exc:
        code = _interrupted(exc.interrupt)
        if argv is None and _threads_left():
            # Run as the command, cleaned up and said: a thread still blocked reading a
            # pipe that stays open (score's read-ahead) would hold the exit until the
            # pipe closed, and a supervisor's SIGKILL would then leave files behind.
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
        return code
    except SocAnomalyError as exc:
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        return 2
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        return 130
    except Exception as exc:
        # Usage errors (unknown flag, bad value) come from the click that
        # Typer uses, vendored or not; recognise them by their interface.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None):
            typer.echo(exc.ctx.get_help())
            return 0
        typer.echo(f"error: {_one_line(exc.format_message())}", err=True)
        return int(exc.exit_code)
    return rv if isinstance(rv, int) else 0


def _threads_left() -> bool:
    """Whether a thread the interpreter would wait for at exit is still running."""
    main_thread = threading.main_thread()
    return any(t is not main_thread and not t.daemon for t in threading.enumerate())


def _interrupted(interrupt: KeyboardInterrupt) -> int:
    """Say in one line that the run was interrupted (and what it kept); the exit code."""
    signum = interrupt_signal(interrupt)
    which = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
    detail = _one_line(str(interrupt))
    typer.echo(f"interrupted{which}{': ' + detail if detail else ''}", err=True)
    return 128 + signum


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
