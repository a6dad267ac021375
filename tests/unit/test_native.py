"""The native path (ketenx.records.engine.native): a jsonschema-rs validator per field that
the column plan cannot carry, a screen whose "valid" is exactly the reference's.

Every case where jsonschema-rs could accept what the reference rejects has a test here
(exact ``multipleOf``, ECMA-262 patterns, formats, numbers beyond 2^53, ``uniqueItems`` and
``enum`` equality), and so has every reason the native path declines a field; the
JSON-Schema-Test-Suite runs through it; hostile values (deep nesting, a huge array, a lone
surrogate) neither crash it nor pass it wrongly; ``check`` reports are the same as with the
reference alone.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ketenx.contract.model import load_contract
from ketenx.records.check import Checker
from ketenx.records.engine import explain
from ketenx.records.engine import native as native_module
from ketenx.records.engine.native import NativeField, native_field, record_plan_for
from ketenx.records.validation import MISSING, RecordSchema
from tests.unit.test_json_schema_suite import DIFFERENCES, GROUPS, record_schema, refused

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "benchmarks"))  # for _common; never shadows another module
from _common import corpus  # noqa: E402

JEUGDZORG = ROOT / "benchmarks" / "corpus" / "jeugdzorg-trajecten.yaml"


def _schema(sub: Any, **root: Any) -> RecordSchema:
    return RecordSchema({"type": "object", "properties": {"v": sub}, **root})


def _field(sub: Any, **root: Any) -> tuple[NativeField, RecordSchema]:
    schema = _schema(sub, **root)
    found = native_field(schema, "v")
    assert isinstance(found, NativeField), found
    return found, schema


def _agrees(sub: Any, value: Any, expected: bool, **root: Any) -> None:
    """The reference's verdict is ``expected``; native accepts exactly then."""
    found, schema = _field(sub, **root)
    assert schema.reference.is_valid({"v": value}) is expected
    assert found.accepts(value) is expected


# --- explain --------------------------------------------------------------------------------


def test_explain_names_the_native_fields_of_a_nested_contract() -> None:
    paths = {p.field: p for p in explain(load_contract(JEUGDZORG).schema)}
    assert paths["adres"].path == "native"
    assert paths["adres"].reason.startswith("native: nested object")
    assert paths["traject"].reason.startswith("native: nested object")
    assert paths["productcodes"].reason.startswith("native: array")
    assert paths["bsn"].path == "columnar"


@pytest.mark.parametrize(
    ("sub", "defs", "reason"),
    [
        ({"$dynamicRef": "#x"}, {}, "`$dynamicRef`"),
        ({"type": "array", "items": {"$ref": "#/properties/v"}}, {}, "a recursive `$ref`"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}}, {}, "points to nothing"),
        ({"type": "object", "properties": {"a": {"$ref": "#anchor"}}}, {}, "not a `#/…` pointer"),
        ({"type": "array", "items": {"maximum": 2**60}}, {}, "beyond ±2^53 in `maximum`"),
        ({"type": "array", "items": {"enum": [2**64 + 1]}}, {}, "beyond ±2^53 in `enum`"),
        ({"type": "array", "items": {"const": [1, 2.0**60]}}, {}, "beyond ±2^53 in `const`"),
        (
            {"type": "object", "patternProperties": {"(?<=a)b": {}}},
            {},
            "`patternProperties` pattern",
        ),
    ],
)
def test_a_field_the_native_path_cannot_be_exact_for_is_declined_with_the_reason(
    sub: Any, defs: dict[str, Any], reason: str
) -> None:
    schema = _schema(sub, **({"$defs": defs} if defs else {}))
    found = native_field(schema, "v")
    assert isinstance(found, str) and reason in found
    (path,) = explain(schema)
    assert path.path == "precise" and reason in path.reason
    assert record_plan_for(schema) is None  # JSON records: the reference, as before


def test_a_root_keyword_outside_the_column_plan_is_judged_natively_per_record() -> None:
    schema = _schema({"type": "string"}, minProperties=1)
    plan = record_plan_for(schema)
    assert plan is not None and plan.root is not None
    assert plan.root.kind == "root `minProperties`"
    assert plan.check_columns({"v": ["x", MISSING]}) == {1: [("", "minProperties")]}


def test_a_root_keyword_that_reads_the_others_takes_the_whole_root_schema() -> None:
    schema = _schema({"type": "string"}, unevaluatedProperties=False)
    plan = record_plan_for(schema)
    assert plan is not None and plan.root is not None
    assert "the record schema" in plan.root.kind
    assert plan.check_columns({"v": ["x", MISSING]}) == {}


