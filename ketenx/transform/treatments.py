"""Per-field treatments that need no key: keep, drop, redact, mask and generalise.

Each treatment is compiled once from the contract into a column function: it takes a column
(a sequence of JSON values, with ``MISSING`` for an absent property and ``None`` for null)
and returns the treated column. Absent stays absent and null stays null. Pure: no I/O, clock
or randomness; a reference date for age bands comes from the contract.

The keyed treatments (``pseudonymise``, ``encrypt``) live in :mod:`ketenx.transform.pseudonym`; the
output schema that follows from all treatments is built by :func:`output_property`.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from stdnum.nl import postcode as _stdnum_postcode

from ..contract.model import FieldSpec
from ..errors import ContractError, RejectedError
from ..kx1 import CIPHERTEXT_PATTERN, PSEUDONYM_PATTERN
from ..records.validation import MISSING, declared_types, stated_types

Column = Sequence[Any]
ColumnFn = Callable[[Column], list[Any]]

DEFAULT_REPLACEMENT = "[redacted]"
DEFAULT_MASK_CHAR = "*"
DEFAULT_BAND_WIDTH = 5


class TreatmentError(RejectedError):
    """A value cannot be treated as the contract says (for example a date that is not one).

    Carries the row index in its batch, never the value.
    """

    def __init__(self, index: int, field: str, rule: str, message: str) -> None:
        super().__init__(f"field /{field}: rule {rule}: {message}")
        self.index = index
        self.field = field
        self.rule = rule
        self.detail = message


def _present(v: Any) -> bool:
    return v is not MISSING and v is not None


def as_text(value: Any) -> str:
    """A JSON value as text: strings as they are, anything else as its JSON form."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# --- redact and mask ------------------------------------------------------------------------


def redact(spec: FieldSpec) -> ColumnFn:
    replacement = str(spec.params.get("replacement", DEFAULT_REPLACEMENT))
    return lambda col: [replacement if _present(v) else v for v in col]


def mask(spec: FieldSpec) -> ColumnFn:
    first = int(spec.params.get("keep_first", 0))
    last = int(spec.params.get("keep_last", 0))
    char = str(spec.params.get("mask_char", DEFAULT_MASK_CHAR))

    def one(value: Any) -> Any:
        if not _present(value):
            return value
        text = as_text(value)
        n = len(text)
        if n <= first + last:  # too short to show anything safely
            return char * n
        tail = text[n - last :] if last else ""
        return text[:first] + char * (n - first - last) + tail

    return lambda col: [one(v) for v in col]


# --- generalise -------------------------------------------------------------------------------


def _date_of(value: Any, index: int, field: str) -> _dt.date:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return _dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise TreatmentError(index, field, "generalise", "is not a date and cannot be generalised")


