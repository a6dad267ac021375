"""The files a command reads, for :func:`ketenx.storage.fileio.refuse_output_over_inputs`: a
contract is its file and the schema file it ``$ref``s; a partner registry is its file and
the public key files it names. An output over any of them is refused (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Inputs = list[tuple[str, str | Path | None]]


def _document(path: Path, what: str) -> Any:
    from ..contract.document import read_structured
    from ..errors import KetenxError

    try:
        return read_structured(path, what=what)
    except KetenxError:
        return None  # the command's own loading reports what is wrong with it


def contract_inputs(path: str | Path | None) -> Inputs:
    """The contract and the input schema it ``$ref``s (a file beside it)."""
    inputs: Inputs = [("contract", path)]
    if path is None or str(path) == "-":
        return inputs
    doc = _document(Path(path), "contract")
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if not ref.startswith("#"):
            inputs.append(("contract's schema", Path(path).parent / ref))
    return inputs


def registry_inputs(path: str | Path | None) -> Inputs:
    """The partner registry and the public key files it names (relative to it)."""
    inputs: Inputs = [("partner registry", path)]
    if path is None:
        return inputs
    doc = _document(Path(path), "partner registry")
    partners = doc.get("partners") if isinstance(doc, dict) else None
    for partner in partners if isinstance(partners, list) else []:
        keys = partner.get("signing_keys") if isinstance(partner, dict) else None
        for key in keys if isinstance(keys, list) else []:
            if isinstance(key, dict) and isinstance(key.get("public_key_file"), str):
                inputs.append(
                    (
                        "public key in the partner registry",
                        Path(path).parent / key["public_key_file"],
                    )
                )
    return inputs