def test_a_root_keyword_the_native_path_cannot_be_exact_for_keeps_the_reference() -> None:
    schema = _schema({"type": "string"}, minProperties=1, **{"$dynamicAnchor": "x"})
    assert record_plan_for(schema) is None
    assert {p.path for p in explain(schema)} == {"precise"}


# --- where jsonschema-rs and the reference could differ ------------------------------------


@pytest.mark.parametrize(
    ("applied", "record"),
    [
        ({"oneOf": [True, {"required": ["v", "v"]}]}, {"v": "x"}),
        ({"not": {"required": ["v", "v"]}}, {"v": "x"}),
        ({"oneOf": [True, {"required": ["v", "w", "v"]}]}, {"v": "x", "w": "y"}),
    ],
)
def test_a_name_listed_twice_in_required_is_judged_as_the_reference_judges_it(
    applied: dict[str, Any], record: dict[str, Any]
) -> None:
    """jsonschema-rs takes a record with fewer properties than a ``required`` list has names
    to fail it, also when a name is listed twice: inside ``oneOf`` or ``not`` it accepted what
    the reference rejects. The native copy lists each name once."""
    properties = {"v": {"type": "string"}, "w": {"type": "string"}}
    schema = RecordSchema({"type": "object", "properties": properties, **applied})
    plan = record_plan_for(schema)
    assert plan is not None and plan.root is not None
    assert not schema.reference.is_valid(record)
    assert not plan.root.accepts(record)


@pytest.mark.parametrize(
    ("value", "ok"), [(19.99, True), (0.07, True), (601.66, True), (19.991, False), (1e-320, False)]
)
def test_multiple_of_is_exact_decimal_arithmetic(value: float, ok: bool) -> None:
    _agrees({"type": "array", "items": {"multipleOf": 0.01}}, [value], ok)


def test_an_integer_beyond_2_53_is_left_to_the_reference() -> None:
    """jsonschema-rs may hold it as a double: native never accepts it, the reference is
    exact (and the record plan asks it)."""
    found, schema = _field({"type": "array", "items": {"multipleOf": 3}})
    for value, ok in ((3 * 2**70, True), (3 * 2**70 + 1, False), (2**53 + 1, True)):
        assert schema.reference.is_valid({"v": [value]}) is ok
        assert found.accepts([value]) is False
        assert found.doubtful([[3], [value]]) == [1]
    assert found.accepts([2**53 - 1]) is False  # not a multiple of 3
    assert found.accepts([2**53 - 2]) is True


@pytest.mark.parametrize(
    ("pattern", "text", "ok"),
    [
        ("^[0-9]{4}$", "1234\n", False),  # $ is the end of the text
        ("^[0-9]{4}$", "1234", True),
        ("^\\d$", "\u0663", False),  # \d is ASCII
        ("^\\w$", "\u00e9", False),  # \w is ASCII
        ("^.$", "\r", False),  # . excludes ECMA's line terminators
        ("^.$", "\u2028", False),
        ("^\\s$", "\ufeff", True),  # ECMA white space
        ("^\\s$", "\u0085", False),  # not ECMA white space
        ("^\\p{Letter}+$", "Zo\u00eb", True),  # outside the pinned part: regress decides
        ("^(?=a)\\w+$", "ab", True),
        ("^(?=a)\\w+$", "ba", False),
        ("(a)\\1", "aa", True),
        ("^\\W$", "\u00e9", True),  # the negations are ASCII's complements
        ("^\\S$", "\u0085", True),
        ("^\\D$", "\u0663", True),
        ("^[\\s]$", "\u0085", False),
        ("^[^\\s]$", "\ufeff", False),
        ("^[^a]$", "\U0001f600", True),  # one code point, not two UTF-16 units
        ("^.{2}$", "\U0001f600\U0001f600", True),
        ("^a", "\na", False),  # ^ is the start of the text
    ],
)
def test_patterns_are_ecma_262(pattern: str, text: str, ok: bool) -> None:
    _agrees({"type": "object", "properties": {"p": {"pattern": pattern}}}, {"p": text}, ok)


def test_a_word_boundary_next_to_a_non_ascii_letter_is_decided_by_regress() -> None:
    # ECMA's \b is ASCII: "é" is no word character, so "éx" has a boundary before "x".
    _agrees({"type": "array", "items": {"pattern": "\\bx"}}, ["\u00e9x"], True)


