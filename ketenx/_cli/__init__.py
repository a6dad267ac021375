"""The ``ketenx`` command line: a thin typer layer over the library.

Every expected failure is a :class:`ketenx.errors.KetenxError`, caught once in :func:`main`
and turned into one message on stderr and its documented exit code. Heavy modules are
imported inside the commands, so that ``ketenx --version`` starts fast.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer

from .._version import __version__
from ..errors import (
    ExitCode,
    KetenxError,
    OperationalError,
    Terminated,
    clear_signals,
    note_signal,
    raise_if_signalled,
)
from ..storage.fileio import shown_path
from ..storage.material import withhold_key_material
from ._polish import polish
from ._wording import cli_wording

app = typer.Typer(
    name="ketenx",
    help="Schema-check, pseudonymise, sign and seal datasets for the next agency in the chain.",
    epilog=(
        "Environment: NO_COLOR turns colour off; with CI set there is no progress display"
        " unless --progress; the variables behind options are shown with them."
    ),
    no_args_is_help=True,
    add_completion=True,
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
        False, "--debug", help="Show a traceback for failures (also KETENX_DEBUG=1)."
    ),
) -> None:
    """ketenx: prepare a dataset for the hop to the next agency."""
    _state["debug"] = debug or _env_flag("KETENX_DEBUG")


def _env_flag(name: str) -> bool:
    """An environment switch: on unless unset, empty, 0, false, no or off (any case)."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _register() -> None:
    from . import check, contract, keys, pack, partners, privacy, pseudonymise, sign

    check.register(app)
    contract.register(app)
    pseudonymise.register(app)
    sign.register(app)
    pack.register(app)
    privacy.register(app)
    keys.register(app)
    partners.register(app)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ketenx`` console script; exits with the documented code.

        Usage errors are reported by typer (exit 2); every :class:`KetenxError` is caught here,
        once, and becomes one line on stderr with its exit code. ``--debug`` (or ``KETENX_DEBUG``
    set to a true value: ``1``, ``true``, ``yes``, ``on``) prints the traceback first; the exit
    code stays the documented one. SIGTERM, SIGHUP and SIGINT (Ctrl-C) stop the command with
    every cleanup (:class:`Terminated`), one ``ketenx: error:`` line, and then end the process
    by that signal (a shell shows 128 + its number: 130 for Ctrl-C).
    """
    command = typer.main.get_command(app)
    polish(command, debug=lambda: _state["debug"])
    args = list(sys.argv[1:] if argv is None else argv)
    clear_signals()
    with _termination_raises() as stopped:
        try:
            _main(command, args)
            raise_if_signalled()  # a signal whose raise was swallowed still stops the run
        except Terminated as exc:
            stopped.append(exc.signum)
            sys.stderr.write(
                f"ketenx: error: stopped by {signal.Signals(exc.signum).name}; "
                "no partial output was left\n"
            )
    if stopped:  # die of the signal, as the sender of SIGTERM/SIGHUP expects
        signal.signal(stopped[0], signal.SIG_DFL)
        os.kill(os.getpid(), stopped[0])
        sys.exit(128 + stopped[0])  # pragma: no cover - not reached


def _raise_terminated(signum: int, frame: Any) -> None:
    note_signal(signum)
    raise Terminated(signum)


@contextmanager
def _termination_raises() -> Iterator[list[int]]:
    """SIGTERM, SIGHUP and SIGINT (Ctrl-C) raise :class:`Terminated` while the command runs
    (main thread only; the previous handlers come back afterwards). Ctrl-C too: click would
    turn it into "Aborted!" and exit 1, which a pipeline reads as "data rejected"."""
    previous: dict[signal.Signals, Any] = {}
    try:
        for which in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            previous[which] = signal.signal(which, _raise_terminated)
    except ValueError:  # not the main thread: leave the handlers alone
        pass
    try:
        yield []
    finally:
        for which, handler in previous.items():
            signal.signal(which, handler)


def _main(command: Any, args: list[str]) -> None:
    _refuse_key_material_arguments(args)
    original = sys.stdout
    # Started with standard output closed: writing is an error. Otherwise a failing write
    # (full disk, broken pipe) becomes an OperationalError before click sees it (click would
    # turn a broken pipe into a silent exit 1, "rejected").
    sys.stdout = _ClosedStdout() if original is None else _GuardedStdout(original)
    try:
        try:
            command.main(args=args, prog_name="ketenx", standalone_mode=True)
        finally:
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except KetenxError as exc:
        if _state["debug"]:
            traceback.print_exc(file=sys.stderr)
        text = cli_wording(exc).diagnostics()  # a refusal about an option, in its terms
        sys.stderr.write(withhold_key_material(f"ketenx: error: {text}") + "\n")
        sys.exit(int(exc.exit_code))
    except OSError as exc:  # reading or writing failed where no KetenxError says more
        if _state["debug"]:
            traceback.print_exc(file=sys.stderr)
        where = f"{shown_path(exc.filename)}: " if exc.filename else ""
        sys.stderr.write(
            withhold_key_material(
                f"ketenx: error: {where}input/output error: {exc.strerror or exc}"
            )
            + "\n"
        )
        sys.exit(int(ExitCode.OPERATIONAL))
    finally:
        if isinstance(sys.stdout, _GuardedStdout) and sys.stdout.failed:
            _silence_stdout(original)
        sys.stdout = original


def _refuse_key_material_arguments(args: Sequence[str]) -> None:
    """Key material on the command line is refused before click sees it: click would repeat an
    argument it cannot place (a PEM block starts like an option)."""
    from ..storage.material import unmistakably_key_material

    if any(unmistakably_key_material(arg) for arg in args):
        sys.stderr.write(
            "ketenx: error: an argument looks like key material (not shown): keys and secrets "
            "are given as a file path only, never on the command line\n"
        )
        sys.exit(int(ExitCode.USAGE))


class _GuardedStdout:
    """Standard output whose write failures are :class:`OperationalError` (exit 3)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    failed = False

    def _guard(self, exc: OSError) -> OperationalError:
        self.failed = True  # main() silences the stream before exit: its flush would fail again
        return OperationalError(f"cannot write the output: {exc.strerror or exc}")

    def write(self, text: str) -> int:
        try:
            raw = getattr(self._stream, "buffer", None)
            if not isinstance(raw, io.RawIOBase):
                return int(self._stream.write(text))
            # Unbuffered (python -u, PYTHONUNBUFFERED): a TextIOWrapper over a raw file drops
            # the rest of a short write (a pipe whose reader went away). Write all, or fail.
            self._stream.flush()
            encoding = self._stream.encoding or "utf-8"
            view = memoryview(text.encode(encoding, self._stream.errors or "strict"))
            while view:
                written = raw.write(view)
                if not written:
                    raise BlockingIOError(errno.EAGAIN, "the output accepts no more data")
                view = view[written:]
            return len(text)
        except OSError as exc:
            raise self._guard(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._guard(exc) from None


class _ClosedStdout(io.TextIOBase):
    """Standard output when ketenx was started without one: writing to it is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            raise OperationalError("standard output is closed: the output cannot be written")
        return 0


def _silence_stdout(stream: Any) -> None:
    """After a failed write, point stdout at /dev/null so that the flush at exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation, AttributeError):
        pass
