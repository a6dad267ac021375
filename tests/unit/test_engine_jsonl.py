"""JSON Lines through the columnar engine (ketenx.records.engine.jsonl): each thing pyarrow's
JSON reader reads otherwise than the strict decoder gives the precise path's report, and a
clean file is screened without decoding a record."""

from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock

import pytest

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import jsonl
from ketenx.records.readers import LineMap
from ketenx.records.validation import RecordSchema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "naam": {"type": ["string", "null"], "maxLength": 20},
        "leeftijd": {"type": "integer", "minimum": 0, "maximum": 130},
        "bedrag": {"type": "number", "multipleOf": 0.01},
        "actief": {"type": "boolean"},
    },
    "required": ["bsn", "leeftijd"],
    "additionalProperties": False,
}
GOOD = {"bsn": "111222333", "naam": "Jan", "leeftijd": 41, "bedrag": 19.99, "actief": True}


def lines(n: int = 300, **changes: Any) -> bytes:
    rec = {**GOOD, **changes}
    return b"".join(json.dumps(rec).encode() + b"\n" for _ in range(n))


def summary(data: bytes, engine: bool, schema: dict[str, Any] = SCHEMA) -> tuple[Any, ...]:
    report = Checker(RecordSchema(schema), max_errors=5, engine=engine).check(
        io.BytesIO(data), "jsonl"
    )
    errors = [(v.record, v.field, v.rule, v.message, v.line) for v in report.errors]
    return report.records, report.invalid_records, report.fatal, errors, report.error_counts


def same(data: bytes, schema: dict[str, Any] = SCHEMA) -> tuple[Any, ...]:
    with mock.patch.object(jsonl, "PIECE_BYTES", 2048):
        fast = summary(data, True, schema)
    assert fast == summary(data, False, schema)
    return fast


def screened(data: bytes, schema: dict[str, Any] = SCHEMA) -> list[bool]:
    """Per piece (2 KiB), whether the screen passed it."""
    seen: list[bool] = []
    real = jsonl._passes

    def spy(*args: Any) -> bool:
        seen.append(real(*args))
        return seen[-1]

    with mock.patch.object(jsonl, "PIECE_BYTES", 2048), mock.patch.object(jsonl, "_passes", spy):
        summary(data, True, schema)
    return seen


def test_a_clean_file_is_screened_piece_by_piece() -> None:
    data = lines()
    assert same(data)[:3] == (300, 0, False)
    passes = screened(data)
    assert len(passes) > 10 and all(passes)


def test_records_are_decoded_only_when_asked_for() -> None:
    checker = Checker(RecordSchema(SCHEMA))
    report = FileReport(path="-", lines=LineMap())
    with mock.patch.object(jsonl, "jsonl_records", side_effect=AssertionError("decoded")):
        assert sum(b.size for b in checker.iter_json(io.BytesIO(lines()), report, "jsonl")) == 300
    batches = list(checker.iter_json(io.BytesIO(lines()), FileReport(path="-"), "jsonl"))
    assert batches[0].records[0] == GOOD


