"""Native validators (jsonschema-rs) for the fields the column plan cannot carry.

A property whose schema is not flat — a nested object, an array, ``unevaluated*``, a
``oneOf`` of objects, … — is compiled **once**, on its own, into a jsonschema-rs validator
(draft 2020-12, ketenx's formats registered and always asserted, every ``$ref`` resolved
inside the contract, nothing ever fetched). It is a **screen**: when it accepts a value the
value is valid, exactly as the reference (:class:`ketenx.records.validation.Reference`)
would say; when it rejects one, or raises, the record goes to the reference, which decides
and explains. So a native rejection can never become a wrong report, and a native
acceptance must be exactly right. Where jsonschema-rs could accept what the reference
rejects, the compiled copy of the schema is changed or the field is declined:

* ``multipleOf`` is exact decimal arithmetic in ketenx (19.99 is a multiple of 0.01): it
  becomes a keyword of ketenx's own that calls the reference's
  :func:`~ketenx.records.validation.is_multiple`;
* ``pattern`` stays native only when it is in the part of ECMA-262 whose meaning is pinned
  (:func:`ketenx.records.engine.regex.to_re2`; jsonschema-rs follows ECMA-262 for those, the
  differential test holds it); any other pattern becomes a keyword that calls the ECMA-262
  engine of the reference (``regress``); a ``patternProperties`` pattern outside that part
  declines the field;
* ``format``: ketenx's formats are the reference's own functions; any other format name is
  an annotation in the reference, so it is dropped from the native copy (jsonschema-rs
  would assert its own ``ipv4``, ``uri``, …);
* numbers beyond ±2^53 in a bound, ``enum`` or ``const`` decline the field (jsonschema-rs
  may compare them as doubles, where the reference compares exactly);
* a ``$ref`` that is not a ``#``/``#/…`` pointer (an anchor, another document),
  ``$dynamicRef``/``$dynamicAnchor`` and a recursive ``$ref`` decline the field (a recursive
  schema over a deep value is where jsonschema-rs recurses without bound).

:func:`record_plan_for` combines the column plan of the flat properties with the native
fields into the JSON records' plan (:class:`RecordPlan`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import orjson

from ...canonical import pointer, resolve_fragment
from ..formats import FORMATS, LOW_CARDINALITY
from ..validation import (
    MISSING,
    ROOT_KEYWORDS,
    ColumnPlan,
    Judgement,
    RecordSchema,
    TypeHints,
    ecma_search,
    flat_property,
    is_dialect,
    is_multiple,
    subschemas,
)
from .regex import to_re2

#: The URI the contract's schema is registered under (never fetched: nothing is).
BASE: Final = "urn:ketenx:record"
_SAFE: Final = 2**53
_BOUNDS: Final = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_MULTIPLE: Final = "x-ketenx-multipleOf"
_PATTERN: Final = "x-ketenx-pattern"
_ROOT: Final = "x-ketenx-root"  # the root keywords judged natively, beside the schema's own
_FORMAT_CACHE: Final = 65_536  # distinct values of a low-cardinality format remembered
_MAX_STEPS: Final = 100_000  # schema nodes visited looking for a recursive `$ref`


class Declined(Exception):
    """A field the native path does not take (the message says why, without values)."""


class _ExactMultiple:
    """``multipleOf`` as the reference decides it (exact decimal arithmetic)."""

    def __init__(self, parent: Any, value: Any, path: Any) -> None:
        self.divisor = value

    def validate(self, instance: Any) -> None:
        number = isinstance(instance, int | float) and not isinstance(instance, bool)
        if number and not is_multiple(instance, self.divisor):
            raise ValueError("multipleOf")


class _EcmaPattern:
    """``pattern`` by the reference's ECMA-262 engine (``regress``)."""

    def __init__(self, parent: Any, value: Any, path: Any) -> None:
        self.pattern = value

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and not ecma_search(self.pattern, instance):
            raise ValueError("pattern")


