"""``ketenx keys``: make secrets and keys."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import stderr

keys_app = typer.Typer(
    help="Make pseudonymisation secrets and keys.", no_args_is_help=True, rich_markup_mode=None
)


@keys_app.command("new-secret")
def new_secret(
    path: Path = typer.Argument(
        ..., help="Where to write the secret (mode 0600; never overwritten)."
    ),
) -> None:
    """Write a new 256-bit pseudonymisation secret with its key id. Keep it apart from the
    data: not next to input or output files, not in a git work tree."""
    from ..secrets import new_secret as _new_secret

    secret = _new_secret(path)
    typer.echo(secret.key_id)
    stderr(f"ketenx keys: secret {secret.key_id} written to {path} (mode 0600)")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
