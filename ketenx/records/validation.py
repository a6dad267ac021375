"""Record validation against the contract's input schema.

Which records are valid follows the ``jsonschema`` package (Draft 2020-12) with ketenx's own
format registry (:mod:`ketenx.records.formats`): that is the reference. Because the reference costs
about 60 µs per record, flat schemas (an object of scalar properties with the common
keywords) are checked column by column on the hot path by :class:`ColumnPlan`; the reference
explains every record whose errors are listed in a report, and a differential test
(``tests/property/test_differential.py``) keeps both in agreement on generated schemas and
records. Schemas outside that subset are validated record by record by the reference.

Two keywords follow the specification where the ``jsonschema`` package does not
(docs/check.md, "Which records are valid"): ``pattern`` and ``patternProperties`` are
ECMA-262 regular expressions (the ``regress`` engine, not Python's ``re``), and
``multipleOf`` is exact on the number as written (19.99 is a multiple of 0.01), not float
division.

Messages are written by ketenx from the keyword and the schema, never from the instance, so
no value from the data can reach a report.
"""

from __future__ import annotations

import decimal
import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import regress
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry

from ..canonical import pointer, resolve_fragment
from .formats import FAILURES, FORMATS, LOW_CARDINALITY, SCREENS
from .names import name_token


class _Missing:
    """An absent property (an empty CSV cell where the schema has no ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: record (1-based; 0 for the header), field (JSON Pointer), rule, message."""

    record: int
    field: str
    rule: str
    message: str
    line: int | None = None  # the physical line where the record starts, when known


# --- messages ------------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "object": "an object",
    "array": "an array",
}


_FIXED_MESSAGES: Final = {
    "required": "required field is missing",
    "dependentRequired": "required field is missing (another field that needs it is present)",
    "const": "is not the required constant value",
    "additionalProperties": "field is not allowed by the schema",
    "unknown-field": "field is not in the contract's schema",
    "row-length": "row has a different number of cells than the header",
    "false": "no value is allowed here",
}
#: Messages that name the keyword's value (a bound, a divisor, a pattern: never data).
_VALUE_MESSAGES: Final = {
    "pattern": "does not match the pattern {}",
    "minimum": "is less than the minimum {}",
    "maximum": "is greater than the maximum {}",
    "exclusiveMinimum": "must be greater than {}",
    "exclusiveMaximum": "must be less than {}",
    "multipleOf": "is not a multiple of {}",
}


def message_for(rule: str, schema: Mapping[str, Any] | bool) -> str:
    """A value-free message for a broken ``rule`` of ``schema`` (the subschema that holds it)."""
    s: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
    if rule in FORMATS:
        return f"is not a valid {rule}"
    if rule in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[rule]
    if rule in _VALUE_MESSAGES:
        return _VALUE_MESSAGES[rule].format(s.get(rule))
    if rule == "type":
        types = s.get("type")
        names = [types] if isinstance(types, str) else list(types or [])
        return "must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in names)
    if rule == "enum":
        return f"is not one of the {len(s.get('enum', []))} allowed values"
    if rule == "minLength":
        n = s.get("minLength")
        return "must not be empty" if n == 1 else f"is shorter than {n} characters"
    if rule == "maxLength":
        n = s.get("maxLength")
        return f"is longer than {n} character{'' if n == 1 else 's'}"
    return f"fails the schema's `{rule}` rule"


# --- ECMA-262 patterns and exact multiples -----------------------------------------------------


#: What :func:`ecma_regex` raises for a text that is no ECMA-262 regular expression (one
#: holding a lone surrogate, which no Unicode text can, is not one either).
NOT_A_REGEX: tuple[type[Exception], ...] = (regress.RegressError, UnicodeEncodeError)


@functools.lru_cache(maxsize=1024)
def ecma_regex(pattern: str) -> regress.Regex:
    """``pattern`` compiled as an ECMA-262 regular expression with the ``u`` flag (so
    ``\\p{Letter}`` works); raises one of :data:`NOT_A_REGEX` when it is not one."""
    return regress.Regex(pattern, flags="u")


def ecma_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an ECMA-262 regular expression (never quoting it), or None."""
    try:
        ecma_regex(pattern)
    except NOT_A_REGEX:
        return "is not an ECMA-262 regular expression, as JSON Schema requires"
    return None


def ecma_search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (ECMA-262) matches somewhere in ``text``, as JSON Schema's
    ``pattern`` asks: ``$`` is the end of the text (not before a final newline), ``\\d`` and
    ``\\w`` are ASCII."""
    return _searcher(pattern)(text)


def _searcher(pattern: str) -> Callable[[str], bool]:
    """``pattern``'s search as a predicate; a text with a lone surrogate (no Unicode text:
    the readers refuse one) matches nothing, so the record fails closed."""
    rx = ecma_regex(pattern)

    def search(text: str) -> bool:
        try:
            return rx.find(text) is not None
        except UnicodeEncodeError:
            return False

    return search


def _exact(value: float | int) -> tuple[int, int]:
    """``value`` as (coefficient, exponent) of the decimal number it was written as: a float
    from JSON or CSV text is its shortest round-tripping form (``repr``), which is the text as
    written for every number of up to 15 significant digits."""
    if isinstance(value, int):
        return value, 0
    d = decimal.Decimal(repr(value))
    sign, digits, exponent = d.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    assert isinstance(exponent, int)  # finite: NaN and infinity are not JSON numbers
    return (-coefficient if sign else coefficient), exponent


def is_multiple(value: float | int, divisor: float | int) -> bool:
    """Whether ``value`` is an integer multiple of ``divisor`` (> 0), exactly, in decimal: the
    mathematical meaning of ``multipleOf``, not float division (where 19.99 / 0.01 is not
    whole). Integer arithmetic on coefficients: bounded, never overflows, never rounds."""
    if isinstance(value, int) and isinstance(divisor, int):
        return value % divisor == 0
    a, ea = _exact(value)
    b, eb = _exact(divisor)
    if b == 0:
        return False
    if ea >= eb:
        return (a * _pow10(ea - eb)) % b == 0
    return a % (b * _pow10(eb - ea)) == 0


def _pow10(n: int) -> int:
    return int("1" + "0" * n)  # n ≥ 0; an int, where ``10 ** n`` types as Any


# --- walking a schema -------------------------------------------------------------------------

JsonPath = tuple[str | int, ...]
#: The dialect of every contract schema; a ``$schema`` naming another is refused by lint.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ONE_SCHEMA = frozenset(
    {"additionalProperties", "unevaluatedProperties", "items", "contains", "propertyNames",
     "if", "then", "else", "not", "unevaluatedItems", "contentSchema"}
)  # fmt: skip
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


