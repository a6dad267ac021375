"""Outside-in audit of the Parquet input and output (docs/formats.md, "Parquet files").

One test per attack: F1–F7 were findings, fixed (F6, the row-group bound that trusted the
footer, a day later); plain tests for attacks that held. Every file
here is built with pyarrow; a planted marker must never reach a message.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import parquet as kpq
from tests.helpers import SAMPLE_CONTRACT
from tests.parquet_helpers import arrow_types, jsonl_of

MARKER = "GEHEIM-111222333"
CONTRACT: dict[str, Any] = yaml.safe_load(SAMPLE_CONTRACT.read_text())
SCHEMA: dict[str, Any] = CONTRACT["schema"]
TYPES = arrow_types(SCHEMA)


def flat(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
    }


def pq_bytes(table: pa.Table, **kw: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **kw)
    return sink.getvalue()


def check(data: bytes, schema: dict[str, Any], fmt: str = "parquet", **kw: Any) -> FileReport:
    return Checker.for_schema(schema, **kw).check(io.BytesIO(data), fmt)  # type: ignore[arg-type]


def summary(report: FileReport) -> tuple[Any, ...]:
    return (
        report.records,
        report.invalid_records,
        report.fatal,
        sorted((v.record, v.field, v.rule) for v in report.errors),
    )


def good(i: int) -> dict[str, Any]:
    return {
        "bsn": "111222333",
        "voornamen": f"Naam{i}",
        "achternaam": "Jansen",
        "geboortedatum": "2015-03-02",
        "geslacht": "V",
        "postcode": "1234 AB",
        "huisnummer": 1 + i,
        "gemeente": "Utrecht",
        "email_ouder": "ouder@example.nl",
        "lengte_cm": 120.5,
        "gewicht_kg": 22.0,
    }


def sample_table(n: int = 5, **columns: pa.Array) -> pa.Table:
    rows = [good(i) for i in range(n)]
    arrays = {name: pa.array([r.get(name) for r in rows], type=t) for name, t in TYPES.items()}
    arrays.update(columns)
    return pa.table(arrays)


def bad_utf8(n: int) -> pa.Array:
    """A ``string`` array whose values are not UTF-8 (pyarrow does not check on build)."""
    value = b"\xff\xfe" + MARKER.encode()
    offsets = pa.array([i * len(value) for i in range(n + 1)], type=pa.int32())
    return pa.Array.from_buffers(
        pa.string(), n, [None, offsets.buffers()[1], pa.py_buffer(value * n)]
    )


# --- findings ----------------------------------------------------------------------------


def test_f1_a_float32_column_gets_the_same_report_on_both_paths():
    schema = flat({"x": {"type": "number", "maximum": 0.1}})
    data = pq_bytes(pa.table({"x": pa.array([0.1] * 3, type=pa.float32())}))
    precise = summary(check(data, schema, engine=False))
    assert precise[1] == 3  # the JSON value 0.10000000149011612 is above the maximum
    assert summary(check(data, schema)) == precise


def test_f2_a_string_column_that_is_not_utf8_is_refused():
    schema = flat({"s": {"type": "string", "maxLength": 40}})
    report = check(pq_bytes(pa.table({"s": bad_utf8(3)})), schema)
    assert report.errors, "invalid UTF-8 accepted as valid strings"
    assert all(MARKER not in v.message for v in report.errors)


def test_f3_a_string_column_that_is_not_utf8_fails_closed_on_the_precise_path():
    schema = flat({"s": {"type": "string", "maxLength": 40}})
    report = check(pq_bytes(pa.table({"s": bad_utf8(3)})), schema, engine=False)
    assert [v.rule for v in report.errors] == ["parquet"]


@pytest.mark.parametrize(
    "array",
    [pa.array([-800_000], type=pa.date32()), pa.array([10**15], type=pa.date64())],
    ids=["date32-before-year-1", "date64-after-9999"],
)
def test_f4_a_date_outside_python_range_is_a_finding_not_a_crash(array):
    schema = flat({"d": {"type": "string", "format": "date"}})
    report = check(pq_bytes(pa.table({"d": array})), schema)
    assert report.errors and report.invalid_records + report.fatal >= 1


def test_f5_a_repeated_column_gives_the_csv_report():
    schema = flat({"s": {"type": "string"}, "n": {"type": ["integer", "null"]}}, ["s"])
    table = pa.Table.from_arrays(
        [pa.array(["a"]), pa.array(["b"]), pa.array([1])], names=["s", "s", "n"]
    )
    as_csv = summary(check(b"s,s,n\na,b,1\n", schema, "csv"))
    assert summary(check(pq_bytes(table), schema)) == as_csv


def _lie_about_uncompressed_size(data: bytes, claimed: int) -> bytes:
    """The file with the first column chunk's total_uncompressed_size (thrift compact,
    field 6 after field 5) rewritten to ``claimed`` as a varint of the same length."""

    def varint(n: int) -> bytearray:
        out = bytearray()
        while True:
            low, n = n & 0x7F, n >> 7
            out.append(low | (0x80 if n else 0))
            if not n:
                return out

    size = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0)
    old = b"\x16" + varint(size.total_uncompressed_size << 1)
    new = varint(claimed << 1)
    while len(new) < len(old) - 1:  # a non-minimal varint keeps the footer's length
        new[-1] |= 0x80
        new.append(0)
    length = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - length
    footer = data[start:-8]
    assert old in footer
    return data[:start] + footer.replace(old, b"\x16" + bytes(new), 1) + data[-8:]


def test_f6_a_footer_that_lies_about_sizes_does_not_lift_the_row_group_bound(monkeypatch):
    """F6: the bound is also counted on the decoded batches, so a footer that understates
    a row group's size does not lift it."""
    monkeypatch.setattr(kpq, "MAX_ROW_GROUP_BYTES", 1 << 20)
    schema = flat({"n": {"type": "integer"}})
    table = pa.table({"n": pa.array(range(200_000), type=pa.int64())})
    honest = pq_bytes(table, compression="zstd", use_dictionary=False)
    assert [v.rule for v in check(honest, schema).errors] == ["parquet"]
    lying = _lie_about_uncompressed_size(honest, 100)
    assert pq.ParquetFile(io.BytesIO(lying)).metadata.row_group(0).column(0).num_values
    assert [v.rule for v in check(lying, schema).errors] == ["parquet"]


