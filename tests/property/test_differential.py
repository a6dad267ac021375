"""The hot path and the reference agree.

``jsonschema`` (Draft 2020-12) with ketenx's format registry is the reference for which
records are valid. The column plan must reach exactly the same verdict, and name exactly the
same (field, rule) pairs, on generated schemas and records; the bulk CSV coercion must give
exactly what cell-by-cell coercion gives.

The generated schemas cover what the plan carries: scalar types, or none with an ``enum`` or
``const`` (of mixed scalars), ECMA-262 patterns, exact ``multipleOf`` with decimal divisors,
and every spelling of a nullable (``type: [T, "null"]``, ``anyOf``/``oneOf`` with a null
branch, a ``$ref`` into ``$defs``, beside unreferenced ``$defs``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.formats import FORMATS, SCREENS
from ketenx.records.validation import MISSING, ColumnPlan, RecordSchema, Reference, record_columns

SCALAR_TYPES = ["string", "integer", "number", "boolean", "null"]
PATTERNS = [
    "^[A-Z]",
    "[0-9]$",
    "^.{2,5}$",
    "ab",
    "^ab[a-c0-9_-]{3}$",
    "^x[a-z]+$",
    "^[0-9]{4}$",
    "^\\d{3}$",
    "\\w$",
    "^\\p{Letter}+$",
]
SAMPLE_STRINGS = [
    "",
    "111222333",
    "012345672",
    "123456789",
    "000000000",
    "1234 AB",
    "1234ab",
    "0123 AB",
    "1234 SS",
    "2020-02-29",
    "2021-02-29",
    "2020-13-01",
    "2020-01-01T10:00:00Z",
    "2020-01-01 10:00:00",
    "a@b.nl",
    "a@b",
    "a b@c.nl",
    "00000001001234567000",
    "NL91ABNA0417164300",
    "NL91ABNA0417164301",
    "M",
    "V",
    "Zoë",
    "x" * 12,
    "١٢٣",
    "abc1_",
    "ab-_0",
    "abcd\n",
    "abc1_\n",
    "xyz",
    "x",
    "1234",
    "1234\n",
]


enum_members = st.one_of(
    st.sampled_from(SAMPLE_STRINGS), st.integers(-3, 3), st.sampled_from([1.5, 2.0]),
    st.booleans(), st.none(),
)  # fmt: skip


@st.composite
def property_schemas(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 5)) == 0:  # no type: the enum or const implies it
        key = draw(st.sampled_from(["enum", "const"]))
        if key == "const":
            return {"const": draw(enum_members)}
        return {"enum": draw(st.lists(enum_members, min_size=1, max_size=4))}
    types = draw(st.lists(st.sampled_from(SCALAR_TYPES), min_size=1, max_size=3, unique=True))
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if "string" in types:
        if draw(st.booleans()):
            schema["format"] = draw(st.sampled_from(sorted(FORMATS)))
        if draw(st.integers(0, 4)) == 0:
            schema["enum"] = draw(
                st.lists(st.sampled_from(SAMPLE_STRINGS), min_size=1, unique=True)
            )
        if draw(st.integers(0, 3)) == 0:
            schema["minLength"] = draw(st.integers(0, 10))
        if draw(st.integers(0, 3)) == 0:
            schema["maxLength"] = draw(st.integers(0, 20))
        if draw(st.integers(0, 4)) == 0:
            schema["pattern"] = draw(st.sampled_from(PATTERNS))
    if "integer" in types or "number" in types:
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if draw(st.integers(0, 3)) == 0:
                schema[key] = draw(st.one_of(st.integers(-50, 50), st.floats(-50, 50)))
        if draw(st.integers(0, 5)) == 0:
            schema["multipleOf"] = draw(
                st.one_of(st.integers(1, 7), st.sampled_from([0.5, 0.25, 0.01, 0.1]))
            )
    return schema


@st.composite
def spelled(draw: st.DrawFn, defs: dict[str, Any]) -> dict[str, Any]:
    """A property schema, as it is, as a nullable in another spelling, or behind a ``$ref``."""
    prop = draw(property_schemas())
    how = draw(st.sampled_from(["plain", "plain", "anyOf", "oneOf", "$ref", "$ref-anyOf"]))
    types = prop.get("type")
    if how in ("anyOf", "oneOf", "$ref-anyOf") and isinstance(types, str) and types != "null":
        branches = [prop, {"type": "null"}]
        prop = {"anyOf" if how != "oneOf" else "oneOf": draw(st.permutations(branches))}
    if how.startswith("$ref"):
        name = f"d{len(defs)}"
        defs[name] = prop
        prop = {"$ref": f"#/$defs/{name}"}
    return prop


@st.composite
def record_schemas(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True)
    )
    defs: dict[str, Any] = {}
    props = {n: draw(spelled(defs)) for n in names}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if draw(st.booleans()):
        defs["unused"] = draw(property_schemas())
    if defs:
        schema["$defs"] = defs
    required = draw(st.lists(st.sampled_from(names), unique=True))
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


values = st.one_of(
    st.sampled_from(SAMPLE_STRINGS),
    st.text(max_size=8),
    st.integers(-100, 100),
    st.floats(-100, 100, allow_nan=False),
    st.integers(-10000, 10000).map(lambda n: n / 100),  # amounts: exact multipleOf
    st.booleans(),
    st.none(),
)


def fast_pairs(schema: dict[str, Any], records: list[dict[str, Any]]) -> list[set[tuple[str, str]]]:
    plan = ColumnPlan(schema)
    columns, flat = record_columns(records, list(schema["properties"]))
    assert flat
    bad = plan.check_columns(columns)
    return [set(bad.get(i, [])) for i in range(len(records))]


def reference_pairs(
    schema: dict[str, Any], records: list[dict[str, Any]]
) -> list[set[tuple[str, str]]]:
    ref = Reference(schema)
    return [{(v.field, v.rule) for v in ref.explain(r, i + 1)} for i, r in enumerate(records)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_column_plan_agrees_with_jsonschema(data: st.DataObject) -> None:
    schema = data.draw(record_schemas())
    assert ColumnPlan.supports(schema)
    names = list(schema["properties"])
    records = data.draw(
        st.lists(
            st.dictionaries(st.sampled_from(names), values),
            min_size=1,
            max_size=12,
        )
    )
    fast = fast_pairs(schema, records)
    reference = reference_pairs(schema, records)
    assert fast == reference
    ref = Reference(schema)
    assert [not f for f in fast] == [ref.is_valid(r) for r in records]


cells = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "12",
            "-3",
            "+4",
            "007",
            "1.5",
            "-0.25",
            "1e3",
            "1E-2",
            ".5",
            "5.",
            "1.2.3",
            "abc",
            "true",
            "False",
            "nan",
            "inf",
            "1_000",
            " 7",
            "٣",
            "9" * 400 + ".0",
        ]
    ),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(alphabet="0123456789.-+eE", max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(
    types=st.lists(st.sampled_from(SCALAR_TYPES), min_size=1, max_size=3, unique=True),
    column=st.lists(cells, min_size=1, max_size=20),
)
def test_bulk_coercion_equals_cell_by_cell(types: list[str], column: list[str]) -> None:
    rs = RecordSchema({"type": "object", "properties": {"x": {"type": types}}})
    hints: dict[str, Any] = {}
    bulk = list(rs.coerce_column("x", column, hints))
    coerce, allows_null = rs._coercers["x"]
    empty = None if allows_null else MISSING
    one_by_one = [empty if c == "" else (coerce(c) if coerce else c) for c in column]
    assert [(type(v), v) for v in bulk] == [(type(v), v) for v in one_by_one]
    if hints["x"] is not None:
        assert hints["x"] == frozenset(map(type, bulk))


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(SCREENS)),
    column=st.lists(
        st.one_of(st.sampled_from(SAMPLE_STRINGS), st.text(max_size=12)), min_size=1, max_size=20
    ),
)
def test_format_screens_agree_with_per_value_checks(name: str, column: list[str]) -> None:
    assert SCREENS[name](column) == all(map(FORMATS[name], column))


def test_bsn_screen_on_valid_columns() -> None:
    from ketenx.records.formats import is_bsn

    valid = [f"{n:09d}" for n in range(100_000_000, 100_020_000) if is_bsn(f"{n:09d}")]
    assert SCREENS["nl-bsn"](valid)
    for i in (0, len(valid) // 2, len(valid) - 1):
        broken = list(valid)
        broken[i] = broken[i][:8] + str((int(broken[i][8]) + 1) % 10)
        assert not SCREENS["nl-bsn"](broken)


@settings(max_examples=1500, deadline=None)
@given(
    name=st.sampled_from(["email", "nl-postcode", "nl-bsn", "date"]),
    column=st.lists(st.text(alphabet="ab.@ \n\u00a0-1209AZS", max_size=9), min_size=0, max_size=6),
)
def test_format_screens_on_near_misses(name: str, column: list[str]) -> None:
    assert SCREENS[name](column) == all(map(FORMATS[name], column))


@settings(max_examples=500, deadline=None)
@given(
    column=st.lists(
        st.one_of(
            st.sampled_from(SAMPLE_STRINGS), st.text(alphabet="0123456789", min_size=8, max_size=10)
        ),
        max_size=30,
    )
)
def test_bulk_failure_finders_agree(column: list[str]) -> None:
    from ketenx.records.formats import FAILURES

    for name, find in FAILURES.items():
        assert find(column) == [i for i, v in enumerate(column) if not FORMATS[name](v)]