def subschemas(node: Mapping[str, Any]) -> Iterator[tuple[JsonPath, Any]]:
    """The direct subschemas of a schema object, each with its path below it: only where
    2020-12 reads a schema (``properties`` values, ``items``, ``anyOf`` branches, …), never
    inside ``enum``, ``const``, ``default``, ``examples`` or an unknown keyword."""
    for key, value in node.items():
        if key in _ONE_SCHEMA:
            yield (key,), value
        elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
            yield from (((key, k), v) for k, v in value.items())
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            yield from (((key, i), v) for i, v in enumerate(value))


def schema_nodes(
    schema: Any, path: JsonPath = ("schema",)
) -> Iterator[tuple[JsonPath, Mapping[str, Any]]]:
    """Every (sub)schema object of a JSON Schema with its path (see :func:`subschemas`)."""
    stack: list[tuple[JsonPath, Any]] = [(path, schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, Mapping):
            yield where, node
            stack.extend(((*where, *below), sub) for below, sub in subschemas(node))


def is_dialect(value: Any) -> bool:
    """Whether a ``$schema`` value names JSON Schema 2020-12."""
    return isinstance(value, str) and value.removesuffix("#") == DIALECT


def _without_dialect(node: Any) -> Any:
    """A copy of a schema without its ``$schema: …/2020-12/schema`` members: ``jsonschema``
    would validate a subschema that names its dialect with its stock 2020-12 class (Python
    patterns, float ``multipleOf``), not with :data:`Validator2020`."""
    if not isinstance(node, Mapping):
        return node
    out = {k: v for k, v in node.items() if not (k == "$schema" and is_dialect(v))}
    for below, sub in subschemas(node):
        if len(below) == 1:
            out[below[0]] = _without_dialect(sub)
            continue
        key, inner = below
        holder = out[key]
        if holder is node[key]:  # copy each map or list once, before the first change
            holder = out[key] = list(holder) if isinstance(holder, list) else dict(holder)
        holder[inner] = _without_dialect(sub)
    return out


# --- the reference ---------------------------------------------------------------------------


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, func in FORMATS.items():
        checker.checks(name)(func)
    return checker


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError("does not match the pattern")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if ecma_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def additional_names(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The keys of ``instance`` that neither ``properties`` nor (ECMA-262)
    ``patternProperties`` of ``schema`` cover: those ``additionalProperties`` applies to."""
    props = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [k for k in instance if k not in props and not any(ecma_search(p, k) for p in patterns)]


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = additional_names(instance, schema)
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif extra is False and extras:
        yield ValidationError("additional properties are not allowed")


def _evaluated_keys(validator: Any, instance: Mapping[str, Any], schema: Any) -> set[str]:
    """The keys of ``instance`` that ``schema`` evaluates (for ``unevaluatedProperties``): as
    ``jsonschema``'s own, but ``patternProperties`` match with ECMA-262."""
    if not isinstance(schema, Mapping):
        return set()
    keys: set[str] = set()
    for ref_key in ("$ref", "$dynamicRef"):
        ref = schema.get(ref_key)
        if isinstance(ref, str):
            resolved = validator._resolver.lookup(ref)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(evolved, instance, resolved.contents)
    props = schema.get("properties")
    if isinstance(props, Mapping):
        keys |= props.keys() & instance.keys()
    for key in ("additionalProperties", "unevaluatedProperties"):
        sub = schema.get(key)
        if sub is not None:
            keys |= {k for k, v in instance.items() if _passes(validator, sub, v)}
    for pattern in schema.get("patternProperties", {}):
        keys |= {k for k in instance if ecma_search(pattern, k)}
    for name, sub in schema.get("dependentSchemas", {}).items():
        if name in instance:
            keys |= _evaluated_keys(validator, instance, sub)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            if _passes(validator, sub, instance):
                keys |= _evaluated_keys(validator, instance, sub)
    if "if" in schema:
        if _passes(validator, schema["if"], instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            keys |= _evaluated_keys(validator, instance, schema.get("then"))
        else:
            keys |= _evaluated_keys(validator, instance, schema.get("else"))
    return keys


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    for key, value in instance.items():
        if key not in evaluated and not _passes(validator, unevaluated, value):
            yield ValidationError("unevaluated properties are not allowed")
            return


def _passes(validator: Any, schema: Any, instance: Any) -> bool:
    """Whether ``instance`` is valid under ``schema`` (in ``validator``'s scope), the error
    that says it is not freed at once (:func:`_release`)."""
    err = next(validator.evolve(schema=schema).iter_errors(instance), None)
    if err is None:
        return True
    _release(err)
    return False


def _multiple_of(
    validator: Any, divisor: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "number") and not is_multiple(instance, divisor):
        yield ValidationError("is not a multiple")


#: Draft 2020-12 as the specification means it: ECMA-262 patterns, exact ``multipleOf``.
Validator2020: Any = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
        "multipleOf": _multiple_of,
    },
)


def _release(err: ValidationError) -> None:
    """Break the reference cycles of an error tree (a child's ``parent`` points back at the
    error whose ``context`` holds it), so that reference counting frees it at once: the hot
    path runs with the cyclic collector paused, and an ``anyOf`` error left to it cost ~16 KB
    per record until the end of the run."""
    stack = [err]
    while stack:
        e = stack.pop()
        for child in e.context:
            child.parent = None
            stack.append(child)


class Reference:
    """Draft 2020-12 (:data:`Validator2020`) with ketenx's formats; explains a record without
    its values."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        # An empty registry: a reference is resolved inside the schema or not at all; nothing
        # is ever fetched (jsonschema's default would retrieve remote references).
        self._validator = Validator2020(
            _without_dialect(schema), format_checker=_format_checker(), registry=Registry()
        )
        props = schema.get("properties")
        self._known: frozenset[str] = (
            frozenset(props) if isinstance(props, Mapping) else frozenset()
        )
        self._flag_unknown = schema.get("additionalProperties", True) is not False
        self.names: frozenset[str] = contract_names(schema)

    def is_valid(self, record: Any) -> bool:
        err = next(self._validator.iter_errors(record), None)
        if err is not None:
            _release(err)
            return False
        return not self._unknown(record)

    def explain(self, record: Any, record_no: int) -> list[Violation]:
        """Every violation of ``record`` (record number ``record_no``), in a stable order."""
        out: list[Violation] = []
        for err in self._validator.iter_errors(record):
            out.extend(_violations_from_error(err, record_no, record, self.names, self.schema))
            _release(err)
        for key in self._unknown(record):
            rule = "unknown-field"
            where = data_pointer(record, (key,), self.names)
            out.append(Violation(record_no, where, rule, message_for(rule, {})))
        # One `required` error per missing property, but each names the whole list: dedupe.
        return sorted(set(out), key=lambda v: (v.field, v.rule))

    def _unknown(self, record: Any) -> list[str]:
        if not self._flag_unknown or not isinstance(record, dict):
            return []
        return sorted(k for k in record if k not in self._known)


def contract_names(schema: Any) -> frozenset[str]:
    """Every property name the schema states (``properties``, ``required``,
    ``dependentRequired``), at any depth: names from the contract, safe to quote."""
    names: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, Mapping):
            continue
        props = node.get("properties")
        if isinstance(props, Mapping):
            names.update(k for k in props if isinstance(k, str))
        for key in ("required", "dependentRequired"):
            listed = node.get(key)
            if isinstance(listed, list):
                names.update(k for k in listed if isinstance(k, str))
            elif isinstance(listed, Mapping):
                names.update(k for k in listed if isinstance(k, str))
                for v in listed.values():
                    if isinstance(v, list):
                        names.update(k for k in v if isinstance(k, str))
        stack.extend(node.values())
    return frozenset(names)


def data_pointer(record: Any, tokens: Iterable[str | int], names: frozenset[str]) -> str:
    """The JSON Pointer of ``tokens`` inside ``record``, each key from the data named only
    when the contract names it or it is a safe name, else by its position among the keys of
    its object (``/address/<key 2>``): a key in the data can be personal data."""
    node = record
    out: list[str | int] = []
    for token in tokens:
        if isinstance(token, int) or token in names:
            out.append(token)
        else:
            keys = list(node) if isinstance(node, dict) else []
            out.append(name_token(token, keys.index(token) + 1 if token in keys else 0))
        try:
            node = node[token]
        except (LookupError, TypeError):
            node = None
    return pointer(*out)


def _violations_from_error(
    err: ValidationError,
    record_no: int,
    record: Any,
    names: frozenset[str],
    root: Mapping[str, Any],
    nullable: bool = False,
) -> Iterator[Violation]:
    path = list(err.absolute_path)
    rule = str(err.validator)
    instance = err.instance
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    if rule in ("anyOf", "oneOf"):
        # A nullable T spelled `anyOf`/`oneOf: [T, {type: null}]` is explained as T or null,
        # by T's broken rules, as the column plan names them.
        inner = _nullable_inner(err, schema, root, rule)
        for child in inner:
            yield from _violations_from_error(child, record_no, record, names, root, True)
        if inner:
            return
    if rule == "format":
        rule = str(err.validator_value)
    if rule in _FIELD_RULES and isinstance(instance, dict):
        for name in _named_fields(rule, err, schema, instance):
            if rule == "additionalProperties":
                where = data_pointer(record, (*path, name), names)
            else:
                where = data_pointer(record, path, names) + pointer(name)
            yield Violation(record_no, where, rule, message_for(rule, {}))
        return
    if err.validator is None:  # a `false` schema
        rule = "false"
        yield from _false_properties(err, record_no, record, names, root)
        if _false_under_properties(err, root) is not None:
            return
    if rule == "type" and nullable:
        stated = schema.get("type")
        listed: list[str] = [stated] if isinstance(stated, str) else list(stated or [])
        schema = {"type": [*listed, "null"]}
    yield Violation(record_no, data_pointer(record, path, names), rule, message_for(rule, schema))


_FIELD_RULES: Final = frozenset({"required", "additionalProperties", "dependentRequired"})


def _nullable_inner(
    err: ValidationError, schema: Mapping[str, Any], root: Mapping[str, Any], rule: str
) -> list[ValidationError]:
    """The errors of the T branch of a nullable T's ``anyOf``/``oneOf`` error (none when it
    is not one)."""
    split = nullable_branches(schema, root)
    if split is None or split[0] != rule:
        return []
    return [c for c in err.context if list(c.relative_schema_path)[:1] == [split[1]]]


def _named_fields(
    rule: str, err: ValidationError, schema: Mapping[str, Any], instance: Mapping[str, Any]
) -> Iterator[str]:
    """The fields an object keyword's error is about: the missing ones of ``required`` and
    ``dependentRequired`` (one error per missing field names the whole keyword: the caller
    dedupes), the ones ``additionalProperties`` forbids."""
    if rule == "required":
        yield from (name for name in schema.get("required", []) if name not in instance)
    elif rule == "additionalProperties":
        yield from additional_names(instance, schema)
    else:
        value = err.validator_value if isinstance(err.validator_value, Mapping) else {}
        for present, needed in value.items():
            if present in instance and isinstance(needed, list):
                yield from (n for n in needed if isinstance(n, str) and n not in instance)


def _false_under_properties(err: ValidationError, root: Mapping[str, Any]) -> Any:
    """The ``properties`` keyword that a ``false``-schema error came from, or ``None``:
    jsonschema reports such an error without the property's name in its paths."""
    spath = list(err.absolute_schema_path)
    if not spath or spath[-1] != "properties":
        return None
    node: Any = root
    for part in spath:  # through branches (list indexes) and `$ref`s too
        if isinstance(node, Mapping) and part not in node:
            node = resolve_ref(node, root)  # (jsonschema's path leaves out a `$ref`)
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif part == "$ref" and isinstance(node, Mapping) and isinstance(node.get(part), str):
            node = resolve_ref({part: node[part]}, root)
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node if isinstance(node, Mapping) else None


