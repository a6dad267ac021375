"""Parquet input (ketenx.records.engine.parquet) and output (ketenx.records.parquetwriter).

Parquet records are judged as the JSON values their Arrow types map to, a null as an empty
CSV cell; the report is the same as for the same records as JSON Lines and as CSV (the
differential properties below), with and without the engine's screen. A Parquet file is
untrusted: every hostile file here fails closed with a fixed, value-free message.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import struct
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.errors import UsageError
from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import parquet as kpq
from ketenx.records.parquetwriter import ParquetRecordWriter, ParquetTypes, arrow_schema
from ketenx.records.validation import MISSING
from tests.helpers import SAMPLE_CONTRACT
from tests.parquet_helpers import arrow_types, jsonl_of, parquet_bytes

SCHEMA: dict[str, Any] = yaml.safe_load(SAMPLE_CONTRACT.read_text())["schema"]
TYPES = arrow_types(SCHEMA)
SECRET_VALUE = "Zoë-Geheim-987654321"  # planted: must never appear in a message


def check(
    data: bytes, fmt: str = "parquet", schema: dict[str, Any] = SCHEMA, **kw: Any
) -> FileReport:
    return Checker.for_schema(schema, **kw).check(io.BytesIO(data), fmt)  # type: ignore[arg-type]


def summary(report: FileReport) -> tuple[Any, ...]:
    return (
        report.records,
        report.invalid_records,
        report.fatal,
        [(v.record, v.field, v.rule, v.message) for v in report.errors],
        dict(report.error_counts),
    )


def good(i: int) -> dict[str, Any]:
    return {
        "bsn": "111222333",
        "voornamen": f"Naam{i}",
        "achternaam": "Jansen",
        "geboortedatum": "2015-03-02",
        "geslacht": "V",
        "postcode": "1234 AB",
        "huisnummer": 1 + i % 500,
        "gemeente": "Utrecht",
        "email_ouder": "ouder@example.nl",
        "lengte_cm": 120.5,
        "gewicht_kg": 22.0 + i % 7,
    }


# --- generated records: the same report as JSON Lines and as CSV --------------------------

STRING_VALUES = {
    "bsn": st.sampled_from(["111222333", "012345672", "123456789", "12345", "abc"]),
    "voornamen": st.sampled_from(["Zoë", "Anna, Maria", "x" * 201, "é"]),
    "achternaam": st.sampled_from(["Jansen", "van der Meer"]),
    "geboortedatum": st.sampled_from(["2015-03-02", "2015-02-30", "02-03-2015"]),
    "geslacht": st.sampled_from(["M", "V", "X", "Q"]),
    "postcode": st.sampled_from(["1234 AB", "0123 AB", "9999 ZZ"]),
    "gemeente": st.sampled_from(["Utrecht", "'s-Hertogenbosch"]),
    "email_ouder": st.sampled_from(["ouder@example.nl", "geen-adres"]),
}
NUMBER_VALUES = {
    "huisnummer": st.integers(-5, 100_005),
    "lengte_cm": st.floats(0, 300, allow_nan=False).map(lambda f: round(f, 2)),
    "gewicht_kg": st.integers(0, 300).map(float),
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    rec = {}
    for name, values in {**STRING_VALUES, **NUMBER_VALUES}.items():
        if draw(st.integers(0, 9)) > 0:  # sometimes absent: null in Parquet, empty in CSV
            rec[name] = draw(values)
    return rec


def csv_bytes(recs: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(SCHEMA["properties"])
    writer.writerow(names)
    for r in recs:
        writer.writerow(
            [r.get(n, "") if not isinstance(r.get(n), float) else repr(r[n]) for n in names]
        )
    return out.getvalue().encode()


def nullable_as_null(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON Lines records that read as the Parquet ones: an absent nullable field is null
    there (a Parquet null is an empty CSV cell: null where the type allows it)."""
    nullable = {"email_ouder", "lengte_cm", "gewicht_kg"}
    return [{**dict.fromkeys(nullable), **r} for r in recs]


