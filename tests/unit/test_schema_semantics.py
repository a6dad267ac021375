"""JSON Schema 2020-12 as the specification means it, on every path a record takes.

ECMA-262 patterns, exact ``multipleOf``, the types ``enum``/``const`` imply, and a nullable in
all three spellings: each judged by the column plan, by the reference, through ``check`` on
JSON Lines and CSV, and through ``pseudonymise`` and its output schema.
"""

from __future__ import annotations

import csv
import gc
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ketenx.contract.lint import lint_document
from ketenx.errors import UsageError
from ketenx.records.check import Checker
from ketenx.records.validation import (
    ColumnPlan,
    RecordSchema,
    declared_types,
    is_multiple,
    record_columns,
)
from ketenx.transform.pipeline import refuse_csv_for_structures
from ketenx.transform.transformer import output_schema
from tests.helpers import contract_document, make_contract


def record(props: dict[str, Any], **root: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, **root}


def csv_bytes(header: list[str], *rows: list[str]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    return text.getvalue().encode()


def jsonl_bytes(*records: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def paths(schema: dict[str, Any], value: Any, cell: str | None = None) -> dict[str, bool]:
    """Whether ``{"v": value}`` is valid on every path: plan (when the schema is on it),
    reference, ``check`` of JSON Lines, and of CSV when ``cell`` is given."""
    compiled = RecordSchema(schema)
    rec = {"v": value}
    out = {"reference": compiled.reference.is_valid(rec)}
    if compiled.plan is not None:
        columns, _ = record_columns([rec], ["v"])
        out["plan"] = not compiled.plan.check_columns(columns)
    checker = Checker(compiled, max_errors=5)
    out["jsonl"] = checker.check(io.BytesIO(jsonl_bytes(rec)), "jsonl").valid
    if cell is not None:
        out["csv"] = checker.check(io.BytesIO(csv_bytes(["v"], [cell])), "csv").valid
    return out


def lint_errors(schema: dict[str, Any], fields: dict[str, Any] | None = None) -> list[Any]:
    doc = contract_document(
        "t", schema, fields or {name: {"treatment": "keep"} for name in schema["properties"]}
    )
    return [p for p in lint_document(doc) if p.severity == "error"]


# --- 1. patterns are ECMA-262 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "valid"),
    [
        ("^[0-9]{4}$", "1234", True),
        ("^[0-9]{4}$", "1234\n", False),  # `$` is the end of the text, not before a newline
        ("^[a-z]+$", "abc\n", False),
        ("^\\d{3}$", "123", True),
        ("^\\d{3}$", "١٢٣", False),  # \d is ASCII
        ("^\\w+$", "abc_1", True),
        ("^\\w+$", "Zoë", False),  # \w is ASCII
        ("^\\p{Letter}+$", "Zoë", True),  # Unicode property escapes work
        ("^\\p{Letter}+$", "Zo3", False),
        ("^\\p{Lu}", "Élan", True),
        ("^.$", "😀", True),  # one code point, not two UTF-16 units
    ],
)
def test_patterns_are_ecma_262_on_every_path(pattern: str, text: str, valid: bool) -> None:
    schema = record({"v": {"type": "string", "pattern": pattern}})
    assert not lint_errors(schema)
    cell = text if text.isprintable() else None
    got = paths(schema, text, cell)
    assert "plan" in got
    assert set(got.values()) == {valid}, got


@settings(max_examples=60, deadline=None)
@given(
    digit=st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()),
    letter=st.characters(categories=["L"]).filter(lambda c: not c.isascii()),
)
def test_d_and_w_are_ascii_for_every_non_ascii_digit_and_letter(digit: str, letter: str) -> None:
    for pattern, text in (("^\\d+$", "1" + digit), ("^\\w+$", "a" + letter)):
        schema = record({"v": {"type": "string", "pattern": pattern}})
        assert set(paths(schema, text, text).values()) == {False}


@settings(max_examples=60, deadline=None)
@given(body=st.text(alphabet="0123456789", min_size=4, max_size=4), tail=st.sampled_from("\n\r"))
def test_a_trailing_line_break_never_satisfies_dollar(body: str, tail: str) -> None:
    schema = record({"v": {"type": "string", "pattern": "^[0-9]{4}$"}})
    assert set(paths(schema, body).values()) == {True}
    assert set(paths(schema, body + tail).values()) == {False}