def test_f6_a_dictionary_shared_by_the_batches_of_a_row_group_counts_once(monkeypatch):
    """The decoded count does not refuse an honest file: a string column's dictionary is
    read with every batch of its row group and counted once."""
    monkeypatch.setattr(kpq, "MAX_ROW_GROUP_BYTES", 3 << 20)
    words = [f"{i:04d}" + "x" * 1000 for i in range(1000)]  # a dictionary of about 1 MB
    table = pa.table({"s": pa.array([words[i % 1000] for i in range(200_000)])})
    data = pq_bytes(table, compression="zstd", row_group_size=200_000)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0)
    assert meta.num_rows == 200_000 and meta.column(0).total_uncompressed_size < 3 << 20
    report = check(data, flat({"s": {"type": "string"}}))
    assert report.valid and report.records == 200_000


def test_f7_check_help_names_parquet(run):
    result = run("check", "--help")
    assert result.code == 0
    assert "parquet" in result.out.lower()


def test_f1_check_and_pseudonymise_agree_on_a_float32_column(run, dirs, secret):
    contract = json.loads(json.dumps(CONTRACT))
    contract["schema"]["properties"]["lengte_cm"]["multipleOf"] = 0.1
    cpath = dirs[0] / "c.yaml"
    cpath.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False))
    table = sample_table(lengte_cm=pa.array([120.3] * 5, type=pa.float32()))
    src = dirs[0] / "in.parquet"
    src.write_bytes(pq_bytes(table))
    checked = run("check", src, "-c", cpath, "--no-progress")
    out = dirs[0] / "out.parquet"
    made = run("pseudonymise", src, "-c", cpath, "-s", secret, "-o", out, "--no-progress")
    assert (checked.code == 0) == (made.code == 0), (checked.out, made.err)


# --- attacks that held --------------------------------------------------------------------


def test_nan_and_infinity_are_type_errors_on_both_paths():
    schema = flat({"x": {"type": "number"}})
    data = pq_bytes(pa.table({"x": [1.0, float("nan"), float("inf"), float("-inf")]}))
    for engine in (True, False):
        report = check(data, schema, engine=engine)
        assert [(v.record, v.rule) for v in report.errors] == [
            (2, "type"),
            (3, "type"),
            (4, "type"),
        ]


def test_a_float64_column_gets_the_same_report_on_both_paths():
    schema = flat({"x": {"type": "number", "maximum": 0.1, "multipleOf": 0.05}})
    values = [0.1, 0.05, 0.1 + 1e-17, 0.30000000000000004, 5e-324, 1e22, -0.0, 0.1000000000000001]
    data = pq_bytes(pa.table({"x": values}))
    assert summary(check(data, schema)) == summary(check(data, schema, engine=False))


