"""``ketenx contract lint|digest``: the agreement itself."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import stderr

contract_app = typer.Typer(
    help="Lint a contract and print its digest.", no_args_is_help=True, rich_markup_mode=None
)

CONTRACT_ARG = typer.Argument(..., help="The exchange contract (YAML or JSON).", show_default=False)


@contract_app.command("lint")
def lint(contract: Path = CONTRACT_ARG) -> None:
    """Check a contract's shape and consistency; exit 1 when it is rejected."""
    from ..contract import lint_document, read_document

    problems = lint_document(read_document(contract))
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        stderr(problem.render(str(contract)))
    if errors:
        stderr(f"{contract}: REJECTED: {len(errors)} error{'' if len(errors) == 1 else 's'}")
        raise typer.Exit(1)
    typer.echo(f"{contract}: OK")


@contract_app.command("digest")
def digest(contract: Path = CONTRACT_ARG) -> None:
    """Print `sha256:<hex>` over the contract's RFC 8785 canonical JSON form."""
    from ..contract import load_contract

    typer.echo(load_contract(contract).digest())


@contract_app.command("output-schema")
def output_schema_cmd(contract: Path = CONTRACT_ARG) -> None:
    """Print the JSON Schema of one delivered record (after the contract's treatments)."""
    import json

    from ..contract import load_contract
    from ..pipeline import output_schema

    typer.echo(json.dumps(output_schema(load_contract(contract)), indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
