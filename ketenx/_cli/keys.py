"""``ketenx keys``: make secrets and keys."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import stderr

keys_app = typer.Typer(
    help="Make pseudonymisation secrets and keys.", no_args_is_help=True, rich_markup_mode=None
)


def _not_stdout(path: Path, what: str) -> None:
    """``-`` is standard output elsewhere; key material is only ever written to a file."""
    from ..errors import UsageError

    if str(path) == "-":
        raise UsageError(f"-: {what} is written to a file of its own (mode 0600); name a file")


@keys_app.command("new-secret")
def new_secret(
    path: Path = typer.Argument(
        ..., help="Where to write the secret (mode 0600; never overwritten)."
    ),
) -> None:
    """Write a new 256-bit pseudonymisation secret with its key id. Keep it apart from the
    data: not next to input or output files, not in a git work tree."""
    from ..storage.secrets import new_secret as _new_secret

    _not_stdout(path, "a secret")
    secret = _new_secret(path)
    typer.echo(secret.key_id)
    stderr(f"ketenx keys: secret {secret.key_id} written to {path} (mode 0600)")


@keys_app.command("new-signing")
def new_signing(
    name: Path = typer.Argument(..., help="Writes NAME.key (private, 0600) and NAME.pub."),
    unsafe_no_passphrase: bool = typer.Option(
        False, "--unsafe-no-passphrase", help="Write the private key unencrypted."
    ),
) -> None:
    """A new Ed25519 signing key pair; the private key is encrypted with the passphrase from
    KETENX_PASSPHRASE or a prompt."""
    import os
    import sys

    from ..errors import KeyMaterialError, UsageError
    from ..storage.keys import key_id, load_public_key, new_signing_key, passphrase_from_env

    _not_stdout(name, "a key pair")
    if not name.name:
        raise UsageError("give a file name prefix for the key pair, e.g. keys/gemeente")
    passphrase = None if unsafe_no_passphrase else passphrase_from_env(os.environ)
    if passphrase is None and not unsafe_no_passphrase and sys.stdin.isatty():
        passphrase = typer.prompt(
            "passphrase for the new key", hide_input=True, confirmation_prompt=True
        ).encode()
    if passphrase is None and not unsafe_no_passphrase:
        raise KeyMaterialError(
            "refusing to write a signing key without a passphrase",
            hint="set KETENX_PASSPHRASE (or run on a terminal to be asked), or pass "
            "--unsafe-no-passphrase to write the private key unencrypted",
        )
    key_path, pub_path = new_signing_key(
        name, passphrase, unsafe_no_passphrase=unsafe_no_passphrase
    )
    typer.echo(key_id(load_public_key(pub_path)))
    stderr(f"ketenx keys: signing key {key_path} (0600) and public key {pub_path}")


@keys_app.command("new-identity")
def new_identity(
    name: Path = typer.Argument(..., help="Writes NAME.age (identity, 0600) and NAME.age.pub."),
) -> None:
    """A new age X25519 identity, in the form `age-keygen` writes (usable with `age -i`)."""
    from ..errors import UsageError
    from ..storage.keys import new_age_identity

    _not_stdout(name, "an identity")
    if not name.name:
        raise UsageError("give a file name prefix for the identity, e.g. keys/ggd")
    identity_path, recipient_path = new_age_identity(name)
    typer.echo(recipient_path.read_text().strip())
    stderr(f"ketenx keys: age identity {identity_path} (0600) and recipient {recipient_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
