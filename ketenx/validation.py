"""Record validation against the contract's input schema.

Which records are valid follows the ``jsonschema`` package (Draft 2020-12) with ketenx's own
format registry (:mod:`ketenx.formats`): that is the reference. Because the reference costs
about 60 µs per record, flat schemas (an object of scalar properties with the common
keywords) are checked column by column on the hot path by :class:`ColumnPlan`; the reference
explains every record whose errors are listed in a report, and a differential test
(``tests/property/test_differential.py``) keeps both in agreement on generated schemas and
records. Schemas outside that subset are validated record by record by the reference.

Messages are written by ketenx from the keyword and the schema, never from the instance, so
no value from the data can reach a report.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .canonical import pointer
from .formats import FAILURES, FORMATS, LOW_CARDINALITY, SCREENS
from .reports import name_token


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


def message_for(rule: str, schema: Mapping[str, Any] | bool) -> str:
    """A value-free message for a broken ``rule`` of ``schema`` (the subschema that holds it)."""
    s: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
    if rule in FORMATS:
        return f"is not a valid {rule}"
    match rule:
        case "required":
            return "required field is missing"
        case "type":
            types = s.get("type")
            names = [types] if isinstance(types, str) else list(types or [])
            return "must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in names)
        case "enum":
            return f"is not one of the {len(s.get('enum', []))} allowed values"
        case "const":
            return "is not the required constant value"
        case "pattern":
            return f"does not match the pattern {s.get('pattern')}"
        case "minLength":
            n = s.get("minLength")
            return "must not be empty" if n == 1 else f"is shorter than {n} characters"
        case "maxLength":
            n = s.get("maxLength")
            return f"is longer than {n} character{'' if n == 1 else 's'}"
        case "minimum":
            return f"is less than the minimum {s.get('minimum')}"
        case "maximum":
            return f"is greater than the maximum {s.get('maximum')}"
        case "exclusiveMinimum":
            return f"must be greater than {s.get('exclusiveMinimum')}"
        case "exclusiveMaximum":
            return f"must be less than {s.get('exclusiveMaximum')}"
        case "multipleOf":
            return f"is not a multiple of {s.get('multipleOf')}"
        case "additionalProperties":
            return "field is not allowed by the schema"
        case "unknown-field":
            return "field is not in the contract's schema"
        case "row-length":
            return "row has a different number of cells than the header"
        case "false":
            return "no value is allowed here"
        case _:
            return f"fails the schema's `{rule}` rule"


# --- the reference ---------------------------------------------------------------------------


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, func in FORMATS.items():
        checker.checks(name)(func)
    return checker


class Reference:
    """``jsonschema`` Draft 2020-12 with ketenx's formats; explains a record without its values."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._validator = Draft202012Validator(schema, format_checker=_format_checker())
        props = schema.get("properties")
        self._known: frozenset[str] = (
            frozenset(props) if isinstance(props, Mapping) else frozenset()
        )
        self._flag_unknown = schema.get("additionalProperties", True) is not False
        self.names: frozenset[str] = contract_names(schema)

    def is_valid(self, record: Any) -> bool:
        return bool(self._validator.is_valid(record)) and not self._unknown(record)

    def explain(self, record: Any, record_no: int) -> list[Violation]:
        """Every violation of ``record`` (record number ``record_no``), in a stable order."""
        out: list[Violation] = []
        for err in self._validator.iter_errors(record):
            out.extend(_violations_from_error(err, record_no, record, self.names))
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
    err: ValidationError, record_no: int, record: Any, names: frozenset[str]
) -> Iterator[Violation]:
    path = list(err.absolute_path)
    rule = str(err.validator)
    instance = err.instance
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    if rule == "format":
        rule = str(err.validator_value)
    if rule == "required" and isinstance(instance, dict):
        for name in schema.get("required", []):
            if name not in instance:
                where = data_pointer(record, path, names) + pointer(name)
                yield Violation(record_no, where, rule, message_for(rule, {}))
        return
    if rule == "additionalProperties" and isinstance(instance, dict):
        props = schema.get("properties", {})
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for name in instance:
            if name not in props and not any(p.search(name) for p in patterns):
                where = data_pointer(record, (*path, name), names)
                yield Violation(record_no, where, rule, message_for(rule, {}))
        return
    if rule == "False":  # a `false` schema
        rule = "false"
    yield Violation(record_no, data_pointer(record, path, names), rule, message_for(rule, schema))


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
_SIMPLE_ROOT_KEYWORDS = _ANNOTATIONS | {"type", "properties", "required", "additionalProperties"}
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
    rx = re.compile(pattern)
    shape = _SIMPLE_PATTERN.fullmatch(pattern)
    if shape is None:
        return lambda col: all(map(rx.search, col))
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
            return all(map(rx.search, col))
        if not all(map(str.startswith, col, itertools.repeat(lit))):
            return all(map(rx.search, col))
        tails = "".join(map(cut, col))
        if tails.translate(delete):
            return all(map(rx.search, col))
        return True

    return screen


