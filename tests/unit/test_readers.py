"""Streaming readers and the check loop on every input shape."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx.contract.model import load_contract
from ketenx.records import readers
from ketenx.records.check import Checker
from ketenx.records.readers import CsvReader, Malformed, json_array_batches, jsonl_batches
from tests.helpers import GOOD_ROWS, HEADER, SAMPLE_CONTRACT, csv_text


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker.for_schema(load_contract(SAMPLE_CONTRACT).schema)


def check_bytes(checker: Checker, data: bytes, fmt: str = "csv", **kw):
    return checker.check(io.BytesIO(data), fmt, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t,
        lambda t: "\ufeff" + t,  # BOM
        lambda t: t.replace("\n", "\r\n"),  # CRLF
        lambda t: t.replace(",", ";").replace('"Anna; Maria"', '"Anna, Maria"'),  # semicolons
    ],
)
def test_csv_variants_are_valid(checker, variant):
    report = check_bytes(checker, variant(csv_text(*GOOD_ROWS)).encode())
    assert report.valid, report.errors
    assert report.records == 3


def test_quoted_cells_with_embedded_newlines(checker):
    row = '111222333,"Anna\nMaria",Jansen,2015-03-02,V,1234 AB,12,Utrecht,,,'
    report = check_bytes(checker, csv_text(row, GOOD_ROWS[0]).encode())
    assert report.valid and report.records == 2


def test_explicit_delimiter(checker):
    text = csv_text(*GOOD_ROWS[:2]).replace(",", "|")
    assert check_bytes(checker, text.encode(), delimiter="|").valid


def test_leading_zeros_survive():
    reader = CsvReader(io.BytesIO(csv_text(GOOD_ROWS[1]).encode()))
    (batch,) = list(reader.batches())
    assert batch[0][0] == "012345672"


def test_blank_lines_are_skipped(checker):
    text = HEADER + "\n" + GOOD_ROWS[0] + "\n\n" + GOOD_ROWS[1] + "\n"
    report = check_bytes(checker, text.encode())
    assert report.valid and report.records == 2


def test_header_problems_are_record_zero(checker):
    header = HEADER.replace("gemeente", "woonplaats") + ",bsn"
    report = check_bytes(checker, (header + "\n" + GOOD_ROWS[0] + ",x\n").encode())
    found = {(v.record, v.field, v.rule) for v in report.errors}
    assert found == {
        (0, "/woonplaats", "unknown-column"),
        (0, "/bsn", "duplicate-column"),
        (0, "/gemeente", "required"),
    }
    assert report.records == 0  # rows are not validated when a required column is missing


def test_unknown_column_still_validates_rows(checker):
    text = csv_text(GOOD_ROWS[0] + ",x", header=HEADER + ",extra")
    report = check_bytes(checker, text.encode())
    assert {(v.record, v.rule) for v in report.errors} == {(0, "unknown-column")}
    assert report.records == 1


def test_empty_cells_null_or_absent(checker):
    # email_ouder allows null; huisnummer is required and not nullable.
    row = "111222333,Zoë,Jansen,2015-03-02,V,1234 AB,,Utrecht,,,"
    report = check_bytes(checker, csv_text(row).encode())
    assert [(v.field, v.rule) for v in report.errors] == [("/huisnummer", "required")]


def test_many_records_across_batches(checker, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    bad = GOOD_ROWS[0].replace("111222333", "111222334")
    rows = [GOOD_ROWS[0]] * 30 + [bad] + [GOOD_ROWS[2]] * 30
    report = check_bytes(checker, csv_text(*rows).encode())
    assert report.records == 61
    assert [(v.record, v.rule) for v in report.errors] == [(31, "nl-bsn")]


def records_json() -> list[dict]:
    return [
        {
            "bsn": "111222333",
            "voornamen": "Zoë",
            "achternaam": "J",
            "geboortedatum": "2015-03-02",
            "geslacht": "V",
            "postcode": "1234 AB",
            "huisnummer": 12,
            "gemeente": "Utrecht",
            "email_ouder": None,
            "lengte_cm": 120.5,
            "gewicht_kg": None,
        },
        {
            "bsn": "012345672",
            "voornamen": "Ann",
            "achternaam": "K",
            "geboortedatum": "2012-11-30",
            "geslacht": "M",
            "postcode": "9999 ZZ",
            "huisnummer": 7,
            "gemeente": "Ede",
        },
    ]


def test_jsonl_and_json_array(checker):
    recs = records_json()
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in recs).encode()
    assert check_bytes(checker, jsonl, "jsonl").valid
    assert check_bytes(checker, json.dumps(recs).encode(), "json").valid


def test_json_array_streams_across_small_blocks(monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 5)
    recs = records_json() * 10 + [{"n": 12345678901234567890, "x": [1, {"y": "ü"}]}, 3.25, "s"]
    data = json.dumps(recs, ensure_ascii=False, indent=1).encode()
    got = [r for batch in json_array_batches(io.BytesIO(data)) for r in batch]
    assert got == recs


def test_json_array_empty_and_trailing_content():
    assert list(json_array_batches(io.BytesIO(b" [ ] "))) == []
    with pytest.raises(Malformed) as info:
        list(json_array_batches(io.BytesIO(b"[{}] x")))
    assert info.value.rule == "json-syntax"


def test_json_record_size_limit(monkeypatch):
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 100)
    monkeypatch.setattr(readers, "BLOCK_BYTES", 16)
    data = json.dumps([{"a": "x" * 500}]).encode()
    with pytest.raises(Malformed) as info:
        list(json_array_batches(io.BytesIO(data)))
    assert info.value.rule == "record-size"
    assert "x" * 20 not in str(info.value)


def test_jsonl_broken_line_is_reported_and_reading_goes_on(checker):
    recs = records_json()
    lines = [json.dumps(recs[0]), '{"bsn": "111222333", ', json.dumps(recs[1])]
    report = check_bytes(checker, "\n".join(lines).encode(), "jsonl")
    assert report.records == 3
    assert [(v.record, v.rule) for v in report.errors] == [(2, "json-syntax")]


def test_jsonl_unknown_field(checker):
    rec = dict(records_json()[1], schoenmaat=44)
    report = check_bytes(checker, json.dumps(rec).encode(), "jsonl")
    assert [(v.field, v.rule) for v in report.errors] == [("/schoenmaat", "additionalProperties")]


def test_jsonl_reader_rejects_nan():
    (batch,) = list(jsonl_batches(io.BytesIO(b'{"a": NaN}\n')))
    assert isinstance(batch[0], Malformed)


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"\n\n", b"\r\n\r\n", b"\xef\xbb\xbf\r\n", b"   \n", b" \t \r\n\n  \n"],
)
def test_csv_of_blank_lines_has_no_records(data):
    contract = load_contract(SAMPLE_CONTRACT)
    strict = check_bytes(Checker.for_schema(contract.schema), data)
    assert [(v.record, v.rule) for v in strict.errors] == [(0, "no-records")]
    lenient = check_bytes(Checker.for_schema(contract.schema, allow_empty=True), data)
    assert lenient.valid and lenient.records == 0


def test_blank_lines_before_the_header_are_skipped(checker):
    report = check_bytes(checker, ("\r\n  \n" + csv_text(*GOOD_ROWS)).encode())
    assert report.valid and report.records == 3


BAD_BSN = GOOD_ROWS[0].replace("111222333", "111222334")
BREAKS = {
    "binary": lambda row: row.encode().replace(b"Jansen", b"Jan\x00sen"),
    "encoding": lambda row: row.encode().replace("Zoë".encode(), "Zoë".encode("latin-1")),
}


def _csv_with_break(rows: int, bad_at: int, break_at: int, rule: str) -> bytes:
    """A CSV of more than one read-ahead block; a schema error at ``bad_at``, a broken row
    (NUL byte or Latin-1 byte) at ``break_at``."""
    out = [HEADER.encode()]
    for n in range(1, rows + 1):
        row = BAD_BSN if n == bad_at else GOOD_ROWS[0]
        out.append(BREAKS[rule](row) if n == break_at else row.encode())
    return b"\n".join(out) + b"\n"


@pytest.mark.parametrize("rule", sorted(BREAKS))
@pytest.mark.parametrize("break_at", [1, 2, 12_345, 15_000])
def test_csv_break_is_reported_where_it_is_and_rows_before_are_checked(checker, rule, break_at):
    data = _csv_with_break(15_100, break_at - 1, break_at, rule)
    assert len(data) > readers.BLOCK_BYTES  # the break is beyond the first read-ahead block
    report = check_bytes(checker, data)
    expected = [(break_at - 1, "nl-bsn")] if break_at > 1 else []
    assert [(v.record, v.rule) for v in report.errors] == [*expected, (break_at, rule)]
    assert report.records == break_at - 1
    assert f"after record {break_at - 1}" in report.errors[-1].message


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_json_break_is_reported_where_it_is_and_records_before_are_checked(checker, fmt, rule):
    good, bad = records_json()[1], dict(records_json()[1], bsn="111222334")
    break_at = 14_000
    lines = []
    for n in range(1, 15_001):
        line = json.dumps(bad if n == break_at - 1 else good, ensure_ascii=False).encode()
        if n == break_at:
            line = line.replace(b'"Ede"', b'"Ed\x00e"' if rule == "binary" else b'"Ed\xebe"')
        lines.append(line)
    data = b"\n".join(lines) if fmt == "jsonl" else b"[" + b",\n".join(lines) + b"]"
    assert len(data) > readers.BLOCK_BYTES
    report = check_bytes(checker, data, fmt)
    assert [(v.record, v.rule) for v in report.errors] == [
        (break_at - 1, "nl-bsn"),
        (break_at, rule),
    ]
    assert report.records == break_at - 1


@pytest.mark.parametrize(
    ("tail", "record", "message"),
    [
        (b"", 4, "not closed"),
        (b",", 4, "not closed"),
        (b', {"bsn": ', 4, "not valid JSON"),
        (b"] x", 3, "after the JSON array"),
        (b"] []", 3, "after the JSON array"),
    ],
)
def test_json_array_cut_short_still_counts_records_before(checker, tail, record, message):
    recs = [records_json()[1]] * 3
    data = json.dumps(recs).encode()[:-1] + tail
    report = check_bytes(checker, data, "json")
    assert report.records == 3
    assert [(v.record, v.rule) for v in report.errors] == [(record, "json-syntax")]
    assert message in report.errors[0].message


def test_csv_multibyte_characters_split_across_tiny_blocks(monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 3)
    text = csv_text(*GOOD_ROWS)
    reader = CsvReader(io.BytesIO(text.encode()))
    rows = [row for batch in reader.batches() for row in batch]
    assert [reader.header, *rows] == list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"a,b\n1,\xc3", "encoding"),
        (b"a,b\n1,\xc3A\n", "encoding"),
        (b"a,b\n1,\xc3\x00\n", "binary"),
    ],
)
def test_csv_bad_bytes_at_a_block_edge(monkeypatch, data, rule):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 7)
    reader = CsvReader(io.BytesIO(data))
    with pytest.raises(Malformed) as info:
        list(reader.batches())
    assert (info.value.record, info.value.rule) == (1, rule)


@pytest.mark.parametrize("number", ["1e400", "-1E+999", "123456789e999"])
def test_json_numbers_beyond_a_float_are_rejected_not_infinite(number):
    line = f'{{"a": {number}}}'.encode()
    (batch,) = list(jsonl_batches(io.BytesIO(line + b'\n{"a": 1.5e300}\n')))
    assert isinstance(batch[0], Malformed) and "too large" in batch[0].message
    assert batch[1] == {"a": 1.5e300}
    with pytest.raises(Malformed) as info:
        list(json_array_batches(io.BytesIO(b'[{"a": 1}, ' + line + b"]")))
    assert (info.value.record, info.value.rule) == (2, "json-syntax")


@given(
    st.text(alphabet=st.sampled_from(list('ab,"\r\n\x0b\x0c\x85\u2028é'))),
    st.lists(st.integers(1, 7), max_size=20),
)
def test_line_blocks_split_as_newline_empty_does(text, cuts):
    """However the text is cut into blocks, the lines are those of a file opened with
    newline="" (LF, CRLF, CR; not the other breaks str.splitlines knows)."""
    blocks, pos = [], 0
    for cut in cuts:
        if pos < len(text):
            blocks.append(text[pos : pos + cut])
            pos += cut
    if pos < len(text):
        blocks.append(text[pos:])
    blocks = [b for b in blocks if b]
    got = [line for batch in readers._line_blocks(iter(blocks)) for line in batch]
    assert got == io.StringIO(text, newline="").readlines()


def test_a_line_longer_than_any_record_is_refused_early(monkeypatch):
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 100)
    monkeypatch.setattr(readers, "BLOCK_BYTES", 16)
    data = (HEADER + "\n" + GOOD_ROWS[0] + "\n" + "x" * 1000 + "\n").encode()
    reader = CsvReader(io.BytesIO(data))
    with pytest.raises(Malformed) as info:
        list(reader.batches())
    assert (info.value.record, info.value.rule) == (2, "record-size")