def _big(value: Any) -> bool:
    """Whether a number (also inside an array or object) is beyond ±2^53."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return not -_SAFE < value < _SAFE
    if isinstance(value, list):
        return any(map(_big, value))
    if isinstance(value, Mapping):
        return any(map(_big, value.values()))
    return False


def _check_node(node: Mapping[str, Any]) -> None:
    """Raise :class:`Declined` for a keyword of a schema the field reaches where
    jsonschema-rs could accept what the reference rejects (see the module docstring)."""
    for key, value in node.items():
        if key in ("$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"):
            raise Declined(f"`{key}`")
        if key == "$ref" and not (isinstance(value, str) and (value == "#" or value[:2] == "#/")):
            raise Declined("a `$ref` that is not a `#/…` pointer")
        if key in (*_BOUNDS, "enum", "const") and _big(value):
            raise Declined(f"a number beyond ±2^53 in `{key}`")
        if isinstance(value, Mapping) and key == "patternProperties" and not _pinned(value):
            raise Declined("a `patternProperties` pattern outside the pinned ECMA-262 part")


def _pinned(patterns: Mapping[str, Any]) -> bool:
    """Whether every pattern is in the part of ECMA-262 whose meaning is pinned."""
    return all(isinstance(p, str) and to_re2(p) is not None for p in patterns)


def _rewrite(node: Any) -> Any:
    """A copy of a (sub)schema as jsonschema-rs is to judge it: ``multipleOf`` and a
    ``pattern`` outside the pinned part by the reference's own code, formats ketenx does not
    assert dropped, a ``$schema`` naming 2020-12 dropped, a name listed twice in ``required``
    listed once (jsonschema-rs fails a record with fewer properties than the list has names)."""
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$schema" and is_dialect(value):
            continue
        if key == "required" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(dict.fromkeys(value))
            continue
        if key == "format" and value not in FORMATS:
            continue  # an annotation in the reference
        if key == "multipleOf":
            out[_MULTIPLE] = value
            continue
        if key == "pattern" and isinstance(value, str) and to_re2(value) is None:
            out[_PATTERN] = value
            continue
        out[key] = value
    for below, sub in subschemas(node):
        if len(below) == 1:
            out[str(below[0])] = _rewrite(sub)
            continue
        key, inner = below
        holder = out[str(key)]
        if holder is node[key]:  # copy each map or list once, before the first change
            holder = out[str(key)] = list(holder) if isinstance(holder, list) else dict(holder)
        holder[inner] = _rewrite(sub)
    return out


def _reachable(start: Any, root: Any) -> None:
    """Raise :class:`Declined` when a schema that ``start`` reaches (through subschemas and
    ``$ref``) has a keyword the native path declines (:func:`_check_node`), when following
    ``$ref`` comes back to a schema it is already inside (a recursive schema), or when a
    reference points to nothing."""
    # (node, the resource its `#/…` references resolve in, the nodes it is inside)
    stack: list[tuple[Any, Any, frozenset[int]]] = [(start, root, frozenset())]
    seen: set[tuple[int, frozenset[int]]] = set()
    steps = 0
    while stack:
        steps += 1
        if steps > _MAX_STEPS:
            raise Declined("too many `$ref`s to follow")
        node, resource, inside = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if id(node) in inside:
            raise Declined("a recursive `$ref`")
        key = (id(node), inside)
        if key in seen:
            continue
        seen.add(key)
        _check_node(node)
        if node is not root and isinstance(node.get("$id"), str):
            resource = node
        inside = inside | {id(node)}
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                target = resolve_fragment(resource, ref)
            except LookupError:
                raise Declined("a `$ref` that points to nothing") from None
            stack.append((target, resource, inside))
        stack.extend((sub, resource, inside) for _, sub in subschemas(node))


def _kind(sub: Any) -> str:
    """What a non-flat property schema is, for ``explain`` (its keywords, never values)."""
    types = sub.get("type") if isinstance(sub, Mapping) else None
    listed = [types] if isinstance(types, str) else list(types or [])
    if "object" in listed or (isinstance(sub, Mapping) and "properties" in sub):
        return "nested object"
    if "array" in listed or (isinstance(sub, Mapping) and ("items" in sub or "prefixItems" in sub)):
        return "array"
    if isinstance(sub, Mapping):
        special = sorted(k for k in sub if k.startswith(("unevaluated", "$ref", "any", "one")))
        if special:
            return f"`{special[0]}`"
    return "a schema outside the column plan"


@functools.cache
def _formats() -> dict[str, Any]:
    """ketenx's formats for jsonschema-rs: the reference's own functions, those whose values
    repeat a lot (dates) remembered per value (they are pure)."""
    return {
        name: functools.lru_cache(maxsize=_FORMAT_CACHE)(check)
        if name in LOW_CARDINALITY
        else check
        for name, check in FORMATS.items()
    }


@dataclass
class NativeField:
    """One property's compiled jsonschema-rs validator."""

    name: str
    kind: str
    validator: Any

    def accepts(self, value: Any) -> bool:
        """True only when the value is valid under the property's schema (exactly as the
        reference says); False means: ask the reference."""
        if not (_plain(value) and _finite(value)):
            return False
        try:
            return bool(self.validator.is_valid(value))
        except Exception:  # anything jsonschema-rs cannot take: the reference decides
            return False

    def doubtful(self, values: Sequence[Any]) -> list[int]:
        """Indexes of the present values it does not accept (``MISSING``: absent, skipped).
        The values are JSON values as the readers yield them: no ``NaN`` or infinity (not
        JSON; :meth:`accepts` checks for them too)."""
        present = [(i, v) for i, v in enumerate(values) if v is not MISSING]
        if not _plain([v for _, v in present]):  # one C-level pass for the whole column
            return [i for i, v in present if not self.accepts(v)]
        ok = self.validator.is_valid
        try:
            return [i for i, v in present if not ok(v)]
        except Exception:
            return [i for i, v in present if not self.accepts(v)]