def _bound_screen(
    op: Callable[[Any, Any], bool], bound: float, *, lowest: bool
) -> Callable[[Sequence[Any]], bool]:
    pick = min if lowest else max
    return lambda col: bool(op(pick(col), bound))


def declared_types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a (sub)schema's ``type`` lists; ``None`` when it states none."""
    t = schema.get("type")
    if t is None:
        return None
    return frozenset([t] if isinstance(t, str) else t)


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
        py_types: frozenset[type] = frozenset().union(*(_PY_TYPES[t] for t in self.types or ()))
        str_steps: list[Callable[[Sequence[str]], bool]] = []
        num_steps: list[Callable[[Sequence[Any]], bool]] = []
        all_steps: list[Callable[[Sequence[Any]], bool]] = []
        if "enum" in s:
            allowed = frozenset(s["enum"])
            all_steps.append(lambda col: set(col) <= allowed)
        if "const" in s:
            const = frozenset([s["const"]])
            all_steps.append(lambda col: set(col) <= const)
        if "minLength" in s:
            lo = s["minLength"]
            str_steps.append(lambda col: min(map(len, col)) >= lo)
        if "maxLength" in s:
            hi = s["maxLength"]
            str_steps.append(lambda col: max(map(len, col)) <= hi)
        if "pattern" in s:
            str_steps.append(_pattern_screen(s["pattern"]))
        if self.format_name is not None:
            str_steps.append(self._format_screen(self.format_name))
        for key, op in _BOUNDS:
            if key in s:
                bound = s[key]
                num_steps.append(
                    _bound_screen(op, bound, lowest=key.startswith(("min", "exclusiveMin")))
                )
        if "multipleOf" in s:
            m = s["multipleOf"]
            num_steps.append(
                lambda col: (
                    all(type(v) is int for v in col)
                    and not any(map(operator.mod, col, itertools.repeat(m)))
                )
            )

        def screen(col: Sequence[Any], present: frozenset[type]) -> bool:
            if not present <= py_types:
                return False
            if not all(step(col) for step in all_steps):
                return False
            if str_steps and str in present:
                if len(present) == 1:
                    strs = col
                elif present == _STR_OR_NULL:  # a nullable column: drop the nulls, C-level
                    strs = list(filter(_NOT_NONE, col))
                else:
                    strs = [v for v in col if type(v) is str]
                if not all(step(strs) for step in str_steps):
                    return False
            if num_steps and (int in present or float in present):
                if present <= _NUMBERS:
                    nums = col
                elif present <= _NUMBERS_OR_NULL:
                    nums = list(filter(_NOT_NONE, col))
                else:
                    nums = [v for v in col if type(v) is int or type(v) is float]
                if not all(step(nums) for step in num_steps):
                    return False
            return True

        return screen

    @staticmethod
    def _format_screen(name: str) -> Callable[[Sequence[str]], bool]:
        bulk = SCREENS[name]
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
        for rule, check in self.checks:
            bulk = FAILURES.get(rule)
            if bulk is not None and all_strings:
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


