"""Strict JSON with limits, for the documents ketenx parses from someone else.

The DSSE envelope, the statement it carries and the delivery metadata sidecar are read with
:func:`loads` or :func:`read`: at most ``max_bytes`` bytes (a larger stream is refused after
reading ``max_bytes + 1`` bytes, never read whole), UTF-8, no duplicate member names, no
``NaN``/``Infinity``, and nested at most :data:`MAX_DEPTH` arrays or objects deep. A
document that breaks a limit is refused with the caller's error class (exit 1 for a
signature file, 3 for metadata) and a message naming the document and the limit, never a
value from it, and never a ``RecursionError``. The limits are specified in
``docs/spec/delivery.md`` (section 5).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import IO, Any

from .errors import KetenxError

#: Arrays and objects nested deeper than this are refused (a top-level object is depth 1;
#: ketenx writes at most 4).
MAX_DEPTH = 32

#: Largest DSSE envelope read (a signature file, or the statement of a bundle).
MAX_ENVELOPE_BYTES = 4 << 20
#: Largest statement (the envelope's decoded payload).
MAX_STATEMENT_BYTES = 3 << 20
#: Largest delivery metadata sidecar.
MAX_META_BYTES = 8 << 20

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def read(stream: IO[bytes], *, what: str, max_bytes: int, error: type[KetenxError]) -> Any:
    """Read at most ``max_bytes`` from ``stream`` and parse them with :func:`loads`."""
    data = stream.read(max_bytes + 1)
    return loads(data, what=what, max_bytes=max_bytes, error=error)


def read_path(path: Path, *, what: str, max_bytes: int, error: type[KetenxError]) -> Any:
    """:func:`read` of the file ``path`` (an ``OSError`` opening it is the caller's to say)."""
    with open(path, "rb") as fh:
        return read(fh, what=what, max_bytes=max_bytes, error=error)


def loads(
    data: bytes,
    *,
    what: str,
    max_bytes: int,
    error: type[KetenxError],
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse ``data`` as strict JSON within the limits; raise ``error`` naming ``what``."""
    if len(data) > max_bytes:
        raise error(f"{what} is larger than {max_bytes:,} bytes (the limit)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8") from None
    too_deep = f"{what} is nested deeper than {max_depth} levels (the limit)"
    if not _shallow(text, max_depth):
        raise error(too_deep)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise error(f"{what} has a duplicate JSON member name")
            out[key] = value
        return out

    def no_constant(_name: str) -> Any:
        raise error(f"{what} contains NaN or Infinity, which JSON does not allow")

    def finite(number: str) -> float:
        value = float(number)
        if math.isinf(value):  # 1e999: no float carries it; json would read infinity
            raise error(f"{what} holds a number too large for a 64-bit float")
        return value

    try:
        value = json.loads(
            text, object_pairs_hook=unique, parse_constant=no_constant, parse_float=finite
        )
    except RecursionError:  # pragma: no cover - _shallow refuses such documents first
        raise error(too_deep) from None
    except ValueError:  # also: an integer of more digits than Python converts
        raise error(f"{what} is not valid JSON") from None
    if _depth(value) > max_depth:
        raise error(too_deep)
    if "\\u" in text and not _whole_text(value):
        raise error(f"{what} holds a lone surrogate escape (no Unicode text)")
    return value


def _whole_text(value: Any) -> bool:
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


def _shallow(text: str, max_depth: int) -> bool:
    """Whether the parser's recursion stays bounded: the brackets outside strings nest at
    most about ``4 * max_depth`` deep. Each round removes the innermost empty pairs (at
    least one level, at most two); what is left after ``max_depth`` rounds nests at most as
    deep as it is long. (:func:`_depth` then checks the parsed document exactly.)"""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(max_depth):
        if not brackets:
            return True
        brackets = brackets.replace("[]", "").replace("{}", "")
    return len(brackets) <= 2 * max_depth


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed document (iteratively: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level + 1)
            stack.extend((item, level + 1) for item in node)
    return deepest