@pytest.mark.parametrize("keyword", ["additionalProperties", "unevaluatedProperties"])
def test_the_keys_pattern_properties_cover_are_decided_by_ecma_262(keyword: str) -> None:
    """``additionalProperties`` and ``unevaluatedProperties`` apply to the keys no pattern
    covers; which those are is ECMA-262's answer, not Python's."""
    schema = record(
        {"v": {"type": "object", "patternProperties": {"^x\\d$": {"type": "integer"}},
               keyword: False}}
    )  # fmt: skip
    assert not lint_errors(schema)
    assert paths(schema, {"x1": 1}) == {"reference": True, "jsonl": True}
    for key in ("x1\n", "x١"):  # not covered by the pattern
        assert paths(schema, {key: 1}) == {"reference": False, "jsonl": False}
    compiled = RecordSchema(schema)
    rules = {v.rule for v in compiled.reference.explain({"v": {"x1\n": 1}}, 1)}
    assert rules == {keyword}


@pytest.mark.parametrize(
    "pattern", ["(?P<name>a)", "[a-", "a{2", "\\p{NoSuchProperty}", "(?i)a", "\ud800", "a\udfff"]
)
@pytest.mark.parametrize("where", ["pattern", "patternProperties"])
def test_lint_refuses_a_pattern_ecma_262_cannot_compile_without_quoting_it(
    pattern: str, where: str
) -> None:
    prop: dict[str, Any] = (
        {"type": "string", "pattern": pattern}
        if where == "pattern"
        else {"type": "object", "patternProperties": {pattern: {}}}
    )
    errors = lint_errors(record({"v": prop}))
    assert errors
    assert all(pattern not in p.message for p in errors)
    assert any("regex" in p.message for p in errors)


# --- 2. multipleOf is exact -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(-(10**9), 10**9))
def test_every_amount_in_cents_is_a_multiple_of_a_cent(cents: int) -> None:
    sign = "-" if cents < 0 else ""
    text = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
    schema = record({"v": {"type": "number", "multipleOf": 0.01}})
    assert set(paths(schema, json.loads(text), text).values()) == {True}


@settings(max_examples=200, deadline=None)
@given(mills=st.integers(-(10**9), 10**9).filter(lambda n: n % 10))
def test_an_amount_with_a_tenth_of_a_cent_is_not(mills: int) -> None:
    sign = "-" if mills < 0 else ""
    text = f"{sign}{abs(mills) // 1000}.{abs(mills) % 1000:03d}"
    schema = record({"v": {"type": "number", "multipleOf": 0.01}})
    assert set(paths(schema, json.loads(text), text).values()) == {False}


@pytest.mark.parametrize(
    ("value", "divisor", "expected"),
    [
        (19.99, 0.01, True),
        (0.07, 0.01, True),
        (601.66, 0.01, True),
        (0.3, 0.1, True),
        (1e308, 0.5, True),  # no overflow
        (7, 0.5, True),
        (7.25, 0.5, False),
        (10, 3, False),
        (0.0075, 0.0001, True),
        (1e-7, 1e-8, True),
        (-4.5, 1.5, True),
    ],
)
def test_is_multiple_is_decimal_arithmetic(value: float, divisor: float, expected: bool) -> None:
    assert is_multiple(value, divisor) is expected


def test_the_deliberate_difference_from_the_jsonschema_package() -> None:
    """Float division says 19.99 is not a multiple of 0.01; ketenx follows the specification's
    mathematical meaning (docs/check.md)."""
    prop = {"type": "number", "multipleOf": 0.01}
    assert not Draft202012Validator(prop).is_valid(19.99)
    assert set(paths(record({"v": prop}), 19.99, "19.99").values()) == {True}


