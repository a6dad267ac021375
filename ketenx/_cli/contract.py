"""``ketenx contract lint|digest``: the agreement itself."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from ._common import stderr

contract_app = typer.Typer(
    help="Draft, lint and digest contracts; print the output schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

CONTRACT_ARG = typer.Argument(..., help="The exchange contract (YAML or JSON).", show_default=False)


@contract_app.command("lint")
def lint(
    contracts: list[Path] = typer.Argument(
        ..., help="Exchange contracts (YAML or JSON).", show_default=False
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Also say, per field, how `check` reads it: columnar, per distinct value or "
        "per record, and why.",
    ),
) -> None:
    """Check contracts' shape and consistency; exit 1 when any is rejected, 3 when any
    cannot be read as a contract (every file is still linted)."""
    from ..contract.document import read_document
    from ..contract.lint import lint_document
    from ..errors import KetenxError
    from ..records.reports import count_of

    rejected, unreadable = False, None
    for contract in contracts:
        try:
            document = read_document(contract)
        except KetenxError as exc:
            if len(contracts) == 1:
                raise
            stderr(f"ketenx: error: {exc.diagnostics()}")
            unreadable = exc.exit_code
            continue
        problems = lint_document(document)
        errors = [p for p in problems if p.severity == "error"]
        for problem in problems:
            stderr(problem.render(str(contract)))
        if errors:
            rejected = True
            stderr(f"{contract}: REJECTED: {count_of(len(errors), 'error')}")
        else:
            typer.echo(f"{contract}: OK")
            if explain:
                _explain(document)
    if unreadable is not None:
        raise typer.Exit(int(unreadable))
    if rejected:
        raise typer.Exit(1)


def _explain(document: Mapping[str, Any]) -> None:
    """Per field of an accepted contract's schema, the path `check` takes."""
    from ..records.engine import explain
    from ..storage.material import withhold_key_material

    paths = explain(document["schema"])
    width = max((len(p.field) for p in paths), default=0)
    for p in paths:  # names from the document: key material pasted as one is not repeated
        typer.echo(withhold_key_material(f"  {p.field:<{width}}  {p.path:<9}  {p.reason}"))


@contract_app.command("digest")
def digest(contract: Path = CONTRACT_ARG) -> None:
    """Print `sha256:<hex>` over the contract's RFC 8785 canonical JSON form."""
    from ..contract.model import load_contract

    typer.echo(load_contract(contract).digest())


@contract_app.command("output-schema")
def output_schema_cmd(contract: Path = CONTRACT_ARG) -> None:
    """Print the JSON Schema of one delivered record (after the contract's treatments)."""
    import json

    from ..contract.model import load_contract
    from ..transform.transformer import output_schema

    typer.echo(json.dumps(output_schema(load_contract(contract)), indent=2, ensure_ascii=False))


@contract_app.command("init")
def init(
    export: str = typer.Option(
        ...,
        "--from",
        help="The export to draft from: CSV, JSON Lines, a JSON array or Parquet "
        "(`-`: standard input, not for Parquet).",
        show_default=False,
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the draft here (never over a file); default stdout."
    ),
    input_format: str | None = typer.Option(
        None, "--input-format", help="csv, jsonl, json or parquet; by default from the extension."
    ),
    delimiter: str | None = typer.Option(
        None, "--delimiter", help="CSV delimiter; by default `,` or `;` sniffed from the header."
    ),
    sample: int | None = typer.Option(
        None, "--sample", min=1, help="Read at most this many records (default: all)."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Text encoding: utf-8 (default), cp1252, latin-1 or utf-16."
    ),
) -> None:
    """Draft a contract from an export: types and formats inferred, every field dropped."""
    from ..contract.draft import draft_contract
    from ..errors import OperationalError, UsageError
    from ..records.readers import InputFormat, check_delimiter, check_encoding, decoded, format_for
    from ..storage.fileio import atomic_output, open_input

    check_delimiter(delimiter)
    check_encoding(encoding)
    choices: dict[str | None, InputFormat] = {
        "csv": "csv", "jsonl": "jsonl", "json": "json", "parquet": "parquet"
    }  # fmt: skip
    fmt = choices.get(input_format or format_for(export))
    if fmt is None:
        raise UsageError(
            f"{export}: cannot tell the input format; use --input-format csv|jsonl|json|parquet"
        )
    if output is not None and os.path.lexists(output):  # a dangling link too
        raise OperationalError(f"{output} already exists; refusing to overwrite")
    if fmt == "parquet" and export == "-":
        from ..records.engine.parquet import NeedsFile

        raise NeedsFile()
    stream = open_input(export)
    try:
        draft = draft_contract(
            stream if fmt == "parquet" else decoded(stream, encoding),
            fmt,
            source="standard input" if export == "-" else export,
            delimiter=delimiter,
            sample=sample,
        )
    finally:
        if export != "-":
            stream.close()
    if output is None:
        typer.echo(draft.text, nl=False)
        return
    with atomic_output(output) as fh:
        fh.write(draft.text.encode("utf-8"))
    withheld = sum(f.withheld for f in draft.fields)
    stderr(
        f"ketenx contract init: {len(draft.fields)} field{'' if len(draft.fields) == 1 else 's'} "
        f"from {draft.records} record{'' if draft.records == 1 else 's'}, every one dropped: "
        f"{output}"
        + (f" ({withheld} column name(s) withheld: they may be data)" if withheld else "")
    )
    stderr(f"hint: fill in the placeholders and treatments, then `ketenx contract lint {output}`")


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
