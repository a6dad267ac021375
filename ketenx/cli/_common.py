"""Options and helpers shared by the commands (wiring only)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ..contract import Contract

CONTRACT_OPTION = typer.Option(
    ...,
    "--contract",
    "-c",
    envvar="KETENX_CONTRACT",
    help="The exchange contract (YAML or JSON).",
    show_default=False,
)


JOBS_OPTION = typer.Option(
    0,
    "--jobs",
    "-j",
    min=0,
    max=9,
    envvar="KETENX_JOBS",
    help="Processes for the pass: 1 keeps everything in this process; 2 or more moves the "
    "keyed operations (HMAC, AES-SIV) to forked helpers (at most 8). 0 (default): 2 when two "
    "cores are free, else 1. The output is the same either way.",
)


def resolve_jobs(jobs: int) -> int:
    """``--jobs 0`` as the number for this machine (the pass itself falls back to one process
    where helpers cannot be forked)."""
    from ..workers import available_jobs

    return available_jobs() if jobs == 0 else jobs


def load_contract(path: Path) -> Contract:
    from ..contract import load_contract as _load

    return _load(path)


def stderr(text: str) -> None:
    sys.stderr.write(text + "\n")


def wants_color(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def show_progress(flag: bool | None) -> bool:
    """``--progress``/``--no-progress`` decide; by default only on a terminal outside CI."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress_printer(label: str) -> Callable[[int], None]:
    last = [0.0]

    def report(records: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25:
            last[0] = now
            sys.stderr.write(f"\r{label}: {records:,} records")
            sys.stderr.flush()

    return report


def end_progress() -> None:
    sys.stderr.write("\r\x1b[K")
    sys.stderr.flush()