def test_uint64_above_2_63_is_judged_as_its_integer():
    schema = flat({"n": {"type": "integer", "maximum": 2**63 - 1}})
    data = pq_bytes(pa.table({"n": pa.array([2**64 - 1, 1], type=pa.uint64())}))
    as_csv = summary(check(b"n\n18446744073709551615\n1\n", schema, "csv"))
    assert summary(check(data, schema)) == as_csv == (2, 1, False, [(1, "/n", "maximum")])


def test_decimals_are_judged_as_the_json_reader_reads_their_text():
    schema = flat({"n": {"type": "integer"}})
    values = [decimal.Decimal("1.50"), decimal.Decimal("2.00")]
    data = pq_bytes(pa.table({"n": pa.array(values, type=pa.decimal128(5, 2))}))
    as_jsonl = summary(check(b'{"n":1.50}\n{"n":2.00}\n', schema, "jsonl"))
    assert summary(check(data, schema)) == as_jsonl == (2, 1, False, [(1, "/n", "type")])


def test_negative_zero_and_an_integral_float_as_in_json_lines():
    schema = flat({"n": {"type": "integer", "exclusiveMinimum": -1}})
    data = pq_bytes(pa.table({"n": [-0.0, 1e300, 2.5]}))
    as_jsonl = summary(check(b'{"n":-0.0}\n{"n":1e300}\n{"n":2.5}\n', schema, "jsonl"))
    assert summary(check(data, schema)) == as_jsonl


def test_a_null_typed_column_is_absent_for_a_required_field():
    schema = flat({"s": {"type": "string"}, "n": {"type": ["integer", "null"]}}, ["s"])
    table = pa.table({"s": pa.array([None], pa.null()), "n": pa.array([None], pa.null())})
    as_jsonl = summary(check(b'{"n":null}\n', schema, "jsonl"))
    assert summary(check(pq_bytes(table), schema)) == as_jsonl


def test_an_integer_column_for_a_string_field_and_large_string_dictionary_columns():
    schema = flat({"s": {"type": "string", "maxLength": 3}})
    ints = pq_bytes(pa.table({"s": pa.array([1, 2])}))
    assert summary(check(ints, schema))[3] == [(1, "/s", "type"), (2, "/s", "type")]
    large = pa.array(["ab", "abcd"], pa.large_string())
    for array in (large, large.dictionary_encode()):
        report = check(pq_bytes(pa.table({"s": array})), schema)
        assert summary(report)[3] == [(2, "/s", "maxLength")]


def test_bom_and_nul_inside_strings_as_in_json_lines():
    schema = flat({"s": {"type": "string", "maxLength": 5}})
    values = ["\ufeffabc", "a\x00b", "\ufeff", "\x00"]
    as_jsonl = summary(check(jsonl_of([{"s": v} for v in values]), schema, "jsonl"))
    assert summary(check(pq_bytes(pa.table({"s": values})), schema)) == as_jsonl


@pytest.mark.parametrize("name", ["S", " s", "s\u0301"])
def test_a_column_name_differing_in_case_or_normalisation_is_not_the_field(name):
    schema = flat({"s": {"type": "string"}, "ś": {"type": "string"}}, [])
    table = pa.Table.from_arrays([pa.array(["x"])], names=[name])
    as_csv = summary(check(f"{name}\nx\n".encode(), schema, "csv"))
    assert summary(check(pq_bytes(table), schema)) == as_csv


def test_empty_files_and_zero_row_groups_need_allow_empty():
    schema = flat({"s": {"type": "string"}})
    empty = pq_bytes(pa.table({"s": pa.array([], pa.string())}))
    sink = io.BytesIO()
    pq.ParquetWriter(sink, pa.schema([("s", pa.string())])).close()
    for data in (empty, sink.getvalue()):
        assert [v.rule for v in check(data, schema).errors] == ["no-records"]
        assert check(data, schema, allow_empty=True).errors == []


def test_record_numbers_count_across_many_small_row_groups():
    schema = flat({"s": {"type": "string", "enum": ["a", "b"]}})
    values = (["a", "b", "a"] * 400) + ["c"] + ["a"] * 50
    table = pa.table({"s": pa.array(values).dictionary_encode()})
    for engine in (True, False):
        report = check(pq_bytes(table, row_group_size=7), schema, engine=engine)
        assert summary(report) == (len(values), 1, False, [(1201, "/s", "enum")])


