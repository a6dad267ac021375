"""Edge I/O shared by the commands: opening inputs, and writing outputs atomically.

An output file appears only when it is complete: it is written to a temporary file in the
same folder and renamed over the target on success; on any failure the temporary file is
removed and the target is untouched. (A device or named pipe is written as a stream.)
A delivery and its metadata must be files (:func:`is_stream` refuses the rest early).

Permissions: a new output honours the umask, as ``open()`` would (``0666 & ~umask``);
``private=True`` (re-identified data, a recipient's inbox) makes it ``0600`` whatever the umask.
No output may be an input of the same command (:func:`refuse_output_over_inputs`).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import hashlib
import io
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from ..errors import (
    InputFileError,
    KetenxError,
    OperationalError,
    UsageError,
    raise_if_signalled,
)

#: Mode of a private output (:func:`atomic_output` with ``private=True``).
PRIVATE_MODE = 0o600


def open_input(path: str) -> IO[bytes]:
    """Open a data file for binary reading (``-`` is standard input)."""
    if path == "-":
        return sys.stdin.buffer
    return open_file(path)


def open_file(
    path: str | Path,
    *,
    what: str | None = None,
    shown: str | None = None,
    error: type[KetenxError] = InputFileError,
) -> BinaryIO:
    """Open a file for binary reading; every failure is ``error`` naming the file as
    ``shown`` (default :func:`shown_path`) and, when given, ``what`` it is ("contract")."""
    shown = shown_path(path) if shown is None else shown
    noun = f"{what} " if what else ""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise error(f"{shown}: {noun or 'file '}not found") from None
    except IsADirectoryError:
        raise error(f"{shown}: {noun}is a directory, not a file") from None
    except PermissionError:
        raise error(f"{shown}: {noun}permission denied") from None
    except OSError as exc:
        cannot = f"cannot open {what}" if what else "cannot open"
        raise error(f"{shown}: {cannot}: {exc.strerror}") from None


def shown_path(path: str | Path) -> str:
    """A path as messages show it; a "path" that looks like key material (a secret or key
    pasted where a file name belongs) is never repeated."""
    from .material import looks_like_key_material

    text = str(path)
    return (
        "(a path that looks like key material, not shown)"
        if looks_like_key_material(text)
        else text
    )


_PRECIOUS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"KETENX-SECRET-1"), "a pseudonymisation secret"),
    (re.compile(rb"-----BEGIN [A-Z0-9 ]*KEY-----"), "a key"),
    (
        re.compile(rb"AGE-SECRET-KEY-1|\A\s*age1[02-9ac-hj-np-z]{50,}\s*\Z"),
        "an age identity or recipient",
    ),
    (
        re.compile(rb'(?m)^ketenx:\s*1\s*$|\A\s*\{\s*"ketenx"\s*:\s*1\b'),
        "a ketenx contract or partner registry",
    ),
)


def refuse_to_replace_precious(target: Path) -> None:
    """An output never replaces a secret, a key, an age identity or recipient, a contract or
    a partner registry, whichever command writes it (``check -o keys/p.secret`` would
    destroy a secret the command never reads): refused, exit 2."""
    try:
        with open(target, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return  # missing, or unreadable: nothing to protect, or the write fails on its own
    for pattern, kind in _PRECIOUS:
        if pattern.search(head):
            raise UsageError(
                f"{shown_path(target)}: holds {kind}; an output never replaces it",
                hint="choose another output path",
            )


STDOUT = "-"
"""The output name that means standard output (``-o -``)."""


class _Stdout(io.BufferedIOBase):
    """Standard output as a binary file that its writer may not close: its byte buffer, or
    (where standard output is a text stream without one) the text, decoded as it comes."""

    def __init__(self) -> None:
        self._text = sys.stdout
        self._bytes: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._bytes is not None:
            view = memoryview(data)
            while view:  # an unbuffered (python -u) standard output may write part of it
                written = self._bytes.write(view)
                view = view[len(view) if written is None else written :]
        else:
            self._text.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        if self._bytes is not None:
            self._bytes.flush()
        self._text.flush()


@contextlib.contextmanager
def atomic_output(path: str | Path, *, private: bool = False) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically: yields a binary file; renamed into place on success (a
    symbolic link at ``path`` is replaced, as ``mv`` would).

    The new file's mode honours the umask (``0666 & ~umask``, as ``open()`` creates files);
    with ``private`` it is :data:`PRIVATE_MODE` (``0600``) whatever the umask: for personal
    data in the clear. The mode is set when the temporary file is created, so private data
    is never readable by others, not even while it is written.

    A stream is written directly: a path below ``/dev`` or ``/proc`` (``/dev/stdout``) and an
    existing device or named pipe. Renaming over those would, run as root, swap a device node
    or the system's ``/dev/stdout`` link for a regular file.

    The temporary file (``.NAME.<random>.part``) is removed on every failure this process
    sees; one that a run killed outright left behind is removed by the next run that writes
    the same file (:func:`remove_stale_parts`)."""
    if str(path) == STDOUT:  # `-o -`: standard output, written as it comes
        out = _Stdout()
        yield cast(IO[bytes], out)
        out.flush()
        return
    target = Path(path)
    if is_stream(target):
        try:
            stream = open(target, "ab")  # noqa: SIM115 - closed below; "a": never truncates
        except OSError as exc:
            raise OperationalError(f"{target}: cannot write: {exc.strerror}") from None
        with stream:
            yield stream
        return
    folder = target.parent if str(target.parent) else Path(".")
    make_folder(folder, mode=0o755)
    if target.is_dir():
        raise OperationalError(f"{target}: is a directory, not a file")
    refuse_to_replace_precious(target)
    remove_stale_parts(target)
    fd, tmp = _create_temporary(target, folder, private=private)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        raise_if_signalled()  # a stopped run never publishes its output
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting; ``False`` when another process
    holds one (it is alive and working on the file or folder)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


