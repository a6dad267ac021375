"""Root applicators counted column by column (ketenx.records.engine.rootcount), case by case.

Each case: a schema with root ``if``/``then``/``else``, ``allOf``, ``anyOf``, ``oneOf`` or
``not`` and a CSV file whose records break them; once the report's list is full the engine
counts the errors by rule, and the report must be the precise path's
(``Checker(engine=False)``) with the counts worked out here by hand.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any
from unittest import mock

import pytest

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import csvsource, plan_for
from ketenx.records.engine.rootcount import counter_for, root_count_for
from ketenx.records.readers import LineMap
from ketenx.records.validation import RecordSchema, Reference


def report_of(schema: dict[str, Any], data: bytes, *, engine: bool, max_errors: int = 0) -> Any:
    report = Checker(RecordSchema(schema), max_errors=max_errors, engine=engine).check(
        io.BytesIO(data), "csv"
    )
    return (
        report.records,
        report.invalid_records,
        report.errors,
        dict(report.error_counts),
    )


def counted(schema: dict[str, Any], data: bytes, *, reference: bool = False) -> Any:
    """The engine's report with the list full from the first record, in small pieces; the
    reference is not asked (unless ``reference``) and the precise path's report is the same."""
    with mock.patch.object(csvsource, "PIECE_BYTES", 256):
        precise = report_of(schema, data, engine=False)
        if reference:
            fast = report_of(schema, data, engine=True)
        else:
            refuse = mock.Mock(side_effect=AssertionError("asked the reference"))
            with (
                mock.patch.object(Reference, "explain", refuse),
                mock.patch.object(Reference, "is_valid", refuse),
            ):
                fast = report_of(schema, data, engine=True)
        for max_errors in (3, 1000):
            assert report_of(schema, data, engine=True, max_errors=max_errors) == report_of(
                schema, data, engine=False, max_errors=max_errors
            )
    assert fast == precise
    compiled = RecordSchema(schema)
    assert root_count_for(compiled, plan_for(compiled)) is not None
    return fast[1], fast[3]


def csv_of(header: str, rows: list[str], times: int = 40) -> bytes:
    return ("\n".join([header, *rows * times]) + "\n").encode()


PERMIT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["tijdelijk", "onbepaald"]},
        "eind": {"type": "string", "format": "date"},
        "verlengd": {"type": "boolean"},
    },
    "required": ["status"],
    "if": {"properties": {"status": {"const": "tijdelijk"}}, "required": ["status"]},
    "then": {"required": ["eind", "verlengd"]},
    "else": {"properties": {"eind": False, "verlengd": False}},
}


def test_if_then_else_with_false_properties() -> None:
    rows = [
        "tijdelijk,2030-01-01,true",  # valid
        "tijdelijk,,nee",  # then: eind required; root: verlengd type
        "onbepaald,2030-02-30,false",  # else: eind false, verlengd false; root: eind date
        "onbepaald,,",  # valid
        "anders,,",  # root: status enum; else (not tijdelijk): nothing present
    ]
    invalid, counts = counted(PERMIT, csv_of("status,eind,verlengd", rows))
    assert invalid == 3 * 40
    assert counts == {"required": 40, "type": 40, "false": 80, "date": 40, "enum": 40}


def test_all_of_required_counts_a_field_once() -> None:
    """``required`` of the root and of two branches name the same field: one error."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": ["a"],
        "allOf": [{"required": ["a", "b"]}, {"required": ["b", "b"]}],
    }
    invalid, counts = counted(schema, csv_of("a,b", ["x,y", ",y", "x,", ","]))
    assert invalid == 3 * 40
    assert counts == {"required": 4 * 40}


def test_any_of_one_of_and_not_are_errors_of_the_record() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "string"}},
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
        "oneOf": [
            {"required": ["a"]},
            {"properties": {"b": {"type": "integer", "minimum": 5}}, "required": ["b"]},
        ],
        "not": {"required": ["c"]},
    }
    rows = [
        "x,,",  # valid
        ",,",  # anyOf, oneOf (none)
        "x,7,",  # oneOf (both)
        "x,3,z",  # not
        ",x,",  # b type (root); anyOf passes (b present); oneOf: b type fails there too (none)
    ]
    invalid, counts = counted(schema, csv_of("a,b,c", rows))
    assert invalid == 4 * 40
    assert counts == {"anyOf": 40, "oneOf": 3 * 40, "not": 40, "type": 40}


def test_dependent_required_in_a_branch_and_at_the_root() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}},
        "dependentRequired": {"a": ["b"]},
        "if": {"properties": {"a": {"const": "x"}}, "required": ["a"]},
        "then": {"dependentRequired": {"a": ["b", "c"]}, "required": ["c"]},
    }
    rows = [
        "x,y,z",  # valid
        "x,,",  # b (root and then: once), c (then: dependentRequired and required)
        "w,,",  # b (root)
        ",,",  # valid
    ]
    invalid, counts = counted(schema, csv_of("a,b,c", rows))
    assert invalid == 2 * 40
    assert counts == {"dependentRequired": 3 * 40, "required": 40}


@pytest.mark.parametrize(("bound", "expected"), [(3, {"maxLength": 40}), (2, {"maxLength": 120})])
def test_a_branch_keyword_that_the_root_has_too(bound: int, expected: dict[str, int]) -> None:
    """The same keyword with the same value in the root and a branch is one error (the same
    message); with another value, two."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "maxLength": 3}},
        "allOf": [{"properties": {"a": {"type": "string", "maxLength": bound}}}],
    }
    invalid, counts = counted(schema, csv_of("a", ["abcd", "ab", "abc"]))
    assert counts == expected
    assert invalid == (40 if bound == 3 else 80)


