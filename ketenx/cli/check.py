"""``ketenx check``: validate one or more data files against the contract."""

from __future__ import annotations

import contextlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..reports import OutputFormat
from ._common import CONTRACT_OPTION, load_contract, stderr, wants_color
from ._inputs import contract_inputs
from ._progress import PROGRESS_OPTION, display, size_of

if TYPE_CHECKING:
    from ..readers import InputFormat


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


def input_formats(data: list[str], choice: InputFormatChoice | None) -> list[InputFormat]:
    """The format of each data file: ``--input-format``, else the name's extension (a usage
    error when neither tells); standard input at most once."""
    from ..errors import UsageError
    from ..readers import format_for

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
    return formats


def check(
    data: list[str] = typer.Argument(
        ..., help="Data files (CSV, JSON Lines or a JSON array); `-` reads standard input."
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
    from ..check import Checker
    from ..fileio import atomic_output, open_input, refuse_output_over_inputs
    from ..gates import RiskMeter
    from ..privacy_reports import failure_text
    from ..progress import counted
    from ..readers import check_delimiter, check_encoding, decoded
    from ..reports import CheckReport, count_of, render
    from ..validation import Violation

    refuse_output_over_inputs(
        [output], [*contract_inputs(contract), *(("data file", d) for d in data)]
    )
    check_delimiter(delimiter)
    check_encoding(encoding)
    formats = input_formats(data, input_format)
    the_contract = load_contract(contract)
    if side is Side.OUTPUT:
        from ..pipeline import output_schema

        schema = output_schema(the_contract)
    else:
        schema = dict(the_contract.schema)
    checker = Checker.for_schema(schema, max_errors=max_errors, allow_empty=allow_empty)
    checker.unneutralise = side is Side.OUTPUT

    # Open every file first: a missing one fails the run before anything is checked.
    reports = []
    with contextlib.ExitStack() as stack:
        streams = []
        for name in data:
            stream = open_input(name)
            if stream is not sys.stdin.buffer:
                stack.enter_context(stream)
            streams.append(stream)
        for name, fmt, stream in zip(data, formats, streams, strict=True):
            # A delivery is re-measured against its contract's privacy thresholds.
            meter = RiskMeter(the_contract) if side is Side.OUTPUT else None
            if meter is not None:
                checker.observe, checker.observed = meter.observer, meter.fields
            with display(f"ketenx check {name}", size_of(name), progress) as shown:
                checker.progress = shown.records if shown is not None else None
                as_utf8 = decoded(counted(stream, shown), encoding)
                file_report = checker.check(as_utf8, fmt, path=name, delimiter=delimiter)
            assessment = meter.verdict() if meter is not None and not file_report.fatal else None
            for failure in assessment.failures if assessment is not None else ():
                file_report.add(Violation(0, "", failure.rule, failure_text(failure)))
            reports.append(file_report)

    report = CheckReport(
        files=reports,
        contract_id=the_contract.id,
        contract_version=the_contract.version,
        contract_digest=the_contract.digest(),
        side=side.value,
    )
    if output is not None:
        text = render(report, format.value)
        with atomic_output(output) as fh:
            fh.write(text.encode("utf-8"))
        stderr(
            f"ketenx check: {'OK' if report.valid else 'REJECTED'}: "
            f"{report.invalid_records} of {count_of(report.records, 'record')} invalid; report "
            + ("on standard output" if str(output) == "-" else f"in {output}")
        )
    else:
        sys.stdout.write(render(report, format.value, color=wants_color(sys.stdout)))
    raise typer.Exit(0 if report.valid else 1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
