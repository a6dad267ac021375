"""Progress of long work, as the library reports it: records done and bytes read.

The library calls a :class:`Progress` (any object with these two methods) and never draws
anything; the command line draws it (:mod:`ketenx._cli._progress`). Nothing from the data
passes through it: counts only.
"""

from __future__ import annotations

import io
from typing import IO, Any, Protocol, cast


class Progress(Protocol):
    """Told how far a pass is: records done, bytes of the input read (totals so far)."""

    def records(self, done: int) -> None: ...

    def read(self, done: int) -> None: ...


class _Counted(io.RawIOBase):
    """A binary stream that tells a :class:`Progress` how many bytes were read from it."""

    def __init__(self, stream: IO[bytes], progress: Progress) -> None:
        self._stream = stream
        self._progress = progress
        self._done = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._done += len(data)
        self._progress.read(self._done)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def peek(self, size: int = 0) -> bytes:
        peek = getattr(self._stream, "peek", None)
        return bytes(peek(size)) if callable(peek) else b""


def counted(stream: IO[bytes], progress: Progress | None) -> IO[bytes]:
    """``stream``, counting the bytes read from it into ``progress`` (when there is one)."""
    if progress is None:
        return stream
    return cast(IO[bytes], _Counted(stream, progress))