# --- 3. enum and const imply the type -------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "types"),
    [
        ({"enum": ["a", "b"]}, {"string"}),
        ({"enum": [1, 2]}, {"integer"}),
        ({"enum": [1.5, None]}, {"number", "integer", "null"}),
        ({"const": True}, {"boolean"}),
        ({"type": "string", "enum": ["a", 1]}, {"string"}),
        ({"type": ["number", "null"]}, {"number", "integer", "null"}),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, {"integer", "null"}),
        ({"oneOf": [{"enum": ["x"]}, {"type": "null"}]}, {"string", "null"}),
        ({"allOf": [{"type": ["string", "null"]}, {"type": "string"}]}, {"string"}),
        ({"anyOf": [{"type": "string"}, {}]}, None),
        ({}, None),
        (False, set()),
    ],
)
def test_declared_types_infers_what_a_field_can_hold(schema: Any, types: set[str] | None) -> None:
    got = declared_types(schema)
    assert got == (None if types is None else frozenset(types))


def test_declared_types_follows_refs_into_the_root() -> None:
    root = {"$defs": {"code": {"enum": ["A", "B"]}, "n": {"$ref": "#/$defs/code"}}}
    assert declared_types({"$ref": "#/$defs/n"}, root) == {"string"}
    assert declared_types({"$ref": "#/$defs/none"}, root) is None
    looping = {"$defs": {"a": {"$ref": "#/$defs/a"}}}
    assert declared_types({"$ref": "#/$defs/a"}, looping) is None


@pytest.mark.parametrize(
    ("prop", "cell", "value"),
    [
        ({"enum": [1, 2, 3]}, "2", 2),
        ({"enum": [1.5, 2.5]}, "2.5", 2.5),
        ({"const": True}, "true", True),
        ({"enum": ["M", "V", "X"]}, "V", "V"),
        ({"enum": ["01", "02"]}, "01", "01"),  # a string: the leading zero stays
    ],
)
def test_an_enum_or_const_without_type_coerces_csv_to_its_type(
    prop: dict[str, Any], cell: str, value: Any
) -> None:
    schema = record({"v": prop})
    compiled = RecordSchema(schema)
    assert compiled.plan is not None  # on the fast path
    got = compiled.coerce_column("v", [cell])[0]
    assert type(got) is type(value) and got == value
    assert set(paths(schema, value, cell).values()) == {True}


def test_enum_equality_is_json_equality_on_the_fast_path() -> None:
    schema = record({"v": {"enum": [1, "a", None]}})
    for value, valid in ((1, True), (1.0, True), (True, False), ("1", False), (None, True)):
        got = paths(schema, value)
        assert set(got.values()) == {valid}, (value, got)
    assert set(paths(record({"v": {"enum": [False]}}), 0).values()) == {False}


@pytest.mark.parametrize("prop", [{"enum": ["a", "b"]}, {"const": "a"}, {"enum": [1, None]}])
def test_csv_output_is_not_refused_for_an_enum_without_type(prop: dict[str, Any]) -> None:
    contract = make_contract("t", record({"v": prop}), {"v": {"treatment": "keep"}})
    refuse_csv_for_structures(output_schema(contract))


@pytest.mark.parametrize("prop", [{"type": "object"}, {}, {"enum": [{"a": 1}]}])
def test_csv_output_is_refused_for_a_column_that_may_hold_structures(prop: dict[str, Any]) -> None:
    contract = make_contract("t", record({"v": prop}), {"v": {"treatment": "keep"}})
    with pytest.raises(UsageError, match="CSV cannot"):
        refuse_csv_for_structures(output_schema(contract))


# --- 4. a nullable in all three spellings ---------------------------------------------------------