def test_a_nullable_pair_whose_wording_is_its_own_goes_to_the_reference() -> None:
    """A nullable written as an ``anyOf`` pair words its errors as its branch does: where a
    branch gives the same field and rule on the same row, the reference explains the row."""
    schema = {
        "type": "object",
        "properties": {
            "m": {"type": "string"},
            "n": {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "null"}]},
        },
        "if": {"properties": {"n": {"type": "integer"}}},
        "then": {"properties": {"n": {"type": "integer", "minimum": 5}}},
        "else": {"properties": {"n": {"type": "integer"}}},
    }
    rows = ["k,7", "k,3", "k,", "k,x", "k,5.5"]
    invalid, counts = counted(schema, csv_of("m,n", rows), reference=True)
    assert invalid == 4 * 40
    # "3": one minimum (the same message twice); "": else's type; "x", "5.5": two types
    # ("must be an integer or null" and "must be an integer")
    assert counts == {"minimum": 40, "type": 5 * 40}


@pytest.mark.parametrize(
    "applied",
    [
        {"if": {"required": ["a"]}, "then": {"minProperties": 2}},
        {"anyOf": [{"required": ["a"]}, {"type": "null"}]},
        {"not": {"properties": {"a": {"type": "object"}}}},
    ],
)
def test_a_branch_the_row_masks_do_not_carry_is_still_judged_per_record(
    applied: dict[str, Any],
) -> None:
    """A branch with a keyword outside the row masks (or a nullable pair of record schemas,
    or a subschema that is not flat): the plan is precise, nothing is counted column by
    column, and the report is the precise path's."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        **applied,
    }
    data = csv_of("a,b", ["x,", "x,y", ",y"])
    compiled = RecordSchema(schema)
    assert plan_for(compiled).precise is not None
    assert counter_for(compiled, plan_for(compiled)) is None
    assert report_of(schema, data, engine=True) == report_of(schema, data, engine=False)
    assert report_of(schema, data, engine=True)[1] > 0


def test_counted_batches_carry_their_rejected_rows() -> None:
    """pseudonymise fails closed on the rows a counted batch names as rejected."""
    data = csv_of("status,eind,verlengd", ["tijdelijk,,true", "onbepaald,,"], times=30)
    compiled = RecordSchema(PERMIT)
    out = {}
    for engine in (False, True):
        report = FileReport(path="-", max_errors=0, lines=LineMap())
        batches = Checker(compiled, max_errors=0, engine=engine).iter_csv(io.BytesIO(data), report)
        out[engine] = [sorted(b.rejected) for b in batches]
        assert Counter(report.error_counts) == Counter({"required": 30})
    assert out[True] == out[False] == [list(range(0, 60, 2))]


@pytest.mark.parametrize(
    "applied",
    [
        {"allOf": [{"properties": {"a": False}}]},
        {"allOf": [{"$ref": "#/$defs/no-a"}]},
        {"if": {"$ref": "#/$defs/no-a"}, "else": {"$ref": "#/$defs/no-a"}},
        {"allOf": [True, {"allOf": [{"properties": {"a": False}}]}]},
    ],
)
def test_a_false_property_in_a_branch_is_named_by_its_field(applied: dict[str, Any]) -> None:
    """The reference names a property a ``false`` subschema forbids by its field also inside
    a branch of ``allOf`` (a list) or behind a ``$ref`` (it said ``""``, the whole record),
    as the column-by-column count names it."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "$defs": {"no-a": {"properties": {"a": False}}},
        **applied,
    }
    found = RecordSchema(schema).reference.explain({"a": "x"}, 1)
    assert {(v.field, v.rule) for v in found} == {("/a", "false")}
    invalid, counts = counted(schema, csv_of("a,b", ["x,", ",y"]))
    assert (invalid, counts) == (40, {"false": 40})


def test_the_first_invalid_piece_is_explained_only_as_far_as_the_list_needs() -> None:
    """A piece of invalid records while the list still fills: judged precisely in small
    parts (128, 256, … rows), the rest of the piece counted once the list is full, not
    every record of it explained by the reference."""
    data = csv_of("status,eind,verlengd", ["tijdelijk,,nee", "onbepaald,2030-02-30,false"], 2500)
    explain = Reference.explain
    calls = []

    def counting(self: Reference, record: Any, record_no: int) -> Any:
        calls.append(record_no)
        return explain(self, record, record_no)

    with mock.patch.object(Reference, "explain", counting):
        fast = report_of(PERMIT, data, engine=True, max_errors=10)
    assert 0 < len(calls) <= 2 * 128
    assert max(calls) <= 128
    assert fast == report_of(PERMIT, data, engine=False, max_errors=10)
    assert fast[1] == 5000 and fast[3] == {
        "required": 2500,
        "type": 2500,
        "false": 5000,
        "date": 2500,
    }
