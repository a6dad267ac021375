"""The ``ketenx`` command line: a thin typer layer over the library.

Every expected failure is a :class:`ketenx.errors.KetenxError`, caught once in :func:`main`
and turned into one message on stderr and its documented exit code. Heavy modules are
imported inside the commands, so that ``ketenx --version`` starts fast.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Sequence

import typer

from .. import __version__
from ..errors import ExitCode, KetenxError, OperationalError

app = typer.Typer(
    name="ketenx",
    help="Schema-check, pseudonymise, sign and seal datasets for the next agency in the chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ketenx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", envvar="KETENX_DEBUG", help="Show a traceback for failures."
    ),
) -> None:
    """ketenx: prepare a dataset for the hop to the next agency."""
    _state["debug"] = debug


def _register() -> None:
    from . import check, contract, keys, pack, partners, pseudonymise, sign

    check.register(app)
    contract.register(app)
    pseudonymise.register(app)
    sign.register(app)
    pack.register(app)
    keys.register(app)
    partners.register(app)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ketenx`` console script; exits with the documented code.

        Usage errors are reported by typer (exit 2); every :class:`KetenxError` is caught here,
        once, and becomes one line on stderr with its exit code. ``--debug`` (or ``KETENX_DEBUG``
    set to a true value: ``1``, ``true``, ``yes``, ``on``) prints the traceback first; the exit
    code stays the documented one.
    """
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with standard output closed
        sys.stdout = _ClosedStdout()
    try:
        try:
            command.main(args=args, prog_name="ketenx", standalone_mode=True)
        finally:
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except KetenxError as exc:
        if _state["debug"]:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"ketenx: error: {exc.diagnostics()}\n")
        sys.exit(int(exc.exit_code))
    except OSError as exc:  # writing the output failed: an operational error
        if _state["debug"]:
            traceback.print_exc(file=sys.stderr)
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
        sys.stderr.write(f"ketenx: error: cannot write the output: {exc.strerror or exc}\n")
        sys.exit(int(ExitCode.OPERATIONAL))


class _ClosedStdout(io.TextIOBase):
    """Standard output when ketenx was started without one: writing to it is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            raise OperationalError("standard output is closed: the output cannot be written")
        return 0


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so that the flush at exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
