"""Strict JSON: one decoder for every JSON document ketenx parses.

Strict means: no ``NaN``/``Infinity``, no number too large for a 64-bit float, no key twice
in one object (the last would silently win), and at most ``MAX_DEPTH`` nested arrays and
objects. Every refusal is a :class:`StrictJsonError` whose message is written by ketenx and
never quotes the document; where it points into the document (a duplicate key), the key is
named only when :func:`ketenx.records.names.safe_name` allows it, else by its position
(``<key 3>``).

The data readers (:mod:`ketenx.records.readers`) use the pieces (:data:`DECODER`, :func:`too_deep`,
:func:`duplicate_at`) on their hot path; other documents use :func:`loads`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Final

from ..canonical import pointer
from .names import name_token

MAX_DEPTH: Final = 64
"""Arrays and objects nested in one document (a data record: in one record): ``{}`` is 1."""

NOT_JSON = "the document is not valid JSON"
OUT_OF_RANGE = "a number is too large for a 64-bit float"
TOO_DEEP = f"the JSON is nested deeper than {MAX_DEPTH} levels"
DUPLICATE_KEY = "a key occurs more than once in one object"


class StrictJsonError(ValueError):
    """A document refused by the strict decoder. ``rule`` is ``json-syntax`` (not JSON,
    ``NaN``, a number out of range, nested too deeply) or ``duplicate-key``; ``where`` is a
    JSON Pointer to the offending key (names withheld as above), or ``""``."""

    def __init__(self, rule: str, message: str, where: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.where = where


class OutOfRange(ValueError):
    """A JSON number too large for a 64-bit float (it would become infinity)."""


class DuplicateKey(Exception):
    """Raised by the decoder when an object holds a key twice. Not a ``ValueError``, so a
    reader that retries on ``ValueError`` (a record cut by a block end) does not retry."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise OutOfRange(OUT_OF_RANGE)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKey
    return obj


DECODER: Final = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique
)
"""The strict decoder (C-level scanner; the key check costs one dict per object)."""


def too_deep(text: str, value: Any, start: int = 0, end: int | None = None) -> bool:
    """Whether ``value`` (parsed from ``text[start:end]``) nests more than ``MAX_DEPTH``
    arrays and objects. A text with at most ``MAX_DEPTH`` brackets cannot (one C-level
    count); otherwise the value is walked, without recursion."""
    stop = len(text) if end is None else end
    if text.count("[", start, stop) + text.count("{", start, stop) <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class _Pairs(list[tuple[str, Any]]):
    """An object as its list of pairs, duplicates kept (to find where a duplicate is)."""


def duplicate_at(text: str) -> str:
    """A JSON Pointer to the first repeated key (in document order) of a JSON text that
    :data:`DECODER` refused with :class:`DuplicateKey`; keys on the way are named by
    :func:`~ketenx.records.names.name_token`."""
    try:
        value, _ = json.JSONDecoder(object_pairs_hook=_Pairs).raw_decode(text)
    except (ValueError, RecursionError):
        return ""
    # Depth first, each object's pairs in order: the first repeat in the text is found.
    stack: list[tuple[Iterator[tuple[int, Any]], tuple[str | int, ...], set[str] | None]] = []

    def enter(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, _Pairs):
            stack.append((enumerate(node), path, set()))
        elif isinstance(node, list):
            stack.append((enumerate(node), path, None))

    enter(value, ())
    while stack:
        children, path, seen = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            continue
        i, child = step
        if seen is None:  # an array element
            enter(child, (*path, i))
            continue
        key, inner = child
        token = name_token(key, i + 1)
        if key in seen:
            return pointer(*path, token)
        seen.add(key)
        enter(inner, (*path, token))
    return ""


def loads(data: str | bytes, *, max_bytes: int) -> Any:
    """Parse one whole document strictly; :class:`StrictJsonError` when it is refused
    (also when it is longer than ``max_bytes`` or not UTF-8)."""
    if len(data) > max_bytes:
        raise StrictJsonError("json-syntax", f"the document is longer than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise StrictJsonError("encoding", "the document is not UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        value = DECODER.decode(text)
    except DuplicateKey:
        raise StrictJsonError("duplicate-key", DUPLICATE_KEY, duplicate_at(text)) from None
    except RecursionError:
        raise StrictJsonError("json-syntax", TOO_DEEP) from None
    except OutOfRange:
        raise StrictJsonError("json-syntax", OUT_OF_RANGE) from None
    except ValueError:
        raise StrictJsonError("json-syntax", NOT_JSON) from None
    if too_deep(text, value):
        raise StrictJsonError("json-syntax", TOO_DEEP)
    return value