_NUMBER = {"type": "number", "minimum": 0}
SPELLINGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "type list": ({"type": ["number", "null"], "minimum": 0}, {}),
    "anyOf": ({"anyOf": [_NUMBER, {"type": "null"}]}, {}),
    "anyOf, null first": ({"anyOf": [{"type": "null"}, _NUMBER]}, {}),
    "oneOf": ({"oneOf": [_NUMBER, {"type": "null"}]}, {}),
    "$ref": ({"$ref": "#/$defs/amount"}, {"$defs": {"amount": {"type": ["number", "null"],
                                                               "minimum": 0}}}),
    "$ref to anyOf": ({"$ref": "#/$defs/amount"},
                      {"$defs": {"amount": {"anyOf": [_NUMBER, {"type": "null"}]}}}),
    "anyOf of $refs": ({"anyOf": [{"$ref": "#/$defs/n"}, {"$ref": "#/$defs/z"}]},
                       {"$defs": {"n": _NUMBER, "z": {"type": "null"}}}),
}  # fmt: skip


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_nullable_number_is_the_same_in_every_spelling(spelling: str) -> None:
    prop, root = SPELLINGS[spelling]
    schema = record({"v": prop, "w": {"enum": ["x"]}}, **root, required=["w"])
    assert not lint_errors(schema)
    assert ColumnPlan.supports(schema), "off the fast path"
    compiled = RecordSchema(schema)
    assert compiled.coerce_column("v", ["1.5", "", "7"]) == [1.5, None, 7]
    checker = Checker(compiled, max_errors=10)
    data = csv_bytes(["v", "w"], ["1.5", "x"], ["", "x"], ["-1", "x"], ["abc", "x"], ["0", "x"])
    report = checker.check(io.BytesIO(data), "csv")
    assert [(e.record, e.field, e.rule) for e in report.errors] == [
        (3, "/v", "minimum"),
        (4, "/v", "type"),
    ]
    assert report.errors[1].message == "must be a number or null"
    lines = jsonl_bytes({"v": 1.5, "w": "x"}, {"v": None, "w": "x"}, {"v": -1, "w": "x"})
    report = checker.check(io.BytesIO(lines), "jsonl")
    assert [(e.record, e.field, e.rule) for e in report.errors] == [(3, "/v", "minimum")]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize(
    "treatment",
    [
        {"treatment": "generalise", "to": "bucket", "bins": [0, 10]},
        {"treatment": "redact"},
        {"treatment": "mask"},
    ],
)
def test_a_treated_nullable_keeps_null_in_the_output_schema(
    spelling: str, treatment: dict[str, Any]
) -> None:
    prop, root = SPELLINGS[spelling]
    contract = make_contract("t", record({"v": prop}, **root), {"v": treatment})
    out = output_schema(contract)
    assert "null" in declared_types(out["properties"]["v"], out)
    assert RecordSchema(out).reference.is_valid({"v": None})


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("to", ["csv", "jsonl"])
def test_pseudonymise_accepts_its_own_output_for_every_spelling(
    run, tmp_path, spelling: str, to: str
) -> None:
    prop, root = SPELLINGS[spelling]
    doc = contract_document(
        "t",
        record({"id": {"type": "string"}, "v": prop}, **root),
        {"id": {"treatment": "keep"}, "v": {"treatment": "generalise", "to": "bucket",
                                            "bins": [0, 10]}},
    )  # fmt: skip
    contract = tmp_path / "c.json"
    contract.write_text(json.dumps(doc))
    data = tmp_path / "in.csv"
    data.write_bytes(csv_bytes(["id", "v"], ["a", "1.5"], ["b", ""], ["c", "19.99"]))
    out = tmp_path / f"out.{to}"
    result = run("pseudonymise", data, "--contract", contract, "-o", out, "--to", to)
    assert result.code == 0, result.err
    back = run("check", out, "--contract", contract, "--side", "output")
    assert back.code == 0, back.out + back.err


def test_errors_beyond_max_errors_leave_nothing_for_the_cyclic_collector() -> None:
    """Off the fast path every invalid record is explained by jsonschema, whose errors of an
    ``anyOf`` hold reference cycles; with the collector paused they used to pile up (~16 KB
    per record). Now each is freed at once: nothing is left for the collector."""
    schema = record({"v": {"anyOf": [{"type": "integer"}, {"type": "string", "minLength": 9}]}})
    compiled = RecordSchema(schema)
    assert compiled.plan is None
    data = jsonl_bytes(*({"v": "short"} for _ in range(300)))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        report = Checker(compiled, max_errors=3).check(io.BytesIO(data), "jsonl")
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
    assert report.invalid_records == 300 and len(report.errors) == 3


