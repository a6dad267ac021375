"""Edge I/O shared by the commands: opening inputs, and writing outputs atomically.

An output file appears only when it is complete: it is written to a temporary file in the
same folder and renamed over the target on success; on any failure the temporary file is
removed and the target is untouched. (A device or named pipe is written as a stream.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
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
    """Write ``path`` atomically: yields a binary file; renamed into place on success.

    A symbolic link is followed: the file it points to is replaced, the link stays. A device
    or named pipe (``/dev/stdout``, a FIFO) is a stream, not a file: it is written directly
    (replacing it would, run as root, swap a device node for a regular file)."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_file() and not target.is_dir():
        try:
            stream = open(target, "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise OperationalError(f"{target}: cannot write: {exc.strerror}") from None
        with stream:
            yield stream
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OperationalError(f"{target}: the folder {folder} does not exist")
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


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open_input(str(path)) as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