def _false_properties(
    err: ValidationError,
    record_no: int,
    record: Any,
    names: frozenset[str],
    root: Mapping[str, Any],
) -> Iterator[Violation]:
    """The fields a ``properties: {name: false}`` forbids and the record holds, each at its
    own pointer (the caller dedupes the repeats of several such errors)."""
    props = _false_under_properties(err, root)
    if props is None:
        return
    parent: Any = record
    for part in err.absolute_path:
        try:
            parent = parent[part]
        except (LookupError, TypeError):
            return
    if not isinstance(parent, dict):
        return
    for name, sub in props.items():
        if sub is False and name in parent:
            where = data_pointer(record, (*err.absolute_path, name), names)
            yield Violation(record_no, where, "false", message_for("false", {}))


# --- the hot path: column plans --------------------------------------------------------------

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
    }
)
_SIMPLE_PROPERTY_KEYWORDS = _ANNOTATIONS | {
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
}
_SIMPLE_ROOT_KEYWORDS = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "$defs",
    "definitions",
}
_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean", "null"})

_INT_RE = re.compile(r"[+-]?[0-9]+")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLS = {"true": True, "false": False}

Check = Callable[[Any], bool]
Judgement = dict[int, list[tuple[str, str]]]
TypeHints = dict[str, frozenset[type] | None]
"""Row index in a batch → the (field pointer, rule) pairs that the row breaks."""


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_TYPE_CHECKS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


