"""The progress display of every long command: records, percentage of the bytes read and
the time left, on stderr.

On a terminal (and not in CI) a `rich` progress bar, removed when the work is done. With
``--progress`` where stderr is no terminal (a CI log, a pipe): a plain line every few
seconds and one at the end, without terminal escape codes. Otherwise nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

PROGRESS_OPTION = typer.Option(
    None,
    "--progress/--no-progress",
    help="Progress on stderr: records, % of the input read, time left (default: on a "
    "terminal outside CI; in a log, plain lines).",
)
PLAIN_EVERY = 5.0  # seconds between plain progress lines


def wanted(flag: bool | None) -> bool:
    """``--progress``/``--no-progress`` decide; by default only on a terminal outside CI."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not os.environ.get("CI")


def size_of(path: str | Path) -> int | None:
    """The size of a regular file (the total to show a percentage of), else ``None``."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if st.st_size > 0 and (st.st_mode & 0o170000) == 0o100000 else None


class _Plain:
    """Plain lines for logs: ``label: 120,000 records, 34% of 56.2 MB read, 12 s left``."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.started = self.last = time.monotonic()
        self.done_records = self.done_bytes = 0

    def records(self, done: int) -> None:
        self.done_records = done
        now = time.monotonic()
        if now - self.last >= PLAIN_EVERY:
            self.last = now
            self._line()

    def read(self, done: int) -> None:
        self.done_bytes = done

    def _line(self) -> None:
        noun = "record" if self.done_records == 1 else "records"
        text = f"{self.label}: {self.done_records:,} {noun}"
        if self.total:
            share = min(self.done_bytes / self.total, 1.0)
            text += f", {share:.0%} of {self.total / 1e6:.1f} MB read"
            elapsed = time.monotonic() - self.started
            if 0 < share < 1:
                text += f", {elapsed / share - elapsed:.0f} s left"
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        self._line()


class _Bar:
    """A `rich` bar on a terminal: records, percentage of the bytes, time left."""

    def __init__(self, label: str, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(label, total=total, records=0)

    def records(self, done: int) -> None:
        self._bar.update(self._task, records=done)

    def read(self, done: int) -> None:
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        self._bar.stop()


@contextlib.contextmanager
def display(label: str, total: int | None, flag: bool | None) -> Iterator[Any]:
    """A :class:`ketenx.progress.Progress` for one pass, or ``None`` when none is wanted."""
    if not wanted(flag):
        yield None
        return
    shown: _Plain | _Bar = _Bar(label, total) if sys.stderr.isatty() else _Plain(label, total)
    try:
        yield shown
    finally:
        shown.close()
