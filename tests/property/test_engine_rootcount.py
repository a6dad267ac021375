"""Errors of schemas with root applicators, counted column by column, equal the precise path's.

Once a report's list of errors is full, ``check`` counts a CSV piece's errors by rule
(:mod:`ketenx.records.engine.rootcount`): the root's own keywords column by column, each root
applicator (``if``/``then``/``else``, ``allOf``, ``anyOf``, ``oneOf``, ``not``) as error masks,
the two joined as the reference joins a record's errors (one error per field, rule and
message). The report — records, invalid records, listed errors, counts by rule — must be the
one the precise path (``Checker(engine=False)``: the reference for every record a root row
mask rejects) writes, on generated schemas whose applicators constrain the same fields and
keywords as the root (so that errors coincide and must be counted once) and on generated CSV
bytes, with the list full from the first record or after a few.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.engine import csvsource, plan_for
from ketenx.records.engine.rootcount import counter_for, root_count_for
from ketenx.records.validation import RecordSchema
from tests.property.test_differential import property_schemas, record_schemas
from tests.property.test_engine_attribution import both
from tests.property.test_engine_differential import csv_files


@st.composite
def branch_properties(draw: st.DrawFn, schema: dict[str, Any], name: str) -> Any:
    """A property subschema in an applicator: the root's own (its errors coincide), a
    generated one, an enum, or ``true``/``false``."""
    own = st.just(schema["properties"][name])
    options = [
        own,
        own,  # (twice: coinciding errors, the hard case, come up often)
        property_schemas(),
        st.just({"enum": ["M", "V"]}),
        st.booleans(),
    ]
    return draw(st.one_of(*options))


@st.composite
def nodes(draw: st.DrawFn, schema: dict[str, Any], depth: int = 0) -> Any:
    """A subschema for the whole record, as root applicators hold them, nested."""
    names = list(schema["properties"])
    if draw(st.integers(0, 8)) == 0:
        return draw(st.booleans())
    node: dict[str, Any] = {}
    picked = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    if picked:
        node["properties"] = {n: draw(branch_properties(schema, n)) for n in picked}
    if draw(st.booleans()):
        pool = [*names, "z"]  # "z": no property, so never in a record; a name may repeat
        node["required"] = draw(st.lists(st.sampled_from(pool), max_size=3))
    if len(names) > 1 and draw(st.integers(0, 3)) == 0:
        first, *others = draw(st.permutations(names))
        node["dependentRequired"] = {first: others[: draw(st.integers(1, len(others)))]}
    if depth < 2 and draw(st.integers(0, 2)) == 0:
        key = draw(st.sampled_from(["allOf", "anyOf", "oneOf", "not", "if"]))
        if key == "if":
            node["if"] = draw(nodes(schema, depth + 1))
            for then in ("then", "else"):
                if draw(st.integers(0, 3)) > 0:
                    node[then] = draw(nodes(schema, depth + 1))
        elif key == "not":
            node["not"] = draw(nodes(schema, depth + 1))
        else:
            node[key] = draw(st.lists(nodes(schema, depth + 1), min_size=1, max_size=3))
    if depth == 1 and draw(st.integers(0, 9)) == 0:  # a nullable pair of record schemas
        node = {draw(st.sampled_from(["anyOf", "oneOf"])): [node, {"type": "null"}]}
    return node


@st.composite
def applied_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema = draw(record_schemas())
    names = list(schema["properties"])
    if len(names) > 1 and draw(st.integers(0, 3)) == 0:
        first, *others = draw(st.permutations(names))
        schema["dependentRequired"] = {first: others[: draw(st.integers(1, len(others)))]}
    keys = draw(
        st.lists(
            st.sampled_from(["if", "allOf", "anyOf", "oneOf", "not"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    for key in keys:
        if key == "if":
            schema["if"] = draw(nodes(schema, 1))
            schema["then"] = draw(nodes(schema, 1))
            if draw(st.booleans()):
                schema["else"] = draw(nodes(schema, 1))
        elif key in ("allOf", "anyOf", "oneOf"):
            schema[key] = draw(st.lists(nodes(schema), min_size=1, max_size=3))
        else:
            schema[key] = draw(nodes(schema))
    return schema


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    piece=st.sampled_from([64, 1 << 20]),
    max_errors=st.sampled_from([0, 0, 1, 4]),
)
def test_counted_report_with_root_applicators_equals_precise_report(
    data: st.DataObject, piece: int, max_errors: int
) -> None:
    schema = data.draw(applied_schemas())
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    with (
        mock.patch.object(csvsource, "PIECE_BYTES", piece),
        mock.patch.object(csvsource, "MAX_PIECE_BYTES", max(piece * 4, 160)),
    ):
        precise, fast = both(schema, raw, max_errors)
    assert fast == precise


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_root_applicators_are_counted_on_the_delivery_side(data: st.DataObject) -> None:
    """Normalised (``pseudonymise``) and formula-neutralised (``check --side output``)."""
    schema = data.draw(applied_schemas())
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    names = list(schema["properties"])
    normalise = {n: data.draw(st.sampled_from(["text", "bsn", "none"])) for n in names[:1]}
    precise, fast = both(schema, raw, 0, normalise=normalise)
    assert fast == precise
    precise, fast = both(schema, raw, 0, unneutralise=True)
    assert fast == precise


@settings(max_examples=200, deadline=None)
@given(schema=applied_schemas())
def test_every_columnar_plan_with_row_masks_is_counted(schema: dict[str, Any]) -> None:
    """The counting path covers every schema whose engine plan screens it with row masks."""
    compiled = RecordSchema(schema)
    plan = plan_for(compiled)
    if plan.precise is None:
        assert plan.rows is not None
        assert root_count_for(compiled, plan) is not None
        assert counter_for(compiled, plan) is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), key=st.sampled_from(["allOf", "then", "else"]))
def test_an_applicator_that_repeats_the_root_counts_each_error_once(
    data: st.DataObject, key: str
) -> None:
    """Every property's schema repeated in an applicator: each error of the root is given
    twice on the same record, with the same message (counted once), or — for a nullable
    written as an ``anyOf``/``oneOf`` pair — with a wording not known column by column (the
    record is explained by the reference)."""
    schema = data.draw(record_schemas())
    repeated = {"properties": dict(schema["properties"])}
    if key == "allOf":
        schema["allOf"] = [repeated]
    else:
        schema["if"] = {"required": list(schema["properties"])[:1]}
        schema[key] = repeated
    raw = data.draw(csv_files(list(schema["properties"]), schema))
    precise, fast = both(schema, raw, 0)
    assert fast == precise