@settings(max_examples=60)
@given(st.lists(records(), min_size=1, max_size=40), st.booleans())
def test_parquet_reports_as_jsonl_and_csv(recs, engine):
    data = parquet_bytes(recs, TYPES, row_group_size=7)
    got = summary(check(data, engine=engine))
    assert got == summary(check(jsonl_of(nullable_as_null(recs)), "jsonl"))
    assert got == summary(check(csv_bytes(recs), "csv"))


def test_screen_and_precise_path_agree_over_many_batches():
    recs = [good(i) for i in range(10_000)]
    recs[5000]["bsn"] = "123456789"  # fails the 11-proef
    recs[9999]["huisnummer"] = 0
    data = parquet_bytes(recs, TYPES, row_group_size=3000)
    fast, slow = check(data), check(data, engine=False)
    assert summary(fast) == summary(slow)
    assert [(v.record, v.field, v.rule) for v in fast.errors] == [
        (5001, "/bsn", "nl-bsn"),
        (10000, "/huisnummer", "minimum"),
    ]


def test_the_screen_passes_valid_batches_without_the_precise_judge(monkeypatch):
    calls = []
    real = Checker.judge
    monkeypatch.setattr(
        Checker, "judge", lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
    )
    report = check(parquet_bytes([good(i) for i in range(9000)], TYPES))
    assert report.valid and report.records == 9000
    assert calls == []  # every batch screened
    check(parquet_bytes([good(i) for i in range(10)], TYPES), engine=False)
    assert calls  # the precise judge, when the engine is off


# --- types -----------------------------------------------------------------------------------


def one_column(name: str, array: pa.Array, schema: dict[str, Any]) -> FileReport:
    sink = io.BytesIO()
    pq.write_table(pa.table({name: array}), sink)
    return check(sink.getvalue(), schema=schema)


def flat(prop: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"type": "object", "properties": {"f": prop}, "required": ["f"] if required else []}


@pytest.mark.parametrize("engine", [True, False])
def test_an_integer_column_for_a_string_field_is_a_type_error_per_record(engine):
    sink = io.BytesIO()
    pq.write_table(pa.table({"f": pa.array([111222333, 2, 3], pa.int64())}), sink)
    report = check(sink.getvalue(), schema=flat({"type": "string"}), engine=engine)
    assert [(v.record, v.field, v.rule) for v in report.errors] == [
        (1, "/f", "type"),
        (2, "/f", "type"),
        (3, "/f", "type"),
    ]
    assert "111222333" not in str(report.errors)


@pytest.mark.parametrize(
    ("array", "prop", "rules"),
    [
        (pa.array(["5", "6"]), {"type": "integer"}, ["type", "type"]),  # never cast
        (pa.array([1, 2], pa.uint8()), {"type": "integer", "maximum": 1}, ["maximum"]),
        (pa.array([1.5, 2.0]), {"type": "integer"}, ["type"]),
        (pa.array([1.5, float("nan"), float("inf")]), {"type": "number"}, ["type", "type"]),
        (pa.array([True, False]), {"type": "boolean"}, []),
        (pa.array([True]), {"type": "string"}, ["type"]),
        (pa.array([None, None], pa.null()), {"type": ["string", "null"]}, []),
        (pa.array([None, "a"]), {"type": "string"}, ["required"]),
        (
            pa.array([dt.date(2020, 2, 29), dt.date(1999, 12, 31)]),
            {"type": "string", "format": "date"},
            [],
        ),
        (pa.array([dt.date(2020, 2, 29)]), {"type": "string", "maxLength": 4}, ["maxLength"]),
        (
            pa.array([decimal.Decimal("12.50"), decimal.Decimal("3")], pa.decimal128(5, 2)),
            {"type": "number", "maximum": 12.5},
            [],
        ),
        (
            pa.array([decimal.Decimal("3.00"), decimal.Decimal("3.10")], pa.decimal128(5, 2)),
            {"type": "integer"},
            ["type"],
        ),
        (pa.array(["", "x"]), {"type": "string", "minLength": 1}, ["minLength"]),  # "" is a string
        (pa.array(["a", "b"]).dictionary_encode(), {"enum": ["a"]}, ["enum"]),
        (pa.array(["a", "b"], pa.large_string()), {"type": "string", "enum": ["a"]}, ["enum"]),
    ],
)
def test_arrow_types_are_judged_as_their_json_values(array, prop, rules):
    report = one_column("f", array, flat(prop))
    assert [v.rule for v in report.errors] == rules
    assert not report.fatal


