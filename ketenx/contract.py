"""The exchange contract: loading, linting and its digest.

A contract is a YAML or JSON document (format version 1, ``schemas/contract.schema.json``).
Its input ``schema`` may be inline or ``{$ref: relative/file.json}``; the referenced file is
inlined when the contract is read, so the digest covers it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .canonical import canonical_digest, pointer, to_json_model
from .errors import ContractError
from .formats import is_test_oin, oin_problem
from .resources import load_schema

TREATMENTS = ("keep", "drop", "pseudonymise", "encrypt", "generalise", "mask", "redact")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a contract: where (JSON Pointer) and what."""

    pointer: str
    message: str
    severity: Severity = "error"

    def render(self, path: str) -> str:
        return f"{path}: {self.pointer or '/'}: {self.severity}: {self.message}"


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


def read_document(path: str | Path) -> dict[str, Any]:
    """Read a contract file (YAML or JSON) and inline a ``$ref``'d input schema.

    Raises :class:`ContractError` when the file cannot be read or parsed.
    """
    path = Path(path)
    doc = read_structured(path, what="contract")
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: a contract must be a mapping at the top level")
    schema = doc.get("schema")
    if isinstance(schema, dict) and set(schema) == {"$ref"} and isinstance(schema["$ref"], str):
        ref = schema["$ref"]
        if not ref.startswith("#"):
            target = (path.parent / ref).resolve()
            doc["schema"] = read_structured(target, what="schema referenced by the contract")
    model: dict[str, Any] = to_json_model(doc)
    return model


def load_contract(path: str | Path) -> Contract:
    """Read and lint a contract; raise :class:`ContractError` when it is not usable."""
    return Contract.from_document(read_document(path), source=str(path))


def read_structured(path: Path, *, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ContractError(f"{path}: {what} is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise ContractError(f"{path}: {what} is not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise ContractError(f"{path}: cannot read {what}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"{path}:{exc.lineno}:{exc.colno}: {what} is not valid JSON: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ContractError(f"{where}: {what} is not valid YAML: {problem}") from None


def lint_document(doc: Mapping[str, Any]) -> list[Problem]:
    """Every problem with a contract document: its shape first, then its consistency."""
    validator = Draft202012Validator(
        load_schema("contract.schema.json"), format_checker=FormatChecker()
    )
    problems = [
        Problem(pointer(*err.absolute_path), err.message)
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]
    if not isinstance(doc, Mapping):
        return problems
    problems.extend(_consistency(doc))
    return problems


def _consistency(doc: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for role in ("sender", "recipient"):
        party = doc.get(role)
        if isinstance(party, Mapping) and isinstance(party.get("oin"), str):
            oin = party["oin"]
            why = oin_problem(oin)
            if why is not None:
                problems.append(Problem(pointer(role, "oin"), f"not a valid OIN: {why}"))
            elif is_test_oin(oin):
                problems.append(
                    Problem(pointer(role, "oin"), "a test OIN (prefix 00000099)", "warning")
                )
    for key in ("purpose", "legal_basis"):
        if isinstance(doc.get(key), str) and not doc[key].strip():
            problems.append(Problem(pointer(key), f"{key} must not be blank"))

    schema = doc.get("schema")
    if not isinstance(schema, Mapping):
        return problems
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problems.append(
            Problem(
                pointer("schema", *exc.path),
                f"not a valid JSON Schema 2020-12: {exc.message}",
            )
        )
        return problems
    if schema.get("type") != "object":
        problems.append(Problem("/schema/type", "the input schema must have type: object"))
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        problems.append(
            Problem("/schema/properties", "the input schema must list the record's properties")
        )
        return problems
    for name in schema.get("required", []):
        if name not in properties:
            problems.append(
                Problem("/schema/required", f"required field `{name}` is not among the properties")
            )

    fields = doc.get("fields")
    if isinstance(fields, Mapping):
        for name in fields:
            if name not in properties:
                problems.append(
                    Problem(pointer("fields", name), f"treated field `{name}` is not in the schema")
                )
        for name in properties:
            if name not in fields:
                problems.append(
                    Problem(
                        pointer("schema", "properties", name),
                        f"schema property `{name}` has no treatment; minimisation means nothing "
                        "is passed on by default: give it one (`drop` if it is not needed)",
                    )
                )
        outputs: dict[str, str] = {}
        for name, spec in fields.items():
            if not isinstance(spec, Mapping) or spec.get("treatment") == "drop":
                continue
            out = spec.get("as", name)
            if isinstance(out, str):
                if out in outputs:
                    problems.append(
                        Problem(
                            pointer("fields", name),
                            f"output name `{out}` is also produced by `{outputs[out]}`",
                        )
                    )
                outputs[out] = name

    pseudonymisation = doc.get("pseudonymisation")
    if isinstance(pseudonymisation, Mapping):
        domain = pseudonymisation.get("domain")
        if isinstance(domain, str) and "/delivery/" in domain:
            problems.append(
                Problem(
                    pointer("pseudonymisation", "domain"),
                    "an explicit domain must not contain `/delivery/`: it could coincide with "
                    "the per-delivery domain of another delivery (docs/spec/pseudonyms.md §3)",
                )
            )

    privacy = doc.get("privacy")
    if isinstance(privacy, Mapping):
        for i, name in enumerate(privacy.get("quasi_identifiers", []) or []):
            if isinstance(name, str) and name not in properties:
                problems.append(
                    Problem(
                        pointer("privacy", "quasi_identifiers", i),
                        f"unknown quasi-identifier `{name}`: not a schema property",
                    )
                )
    return problems
