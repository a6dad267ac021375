"""A fast JSON line decoder (orjson) that accepts exactly what the strict decoder accepts.

:func:`decode` is a drop-in for ``strictjson.DECODER.decode`` on one JSON Lines line: it
returns the same value, or raises the same exception, for every line. orjson parses a line
several times faster than the standard library with the strict hooks, but it differs from
the strict decoder in ways that matter; each is screened here and the line handed to
:data:`~ketenx.strictjson.DECODER` (the precise decoder) whenever orjson's result could
differ:

* **Any line orjson refuses** (syntax, ``NaN``/``Infinity``, ``1e999``, a lone surrogate,
  nesting beyond its own limit) is decoded again by the precise decoder, so the report
  (rule, message, column) is the precise one.
* **Duplicate keys**: orjson keeps the last silently. Every key of a JSON text is followed
  by exactly one ``:`` outside strings, so the colons of the line are at least the keys
  written, plus the colons inside strings. Without a ``\\u003?`` escape a colon in a parsed
  string comes from a colon in the text, and the parsed value holds at most the strings
  written; so ``colons - colons in parsed strings == parsed keys`` holds exactly when no key
  was dropped. A line with ``\\u003`` goes to the precise decoder.
* **Big integers**: orjson reads an integer beyond 64 bits as a float (the precise decoder
  keeps the exact ``int``), of magnitude at least ``2**63``: a line with a float of
  magnitude ``9e18`` or more goes to the precise decoder.
* **Surrogate escapes** (``\\ud…``): handled by the precise decoder and the reader's
  unpaired-surrogate check, as before.

Floats are read by both to the nearest double, so ``multipleOf`` (exact on ``repr`` of the
float, see :func:`ketenx.validation.is_multiple`) sees the same number. The differential
property test (``tests/property/test_fastjson_differential.py``) holds the two decoders equal
on hostile lines.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from .strictjson import DECODER

_precise = DECODER.decode
#: orjson reads an integer literal beyond 64 bits (magnitude at least 2**63) as a float;
#: a float at least this large may have been such an integer.
_BIG: Final = 9e18


def decode(line: str) -> Any:
    """The value of one JSON text, as :data:`~ketenx.strictjson.DECODER` decodes it
    (its exceptions too)."""
    if "\\u" in line and ("\\u003" in line or "\\ud" in line or "\\uD" in line):
        return _precise(line)
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _precise(line)
    colons = line.count(":")
    if type(value) is dict and colons == len(value):  # the usual record: one level
        for item in value.values():
            if type(item) is float and not -_BIG < item < _BIG:
                return _precise(line)  # perhaps an integer of more than 64 bits
            if type(item) is dict or type(item) is list:
                break  # nested: walked below
        else:
            return value
    if _counted(value, colons):
        return value
    return _precise(line)


#: In orjson's output: a float of magnitude 1e18 or more, written ``…e+18`` and up (in a
#: string too, which only costs a walk).
_BIG_TEXT: Final = re.compile(rb"e\+(?:1[89]|[2-9][0-9]|[0-9]{3})")
#: Whether this orjson writes such floats so (it writes every float from 1e16 up with an
#: exponent); if a version does not, every nested line is walked.
_EXPONENTS: Final = orjson.dumps([9e18, 1e16, 1.5e300]) == b"[9e+18,1e+16,1.5e+300]"


def _counted(value: Any, colons: int) -> bool:
    """:func:`_walk`'s verdict, from one C-level ``orjson.dumps`` where it can: its output has
    one ``:`` per key plus the colons inside keys and strings (orjson escapes none), so the
    count equals the walk's total; a float that may have been an integer beyond 64 bits (or a
    text that looks like one) is left to the walk."""
    if not _EXPONENTS:
        return _walk(value, colons)
    try:
        out = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _walk(value, colons)
    if b"e+" in out and _BIG_TEXT.search(out) is not None:
        return _walk(value, colons)
    return out.count(b":") == colons


def _walk(value: Any, colons: int) -> bool:
    """Whether ``value`` holds as many keys (all levels) plus colons inside its strings (keys
    and values) as ``colons``, and no float of a magnitude an integer beyond 64 bits has;
    without recursion."""
    total = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            total += len(node)
            for key in node:
                total += key.count(":")
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
        elif type(node) is str:
            total += node.count(":")
        elif type(node) is float and not -_BIG < node < _BIG:
            return False
        if total > colons:
            return False
    return total == colons
