"""Private work folders beside a destination, and publishing their result in one rename.

``pack`` and ``unpack`` never write plaintext, or a half-made output, where anyone else can
see it: they work in a private folder ``.ketenx-XXXXXXXX`` (mode 0700) created in the
destination's folder (so the final move is a rename on one file system, never a copy
through the system temporary folder), and the result appears under its name only when it
is complete.

A work folder is removed when the run ends, also on an error or a signal (the CLI turns
SIGTERM and SIGHUP into an exception, so this cleanup runs). A run killed outright
(SIGKILL, power loss) leaves its folder behind; the next run beside the same destination
removes it. A run holds an exclusive ``flock`` on its folder for as long as it lives, and
writes the marker file ``owner`` only once it holds that lock: a folder whose lock can be
taken and that holds the marker belongs to a run that is gone. A folder without the
marker (a run that is just starting) is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import OperationalError, raise_if_signalled
from .fileio import PRIVATE_MODE, create_new, try_lock

PREFIX = ".ketenx-"
OWNER = "owner"
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def existing_ancestor(folder: Path) -> Path:
    """``folder`` or its nearest existing ancestor (where a work folder can be made)."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OperationalError(f"{folder}: exists and is not a folder")
    return folder


def make_parents(folder: Path) -> None:
    """Create ``folder`` and its missing parents (modes as the umask says)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OperationalError(f"{folder}: exists and is not a folder") from None
    except OSError as exc:
        raise OperationalError(f"{folder}: cannot create the folder: {exc.strerror}") from None


def remove_stale(base: Path) -> None:
    """Remove the work folders in ``base`` that runs killed outright left behind.

    Only a real folder (not a link) named ``.ketenx-*``, owned by this user, mode 0700,
    holding the ``owner`` marker, whose lock nobody holds. Best effort: a folder that
    cannot be examined is left alone."""
    try:
        names = [n for n in os.listdir(base) if n.startswith(PREFIX)]
    except OSError:
        return
    for name in names:
        path = base / name
        try:
            info = os.lstat(path)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            if stat.S_IMODE(info.st_mode) != 0o700 or not os.path.lexists(path / OWNER):
                continue
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if try_lock(fd):
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
        finally:
            os.close(fd)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back while cleaning up, so that cleanup runs whole."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    except (OSError, ValueError):  # pragma: no cover - no signal support
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def work_folder(destination: Path) -> Iterator[Path]:
    """A private (0700), locked work folder in ``destination``'s folder (or its nearest
    existing ancestor, when that folder does not exist yet), removed afterwards.

    Stale work folders of killed runs found there are removed first."""
    base = existing_ancestor(Path(os.path.abspath(destination)).parent)
    remove_stale(base)
    try:
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))  # mode 0700
    except OSError as exc:
        raise OperationalError(f"{base}: cannot create a work folder: {exc.strerror}") from None
    fd = -1
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        with create_file(path / OWNER) as marker:
            marker.write(f"{os.getpid()}\n".encode())
        yield path
    finally:
        with _signals_blocked():
            shutil.rmtree(path, ignore_errors=True)
            if fd >= 0:
                os.close(fd)


def create_file(path: Path, *, private: bool = False) -> BinaryIO:
    """A new file for writing (never an existing one, never through a link): mode 0600
    whatever the umask when ``private``, else 0666 less the umask."""
    try:
        fd = create_new(path, PRIVATE_MODE if private else None)
    except OSError as exc:
        raise OperationalError(f"{path}: cannot create: {exc.strerror}") from None
    return os.fdopen(fd, "wb")


def finish(handle: BinaryIO) -> None:
    """Flush ``handle`` to the disk (a full disk shows here, not after publishing)."""
    handle.flush()
    os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(source: Path, target: Path, *, folder: bool) -> None:
    """Move the finished ``source`` from a work folder to ``target`` in one rename.

    A folder replaces only a missing or empty folder; a file replaces a missing or regular
    file. Missing parents of ``target`` are created first."""
    raise_if_signalled()  # a stopped run never publishes its output
    make_parents(target.parent)
    try:
        if folder:
            os.rename(source, target)
        else:
            if target.is_dir():
                raise OperationalError(f"{target}: is a directory, not a file")
            os.replace(source, target)
    except OSError as exc:
        if folder and exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise OperationalError(
                f"{target}: exists and is not an empty folder; refusing to overwrite"
            ) from None
        raise OperationalError(f"{target}: cannot write: {exc.strerror}") from None
    _sync_folder(target.parent)