@pytest.mark.parametrize(
    ("array", "kind"),
    [
        (pa.array([dt.datetime(2020, 1, 1)]), "timestamp"),
        (pa.array([dt.time(1, 2)]), "time"),
        (pa.array([SECRET_VALUE.encode()]), "binary"),
        (pa.array([[SECRET_VALUE]]), "list"),
        (pa.array([{"a": SECRET_VALUE}]), "struct"),
        (pa.array([[(SECRET_VALUE, 1)]], pa.map_(pa.string(), pa.int64())), "map"),
    ],
)
def test_unsupported_column_types_are_refused_by_kind(array, kind):
    report = one_column("f", array, flat({}))
    assert report.fatal and report.records == 0
    [v] = report.errors
    assert (v.record, v.field, v.rule) == (0, "/f", "column-type")
    assert f"Parquet {kind} column" in v.message
    assert SECRET_VALUE not in v.message and "'a'" not in v.message


def test_columns_outside_the_schema_and_missing_columns_are_header_errors():
    sink = io.BytesIO()
    known = {n: pa.array(["a"]) for n in ("f", "g", "h")}
    table = pa.table({**known, "extra": pa.array([[1, 2]]), SECRET_VALUE: pa.array([1])})
    pq.write_table(table, sink)
    schema = {
        "type": "object",
        "properties": {n: {"type": "string"} for n in ("f", "g", "h", "k")},
        "required": ["f", "k"],
    }
    report = check(sink.getvalue(), schema=schema)
    assert [(v.field, v.rule) for v in report.errors] == [
        ("/extra", "unknown-column"),
        ("/<column 5>", "unknown-column"),
        ("/k", "required"),
    ]
    assert report.fatal and SECRET_VALUE not in str(report.errors)
    schema["required"] = ["f"]  # unknown columns are reported, the known ones checked
    report = check(sink.getvalue(), schema=schema)
    assert report.records == 1 and not report.fatal
    assert [v.rule for v in report.errors] == ["unknown-column", "unknown-column"]


# --- hostile files -------------------------------------------------------------------------------


def valid_file(n: int = 100) -> bytes:
    return parquet_bytes([{**good(i), "voornamen": SECRET_VALUE} for i in range(n)], TYPES)


def refused(data: bytes, **kw: Any) -> str:
    report = check(data, **kw)
    assert report.fatal and not report.valid
    v = report.errors[-1]
    assert v.rule == "parquet" and v.message.startswith("the file cannot be read as Parquet")
    text = str(report.errors)
    assert SECRET_VALUE not in text and "Naam" not in text and "Traceback" not in text
    return v.message


