"""``ketenx risk`` and ``ketenx scan``: the privacy gates, measured on a file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ._common import CONTRACT_OPTION, load_contract, stderr
from ._progress import PROGRESS_OPTION, display, size_of
from .check import DELIMITER_HELP, ENCODING_OPTION, InputFormatChoice, Side, input_formats


class GateFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"


FORMAT_OPTION = typer.Option(GateFormat.TEXT, "--format", "-f", help="Report format.")
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Write the report to this file instead of stdout."
)
INPUT_FORMAT_OPTION = typer.Option(
    None, "--input-format", help="Input format; by default from the file extension."
)
DELIMITER_OPTION = typer.Option(None, "--delimiter", help=DELIMITER_HELP)
SIDE_OPTION = typer.Option(
    Side.INPUT,
    "--side",
    help="input: the sender's export, with the contract's generalisations applied; "
    "output: a delivery as it was delivered.",
)


def _check_inputs(
    data: list[str],
    input_format: InputFormatChoice | None,
    delimiter: str | None,
    encoding: str | None,
    output: Path | None,
    contract: Path,
) -> None:
    """The usage checks, in the order every data command makes them (option values, input
    formats, then no output over an input), before the contract is loaded."""
    from ..records.readers import check_delimiter, check_encoding
    from ..storage.fileio import refuse_output_over_inputs
    from ._inputs import contract_inputs

    check_delimiter(delimiter)
    check_encoding(encoding)
    input_formats(data, input_format)  # a format that cannot be told is a usage error
    refuse_output_over_inputs(
        [output], [*contract_inputs(contract), *(("data file", d) for d in data)]
    )


def _write(text: str, output: Path | None, summary: str) -> None:
    from ..storage.fileio import atomic_output

    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    with atomic_output(output) as fh:
        fh.write(text.encode("utf-8"))
    stderr(summary)


def _gate(
    command: str,
    verb: Callable[..., Any],
    data: list[str],
    contract: Path,
    side: Side,
    format: GateFormat,
    output: Path | None,
    input_format: InputFormatChoice | None,
    delimiter: str | None,
    encoding: str | None,
    progress: bool | None,
) -> None:
    """One privacy gate's command: the usage checks, the verb, its report, its exit code."""
    _check_inputs(data, input_format, delimiter, encoding, output, contract)
    result = verb(
        data,
        load_contract(contract),
        side=side.value,
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        encoding=encoding,
        progress=lambda name: display(f"ketenx {command} {name}", size_of(name), progress),
    )
    verdict = "OK" if result.passed else "REJECTED"
    summary = f"ketenx {command}: {verdict}: report in {output}"
    _write(result.render(format.value), output, summary)
    raise typer.Exit(0 if result.passed else 1)


def risk(
    data: list[str] = typer.Argument(..., help="Data files; `-` reads standard input."),
    contract: Path = CONTRACT_OPTION,
    side: Side = SIDE_OPTION,
    format: GateFormat = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    input_format: InputFormatChoice | None = INPUT_FORMAT_OPTION,
    delimiter: str | None = DELIMITER_OPTION,
    encoding: str | None = ENCODING_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Measure re-identification risk (k-anonymity, l-diversity, prosecutor risk) against
    the contract's privacy thresholds; exit 1 when a threshold is not met."""
    from .._api.verbs import risk as measure

    _gate("risk", measure, data, contract, side, format, output, input_format, delimiter,
          encoding, progress)  # fmt: skip


def scan(
    data: list[str] = typer.Argument(..., help="Data files; `-` reads standard input."),
    contract: Path = CONTRACT_OPTION,
    side: Side = SIDE_OPTION,
    format: GateFormat = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    input_format: InputFormatChoice | None = INPUT_FORMAT_OPTION,
    delimiter: str | None = DELIMITER_OPTION,
    encoding: str | None = ENCODING_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Look for identifiers (BSN, e-mail, IBAN, phone, address, date) in the fields the
    contract keeps; exit 1 when a kept field holds one. Never prints a value."""
    from .._api.verbs import scan as look

    _gate("scan", look, data, contract, side, format, output, input_format, delimiter,
          encoding, progress)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("risk")(risk)
    app.command("scan")(scan)
