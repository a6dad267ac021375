"""transform.gates: the spill copy keeps exactly the records of the classes that stay, byte for
byte, in every output format, whatever the cells hold (quotes, line breaks, commas)."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.records.writers import RecordWriter
from ketenx.transform.gates import PrivacyGate, _records
from tests.helpers import make_contract

CELLS = st.text(alphabet=st.sampled_from([*'ab,"\n\r =+-', "é", "\u2028"]), max_size=6)
ROWS = st.lists(st.tuples(st.sampled_from(["p", "q", "r"]), CELLS), min_size=0, max_size=30)


def _write(rows: list[tuple[str, str]], fmt: str, batch: int = 7) -> bytes:
    out = io.BytesIO()
    writer = RecordWriter(out, fmt, ["qi", "note"], frozenset({"qi", "note"}))  # type: ignore[arg-type]
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        writer.write({"qi": [r[0] for r in chunk], "note": [r[1] for r in chunk]}, len(chunk))
    writer.close()
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(ROWS, st.sampled_from(["csv", "jsonl", "json"]))
def test_records_split_a_written_file_into_its_records(rows: list[Any], fmt: str) -> None:
    data = _write(rows, fmt)
    parts = list(_records(io.BytesIO(data), fmt))
    assert b"".join(parts) == data
    extra = {"csv": 1, "jsonl": 0, "json": 2 if rows else 1}[fmt]  # header; [ and ]
    assert len(parts) == len(rows) + extra


CONTRACT = make_contract(
    "gate",
    {"type": "object", "properties": {"qi": {"type": "string"}, "note": {"type": "string"}}},
    {"qi": {"treatment": "keep", "scan": False}, "note": {"treatment": "keep", "scan": False}},
    privacy={"quasi_identifiers": ["qi"], "k": 3, "max_suppression": 1.0},
)


@settings(max_examples=60, deadline=None)
@given(ROWS, st.sampled_from(["csv", "jsonl", "json"]))
def test_copy_drops_exactly_the_small_classes(rows: list[Any], fmt: str) -> None:
    gate = PrivacyGate(CONTRACT)
    spill = gate.spill()
    assert spill is not None
    writer = RecordWriter(spill, fmt, ["qi", "note"], frozenset({"qi", "note"}))  # type: ignore[arg-type]
    for i in range(0, len(rows), 7):
        chunk = rows[i : i + 7]
        columns = {"qi": [r[0] for r in chunk], "note": [r[1] for r in chunk]}
        gate.observe(columns, len(chunk), i)
        writer.write(columns, len(chunk))
    writer.close()
    outcome = gate.finish()
    out = io.BytesIO()
    gate.copy(out, fmt)
    gate.close()
    sizes = {qi: sum(r[0] == qi for r in rows) for qi, _ in rows}
    kept = [r for r in rows if sizes[r[0]] >= 3]
    assert outcome.suppressed == len(rows) - len(kept)
    if rows and not kept:  # a delivery of nothing is refused, not made
        assert outcome.risk == "failed"
        assert outcome.assessment is not None
        assert [f.detail for f in outcome.assessment.failures] == ["every record"]
        return
    assert outcome.risk == "passed"
    assert out.getvalue() == _write(kept, fmt)


K3 = make_contract(  # k 3, no suppression
    "gate-k3",
    {"type": "object", "properties": {"qi": {"type": "string"}}},
    {"qi": {"treatment": "keep"}},
    privacy={"quasi_identifiers": ["qi"], "k": 3},
)


def test_without_suppression_nothing_is_spilled() -> None:
    gate = PrivacyGate(K3)
    assert gate.spill() is None and not gate.suppressing
    gate.observe({"qi": ["a", "a", "b"]}, 3, 0)
    outcome = gate.finish()
    assert outcome.risk == "failed" and outcome.failed
    assert outcome.assessment is not None and outcome.assessment.smallest_class == 1


def test_skipping_the_risk_gate_still_scans() -> None:
    gate = PrivacyGate(K3, skip_risk=True)
    gate.observe({"qi": ["mail ouder@example.nl", "a"]}, 2, 0)
    outcome = gate.finish()
    assert outcome.risk == "skipped" and outcome.assessment is None
    assert [(f.field, f.rule, f.records) for f in outcome.findings] == [("qi", "email", 1)]
    assert outcome.failed
