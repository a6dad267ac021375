"""``ketenx sign`` and ``ketenx verify``: DSSE envelopes over delivered files."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import typer

from ._common import load_contract, stderr
from ._inputs import contract_inputs

KEY_OPTION = typer.Option(
    ..., "--key", "-k", envvar="KETENX_SIGNING_KEY", help="Ed25519 private key (NAME.key)."
)
PARTNERS_OPTION = typer.Option(
    ..., "--partners", "-p", envvar="KETENX_PARTNERS", help="The partner registry (YAML or JSON)."
)


def load_signing_key(path: Path) -> object:
    """The private key, with the passphrase from KETENX_PASSPHRASE or a prompt on a terminal."""
    import sys

    from ..errors import KeyMaterialError
    from ..keys import load_private_key, passphrase_from_env
    from ..secrets import refuse_key_material

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
    from ..attest import build_predicate, sign_subjects
    from ..delivery import meta_path_for, read_meta
    from ..errors import UsageError
    from ..fileio import atomic_output, file_digest, refuse_output_over_inputs

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
    meta = None
    subjects = []
    for path in files:
        subjects.append((path.name, file_digest(path)))
        if meta is None and meta_path_for(path).exists():
            meta = read_meta(meta_path_for(path))
    if len({name for name, _ in subjects}) != len(subjects):
        raise UsageError("two files have the same name: subjects are named by file name")
    if the_contract is None and meta is None:
        raise UsageError(
            "give --contract (or sign a delivery with its .meta.json) to name the sender"
        )
    private_key = load_signing_key(key)
    predicate = build_predicate(contract=the_contract, meta=meta, created=_dt.datetime.now(_dt.UTC))
    envelope = sign_subjects(subjects, predicate, private_key)  # type: ignore[arg-type]
    with atomic_output(output) as fh:
        fh.write(json.dumps(envelope, indent=2).encode() + b"\n")
    stderr(
        f"ketenx sign: {len(subjects)} files signed, delivery {predicate['delivery_id']}: {output}"
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
    from ..attest import verify_statement
    from ..dsse import read_envelope
    from ..fileio import file_digest, open_input
    from ..partners import load_registry

    registry = load_registry(partners)
    held = load_contract(contract) if contract else None
    with open_input(str(signature)) as fh:
        envelope = read_envelope(fh)
    offered = [(path.name, file_digest(path)) for path in files]
    verified = verify_statement(
        envelope, offered, registry, now=_dt.datetime.now(_dt.UTC), contract=held
    )
    p = verified.predicate
    typer.echo(
        f"OK: {len(offered)} files, delivery {p['delivery_id']} created {p['created']}, "
        f"signed by {p['sender']['oin']} with {verified.signer.key_id}"
    )


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
    app.command("verify")(verify)