def _in_strings(allowed: frozenset[str]) -> Check:
    return lambda v: isinstance(v, str) and v in allowed


def _length(op: Callable[[int, int], bool], n: int) -> Check:
    return lambda v: not isinstance(v, str) or op(len(v), n)


def _searches(rx: re.Pattern[str]) -> Check:
    return lambda v: not isinstance(v, str) or rx.search(v) is not None


def _bound(op: Callable[[Any, Any], bool], b: float) -> Check:
    return lambda v: not _is_number(v) or op(v, b)


def _multiple(m: int) -> Check:
    return lambda v: not _is_number(v) or v % m == 0


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("minimum", operator.ge),
    ("maximum", operator.le),
    ("exclusiveMinimum", operator.gt),
    ("exclusiveMaximum", operator.lt),
)


def _property_checks(schema: Mapping[str, Any]) -> tuple[list[tuple[str, Check]], str | None]:
    """The (rule, predicate) pairs of a simple property schema, the type check first."""
    checks: list[tuple[str, Check]] = []
    types = declared_types(schema)
    if types is not None:
        preds = [_TYPE_CHECKS[t] for t in sorted(types)]
        checks.append(("type", preds[0] if len(preds) == 1 else _any_of(preds)))
    if "enum" in schema:
        checks.append(("enum", _in_strings(frozenset(schema["enum"]))))
    if "const" in schema:
        checks.append(("const", _in_strings(frozenset([schema["const"]]))))
    if "minLength" in schema:
        checks.append(("minLength", _length(operator.ge, schema["minLength"])))
    if "maxLength" in schema:
        checks.append(("maxLength", _length(operator.le, schema["maxLength"])))
    if "pattern" in schema:
        checks.append(("pattern", _searches(re.compile(schema["pattern"]))))
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


def _is_simple_property(schema: Any) -> bool:
    if not isinstance(schema, Mapping) or not set(schema) <= _SIMPLE_PROPERTY_KEYWORDS:
        return False
    types = declared_types(schema)
    if types is None or not types <= _SCALAR_TYPES:
        return False
    if "enum" in schema and not all(isinstance(e, str) for e in schema["enum"]):
        return False
    if "const" in schema and not isinstance(schema["const"], str):
        return False
    if "multipleOf" in schema and not isinstance(schema["multipleOf"], int):
        return False
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not _is_number(schema[key]):
            return False
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error:
            return False
    return True


class ColumnPlan:
    """The hot path for a flat schema: coerce and check values one column at a time."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        required = set(schema.get("required", []))
        self.properties: dict[str, _PropertyPlan] = {}
        for name, sub in schema["properties"].items():
            checks, fmt = _property_checks(sub)
            self.properties[name] = _PropertyPlan(
                name=name,
                field=pointer(name),
                schema=sub,
                required=name in required,
                types=declared_types(sub),
                checks=checks,
                format_name=fmt,
            )
        self.required = [p for p in self.properties.values() if p.required]
        self.additional_allowed = schema.get("additionalProperties", True) is not False

    @staticmethod
    def supports(schema: Mapping[str, Any]) -> bool:
        if not set(schema) <= _SIMPLE_ROOT_KEYWORDS or schema.get("type") != "object":
            return False
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return False
        if not isinstance(schema.get("additionalProperties", True), bool):
            return False
        if not all(isinstance(r, str) and r in props for r in schema.get("required", [])):
            return False
        return all(_is_simple_property(s) for s in props.values())

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
        return bad


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
            sub = props[name] if isinstance(props[name], Mapping) else {}
            types = declared_types(sub)
            coerce = None if types is None or "string" in types else _Coercer(types)
            allows_null = types is not None and "null" in types
            self._coercers[name] = (coerce, allows_null)

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
    columns = {
        name: [r.get(name, MISSING) if isinstance(r, dict) else MISSING for r in records]
        for name in names
    }
    known = set(names)
    flat = all(isinstance(r, dict) and r.keys() <= known for r in records)
    return columns, flat
