"""The CSV writer's fast path writes exactly what csv.writer writes."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.validation import MISSING
from ketenx.writers import RecordWriter, neutralise

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


def reference(columns: list[list[Any]], names: list[str], strings: set[str]) -> bytes:
    """csv.writer over the cell texts, as the writer did before it had a fast path."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    texts = []
    for name, col in zip(names, columns, strict=True):
        col_texts = [
            ""
            if v is MISSING or v is None
            else ("true" if v else "false")
            if type(v) is bool
            else v
            for v in col
        ]
        texts.append(neutralise(col_texts) if name in strings else col_texts)
    writer.writerows(zip(*texts, strict=True))
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
def test_fast_and_quoting_paths_equal_csv_writer(spec: tuple[list[list[Any]], set[int]]) -> None:
    columns, string_idx = spec
    names = [f"c{i}" for i in range(len(columns))]
    strings = {names[i] for i in string_idx}
    sink = io.BytesIO()
    writer = RecordWriter(sink, "csv", names, frozenset(strings))
    writer.write(dict(zip(names, columns, strict=True)), len(columns[0]))
    writer._text.flush()
    assert sink.getvalue() == reference(columns, names, strings)
