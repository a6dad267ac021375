"""JSON Lines through the columnar engine give the precise path's report and records.

``Checker(engine=False)`` decodes every line (orjson, the strict decoder where they could
differ) and judges with the column plan or the reference; the default parses pieces of lines
with pyarrow's JSON reader and screens them (:mod:`ketenx.records.engine.jsonl`). Generated
flat schemas (those of the CSV engine's differential test) and JSON Lines of mostly valid
records, with what pyarrow reads differently from the strict decoder mixed in: ``NaN``,
explicit nulls, a key twice, two records on a line, blank lines, a byte order mark, escapes,
big integers, empty strings, other keys, nested values, bad UTF-8, NUL bytes. Pieces are cut
small, so the precise path takes up pieces in the middle of a file.
"""

from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import jsonl
from ketenx.records.readers import LineMap, Malformed
from ketenx.records.validation import MISSING, RecordSchema
from tests.property.test_engine_differential import CELLS, good_cells, schemas, summary

HOSTILE_LINES = [
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":null}',
    b'{"a":"x","a":"y"}',
    b'{"a":1}{"a":2}',
    b'{"a":"x"} {"b":1}',
    b"",
    b"   ",
    b"\xef\xbb\xbf{}",
    b'{"a":"\\u003a"}',
    b'{"a":"\\ud83d\\ude00"}',
    b'{"a":"\\ud800"}',
    b'{"a":"\\u0000"}',
    b'{"a":"\\u00eb"}',
    b'{"a":12345678901234567890}',
    b'{"a":9007199254740993}',
    b'{"a":""}',
    b'{"z":1}',
    b'{"a":{"b":1}}',
    b'{"a":[1]}',
    b'{"a":1.0}',
    b'{"a":1e2}',
    b"[1]",
    b'{"a":"\xff"}',
    b"\x00",
    b'{"a":true}',
    b"{",
    b"{}",
    b"null",  # (audit J2, J3: pyarrow crashed on a piece that starts with it, or read it as {})
    b'{"a":',  # a record across lines (audit J1), with the next generated line
    b'{"a":1}{"a":2}',
    b"1}",
    b' {"a":1}',
]

OTHER_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, 19.99, 1e300, "", "x", *CELLS]


@st.composite
def jsonl_files(draw: st.DrawFn, schema: dict[str, Any]) -> bytes:
    compiled = RecordSchema(schema)
    names = list(schema["properties"])
    pools: dict[str, list[Any]] = {}
    for name in names:
        cells = good_cells(schema, name)
        values = [compiled.coerce_column(name, [c])[0] for c in cells]
        pools[name] = values
    mostly_valid = draw(st.integers(0, 3)) > 0
    newline = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 40))):
        record: dict[str, Any] = {}
        for name in names:
            pool = pools[name]
            if mostly_valid and pool and draw(st.integers(0, 30)) > 0:
                value = draw(st.sampled_from(pool))
            else:
                value = draw(st.sampled_from(OTHER_VALUES))
            if value is not MISSING:
                record[name] = value
        ascii_only = draw(st.integers(0, 5)) == 0
        lines.append(json.dumps(record, ensure_ascii=ascii_only).encode("utf-8"))
        if draw(st.integers(0, 12)) == 0:
            lines.append(draw(st.sampled_from(HOSTILE_LINES)))
    data = newline.join(lines) + (newline if draw(st.booleans()) else b"")
    if draw(st.integers(0, 8)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def handed_on(schema: dict[str, Any], data: bytes, engine: bool) -> list[Any]:
    """What a consumer gets, record by record (batches may be cut elsewhere): the record's
    number, whether it is rejected, and the record when it is not; then how reading ended."""
    checker = Checker(RecordSchema(schema), max_errors=7, engine=engine)
    report = FileReport(path="-", max_errors=7, lines=LineMap())
    out: list[Any] = []
    try:
        for batch in checker.iter_json(io.BytesIO(data), report, "jsonl"):
            for i, record in enumerate(batch.records):
                rejected = i in batch.rejected
                out.append((batch.start + i + 1, rejected, None if rejected else record))
    except Malformed as exc:  # reading stops: its rule and record
        out.append((exc.rule, exc.record))
    return out


def both(schema: dict[str, Any], data: bytes) -> tuple[Any, Any]:
    compiled = RecordSchema(schema)
    precise = Checker(compiled, max_errors=7, engine=False)
    fast = Checker(compiled, max_errors=7)
    return (
        summary(precise.check(io.BytesIO(data), "jsonl")),
        summary(fast.check(io.BytesIO(data), "jsonl")),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), piece=st.sampled_from([30, 97, 256, 1 << 20]))
def test_jsonl_engine_report_and_records_equal_the_precise_ones(
    data: st.DataObject, piece: int
) -> None:
    schema = data.draw(schemas())
    raw = data.draw(jsonl_files(schema))
    with mock.patch.object(jsonl, "PIECE_BYTES", piece):
        precise, fast = both(schema, raw)
        assert fast == precise
        assert handed_on(schema, raw, True) == handed_on(schema, raw, False)