def test_a_dictionary_column_judges_every_row_not_only_its_distinct_values():
    schema = flat({"s": {"type": "string", "pattern": "^[a-z]+$"}, "n": {"type": "integer"}})
    values = ["ok"] * 5000 + ["BAD"] + ["ok"] * 5000 + ["BAD"]
    table = pa.table({"s": pa.array(values).dictionary_encode(), "n": pa.array(range(len(values)))})
    report = check(pq_bytes(table), schema)
    assert [(v.record, v.rule) for v in report.errors] == [(5001, "pattern"), (10002, "pattern")]


def test_nested_and_extra_columns_never_name_a_planted_marker(run, dirs):
    table = sample_table().append_column(MARKER, pa.array([MARKER] * 5))
    table = table.append_column("z", pa.array([{MARKER: MARKER}] * 5))
    table = table.replace_schema_metadata({MARKER: MARKER})
    path = dirs[0] / "m.parquet"
    path.write_bytes(pq_bytes(table))
    for fmt in ("text", "json", "sarif", "junit", "github"):
        result = run("check", path, "-c", SAMPLE_CONTRACT, "-f", fmt, "--no-progress")
        assert result.code == 1
        assert MARKER not in result.out + result.err


def test_a_corrupt_later_row_group_fails_closed_and_writes_nothing(run, dirs, secret):
    table = sample_table(4000)
    data = bytearray(pq_bytes(table, row_group_size=1000, compression="none"))
    chunk = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(2).column(6)
    for i in range(chunk.data_page_offset, chunk.data_page_offset + 20):
        data[i] = 0xFF
    path = dirs[0] / "c.parquet"
    path.write_bytes(bytes(data))
    result = run("check", path, "-c", SAMPLE_CONTRACT, "--no-progress")
    assert result.code == 1 and "rule parquet" in result.out
    out = dirs[0] / "out.parquet"
    made = run("pseudonymise", path, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert made.code == 1
    assert not list(dirs[0].glob("out*"))


def test_a_value_that_does_not_fit_int64_is_refused_and_leaves_no_file(run, dirs, secret):
    contract = json.loads(json.dumps(CONTRACT))
    contract["schema"]["properties"]["huisnummer"] = {"type": "integer", "minimum": 1}
    contract["fields"]["huisnummer"] = {"treatment": "keep"}
    cpath = dirs[0] / "c.yaml"
    cpath.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False))
    table = sample_table(huisnummer=pa.array([1, 2, 3, 4, 2**64 - 1], type=pa.uint64()))
    src = dirs[0] / "in.parquet"
    src.write_bytes(pq_bytes(table))
    assert run("check", src, "-c", cpath, "--no-progress").code == 0
    out = dirs[0] / "out.parquet"
    made = run("pseudonymise", src, "-c", cpath, "-s", secret, "-o", out, "--no-progress")
    assert made.code == 3 and "does not fit" in made.err
    assert not list(dirs[0].glob("out*"))


def test_pseudonymise_to_parquet_is_deterministic_and_checks_as_output(run, dirs, secret):
    src = dirs[0] / "in.parquet"
    src.write_bytes(pq_bytes(sample_table(20)))
    outs = []
    for name in ("a.parquet", "b.parquet"):
        out = dirs[0] / name
        made = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
        assert made.code == 0, made.err
        outs.append(out)
    side = run("check", "--side", "output", "-c", SAMPLE_CONTRACT, outs[0], "--no-progress")
    assert side.code == 0, side.out
    a, b = (pq.read_table(p) for p in outs)
    assert a.drop_columns(["email_ouder"]).equals(b.drop_columns(["email_ouder"]))
    back = dirs[0] / "back.parquet"
    assert run("reidentify", outs[0], "-c", SAMPLE_CONTRACT, "-s", secret, "-o", back).code == 0
    again = pq.read_table(back)
    assert again.column("email_ouder").to_pylist() == ["ouder@example.nl"] * 20
    assert again.column("geslacht").to_pylist() == ["V"] * 20


def test_dates_inside_the_range_read_as_iso_text():
    schema = flat({"d": {"type": "string", "format": "date"}})
    days = [dt.date(1, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31)]
    for t in (pa.date32(), pa.date64()):
        report = check(pq_bytes(pa.table({"d": pa.array(days, type=t)})), schema)
        assert summary(report) == (3, 0, False, [])
