"""Edge I/O shared by the commands: opening inputs, and writing outputs atomically.

An output file appears only when it is complete: it is written to a temporary file in the
same folder and renamed over the target on success; on any failure the temporary file is
removed and the target is untouched. (A device or named pipe is written as a stream.)
A delivery and its metadata must be files (:func:`is_stream` refuses the rest early).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import InputFileError, OperationalError


def open_input(path: str) -> IO[bytes]:
    """Open a data file for binary reading (``-`` is standard input)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputFileError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot open: {exc.strerror}") from None


@contextlib.contextmanager
def atomic_output(path: str | Path, *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically: yields a binary file; renamed into place on success (a
    symbolic link at ``path`` is replaced, as ``mv`` would).

    A stream is written directly: a path below ``/dev`` or ``/proc`` (``/dev/stdout``) and an
    existing device or named pipe. Renaming over those would, run as root, swap a device node
    or the system's ``/dev/stdout`` link for a regular file."""
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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OperationalError(f"{target}: cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
