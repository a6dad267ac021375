"""``ketenx risk`` and ``ketenx scan``: the privacy gates, measured on a file."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ._common import CONTRACT_OPTION, load_contract, stderr
from ._progress import PROGRESS_OPTION, display, size_of
from .check import DELIMITER_HELP, ENCODING_OPTION, InputFormatChoice, Side, input_formats

if TYPE_CHECKING:
    from ..readers import InputFormat


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


def _refuse_over_inputs(output: Path | None, contract: Path, data: list[str]) -> None:
    from ..fileio import refuse_output_over_inputs
    from ._inputs import contract_inputs

    refuse_output_over_inputs(
        [output], [*contract_inputs(contract), *(("data file", d) for d in data)]
    )


@dataclass(frozen=True)
class _Read:
    """How a gate reads each data file: as typed columns of ``names``, with progress."""

    fmt: InputFormat
    schema: Mapping[str, Any]
    names: list[str]
    delimiter: str | None
    encoding: str | None
    progress: bool | None

    def batches(self, command: str, name: str) -> Iterator[tuple[dict[str, Any], int]]:
        from ..fileio import open_input
        from ..privacy_reports import read_columns
        from ..progress import counted
        from ..readers import decoded

        with contextlib.ExitStack() as stack:
            stream = open_input(name)
            if name != "-":
                stack.enter_context(stream)
            label = f"ketenx {command} {name}"
            shown = stack.enter_context(display(label, size_of(name), self.progress))
            text = decoded(counted(stream, shown), self.encoding)
            done = 0
            for columns, n in read_columns(
                text, self.fmt, self.schema, delimiter=self.delimiter, names=self.names
            ):
                yield dict(columns), n
                done += n
                if shown is not None:
                    shown.records(done)


def _write(text: str, output: Path | None, summary: str) -> None:
    from ..fileio import atomic_output

    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    with atomic_output(output) as fh:
        fh.write(text.encode("utf-8"))
    stderr(summary)


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
    from ..errors import ContractError
    from ..gates import measure_file
    from ..privacy_reports import RiskReport, risk_report
    from ..readers import check_delimiter, check_encoding
    from ..risk import Policy, assess

    check_delimiter(delimiter)
    check_encoding(encoding)
    formats = input_formats(data, input_format)
    _refuse_over_inputs(output, contract, data)
    the_contract = load_contract(contract)
    policy = Policy.from_contract(the_contract)
    if not policy.declared:
        raise ContractError(
            f"{contract}: the contract names no quasi-identifier",
            hint="list them under privacy.quasi_identifiers",
        )
    reports = []
    for name, fmt in zip(data, formats, strict=True):
        with display(f"ketenx risk {name}", size_of(name), progress) as shown:
            counter = measure_file(
                name,
                fmt,
                the_contract,
                side=side.value,
                delimiter=delimiter,
                encoding=encoding,
                progress=shown,
            )
        reports.append(RiskReport(name, policy, assess(counter), side.value))
    passed = all(r.assessment.passed for r in reports)
    verdict = "OK" if passed else "REJECTED"
    _write(
        risk_report(reports, format.value), output, f"ketenx risk: {verdict}: report in {output}"
    )
    raise typer.Exit(0 if passed else 1)


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
    from ..pipeline import output_schema
    from ..privacy_reports import ScanReport, scan_report
    from ..readers import check_delimiter, check_encoding
    from ..scan import Scanner, scanned_fields

    check_delimiter(delimiter)
    check_encoding(encoding)
    formats = input_formats(data, input_format)
    _refuse_over_inputs(output, contract, data)
    the_contract = load_contract(contract)
    output_side = side is Side.OUTPUT
    fields = scanned_fields(the_contract, side=side.value)
    schema = output_schema(the_contract) if output_side else dict(the_contract.schema)
    reports = []
    for name, fmt in zip(data, formats, strict=True):
        scanner = Scanner(fields)
        read = _Read(fmt, schema, list(fields), delimiter, encoding, progress)
        for columns, n in read.batches("scan", name):
            scanner.add(columns, n)
        reports.append(ScanReport(name, scanner.records, fields, scanner.results()))
    passed = all(r.passed for r in reports)
    verdict = "OK" if passed else "REJECTED"
    _write(
        scan_report(reports, format.value), output, f"ketenx scan: {verdict}: report in {output}"
    )
    raise typer.Exit(0 if passed else 1)


def register(app: typer.Typer) -> None:
    app.command("risk")(risk)
    app.command("scan")(scan)
