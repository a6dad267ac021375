"""Errors counted column by column (ketenx.records.engine.attribution) equal the precise path's.

Once a report's list of errors is full, ``check`` counts the rest of a CSV file's errors by
rule with the engine's deciders instead of building each record's (field, rule) pairs. The
report — records, invalid records, the listed errors, the counts by rule — must be the one
the precise path (``Checker(engine=False)``) writes, on generated flat schemas and hostile
CSV bytes, with the list full from the first record (``max_errors=0``) or after a few; and
each decider's decided verdict must be the exact check's.
"""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.batches import FileReport
from ketenx.records.check import Checker
from ketenx.records.engine import attribution, csvsource
from ketenx.records.engine.arrays import strings
from ketenx.records.engine.deciders import FORMAT_DECIDERS, string_decider
from ketenx.records.formats import FORMATS
from ketenx.records.readers import LineMap
from ketenx.records.validation import ColumnPlan, RecordSchema, cell_judge, flat_property
from tests.property.test_differential import PATTERNS, SAMPLE_STRINGS
from tests.property.test_engine_differential import CELLS, csv_files, schemas, summary


def both(schema: dict[str, Any], data: bytes, max_errors: int, **options: Any) -> Any:
    compiled = RecordSchema(schema)
    out = []
    for engine in (False, True):
        checker = Checker(compiled, max_errors=max_errors, engine=engine, **options)
        out.append(summary(checker.check(io.BytesIO(data), "csv")))
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    piece=st.sampled_from([64, 1 << 20]),
    max_errors=st.sampled_from([0, 0, 1, 4]),
)
def test_counted_report_equals_precise_report(
    data: st.DataObject, piece: int, max_errors: int
) -> None:
    schema = data.draw(schemas())
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    with (
        mock.patch.object(csvsource, "PIECE_BYTES", piece),
        mock.patch.object(csvsource, "MAX_PIECE_BYTES", max(piece * 4, 160)),
    ):
        precise, fast = both(schema, raw, max_errors)
    assert fast == precise


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_counted_report_equals_precise_report_on_a_delivery(data: st.DataObject) -> None:
    """Normalised (``pseudonymise``) and formula-neutralised (``check --side output``)
    cells, counted."""
    schema = data.draw(schemas())
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    names = list(schema["properties"])
    normalise = {n: data.draw(st.sampled_from(["text", "bsn", "none"])) for n in names[:1]}
    precise, fast = both(schema, raw, 0, normalise=normalise)
    assert fast == precise
    precise, fast = both(schema, raw, 0, unneutralise=True)
    assert fast == precise


def invalid_csv(rows: int) -> bytes:
    """Every record with three errors (a BSN failing the 11-proef, a postcode with a leading
    zero, a house number that is no integer), each cell distinct."""
    lines = ["bsn,postcode,huisnummer,email"]
    for i in range(rows):
        lines.append(f"{100000000 + i:09d},0{i % 1000:03d} AB,{i}a,x{i}@voorbeeld.nl")
    return ("\n".join(lines) + "\n").encode()


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "postcode": {"type": "string", "format": "nl-postcode"},
        "huisnummer": {"type": "integer", "minimum": 1},
        "email": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
    },
    "required": ["bsn", "postcode", "huisnummer"],
}


@pytest.mark.parametrize("max_errors", [0, 5, 1000])
def test_an_invalid_file_counted_by_rule(max_errors: int) -> None:
    data = invalid_csv(3000)
    with mock.patch.object(csvsource, "PIECE_BYTES", 4096):
        precise, fast = both(SCHEMA, data, max_errors)
    assert fast == precise
    records, invalid, _, errors, counts = fast
    bsn_ok = sum(1 for i in range(3000) if FORMATS["nl-bsn"](f"{100000000 + i:09d}"))
    assert 0 < bsn_ok < 3000
    assert dict(counts) == {"nl-bsn": 3000 - bsn_ok, "nl-postcode": 3000, "type": 3000}
    assert (records, invalid, len(errors)) == (
        3000,
        3000,
        min(max_errors, sum(k for _, k in counts)),
    )


