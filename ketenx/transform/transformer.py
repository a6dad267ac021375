"""The contract's treatments applied to a batch of columns (:class:`Transformer`, compiled once
per contract; keyed treatments staged as tasks for :mod:`.workers`), and the JSON Schema of
one delivered record (:func:`output_schema`). The pure core that the streaming pass
(:mod:`.pipeline`), the privacy gates (:mod:`.gates`) and the risk count
(:mod:`.fastrisk`) share."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..contract.model import Contract
from ..errors import KeyMaterialError
from ..records.validation import (
    MISSING,
)
from .treatments import KEYLESS, ColumnFn, TreatmentError, generalise, output_property
from .workers import KeyedTask, run_tasks

KEYED = frozenset({"pseudonymise", "encrypt"})


class Keyring(Protocol):
    """The keyed operations of one pseudonymisation domain (:mod:`ketenx.transform.pseudonym`)."""

    def pseudonymise_many(self, values: Sequence[str]) -> list[str]: ...

    def encrypt_many(self, values: Sequence[str], field: str) -> list[str]: ...

    def decrypt(self, token: str, field: str) -> str: ...

    def fingerprinter(self) -> hmac.HMAC | None: ...


def needs_secret(contract: Contract) -> bool:
    """Whether any field is pseudonymised or encrypted."""
    return any(spec.treatment in KEYED for spec in contract.fields.values())


def output_schema(contract: Contract) -> dict[str, Any]:
    """The JSON Schema of one delivered record: dropped fields gone, renames applied,
    pseudonyms and ciphertexts with their pattern, generalised fields with their new type,
    ``additionalProperties: false`` (docs/spec/delivery.md §8, step by step).

    ``required`` lists the output names in RFC 8785 order (UTF-16 code units), not in the
    order the contract happens to list its fields: two contracts with the same digest have
    the same output schema, and so the same ``output_schema_digest``."""
    props_in = contract.schema.get("properties", {})
    required_in = set(contract.schema.get("required", []))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in contract.fields.items():
        prop = output_property(spec, props_in.get(name, {}), contract.schema)
        if prop is None:
            continue
        properties[spec.output_name] = prop
        if name in required_in:
            required.append(spec.output_name)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Delivered record of {contract.id} v{contract.version}",
        "type": "object",
        "properties": properties,
        "required": sorted(required, key=_utf16),
        "additionalProperties": False,
    }
    for key in ("$defs", "definitions"):  # what a kept property's `$ref` points into
        if key in contract.schema:
            schema[key] = contract.schema[key]
    return schema


def _utf16(name: str) -> bytes:
    """The sort key of RFC 8785 §3.2.3: UTF-16 code units (big-endian bytes sort alike)."""
    return name.encode("utf-16-be", "surrogatepass")


SAFE_OUTPUT = frozenset({"pseudonymise", "encrypt", "generalise"})


CSV_TYPES = frozenset({"string", "integer", "number", "boolean", "null"})


@dataclass(frozen=True)
class OutputColumn:
    source: str  # input property
    name: str  # output column
    apply: ColumnFn | None  # None: kept as it is, or keyed (see `normalise`)
    treatment: str = "keep"
    normalise: str = ""  # keyed columns: the normalisation applied before keying


@dataclass
class Staged:
    """A batch with its keyless treatments applied and its keyed ones still to do: ``tasks``
    for :func:`~ketenx.transform.workers.run_tasks`, here or in a helper process."""

    out: dict[str, Sequence[Any]]
    tasks: list[KeyedTask]
    # Per task: the output column, the rows it fills (None: all) and the column it fills them in.
    slots: list[tuple[str, list[int] | None, Sequence[Any]]]

    def complete(self, results: Sequence[list[str]]) -> dict[str, Sequence[Any]]:
        for (name, present, col), tokens in zip(self.slots, results, strict=True):
            if present is None:
                self.out[name] = tokens
                continue
            merged = list(col)
            for i, token in zip(present, tokens, strict=True):
                merged[i] = token
            self.out[name] = merged
        return self.out


class Transformer:
    """The contract's treatments, compiled once, applied a batch of columns at a time."""

    def __init__(
        self, contract: Contract, keyring: Keyring | None, *, checked: bool = True
    ) -> None:
        """``checked``: the values were checked against the schema first (as pseudonymise
        does), so a ``format: date`` value is a date and may be cut by slicing; without it
        (the privacy measurement of a raw export) every value is read as a date first."""
        from ..records.normalise import default_normalisation

        self.contract = contract
        self.keyring = keyring
        props = contract.schema.get("properties", {})
        self.columns: list[OutputColumn] = []
        for name, spec in contract.fields.items():
            if spec.treatment == "drop":
                continue
            fn: ColumnFn | None = None
            how = ""
            if spec.treatment in KEYED:
                if keyring is None:
                    raise KeyMaterialError(
                        f"field `{name}` has treatment `{spec.treatment}`: a pseudonymisation "
                        "secret is needed (--secret PATH or KETENX_SECRET_FILE)"
                    )
                how = str(
                    spec.params.get("normalise")
                    or default_normalisation(props.get(name, {}), spec.treatment)
                )
            elif spec.treatment == "generalise":
                fn = generalise(spec, props.get(name, {}) if checked else None)
            elif spec.treatment != "keep":
                fn = KEYLESS[spec.treatment](spec)
            self.columns.append(OutputColumn(name, spec.output_name, fn, spec.treatment, how))
        self.names = [c.name for c in self.columns]
        self.keyed = any(c.treatment in KEYED for c in self.columns)

    def stage(self, columns: Mapping[str, Sequence[Any]], n: int) -> Staged:
        """Apply the keyless treatments; collect the normalised values to be keyed."""
        from ..records.normalise import is_structure, normalise_many

        staged = Staged({}, [], [])
        for c in self.columns:
            col = columns.get(c.source)
            if col is None:
                col = [MISSING] * n
            if c.treatment not in KEYED:
                staged.out[c.name] = col if c.apply is None else c.apply(col)
                continue
            staged.out[c.name] = col  # absent and null stay; the rest is filled in
            present: list[int] | None = None
            if MISSING in col or None in col:
                present = [i for i, v in enumerate(col) if v is not MISSING and v is not None]
                col_values: Sequence[Any] = [col[i] for i in present]
            else:
                col_values = col
            if not set(map(type, col_values)) <= {str}:
                for i, v in enumerate(col_values):
                    if is_structure(v):
                        raise TreatmentError(
                            present[i] if present is not None else i,
                            c.source,
                            "keyed-scalar",
                            "is an object or array: only a string, number or boolean is "
                            f"{'encrypted' if c.treatment == 'encrypt' else 'pseudonymised'}",
                        )
            texts = normalise_many(col_values, c.normalise)
            staged.tasks.append((c.treatment, c.source, texts))
            staged.slots.append((c.name, present, col))
        return staged

    def measured(self, output_name: str) -> tuple[str, Callable[[Sequence[Any]], Sequence[Any]]]:
        """The input field of output column ``output_name`` and what :meth:`stage` makes of
        a column of its values, before any keyed operation: the keyless treatment applied,
        a keyed column as it is (what the privacy measurement counts)."""
        for c in self.columns:
            if c.name == output_name:
                apply = c.apply if c.apply is not None and c.treatment not in KEYED else None
                return c.source, apply if apply is not None else (lambda col: col)
        raise KeyError(output_name)

    def apply(self, columns: Mapping[str, Sequence[Any]], n: int) -> dict[str, Sequence[Any]]:
        staged = self.stage(columns, n)
        if not staged.tasks:
            return staged.out
        assert self.keyring is not None
        return staged.complete(run_tasks(self.keyring, staged.tasks))