# --- 5. references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.org/schemas/code.json",
        "code.json",
        "https://json-schema.org/draft/2020-12/schema",
        "#/$defs/missing",
        "#anchor",
    ],
)
@pytest.mark.parametrize("keyword", ["$ref", "$dynamicRef"])
def test_lint_refuses_a_reference_that_does_not_resolve_inside_the_contract(
    ref: str, keyword: str
) -> None:
    schema = record({"v": {keyword: ref}}, **{"$defs": {"code": {"type": "string"}}})
    errors = lint_errors(schema)
    assert [p.pointer for p in errors] == [f"/schema/properties/v/{keyword}"]
    assert "fetches" in errors[0].message or "`$defs`" in errors[0].message


def test_a_subschema_with_its_own_id_may_refer_inside_itself() -> None:
    tree = {
        "$id": "https://ketenx.invalid/tree",
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#"}},
                       "n": {"$ref": "#/$defs/n"}},
        "$defs": {"n": {"type": "integer"}},
    }  # fmt: skip
    schema = record({"v": tree})
    assert not lint_errors(schema)
    assert paths(schema, {"n": 1, "kids": [{"n": 2, "kids": []}]})["jsonl"]
    assert not paths(schema, {"n": 1, "kids": [{"n": "x"}]})["jsonl"]


def test_dynamic_ref_runs_check_without_a_traceback() -> None:
    schema = record(
        {"v": {"$id": "https://ketenx.invalid/list", "$dynamicAnchor": "item",
               "type": "array", "items": {"$dynamicRef": "#item"}}}
    )  # fmt: skip
    assert not lint_errors(schema)
    assert paths(schema, [[], [[]]])["jsonl"]


def test_an_enum_value_that_is_an_object_with_a_ref_key_is_a_value() -> None:
    schema = record({"v": {"enum": [{"$ref": "not a reference"}, "x"]}})
    assert not lint_errors(schema)
    assert paths(schema, {"$ref": "not a reference"})["jsonl"]


def test_a_subschema_naming_another_dialect_is_refused() -> None:
    schema = record({"v": {"$schema": "http://json-schema.org/draft-07/schema#"}})
    assert [p.pointer for p in lint_errors(schema)] == ["/schema/properties/v/$schema"]
    same = record({"v": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                         "type": "string", "pattern": "^\\d$"}})  # fmt: skip
    assert not lint_errors(same)
    assert set(paths(same, "١").values()) == {False}  # still ECMA-262 below a $schema


# --- 6. lint: near-miss keywords and treatments that fit ------------------------------------------


@pytest.mark.parametrize(
    ("key", "keyword"),
    [
        ("requierd", "required"),
        ("propertise", "properties"),
        ("maxlength", "maxLength"),
        ("MinLength", "minLength"),
        ("additional_properties", "additionalProperties"),
        ("patern", "pattern"),
        ("enums", "enum"),
        ("$Ref", "$ref"),
        ("mininum", "minimum"),
    ],
)
def test_a_near_miss_of_a_keyword_is_an_error(key: str, keyword: str) -> None:
    for where in ("root", "property"):
        schema = record({"v": {"type": "string"}})
        if where == "root":
            schema[key] = ["v"]
            at = f"/schema/{key}"
        else:
            schema["properties"]["v"][key] = 1
            at = f"/schema/properties/v/{key}"
        errors = lint_errors(schema)
        assert [p.pointer for p in errors] == [at], errors
        assert f"did you mean `{keyword}`" in errors[0].message


def test_an_annotation_is_marked_with_x_and_a_property_may_have_any_name() -> None:
    schema = record(
        {"requierd": {"type": "string", "x-requierd": True, "x-maxlength": 3},
         "maxlength": {"type": "integer"}},
        **{"x-propertise": {}, "required": ["requierd"]},
    )  # fmt: skip
    assert not lint_errors(schema)
    # A value is no schema: an enum or const member is never read for keywords.
    assert not lint_errors(record({"v": {"enum": [{"requierd": 1}], "const": {"requierd": 1}}}))


