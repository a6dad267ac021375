"""A contract that lint accepts never crashes a command.

Schemas are generated from the whole JSON Schema 2020-12 keyword set (applicators,
references, ``$dynamicRef``, ``unevaluated*``, every validation keyword, annotations, near
misses and typos); whatever lint accepts must run ``check`` over generated JSON Lines and CSV
records, and ``pseudonymise`` over JSON Lines, to a verdict: valid or rejected, never an
exception (which the command line would turn into a traceback or exit 3).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.contract.lint import lint_document
from ketenx.contract.model import Contract
from ketenx.errors import RejectedError
from ketenx.records.check import Checker
from ketenx.records.validation import RecordSchema
from ketenx.transform.pipeline import pseudonymise_stream
from tests.helpers import contract_document

NAMES = ["a", "b", "c"]
TYPES = ["string", "integer", "number", "boolean", "null", "object", "array"]
PATTERNS = ["^a", "[0-9]$", "^\\d{2}$", "^\\p{Letter}+$", "x|y", "^(?:ab)*$", "(?P<n>a)"]
REFS = ["#/$defs/a", "#/$defs/b", "#/$defs/missing", "#", "#item", "https://example.org/s.json"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.sampled_from([0.5, 1.0, 19.99, -3.25, 1e10]),
    st.sampled_from(["", "a", "ab", "12", "Zoë", "2020-01-01", "111222333", "x\n", "١٢"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)
    ),
    max_leaves=6,
)

VALIDATION: dict[str, st.SearchStrategy[Any]] = {
    "type": st.one_of(
        st.sampled_from(TYPES),
        st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
    ),
    "enum": st.lists(values, min_size=1, max_size=3),
    "const": values,
    "minLength": st.integers(0, 4),
    "maxLength": st.integers(0, 4),
    "pattern": st.sampled_from(PATTERNS),
    "format": st.sampled_from(["date", "date-time", "nl-bsn", "email", "uuid", "nl-bsm"]),
    "minimum": st.sampled_from([0, 1.5, -2]),
    "maximum": st.sampled_from([10, 2.5]),
    "exclusiveMinimum": st.sampled_from([0, -1.5]),
    "exclusiveMaximum": st.sampled_from([20, 0.5]),
    "multipleOf": st.sampled_from([1, 2, 0.5, 0.01, 1e-9]),
    "minItems": st.integers(0, 2),
    "maxItems": st.integers(0, 3),
    "uniqueItems": st.booleans(),
    "minContains": st.integers(0, 2),
    "maxContains": st.integers(0, 2),
    "minProperties": st.integers(0, 2),
    "maxProperties": st.integers(0, 2),
    "required": st.lists(st.sampled_from(NAMES), unique=True, max_size=2),
    "dependentRequired": st.dictionaries(
        st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), unique=True), max_size=2
    ),
    "title": st.just("t"),
    "description": st.just("d"),
    "default": values,
    "examples": st.lists(values, max_size=2),
    "deprecated": st.booleans(),
    "readOnly": st.booleans(),
    "$comment": st.just("c"),
    "contentEncoding": st.just("base64"),
    "contentMediaType": st.just("application/json"),
    "$anchor": st.just("item"),
    "$dynamicAnchor": st.just("item"),
    "$ref": st.sampled_from(REFS),
    "$dynamicRef": st.sampled_from(REFS),
    "x-note": values,
    "requierd": st.just(["a"]),  # a typo: lint refuses it
}


def keywords(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    applicators: dict[str, st.SearchStrategy[Any]] = {
        "properties": st.dictionaries(st.sampled_from(NAMES), inner, max_size=2),
        "patternProperties": st.dictionaries(st.sampled_from(PATTERNS[:4]), inner, max_size=2),
        "additionalProperties": inner,
        "unevaluatedProperties": inner,
        "propertyNames": inner,
        "dependentSchemas": st.dictionaries(st.sampled_from(NAMES), inner, max_size=2),
        "items": inner,
        "prefixItems": st.lists(inner, min_size=1, max_size=2),
        "contains": inner,
        "unevaluatedItems": inner,
        "allOf": st.lists(inner, min_size=1, max_size=2),
        "anyOf": st.lists(inner, min_size=1, max_size=2),
        "oneOf": st.lists(inner, min_size=1, max_size=2),
        "not": inner,
        "if": inner,
        "then": inner,
        "else": inner,
    }
    every = {**VALIDATION, **applicators}
    return st.lists(st.sampled_from(sorted(every)), max_size=4, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: every[k] for k in keys})
    )


leaf = st.one_of(st.booleans(), keywords(st.just({})))
schemas = st.recursive(leaf, keywords, max_leaves=5)


@st.composite
def record_schemas(draw: st.DrawFn) -> dict[str, Any]:
    props = draw(st.dictionaries(st.sampled_from(NAMES), schemas, min_size=1, max_size=3))
    schema: dict[str, Any] = {"type": "object", "properties": props}
    schema["$defs"] = {"a": draw(schemas), "b": draw(schemas)}
    if draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(sorted(props)), unique=True))
    for key in ("additionalProperties", "unevaluatedProperties", "if", "then", "not"):
        if draw(st.integers(0, 4)) == 0:
            schema[key] = draw(schemas)
    return schema


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(schema=record_schemas(), data=st.data())
def test_every_contract_lint_accepts_runs_check_to_a_verdict(
    schema: dict[str, Any], data: st.DataObject
) -> None:
    doc = contract_document(
        "p", schema, {name: {"treatment": "keep"} for name in schema["properties"]}
    )
    if any(p.severity == "error" for p in lint_document(doc)):
        return
    contract = Contract.from_document(doc)
    names = sorted(schema["properties"])
    records = data.draw(
        st.lists(st.dictionaries(st.sampled_from(names), values), min_size=1, max_size=4)
    )
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    checker = Checker(RecordSchema(contract.schema), max_errors=3)
    jsonl = checker.check(io.BytesIO(lines), "jsonl")
    assert jsonl.records == len(records)
    text = io.StringIO()
    rows = [[_cell(r.get(n)) for n in names] for r in records]
    csv.writer(text, lineterminator="\n").writerows([names, *rows])
    checker.check(io.BytesIO(text.getvalue().encode()), "csv")
    with contextlib.suppress(RejectedError):  # a verdict; anything else is a crash
        pseudonymise_stream(io.BytesIO(lines), "jsonl", io.BytesIO(), "jsonl", contract, None)
