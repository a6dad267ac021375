"""The columnar engine gives the same report as the precise path, on hostile CSV bytes.

``Checker(engine=False)`` reads with the precise pure-Python reader and judges with the
column plan or the reference; the default reads with pyarrow in pieces, screens each piece
with :mod:`ketenx.engine` and hands the rest to the precise code. Generated files: quotes
(doubled, stray, around embedded newlines), CRLF and lone CR, a BOM, blank and white-space
lines, NUL bytes, invalid UTF-8, ragged rows, empty cells, leading zeros and numbers such as
``05``, ``1e3``, `` 1``; generated flat schemas from the keyword set the column plan carries
(types, enum/const without type, patterns, formats, bounds, exact multipleOf, every nullable
spelling, ``$ref`` into ``$defs``, ``required``, ``dependentRequired``). Pieces are cut small,
so records straddle piece boundaries and the precise reader takes up mid-file.
"""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.check import Checker, FileReport
from ketenx.engine import csvsource
from ketenx.validation import RecordSchema
from tests.property.test_differential import SAMPLE_STRINGS, record_schemas

CELLS = [
    "",
    "05",
    "007",
    "1e3",
    " 1",
    "1.5",
    "19.99",
    "-0",
    "+4",
    "true",
    "FALSE",
    "9" * 20,
    "a,b",
    'say "hi"',
    "line\nbreak",
    "cr\rlf",
    "'=1+1",
    "é",
    " ",
    *SAMPLE_STRINGS,
]


def render_cell(draw: st.DrawFn, cell: str, delimiter: str) -> str:
    """A cell as CSV text: quoted when it has to be, sometimes when it need not be."""
    must = any(ch in cell for ch in (delimiter, '"', "\n", "\r"))
    if must or draw(st.integers(0, 9)) == 0:
        return '"' + cell.replace('"', '""') + '"'
    return cell


HOSTILE = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b'"',
    b'a"b',
    b'"x"y',
    b"\n",
    b"\r\n",
    b"   \n",
    b"\r",
    b",",
    b";",
    b'""',
]


@st.composite
def csv_files(draw: st.DrawFn, names: list[str]) -> bytes:
    delimiter = draw(st.sampled_from([",", ",", ";"]))
    header = list(names)
    if draw(st.integers(0, 4)) == 0:
        header = draw(st.permutations(header))
    if draw(st.integers(0, 6)) == 0:
        header.append("extra")
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    width = len(header)
    lines = [delimiter.join(header)]
    n_rows = draw(st.integers(0, 40))
    for _ in range(n_rows):
        row = [render_cell(draw, draw(st.sampled_from(CELLS)), delimiter) for _ in range(width)]
        if draw(st.integers(0, 15)) == 0:  # a ragged row
            row = row[:-1] if draw(st.booleans()) and len(row) > 1 else [*row, "x"]
        lines.append(delimiter.join(row))
        if draw(st.integers(0, 15)) == 0:
            lines.append("")  # a blank line
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    data = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(HOSTILE)) + data[at:]
    return data


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema = draw(record_schemas())
    names = list(schema["properties"])
    if len(names) > 1 and draw(st.integers(0, 3)) == 0:
        first, *others = draw(st.permutations(names))
        schema["dependentRequired"] = {first: others[: draw(st.integers(1, len(others)))]}
    return schema


def summary(report: FileReport) -> tuple[Any, ...]:
    return (
        report.records,
        report.invalid_records,
        report.fatal,
        report.errors,
        sorted(report.error_counts.items()),
    )


def check_both(schema: dict[str, Any], data: bytes, **options: Any) -> tuple[Any, Any]:
    compiled = RecordSchema(schema)
    precise = Checker(compiled, max_errors=7, engine=False, **options)
    fast = Checker(compiled, max_errors=7, **options)
    return (
        summary(precise.check(io.BytesIO(data), "csv")),
        summary(fast.check(io.BytesIO(data), "csv")),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), piece=st.sampled_from([40, 97, 256, 1 << 20]))
def test_engine_report_equals_precise_report(data: st.DataObject, piece: int) -> None:
    schema = data.draw(schemas())
    raw = data.draw(csv_files(list(schema["properties"])))
    with (
        mock.patch.object(csvsource, "PIECE_BYTES", piece),
        mock.patch.object(csvsource, "MAX_PIECE_BYTES", max(piece * 4, 160)),
    ):
        precise, fast = check_both(schema, raw)
    assert fast == precise


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_equals_precise_on_a_delivery(data: st.DataObject) -> None:
    """``check --side output`` and ``unpack`` undo formula neutralisation; ``pseudonymise``
    checks normalised values: both before the engine screens."""
    schema = data.draw(schemas())
    raw = data.draw(csv_files(list(schema["properties"])))
    names = list(schema["properties"])
    normalise = {n: data.draw(st.sampled_from(["text", "bsn", "none"])) for n in names[:1]}
    with mock.patch.object(csvsource, "PIECE_BYTES", 64):
        precise, fast = check_both(schema, raw, unneutralise=True)
        assert fast == precise
        precise, fast = check_both(schema, raw, normalise=normalise)
        assert fast == precise
