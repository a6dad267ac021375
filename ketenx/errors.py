"""One error root for everything ketenx reports to a user.

The library raises; only the CLI turns an error into an exit code (``ketenx._cli.main``).
Every message here is written by ketenx itself and must never carry a value from the data
or a secret: it names files, records, fields and rules only.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes of every ketenx command."""

    OK = 0
    REJECTED = 1  # the data, signature or delivery was checked and rejected
    USAGE = 2  # the command line is wrong
    OPERATIONAL = 3  # I/O, contract, keys: the check could not be carried out


class KetenxError(Exception):
    """Root of all expected ketenx failures."""

    exit_code: ExitCode = ExitCode.OPERATIONAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The user-facing text: one line, plus an optional hint line."""
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class UsageError(KetenxError):
    """The command line asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class OperationalError(KetenxError):
    """A file, contract or key could not be used."""

    exit_code = ExitCode.OPERATIONAL


class ContractError(OperationalError):
    """The contract cannot be read or is not a valid exchange contract."""


class InputFileError(OperationalError):
    """An input file is missing or unreadable (not: malformed; that is a finding)."""


class KeyMaterialError(OperationalError):
    """A secret or key is missing, unsafe or unusable."""


class RejectedError(KetenxError):
    """Data, a signature or a delivery was checked and rejected."""

    exit_code = ExitCode.REJECTED


class VerificationError(RejectedError):
    """A signature, digest or signer check failed."""


class Terminated(BaseException):
    """SIGTERM, SIGHUP or SIGINT arrived: raised where the program is, so that every ``finally``
    and context manager cleans up (partial outputs, private work folders) as on Ctrl-C.
    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals that arrived while the command ran. Kept besides raising :class:`Terminated`:
#: code that catches every exception — C extensions do while they are imported — can swallow
#: the raise, and an output must then still not be published (:func:`raise_if_signalled`).
_SIGNALLED: list[int] = []


def note_signal(signum: int) -> None:
    _SIGNALLED.append(signum)


def clear_signals() -> None:
    _SIGNALLED.clear()


def raise_if_signalled() -> None:
    """Raise :class:`Terminated` when a signal arrived (and was perhaps swallowed): called
    just before an output is made visible, so that a stopped run never publishes one."""
    if _SIGNALLED:
        raise Terminated(_SIGNALLED[0])