_PY_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),  # integral floats are judged per value
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
}
_GOOD_CACHE_LIMIT = 100_000
_NOT_NONE = functools.partial(operator.is_not, None)
_STR_OR_NULL = frozenset({str, type(None)})
_NUMBERS = frozenset({int, float})
_NUMBERS_OR_NULL = frozenset({int, float, type(None)})


# A `pattern` of the shape ^literal[class]{n}$ or ^literal[class]+$ (the shape of the
# pseudonym and ciphertext patterns) is screened with string methods over the whole column.
# A screen may only say True when every value matches; anything else falls back to re.search.
_SIMPLE_PATTERN = re.compile(
    r"\^(?P<lit>[A-Za-z0-9_]*)\[(?P<cls>(?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9_])*-?)\]"
    r"(?:\{(?P<n>[0-9]+)\}|(?P<plus>\+))\$"
)


def _pattern_screen(pattern: str) -> Callable[[Sequence[str]], bool]:
    search = _searcher(pattern)
    shape = _SIMPLE_PATTERN.fullmatch(pattern)
    if shape is None:
        from .engine.regex import to_re2  # (a cycle at import time)

        re2 = to_re2(pattern)
        if re2 is None:
            return lambda col: all(map(search, col))
        return functools.partial(_re2_screen, re2, search)
    lit, cls = shape["lit"], shape["cls"]
    allowed: set[str] = set()
    i = 0
    while i < len(cls):
        if i + 2 < len(cls) and cls[i + 1] == "-":
            allowed.update(chr(c) for c in range(ord(cls[i]), ord(cls[i + 2]) + 1))
            i += 3
        else:
            allowed.add(cls[i])
            i += 1
    delete = str.maketrans(dict.fromkeys(allowed))
    lo = len(lit) + (int(shape["n"]) if shape["n"] else 1)
    exact = shape["n"] is not None
    cut = operator.itemgetter(slice(len(lit), None))

    def screen(col: Sequence[str]) -> bool:
        lengths = set(map(len, col))
        if (lengths != {lo}) if exact else (min(lengths) < lo):
            return all(map(search, col))
        if not all(map(str.startswith, col, itertools.repeat(lit))):
            return all(map(search, col))
        tails = "".join(map(cut, col))
        if tails.translate(delete):
            return all(map(search, col))
        return True

    return screen


def _re2_screen(re2: str, search: Callable[[str], bool], col: Sequence[str]) -> bool:
    """Whether every string matches: one RE2 pass over the column (pyarrow; ``re2`` means
    what the ECMA-262 pattern means, ketenx.records.engine.regex) where the column is long enough
    to pay for the conversion, else ``search`` per value."""
    if len(col) < 256:
        return all(map(search, col))
    import pyarrow as pa
    import pyarrow.compute as pc

    from .engine.arrays import mask, strings

    try:
        cells = strings(col)
    except UnicodeEncodeError:  # a lone surrogate: no Unicode text, matched by nothing
        return False
    try:
        return bool(mask(pc.match_substring_regex(cells, re2)).all())
    except pa.ArrowInvalid:  # RE2 refuses it (nested counts multiply): the ECMA engine
        return all(map(search, col))


#: Formats whose per-value check costs microseconds (python-stdnum's IBAN rule, regular
#: expressions): long columns of them are screened by the columnar engine's kernels first.
_SLOW_FORMATS: Final = frozenset({"iban", "email", "oin", "date-time"})
_KERNEL_MIN: Final = 256  # shorter columns: per value (the conversion would cost more)


def kernel_failures(
    name: str, values: Sequence[str], check: Callable[[Any], bool]
) -> list[int] | None:
    """Indexes of the strings that fail format ``name``: the engine's kernel confirms most
    (:mod:`ketenx.records.engine.formats`, never a value ``check`` refuses), ``check`` decides the
    rest; None for a short column or one a kernel cannot take (a lone surrogate)."""
    if len(values) < _KERNEL_MIN:
        return None
    import numpy as np

    from .engine.arrays import strings
    from .engine.formats import FORMAT_KERNELS

    try:
        cells = strings(values)
    except UnicodeEncodeError:
        return None
    confirmed = FORMAT_KERNELS[name](cells)
    doubtful: list[int] = np.flatnonzero(~confirmed).tolist()
    return [k for k in doubtful if not check(values[k])]


def pattern_failures(pattern: str, values: Sequence[str]) -> list[int] | None:
    """Indexes of the strings that ``pattern`` (ECMA-262) does not match, by one RE2 pass
    (pyarrow) where the pattern translates exactly (ketenx.records.engine.regex); None for a short
    column, a pattern that does not translate, or a lone surrogate."""
    if len(values) < _KERNEL_MIN:
        return None
    from .engine.regex import to_re2

    re2 = to_re2(pattern)
    if re2 is None:
        return None
    import numpy as np
    import pyarrow.compute as pc

    from .engine.arrays import mask, strings

    try:
        cells = strings(values)
    except UnicodeEncodeError:
        return None
    import pyarrow as pa

    try:
        matched = mask(pc.match_substring_regex(cells, re2))
    except pa.ArrowInvalid:  # RE2 refuses it (nested counts multiply): the ECMA engine decides
        return None
    failed: list[int] = np.flatnonzero(~matched).tolist()
    return failed


def _slow_format_screen(
    name: str, bulk: Callable[[Sequence[str]], bool], col: Sequence[str]
) -> bool:
    failed = kernel_failures(name, col, FORMATS[name])
    return bulk(col) if failed is None else not failed


def _bound_screen(
    op: Callable[[Any, Any], bool], bound: float, *, lowest: bool
) -> Callable[[Sequence[Any]], bool]:
    pick = min if lowest else max
    return lambda col: bool(op(pick(col), bound))


def stated_types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a (sub)schema's ``type`` keyword lists; ``None`` when it states none."""
    t = schema.get("type")
    if t is None:
        return None
    return frozenset([t] if isinstance(t, str) else t)


_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
    (list, "array"), (Mapping, "object"), (type(None), "null"),
)  # fmt: skip
_MAX_REF_HOPS = 32


def json_type(value: Any) -> str:
    """The JSON type name of ``value`` (its type, never the value itself)."""
    return next(name for kind, name in _JSON_TYPES if isinstance(value, kind))


def _value_type(value: Any) -> str:
    """The JSON type of a value from the schema (an enum member, a const): a float with an
    integral value is an integer, as JSON Schema counts it."""
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return json_type(value)


def _expand(types: Iterable[str]) -> frozenset[str]:
    """``number`` includes ``integer``: both are listed, so that intersections are right."""
    out = frozenset(types)
    return out | {"integer"} if "number" in out else out


