"""The record writers: CSV text that every CSV reader splits back into the same cells (and
that equals csv.writer's where csv.writer quotes correctly); JSON arrays and JSON Lines
holding the same records."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.records.readers import CsvReader
from ketenx.records.validation import MISSING
from ketenx.records.writers import RecordWriter, neutralise

cells = st.one_of(
    st.text(alphabet=st.sampled_from(["a", "1", " ", ",", '"', "\n", "\r", "=", "'", "é", "-"])),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.just(MISSING),
)
plain_cells = st.text(alphabet=st.sampled_from(["a", "1", " ", "é", "-", "x", "."]))


def text_of(v: Any) -> Any:
    if v is MISSING or v is None:
        return ""
    if type(v) is bool:
        return "true" if v else "false"
    return v  # numbers: csv.writer writes them itself


def texts_of(columns: list[list[Any]], names: list[str], strings: set[str]) -> list[list[str]]:
    """The cell texts the writer is meant to write, column by column."""
    out = []
    for name, col in zip(names, columns, strict=True):
        values = neutralise(col) if name in strings else col  # only strings can be formulas
        out.append(
            [
                ""
                if v is MISSING or v is None
                else ("true" if v else "false")
                if type(v) is bool
                else v
                if type(v) is str
                else str(int(v))  # an integral float is written as the integer it is
                if type(v) is float and v.is_integer() and abs(v) < 2**53
                else str(v)
                for v in values
            ]
        )
    return out


def reference(columns: list[list[Any]], names: list[str], strings: set[str]) -> bytes:
    """csv.writer over the cell texts."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*texts_of(columns, names, strings), strict=True))
    return out.getvalue().encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda width: st.tuples(
            st.integers(0, 6).flatmap(
                lambda n: st.lists(
                    st.lists(st.one_of(cells, plain_cells), min_size=n, max_size=n),
                    min_size=width,
                    max_size=width,
                )
            ),
            st.sets(st.integers(0, width - 1)),
        )
    )
)
def test_csv_cells_read_back_exactly(spec: tuple[list[list[Any]], set[int]]) -> None:
    columns, string_idx = spec
    names = [f"c{i}" for i in range(len(columns))]
    strings = {names[i] for i in string_idx}
    sink = io.BytesIO()
    writer = RecordWriter(sink, "csv", names, frozenset(strings))
    writer.write(dict(zip(names, columns, strict=True)), len(columns[0]))
    writer.close()
    data = sink.getvalue()
    rows = [names, *map(list, zip(*texts_of(columns, names, strings), strict=True))]
    assert list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""))) == rows
    reader = CsvReader(io.BytesIO(data))
    assert [reader.header, *(r for batch in reader.batches() for r in batch)] == rows
    if b"\r" not in data:  # csv.writer leaves a lone CR unquoted; otherwise the same bytes
        assert data == reference(columns, names, strings)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda width: st.lists(
            st.integers(0, 5).flatmap(
                lambda n: st.lists(
                    st.lists(cells, min_size=n, max_size=n), min_size=width, max_size=width
                )
            ),
            max_size=3,
        ).map(lambda batches: (width, batches))
    )
)
def test_json_array_and_json_lines_hold_the_same_records(spec: tuple[int, list[Any]]) -> None:
    """A JSON array output is the JSON Lines output's records in one array (absent values
    left out, nulls kept), whatever the batches; with no records it is `[]`."""
    import json

    width, batches = spec
    names = [f"c{i}" for i in range(width)]
    outputs = {}
    for fmt in ("jsonl", "json"):
        sink = io.BytesIO()
        writer = RecordWriter(sink, fmt, names, frozenset())  # type: ignore[arg-type]
        for batch in batches:
            writer.write(dict(zip(names, batch, strict=True)), len(batch[0]))
        writer.close()
        outputs[fmt] = sink.getvalue().decode("utf-8")
    lines = [json.loads(line) for line in outputs["jsonl"].split("\n") if line]
    assert json.loads(outputs["json"]) == lines
    assert outputs["json"].endswith("\n")
    if not lines:
        assert outputs["json"] == "[]\n"
    expected = [
        {n: v for n, v in zip(names, row, strict=True) if v is not MISSING}
        for batch in batches
        for row in zip(*batch, strict=True)
    ]
    assert len(lines) == len(expected)
    assert lines == expected