def test_pattern_properties_use_ecma_patterns() -> None:
    sub = {
        "type": "object",
        "patternProperties": {"^[0-9]+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    _agrees(sub, {"12": 1}, True)
    _agrees(sub, {"12\n": 1}, False)
    _agrees(sub, {"\u0663": 1}, False)


@pytest.mark.parametrize(
    ("fmt", "text", "ok"),
    [
        ("nl-bsn", "111222333", True),
        ("nl-bsn", "123456789", False),
        ("date", "2020-02-29", True),
        ("date", "2021-02-29", False),
        ("nl-postcode", "1234 AB", True),
        ("iban", "NL91ABNA0417164301", False),
        ("ipv4", "999.1.1.1", True),  # not a ketenx format: an annotation, as in the reference
        ("uri", "not a uri", True),
    ],
)
def test_formats_are_ketenx_formats_always_asserted(fmt: str, text: str, ok: bool) -> None:
    _agrees({"type": "array", "items": {"type": "string", "format": fmt}}, [text], ok)


@pytest.mark.parametrize(
    ("items", "ok"),
    [
        ([1, 1.0], False),
        ([1, True], True),
        ([0, False], True),
        ([{"a": 1}, {"a": 1.0}], False),
        ([[1], [True]], True),
        ([2**64, 2**64 + 1], True),
        ([0.1, 0.1], False),
    ],
)
def test_unique_items_uses_json_equality(items: list[Any], ok: bool) -> None:
    found, schema = _field({"type": "array", "uniqueItems": True})
    assert schema.reference.is_valid({"v": items}) is ok
    assert not found.accepts(items) or ok  # native-valid ⇒ reference-valid, always
    if not ok:
        assert not found.accepts(items)


@pytest.mark.parametrize(
    ("sub", "value", "ok"),
    [
        ({"enum": [1]}, True, False),
        ({"enum": [1]}, 1.0, True),
        ({"enum": [True]}, 1, False),
        ({"const": 0}, False, False),
        ({"const": [1]}, [1.0], True),
        ({"const": {"a": True}}, {"a": 1}, False),
    ],
)
def test_enum_and_const_use_json_equality(sub: dict[str, Any], value: Any, ok: bool) -> None:
    _agrees({"type": "array", "items": sub}, [value], ok)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(2**80, False), (-(2**80), True), (1e300, False), (10, True), (2**64 + 1, False)],
)
def test_big_numbers_are_compared_exactly(value: Any, ok: bool) -> None:
    _agrees(
        {"type": "array", "items": {"type": "integer", "minimum": -(2**53) + 1, "maximum": 10}},
        [value],
        ok and value >= -(2**53) + 1,
    )


def test_a_min_length_counts_code_points() -> None:
    sub = {"type": "array", "items": {"maxLength": 1}}
    _agrees(sub, ["\U0001f600"], True)
    _agrees(sub, ["e\u0301"], False)


def test_refs_resolve_inside_the_contract() -> None:
    defs = {"code": {"type": "string", "pattern": "^[0-9]{2}$"}}
    sub = {"type": "array", "items": {"$ref": "#/$defs/code"}}
    _agrees(sub, ["12"], True, **{"$defs": defs})
    _agrees(sub, ["123"], False, **{"$defs": defs})


def test_a_remote_ref_is_never_fetched() -> None:
    schema = _schema({"type": "array", "items": {"$ref": "http://localhost:1/x.json"}})
    assert isinstance(native_field(schema, "v"), str)


# --- hostile values ---------------------------------------------------------------------------


def test_a_deeply_nested_value_neither_crashes_nor_passes_wrongly() -> None:
    value: Any = []
    for _ in range(20_000):
        value = [value]
    found, _ = _field({"type": "array", "items": {"type": "array", "items": {"type": "integer"}}})
    assert found.accepts(value) is False  # the third level is an array, not an integer