def resolve_ref(schema: Any, root: Any, hops: int = _MAX_REF_HOPS) -> Any:
    """``schema``, or when it is only a ``$ref`` (with annotations) into ``root`` (``#`` or
    ``#/…``), what that reference points to, followed at most ``hops`` times. ``None`` when a
    reference points elsewhere or to nothing."""
    for _ in range(hops + 1):
        if not (isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str)):
            return schema
        if set(schema) - _ANNOTATIONS != {"$ref"}:
            return schema
        schema = _target(schema["$ref"], root)
    return None


def _target(ref: str, root: Any) -> Any:
    """What a ``#``/``#/…`` reference points to in ``root``; None for anything else."""
    if ref != "#" and not ref.startswith("#/"):
        return None
    try:
        return resolve_fragment(root, ref)
    except LookupError:
        return None


def declared_types(
    schema: Any, root: Any = None, _hops: int = _MAX_REF_HOPS
) -> frozenset[str] | None:
    """The JSON types a value of ``schema`` can have, ``None`` when it may be any: inferred
    from ``type``, ``enum`` and ``const`` (an enum of strings is a string), ``$ref`` into
    ``root`` (default: ``schema`` itself), ``allOf`` (every branch) and ``anyOf``/``oneOf``
    (some branch). So a nullable T is ``{T, "null"}`` in all three spellings: ``type: [T,
    "null"]``, ``anyOf``/``oneOf`` with a ``{type: "null"}`` branch, or via ``$ref``. ``number``
    comes with ``integer``. A superset is always safe: other keywords are not inspected."""
    if root is None:
        root = schema
    if schema is False:
        return frozenset()
    if not isinstance(schema, Mapping) or _hops <= 0:
        return None
    out: frozenset[str] | None = None
    for types in _type_sources(schema, root, _hops):
        if types is not None:
            out = types if out is None else out & types
    return out


def _type_sources(
    schema: Mapping[str, Any], root: Any, hops: int
) -> Iterator[frozenset[str] | None]:
    """What each keyword of ``schema`` says of its types (None: nothing), for
    :func:`declared_types` to intersect."""
    t = schema.get("type")
    if isinstance(t, str | list):
        yield _expand([t] if isinstance(t, str) else [x for x in t if isinstance(x, str)])
    if isinstance(schema.get("enum"), list):
        yield _expand(map(_value_type, schema["enum"]))
    if "const" in schema:
        yield _expand([_value_type(schema["const"])])
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _target(ref, root)
        yield None if target is None else declared_types(target, root, hops - 1)
    all_of = schema.get("allOf")
    for branch in all_of if isinstance(all_of, list) else []:
        yield declared_types(branch, root, hops - 1)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            yield _union(branches, root, hops)


def _union(branches: list[Any], root: Any, hops: int) -> frozenset[str] | None:
    """The types some branch can have (None: a branch may hold anything)."""
    union: frozenset[str] = frozenset()
    for branch in branches:
        types = declared_types(branch, root, hops - 1)
        if types is None:
            return None
        union |= types
    return union


def _null_only(schema: Any) -> bool:
    return (
        isinstance(schema, Mapping)
        and set(schema) - _ANNOTATIONS == {"type"}
        and schema["type"] in ("null", ["null"])
    )


def nullable_branches(schema: Mapping[str, Any], root: Any) -> tuple[str, int] | None:
    """For a nullable written ``anyOf``/``oneOf: [T, {type: "null"}]`` (in either order, either
    branch possibly a ``$ref``): the keyword and the index of T; else ``None``."""
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and len(branches) == 2:
            nulls = [i for i, b in enumerate(branches) if _null_only(resolve_ref(b, root))]
            if len(nulls) == 1:
                return key, 1 - nulls[0]
    return None


def _string_steps(s: Mapping[str, Any]) -> list[Callable[[Sequence[str]], bool]]:
    """Bulk tests of a column's strings: lengths and pattern."""
    steps: list[Callable[[Sequence[str]], bool]] = []
    if "minLength" in s:
        lo = s["minLength"]
        steps.append(lambda col: min(map(len, col)) >= lo)
    if "maxLength" in s:
        hi = s["maxLength"]
        steps.append(lambda col: max(map(len, col)) <= hi)
    if "pattern" in s:
        steps.append(_pattern_screen(s["pattern"]))
    return steps


def _number_steps(s: Mapping[str, Any]) -> list[Callable[[Sequence[Any]], bool]]:
    """Bulk tests of a column's numbers: bounds and (for integers) multipleOf."""
    steps: list[Callable[[Sequence[Any]], bool]] = [
        _bound_screen(op, s[key], lowest=key.startswith(("min", "exclusiveMin")))
        for key, op in _BOUNDS
        if key in s
    ]
    if "multipleOf" in s:
        m = s["multipleOf"]
        steps.append(
            lambda col: (
                type(m) is int
                and all(type(v) is int for v in col)
                and not any(map(operator.mod, col, itertools.repeat(m)))
            )
        )
        places = _decimal_places(m)
        if places is not None:
            steps[-1] = functools.partial(_places_screen, places)
    return steps


def _decimal_places(m: Any) -> int | None:
    """``k`` when ``m`` is exactly ``10**-k`` (``k >= 0``: 1, 0.1, 0.01, …), else ``None``."""
    if not _is_number(m) or m <= 0:
        return None
    coefficient, exponent = _exact(m)
    while coefficient % 10 == 0 and coefficient:
        coefficient, exponent = coefficient // 10, exponent + 1
    return -exponent if coefficient == 1 and exponent <= 0 else None


def _places_screen(places: int, col: Sequence[Any]) -> bool:
    """Whether every number of ``col`` is a multiple of ``10**-places`` (a pass is exact; a
    fail goes to :func:`is_multiple` per value). ``round(v, k) == v`` means ``v`` is the
    double nearest a decimal of at most ``k`` places, so its shortest form (``repr``, the
    number as :func:`_exact` reads it) has at most ``k`` places too."""
    return all(type(v) is int or (type(v) is float and round(v, places) == v) for v in col)


def _strings_of(col: Sequence[Any], present: frozenset[type]) -> Sequence[Any]:
    if len(present) == 1:
        return col
    if present == _STR_OR_NULL:  # a nullable column: drop the nulls, C-level
        return list(filter(_NOT_NONE, col))
    return [v for v in col if type(v) is str]


def _numbers_of(col: Sequence[Any], present: frozenset[type]) -> Sequence[Any]:
    if present <= _NUMBERS:
        return col
    if present <= _NUMBERS_OR_NULL:
        return list(filter(_NOT_NONE, col))
    return [v for v in col if type(v) is int or type(v) is float]