HOSTILE = {
    "explicit null of a non-nullable field": b'{"bsn":"111222333","leeftijd":1,"actief":null}',
    "explicit null of a nullable field": b'{"bsn":"111222333","leeftijd":1,"naam":null}',
    "NaN": b'{"bsn":"111222333","leeftijd":1,"bedrag":NaN}',
    "Infinity": b'{"bsn":"111222333","leeftijd":1,"bedrag":-Infinity}',
    "a key twice": b'{"bsn":"111222333","leeftijd":1,"leeftijd":2}',
    "two records on a line": b'{"bsn":"111222333","leeftijd":1}{"bsn":"111222333","leeftijd":2}',
    "two records and a space": b'{"bsn":"111222333","leeftijd":1} {"bsn":"111222333","leeftijd":2}',
    "a blank line": b"",
    "a white-space line": b" \t ",
    "a byte order mark": b'\xef\xbb\xbf{"bsn":"111222333","leeftijd":1}',
    "an escaped colon": b'{"bsn":"111222333","leeftijd":1,"naam":"a\\u003ab"}',
    "an escaped control character": b'{"bsn":"111222333","leeftijd":1,"naam":"a\\u0000"}',
    "a lone surrogate": b'{"bsn":"111222333","leeftijd":1,"naam":"\\ud800"}',
    "a surrogate pair": b'{"bsn":"111222333","leeftijd":1,"naam":"\\ud83d\\ude00"}',
    "an integer beyond 2^53": b'{"bsn":"111222333","leeftijd":1,"bedrag":9007199254740993}',
    "an integer beyond 64 bits": b'{"bsn":"111222333","leeftijd":18446744073709551617}',
    "an empty string": b'{"bsn":"111222333","leeftijd":1,"naam":""}',
    "another key": b'{"bsn":"111222333","leeftijd":1,"x":1}',
    "a nested value": b'{"bsn":"111222333","leeftijd":{"a":1}}',
    "an integer written 1.0": b'{"bsn":"111222333","leeftijd":1.0}',
    "a string for a number": b'{"bsn":"111222333","leeftijd":"1"}',
    "an array": b"[1,2]",
    "bad syntax": b'{"bsn":"111222333",',
    "a missing required key": b'{"leeftijd":1}',
    "bad UTF-8": b'{"bsn":"111222333","leeftijd":1,"naam":"\xff"}',
    "a NUL byte": b'{"bsn":"111222333","leeftijd":1}\x00',
    "a broken BSN": b'{"bsn":"111222334","leeftijd":1}',
    "a number too big": b'{"bsn":"111222333","leeftijd":1,"bedrag":1e999}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_hostile_lines_give_the_precise_report(name: str, where: str) -> None:
    body = lines(60).splitlines(keepends=True)
    at = {"start": 0, "middle": 30, "end": 60}[where]
    data = b"".join([*body[:at], HOSTILE[name] + b"\n", *body[at:]])
    same(data)
    same(data.rstrip(b"\n"))  # no line end after the last line


@pytest.mark.parametrize(
    "line",
    [
        b'{"bsn":"111222333","leeftijd":1,"actief":null}',
        b'{"bsn":"111222333","leeftijd":1,"bedrag":NaN}',
        b'{"bsn":"111222333","leeftijd":1}{"bsn":"111222333","leeftijd":2}',
    ],
)
def test_what_pyarrow_reads_otherwise_is_not_screened(line: bytes) -> None:
    assert screened(line + b"\n") == [False]


def test_escaped_letters_are_screened() -> None:
    data = b'{"bsn":"111222333","leeftijd":1,"naam":"Ren\\u00e9e \\"R\\""}\n' * 100
    assert same(data)[:3] == (100, 0, False)
    assert all(screened(data))


def test_a_file_with_a_byte_order_mark_is_screened() -> None:
    data = b"\xef\xbb\xbf" + lines()
    assert same(data)[:3] == (300, 0, False)
    assert all(screened(data))


def test_crlf_line_ends_are_screened() -> None:
    data = lines().replace(b"\n", b"\r\n")
    assert same(data)[:3] == (300, 0, False)
    assert all(screened(data))


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": ["string", "integer"]}}},
        {"type": "object", "properties": {"a": {}}},
        {"type": "object", "properties": {"a": {"type": "object"}}},
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
    ],
)
def test_fields_of_more_than_one_type_or_structures_are_not_screened(
    schema: dict[str, Any],
) -> None:
    assert screened(b'{"a":"x"}\n', schema) == []
    same(b'{"a":"x"}\n{"a":1}\n{"a":[1]}\n', schema)


def test_explicit_nulls_are_judged_as_the_precise_path_judges_them() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": ["string", "null"]}},
        "required": ["b"],
    }
    for data in (b'{"a":null,"b":"x"}\n', b'{"a":"x","b":null}\n', b'{"a":"x"}\n'):
        assert same(data * 50, schema)[1] == (50 if data != b'{"a":"x","b":null}\n' else 0)


def test_root_keywords_with_absent_and_null_fields() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}, "b": {"type": "integer"}},
        "if": {"required": ["a"]},
        "then": {"required": ["b"]},
    }
    for data in (b'{"a":"x"}\n', b'{"b":1}\n', b'{"a":null}\n', b'{"a":"x","b":2}\n', b"{}\n"):
        same(data * 40, schema)


def test_a_break_after_a_screened_piece_names_its_record() -> None:
    data = lines(200) + b'{"bsn":"\xff"}\n' + lines(10)
    result = same(data)
    assert result[2] is True and result[3][-1][:3] == (201, "", "encoding")


def test_the_rule_of_a_break_looks_past_the_piece() -> None:
    data = lines(200) + b'{"naam":"\xff"}\n' + b"\x00" * 10
    assert same(data)[3][-1][2] == "binary"


def test_written_nulls_of_a_nullable_field_are_screened() -> None:
    data = lines(300, naam=None)
    assert same(data)[:3] == (300, 0, False)
    assert all(screened(data))


def test_written_and_absent_nulls_of_an_optional_nullable_field_are_screened() -> None:
    absent = {k: v for k, v in GOOD.items() if k != "naam"}
    data = b"".join(
        json.dumps(absent if i % 2 else {**GOOD, "naam": None}).encode() + b"\n" for i in range(300)
    )
    assert same(data)[:3] == (300, 0, False)
    assert all(screened(data))


@pytest.mark.parametrize(
    "records",
    [
        [{"a": None, "b": "x"}, {"b": "x"}],  # a: not nullable, written and absent
        [{"b": None}, {}],  # b: required and nullable, written and absent
        [{"a": None, "b": "x"}],  # a written null, not nullable
        [{"a": "x"}],  # b absent, required
    ],
)
def test_nulls_that_could_be_either_are_left_to_the_precise_path(
    records: list[dict[str, Any]],
) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": ["string", "null"]}},
        "required": ["b"],
    }
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records * 60)
    assert same(data, schema)[1] > 0
    assert not any(screened(data, schema))


@pytest.mark.parametrize("naam", ["12:30", "a:b:c", "Renée", None])
def test_colons_in_strings_and_written_nulls_are_told_apart(naam: str | None) -> None:
    # the colon count is taken only when the piece has more colons than keys with a value
    data = lines(200, naam=naam, actief=True)
    assert same(data)[:3] == (200, 0, False)
    assert all(screened(data))
    wrong = lines(200, naam=naam, actief=None)  # a written null of a field that allows none
    assert same(wrong)[1] == 200
