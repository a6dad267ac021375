"""Root applicators as row masks: ``if``/``then``/``else``, ``allOf``, ``anyOf``, ``oneOf``
and ``not`` over subschemas of ``properties`` (flat property schemas, or ``true``/``false``),
``required`` and ``dependentRequired``.

Each subschema compiles to a function from a batch to the exact mask of the rows it accepts:
a property subschema is judged like a root property (its kernels confirm values, the exact
checks decide the rest once per distinct value), on the value the CSV cell becomes under the
*root* property's type. A subschema with any other keyword gives ``None``: the plan is then
precise (the reference decides per record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..validation import RecordSchema, flat_property, resolve_ref

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

_ANNOTATIONS: Final = frozenset(
    {"title", "description", "$comment", "examples", "default", "deprecated", "readOnly",
     "writeOnly"}
)  # fmt: skip
_ROW_KEYWORDS: Final = _ANNOTATIONS | {
    "properties", "required", "dependentRequired", "allOf", "anyOf", "oneOf", "not", "if",
    "then", "else", "type",
}  # fmt: skip
APPLICATORS: Final = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})


@dataclass
class Batch:
    """What a row test reads: the batch's columns and, per column, where it is present."""

    columns: Mapping[str, pa.Array]
    present: Mapping[str, np.ndarray[Any, Any]]
    n: int


RowTest = Callable[[Batch], "np.ndarray[Any, Any]"]
#: How the plan judges one property's subschema: ``(schema, name, flat body)`` to a function
#: of ``(cells, n)`` giving the mask of rejected rows (:func:`ketenx.records.engine.plan`
#: passes its field compiler, so this module does not import the plan that imports it).
PropertyJudge = Callable[
    [RecordSchema, str, Mapping[str, Any]], Callable[[Any, int], "np.ndarray[Any, Any]"]
]


def _all(batch: Batch) -> np.ndarray[Any, Any]:
    import numpy as np

    return np.ones(batch.n, dtype=bool)


def _present(batch: Batch, name: str) -> np.ndarray[Any, Any]:
    import numpy as np

    found = batch.present.get(name)
    return np.zeros(batch.n, dtype=bool) if found is None else found


class Unsupported(Exception):
    """A subschema the row masks do not carry (the message says which keyword)."""


def compile_rows(schema: RecordSchema, node: Any, judge_for: PropertyJudge) -> RowTest:
    """The row test of a subschema that applies to the whole record."""
    node = resolve_ref(node, schema.schema)
    if node is True:
        return _all
    if node is False:
        return lambda batch: ~_all(batch)
    _check_row_node(node)
    tests = [*_field_tests(schema, node, judge_for), *_applicator_tests(schema, node, judge_for)]

    def test(batch: Batch) -> np.ndarray[Any, Any]:
        ok = _all(batch)
        for t in tests:
            ok &= t(batch)
        return ok

    return test


def _check_row_node(node: Any) -> None:
    """Refuse (as not columnar) a root subschema the row tests do not carry."""
    if not isinstance(node, Mapping):
        raise Unsupported("a subschema that is not an object")
    extra = sorted(set(node) - _ROW_KEYWORDS)
    if extra:
        raise Unsupported(f"`{extra[0]}` inside a root applicator")
    if node.get("type", "object") not in ("object", ["object"]):
        raise Unsupported("a root applicator with a `type` other than object")
    if not isinstance(node.get("properties", {}), Mapping):
        raise Unsupported("`properties` that is not an object")


def _field_tests(
    schema: RecordSchema, node: Mapping[str, Any], judge_for: PropertyJudge
) -> list[RowTest]:
    """``properties``, ``required`` and ``dependentRequired`` as row tests."""
    properties = node.get("properties", {})
    tests = [_property_test(schema, name, sub, judge_for) for name, sub in properties.items()]
    tests += [_needs(None, name) for name in node.get("required", [])]
    for name, needed in node.get("dependentRequired", {}).items():
        tests.extend(_needs(name, other) for other in needed)
    return tests


def _applicator_tests(
    schema: RecordSchema, node: Mapping[str, Any], judge_for: PropertyJudge
) -> list[RowTest]:
    """``allOf``/``anyOf``/``oneOf``, ``not`` and ``if``/``then``/``else`` as row tests."""
    tests: list[RowTest] = []
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            tests.append(_combine(key, [compile_rows(schema, b, judge_for) for b in node[key]]))
    if "not" in node:
        inner = compile_rows(schema, node["not"], judge_for)
        tests.append(lambda batch: ~inner(batch))
    if "if" in node:
        tests.append(
            _if_then_else(
                compile_rows(schema, node["if"], judge_for),
                compile_rows(schema, node.get("then", True), judge_for),
                compile_rows(schema, node.get("else", True), judge_for),
            )
        )
    return tests


def _if_then_else(cond: RowTest, then: RowTest, other: RowTest) -> RowTest:
    def branch(batch: Batch) -> np.ndarray[Any, Any]:
        import numpy as np

        ok: np.ndarray[Any, Any] = np.where(cond(batch), then(batch), other(batch))
        return ok

    return branch


def _needs(given: str | None, name: str) -> RowTest:
    """Rows where ``name`` is present (when ``given`` is, if one is named)."""

    def test(batch: Batch) -> np.ndarray[Any, Any]:
        ok = _present(batch, name)
        return ok if given is None else ~_present(batch, given) | ok

    return test


def _combine(key: str, branches: list[RowTest]) -> RowTest:
    def test(batch: Batch) -> np.ndarray[Any, Any]:
        import numpy as np

        results = [b(batch) for b in branches]
        if key == "allOf":
            return np.logical_and.reduce(results) if results else _all(batch)
        if key == "anyOf":
            return np.logical_or.reduce(results) if results else ~_all(batch)
        counts = np.sum(results, axis=0) if results else np.zeros(batch.n, dtype=np.int64)
        exactly_one: np.ndarray[Any, Any] = counts == 1
        return exactly_one

    return test


def _property_test(schema: RecordSchema, name: str, sub: Any, judge_for: PropertyJudge) -> RowTest:
    """Rows where property ``name`` is absent or its value passes ``sub``."""
    root = schema.schema
    sub = resolve_ref(sub, root)
    if sub is True:
        return _all
    if sub is False:
        return lambda batch: ~_present(batch, name)
    if name not in schema.property_names:
        return _all  # never in a CSV record
    flat = flat_property(sub, root)
    if flat is None:
        raise Unsupported(f"the subschema of `{name}` in a root applicator")
    rejected = judge_for(schema, name, flat[0])

    def test(batch: Batch) -> np.ndarray[Any, Any]:
        import numpy as np

        cells = batch.columns.get(name)
        if cells is None:
            return np.ones(batch.n, dtype=bool)
        ok: np.ndarray[Any, Any] = ~rejected(cells, batch.n)
        return ok

    return test
