"""``ketenx partners lint``."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import stderr

partners_app = typer.Typer(
    help="The partner registry.", no_args_is_help=True, rich_markup_mode=None
)


@partners_app.command("lint")
def lint(registry: Path = typer.Argument(..., help="The partner registry (YAML or JSON).")) -> None:
    """Check a partner registry: shape, OINs, duplicate OINs, unreadable keys, overlapping or
    inverted validity. Exit 1 when it is rejected."""
    from ..contract.document import read_structured
    from ..exchange.partners import lint_registry

    problems = lint_registry(read_structured(registry, what="partner registry"), registry.parent)
    for problem in problems:
        stderr(problem.render(str(registry)))
    if problems:
        from ..records.reports import count_of

        stderr(f"{registry}: REJECTED: {count_of(len(problems), 'error')}")
        raise typer.Exit(1)
    typer.echo(f"{registry}: OK")


def register(app: typer.Typer) -> None:
    app.add_typer(partners_app, name="partners")
