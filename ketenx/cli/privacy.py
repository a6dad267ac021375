"""``ketenx risk`` and ``ketenx scan``: the privacy gates, measured on a file."""

from __future__ import annotations

import contextlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ._common import CONTRACT_OPTION, load_contract, stderr
from ._progress import PROGRESS_OPTION, display, size_of
from .check import DELIMITER_HELP, ENCODING_OPTION, InputFormatChoice, Side

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


def _formats(data: list[str], choice: InputFormatChoice | None) -> list[InputFormat]:
    from ..errors import UsageError
    from ..readers import format_for

    formats: list[InputFormat] = []
    for name in data:
        fmt = choice.value if choice else format_for(name)
        if fmt is None:
            raise UsageError(
                f"{name}: cannot tell the input format from the name; use --input-format"
            )
        formats.append(fmt)
    if data.count("-") > 1:
        raise UsageError("standard input can be read only once")
    return formats


class _NoKeys:
    """Stands in for the keyring when only classes are counted: keyed fields are counted on
    their normalised values, which split records exactly as their pseudonyms do."""

    def pseudonymise_many(self, values: Any) -> list[str]:  # pragma: no cover - never called
        raise AssertionError("no keyed operation while measuring")

    def encrypt_many(self, values: Any, field: str) -> list[str]:  # pragma: no cover
        raise AssertionError("no keyed operation while measuring")

    def decrypt(self, token: str, field: str) -> str:  # pragma: no cover
        raise AssertionError("no keyed operation while measuring")

    def fingerprinter(self) -> None:  # pragma: no cover
        return None


def _refuse_over_inputs(output: Path | None, contract: Path, data: list[str]) -> None:
    from ..fileio import refuse_output_over_inputs
    from ._inputs import contract_inputs

    refuse_output_over_inputs(
        [output], [*contract_inputs(contract), *(("data file", d) for d in data)]
    )


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
    from ..fileio import open_input
    from ..pipeline import Transformer, output_schema
    from ..privacy_reports import RiskReport, read_columns, risk_report
    from ..progress import counted
    from ..readers import check_delimiter, check_encoding, decoded
    from ..risk import Policy, RiskCounter, assess

    check_delimiter(delimiter)
    check_encoding(encoding)
    formats = _formats(data, input_format)
    _refuse_over_inputs(output, contract, data)
    the_contract = load_contract(contract)
    policy = Policy.from_contract(the_contract)
    if not policy.quasi_identifiers:
        raise ContractError(
            f"{contract}: the contract names no quasi-identifier that is delivered",
            hint="list them under privacy.quasi_identifiers",
        )
    output_side = side is Side.OUTPUT
    schema = output_schema(the_contract) if output_side else dict(the_contract.schema)
    transformer = None if output_side else Transformer(the_contract, _NoKeys())
    wanted = {*policy.quasi_identifiers, *policy.sensitive}
    if output_side:
        needed = sorted(wanted)
    else:
        needed = [n for n, spec in the_contract.fields.items() if spec.output_name in wanted]
    reports = []
    for name, fmt in zip(data, formats, strict=True):
        counter = RiskCounter(policy)
        with contextlib.ExitStack() as stack:
            stream = open_input(name)
            if name != "-":
                stack.enter_context(stream)
            shown = stack.enter_context(display(f"ketenx risk {name}", size_of(name), progress))
            text = decoded(counted(stream, shown), encoding)
            batches = read_columns(text, fmt, schema, delimiter=delimiter, names=needed)
            for columns, n in batches:
                if transformer is not None:
                    columns = transformer.stage(columns, n).out
                counter.add(columns, n)
                if shown is not None:
                    shown.records(counter.records)
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
    from ..fileio import open_input
    from ..pipeline import output_schema
    from ..privacy_reports import ScanReport, read_columns, scan_report
    from ..progress import counted
    from ..readers import check_delimiter, check_encoding, decoded
    from ..scan import Scanner, scanned_fields

    check_delimiter(delimiter)
    check_encoding(encoding)
    formats = _formats(data, input_format)
    _refuse_over_inputs(output, contract, data)
    the_contract = load_contract(contract)
    output_side = side is Side.OUTPUT
    fields = scanned_fields(the_contract, side=side.value)
    schema = output_schema(the_contract) if output_side else dict(the_contract.schema)
    reports = []
    for name, fmt in zip(data, formats, strict=True):
        scanner = Scanner(fields)
        with contextlib.ExitStack() as stack:
            stream = open_input(name)
            if name != "-":
                stack.enter_context(stream)
            shown = stack.enter_context(display(f"ketenx scan {name}", size_of(name), progress))
            text = decoded(counted(stream, shown), encoding)
            batches = read_columns(text, fmt, schema, delimiter=delimiter, names=list(fields))
            for columns, n in batches:
                scanner.add(columns, n)
                if shown is not None:
                    shown.records(scanner.records)
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
