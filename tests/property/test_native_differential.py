"""The native screen (jsonschema-rs) never accepts what the reference rejects.

Generated nested subschemas — objects with ``properties``, ``required``,
``additionalProperties``, ``patternProperties``, ``propertyNames``, ``unevaluatedProperties``;
arrays with ``items``, ``prefixItems``, ``contains``, ``uniqueItems``, ``unevaluatedItems``;
``anyOf``/``oneOf``/``allOf``/``not``/``if``; ``$ref`` into ``$defs``; scalars with every
keyword (ECMA-262 patterns inside and outside the pinned part, exact ``multipleOf``, ketenx's
formats and others, bounds) — and values built to be near them (JSON equality's corners:
``1``/``1.0``/``true``, integers beyond 2^53, line terminators, non-ASCII digits, Unicode
white space). For every pair: native-valid ⇒ reference-valid, always. And through the
record plan, a batch of records gets exactly the reference's verdicts and (field, rule)
pairs, also with root keywords outside the column plan (judged natively per record).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ketenx.records.engine.native import NativeField, native_field, record_plan_for
from ketenx.records.validation import RecordSchema, record_columns

STRINGS = ["", "a", "ab", "abc", "1234", "1234\n", "12", "\r", "\u2028", "\u0085", "\ufeff",
           " ", "\u00e9", "\u0663", "Zo\u00eb", "x\ny", "111222333", "123456789", "1234 AB",
           "2020-02-29", "2021-02-29", "a@b.nl", "NL91ABNA0417164300", "999.1.1.1",
           "\U0001f600", "e\u0301"]  # fmt: skip
NUMBERS = [0, 1, -1, 1.0, 0.5, 19.99, 0.07, 601.66, 0.1, 0.3, 2.5, 1e300, -1e-320, 3,
           2**53 - 1, 2**53, 2**53 + 1, 2**64 + 1, -(2**70), 7, 100]  # fmt: skip
SCALARS = [None, True, False, *STRINGS, *NUMBERS]
PATTERNS = ["^a", "b$", "^[0-9]{4}$", "^\\d+$", "^\\w$", "^.$", "^\\s$", "^(a|ab)c?$",
            "^\\p{Letter}+$", "(?=a)", "\\bx", "(a)\\1", "^[^0-9]*$", "^.{1,3}$"]  # fmt: skip
FORMATS = ["nl-bsn", "date", "email", "nl-postcode", "iban", "ipv4", "uri"]
KEYS = ["a", "b", "c", "1", "x\n", "\u00e9"]

scalar_values = st.sampled_from(SCALARS)


@st.composite
def leaf_schemas(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        types = ["string", "integer", "number", "boolean", "null", "array", "object"]
        chosen = draw(st.lists(st.sampled_from(types), min_size=1, max_size=2, unique=True))
        out["type"] = chosen[0] if len(chosen) == 1 else chosen
    options: dict[str, st.SearchStrategy[Any]] = {
        "pattern": st.sampled_from(PATTERNS),
        "minLength": st.integers(0, 3),
        "maxLength": st.integers(0, 4),
        "format": st.sampled_from(FORMATS),
        "minimum": st.sampled_from([0, 1, 0.5, -1, 2**53 - 1]),
        "maximum": st.sampled_from([0, 10, 1.5, 100, 2**53 - 1]),
        "exclusiveMinimum": st.sampled_from([0, 0.5]),
        "exclusiveMaximum": st.sampled_from([1, 100]),
        "multipleOf": st.sampled_from([0.01, 0.1, 3, 2.5, 1e-5, 1]),
        "enum": st.lists(st.one_of(scalar_values, st.just([1]), st.just({"a": 1})), min_size=1,
                         max_size=4),
        "const": st.one_of(scalar_values, st.just([1.0]), st.just({"a": True})),
    }  # fmt: skip
    for key in draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True)):
        out[key] = draw(options[key])
    return out


def _object(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True))
        out: dict[str, Any] = {"type": "object", "properties": {n: draw(children) for n in names}}
        if names and draw(st.booleans()):
            out["required"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        extra = {
            "additionalProperties": st.one_of(st.booleans(), children),
            "patternProperties": st.dictionaries(st.sampled_from(PATTERNS[:8]), children,
                                                 max_size=2),
            "propertyNames": st.builds(lambda p: {"pattern": p}, st.sampled_from(PATTERNS)),
            "unevaluatedProperties": st.one_of(st.booleans(), children),
            "minProperties": st.integers(0, 2),
            "maxProperties": st.integers(0, 3),
            "dependentRequired": st.just({"a": ["b"]}),
        }  # fmt: skip
        for key in draw(st.lists(st.sampled_from(sorted(extra)), max_size=2, unique=True)):
            out[key] = draw(extra[key])
        return out

    return build()


def _array(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array"}
        extra = {
            "items": st.one_of(st.booleans(), children),
            "prefixItems": st.lists(children, min_size=1, max_size=2),
            "contains": children,
            "minContains": st.integers(0, 2),
            "maxContains": st.integers(1, 2),
            "uniqueItems": st.booleans(),
            "minItems": st.integers(0, 2),
            "maxItems": st.integers(0, 4),
            "unevaluatedItems": st.one_of(st.booleans(), children),
        }
        for key in draw(st.lists(st.sampled_from(sorted(extra)), max_size=3, unique=True)):
            out[key] = draw(extra[key])
        return out

    return build()


def _combined(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    branches = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda b: {"anyOf": b}, branches),
        st.builds(lambda b: {"oneOf": b}, branches),
        st.builds(lambda b: {"allOf": b}, branches),
        st.builds(lambda s: {"not": s}, children),
        st.builds(lambda i, t, e: {"if": i, "then": t, "else": e}, children, children, children),
        st.just({"$ref": "#/$defs/code"}),
    )


subschemas = st.recursive(
    leaf_schemas(),
    lambda children: st.one_of(_object(children), _array(children), _combined(children)),
    max_leaves=8,
)
DEFS = {"code": {"type": "string", "pattern": "^[0-9]{2}[A-Z]$"}}


def _values_near(schema: Any) -> st.SearchStrategy[Any]:
    """Values built from the schema's shape (often valid), or anything."""
    anything = st.recursive(
        scalar_values,
        lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.sampled_from(KEYS), c,
                                                                      max_size=3)),
        max_leaves=6,
    )  # fmt: skip
    if not isinstance(schema, dict):
        return anything
    shaped: list[st.SearchStrategy[Any]] = [anything]
    if "properties" in schema:
        props = schema["properties"]
        shaped.append(st.fixed_dictionaries({k: _values_near(v) for k, v in props.items()}))
    if isinstance(schema.get("items"), dict):
        shaped.append(st.lists(_values_near(schema["items"]), max_size=4))
    if "prefixItems" in schema:
        shaped.append(st.tuples(*(_values_near(s) for s in schema["prefixItems"])).map(list))
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            shaped.extend(_values_near(s) for s in schema[key])
    if "enum" in schema:
        shaped.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        shaped.append(st.just(schema["const"]))
    if schema.get("$ref") == "#/$defs/code":
        shaped.append(st.sampled_from(["12A", "12A\n", "\u0663\u0663A", "99Z"]))
    return st.one_of(*shaped)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_native_valid_implies_reference_valid(data: st.DataObject) -> None:
    sub = data.draw(subschemas)
    schema = RecordSchema({"type": "object", "properties": {"v": sub}, "$defs": DEFS})
    found = native_field(schema, "v")
    if isinstance(found, str):
        event(f"declined: {found}")
        return
    assert isinstance(found, NativeField)
    for value in data.draw(st.lists(_values_near(sub), min_size=1, max_size=5)):
        accepted = found.accepts(value)
        event(f"native {'accepts' if accepted else 'doubts'}")
        if accepted:
            assert schema.reference.is_valid({"v": value}), (sub, value)
        assert found.doubtful([value]) == ([] if accepted else [0])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_record_plan_reports_what_the_reference_reports(data: st.DataObject) -> None:
    """A flat field, a nested one and perhaps root keywords outside the column plan."""
    nested = data.draw(subschemas)
    flat = data.draw(st.sampled_from([{"type": "string", "pattern": "^[0-9]+$"},
                                      {"type": ["integer", "null"], "minimum": 0}]))  # fmt: skip
    root: dict[str, Any] = {"type": "object", "properties": {"n": nested, "f": flat},
                            "$defs": DEFS}  # fmt: skip
    root["required"] = data.draw(st.sampled_from([[], ["n"], ["f"], ["n", "f"]]))
    if data.draw(st.booleans()):
        root["additionalProperties"] = False
    root_keywords = {
        "minProperties": st.integers(0, 2),
        "maxProperties": st.integers(1, 2),
        "if": st.just({"required": ["n"]}),
        "then": st.builds(lambda s: {"properties": {"f": s}}, subschemas),
        "allOf": st.lists(st.builds(lambda s: {"properties": {"n": s}}, subschemas), max_size=2),
        "not": st.just({"required": ["f", "n"]}),
        "propertyNames": st.just({"pattern": "^[fn]$"}),
        "unevaluatedProperties": st.booleans(),
        "dependentSchemas": st.builds(lambda s: {"f": {"properties": {"n": s}}}, subschemas),
    }
    for key in data.draw(st.lists(st.sampled_from(sorted(root_keywords)), max_size=2)):
        root[key] = data.draw(root_keywords[key])
    schema = RecordSchema(root)
    plan = record_plan_for(schema)
    if plan is None:
        event("no record plan")
        return
    records = data.draw(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={"n": _values_near(nested),
                          "f": st.sampled_from(["12", "1a", "", 3, -1, None, 2.5])},
            ),
            min_size=1,
            max_size=6,
        )
    )  # fmt: skip
    columns, _ = record_columns(records, ["n", "f"])
    bad = plan.check_columns(columns)
    reference = schema.reference
    for i, record in enumerate(records):
        want = sorted({(v.field, v.rule) for v in reference.explain(record, i + 1)})
        assert sorted(set(bad.get(i, []))) == want, (root, record)
        assert (i not in bad) is reference.is_valid(record)
