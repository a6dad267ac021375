"""The columnar engine of `check` (ketenx.records.engine) against the hostile CSV inputs that the
outside-in audit of `ketenx risk`'s Arrow path found or tried (tests/unit/test_fastrisk_audit.py):
the engine's report equals the precise path's, with the pieces cut at every size."""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

import pytest

from ketenx.records.check import Checker
from ketenx.records.engine import csvsource
from ketenx.records.validation import RecordSchema
from tests.unit.test_fastrisk_audit import BOM, HELD

FOUND = {
    "CR only": b"a,b\rx,1\rx,2\ry,3\r",
    "header ended by CR": b"a,b\rx,1\ny,2\ny,3\n",
    "a BOM cell at the first record": b"a,b\n" + BOM + b"x,1\nx,2\n",
    "a BOM cell mid-file": b"a,b\nx,1\n" + BOM + b"x,2\nx,3\n" * 3,
    "a BOM line in a tab file": b"a\tb\nx\t1\n" + BOM + b"\nx\t2\n",
    "a quote after a closing quote": b'a,b\n"x"y,1\nx,2\n',
    "a NUL byte": b"a,b\nx,1\nx\x00,2\n",
    "Latin-1": b"a,b\nx,1\nx\xe9,2\n",
}
SCHEMA = RecordSchema(
    {
        "type": "object",
        "properties": {"a": {"type": "string", "enum": ["x", "y", "z"]}, "b": {"type": "string"}},
        "required": ["a"],
    }
)


def _report(data: bytes, engine: bool, delimiter: str | None) -> Any:
    checker = Checker(SCHEMA, engine=engine)
    report = checker.check(io.BytesIO(data), "csv", delimiter=delimiter)
    return (
        report.records,
        report.invalid_records,
        report.fatal,
        [(v.record, v.field, v.rule, v.message) for v in report.errors],
        dict(report.error_counts),
        [report.lines.line_of(v.record) for v in report.errors],
    )


@pytest.mark.parametrize("piece", [8, 64, 1 << 20])
@pytest.mark.parametrize("data", [*HELD.values(), *FOUND.values()], ids=[*HELD, *FOUND])
def test_the_engine_reports_hostile_files_as_the_precise_path(data: bytes, piece: int) -> None:
    delimiter = "\t" if b"\t" in data.split(b"\n")[0] else None
    with mock.patch.object(csvsource, "PIECE_BYTES", piece):
        assert _report(data, True, delimiter) == _report(data, False, delimiter)