@dataclass
class _PropertyPlan:
    """How one flat property is checked, one column at a time."""

    name: str
    field: str  # JSON Pointer
    schema: Mapping[str, Any]
    required: bool
    types: frozenset[str] | None
    checks: list[tuple[str, Check]]  # (rule, predicate), type first
    format_name: str | None

    def __post_init__(self) -> None:
        self.screen = self._make_screen()

    def _make_screen(self) -> Callable[[Sequence[Any], frozenset[type]], bool]:
        """A bulk test, C-level where possible, that is True only when every value in the
        column passes every check. False means: look value by value."""
        s = self.schema
        py_types: frozenset[type] = frozenset().union(
            *(_PY_TYPES[t] for t in self.types or _PY_TYPES)
        )
        all_steps = [
            _members_screen(s["enum"] if key == "enum" else [s["const"]])
            for key in ("enum", "const")
            if key in s
        ]
        str_steps = _string_steps(s)
        if self.format_name is not None:
            str_steps.append(self._format_screen(self.format_name))
        num_steps = _number_steps(s)

        def screen(col: Sequence[Any], present: frozenset[type]) -> bool:
            if not present <= py_types:
                return False
            if not all(step(col) for step in all_steps):
                return False
            if str_steps and str in present:
                strs = _strings_of(col, present)
                if not all(step(strs) for step in str_steps):
                    return False
            if num_steps and (int in present or float in present):
                nums = _numbers_of(col, present)
                if not all(step(nums) for step in num_steps):
                    return False
            return True

        return screen

    @staticmethod
    def _format_screen(name: str) -> Callable[[Sequence[str]], bool]:
        bulk = SCREENS[name]
        if name in _SLOW_FORMATS:
            return functools.partial(_slow_format_screen, name, bulk)
        if name not in LOW_CARDINALITY:
            return bulk
        good: set[str] = set()

        def screen(col: Sequence[str]) -> bool:
            new = set(col) - good
            if not new:
                return True
            if not bulk(list(new)):
                return False
            if len(good) < _GOOD_CACHE_LIMIT:
                good.update(new)
            return True

        return screen

    def violations(self, col: Sequence[Any]) -> list[tuple[int, str]]:
        """(index, rule) of every value that breaks a rule; MISSING values only `required`.

        Every keyword applies to every value; those for another type pass (as in JSON
        Schema). A check that the whole column passes costs one bulk pass; formats with a
        bulk failure finder (the BSN 11-proef) find their failures without a call per value.
        """
        out: list[tuple[int, str]] = []
        if MISSING in col:
            index = [i for i, v in enumerate(col) if v is not MISSING]
            if self.required:
                out.extend((i, "required") for i, v in enumerate(col) if v is MISSING)
            values: Sequence[Any] = [col[i] for i in index]
        else:
            index = list(range(len(col)))
            values = col
        all_strings = set(map(type, values)) <= {str}
        strings_pass = all_strings and self.types is not None and "string" in self.types
        for rule, check in self.checks:
            if rule == "type" and strings_pass:
                continue  # every value is a string, a type the property allows
            bulk = FAILURES.get(rule)
            kernel = None
            if all_strings and rule in _SLOW_FORMATS:
                kernel = kernel_failures(rule, values, check)
            elif all_strings and rule == "pattern":
                kernel = pattern_failures(self.schema["pattern"], values)
            if kernel is not None:
                failed = kernel
            elif bulk is not None and all_strings:
                failed = bulk(values)
            elif all(map(check, values)):
                continue
            else:
                failed = [k for k, v in enumerate(values) if not check(v)]
            out.extend((index[k], rule) for k in failed)
        return out


class _Coercer:
    """Turns CSV cells into the JSON values the schema's types ask for. A cell that is not a
    plain JSON number (or ``true``/``false`` for booleans) stays a string, so that the type
    check reports it."""

    def __init__(self, types: frozenset[str]) -> None:
        self.want_int = "integer" in types
        self.want_num = "number" in types
        self.want_bool = "boolean" in types

    def __call__(self, cell: str) -> Any:
        if (self.want_int or self.want_num) and _INT_RE.fullmatch(cell):
            try:
                return int(cell)
            except ValueError:  # more digits than Python converts: not a usable number
                return cell
        if self.want_num and _NUM_RE.fullmatch(cell):
            value = float(cell)
            return cell if value in (_INF, -_INF) else value
        if self.want_bool:
            lowered = cell.lower()
            if lowered in _BOOLS:
                return _BOOLS[lowered]
        return cell

    def bulk(self, cells: Sequence[str], n_empty: int, empty: Any) -> tuple[list[Any] | None, type]:
        """All cells at once (empty cells become ``empty``), C-level where possible, and the
        one type the others became; ``None``: coerce one by one instead. The cells hold only
        the characters of plain numbers, so ``int()`` and ``float()`` accept exactly what
        ``_INT_RE`` and ``_NUM_RE`` accept."""
        if not (self.want_int or self.want_num):
            return None, str
        joined = "".join(cells)
        if not joined.isascii():
            return None, str
        try:
            if joined.isdigit():  # only digits: every non-empty cell is an unsigned integer
                if not n_empty:
                    return list(map(int, cells)), int
                return [int(c) if c else empty for c in cells], int
        except ValueError:  # a cell with more digits than Python converts
            return None, str
        if not set(joined) <= _NUMBER_CHARS:
            return None, str
        try:
            if "." not in joined and "e" not in joined and "E" not in joined:
                if not n_empty:
                    return list(map(int, cells)), int
                return [int(c) if c else empty for c in cells], int
            exponent = "e" in joined or "E" in joined
            if self.want_num and not exponent and joined.count(".") == len(cells) - n_empty:
                # One point in every non-empty cell: all decimals.
                if not n_empty:
                    out = list(map(float, cells))
                else:
                    out = [float(c) if c else empty for c in cells]
                return (None if _INF in out or -_INF in out else out), float
        except ValueError:
            pass
        return None, str


_NUMBER_CHARS = frozenset("0123456789+-.eE")
_INF = float("inf")


def _any_of(preds: Sequence[Check]) -> Check:
    return lambda v: any(p(v) for p in preds)


def _member_key(value: Any) -> tuple[bool, Any]:
    """A value as JSON Schema compares it: ``1 == 1.0``, but ``true`` is not ``1``; an
    object or array (never a member of a scalar enum) becomes an unhashable-free stand-in."""
    if isinstance(value, dict | list):
        return True, _STRUCTURE
    return type(value) is bool, value


_STRUCTURE: Final = object()


def _members(allowed: Sequence[Any]) -> Check:
    """``enum``/``const`` over scalar values, with JSON equality (:func:`_member_key`)."""
    keys = frozenset(map(_member_key, allowed))
    return lambda v: _member_key(v) in keys


