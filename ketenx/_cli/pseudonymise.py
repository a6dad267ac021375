"""``ketenx pseudonymise`` and ``ketenx reidentify``."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._common import CONTRACT_OPTION, JOBS_OPTION, load_contract, resolve_jobs, stderr
from ._inputs import contract_inputs
from ._progress import PROGRESS_OPTION, display, size_of
from .check import DELIMITER_HELP, ENCODING_OPTION, InputFormatChoice

if TYPE_CHECKING:
    from ..exchange.results import PackResult, PseudonymiseResult

SECRET_OPTION = typer.Option(
    None,
    "--secret",
    "-s",
    help="Pseudonymisation secret file (made by `ketenx keys new-secret`); or KETENX_SECRET_FILE. "
    "Never a value on the command line.",
    show_default=False,
)


UNSAFE_SKIP_RISK_OPTION = typer.Option(
    False,
    "--unsafe-skip-risk",
    help="Do not enforce the contract's re-identification thresholds (k, l, risk). Warned "
    "about and recorded in the metadata and the signed statement.",
)


def skip_risk_warning(recorded_in: str) -> str:
    """The warning of ``--unsafe-skip-risk``, naming where the skip is recorded."""
    return (
        "ketenx: warning: --unsafe-skip-risk: the contract's re-identification thresholds are "
        f"not enforced; this is recorded in the {recorded_in}"
    )


ALLOW_EMPTY_OPTION = typer.Option(
    False,
    "--allow-empty",
    help="Accept an input without records and deliver an empty file (an empty export "
    "usually means a broken pipeline, so it is refused by default).",
)


def secret_path(secret: str | None) -> str | None:
    """The secret file the command will read: ``--secret``, else ``KETENX_SECRET_FILE``."""
    from ..storage.secrets import ENV_VAR

    return secret if secret is not None else os.environ.get(ENV_VAR)


def secret_file(secret: str | None) -> Path | None:
    """The secret file to hand to the library, if one was given (``--secret`` or
    ``KETENX_SECRET_FILE``); key material given where the path belongs is refused here."""
    from ..storage.secrets import secret_from_env_or_path

    given = secret_path(secret)
    return secret_from_env_or_path(given, {}) if given else None


def left_out(result: PseudonymiseResult | PackResult) -> str:
    """What a summary line says of the records that were not delivered, if any."""
    from ..records.reports import count_of

    dropped, suppressed = result.records_dropped, result.records_suppressed
    return (
        f", {count_of(dropped, 'invalid record')} dropped (--unsafe-skip-check)" if dropped else ""
    ) + (
        f", {count_of(suppressed, 'record')} suppressed to meet the contract's privacy thresholds"
        if suppressed
        else ""
    )


class ToFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"
    PARQUET = "parquet"


def pseudonymise(
    data: str = typer.Argument(
        ..., help="Input file (CSV, JSON Lines, JSON array or Parquet); `-` for stdin."
    ),
    contract: Path = CONTRACT_OPTION,
    secret: str | None = SECRET_OPTION,
    output: Path = typer.Option(..., "--output", "-o", help="The delivery file to write."),
    to: ToFormat | None = typer.Option(
        None,
        "--to",
        help="Output format: csv, jsonl, json (a JSON array) or parquet. Default: the one OUT's "
        "extension names, else the input's.",
    ),
    input_format: InputFormatChoice | None = typer.Option(
        None, "--input-format", help="Input format; by default from the file extension."
    ),
    delimiter: str | None = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
    encoding: str | None = ENCODING_OPTION,
    unsafe_skip_check: bool = typer.Option(
        False,
        "--unsafe-skip-check",
        help="Do not stop at invalid input records: drop them instead. Warned about and "
        "recorded in the metadata.",
    ),
    unsafe_skip_risk: bool = UNSAFE_SKIP_RISK_OPTION,
    allow_empty: bool = ALLOW_EMPTY_OPTION,
    jobs: int = JOBS_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Check, pseudonymise and minimise DATA for the contract's recipient; write OUT and
    OUT.meta.json atomically. A rejected input writes nothing (exit 1)."""
    from .._api.verbs import pseudonymise as _pseudonymise
    from ..exchange.delivery import meta_path_for
    from ..records.reports import count_of
    from ..storage.fileio import refuse_output_over_inputs

    refuse_output_over_inputs(
        [output, meta_path_for(output)],
        [("data file", data), *contract_inputs(contract), ("secret", secret_path(secret))],
    )
    if unsafe_skip_check:
        stderr(
            "ketenx: warning: --unsafe-skip-check: invalid input records are dropped instead of "
            "stopping the run; this is recorded in the delivery metadata"
        )
    if unsafe_skip_risk:
        stderr(skip_risk_warning("delivery metadata"))
    the_contract = load_contract(contract)
    with display(f"ketenx pseudonymise {data}", size_of(data), progress) as shown:
        result = _pseudonymise(
            data,
            the_contract,
            output,
            secret=secret_file(secret),
            to=to.value if to else None,
            input_format=input_format.value if input_format else None,
            delimiter=delimiter,
            skip_check=unsafe_skip_check,
            skip_risk=unsafe_skip_risk,
            allow_empty=allow_empty,
            jobs=resolve_jobs(jobs),
            encoding=encoding,
            progress=shown,
        )
    stderr(
        f"ketenx pseudonymise: {count_of(result.records_out, 'record')} written to {output} "
        f"(metadata in {result.meta_path.name}){left_out(result)}"
    )


def reidentify(
    data: Path = typer.Argument(..., help="A delivery made by `ketenx pseudonymise`."),
    contract: Path = CONTRACT_OPTION,
    secret: str | None = SECRET_OPTION,
    output: Path = typer.Option(
        ..., "--output", "-o", help="Where to write the re-identified file."
    ),
    field: list[str] = typer.Option(
        [], "--field", help="Reverse only this encrypted field (repeatable; input or output name)."
    ),
    meta: Path | None = typer.Option(
        None, "--meta", help="The delivery's metadata sidecar (default: DATA.meta.json)."
    ),
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Reverse the `encrypt` fields of a delivery with the secret that made it; every other
    field is left as it is. One-way fields cannot be reversed (exit 1)."""
    from .._api.verbs import reidentify as _reidentify
    from ..exchange.delivery import meta_path_for
    from ..records.reports import count_of
    from ..storage.fileio import refuse_output_over_inputs

    refuse_output_over_inputs(
        [output],
        [
            ("delivery", data),
            ("delivery metadata", meta or meta_path_for(data)),
            *contract_inputs(contract),
            ("secret", secret_path(secret)),
        ],
    )
    the_contract = load_contract(contract)
    with display(f"ketenx reidentify {data}", size_of(data), progress) as shown:
        result = _reidentify(
            data,
            the_contract,
            output,
            secret=secret_file(secret),
            fields=field,
            meta=meta,
            progress=shown,
        )
    stderr(
        f"ketenx reidentify: {count_of(result.records, 'record')}, "
        f"{len(result.fields)} fields re-identified, written to {output}"
    )
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("pseudonymise")(pseudonymise)
    app.command("reidentify")(reidentify)
