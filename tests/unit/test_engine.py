"""The columnar engine's parts: ECMA-262 → RE2, format kernels, the plan and its paths."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ketenx.records import formats
from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import explain
from ketenx.records.engine.arrays import bools, lengths, mask, strings
from ketenx.records.engine.csvsource import CsvSource
from ketenx.records.engine.formats import FORMAT_KERNELS
from ketenx.records.engine.regex import to_re2
from ketenx.records.validation import RecordSchema, ecma_problem, ecma_search


def re2_search(pattern: str, texts: list[str]) -> list[bool]:
    import pyarrow.compute as pc

    return list(mask(pc.match_substring_regex(strings(texts), pattern)))


# --- ECMA-262 → RE2 ---------------------------------------------------------------------------

ATOMS = [
    "a", "Z", "0", "é", ".", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "[a-c]", "[^a-c]",
    "[0-9_-]", "[\\d.]", "\\.", "[\\-]", "\\+", "\\n", "\\t", "\\u00e9", "\\x41", "(?:ab|c)",
    "(x|)", " ",
]  # fmt: skip
QUANTIFIERS = ["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?"]
TEXTS = [
    "", "a", "ab", "abc", "Z", "0", "00", "123", "é", "\u00a0", "\ufeff", " ", "\t", "\n",
    "a\n", "ab\n", "\u2028", "\r", ".", "-", "+", "A", "x", "c", "_", "١٢٣", "aé", "abab",
]  # fmt: skip


@st.composite
def ecma_patterns(draw: st.DrawFn) -> str:
    terms = draw(st.lists(st.tuples(st.sampled_from(ATOMS), st.sampled_from(QUANTIFIERS)),
                          min_size=1, max_size=4))  # fmt: skip
    body = "".join(a + q for a, q in terms)
    if draw(st.booleans()):
        body = "^" + body
    if draw(st.booleans()):
        body += "$"
    if draw(st.integers(0, 4)) == 0:
        body = body + "|" + draw(st.sampled_from(ATOMS))
    return body


@settings(max_examples=300, deadline=None)
@given(pattern=ecma_patterns(), extra=st.lists(st.text(max_size=5), max_size=5))
def test_translated_patterns_match_what_ecma_262_matches(pattern: str, extra: list[str]) -> None:
    assume(ecma_problem(pattern) is None)
    re2 = to_re2(pattern)
    assert re2 is not None, pattern
    texts = TEXTS + extra + [t + "\n" for t in extra]
    texts = [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    assert re2_search(re2, texts) == [ecma_search(pattern, t) for t in texts]


@pytest.mark.parametrize(
    "pattern",
    ["\\p{Letter}", "a(?=b)", "(?<n>a)", "(a)\\1", "\\bword", "[]", "[^]", "a{2000}", "\\cA",
     "(?<=a)b", "\\k<n>"],
)  # fmt: skip
def test_constructs_without_an_exact_re2_spelling_are_not_translated(pattern: str) -> None:
    assert to_re2(pattern) is None


def test_dollar_is_the_end_of_the_text_and_digits_are_ascii() -> None:
    re2 = to_re2("^[0-9]{4}$")
    assert re2 is not None
    assert re2_search(re2, ["1234", "1234\n", "12345"]) == [True, False, False]
    digits = to_re2("^\\d+$")
    assert digits is not None
    assert re2_search(digits, ["123", "١٢٣"]) == [True, False]


# --- format kernels --------------------------------------------------------------------------


def confirmed_values_are_valid(name: str, values: list[str]) -> np.ndarray[Any, Any]:
    got = FORMAT_KERNELS[name](strings(values))
    check = formats.FORMATS[name]
    wrong = [v for v, ok in zip(values, got, strict=True) if ok and not check(v)]
    assert not wrong, (name, wrong)
    return got


def bsn_like(n: int) -> str:
    return f"{n:09d}"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**9 - 1).map(bsn_like), min_size=1, max_size=50))
def test_the_bsn_kernel_is_the_11_proef(values: list[str]) -> None:
    values += ["000000000", "12345678", "1234567890", "١٢٣٤٥٦٧٨٩", "11122233 "]
    got = confirmed_values_are_valid("nl-bsn", values)
    assert list(got) == [formats.is_bsn(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)).map(
            lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
        ),
        min_size=1,
        max_size=50,
    )
)
def test_the_date_kernel_is_the_calendar(values: list[str]) -> None:
    values += ["2020-02-29", "2021-02-29", "1900-02-29", "2000-02-29", "0000-01-01", "2020-1-01"]
    got = confirmed_values_are_valid("date", values)
    assert list(got) == [formats.is_date(v) for v in values]


ALPHABETS = {
    "date-time": "0123456789-:TtZz+. ",
    "nl-postcode": "0123456789 ASDZab",
    "email": "ab@. \t\x1c\u00a0é~!",
    "oin": "0123456789AB",
    "iban": "NL0123456789ABZ ",
}


@settings(max_examples=200, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(ALPHABETS)))
def test_format_kernels_confirm_only_valid_values(data: st.DataObject, name: str) -> None:
    values = data.draw(st.lists(st.text(ALPHABETS[name], max_size=22), min_size=1, max_size=30))
    samples = {
        "date-time": ["2020-01-01T10:00:00Z", "2020-02-30T10:00:00Z", "2016-12-31T23:59:60Z"],
        "nl-postcode": ["1234 AB", "1234AB", "1234 SS", "0123 AB"],
        "email": ["jan@example.nl", "a@b", "a b@c.nl"],
        "oin": ["00000001001234567000", "00000005001234567000"],
        "iban": ["NL91ABNA0417164300", "NL91ABNA0417164301", "BE68539007547034"],
    }[name]
    confirmed_values_are_valid(name, values + samples)


def test_kernels_confirm_the_common_form() -> None:
    cases = {
        "date-time": "2020-01-01T10:00:00+01:00",
        "nl-postcode": "1234 AB",
        "email": "jan.jansen@example.nl",
        "oin": "00000001001234567000",
        "iban": "NL91ABNA0417164300",
        "nl-bsn": "111222333",
        "date": "2024-02-29",
    }
    for name, value in cases.items():
        assert list(FORMAT_KERNELS[name](strings([value]))) == [True], name


# --- arrays ----------------------------------------------------------------------------------


@given(st.lists(st.booleans(), max_size=70), st.lists(st.text(max_size=4), max_size=20))
def test_arrow_arrays_round_trip_without_pyarrow_array(flags: list[bool], texts: list[str]) -> None:
    texts = [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    assert list(mask(bools(np.asarray(flags, dtype=bool)))) == flags
    arr = strings(texts)
    assert arr.to_pylist() == texts
    assert list(lengths(arr)) == [len(t.encode()) for t in texts]
    if len(texts) > 1:
        assert list(lengths(arr.slice(1))) == [len(t.encode()) for t in texts[1:]]


# --- the plan --------------------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "naam": {"type": "string", "pattern": "^\\p{Letter}+$"},
        "bedrag": {"type": "number", "multipleOf": 0.01, "minimum": 0},
        "adres": {"type": "object"},
    },
    "required": ["bsn"],
}


def test_explain_names_the_path_of_every_field() -> None:
    flat = {**SCHEMA, "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "adres"}}
    paths = {p.field: p for p in explain(flat)}
    assert paths["bsn"].path == "columnar" and "nl-bsn" in paths["bsn"].reason
    assert paths["naam"].path == "per-value" and "pattern" in paths["naam"].reason
    assert paths["bedrag"].path == "columnar" and "multipleOf" in paths["bedrag"].reason
    nested = {p.field: p for p in explain(SCHEMA)}
    assert nested["adres"].path == "native" and "nested object" in nested["adres"].reason
    assert nested["bsn"].path == "columnar"
    recursive = {"type": "array", "items": {"$ref": "#/properties/adres"}}
    declined = {**SCHEMA, "properties": {**SCHEMA["properties"], "adres": recursive}}
    paths = {p.field: p for p in explain(declined)}
    assert paths["adres"].path == "precise" and "recursive `$ref`" in paths["adres"].reason
    assert paths["bsn"].path == "precise" and "adres" in paths["bsn"].reason
    branching = {**flat, "if": {"required": ["naam"]}, "then": {"required": ["bedrag"]}}
    assert {p.path for p in explain(branching)} == {"columnar", "per-value"}
    counting = {**flat, "if": {"minProperties": 2}, "then": {"required": ["bedrag"]}}
    # Root keywords the row masks do not carry: each record's by jsonschema-rs (native).
    assert {p.path for p in explain(counting)} == {"native"}
    assert "root `if`, `then`" in explain(counting)[0].reason
    mapped = {**flat, "patternProperties": {"^x": {"type": "string"}}}
    assert "`patternProperties`" in explain(mapped)[0].reason
    dynamic = {**flat, "$dynamicAnchor": "x", "minProperties": 1}
    assert {p.path for p in explain(dynamic)} == {"precise"}


def test_a_valid_file_is_counted_without_the_precise_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that passes every kernel never reaches the per-record code."""
    flat = {**SCHEMA, "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "adres"}}
    data = b"bsn,naam,bedrag\n111222333,Zo\xc3\xab,19.99\n012345672,Jan,0.07\n"
    checker = Checker(RecordSchema(flat))
    monkeypatch.setattr(Checker, "_csv_batches", lambda *a: pytest.fail("precise path used"))
    report = checker.check(io.BytesIO(data), "csv")
    assert report.valid and report.records == 2


def test_a_batch_with_a_broken_rule_is_reported_by_the_precise_path() -> None:
    flat = {**SCHEMA, "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "adres"}}
    data = b"bsn,naam,bedrag\n111222333,Zo\xc3\xab,19.99\n111222334,J4n,0.071\n"
    report = Checker(RecordSchema(flat)).check(io.BytesIO(data), "csv")
    assert [(v.record, v.field, v.rule, v.line) for v in report.errors] == [
        (2, "/bedrag", "multipleOf", 3),
        (2, "/bsn", "nl-bsn", 3),
        (2, "/naam", "pattern", 3),
    ]


def test_root_if_then_else_is_a_row_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "status": {"enum": ["tijdelijk", "vast"]},
            "eind": {"type": "string", "format": "date"},
        },
        "required": ["status"],
        "if": {"properties": {"status": {"const": "tijdelijk"}}},
        "then": {"required": ["eind"]},
        "else": {"properties": {"eind": False}},
    }
    assert {p.path for p in explain(schema)} == {"columnar"}
    good = b"status,eind\ntijdelijk,2026-01-01\nvast,\n"
    bad = b"status,eind\ntijdelijk,\nvast,2026-01-01\n"
    report = Checker(RecordSchema(schema)).check(io.BytesIO(bad), "csv")
    assert [(v.record, v.field, v.rule) for v in report.errors] == [
        (1, "/eind", "required"),
        (2, "/eind", "false"),
    ]
    monkeypatch.setattr(Checker, "_csv_batches", lambda *a: pytest.fail("precise path used"))
    assert Checker(RecordSchema(schema)).check(io.BytesIO(good), "csv").valid