def _members_screen(allowed: Sequence[Any]) -> Callable[[Sequence[Any]], bool]:
    if not any(isinstance(v, bool | int | float) for v in allowed):
        plain = frozenset(allowed)  # strings and null: Python's equality is JSON's

        def screen(col: Sequence[Any]) -> bool:
            distinct = set(col)  # the type test once per distinct value, not per value
            return distinct <= plain and not any(
                isinstance(v, bool | int | float) for v in distinct
            )

        return screen
    keys = frozenset(map(_member_key, allowed))
    return lambda col: set(map(_member_key, col)) <= keys  # objects never get here (types)


def _length(op: Callable[[int, int], bool], n: int) -> Check:
    return lambda v: not isinstance(v, str) or op(len(v), n)


def _searches(pattern: str) -> Check:
    search = _searcher(pattern)
    return lambda v: not isinstance(v, str) or search(v)


def _bound(op: Callable[[Any, Any], bool], b: float) -> Check:
    return lambda v: not _is_number(v) or op(v, b)


def _multiple(m: float) -> Check:
    return lambda v: not _is_number(v) or is_multiple(v, m)


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("minimum", operator.ge),
    ("maximum", operator.le),
    ("exclusiveMinimum", operator.gt),
    ("exclusiveMaximum", operator.lt),
)


def _property_checks(schema: Mapping[str, Any]) -> tuple[list[tuple[str, Check]], str | None]:
    """The (rule, predicate) pairs of a simple property schema, the type check first."""
    checks: list[tuple[str, Check]] = []
    types = stated_types(schema)
    if types is not None:
        preds = [_TYPE_CHECKS[t] for t in sorted(types)]
        checks.append(("type", preds[0] if len(preds) == 1 else _any_of(preds)))
    if "enum" in schema:
        checks.append(("enum", _members(schema["enum"])))
    if "const" in schema:
        checks.append(("const", _members([schema["const"]])))
    if "minLength" in schema:
        checks.append(("minLength", _length(operator.ge, schema["minLength"])))
    if "maxLength" in schema:
        checks.append(("maxLength", _length(operator.le, schema["maxLength"])))
    if "pattern" in schema:
        checks.append(("pattern", _searches(schema["pattern"])))
    fmt = schema.get("format")
    format_name = fmt if isinstance(fmt, str) and fmt in FORMATS else None
    if format_name is not None:
        checks.append((format_name, FORMATS[format_name]))
    for key, op in _BOUNDS:
        if key in schema:
            checks.append((key, _bound(op, schema[key])))
    if "multipleOf" in schema:
        checks.append(("multipleOf", _multiple(schema["multipleOf"])))
    return checks, format_name


#: Every keyword of JSON Schema 2020-12 (core, applicator, unevaluated, validation, meta-data,
#: format and content vocabularies), and the 2019-09 names that 2020-12 still reads.
KEYWORDS_2020_12: frozenset[str] = frozenset(
    {
        "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
        "$comment", "$defs", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "dependentSchemas", "prefixItems", "items", "contains", "properties",
        "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
        "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum",
        "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
        "maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties",
        "minProperties", "required", "dependentRequired", "title", "description", "default",
        "deprecated", "readOnly", "writeOnly", "examples", "format", "contentEncoding",
        "contentMediaType", "contentSchema", "definitions", "dependencies",
    }
)  # fmt: skip


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def _is_simple_property(schema: Any) -> bool:
    """A property of scalar values whose keywords the column plan carries: a ``type`` of
    scalar types, or none when ``enum``/``const`` (of scalars) imply it."""
    # A member that is no keyword is ignored by JSON Schema (lint warns about near misses).
    if not isinstance(schema, Mapping) or not (set(schema) & KEYWORDS_2020_12) <= (
        _SIMPLE_PROPERTY_KEYWORDS
    ):
        return False
    types = stated_types(schema)
    if types is None:
        if "enum" not in schema and "const" not in schema:
            return False
    elif not types <= _SCALAR_TYPES:
        return False
    if "enum" in schema and not (
        isinstance(schema["enum"], list) and all(map(_is_scalar, schema["enum"]))
    ):
        return False
    if "const" in schema and not _is_scalar(schema["const"]):
        return False
    divisor = schema.get("multipleOf", 1)
    if not (_is_number(divisor) and divisor > 0):
        return False
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not _is_number(schema[key]):
            return False
    pattern = schema.get("pattern", "")
    return isinstance(pattern, str) and ecma_problem(pattern) is None


def flat_property(schema: Any, root: Any) -> tuple[Mapping[str, Any], str | None] | None:
    """``schema`` as one simple property schema the column plan can carry, with the keyword
    (``anyOf``/``oneOf``) that a nullable spelled as two branches reports its failures under
    in the reference, or ``None`` when it is not such a property. A ``$ref`` into ``root`` is
    followed; ``anyOf``/``oneOf: [T, {type: "null"}]`` becomes T with ``null`` added."""
    s = resolve_ref(schema, root)
    if not isinstance(s, Mapping):
        return None
    split = nullable_branches(s, root)
    if split is None:
        return (s, None) if _is_simple_property(s) else None
    key, index = split
    if set(s) - _ANNOTATIONS != {key}:
        return None
    inner = flat_property(s[key][index], root)
    if inner is None or inner[1] is not None or "const" in inner[0]:
        return None
    body = dict(inner[0])
    if key == "oneOf" and "null" in (declared_types(body) or {"null"}):
        return None  # null would match both branches: oneOf refuses it
    types = stated_types(body)
    if types is not None:
        body["type"] = sorted(types | {"null"})
    if "enum" in body and None not in body["enum"]:
        body["enum"] = [*body["enum"], None]
    return body, key


