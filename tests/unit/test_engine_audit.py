"""Audit of the columnar engine of ``check`` (ketenx.records.engine) against the precise path.

One test per finding (F1–F5 fixed; F5 was the rule a broken file is reported under depending
on where the pieces are cut). The last tests pin down what held.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from ketenx.records import readers
from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import csvsource
from ketenx.records.readers import BINARY_LOOKAHEAD, LineMap, Malformed
from ketenx.records.validation import RecordSchema

TWO = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}


def summary(schema: dict[str, Any], data: bytes, engine: bool, **kw: Any) -> tuple[Any, ...]:
    checker = Checker(RecordSchema(schema), max_errors=50, engine=engine)
    r = checker.check(io.BytesIO(data), "csv", **kw)
    errors = [(v.record, v.field, v.rule, v.message, v.line) for v in r.errors]
    return r.records, r.invalid_records, r.fatal, errors, sorted(r.error_counts.items())


def cells_read(schema: dict[str, Any], data: bytes, engine: bool) -> list[Any]:
    """The cells of every record as ``check`` hands them on (what pseudonymise writes)."""
    checker = Checker(RecordSchema(schema), engine=engine)
    report = FileReport(path="-", lines=LineMap())
    rows: list[Any] = []
    try:
        for batch in checker.iter_csv(io.BytesIO(data), report):
            cols = batch.cells
            rows.extend(tuple(cols[k][i] for k in sorted(cols)) for i in range(batch.size))
    except Malformed as problem:
        rows.append(("malformed", problem.record, problem.rule))
    return rows


def same(schema: dict[str, Any], data: bytes, **kw: Any) -> None:
    assert summary(schema, data, True, **kw) == summary(schema, data, False, **kw)


# --- F1: pyarrow drops a UTF-8 BOM at the start of every piece ---------------------------------

BOM = b"\xef\xbb\xbf"


def test_a_bom_starting_the_first_record_is_part_of_the_cell() -> None:
    schema = {"type": "object", "properties": {"bsn": {"type": "string", "format": "nl-bsn"}}}
    data = b"bsn\n" + BOM + b"111222333\n"  # precise: not a BSN; engine: valid
    same(schema, data)


def test_a_bom_cell_at_a_piece_start_is_kept_as_read() -> None:
    data = b"a,b\n" + BOM + b"Utrecht,x\n"
    assert cells_read(TWO, data, True) == cells_read(TWO, data, False)  # pseudonymise writes these


def test_a_bom_only_line_is_a_record_of_a_one_column_file() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 1}}}
    data = b"a\n" + BOM + b"\nx\n"  # precise: 2 valid records; engine: 1 record (a lost row)
    same(schema, data)


def test_a_bom_at_a_later_piece_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvsource, "_HEAD_BYTES", 64)
    monkeypatch.setattr(csvsource, "PIECE_BYTES", 64)
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}, "b": {}}}
    data = b"a,b\n" + b"0,v\n" * 16 + BOM + b"xyz,1\n" + b"0,v\n" * 40
    same(schema, data)


# --- F2: quadratic quote counting in the cutter -----------------------------------------------


class Counting(bytes):
    """bytes that add up how many bytes ``count`` scans."""

    scanned = 0

    def count(self, sub: Any, start: Any = None, end: Any = None) -> int:
        lo = 0 if start is None else start
        hi = len(self) if end is None else end
        Counting.scanned += max(0, hi - lo)
        return bytes.count(self, sub, start, end)


def _source() -> csvsource.CsvSource:
    source = csvsource.CsvSource(io.BytesIO(b"a,b\n"))
    source._eof = True
    return source


def test_cutting_after_an_unbalanced_quote_is_linear() -> None:
    buf = Counting(b'"' + b"1,x\n" * 5000)  # 512 KiB of this: 29 s (precise: 0.01 s)
    Counting.scanned = 0
    assert _source()._cut(buf) == -1
    assert Counting.scanned <= 4 * len(buf)


def test_checking_a_long_multi_line_cell_is_linear() -> None:
    data = Counting(b'1,"' + b"x\n" * 5000 + b'"\n2,y\n')  # a legal 256 KiB cell: 5 s
    Counting.scanned = 0
    assert _source()._plain_quoting(data)
    assert Counting.scanned <= 4 * len(data)


# --- F3: a non-ASCII delimiter crashes the engine -------------------------------------------------


def test_a_multi_byte_delimiter_is_read_as_the_precise_path_reads_it() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 1}, "b": {}}}
    data = "aéb\n1éx\n22éy\n".encode()
    same(schema, data, delimiter="é")


# --- F4: a translated pattern RE2 refuses crashes check ---------------------------------------

NESTED_PATTERN = "^(?:[a-z]{1,100}){1,100}$"
NESTED = {"type": "object", "properties": {"k": {"type": "string", "pattern": NESTED_PATTERN}}}


def test_a_nested_counted_repetition_does_not_crash_the_engine() -> None:
    same(NESTED, b"k\n" + b"abc\n" * 5 + b"1\n")  # precise: 1 invalid record; engine: ArrowInvalid


def test_a_nested_counted_repetition_does_not_crash_the_precise_path() -> None:
    report = summary(NESTED, b"k\n" + b"abc\n" * 400 + b"1\n", False)
    assert report[1] == 1


# --- F5: binary vs encoding depends on where the pieces are cut ------------------------------
# The rule is now counted in the file's bytes (a NUL byte within BINARY_LOOKAHEAD bytes of the
# first broken byte: binary), and the engine's piece reader looks past the piece's end.


def test_the_fatal_rule_does_not_depend_on_piece_boundaries() -> None:
    data = b"a,b\n\xff,x\n" + b"1,2\n" * 200000 + b"\x00\n"  # NUL far after: encoding
    same(TWO, data)
    assert summary(TWO, data, True)[3][-1][2] == "encoding"


def test_bad_utf8_shortly_before_a_nul_in_a_later_piece_is_binary() -> None:
    # the break ends one piece; the NUL starts the next: the engine looks past the piece
    lines = b"1,2\n" * ((csvsource.PIECE_BYTES - 6) // 4)
    data = b"a,b\n" + lines + b"\xff,\n" + b"\x00,x\n" + b"3,4\n" * 1000
    same(TWO, data)
    assert summary(TWO, data, True)[3][-1][2] == "binary"


@pytest.mark.parametrize(
    ("gap", "rule"),
    [(0, "binary"), (100, "binary"), (BINARY_LOOKAHEAD - 2, "binary"),
     (BINARY_LOOKAHEAD - 1, "encoding"), (BINARY_LOOKAHEAD + 5000, "encoding")],
)  # fmt: skip
def test_the_rule_counts_bytes_from_the_first_broken_byte(gap: int, rule: str) -> None:
    # \xff, then `gap` bytes, a NUL: the NUL is `gap + 1` bytes after the break
    filler = (b"z" * 9 + b"\n") * (gap // 10) + b"z" * (gap % 10)
    data = b"a,b\n1,x\n\xff" + filler + b"\x00\n"
    for engine in (True, False):
        assert summary(TWO, data, engine)[3][-1][2] == rule, engine


@pytest.mark.parametrize("block", [7, 64, 1000, 1 << 20])
def test_the_rule_does_not_depend_on_the_block_size(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", block)
    for gap, rule in ((10, "binary"), (BINARY_LOOKAHEAD + 10, "encoding")):
        data = b"a,b\n1,x\n\xe2\x82" + b"z" * gap + b"\x00\n"  # a cut sequence, then text
        assert summary(TWO, data, False)[3][-1][2] == rule


# --- what held ----------------------------------------------------------------------------------

HELD_FILES = {
    "cr only": b"a,b\r1,x\r22,y\r",
    "mixed ends": b"a,b\r\n1,x\n22,y\r333,z\r\n",
    "quoted crlf and cr": b'a,b\n1,"x\r\ny"\n22,"a\rb"\n\n333,z',
    "quote after quote": b'a,b\n1,"x"y\n22,z\n',
    "ragged and blank": b"a,b\n1,x\n\n   \n22\n333,z,q\n4444,w\n",
    "quoted bom": b'a,b\n"\xef\xbb\xbfx",1\n22,y\n',
    "semicolon": b"a;b\n1;x\n22;y\n",
    "tab": b"a\tb\n1\tx\n22\ty\n",
    "duplicate header": b"a,a,b\n1,2,3\n",
    "header only": b"a,b\n",
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(HELD_FILES))
def test_hostile_bytes_give_the_precise_report(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvsource, "_HEAD_BYTES", 16)
    monkeypatch.setattr(csvsource, "PIECE_BYTES", 8)
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 1}, "b": {}}}
    data = HELD_FILES[name]
    assert summary(schema, data, True) == summary(schema, data, False)
    assert cells_read(schema, data, True) == cells_read(schema, data, False)


BORDER = {
    "integer": ({"type": "integer", "minimum": 1}, "5",
                ["05", "1e3", " 1", "-0", "+4", "1e400", "9" * 20, "1.0", "١٢٣", "１２"]),
    "money": ({"type": "number", "multipleOf": 0.01}, "19.99", ["19.999", "1e-2", "0.1", "NaN"]),
    "boolean": ({"type": ["boolean", "null"]}, "true", ["True", "TRUE", "yes", "1", "null"]),
    "date": ({"type": "string", "format": "date"}, "2024-02-29",
             ["2023-02-29", "2024-01-01 ", "２０２４-01-01", "2024-1-01"]),
    "date-time": ({"type": "string", "format": "date-time"}, "2024-01-01T10:00:00Z",
                  ["2024-01-01T24:00:00Z", "2024-06-30T23:59:60Z", "2024-01-01t10:00:00z"]),
    "bsn": ({"type": "string", "format": "nl-bsn"}, "111222333",
            ["１１１２２２３３３", " 111222333", "000000000", "11122233"]),
    "pattern": ({"type": "string", "pattern": "^\\d{4}$"}, "1234", ["1234\n", "١٢٣٤", "12345"]),
    "word": ({"type": "string", "pattern": "^\\w+$"}, "ab", ["é", "a b", "ab\n"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BORDER))
def test_borderline_values_in_long_columns_give_the_precise_report(name: str) -> None:
    prop, good, odd = BORDER[name]
    schema = {"type": "object", "properties": {"f": prop}}
    for value in odd:
        cell = '"' + value + '"' if "\n" in value else value
        data = b"f\n" + (good + "\n").encode() * 400 + (cell + "\n").encode()
        assert summary(schema, data, True) == summary(schema, data, False), value


def test_no_cell_value_reaches_the_report() -> None:
    schema = {
        "type": "object",
        "properties": {
            "bsn": {"type": "string", "format": "nl-bsn"},
            "n": {"type": "integer", "maximum": 9},
        },
        "required": ["bsn"],
    }
    data = b"bsn,n\n" + b"111222333,1\n" * 400 + b"999888776,12345\n" + b'"zq""x",7,extra\n'
    report = Checker(RecordSchema(schema)).check(io.BytesIO(data), "csv")
    text = repr(report.errors)
    assert report.invalid_records == 2
    assert not any(v in text for v in ("999888776", "12345", "zq"))
