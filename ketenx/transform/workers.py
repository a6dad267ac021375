"""The keyed operations (HMAC-SHA-256 pseudonyms, AES-SIV ciphertexts) in helper processes.

They are the costliest part of a pseudonymise pass (a few µs per value, all in C, but under
the GIL). With ``jobs=2`` a helper process computes them for one batch while this process
reads, checks, treats and writes the next: the pass then takes about as long as its
keyless part.

Security: a helper is a *fork* of this process. It inherits the domain keys in memory, so no
key or secret ever crosses a pipe; the normalised values to be keyed go to it, and their
pseudonyms or ciphertexts come back, over a local pipe between two processes of the same
user, never touching the disk. Results come back in submission order, so the output is
byte for byte the one ``jobs=1`` writes. Only where ``fork`` is the safe, native way to start
a process (Linux); elsewhere everything runs in this process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Protocol

from ..errors import KetenxError, OperationalError

# (treatment, input field, normalised texts): one column of one batch to be keyed.
KeyedTask = tuple[str, str, list[str]]


class KeyedOps(Protocol):
    def pseudonymise_many(self, values: Sequence[str]) -> list[str]: ...

    def encrypt_many(self, values: Sequence[str], field: str) -> list[str]: ...


def run_tasks(keyring: KeyedOps, tasks: Sequence[KeyedTask]) -> list[list[str]]:
    """Key every column of ``tasks``, in order."""
    return [
        keyring.pseudonymise_many(texts)
        if treatment == "pseudonymise"
        else keyring.encrypt_many(texts, field)
        for treatment, field, texts in tasks
    ]


MAX_HELPERS = 8  # more would only hold more batches in memory: this process is the bottleneck


def can_fork() -> bool:
    """Whether helpers may be forked from here: on Linux, from a process that is not itself a
    daemonic multiprocessing worker and runs no other thread (a fork copies only the calling
    thread, and a lock another thread held would stay locked in the helper)."""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
        and threading.active_count() == 1
    )


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_jobs() -> int:
    """What ``--jobs 0`` (automatic) means here: 2 when this process may use two or more
    cores and helpers can be forked, else 1. (One helper suffices: this process stays the
    bottleneck.)"""
    return 2 if can_fork() and usable_cores() >= 2 else 1


# --- inside a helper ----------------------------------------------------------------------------

_Failure = tuple[str, type[KetenxError] | None, str, str | None]


def _serve(conn: Connection, keyring: KeyedOps, inherited: list[Connection]) -> None:
    """A helper's loop: receive tasks, send their results, until the parent says stop or
    hangs up."""
    # Ctrl-C goes to the whole process group: the parent handles it and ends its helpers.
    # (SIGINT is blocked from before the fork until here: no traceback from a helper.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for other in inherited:  # the parent's ends, copied by the fork: only the parent's count
        other.close()
    # Whatever happens (the parent hangs up or goes), never a traceback from a helper.
    with contextlib.suppress(BaseException):
        while (tasks := conn.recv()) is not None:
            try:
                reply: list[list[str]] | _Failure = run_tasks(keyring, tasks)
            except KetenxError as exc:  # sent back as class, message, hint: never a value
                reply = ("error", type(exc), exc.message, exc.hint)
            except BaseException:  # anything else: no text at all (it could hold a value)
                reply = ("error", None, "", None)
            conn.send(reply)
    try:
        conn.close()
    finally:
        os._exit(0)  # no cleanup of what the fork copied (buffers, atexit handlers)


# --- in this process ----------------------------------------------------------------------------


class KeyedHelpers:
    """Forked helper processes that run :func:`run_tasks` for this process.

    Each helper has one task in flight at most: :meth:`submit` hands it one batch's tasks
    and :meth:`result` collects them, in the same order. A helper only sends while this
    process is about to receive, so neither side can block the other on a full pipe, and no
    thread is needed on either side.
    """

    def __init__(self, keyring: KeyedOps, workers: int = 1) -> None:
        context = multiprocessing.get_context("fork")
        # A fork copies unflushed stdio buffers; flush them so nothing is written twice.
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None when the descriptor is closed
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
        self._helpers: list[tuple[Connection, multiprocessing.process.BaseProcess]] = []
        self._next = 0
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for _ in range(min(max(workers, 1), MAX_HELPERS)):
                mine, theirs = context.Pipe()
                inherited = [mine, *(conn for conn, _ in self._helpers)]
                process = context.Process(
                    target=_serve,
                    args=(theirs, keyring, inherited),
                    name="ketenx-keyed",
                    daemon=True,
                )
                try:
                    process.start()
                finally:
                    theirs.close()
                self._helpers.append((mine, process))
        except OSError as exc:
            self.close()
            raise OperationalError(
                f"cannot start a helper process: {exc.strerror or exc}",
                hint="run with --jobs 1",
            ) from None
        except BaseException:
            self.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.busy = [False] * len(self._helpers)

    @property
    def next_ticket(self) -> int:
        """The helper the next :meth:`submit` goes to."""
        return self._next

    def submit(self, tasks: list[KeyedTask]) -> int:
        """Send ``tasks`` to the next helper (which must be idle); returns its ticket."""
        ticket = self._next
        self._next = (ticket + 1) % len(self._helpers)
        assert not self.busy[ticket], "collect a helper's result before its next task"
        try:
            self._helpers[ticket][0].send(tasks)
        except OSError:
            raise _broken() from None
        self.busy[ticket] = True
        return ticket

    def result(self, ticket: int) -> list[list[str]]:
        """The results of the tasks submitted with ``ticket``, or the error they raised."""
        try:
            reply = self._helpers[ticket][0].recv()
        except (EOFError, OSError):
            raise _broken() from None
        self.busy[ticket] = False
        if isinstance(reply, tuple):
            _, cls, message, hint = reply
            if cls is None:
                raise OperationalError(
                    "a helper process for the keyed operations failed; nothing was written",
                    hint="run again with --jobs 1 (and --debug) to see why",
                )
            try:
                error = cls(message, hint=hint)
            except TypeError:  # an error class built otherwise: its message, as a failure
                error = OperationalError(message, hint=hint)
            raise error
        results: list[list[str]] = reply
        return results

    def close(self) -> None:
        """Stop every helper and wait for it to end (end it if it does not)."""
        for conn, _ in self._helpers:
            with contextlib.suppress(OSError):
                conn.send(None)  # stop; a helper blocked on send sees the pipe close instead
            conn.close()
        for _, process in self._helpers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        self._helpers = []


def _broken() -> OperationalError:
    return OperationalError(
        "a helper process for the keyed operations stopped unexpectedly; nothing was written",
        hint="run again with --jobs 1",
    )