def _plain(value: Any) -> bool:
    """Whether ``value`` is plain JSON that jsonschema-rs reads as the reference does: orjson
    writes it (one C-level pass), so it holds no lone surrogate (no Unicode text), no integer
    beyond ±2^53 (jsonschema-rs may hold it as a double; the reference is exact), no key that
    is not a string, and it is nested less than 255 deep (jsonschema-rs recurses on the
    native stack). The readers guarantee all but the integers for every record they yield;
    a caller of the engine may not."""
    try:
        orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER)
    except (orjson.JSONEncodeError, TypeError):
        return False
    return True


_STRICT: Final = json.JSONEncoder(allow_nan=False, check_circular=False)


def _finite(value: Any) -> bool:
    """Whether ``value`` holds no ``NaN`` or infinity (jsonschema-rs reads those as no
    number at all, so ``minimum`` would pass them)."""
    try:
        _STRICT.encode(value)
    except (ValueError, TypeError):
        return False
    return True


def compile_field(root: Mapping[str, Any], name: str) -> NativeField:
    """The native validator of property ``name`` of the record schema ``root``; raises
    :class:`Declined` (with the reason) when the native path cannot be exact for it."""
    sub = root["properties"][name]
    _reachable(sub, root)
    document = _rewrite(root)
    entry = "#" + quote(pointer("properties", name), safe="/")
    return NativeField(name, _kind(sub), _compile(document, entry))


#: Root keywords that read the record's other keywords: judged with the whole root schema.
_WHOLE: Final = frozenset({"additionalProperties", "unevaluatedProperties", "unevaluatedItems"})


def compile_root(root: Mapping[str, Any], keywords: Sequence[str]) -> NativeField:
    """The native validator of the root ``keywords`` of a record schema (``if``/``then``,
    ``allOf``, ``minProperties``, …) over whole records; with a keyword that reads the
    others (``additionalProperties`` as a schema, ``unevaluated*``), of the whole root.
    Raises :class:`Declined`."""
    document = _rewrite(root)
    listed = ", ".join(f"`{k}`" for k in keywords)
    if _WHOLE & set(keywords):
        _reachable(root, root)
        return NativeField("", f"the record schema (root {listed})", _compile(document, "#"))
    _reachable({k: root[k] for k in keywords}, root)
    document[_ROOT] = {k: document[k] for k in keywords}
    return NativeField("", f"root {listed}", _compile(document, "#/" + _ROOT))


def _compile(document: Mapping[str, Any], entry: str) -> Any:
    """A jsonschema-rs validator of ``document`` (registered as :data:`BASE`) at ``entry``
    (a ``#…`` fragment): ketenx's formats, its exact keywords, nothing ever fetched."""
    import jsonschema_rs

    try:
        return jsonschema_rs.Draft202012Validator(
            {"$ref": BASE + entry},
            formats=_formats(),
            validate_formats=True,
            registry=jsonschema_rs.Registry([(BASE, dict(document))]),
            keywords={_MULTIPLE: _ExactMultiple, _PATTERN: _EcmaPattern},
            offline=True,
        )
    except Exception as exc:
        raise Declined("jsonschema-rs does not compile it") from exc


def _compiled(
    schema: RecordSchema, key: str, compile_: Callable[[], NativeField]
) -> NativeField | str:
    """The validator cached under ``key`` for ``schema``, compiled on first use, or why it
    was declined."""
    cache = _cache(schema)
    if key not in cache:
        try:
            cache[key] = compile_()
        except Declined as exc:
            cache[key] = str(exc)
    return cache[key]


def native_field(schema: RecordSchema, name: str) -> NativeField | str:
    """Property ``name``'s native validator (compiled once per schema), or why it has none."""
    return _compiled(schema, name, lambda: compile_field(schema.schema, name))


