"""Strict JSON: one decoder, one set of hooks, for every JSON document ketenx parses.

Strict means: no ``NaN``/``Infinity``, no number too large for a 64-bit float, no key twice
in one object (the last would silently win), and a bounded depth of nested arrays and
objects. Messages are written by ketenx and never quote the document; where one points into
the document (a duplicate key), the key is named only when
:func:`ketenx.records.names.safe_name` allows it, else by its position (``<key 3>``).

Who uses what:

* the data readers (:mod:`ketenx.records.readers`, :mod:`ketenx.records.fastjson`) use the
  pieces (:data:`DECODER`, :func:`too_deep`, :func:`duplicate_at`) on their hot path, at
  most :data:`MAX_DEPTH` deep per record; a whole data document is :func:`loads`
  (:class:`StrictJsonError`, with a rule for the report);
* the documents exchanged with a partner (the DSSE envelope, the statement it carries, the
  delivery metadata, a bundle's small members) are :func:`parse_document` /
  :func:`read_document`: a byte limit checked before parsing, at most
  :data:`DOCUMENT_DEPTH` deep, no lone surrogate escape, and the caller's error class
  (``docs/spec/delivery.md`` section 5 specifies these limits);
* a contract, its schema and the partner registry written as JSON are decoded by
  :data:`DECODER` too (:mod:`ketenx.contract.document`, which adds YAML).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from ..canonical import pointer
from ..errors import KetenxError
from .names import name_token

MAX_DEPTH: Final = 64
"""Arrays and objects nested in one data document (a data record: in one record): ``{}`` is 1."""

DOCUMENT_DEPTH: Final = 32
"""Arrays and objects nested in a document exchanged with a partner (ketenx writes at most 4)."""

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


class NotANumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, JSON has no such value."""


class DuplicateKey(Exception):
    """Raised by the decoder when an object holds a key twice. Not a ``ValueError``, so a
    reader that retries on ``ValueError`` (a record cut by a block end) does not retry.
    ``key``: the repeated key as :func:`~ketenx.records.names.name_token` shows it (for a
    document whose path to it cannot be told: :func:`duplicate_at` needs a whole parse)."""

    def __init__(self, key: str = "") -> None:
        super().__init__()
        self.key = key


def _reject_constant(name: str) -> Any:
    raise NotANumber(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise OutOfRange(OUT_OF_RANGE)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for i, (key, _) in enumerate(pairs):
            if key in seen:
                raise DuplicateKey(name_token(key, i + 1))
            seen.add(key)
    return obj


DECODER: Final = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique
)
"""The strict decoder (C-level scanner; the key check costs one dict per object)."""


def too_deep(
    text: str, value: Any, start: int = 0, end: int | None = None, *, limit: int = MAX_DEPTH
) -> bool:
    """Whether ``value`` (parsed from ``text[start:end]``) nests more than ``limit`` arrays
    and objects. A text with at most ``limit`` brackets cannot (one C-level count);
    otherwise the value is walked, without recursion."""
    stop = len(text) if end is None else end
    if text.count("[", start, stop) + text.count("{", start, stop) <= limit:
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
        if depth > limit:
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


def parse_document(
    data: bytes,
    *,
    what: str,
    max_bytes: int,
    error: type[KetenxError],
    max_depth: int = DOCUMENT_DEPTH,
) -> Any:
    """Parse a document exchanged with a partner: strict JSON of at most ``max_bytes``
    bytes, UTF-8, nested at most ``max_depth`` deep, no lone surrogate escape. A refusal is
    ``error`` naming ``what`` and the limit, never a value from it (nor a ``RecursionError``)."""
    if len(data) > max_bytes:
        raise error(f"{what} is larger than {max_bytes:,} bytes (the limit)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8") from None
    too_deep_text = f"{what} is nested deeper than {max_depth} levels (the limit)"
    if not _shallow(text, max_depth):  # the parser's recursion stays bounded, whatever the
        raise error(too_deep_text)  # interpreter's recursion limit is set to
    try:
        value = DECODER.decode(text)
    except DuplicateKey:
        raise error(f"{what} has a duplicate JSON member name") from None
    except NotANumber:
        raise error(f"{what} contains NaN or Infinity, which JSON does not allow") from None
    except OutOfRange:
        raise error(f"{what} holds a number too large for a 64-bit float") from None
    except RecursionError:  # pragma: no cover - _shallow refuses such documents first
        raise error(too_deep_text) from None
    except ValueError:  # also: an integer of more digits than Python converts
        raise error(f"{what} is not valid JSON") from None
    if too_deep(text, value, limit=max_depth):
        raise error(too_deep_text)
    if "\\u" in text and not whole_text(value):
        raise error(f"{what} holds a lone surrogate escape (no Unicode text)")
    return value


def read_document(stream: IO[bytes], *, what: str, max_bytes: int, error: type[KetenxError]) -> Any:
    """:func:`parse_document` of at most ``max_bytes + 1`` bytes read from ``stream`` (a
    larger document is refused without being read whole)."""
    return parse_document(stream.read(max_bytes + 1), what=what, max_bytes=max_bytes, error=error)


def read_document_path(path: Path, *, what: str, max_bytes: int, error: type[KetenxError]) -> Any:
    """:func:`read_document` of the file ``path`` (an ``OSError`` opening it is the caller's)."""
    with open(path, "rb") as fh:
        return read_document(fh, what=what, max_bytes=max_bytes, error=error)


def whole_text(value: Any) -> bool:
    """Whether every string (key or value) is Unicode text: no lone surrogate from a
    ``\\ud800`` escape, which no UTF-8 document can carry and parsers read differently."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _shallow(text: str, max_depth: int) -> bool:
    """Whether the parser's recursion stays bounded: the brackets outside strings nest at
    most about ``4 * max_depth`` deep. Each round removes the innermost empty pairs (at
    least one level, at most two); what is left after ``max_depth`` rounds nests at most as
    deep as it is long. (:func:`too_deep` then checks the parsed document exactly.)"""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(max_depth):
        if not brackets:
            return True
        brackets = brackets.replace("[]", "").replace("{}", "")
    return len(brackets) <= 2 * max_depth