def test_the_counting_path_is_taken_and_holds_a_bounded_cache() -> None:
    """The count is made column by column (no record built, ``ColumnPlan.check_columns``
    never called), and what it remembers of distinct cells stays under its limit."""
    data = invalid_csv(3000)
    with (
        mock.patch.object(csvsource, "PIECE_BYTES", 4096),
        mock.patch.object(attribution, "_CACHE_LIMIT", 100),
        mock.patch.object(
            ColumnPlan, "check_columns", side_effect=AssertionError("judged per record")
        ),
    ):
        compiled = RecordSchema(SCHEMA)
        report = Checker(compiled, max_errors=0).check(io.BytesIO(data), "csv")
    assert report.invalid_records == 3000
    assert report.errors == []
    counted = compiled._engine_attribution  # type: ignore[attr-defined]
    assert 0 < max(len(c.seen) for c in counted.columns.values()) <= 100


def test_rejected_rows_ride_on_the_batches() -> None:
    """A counted batch names its rejected rows (pseudonymise fails closed on them) and
    builds its columns as the precise path does."""
    data = invalid_csv(50) + b"123456782,1234 AB,5,\n"
    compiled = RecordSchema(SCHEMA)
    out = {}
    for engine in (False, True):
        checker = Checker(compiled, max_errors=0, engine=engine)
        report = FileReport(path="-", max_errors=0, lines=LineMap())
        batches = list(checker.iter_csv(io.BytesIO(data), report))
        out[engine] = [
            (b.start, b.size, sorted(b.rejected), _lists(b.columns), _lists(b.cells))
            for b in batches
        ]
    assert out[True] == out[False]
    assert out[True][0][2] == list(range(50))


def _lists(columns: Any) -> dict[str, list[Any]]:
    return {name: list(col) for name, col in columns.items()}


# --- the deciders: a decided verdict is the exact check's -------------------------------------

DECIDER_STRINGS = st.one_of(
    st.sampled_from([*SAMPLE_STRINGS, *CELLS]),
    st.text(max_size=12),
    st.text(alphabet="0123456789 ABSDNLab-@.\t\x1c", max_size=12),
    st.from_regex(r"\A[0-9]{4} ?[A-Z]{2}\Z"),
    st.from_regex(r"\A[0-9]{9}\Z"),
    st.from_regex(r"\ANL[0-9]{2}[A-Z]{4}[0-9]{10}\Z"),
    st.sampled_from(["NL91ABNA0417164300", "NL91ABNA0417164301", "NL02ABNA0123456789"]),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.from_regex(r"\A[a-z .]{1,4}@[a-z.\x1f]{1,6}\Z"),
)


def _strings(values: list[str]) -> Any:
    return strings([v for v in values if not any(0xD800 <= ord(c) <= 0xDFFF for c in v)])


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(FORMAT_DECIDERS)), values=st.lists(DECIDER_STRINGS))
def test_format_deciders_agree_with_the_format_checks(name: str, values: list[str]) -> None:
    cells = _strings(values)
    ok, decided = FORMAT_DECIDERS[name](cells)
    check = FORMATS[name]
    for v, passes, known in zip(cells.to_pylist(), ok, decided, strict=True):
        if known:
            assert bool(passes) == check(v), v
        else:
            assert not passes


KEYWORDS = st.one_of(
    st.builds(lambda e: {"enum": e}, st.lists(st.sampled_from([*SAMPLE_STRINGS, 1, None]))),
    st.builds(lambda c: {"const": c}, st.sampled_from([*SAMPLE_STRINGS, 1, True])),
    st.builds(lambda n: {"minLength": n}, st.integers(0, 6)),
    st.builds(lambda n: {"maxLength": n}, st.integers(0, 6)),
    st.builds(lambda p: {"pattern": p}, st.sampled_from(PATTERNS)),
    st.builds(lambda f: {"format": f}, st.sampled_from(sorted(FORMATS))),
)


@settings(max_examples=300, deadline=None)
@given(keyword=KEYWORDS, values=st.lists(DECIDER_STRINGS))
def test_keyword_deciders_agree_with_the_exact_checks(
    keyword: dict[str, Any], values: list[str]
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", **keyword}}}
    compiled = RecordSchema(schema)
    flat = flat_property(schema["properties"]["a"], schema)
    assert flat is not None
    judge = cell_judge(compiled, "a", flat[0])
    cells = _strings(values)
    for rule, check in judge.checks:
        if rule == "type":
            continue
        decider = string_decider(rule, flat[0])
        assert decider is not None
        ok, decided = decider(cells)
        for v, passes, known in zip(cells.to_pylist(), ok, decided, strict=True):
            if known:
                assert bool(passes) == check(v), (rule, v)