_PART = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}\.part")


def remove_stale_parts(target: Path) -> None:
    """Remove the ``.NAME.<random>.part`` files beside ``target`` that runs killed outright
    (SIGKILL, a crash, a power cut) left behind: only regular files of this user whose lock
    nobody holds — a live run holds the lock on its own until it renames it into place. Best
    effort: a file that cannot be examined is left alone."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".part")]
    except OSError:
        return
    for name in names:
        match = _PART.fullmatch(name)
        if match is None or match["name"] != target.name:
            continue
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and try_lock(fd):
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def create_new(path: Path, mode: int | None = None) -> int:
    """The one exclusive create of ketenx: a new file (never an existing one, never through
    a symbolic link), open for writing; mode exactly ``mode`` whatever the umask, or ``0666``
    less the umask (as ``open()``) when ``mode`` is None. It is created no more open than
    ``0600`` before its mode is set. ``FileExistsError`` and other ``OSError`` are the
    caller's to word."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o666 if mode is None else mode & PRIVATE_MODE)
    if mode is not None:
        try:
            os.fchmod(fd, mode)  # a umask such as 0277 must not make it 0400
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
    return fd


def write_new(path: Path, data: bytes, mode: int) -> None:
    """:func:`create_new` with exactly ``mode``, ``data`` written and synced to the disk; a
    file that could not be written whole is removed (``OSError`` is the caller's to word)."""
    fd = create_new(path, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _create_temporary(target: Path, folder: Path, *, private: bool) -> tuple[int, Path]:
    """A new, exclusively created ``.NAME.<random>.part`` in ``folder``: mode ``0666`` less
    the umask (the kernel applies it), or exactly ``0600`` when ``private``. Its lock is
    held while it is written (:func:`remove_stale_parts` leaves it alone)."""
    for _ in range(100):
        tmp = folder / f".{target.name}.{secrets.token_hex(6)}.part"
        try:
            fd = create_new(tmp, PRIVATE_MODE if private else None)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OperationalError(f"{target}: cannot write in {folder}: {exc.strerror}") from None
        try:
            try_lock(fd)  # a new file: nobody else holds it
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        return fd, tmp
    raise OperationalError(f"{target}: cannot write in {folder}: no free temporary name")


def refuse_output_over_inputs(
    outputs: Iterable[str | Path | None], inputs: Iterable[tuple[str, str | Path | None]]
) -> None:
    """Refuse (:class:`UsageError`, exit 2) when an output of a command is one of its inputs.

    ``inputs`` are ``(kind, path)`` pairs (kind as the user knows it: "data file", "signing
    key"). An output is an input when both name the same file after resolving ``.``, ``..``,
    relative paths and symbolic links, or when both exist and are the same file (same
    device and inode: a hard link). ``-`` (standard input or output) and ``None`` (not
    given) are skipped, and so are character devices (``/dev/null`` may be both). Called
    before anything is read or written."""
    known: list[tuple[str, _Identity]] = []
    for kind, path in inputs:
        identity = _identity(path)
        if identity is not None:
            known.append((kind, identity))
    for output in outputs:
        out = _identity(output)
        if out is None:
            continue
        for kind, identity in known:
            if out[0] == identity[0] or (out[1] is not None and out[1] == identity[1]):
                raise UsageError(
                    f"{output}: the output is an input of this command (the {kind}); "
                    "nothing was written",
                    hint="choose another output path",
                )


_Identity = tuple[str, tuple[int, int] | None]


def _identity(path: str | Path | None) -> _Identity | None:
    """The resolved path of ``path`` (links followed), with ``(st_dev, st_ino)`` when it
    exists; ``None`` for ``-``, ``None`` and a character device."""
    if path is None or str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return os.path.realpath(path), None
    if stat.S_ISCHR(st.st_mode):
        return None
    return os.path.realpath(path), (st.st_dev, st.st_ino)


def make_folder(folder: Path, *, mode: int) -> None:
    """Create ``folder`` and missing parents (new ones get ``mode``, less the umask)."""
    if folder.is_dir():
        return
    try:
        folder.mkdir(mode=mode, parents=True, exist_ok=True)
    except FileExistsError:
        raise OperationalError(f"{folder}: exists and is not a folder") from None
    except OSError as exc:
        raise OperationalError(f"{folder}: cannot create the folder: {exc.strerror}") from None


def is_stream(path: Path) -> bool:
    """Whether ``path`` names a stream rather than a file: below ``/dev`` or ``/proc``, or an
    existing device, socket or named pipe."""
    absolute = Path(os.path.abspath(path))
    if absolute.parts[1:2] in (("dev",), ("proc",)):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open_input(str(path)) as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