def _number_label(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


_SLICE_YEAR = operator.itemgetter(slice(0, 4))
_SLICE_YEAR_MONTH = operator.itemgetter(slice(0, 7))
_SLICE_PC4 = operator.itemgetter(slice(0, 4))
_PC_FORM = re.compile(r"[1-9][0-9]{3} ?[A-Z]{2}")


def generalise(spec: FieldSpec, prop: Mapping[str, Any] | None = None) -> ColumnFn:
    """The generalisation of ``spec``. ``prop`` is the input property's schema: when its
    format (``date``, ``date-time``) was checked, dates are cut by slicing, in bulk."""
    to = spec.params.get("to")
    field = spec.name
    dated = (prop or {}).get("format") in ("date", "date-time")
    if to == "year":
        slow = _mapper(lambda v, i: _date_of(v, i, field).year)
        if not dated:
            return slow
        return _bulk(slow, lambda col: list(map(int, map(_SLICE_YEAR, col))))
    if to == "year-month":
        slow = _mapper(lambda v, i: _date_of(v, i, field).strftime("%Y-%m"))
        if not dated:
            return slow
        return _bulk(slow, lambda col: list(map(_SLICE_YEAR_MONTH, col)))
    if to == "pc4":

        def pc4(v: Any, i: int) -> str:
            # The forms python-stdnum accepts (spaces, hyphens, lower case, an NL prefix).
            text = _stdnum_postcode.compact(as_text(v))
            if len(text) < 4 or not text[:4].isascii() or not text[:4].isdigit():
                raise TreatmentError(i, field, "generalise", "is not a postcode")
            return text[:4]

        def pc4_bulk(col: Column) -> list[Any] | None:
            # The common written form "1234 AB": the first four characters are the digits.
            if all(map(_PC_FORM.fullmatch, col)):
                return list(map(_SLICE_PC4, col))
            return None

        return _bulk(_mapper(pc4), pc4_bulk)
    if to == "age-band":
        return _age_band(spec)
    if to == "bucket":
        return _bucket(spec)
    raise ContractError(f"field `{field}`: unknown generalisation `{to}`")


def _mapper(fn: Callable[[Any, int], Any]) -> ColumnFn:
    return lambda col: [fn(v, i) if _present(v) else v for i, v in enumerate(col)]


def _bulk(slow: ColumnFn, fast: Callable[[Column], list[Any] | None]) -> ColumnFn:
    """``fast`` for a column of strings only (None: it declines), else ``slow``."""

    def apply(col: Column) -> list[Any]:
        if set(map(type, col)) <= {str}:
            try:
                out = fast(col)
            except ValueError:  # not the form the shortcut assumes: the slow path says why
                out = None
            if out is not None:
                return out
        return slow(col)

    return apply


def age_reference(spec: FieldSpec) -> _dt.date:
    """The date an age-band generalisation measures ages at."""
    try:
        return _dt.date.fromisoformat(str(spec.params["reference_date"]))
    except (KeyError, ValueError):
        raise ContractError(
            f"field `{spec.name}`: age-band needs reference_date: YYYY-MM-DD"
        ) from None


def age_label(spec: FieldSpec) -> Callable[[int, int], str]:
    """The age-band label of an age (``index``: the record, for the error when the age is
    negative: born after the reference date)."""
    field = spec.name
    width = int(spec.params.get("band_width", DEFAULT_BAND_WIDTH))
    top = spec.params.get("top")
    bottom = spec.params.get("bottom")

    def label(age: int, index: int) -> str:
        if age < 0:
            raise TreatmentError(index, field, "generalise", "lies after the reference date")
        if top is not None and age >= top:
            return f"{_number_label(top)}+"
        if bottom is not None and age < bottom:
            return f"<{_number_label(bottom)}"
        low = (age // width) * width
        high = low + width - 1
        # With top/bottom coding a band's label names only the ages it holds: 15-17, not 15-19,
        # when 18 and up are "18+".
        if bottom is not None:
            low = max(low, bottom)
        if top is not None:
            high = min(high, top - 1)
        return f"{low}-{high}"

    return label


def _age_band(spec: FieldSpec) -> ColumnFn:
    field = spec.name
    reference = age_reference(spec)
    label = age_label(spec)

    def band(value: Any, index: int) -> str:
        born = _date_of(value, index, field)
        age = (
            reference.year - born.year - ((reference.month, reference.day) < (born.month, born.day))
        )
        return label(age, index)

    return _mapper(band)


def _bucket_edges(spec: FieldSpec) -> list[float]:
    """Bin edges: the contract's ``bins`` plus ``bottom``/``top`` coding, outside ones cut."""
    edges = {float(b) for b in spec.params.get("bins", [])}
    bottom, top = spec.params.get("bottom"), spec.params.get("top")
    if bottom is not None:
        edges = {e for e in edges if e >= bottom} | {float(bottom)}
    if top is not None:
        edges = {e for e in edges if e <= top} | {float(top)}
    if not edges:
        raise ContractError(f"field `{spec.name}`: bucket needs at least one bin edge")
    return sorted(edges)


def bucket_labels(spec: FieldSpec) -> list[str]:
    """Every label a bucket generalisation can produce, lowest first: ``<e0``,
    ``[e0,e1)``, …, ``>=en``."""
    edges = _bucket_edges(spec)
    labels = [f"<{_number_label(edges[0])}"]
    labels += [f"[{_number_label(lo)},{_number_label(hi)})" for lo, hi in itertools.pairwise(edges)]
    labels.append(f">={_number_label(edges[-1])}")
    return labels


def _bucket(spec: FieldSpec) -> ColumnFn:
    field = spec.name
    edges = _bucket_edges(spec)
    labels = bucket_labels(spec)

    def bucket(value: Any, index: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise TreatmentError(index, field, "generalise", "is not a number")
        # A value equal to an edge belongs to the bin that starts there.
        return labels[bisect.bisect_right(edges, value)]

    slow = _mapper(bucket)

    def apply(col: Column) -> list[Any]:
        out = _bucket_numbers(col, edges, labels)
        return slow(col) if out is None else out

    return apply


_EXACT_FLOAT: Final = 2**53  # integers below this are exact as floats


def _bucket_numbers(col: Column, edges: list[float], labels: list[str]) -> list[Any] | None:
    """The bucket labels of a column of numbers (absent and null kept) in one numpy pass:
    ``searchsorted`` on the right is :func:`bisect.bisect_right`, exact for floats and for
    integers below 2**53. None for anything else (booleans, NaN, strings, huge integers):
    the per-value path decides, and says which value is not a number."""
    kinds = set(map(type, col))
    if not kinds <= {int, float, type(None), type(MISSING)} or not kinds & {int, float}:
        return None
    import numpy as np

    gaps = bool(kinds & {type(None), type(MISSING)})
    numbers = [v for v in col if type(v) is int or type(v) is float] if gaps else col
    if int in kinds and max(abs(v) for v in numbers if type(v) is int) >= _EXACT_FLOAT:
        return None
    values = np.asarray(numbers, dtype=np.float64)
    if np.isnan(values).any():
        return None
    found = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
    named = list(map(labels.__getitem__, found.tolist()))
    if not gaps:
        return named
    it = iter(named)
    return [next(it) if type(v) is int or type(v) is float else v for v in col]


KEYLESS: Mapping[str, Callable[[FieldSpec], ColumnFn]] = {
    "redact": redact,
    "mask": mask,
    "generalise": generalise,
}


# --- the output schema of a treated field ---------------------------------------------------------


def _nullable(schema: Mapping[str, Any] | bool, root: Mapping[str, Any] | None) -> bool:
    """Whether the delivered field may be null (docs/spec/delivery.md §8): its own ``type``
    lists ``null``, or the types it can hold include null however the schema says so
    (``anyOf``/``oneOf`` with a null branch, a ``$ref`` to a nullable; :func:`declared_types`).
    A property that states no type at all is not (lint warns about treating one)."""
    own = stated_types(schema) if isinstance(schema, Mapping) else None
    types = declared_types(schema, root)
    return "null" in (own or ()) or (types is not None and "null" in types)


def _typed(base: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if nullable:
        base = dict(base)
        base["type"] = [base["type"], "null"]
    return base


def output_property(
    spec: FieldSpec, input_schema: Mapping[str, Any] | bool, root: Mapping[str, Any] | None = None
) -> dict[str, Any] | bool | None:
    """The JSON Schema of the delivered column for one field (None for ``drop``); ``root`` is
    the input record schema, into which a ``$ref`` of ``input_schema`` points. A kept field
    keeps its schema (``true`` and ``false`` included)."""
    nullable = _nullable(input_schema, root)
    t = spec.treatment
    if t == "drop":
        return None
    if t == "keep":
        return dict(input_schema) if isinstance(input_schema, Mapping) else input_schema
    if t == "pseudonymise":
        return _typed({"type": "string", "pattern": PSEUDONYM_PATTERN}, nullable)
    if t == "encrypt":
        return _typed({"type": "string", "pattern": CIPHERTEXT_PATTERN}, nullable)
    if t == "redact":
        replacement = str(spec.params.get("replacement", DEFAULT_REPLACEMENT))
        if nullable:
            return {"type": ["string", "null"], "enum": [replacement, None]}
        return {"type": "string", "enum": [replacement]}
    if t == "mask":
        return _typed({"type": "string"}, nullable)
    if t == "generalise":
        to = spec.params.get("to")
        if to == "year":
            return _typed({"type": "integer", "minimum": 1, "maximum": 9999}, nullable)
        if to == "year-month":
            return _typed({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}, nullable)
        if to == "pc4":
            return _typed({"type": "string", "pattern": "^[1-9][0-9]{3}$"}, nullable)
        if to == "age-band":
            return _typed(
                {"type": "string", "pattern": "^([0-9]+-[0-9]+|[0-9]+\\+|<[0-9]+)$"}, nullable
            )
        if to == "bucket":
            labels: list[Any] = bucket_labels(spec)
            schema: dict[str, Any] = {"type": "string", "enum": labels}
            if nullable:
                schema = {"type": ["string", "null"], "enum": [*labels, None]}
            return schema
    raise ContractError(f"field `{spec.name}`: unknown treatment `{t}`")
