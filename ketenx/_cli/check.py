"""``ketenx check``: validate one or more data files against the contract."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..records.reports import OutputFormat
from ._common import CONTRACT_OPTION, load_contract, stderr, wants_color
from ._inputs import contract_inputs
from ._progress import PROGRESS_OPTION, display, size_of

if TYPE_CHECKING:
    from ..records.readers import InputFormat


class Side(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


ENCODING_OPTION = typer.Option(
    None,
    "--encoding",
    help="Text encoding of the input: utf-8 (default), cp1252, latin-1, iso-8859-15 or utf-16 "
    "(UTF-16 with a byte order mark is recognised without it).",
)
DELIMITER_HELP = (
    "CSV delimiter (`tab` for a tab); by default `,`, `;` or a tab, sniffed from the header."
)


class InputFormatChoice(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"
    PARQUET = "parquet"


def input_formats(data: list[str], choice: InputFormatChoice | None) -> list[InputFormat]:
    """The format of each data file: ``--input-format``, else the name's extension (a usage
    error when neither tells); standard input at most once."""
    from ..errors import UsageError
    from ..records.readers import format_for

    formats: list[InputFormat] = []
    for name in data:
        fmt: InputFormat | None = choice.value if choice else format_for(name)
        if fmt is None:
            raise UsageError(
                f"{name}: cannot tell the input format from the name; use --input-format"
            )
        formats.append(fmt)
    if data.count("-") > 1:
        raise UsageError("standard input can be read only once")
    if any(f == "parquet" and name == "-" for name, f in zip(data, formats, strict=True)):
        from ..records.engine.parquet import NeedsFile

        raise NeedsFile()
    return formats


def check(
    data: list[str] = typer.Argument(
        ...,
        help="Data files (CSV, JSON Lines, a JSON array or Parquet); `-` reads standard input "
        "(not Parquet).",
    ),
    contract: Path = CONTRACT_OPTION,
    format: OutputFormat = typer.Option(
        OutputFormat.TEXT, "--format", "-f", envvar="KETENX_FORMAT", help="Report format."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to this file instead of stdout."
    ),
    max_errors: int = typer.Option(
        1000,
        "--max-errors",
        min=0,
        envvar="KETENX_MAX_ERRORS",
        help="List at most this many errors per file (all are still counted).",
    ),
    input_format: InputFormatChoice | None = typer.Option(
        None,
        "--input-format",
        help="Input format; by default from the file extension (required for stdin).",
    ),
    delimiter: str | None = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
    encoding: str | None = ENCODING_OPTION,
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Accept a file without records."),
    side: Side = typer.Option(
        Side.INPUT,
        "--side",
        help="input: the sender's data against the contract's schema; "
        "output: a delivery against the contract's output schema (as the recipient checks it).",
    ),
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Check data files against the contract; exit 0 when every record is valid, 1 when any
    is not, 3 when a file or the contract cannot be used."""
    from .._api.verbs import check as _check
    from ..records.readers import check_delimiter, check_encoding
    from ..records.reports import count_of
    from ..storage.fileio import atomic_output, refuse_output_over_inputs

    refuse_output_over_inputs(
        [output], [*contract_inputs(contract), *(("data file", d) for d in data)]
    )
    check_delimiter(delimiter)
    check_encoding(encoding)
    input_formats(data, input_format)  # the usage errors, in the command line's words
    the_contract = load_contract(contract)
    result = _check(
        data,
        the_contract,
        side=side.value,
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        encoding=encoding,
        allow_empty=allow_empty,
        max_errors=max_errors,
        progress=lambda name: display(f"ketenx check {name}", size_of(name), progress),
    )
    report = result.report
    if output is not None:
        text = result.render(format.value)
        with atomic_output(output) as fh:
            fh.write(text.encode("utf-8"))
        stderr(
            f"ketenx check: {'OK' if report.valid else 'REJECTED'}: "
            f"{report.invalid_records} of {count_of(report.records, 'record')} invalid; report "
            + ("on standard output" if str(output) == "-" else f"in {output}")
        )
    else:
        sys.stdout.write(result.render(format.value, color=wants_color(sys.stdout)))
    raise typer.Exit(0 if report.valid else 1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