def test_a_utf16_file_is_left_to_the_precise_reader() -> None:
    source = CsvSource(io.BytesIO("a,b\n1,2\n".encode("utf-16")))
    assert source.fallback is not None and source.header is None


def test_pieces_hold_every_byte_after_the_header() -> None:
    body = b"".join(b'%d,"x\ny",z\n' % i for i in range(5000))
    source = CsvSource(io.BytesIO(b"a,b,c\n" + body))
    assert source.header == ["a", "b", "c"]
    pieces = list(source.pieces())
    assert b"".join(p.data for p in pieces) == body
    assert sum(p.table.num_rows for p in pieces if p.table is not None) == 5000


def test_the_column_plan_screens_long_columns_with_re2() -> None:
    from ketenx.records.validation import _pattern_screen

    screen = _pattern_screen("^(GM|WK)[0-9]{4}$")
    column = ["GM0363"] * 300
    assert screen(column)
    assert not screen([*column, "GM0363\n"])
    assert not screen([*column, "GM٠٣٦٣"])
    assert not screen([*column, "GM036\ud800"])


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["contract", "lint", "examples/contract.yaml"]],
)
def test_commands_that_read_no_data_do_not_import_pyarrow(argv: list[str]) -> None:
    """``ketenx --version`` and ``contract lint`` stay light (issue 10 §4), and so does
    :func:`ketenx.records.engine.explain`."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    code = (
        "import runpy, sys\n"
        f"sys.argv = ['ketenx', *{argv!r}]\n"
        "from ketenx.records.engine import explain\n"
        "explain({'type': 'object', 'properties': {'a': {'type': 'string', 'pattern': '^a'},"
        " 'b': {'type': 'integer', 'minimum': 1}}})\n"
        "try:\n    runpy.run_module('ketenx', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "heavy = [m for m in ('pyarrow', 'numpy', 'pandas') if m in sys.modules]\n"
        "print('HEAVY', heavy, code, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert "HEAVY [] 0" in proc.stderr, proc.stderr[-2000:]


def test_a_screened_batch_builds_the_columns_asked_for_as_the_precise_path_does() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "n": {"type": ["integer", "null"]},
            "s": {"type": "string"},
            "x": {"type": "number"},
        },
    }
    data = b"n,s,x\n05,007,1e3\n,a,\n7,,2.5\n"
    compiled = RecordSchema(schema)

    def batches(engine: bool) -> list[Any]:
        checker = Checker(compiled, engine=engine)
        return list(checker.iter_csv(io.BytesIO(data), FileReport("-")))

    fast, precise = batches(True), batches(False)
    assert [dict(b.columns) for b in fast] == [dict(b.columns) for b in precise]
    assert [dict(b.cells) for b in fast] == [
        {k: list(v) for k, v in b.cells.items()} for b in precise
    ]
    assert dict(batches(True)[0].columns_of(["n"])) == {"n": [5, None, 7]}


@pytest.mark.parametrize("name", ["iban", "email", "oin", "date-time"])
def test_the_column_plan_finds_format_failures_with_the_kernels(name: str) -> None:
    from ketenx.records.validation import kernel_failures

    good = {
        "iban": ["NL91ABNA0417164300", "BE68539007547034", "nl91abna0417164300"],
        "email": ["jan@example.nl", "zoë@example.nl"],
        "oin": ["00000001001234567000"],
        "date-time": ["2020-01-01T10:00:00Z", "2016-12-31T23:59:60Z"],
    }[name]
    bad = {
        "iban": ["NL91ABNA0417164301", "XX00"],
        "email": ["a@b", "a b@c.nl"],
        "oin": ["00000005001234567000"],
        "date-time": ["2020-02-30T10:00:00Z", "2020-01-01T10:00:60Z"],
    }[name]
    column = (good * 300)[:300] + bad
    check = formats.FORMATS[name]
    assert kernel_failures(name, column, check) == [i for i, v in enumerate(column) if not check(v)]
    assert kernel_failures(name, column[:10], check) is None  # short: value by value


FILL = b"0,v\n" * 20000  # past the first read (64 KiB), so the pieces are cut small
HANDMADE = {
    "stray quote": b"a,b\n" + FILL + b'1,x\n2,y"z\n3,"w"\n' + b"4,v\n" * 40,
    "quote then text": b"a,b\n" + FILL + b"2,v\n" * 40 + b'3,"w"v\n4,u\n',
    "unbalanced": b"a,b\n" + FILL + b"2,v\n" * 40 + b'3,"w\n4,u\n',
    "cr only": b"a,b\r1,x\r2,y\r",
    "long quoted cell": b"a,b\n" + FILL + b'1,"' + b"x\n" * 5000 + b'"\n2,y\n',
    "nul late": b"a,b\n" + FILL + b"1,x\n" * 60 + b"2,\x00\n3,z\n",
    "latin-1 late": b"a,b\n" + FILL + b"1,x\n" * 60 + b"2,\xe9\n3,z\n",
    "blank and ragged": b"a,b\n" + FILL + b"1,x\n\n2\n   \n3,z,q\n" + b"4,v\n" * 40,
}


@pytest.mark.parametrize("name", sorted(HANDMADE))
def test_hostile_files_give_the_precise_report(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ketenx.records.engine import csvsource

    monkeypatch.setattr(csvsource, "PIECE_BYTES", 4096)
    monkeypatch.setattr(csvsource, "MAX_PIECE_BYTES", 8192)
    rests: list[int] = []
    take_over = csvsource.CsvSource._rest
    monkeypatch.setattr(
        csvsource.CsvSource, "_rest", lambda self, *a: rests.append(1) or take_over(self, *a)
    )
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}

    def summary(engine: bool) -> tuple[Any, ...]:
        checker = Checker(RecordSchema(schema), max_errors=50, engine=engine)
        r = checker.check(io.BytesIO(HANDMADE[name]), "csv")
        return r.records, r.invalid_records, r.fatal, r.errors, sorted(r.error_counts.items())

    precise = summary(False)
    assert summary(True) == precise
    if name in ("stray quote", "quote then text", "unbalanced"):
        assert rests, "the precise reader took over the rest of the file"


def test_the_column_plan_finds_pattern_failures_with_re2() -> None:
    from ketenx.records.validation import ColumnPlan

    schema = {"type": "object", "properties": {"k": {"type": "string", "pattern": "^GM[0-9]{4}$"}}}
    column = ["GM0363"] * 300 + ["GM0363\n", "GM٠٣٦٣", "XX0001"]
    bad = ColumnPlan(schema).check_columns({"k": column})
    assert sorted(bad) == [300, 301, 302]
    assert ColumnPlan(schema).check_columns({"k": column[-3:]}) == {0: [("/k", "pattern")],
        1: [("/k", "pattern")], 2: [("/k", "pattern")]}  # fmt: skip
