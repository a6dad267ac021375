"""RFC 8785 canonical JSON and the digests taken over it.

Documents written in YAML are first brought to the JSON data model (contracts are read so
that a date or time stays the text that was written; a ``date``/``datetime`` object handed
in by a library caller becomes an ISO 8601 string), so the digest never depends on layout,
key order or on YAML versus JSON.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import rfc8785

from .errors import ContractError
from .rfc3339 import text as rfc3339_text

JsonValue = Any


MAX_VALUES = 1_000_000  # values in one document, YAML aliases expanded
MAX_DEPTH = 64  # arrays and objects nested in one another (docs/contract.md, "Limits")


def to_json_model(value: Any, *, where: str = "") -> JsonValue:
    """Return ``value`` as plain JSON data (dict/list/str/int/float/bool/None).

    ``datetime`` values become RFC 3339 strings, ``date`` values ``YYYY-MM-DD``.
    Anything else that JSON cannot carry is an error naming its location, and so is a
    structure that refers to itself or holds more than ``MAX_VALUES`` values (YAML aliases
    can make a small file expand without end), or nests arrays and objects more than
    ``MAX_DEPTH`` deep.
    """
    budget = [MAX_VALUES]
    try:
        return _to_json(value, where, budget, 0)
    except RecursionError:
        raise ContractError(
            f"{where or '/'}: nested too deeply, or refers to itself (a recursive YAML alias)"
        ) from None


def _to_json(value: Any, where: str, budget: list[int], depth: int) -> JsonValue:
    budget[0] -= 1
    if budget[0] < 0:
        raise ContractError(
            f"{where or '/'}: the document holds more than {MAX_VALUES:,} values "
            "(YAML aliases expanded)"
        )
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, _dt.datetime):
        return rfc3339_text(value, utc=False)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        raise ContractError(
            f"{where or '/'}: nested more than {MAX_DEPTH} levels deep, or refers to itself "
            "(a recursive YAML alias)"
        )
    if isinstance(value, Mapping):
        out: dict[str, JsonValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                if isinstance(key, bool | int | float) or key is None:
                    # YAML turns `1:` or `yes:` into non-string keys; JSON has string keys only.
                    raise ContractError(
                        f"{where or '/'}: key of type {type(key).__name__} is not allowed; "
                        "quote it so that it is a string"
                    )
                raise ContractError(f"{where or '/'}: unsupported key type {type(key).__name__}")
            out[key] = _to_json(item, f"{where}/{pointer_escape(key)}", budget, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_to_json(item, f"{where}/{i}", budget, depth + 1) for i, item in enumerate(value)]
    raise ContractError(f"{where or '/'}: value of type {type(value).__name__} is not JSON data")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 (JCS) serialisation of ``value`` after :func:`to_json_model`."""
    return bytes(rfc8785.dumps(to_json_model(value)))


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_digest(value: Any) -> str:
    """``sha256:<hex>`` of the RFC 8785 canonical form of ``value``."""
    return sha256_digest(canonical_bytes(value))


def pointer_escape(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def resolve_fragment(document: Any, fragment: str) -> Any:
    """The value a URI fragment JSON Pointer (``#/$defs/code``, RFC 6901 §6) names in
    ``document``; :class:`LookupError` when it names nothing."""
    node = document
    for token in fragment.removeprefix("#").split("/")[1:]:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise LookupError(fragment) from None
    return node


def pointer(*tokens: str | int) -> str:
    """Build a JSON Pointer from tokens: ``pointer("a", 0) == "/a/0"``."""
    return "".join("/" + pointer_escape(str(t)) for t in tokens)