def test_a_recursive_schema_is_declined_so_depth_never_matters() -> None:
    schema = _schema(
        {"type": "array", "items": {"$ref": "#/$defs/tree"}},
        **{"$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}},
    )
    assert "recursive" in str(native_field(schema, "v"))


def test_a_huge_array_is_judged() -> None:
    found, _ = _field({"type": "array", "items": {"type": "integer", "minimum": 0}})
    assert found.accepts(list(range(1_000_000)))
    assert not found.accepts([*range(1_000_000), -1])


def test_a_lone_surrogate_is_never_accepted_and_never_raises() -> None:
    found, _ = _field({"type": "array", "items": {"type": "string"}})
    assert found.accepts(["\ud800"]) is False
    assert found.doubtful([["ok"], ["\udfff"], ["x"]]) == [1]


# --- the JSON-Schema-Test-Suite through the native path ----------------------------------------


def test_the_suite_gives_its_verdict_through_the_native_path() -> None:
    """Every group that the native path takes gives the suite's verdict on every test
    (the deliberate differences: ketenx asserts its formats), except that an integer beyond
    ±2^53 is left to the reference; at least 1,300 tests run."""
    wrong, ran, doubted = [], 0, 0
    for file, index, group in GROUPS:
        if refused(file, group["description"]):
            continue
        compiled = RecordSchema(record_schema(file, index, group["schema"]))
        found = native_field(compiled, "v")
        if isinstance(found, str):
            continue
        for test in group["tests"]:
            ran += 1
            want = test["valid"]
            if (file, group["description"], test["description"]) in DIFFERENCES:
                want = not want
            got = found.accepts(test["data"])
            if got is not want and not (want and _big(test["data"])):
                wrong.append((file, group["description"], test["description"]))
            doubted += got is not want
    assert not wrong, wrong
    assert ran >= 1300
    assert doubted == 4  # optional/bignum.json: integers beyond ±2^53, the reference decides


def _big(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return not -(2**53) < value < 2**53
    if isinstance(value, list):
        return any(map(_big, value))
    if isinstance(value, dict):
        return any(map(_big, value.values()))
    return False


# --- check: the same reports as the reference alone ----------------------------------------


def _reports(monkeypatch: pytest.MonkeyPatch, data: bytes, schema: Any, fmt: str) -> Any:
    native = Checker(RecordSchema(schema), max_errors=1000).check(io.BytesIO(data), fmt)
    monkeypatch.setattr(native_module, "record_plan_for", lambda _schema: None)
    reference = Checker(RecordSchema(schema), max_errors=1000, engine=False).check(
        io.BytesIO(data), fmt
    )
    monkeypatch.undo()
    return native, reference


def _same(a: Any, b: Any) -> None:
    assert (a.records, a.invalid_records) == (b.records, b.invalid_records)
    assert a.errors == b.errors


@pytest.mark.parametrize("invalid_rate", [0.0, 0.3, 1.0])
def test_check_of_the_nested_corpus_reports_what_the_reference_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, invalid_rate: float
) -> None:
    gen = corpus()
    path = tmp_path / "data.jsonl"
    gen.generate("jeugdzorg-trajecten", 300, path=path, fmt="jsonl", invalid_rate=invalid_rate)
    schema = load_contract(JEUGDZORG).schema
    native, reference = _reports(monkeypatch, path.read_bytes(), schema, "jsonl")
    _same(native, reference)
    assert native.valid is (invalid_rate == 0.0)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("invalid_rate", [0.0, 0.5])
def test_check_of_root_if_then_else_reports_what_the_reference_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str, invalid_rate: float
) -> None:
    gen = corpus()
    path = tmp_path / f"data.{fmt}"
    gen.generate("ind-verblijf", 300, path=path, fmt=fmt, invalid_rate=invalid_rate)
    schema = load_contract(ROOT / "benchmarks" / "corpus" / "ind-verblijf.yaml").schema
    native, reference = _reports(monkeypatch, path.read_bytes(), schema, fmt)
    _same(native, reference)
    assert native.valid is (invalid_rate == 0.0)


def test_a_nested_field_in_csv_is_reported_as_the_reference_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string"}, "n": {"type": ["object", "null"]}},
    }
    data = b"a,n\nx,\ny,{}\n"
    native, reference = _reports(monkeypatch, data, schema, "csv")
    _same(native, reference)
    assert native.invalid_records == 1


def test_a_record_a_native_validator_doubts_is_decided_by_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A native rejection is never a report by itself: a screen that rejects everything
    changes nothing."""
    compiled = RecordSchema(load_contract(JEUGDZORG).schema)
    plan = record_plan_for(compiled)
    assert plan is not None
    for field in plan.native.values():
        monkeypatch.setattr(field, "validator", _Rejects())
    record = {
        "bsn": "111222333",
        "geboortedatum": "2015-08-01",
        "adres": {"postcode": "1217 CK", "huisnummer": 17, "woonplaats": "Purmerend"},
        "gemeentecode": "GM1550",
        "productcodes": ["47C21"],
        "traject": {
            "startdatum": "2022-05-14",
            "einddatum": None,
            "aanbieder_agb": "98831878",
            "met_verwijzing": True,
        },
        "email_ouder": None,
    }
    bad = dict(record, adres={"postcode": "1217 CK", "huisnummer": 0, "woonplaats": "P"})
    lines = [json.dumps(record), json.dumps(bad)]
    report = Checker(compiled, max_errors=10).check(
        io.BytesIO(("\n".join(lines) + "\n").encode()), "jsonl"
    )
    assert report.invalid_records == 1
    assert [(v.record, v.field, v.rule) for v in report.errors] == [
        (2, "/adres/huisnummer", "minimum")
    ]


class _Rejects:
    def is_valid(self, value: Any) -> bool:
        return False