def test_not_parquet_and_truncated_files():
    data = valid_file()
    refused(b"bsn,naam\n1,2\n")
    refused(b"")
    refused(b"PAR1PAR1")
    refused(data[: len(data) // 2])
    refused(data[:-1])
    refused(b"PAR1" + b"\x00" * 100 + data[-8:])


def test_a_corrupt_footer_or_body_fails_closed():
    data = bytearray(valid_file(5000))
    (length,) = struct.unpack("<I", data[-8:-4])
    footer = len(data) - 8 - length
    for at in range(footer, len(data) - 8, max(1, length // 20)):
        broken = bytearray(data)
        broken[at] ^= 0xFF
        report = check(bytes(broken))
        assert SECRET_VALUE not in str(report.errors)
    body = bytearray(data)
    for at in range(8, footer, max(1, footer // 30)):
        body[at] ^= 0x5A
    report = check(bytes(body))
    assert not report.valid and SECRET_VALUE not in str(report.errors)


def test_a_footer_larger_than_the_limit_or_the_file():
    data = bytearray(valid_file())
    data[-8:-4] = struct.pack("<I", kpq.MAX_FOOTER_BYTES + 1)
    assert "metadata is larger" in refused(bytes(data))
    data[-8:-4] = struct.pack("<I", len(data))
    refused(bytes(data))


def test_an_absurd_column_count(monkeypatch):
    monkeypatch.setattr(kpq, "MAX_COLUMNS", 50)
    sink = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": pa.array([1]) for i in range(51)}), sink)
    assert "more than 50 columns" in refused(sink.getvalue())


def test_a_huge_row_group(monkeypatch):
    monkeypatch.setattr(kpq, "MAX_ROW_GROUP_BYTES", 10_000)
    assert "row group is larger" in refused(valid_file(5000))


def test_a_dictionary_bomb_is_refused_before_it_expands(monkeypatch):
    monkeypatch.setattr(kpq, "MAX_BATCH_BYTES", 1 << 20)
    big = SECRET_VALUE * 2000  # 40 kB, once in the dictionary; 4096 times in a batch
    sink = io.BytesIO()
    pq.write_table(pa.table({"voornamen": pa.array([big] * 5000)}), sink, use_dictionary=True)
    assert len(sink.getvalue()) < 100_000
    schema = flat({"type": "string"})
    schema["properties"] = {"voornamen": {"type": "string"}}
    schema["required"] = ["voornamen"]
    assert "would take more than" in refused(sink.getvalue(), schema=schema)


def test_a_value_longer_than_a_cell_may_be():
    sink = io.BytesIO()
    pq.write_table(pa.table({"f": pa.array(["x" * (kpq.MAX_CELL_BYTES + 1)])}), sink)
    assert "longer than the limit" in refused(sink.getvalue(), schema=flat({"type": "string"}))


class _Pipe(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def test_a_stream_that_cannot_seek_is_a_usage_error():
    with pytest.raises(UsageError, match="cannot be read from standard input"):
        Checker.for_schema(SCHEMA).check(_Pipe(), "parquet")  # type: ignore[arg-type]


# --- the writer ---------------------------------------------------------------------------------

OUT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "n": {"type": "integer"},
        "x": {"type": ["number", "null"]},
        "b": {"type": "boolean"},
    },
    "required": ["id", "n"],
}


def written(columns: dict[str, list[Any]], n: int, rows: int = 1) -> bytes:
    sink = io.BytesIO()
    names = list(OUT_SCHEMA["properties"])
    writer = ParquetRecordWriter(sink, names, arrow_schema(OUT_SCHEMA, names))
    for _ in range(rows):
        writer.write(columns, n)
    writer.close()
    return sink.getvalue()


@given(
    st.lists(
        st.tuples(
            st.text(max_size=5),
            st.integers(-(2**63), 2**63 - 1),
            st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-9, 9),
            st.booleans() | st.just(MISSING),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_writer_round_trips_and_is_deterministic(rows):
    columns = {
        k: list(c) for k, c in zip(OUT_SCHEMA["properties"], zip(*rows, strict=True), strict=True)
    }
    data = written(columns, len(rows))
    assert data == written(columns, len(rows))
    table = pq.read_table(io.BytesIO(data))
    assert [(f.name, str(f.type), f.nullable) for f in table.schema] == [
        ("id", "string", False),
        ("n", "int64", False),
        ("x", "double", True),
        ("b", "bool", True),
    ]
    back = table.to_pylist()
    for (i, n, x, b), rec in zip(rows, back, strict=True):
        assert rec == {
            "id": i,
            "n": n,
            "x": None if x is None else float(x),
            "b": None if b is MISSING else b,
        }
    assert check(data, schema=OUT_SCHEMA).valid


def test_the_writer_makes_row_groups_and_no_statistics(monkeypatch):
    import ketenx.records.parquetwriter as w

    monkeypatch.setattr(w, "ROW_GROUP_ROWS", 10)
    data = written({"id": ["a"] * 4, "n": [1] * 4, "x": [None] * 4, "b": [True] * 4}, 4, rows=7)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.num_rows == 28 and meta.num_row_groups == 3
    assert meta.row_group(0).column(0).statistics is None  # no value in the footer


@pytest.mark.parametrize(
    "prop", [{"type": ["string", "integer"]}, {"type": "object"}, {"type": "array"}, {}]
)
def test_a_field_without_one_parquet_type_is_refused(prop):
    with pytest.raises(ParquetTypes, match="/f"):
        arrow_schema(flat(prop), ["f"])


@pytest.mark.parametrize("every", [1, 3, 700, 5000])
def test_pieces_screened_skipped_and_judged_give_the_precise_report(monkeypatch, every):
    """Small pieces, invalid records spread: the screen misses, pieces are skipped and
    screened again, and the report is the precise path's."""
    monkeypatch.setattr(kpq, "PIECE_ROWS", 1000)
    recs = [good(i) for i in range(12_000)]
    for i in range(0, len(recs), every):
        recs[i]["geslacht"] = "Q"
    data = parquet_bytes(recs, TYPES, row_group_size=2500)
    fast, slow = check(data, max_errors=100_000), check(data, engine=False, max_errors=100_000)
    assert summary(fast) == summary(slow)
    assert fast.invalid_records == len(range(0, len(recs), every))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("gemeente", None),  # a null in a required field: `required`
        ("huisnummer", None),
        ("email_ouder", None),  # nullable: valid
        ("lengte_cm", 1000.0),
        ("lengte_cm", float("nan")),
        ("huisnummer", 0),
        ("voornamen", ""),  # an empty string, not an empty cell: `minLength`
        ("postcode", "0000 AA"),
    ],
)
def test_one_bad_value_among_valid_pieces_is_found_by_both_paths(monkeypatch, name, value):
    monkeypatch.setattr(kpq, "PIECE_ROWS", 2048)
    recs = [good(i) for i in range(6000)]
    recs[4321][name] = value
    data = parquet_bytes(recs, TYPES, row_group_size=3000)
    fast, slow = check(data), check(data, engine=False)
    assert summary(fast) == summary(slow)
    assert fast.invalid_records == (0 if name == "email_ouder" else 1)


def test_a_piece_is_screened_on_the_values_its_rows_use(monkeypatch):
    """Every piece of a row group carries the chunk's whole dictionary: a bad value in the
    first piece does not make the row group's later pieces (whose rows do not use it) miss
    the screen, and the report is the precise path's."""
    monkeypatch.setattr(kpq, "PIECE_ROWS", 1000)
    recs = [good(i) for i in range(6000)]
    recs[100]["postcode"] = "0000 AA"
    data = parquet_bytes(recs, TYPES, row_group_size=3000)
    judged: list[int] = []
    build = kpq._build

    def spy(arrays, kinds, empties, names=None, report_start=None):
        if report_start is not None:
            judged.append(report_start)
        return build(arrays, kinds, empties, names, report_start)

    monkeypatch.setattr(kpq, "_build", spy)
    fast = check(data)
    monkeypatch.setattr(kpq, "_build", build)
    assert summary(fast) == summary(check(data, engine=False))
    assert fast.invalid_records == 1
    assert judged == [0]  # only the piece that holds the bad value is judged precisely


def test_the_distinct_values_of_a_dictionary_piece_are_those_its_rows_use():
    dictionary = pa.array(["a", "bad", "c", ""])
    piece = pa.DictionaryArray.from_arrays(pa.array([0, 2, None, 0], pa.int32()), dictionary)
    assert kpq._distinct_text(piece).to_pylist() == ["a", "c"]
    every = pa.DictionaryArray.from_arrays(pa.array([3, 1, 0, 2], pa.int32()), dictionary)
    assert kpq._distinct_text(every) is None  # "" is used: not screened
    unused_empty = pa.DictionaryArray.from_arrays(pa.array([1, 1], pa.int32()), dictionary)
    assert kpq._distinct_text(unused_empty).to_pylist() == ["bad"]


def test_a_dictionary_index_out_of_range_is_not_screened():
    dictionary = pa.array(["a", "b"])
    indices = pa.array([0, 5, 5], pa.int32())
    piece = pa.DictionaryArray.from_buffers(
        pa.dictionary(pa.int32(), pa.string()), 3, indices.buffers(), dictionary
    )
    assert kpq._used_values(piece) is None
