"""Options and helpers shared by the commands (wiring only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ..contract.model import Contract

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
    from ..transform.workers import available_jobs

    return available_jobs() if jobs == 0 else jobs


def load_contract(path: Path) -> Contract:
    from ..contract.model import load_contract as _load

    return _load(path)


def stderr(text: str) -> None:
    """One message on stderr; key material in it is never repeated (a name or path that
    holds some is withheld)."""
    from ..storage.material import withhold_key_material

    sys.stderr.write(withhold_key_material(text) + "\n")


def wants_color(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