class ColumnPlan:
    """The hot path for a flat schema: coerce and check values one column at a time."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        required = set(schema.get("required", []))
        self.properties: dict[str, _PropertyPlan] = {}
        for name, given in schema["properties"].items():
            flat = flat_property(given, schema)
            assert flat is not None, "ColumnPlan.supports() first"
            sub = flat[0]
            checks, fmt = _property_checks(sub)
            types = declared_types(sub)
            self.properties[name] = _PropertyPlan(
                name=name,
                field=pointer(name),
                schema=sub,
                required=name in required,
                types=None if types is None else types & _SCALAR_TYPES,
                checks=checks,
                format_name=fmt,
            )
        self.required = [p for p in self.properties.values() if p.required]
        # dependentRequired: (field, the fields it needs), each by (name, pointer)
        self.dependent = [
            (name, [(other, pointer(other)) for other in needed])
            for name, needed in schema.get("dependentRequired", {}).items()
        ]

    @staticmethod
    def supports(schema: Mapping[str, Any]) -> bool:
        if not set(schema) <= _SIMPLE_ROOT_KEYWORDS | {"dependentRequired"}:
            return False
        if schema.get("type") != "object":
            return False
        deps = schema.get("dependentRequired", {})
        if not isinstance(deps, Mapping) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in deps.values()
        ):
            return False
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return False
        if not isinstance(schema.get("additionalProperties", True), bool):
            return False
        if not all(isinstance(r, str) and r in props for r in schema.get("required", [])):
            return False
        return all(flat_property(s, schema) is not None for s in props.values())

    def check_columns(
        self, columns: Mapping[str, Sequence[Any]], types: TypeHints | None = None
    ) -> Judgement:
        """Map of row index → broken (field pointer, rule) pairs. ``types`` may tell, per
        column, which Python types it holds (see :meth:`RecordSchema.coerce_column`)."""
        bad: Judgement = {}
        for name, plan in self.properties.items():
            col = columns.get(name)
            if col is None:  # the column is absent altogether
                continue
            present = types.get(name) if types is not None else None
            if present is None:
                present = frozenset(map(type, col))
            if _Missing not in present and plan.screen(col, present):
                continue
            for i, rule in plan.violations(col):
                bad.setdefault(i, []).append((plan.field, rule))
        if self.dependent:
            self._dependent(columns, bad)
        return bad

    def _dependent(self, columns: Mapping[str, Sequence[Any]], bad: Judgement) -> None:
        """``dependentRequired``: a present field whose companions are absent (one pair per
        absent field and row, as the reference names them)."""
        missing: dict[int, set[str]] = {}
        for name, needed in self.dependent:
            col = columns.get(name)
            if col is None or all(v is MISSING for v in col):
                continue
            for other, where in needed:
                theirs = columns.get(other)
                for i, v in enumerate(col):
                    if v is not MISSING and (theirs is None or theirs[i] is MISSING):
                        missing.setdefault(i, set()).add(where)
        for i, fields in missing.items():
            bad.setdefault(i, []).extend((f, "dependentRequired") for f in sorted(fields))


# --- CSV cells to JSON values ------------------------------------------------------------------


class RecordSchema:
    """A compiled input schema: the reference plus, when the schema allows it, the hot path."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.reference = Reference(schema)
        self.plan: ColumnPlan | None = ColumnPlan(schema) if ColumnPlan.supports(schema) else None
        props = schema.get("properties", {})
        self.property_names: list[str] = list(props) if isinstance(props, Mapping) else []
        required = schema.get("required", [])
        self.required_names: list[str] = [r for r in required if isinstance(r, str)]
        self._coercers: dict[str, tuple[_Coercer | None, bool]] = {}
        for name in self.property_names:
            types = declared_types(props[name], schema)
            coerce = None if types is None or "string" in types else _Coercer(types)
            allows_null = types is not None and "null" in types
            self._coercers[name] = (coerce, allows_null)

    def allows_null(self, name: str) -> bool:
        """Whether an empty CSV cell of ``name`` is null (else the property is absent)."""
        return self._coercers.get(name, (None, False))[1]

    def keeps_strings(self, name: str) -> bool:
        """Whether CSV cells of ``name`` stay strings (the property's type allows strings)."""
        coerce, _ = self._coercers.get(name, (None, False))
        return coerce is None

    def coerce_column(
        self, name: str, cells: Sequence[str], types: TypeHints | None = None
    ) -> Sequence[Any]:
        """CSV cells of column ``name`` as JSON values: empty → null or MISSING, typed cells
        coerced; a cell that cannot be coerced stays a string so the type check reports it.

        When ``types`` is given, the Python types present in the result are recorded in it
        (``MISSING`` as its class), so that the column check need not scan for them.
        """
        coerce, allows_null = self._coercers.get(name, (None, False))
        empty: Any = None if allows_null else MISSING
        n_empty = cells.count("")
        kinds: set[type] = {type(empty)} if n_empty else set()
        if coerce is None:
            if types is not None:
                types[name] = frozenset(kinds if n_empty == len(cells) else kinds | {str})
            return [empty if c == "" else c for c in cells] if n_empty else cells
        converted, kind = coerce.bulk(cells, n_empty, empty)
        if converted is None:
            if types is not None:
                types[name] = None
            return [empty if c == "" else coerce(c) for c in cells]
        if types is not None:
            types[name] = frozenset(kinds if n_empty == len(cells) else kinds | {kind})
        return converted

    @staticmethod
    def row_record(columns: Mapping[str, Sequence[Any]], i: int) -> dict[str, Any]:
        """Record ``i`` of a batch of columns, without its missing properties."""
        return {name: col[i] for name, col in columns.items() if col[i] is not MISSING}


def record_columns(
    records: Sequence[Any], names: Sequence[str]
) -> tuple[dict[str, list[Any]], bool]:
    """Columns of a batch of JSON records, and whether they are all flat objects that the
    column plan can judge (objects with only known keys)."""
    if all(type(r) is dict for r in records):  # the usual batch: C-level lookups
        missing = itertools.repeat(MISSING)
        columns = {name: list(map(dict.get, records, itertools.repeat(name), missing))
                   for name in names}  # fmt: skip
        known = set(names)
        return columns, all(r.keys() <= known for r in records)
    columns = {
        name: [r.get(name, MISSING) if isinstance(r, dict) else MISSING for r in records]
        for name in names
    }
    known = set(names)
    flat = all(isinstance(r, dict) and r.keys() <= known for r in records)
    return columns, flat


#: Root keywords the columnar engine (:mod:`ketenx.records.engine`) judges as row masks.
ROOT_KEYWORDS: Final = _SIMPLE_ROOT_KEYWORDS | {"dependentRequired"}


@dataclass(frozen=True)
class CellJudge:
    """The exact verdict on one value of a flat property: the column plan's checks (the
    reference's meaning) after the CSV coercion of :meth:`RecordSchema.coerce_column`."""

    coerce: _Coercer | None
    checks: Sequence[tuple[str, Check]]

    def value(self, value: Any) -> bool:
        return all(check(value) for _, check in self.checks)

    def cell(self, text: str) -> bool:
        """Whether a non-empty CSV cell's value passes every keyword."""
        return self.value(text if self.coerce is None else self.coerce(text))


def cell_judge(schema: RecordSchema, name: str, flat: Mapping[str, Any]) -> CellJudge:
    """The :class:`CellJudge` of property ``name`` of ``schema``, whose simple form is
    ``flat`` (:func:`flat_property`)."""
    coerce, _ = schema._coercers.get(name, (None, False))
    return CellJudge(coerce, _property_checks(flat)[0])