@pytest.mark.parametrize(
    ("prop", "treatment", "fits"),
    [
        ({"type": "integer"}, {"treatment": "generalise", "to": "pc4"}, False),
        ({"type": "string", "format": "nl-postcode"},
         {"treatment": "generalise", "to": "pc4"}, True),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]},
         {"treatment": "generalise", "to": "pc4"}, True),
        ({"type": "string", "format": "date"},
         {"treatment": "generalise", "to": "bucket", "bins": [1]}, False),
        ({"enum": [1, 2, 3]}, {"treatment": "generalise", "to": "bucket", "bins": [2]}, True),
        ({"type": ["number", "null"]}, {"treatment": "generalise", "to": "bucket", "bins": [2]},
         True),
        ({"type": "number"}, {"treatment": "generalise", "to": "year"}, False),
        ({"type": "string", "format": "date"}, {"treatment": "generalise", "to": "year"}, True),
        ({"type": "integer"}, {"treatment": "generalise", "to": "year-month"}, False),
        ({"type": "boolean"},
         {"treatment": "generalise", "to": "age-band", "reference_date": "2026-01-01"}, False),
        ({"type": "object"}, {"treatment": "pseudonymise"}, False),
        ({"type": "array"}, {"treatment": "encrypt"}, False),
        ({"type": ["string", "integer"]}, {"treatment": "pseudonymise"}, True),
        ({"type": "object"}, {"treatment": "keep"}, True),
        ({"type": "object"}, {"treatment": "redact"}, True),
    ],
)  # fmt: skip
def test_every_treatment_fits_every_type_its_field_can_hold(
    prop: dict[str, Any], treatment: dict[str, Any], fits: bool
) -> None:
    errors = lint_errors(record({"v": prop}), {"v": treatment})
    assert [p.pointer for p in errors] == ([] if fits else ["/fields/v"]), errors


@pytest.mark.parametrize("treatment", [{"treatment": "encrypt"},
                                       {"treatment": "generalise", "to": "year"}])  # fmt: skip
def test_a_treated_field_without_any_type_is_a_warning(treatment: dict[str, Any]) -> None:
    doc = contract_document("t", record({"v": {}}), {"v": treatment})
    problems = [(p.pointer, p.severity) for p in lint_document(doc)]
    assert problems == [("/fields/v", "warning")]


@pytest.mark.parametrize(
    ("prop", "defs"),
    [
        ({"$ref": "#/$defs/a"}, {"a": {"$ref": "#/$defs/a"}}),
        ({"$ref": "#/$defs/a"},
         {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}),
        ({"$id": "https://ketenx.invalid/s", "anyOf": [{"$ref": "#"}]}, {}),
        ({"$dynamicRef": "#/$defs/a"}, {"a": {"not": {"$dynamicRef": "#/$defs/a"}}}),
        ({"$ref": "#/$defs/a"}, {"a": {"if": {"$ref": "#/$defs/a"}}}),
    ],
)  # fmt: skip
def test_lint_refuses_a_reference_that_would_recurse_for_ever(
    prop: dict[str, Any], defs: dict[str, Any]
) -> None:
    errors = lint_errors(record({"v": prop}, **{"$defs": defs}))
    assert errors and all("never end" in p.message for p in errors), errors


def test_a_recursive_schema_that_goes_into_the_value_is_accepted_and_runs() -> None:
    schema = record(
        {"v": {"$ref": "#/$defs/node"}},
        **{"$defs": {"node": {"type": "object", "properties": {"kid": {"$ref": "#/$defs/node"}},
                              "allOf": [{"required": []}]}}},
    )  # fmt: skip
    assert not lint_errors(schema)
    assert paths(schema, {"kid": {"kid": {}}})["jsonl"]
    assert not paths(schema, {"kid": {"kid": 3}})["jsonl"]


def test_check_of_a_dynamic_ref_contract_is_a_verdict_never_a_traceback(run, tmp_path) -> None:
    schema = record(
        {"v": {"$id": "https://ketenx.invalid/list", "$dynamicAnchor": "item",
               "type": "array", "items": {"$dynamicRef": "#item"}}}
    )  # fmt: skip
    contract = tmp_path / "c.json"
    contract.write_text(json.dumps(contract_document("t", schema, {"v": {"treatment": "keep"}})))
    data = tmp_path / "d.jsonl"
    data.write_bytes(jsonl_bytes({"v": [[]]}, {"v": [3]}))
    result = run("check", data, "--contract", contract)
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.out + result.err
    assert "record 2, field /v/0" in result.out
