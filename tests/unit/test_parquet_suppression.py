"""transform.gates with Parquet output: the spill is rewritten row group by row group without
the records of the suppressed classes (records.parquetwriter.copy_kept), through the same
writer: exactly the records that stay, in order, the same bytes for the same records, one row
group in memory at a time."""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.errors import OperationalError
from ketenx.records import parquetwriter
from ketenx.records.parquetwriter import ParquetRecordWriter, arrow_schema, copy_kept
from ketenx.transform.gates import PrivacyGate
from tests.helpers import make_contract

NAMES = ["qi", "note", "n"]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "qi": {"type": "string"},
        "note": {"type": ["string", "null"]},
        "n": {"type": ["integer", "null"]},
    },
    "required": ["qi"],
}
FIELDS = {name: {"treatment": "keep", "scan": False} for name in NAMES}
CONTRACT = make_contract(
    "gate-pq", SCHEMA, FIELDS,
    privacy={"quasi_identifiers": ["qi"], "k": 3, "max_suppression": 1.0},
)  # fmt: skip
ARROW = arrow_schema(SCHEMA, NAMES)

CELLS = st.one_of(st.none(), st.text(alphabet=st.sampled_from([*'ab,"\n =', "é", "\u2028"]),
                                     max_size=6))  # fmt: skip
ROWS = st.lists(
    st.tuples(
        st.sampled_from(["p", "q", "r", "s"]),
        CELLS,
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    ),
    max_size=40,
)
Row = tuple[str, Any, Any]


def _columns(chunk: list[Row]) -> dict[str, list[Any]]:
    return {name: [r[i] for r in chunk] for i, name in enumerate(NAMES)}


def _write(rows: list[Row], sink: Any = None, batch: int = 7) -> bytes:
    out = io.BytesIO() if sink is None else sink
    writer = ParquetRecordWriter(out, NAMES, ARROW)
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        writer.write(_columns(chunk), len(chunk))
    writer.close()
    return out.getvalue() if sink is None else b""


def _through_gate(rows: list[Row], batch: int = 7) -> tuple[Any, bytes]:
    gate = PrivacyGate(CONTRACT)
    spill = gate.spill()
    assert spill is not None
    writer = ParquetRecordWriter(spill, NAMES, ARROW)
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        gate.observe(_columns(chunk), len(chunk), i)
        writer.write(_columns(chunk), len(chunk))
    writer.close()
    outcome = gate.finish()
    out = io.BytesIO()
    try:
        if not outcome.failed:
            gate.copy(out, "parquet")
    finally:
        gate.close()
    return outcome, out.getvalue()


def _kept(rows: list[Row]) -> list[Row]:
    sizes = {qi: sum(r[0] == qi for r in rows) for qi, _, _ in rows}
    return [r for r in rows if sizes[r[0]] >= 3]


def _read(data: bytes) -> list[Row]:
    return [(r["qi"], r["note"], r["n"]) for r in pq.read_table(io.BytesIO(data)).to_pylist()]


@settings(max_examples=80, deadline=None)
@given(ROWS)
def test_copy_keeps_exactly_the_classes_that_stay_as_a_direct_write_would(
    rows: list[Row],
) -> None:
    """In one row group, the rewritten file is byte for byte the file a writer makes of the
    records that stay."""
    outcome, data = _through_gate(rows)
    kept = _kept(rows)
    assert outcome.suppressed == len(rows) - len(kept)
    if rows and not kept:  # a delivery of nothing is refused, not made
        assert outcome.risk == "failed"
        assert [f.detail for f in outcome.assessment.failures] == ["every record"]
        return
    assert outcome.risk == "passed"
    assert data == _write(kept)
    assert _read(data) == kept


@settings(max_examples=40, deadline=None)
@given(ROWS, st.integers(1, 9))
def test_copy_over_many_row_groups_keeps_the_records_in_order_and_is_deterministic(
    rows: list[Row], group: int
) -> None:
    with mock.patch.object(parquetwriter, "ROW_GROUP_ROWS", group):
        outcome, data = _through_gate(rows, batch=3)
        again = _through_gate(rows, batch=3)[1]
    kept = _kept(rows)
    if rows and not kept:
        assert outcome.failed and data == b""
        return
    assert _read(data) == kept
    assert data == again  # the same records in, the same bytes out
    if kept:
        sizes = [g.num_rows for g in _row_groups(data)]
        assert sum(sizes) == len(kept) and all(s > 0 for s in sizes)
        assert all(s >= group for s in sizes[:-1])  # re-chunked: no sliver of a row group


def _row_groups(data: bytes) -> list[Any]:
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    return [meta.row_group(i) for i in range(meta.num_row_groups)]


def test_nothing_suppressed_copies_the_spill_as_it_is() -> None:
    rows = [("p", "x", 1)] * 3 + [("q", None, None)] * 4
    outcome, data = _through_gate(rows)
    assert outcome.suppressed == 0
    assert data == _write(rows)


def test_copy_kept_asks_one_mask_per_row_group_and_holds_one_at_a_time() -> None:
    rows = [("p", str(i), i) for i in range(10)]
    with mock.patch.object(parquetwriter, "ROW_GROUP_ROWS", 4):
        source = io.BytesIO(_write(rows, batch=4))
        asked: list[int] = []

        def keep(n: int) -> Any:
            asked.append(n)
            return np.arange(n) % 2 == 0

        out = io.BytesIO()
        written = copy_kept(source, out, keep)
    assert asked == [4, 4, 2]
    assert written == 5
    assert [r[2] for r in _read(out.getvalue())] == [0, 2, 4, 6, 8]


def test_copy_kept_of_no_record_kept_writes_a_file_without_records() -> None:
    source = io.BytesIO(_write([("p", None, 1)] * 3))
    out = io.BytesIO()
    assert copy_kept(source, out, lambda n: np.zeros(n, dtype=bool)) == 0
    table = pq.read_table(io.BytesIO(out.getvalue()))
    assert table.num_rows == 0 and table.schema == ARROW


def test_a_mask_of_the_wrong_length_fails_closed() -> None:
    source = io.BytesIO(_write([("p", None, 1)] * 3))
    with pytest.raises(pa.ArrowInvalid):
        copy_kept(source, io.BytesIO(), lambda n: np.ones(n + 1, dtype=bool))


def test_fewer_class_numbers_than_records_fails_closed() -> None:
    """The class numbers and the spill go together: a short class file is never read as
    'keep the rest'."""
    gate = PrivacyGate(CONTRACT)
    spill = gate.spill()
    assert spill is not None
    rows = [("p", None, 1)] * 3 + [("q", None, 2)]
    writer = ParquetRecordWriter(spill, NAMES, ARROW)
    gate.observe(_columns(rows), 4, 0)
    writer.write(_columns(rows), 4)
    writer.close()
    assert gate.finish().suppressed == 1
    gate._classes.truncate(12)  # type: ignore[union-attr]  # three class numbers of four
    try:
        with pytest.raises(OperationalError, match="do not match"):
            gate.copy(io.BytesIO(), "parquet")
    finally:
        gate.close()
