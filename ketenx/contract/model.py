"""The exchange contract as a model: parties, fields and their treatments, the privacy block
and its digest, made only from a document that lint accepts (:mod:`.lint`).

A contract is a YAML or JSON document (format version 1, ``schemas/contract.schema.json``).
Its input ``schema`` may be inline or ``{$ref: relative/file.json}``; the referenced file is
inlined when the contract is read, so the digest covers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..canonical import canonical_digest, to_json_model
from ..errors import ContractError
from .document import read_document
from .lint import lint_document


@dataclass(frozen=True)
class Party:
    name: str
    oin: str


@dataclass(frozen=True)
class FieldSpec:
    """The treatment of one input property, with its parameters."""

    name: str
    treatment: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output_name(self) -> str:
        return str(self.params.get("as", self.name))


@dataclass(frozen=True)
class Contract:
    """A linted exchange contract. Build it with :func:`load_contract` or :meth:`from_document`."""

    document: Mapping[str, Any]  # JSON data model, `$ref`'d schema inlined
    source: str = "<contract>"

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, source: str = "<contract>") -> Contract:
        """Lint ``document`` and wrap it; any error-level problem raises :class:`ContractError`."""
        doc = to_json_model(document)
        errors = [p for p in lint_document(doc) if p.severity == "error"]
        if errors:
            first = errors[0].render(source)
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise ContractError(
                f"invalid contract: {first}{more}", hint=f"run `ketenx contract lint {source}`"
            )
        return cls(document=doc, source=source)

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def version(self) -> int:
        return int(self.document["version"])

    @property
    def sender(self) -> Party:
        return Party(**self.document["sender"])

    @property
    def recipient(self) -> Party:
        return Party(**self.document["recipient"])

    @property
    def purpose(self) -> str:
        return str(self.document["purpose"])

    @property
    def legal_basis(self) -> str:
        return str(self.document["legal_basis"])

    @property
    def processing_activity(self) -> str | None:
        value = self.document.get("processing_activity")
        return None if value is None else str(value)

    @property
    def schema(self) -> Mapping[str, Any]:
        schema: Mapping[str, Any] = self.document["schema"]
        return schema

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return {
            name: FieldSpec(
                name=name,
                treatment=str(spec["treatment"]),
                params={k: v for k, v in spec.items() if k != "treatment"},
            )
            for name, spec in self.document["fields"].items()
        }

    @property
    def privacy(self) -> Mapping[str, Any]:
        privacy: Mapping[str, Any] = self.document.get("privacy", {})
        return privacy

    @property
    def pseudonymisation(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.document.get("pseudonymisation", {})
        return value

    def digest(self) -> str:
        """``sha256:<hex>`` over the RFC 8785 form of the contract: the agreement's identity."""
        return canonical_digest(self.document)


def load_contract(path: str | Path) -> Contract:
    """Read and lint a contract; raise :class:`ContractError` when it is not usable."""
    return Contract.from_document(read_document(path), source=str(path))


# --- the input schema as JSON Schema 2020-12 ------------------------------------------------------
