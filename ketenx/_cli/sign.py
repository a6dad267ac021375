"""``ketenx sign`` and ``ketenx verify``: DSSE envelopes over delivered files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._common import load_contract, stderr
from ._inputs import contract_inputs

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_OPTION = typer.Option(
    ..., "--key", "-k", envvar="KETENX_SIGNING_KEY", help="Ed25519 private key (NAME.key)."
)
PARTNERS_OPTION = typer.Option(
    ..., "--partners", "-p", envvar="KETENX_PARTNERS", help="The partner registry (YAML or JSON)."
)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key, with the passphrase from KETENX_PASSPHRASE or a prompt on a terminal."""
    import sys

    from ..errors import KeyMaterialError
    from ..storage.keys import load_private_key, passphrase_from_env
    from ..storage.secrets import refuse_key_material

    refuse_key_material(path, "private key")  # before the prompt names the path
    passphrase = passphrase_from_env(os.environ)
    if passphrase is None:
        if sys.stdin.isatty():
            passphrase = typer.prompt(f"passphrase for {path}", hide_input=True).encode()
        else:
            try:
                return load_private_key(path, None)
            except KeyMaterialError as exc:
                raise KeyMaterialError(
                    exc.message, hint="set KETENX_PASSPHRASE (no terminal to ask on)"
                ) from None
    return load_private_key(path, passphrase)


def sign(
    files: list[Path] = typer.Argument(..., help="The files to sign (the statement's subjects)."),
    key: Path = KEY_OPTION,
    contract: Path | None = typer.Option(
        None, "--contract", "-c", envvar="KETENX_CONTRACT", help="The exchange contract."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the DSSE envelope."),
) -> None:
    """Sign FILES as a DSSE envelope carrying an in-toto Statement v1 with the ketenx
    delivery predicate (contract, parties, pseudonymisation, counts: never a value)."""
    from .._api.verbs import sign as _sign
    from ..exchange.delivery import meta_path_for
    from ..storage.fileio import refuse_output_over_inputs

    refuse_output_over_inputs(
        [output],
        [
            ("signing key", key),
            *contract_inputs(contract),
            *(("file to sign", path) for path in files),
            *(("metadata of a file to sign", meta_path_for(path)) for path in files),
        ],
    )
    the_contract = load_contract(contract) if contract else None
    # The key is unlocked (maybe a passphrase prompt) only once the files are in order.
    result = _sign(files, lambda: load_signing_key(key), contract=the_contract, output=output)
    stderr(
        f"ketenx sign: {len(result.subjects)} files signed, delivery {result.delivery_id}: {output}"
    )


def verify(
    files: list[Path] = typer.Argument(..., help="The delivered files."),
    signature: Path = typer.Option(..., "--signature", help="The DSSE envelope."),
    partners: Path = PARTNERS_OPTION,
    contract: Path | None = typer.Option(
        None, "--contract", "-c", envvar="KETENX_CONTRACT", help="The contract you hold."
    ),
) -> None:
    """Verify FILES against a signature: exit 0 when every check passes, 1 with one line
    saying which check failed, 2 when two FILES have the same name. One signature by a key
    registered for the sender is enough, whatever other signatures the envelope carries."""
    from .._api.verbs import verify as _verify
    from ..exchange.partners import load_registry

    registry = load_registry(partners)
    held = load_contract(contract) if contract else None
    result = _verify(files, signature, registry, contract=held)
    typer.echo(
        f"OK: {result.files} files, delivery {result.delivery_id} created {result.created}, "
        f"signed by {result.sender_oin} with {result.key_id}"
    )


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
    app.command("verify")(verify)