@dataclass
class RecordPlan:
    """The plan of JSON records: the column plan for the flat properties, a native validator
    for each other one, the reference for every record a native validator does not accept.
    Same interface as :class:`~ketenx.records.validation.ColumnPlan`."""

    schema: RecordSchema
    columns: ColumnPlan
    native: dict[str, NativeField]
    required: frozenset[str]
    root: NativeField | None = None  # the root keywords outside the column plan, per record

    @property
    def properties(self) -> Any:
        return self.columns.properties

    def check_columns(
        self, columns: Mapping[str, Sequence[Any]], types: TypeHints | None = None
    ) -> Judgement:
        bad = self.columns.check_columns(columns, types)
        doubt: set[int] = set()
        for name, field in self.native.items():
            col = columns.get(name)
            if col is None:
                continue
            if name in self.required:
                where = pointer(name)
                for i, v in enumerate(col):
                    if v is MISSING:
                        bad.setdefault(i, []).append((where, "required"))
            doubt.update(field.doubtful(col))
        if self.root is not None and columns:
            n = len(next(iter(columns.values())))
            row = RecordSchema.row_record
            doubt.update(self.root.doubtful([row(columns, i) for i in range(n)]))
        if doubt:
            reference = self.schema.reference
            row = RecordSchema.row_record
            for i in sorted(doubt):
                record = row(columns, i)
                found = [(v.field, v.rule) for v in reference.explain(record, i + 1)]
                if found or not reference.is_valid(record):  # (as the reference path did)
                    bad[i] = found
                else:
                    bad.pop(i, None)
        return bad


def record_plan(schema: RecordSchema) -> RecordPlan | str:
    """The :class:`RecordPlan` of a record schema, or why the records take the reference."""
    root = schema.schema
    props = root.get("properties")
    if root.get("type") != "object" or not isinstance(props, Mapping):
        return "the record schema is not an object with `properties`"
    extra = sorted(set(root) - ROOT_KEYWORDS)
    if not isinstance(root.get("additionalProperties", True), bool):
        extra.append("additionalProperties")
    deps = root.get("dependentRequired", {})
    if not (isinstance(deps, Mapping) and all(isinstance(v, list) for v in deps.values())):
        extra.append("dependentRequired")
    judged: NativeField | None = None
    if extra:
        found = native_root(schema, tuple(extra))
        if isinstance(found, str):
            return f"root keyword `{extra[0]}`: {found}"
        judged = found
    flat = {n: s for n, s in props.items() if flat_property(s, root) is not None}
    native: dict[str, NativeField] = {}
    for name in props:
        if name in flat:
            continue
        found = native_field(schema, name)
        if isinstance(found, str):
            return f"field `{name}`: {found}"
        native[name] = found
    required = root.get("required", [])
    reduced = {
        **{k: v for k, v in root.items() if k not in extra},
        "properties": flat,
        "required": [r for r in required if r in flat] if isinstance(required, list) else required,
    }
    if not ColumnPlan.supports(reduced):
        return "the root's keywords are outside the column plan"
    names = (
        frozenset(r for r in required if isinstance(r, str))
        if isinstance(required, list)
        else frozenset()
    )
    return RecordPlan(schema, ColumnPlan(reduced), native, names & frozenset(native), judged)


def native_root(schema: RecordSchema, keywords: tuple[str, ...]) -> NativeField | str:
    """The native validator of the root ``keywords`` (compiled once), or why it has none."""
    key = "\0" + "\0".join(keywords)  # never a property name's key: those have no NUL first
    return _compiled(schema, key, lambda: compile_root(schema.schema, keywords))


def _cache(schema: RecordSchema) -> dict[str, NativeField | str]:
    cache: dict[str, NativeField | str] | None = getattr(schema, "_native_fields", None)
    if cache is None:
        cache = {}
        schema._native_fields = cache  # type: ignore[attr-defined]
    return cache


def record_plan_for(schema: RecordSchema) -> RecordPlan | None:
    """The JSON records' plan of ``schema`` (compiled once, kept with it), or None."""
    plan = getattr(schema, "_record_plan", None)
    if plan is None:
        plan = record_plan(schema)
        schema._record_plan = plan  # type: ignore[attr-defined]
    return plan if isinstance(plan, RecordPlan) else None


__all__ = [
    "BASE",
    "Declined",
    "NativeField",
    "RecordPlan",
    "compile_field",
    "compile_root",
    "native_field",
    "native_root",
    "record_plan",
    "record_plan_for",
]
