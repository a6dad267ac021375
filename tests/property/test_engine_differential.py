"""The columnar engine gives the same report as the precise path, on hostile CSV bytes.

``Checker(engine=False)`` reads with the precise pure-Python reader and judges with the
column plan or the reference; the default reads with pyarrow in pieces, screens each piece
with :mod:`ketenx.records.engine` and hands the rest to the precise code. Generated files: quotes
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

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import csvsource
from ketenx.records.validation import RecordSchema, cell_judge, flat_property
from tests.property.test_differential import SAMPLE_STRINGS, property_schemas, record_schemas

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


NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-10000, 10000).map(lambda n: f"{n / 100:.2f}"),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.sampled_from(["0", "1", "2", "3", "50", "-50", "0.5", "1.0", "2.5", "1e1", "7"]),
)


def good_cells(schema: dict[str, Any], name: str) -> list[str]:
    """Cells of ``CELLS`` and some numbers that property ``name`` accepts (so that files are
    often valid and the engine's fast path, not only its hand-over, is compared)."""
    compiled = RecordSchema(schema)
    flat = flat_property(schema["properties"][name], schema)
    if flat is None:
        return []
    judge = cell_judge(compiled, name, flat[0])
    numbers = [str(n) for n in range(-60, 61)] + [f"{n / 4}" for n in range(-200, 201)]
    numbers += ["1e1", "2E0", "+3", "05", "19.99", "0.07", "601.66", "true", "false", "True"]
    pool = [c for c in dict.fromkeys([*CELLS, *numbers]) if c and judge.cell(c)]
    required = name in schema.get("required", [])
    if not required or compiled.allows_null(name):
        pool.append("")
    return pool


@st.composite
def csv_files(draw: st.DrawFn, names: list[str], schema: dict[str, Any] | None = None) -> bytes:
    delimiter = draw(st.sampled_from([",", ",", ";"]))
    header = list(names)
    if draw(st.integers(0, 4)) == 0:
        header = draw(st.permutations(header))
    if draw(st.integers(0, 6)) == 0:
        header.append("extra")
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    lines = [delimiter.join(header)]
    pools = [good_cells(schema, n) if schema and n in names else [] for n in header]
    mostly_valid = schema is not None and draw(st.integers(0, 3)) > 0
    noise = draw(st.sampled_from([0, 0, 60])) if mostly_valid else 1
    n_rows = draw(st.integers(1 if mostly_valid else 0, 40))
    for _ in range(n_rows):
        row = []
        for pool in pools:
            if mostly_valid and pool and (not noise or draw(st.integers(0, noise)) > 0):
                cell = draw(st.sampled_from(pool))
            else:
                cell = draw(st.sampled_from(CELLS))
            row.append(render_cell(draw, cell, delimiter))
        if draw(st.integers(0, 200 if mostly_valid else 15)) == 0:  # a ragged row
            row = row[:-1] if draw(st.booleans()) and len(row) > 1 else [*row, "x"]
        lines.append(delimiter.join(row))
        if draw(st.integers(0, 15)) == 0:
            lines.append("")  # a blank line
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    data = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 4)) == 0 else 0):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(HOSTILE)) + data[at:]
    return data


@st.composite
def row_nodes(draw: st.DrawFn, names: list[str], depth: int = 0) -> Any:
    """A subschema for the whole record, as root applicators hold them."""
    if draw(st.integers(0, 8)) == 0:
        return draw(st.booleans())
    node: dict[str, Any] = {}
    picked = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    if picked:
        node["properties"] = {
            n: draw(st.one_of(st.booleans(), property_schemas(), st.just({"enum": ["M", "V"]})))
            for n in picked
        }
    if draw(st.booleans()):
        node["required"] = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    if depth < 1 and draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from(["allOf", "anyOf", "oneOf", "not"]))
        inner = draw(st.lists(row_nodes(names, depth + 1), min_size=1, max_size=2))
        node[key] = inner[0] if key == "not" else inner
    return node


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema = draw(record_schemas())
    names = list(schema["properties"])
    if len(names) > 1 and draw(st.integers(0, 3)) == 0:
        first, *others = draw(st.permutations(names))
        schema["dependentRequired"] = {first: others[: draw(st.integers(1, len(others)))]}
    if draw(st.integers(0, 2)) == 0:
        keys = draw(st.lists(st.sampled_from(["if", "then", "else", "allOf", "anyOf",
                                              "oneOf", "not"]), min_size=1, max_size=3,
                             unique=True))  # fmt: skip
        for key in keys:
            if key in ("allOf", "anyOf", "oneOf"):
                schema[key] = draw(st.lists(row_nodes(names), min_size=1, max_size=3))
            else:
                schema[key] = draw(row_nodes(names))
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
    raw = data.draw(csv_files(list(schema["properties"]), schema))
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
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    names = list(schema["properties"])
    normalise = {n: data.draw(st.sampled_from(["text", "bsn", "none"])) for n in names[:1]}
    with mock.patch.object(csvsource, "PIECE_BYTES", 64):
        precise, fast = check_both(schema, raw, unneutralise=True)
        assert fast == precise
        precise, fast = check_both(schema, raw, normalise=normalise)
        assert fast == precise


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_column_plan_judges_dependent_required_as_the_reference(data: st.DataObject) -> None:
    """``dependentRequired`` on the column plan (the precise path's judge of CSV and flat
    JSON): the same (field, rule) pairs as jsonschema."""
    from ketenx.records.validation import ColumnPlan, Reference, record_columns
    from tests.property.test_differential import values

    schema = data.draw(record_schemas())
    names = list(schema["properties"])
    deps = data.draw(
        st.dictionaries(
            st.sampled_from([*names, "z"]),
            st.lists(st.sampled_from([*names, "z"]), max_size=3, unique=True),
            max_size=3,
        )
    )
    schema["dependentRequired"] = deps
    assert ColumnPlan.supports(schema)
    records = data.draw(
        st.lists(st.dictionaries(st.sampled_from(names), values), min_size=1, max_size=12)
    )
    columns, flat = record_columns(records, names)
    assert flat
    bad = ColumnPlan(schema).check_columns(columns)
    reference = Reference(schema)
    for i, record in enumerate(records):
        expected = {(v.field, v.rule) for v in reference.explain(record, i + 1)}
        assert set(bad.get(i, [])) == expected
        assert len(bad.get(i, [])) == len(expected)
