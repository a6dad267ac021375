"""Outside-in audit of the JSON Lines screen (ketenx.records.engine.jsonl) and the F5 rule.

Each ``test_jN_*`` is a finding: it fails on the code audited (main at 1614088) and passes
once the engine gives the precise path's report and records (the promise of docs/check.md,
"The columnar engine (JSON Lines)"). The other tests pin what held under attack.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import ketenx
from ketenx.records.check import Checker
from ketenx.records.engine import csvsource, jsonl
from ketenx.records.readers import MAX_RECORD_BYTES
from ketenx.records.validation import RecordSchema
from tests.property.test_engine_jsonl_differential import handed_on

FLAT: dict[str, Any] = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
}
REQUIRED_A: dict[str, Any] = {**FLAT, "required": ["a"]}


def summary(data: bytes, engine: bool, schema: dict[str, Any], fmt: Any = "jsonl") -> Any:
    report = Checker(RecordSchema(schema), max_errors=7, engine=engine).check(io.BytesIO(data), fmt)
    errors = [(v.record, v.field, v.rule, v.message, v.line) for v in report.errors]
    return report.records, report.invalid_records, report.fatal, errors, report.error_counts


def same(data: bytes, schema: dict[str, Any], piece: int = 2048) -> Any:
    """The engine's report and records are the precise path's (pieces of ``piece`` bytes)."""
    with mock.patch.object(jsonl, "PIECE_BYTES", piece):
        fast = summary(data, True, schema)
        assert fast == summary(data, False, schema)
        assert handed_on(schema, data, True) == handed_on(schema, data, False)
    return fast


def jsonl_of(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


# --- findings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        # a record over two lines, and two records on one line: as many rows as lines
        b'{"a":\n1}\n{"a":2}{"a":3}\n',
        b'{"a":1,"b":\n"x"}\n{"a":2} {"a":3}\n',
        b'{"a":1,\n"b":"x"}\n{"a":2}\r{"a":3}\n',  # a lone CR between the two
    ],
)
def test_j1_a_record_across_lines_balanced_by_two_on_a_line(data: bytes) -> None:
    """J1 (high): every line is `json-syntax` on the precise path; the screen passed all three
    (pyarrow parses the piece as one stream of values, and only the counts were compared),
    then decoding the records handed on raised JSONDecodeError (pseudonymise: a traceback)."""
    assert summary(data, False, REQUIRED_A)[1] == 3
    same(data, REQUIRED_A)


def test_j2_a_null_line_at_the_start_of_a_piece_does_not_crash() -> None:
    """J2 (high: a crash): pyarrow 26's JSON reader segfaults on a block that starts with a
    top-level `null`; a file whose first line is `null` (or any piece's) killed `check` and
    `pseudonymise` with SIGSEGV. Run in a child, so a segfault fails only this test."""
    root = Path(ketenx.__file__).resolve().parent.parent
    code = (
        "import io, json\n"
        "from ketenx.records.check import Checker\n"
        "from ketenx.records.validation import RecordSchema\n"
        f"schema = {FLAT!r}\n"
        "for data in (b'null\\n', b'null\\n{\"a\":1}\\n'):\n"
        "    for engine in (True, False):\n"
        "        r = Checker(RecordSchema(schema), max_errors=7, engine=engine).check(\n"
        "            io.BytesIO(data), 'jsonl')\n"
        "        errors = [(v.record, v.field, v.rule, v.message, v.line) for v in r.errors]\n"
        "        print(json.dumps([r.records, r.invalid_records, r.fatal, errors]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.returncode  # -11: SIGSEGV
    fast1, precise1, fast2, precise2 = (json.loads(line) for line in done.stdout.splitlines())
    assert fast1 == precise1 and fast2 == precise2
    assert precise1[:3] == [1, 1, False] and precise2[:3] == [2, 1, False]


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}\nnull\n',
        b'{"a":1,"b":"x"}\nnull\n' * 40,
    ],
)
@pytest.mark.parametrize("nullable", [False, True])
def test_j3_a_null_line_is_not_a_record_of_absent_fields(data: bytes, nullable: bool) -> None:
    """J3 (high): after the first row pyarrow reads a `null` line as a row of nulls, which the
    screen took for absent keys: with no property required the piece passed, the report was
    valid and `null` was handed on (pseudonymise wrote it as `{}`); the precise path
    rejects it (`type`: must be an object)."""
    schema = FLAT
    if nullable:  # written nulls and a null line: "either" mode, judged as absent and written
        nullables = {"a": {"type": ["integer", "null"]}, "b": {"type": ["string", "null"]}}
        schema = {"type": "object", "properties": nullables}
        data = data.replace(b'"a":1', b'"a":null')
    assert summary(data, False, schema)[1] > 0
    same(data, schema)
    same(data, schema, piece=1 << 20)


def test_j4_the_rule_of_a_break_looks_into_a_long_line_that_follows() -> None:
    """J4 (low): a piece with bad UTF-8 followed by a line longer than a record may be: the
    engine's look-ahead (`_Pieces.following`) read on in the stream past the 16 MiB already
    handed to the precise reader (`rest`), so a NUL just after the bad byte was missed:
    `encoding` where the precise path says `binary` (F5: the rule must not depend on how the
    file is cut)."""
    good = b'{"a":1,"b":"xx"}\n'
    long_line = b"x" * 50 + b"\x00" + b"y" * (MAX_RECORD_BYTES + (2 << 20)) + b"\n"
    data = good * 100 + b'{"a":1,"b":"\xff"}\n' + long_line + good
    assert summary(data, False, FLAT)[3][-1][2] == "binary"
    assert summary(data, True, FLAT)[3][-1][2] == "binary"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ('{"a":1,"b":"\u00e9"}\n'.encode("cp1252") * 50 + b'{"a":1,"b":"\x81"}\n', "cp1252"),
        ('{"a":1}\n'.encode("utf-16-le") * 50 + b"\x00\xd8" + '"}\n'.encode("utf-16-le"), "utf-16"),
        (b"\xff\xfe" + '{"a":1}\n'.encode("utf-16-le") * 50 + b"\x00\xd8", None),  # by its BOM
    ],
)
def test_j5_a_byte_the_encoding_does_not_define_is_a_report_not_a_crash(
    data: bytes, encoding: str | None
) -> None:
    """J5 (medium: a crash): with `--encoding` (or a UTF-16 byte order mark) the input is a
    `_Transcoded` stream, whose read raises `_Broken` at an undefined byte; the CSV engine
    leaves such a stream to the precise reader, the JSON Lines engine did not, so `_Broken`
    escaped `check` and `pseudonymise` as a traceback (docs/check.md: it stops reading at
    its record, like bad UTF-8)."""
    from ketenx.records.readers import decoded

    def report(engine: bool) -> Any:
        stream = decoded(io.BufferedReader(io.BytesIO(data)), encoding)
        r = Checker(RecordSchema(FLAT), max_errors=7, engine=engine).check(stream, "jsonl")
        return r.records, r.fatal, [(v.record, v.rule, v.message, v.line) for v in r.errors]

    assert report(False)[1] is True
    assert report(True) == report(False)


@pytest.mark.parametrize("piece", [64, 4096, 1 << 19])
def test_j6_csv_the_rule_of_a_break_looks_into_a_piece_left_to_the_precise_reader(
    piece: int,
) -> None:
    """J6 (low): CSV. A piece with bad UTF-8, then a piece the precise reader takes over
    (a bare quote in a cell: not plain quoting) holding a NUL within 64 KiB: `_cuts` had
    already moved `_buf` past that piece, so `CsvSource.following` looked at the bytes after
    it and the break was `encoding` where the precise path says `binary` (F5). Also at the
    default piece size."""
    data = b"a,b\n" + b"1,xx\n" * 40 + b"1,x\xff\n" + b'1,a"b\n1,\x00\n' + b"1,xx\n" * 20000
    with mock.patch.object(csvsource, "PIECE_BYTES", piece):
        fast, precise = summary(data, True, FLAT, "csv"), summary(data, False, FLAT, "csv")
    assert precise[3][-1][:3] == (41, "", "binary")
    assert fast == precise


# --- what held --------------------------------------------------------------------------------

NUMBER = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "multipleOf": 0.01, "minimum": 0, "exclusiveMaximum": 100}
    },
}
NUMBERS = [
    b"0.30000000000000004",
    b"1E2",
    b"1e2",
    b"0.1e1",
    b"1e-7",
    b"-0",
    b"-0.0",
    b"5e-324",
    b"4.9406564584124654e-324",
    b"99.99999999999999999",
    b"0.0000000000000000000001",
    b"19.99",
    b"1.005",
    b"99.995",
    b"100",
    b"1.7976931348623157e308",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"9007199254740993",
    b"123456789012345678901234567890",
    b"NaN",
    b"Infinity",
    b"true",
    b'"1"',
    b"01",
    b"1.",
    b".5",
    b"+1",
]


@pytest.mark.parametrize("value", NUMBERS)
def test_numbers_as_written(value: bytes) -> None:
    same(b'{"x":1.5}\n' * 20 + b'{"x":%s}\n' % value * 20, NUMBER)


INTEGER = {"type": "object", "properties": {"x": {"type": "integer", "minimum": -5}}}


@pytest.mark.parametrize(
    "value",
    [
        b"-0",
        b"1.0",
        b"1e0",
        b"1E2",
        b"-6",
        b"9007199254740993",
        b"9223372036854775807",
        b"9223372036854775808",
        b"18446744073709551617",
        b"-9223372036854775809",
        b"true",
    ],
)
def test_integers_as_written(value: bytes) -> None:
    same(b'{"x":1}\n' * 20 + b'{"x":%s}\n' % value * 20, INTEGER)


PATTERNS = {
    "type": "object",
    "properties": {
        "x": {"type": "string", "pattern": "^[0-9]{4}$"},
        "y": {"type": "string", "pattern": "^\\w+$"},
        "z": {"type": "string", "maxLength": 3},
    },
}


@pytest.mark.parametrize(
    "line",
    [
        rb'{"x":"1234\n"}',
        rb'{"x":"1234\r"}',
        rb'{"x":"1234\u2028"}',
        '{"x":"1234\u2028"}'.encode(),
        '{"x":"\u0661234"}'.encode(),
        '{"y":"\u00e9"}'.encode(),
        rb'{"y":"a\u00e9"}',
        '{"y":"ab\u200b"}'.encode(),
        rb'{"z":"\ud83d\ude00ab"}',
        '{"z":"\U0001f600ab"}'.encode(),
        '{"z":"e\u0301ab"}'.encode(),
        rb'{"x":"1234\/"}',
        b'{"x":"12\t34"}',  # a raw tab: not JSON
        b'{"x":"12\xed\xa0\x8034"}',  # an encoded surrogate: not UTF-8
    ],
)
def test_patterns_and_lengths_of_odd_strings(line: bytes) -> None:
    same(b'{"x":"1234","y":"ab","z":"abc"}\n' * 20 + line + b"\n", PATTERNS)
    same((line + b"\n") * 30, PATTERNS)


CONTRACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "geboortedatum": {"type": "string", "format": "date"},
        "geslacht": {"type": "string", "enum": ["M", "V", "X"]},
        "postcode": {"type": "string", "format": "nl-postcode"},
        "huisnummer": {"type": "integer", "minimum": 1, "maximum": 99999},
        "email_ouder": {"type": ["string", "null"], "format": "email"},
        "lengte_cm": {"type": ["number", "null"], "minimum": 30, "maximum": 250},
    },
    "required": ["bsn", "geboortedatum", "geslacht", "postcode", "huisnummer"],
    "additionalProperties": False,
}
RECORD = {
    "bsn": "111222333",
    "geboortedatum": "2015-03-02",
    "geslacht": "M",
    "postcode": "1234AB",
    "huisnummer": 12,
    "email_ouder": "a@b.nl",
    "lengte_cm": 120.5,
}
ODD = {
    "geboortedatum": [
        "2015-02-29",
        "2016-02-29",
        "2015-3-02",
        "20150302",
        "2015-03-02 ",
        "\uff12015-03-02",
        "0000-01-01",
        "2015-13-01",
        "2015-03-02\n",
        "2015-03-02T00:00",
    ],
    "postcode": [
        "1234 AB",
        "1234ab",
        "0123AB",
        "1234SA",
        "1234  AB",
        "1234AB\n",
        " 1234AB",
        "\uff11234AB",
        "1234\u00a0AB",
    ],
    "bsn": [
        "011222333",
        "11122233",
        "1112223330",
        "111 222 333",
        "111222333\n",
        "\u0661\u0661\u0661222333",
        "000000000",
        "+11222333",
    ],
    "email_ouder": [
        "a@b",
        "a@@b.nl",
        "a b@c.nl",
        "a@b.nl\n",
        "\u00e9@b.nl",
        "a@b..nl",
        "a@[1.2.3.4]",
        '"a b"@c.nl',
        "a@b.nl.",
        "a@-b.nl",
    ],
    "geslacht": ["m", "M ", "X\n"],
}


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, vs in ODD.items() for v in vs])
def test_formats_and_enums_of_odd_strings(field: str, value: str) -> None:
    same(jsonl_of([RECORD] * 20 + [{**RECORD, field: value}] + [RECORD] * 20), CONTRACT_SCHEMA)


@pytest.mark.parametrize("field", ["email_ouder", "lengte_cm", "geslacht", "bsn"])
def test_null_and_absent_of_required_and_nullable_fields(field: str) -> None:
    absent = {k: v for k, v in RECORD.items() if k != field}
    same(jsonl_of([RECORD] * 20 + [absent] * 5), CONTRACT_SCHEMA)
    same(jsonl_of([RECORD] * 20 + [{**RECORD, field: None}] * 5), CONTRACT_SCHEMA)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.replace(b'"bsn"', b'"\\u0062sn"'),  # a key written with an escape
        lambda d: d.replace(b"\n", b"\r\n"),
        lambda d: d.replace(b"\n", b"\r", 3),  # lone CRs: records run together
        lambda d: d.replace(b", ", b",\t"),
        lambda d: d.replace(b'"huisnummer": 12', b'"huisnummer": 12, "huisnummer": 12', 1),
        lambda d: d.replace(b'"lengte_cm": 120.5', b'"lengte_cm": null, "lengte_cm": 1', 1),
        lambda d: d + b"\xef\xbb\xbf" + d,  # a byte order mark after the start
    ],
)
def test_escaped_keys_line_ends_and_duplicates(change: Any) -> None:
    same(change(jsonl_of([RECORD] * 30)), CONTRACT_SCHEMA)


PROPS: dict[str, Any] = {
    "a": {"type": ["string", "null"]},
    "b": {"type": "integer"},
    "c": {"enum": ["M", "V", None]},
    "d": {"type": "string", "enum": ["x", "y"]},
    "e": {"anyOf": [{"type": "number"}, {"type": "null"}]},
}
ROOTS: dict[str, dict[str, Any]] = {
    "if-then": {"if": {"required": ["a"]}, "then": {"required": ["b"]}},
    "if-then-else": {
        "if": {"properties": {"a": {"const": "x"}}, "required": ["a"]},
        "then": {"required": ["c"]},
        "else": {"properties": {"c": {"const": None}}},
    },
    "dependentRequired": {"dependentRequired": {"a": ["b", "c"]}},
    "allOf-required": {"allOf": [{"required": ["a"]}, {"required": ["c"]}]},
    "anyOf-required": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
    "oneOf-required": {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
    "not-required": {"not": {"required": ["a", "b"]}},
    "min-maxProperties": {"minProperties": 2, "maxProperties": 3},
    "required-closed": {"required": ["a", "c", "e"], "additionalProperties": False},
    "additionalProperties-schema": {"additionalProperties": {"type": "string"}},
    "propertyNames": {"propertyNames": {"maxLength": 1}},
}
SHAPES: list[dict[str, Any]] = [
    {},
    {"a": None},
    {"a": "x"},
    {"a": "x", "b": 1},
    {"a": None, "b": 1, "c": None},
    {"a": "y", "c": "M", "e": 1.5},
    {"b": -1, "c": "Q"},
    {"a": "x", "b": 1, "c": "M", "d": "x", "e": None},
    {"d": "z", "e": "s"},
    {"a": 0, "d": None},
]


@pytest.mark.parametrize("root", sorted(ROOTS))
def test_root_keywords_with_null_and_absent_fields(root: str) -> None:
    schema = {"type": "object", "properties": PROPS, **ROOTS[root]}
    for shape in SHAPES:
        same(jsonl_of([shape] * 30), schema)
    mixed = jsonl_of([SHAPES[(i * 7) % len(SHAPES)] for i in range(200)])
    same(mixed, schema, piece=300)


@pytest.mark.parametrize("gap", [65535, 65536])
@pytest.mark.parametrize("piece", [64, 4096, 65536, 1 << 20])
@pytest.mark.parametrize("before", [0, 3, 200])
def test_the_f5_rule_at_piece_boundaries_jsonl(gap: int, piece: int, before: int) -> None:
    good = b'{"a":1,"b":"xx"}\n'
    filler = good * ((gap - 4) // len(good))
    body = good * before + b'{"a":1,"b":"\xff' + b'"}\n' + filler
    body += b" " * (gap - 1 - 3 - len(filler))
    data = body + b"\x00" + good * 3
    assert data.index(b"\x00") - data.index(b"\xff") == gap
    result = same(data, FLAT, piece=piece)
    assert result[3][-1][2] == ("binary" if gap < 65536 else "encoding")


@pytest.mark.parametrize("gap", [65535, 65536])
@pytest.mark.parametrize("piece", [64, 4096, 65536, 1 << 19])
@pytest.mark.parametrize("quoted", [False, True])
def test_the_f5_rule_at_piece_boundaries_csv(gap: int, piece: int, quoted: bool) -> None:
    good = b"1,xx\n"
    bad, closing = (b'1,"x\xff', b'"\n') if quoted else (b"1,x\xff", b"\n")
    filler = good * ((gap - 10) // len(good))
    data = b"a,b\n" + good * 200 + bad + closing + filler
    data += b"1," + b"y" * (gap - 1 - len(closing) - len(filler) - 2) + b"\x00\n" + good
    assert data.index(b"\x00") - data.index(b"\xff") == gap
    with mock.patch.object(csvsource, "PIECE_BYTES", piece):
        fast, precise = summary(data, True, FLAT, "csv"), summary(data, False, FLAT, "csv")
    assert fast == precise
    assert fast[3][-1][2] == ("binary" if gap < 65536 else "encoding")


@pytest.mark.parametrize(
    "line",
    [
        b"1",
        b'"x"',
        b"[]",
        b"true",
        b"NaN",
        b'{"a":1}//c',
        b'{"a":1,}',
        b"{'a':1}",
        b'{"a":1}\x0c',
        b'{"a":1}\x0b',
        b'{"a":1,\x0c"b":"x"}',
        '{"a":1}\u00a0'.encode(),
        b'{"a":1} \t',
        b'{"a":1}\r\r',
    ],
)
def test_values_that_are_not_records_and_odd_white_space(line: bytes) -> None:
    same(b'{"a":1}\n' * 20 + line + b"\n" + b'{"a":2}\n' * 20, FLAT)


def test_messages_hold_no_value_from_the_data() -> None:
    secret = "987654321"  # a value a message must never show
    data = jsonl_of([{"a": 1, "b": secret}] * 5) + b'{"a":"%s","b":"%s"}\n' % (
        secret.encode(),
        secret.encode(),
    )
    schema = {
        **FLAT,
        "properties": {"a": {"type": "integer"}, "b": {"type": "string", "maxLength": 3}},
    }
    for engine in (True, False):
        report = Checker(RecordSchema(schema), engine=engine).check(io.BytesIO(data), "jsonl")
        assert report.errors and all(secret not in v.message for v in report.errors)


def test_j1_on_the_output_side_with_the_risk_meter() -> None:
    """J1 on the output side (`check --side output`, `unpack`): the risk meter asks for the
    screened records, and decoding the lines of the record across two lines raised
    JSONDecodeError out of `Checker.check` (a traceback) instead of a report."""
    from ketenx.contract.model import load_contract
    from ketenx.transform.delivered import DeliveredSide

    root = Path(ketenx.__file__).resolve().parent.parent
    side = DeliveredSide.of(load_contract(root / "examples" / "contract.yaml"))
    record = {
        "persoon_id": "kx1_" + "A" * 27,
        "leeftijdsgroep": "5-9",
        "geslacht": "M",
        "postcode": "1234",
        "gemeente": "Utrecht",
        "email_ouder": None,
        "lengte_cm": 120.5,
        "gewicht_kg": None,
    }
    line = json.dumps(record).encode()
    data = line.replace(b', "geslacht"', b',\n"geslacht"') + b"\n" + line + line + b"\n"
    data = (line + b"\n") * 50 + data

    def report(engine: bool) -> Any:
        checker, meter = side.checker(max_errors=7)
        checker = Checker(
            checker.schema,
            max_errors=7,
            unneutralise=True,
            observe=checker.observe,
            observed=checker.observed,
            engine=engine,
        )
        r = checker.check(io.BytesIO(data), "jsonl")
        errors = [(v.record, v.field, v.rule, v.message, v.line) for v in r.errors]
        return r.records, r.invalid_records, r.fatal, errors, repr(meter and meter.verdict())

    assert report(False)[1] == 3
    assert report(True) == report(False)


SPELLED: dict[str, Any] = {
    "a": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    "b": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
    "c": {"$ref": "#/$defs/nd"},
    "d": {"enum": [None, "x"]},
    "e": {"type": ["integer", "number"], "maximum": 10},
    "f": {"$ref": "#/$defs/n"},
    "g": {"allOf": [{"type": "string"}, {"maxLength": 2}]},
    "h": {"type": "string", "not": {"const": "zz"}},
}
SPELLED_DEFS: dict[str, Any] = {
    "nd": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    "n": {"type": ["number", "null"], "minimum": 0},
}
SPELLED_VALUES: dict[str, list[Any]] = {
    "a": [None, "2015-03-02", "2015-02-30"],
    "b": [None, 1, 0],
    "c": [None, "2015-03-02", "x"],
    "d": [None, "x", "y"],
    "e": [1, 10.5, None, 9.99],
    "f": [None, 1.5, -1],
    "g": ["ab", "abc", None],
    "h": ["a", "zz", None],
}


@pytest.mark.parametrize("required", [[], ["a", "b", "c"], sorted(SPELLED)])
def test_nullables_however_spelled_written_or_absent(required: list[str]) -> None:
    import random

    schema = {"type": "object", "$defs": SPELLED_DEFS, "properties": SPELLED, "required": required}
    rng = random.Random(5)
    for _ in range(40):
        record = {k: rng.choice(v) for k, v in SPELLED_VALUES.items() if rng.random() < 0.8}
        same(jsonl_of([record] * 30), schema)
    mixed = [
        {k: rng.choice(v) for k, v in SPELLED_VALUES.items() if rng.random() < 0.8}
        for _ in range(300)
    ]
    same(jsonl_of(mixed), schema, piece=400)
