"""The text that is keyed for a value: the normalisations of the kx1 recipe
(docs/spec/pseudonyms.md §5), applied before a value is pseudonymised or encrypted, and by
the checker to check a keyed value in the form that is keyed. Pure functions of the value."""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

NORMALISATIONS = ("none", "bsn", "email", "text", "postcode")


def is_structure(value: Any) -> bool:
    """Whether ``value`` is a JSON object or array, which is never keyed: its JSON text
    would depend on member order and spacing (docs/spec/pseudonyms.md §5)."""
    return isinstance(value, dict | list)


def normalise(value: Any, how: str) -> str:
    """The text that is keyed for ``value`` (docs/spec/pseudonyms.md §5).

    A non-string JSON scalar (number, boolean) is first written as its JSON text; an object
    or array is refused with :class:`ValueError` (the pipeline refuses its record first).
    """
    if is_structure(value):
        raise ValueError("an object or array is not keyed")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if how == "bsn":
        text = text.strip()
        if len(text) < 9 and text.isascii() and text.isdigit():
            text = text.zfill(9)
        return text
    if how == "email":
        return text.strip().lower()
    if how == "postcode":
        return _postcode(text)
    if how == "text":
        return unicodedata.normalize("NFC", text).strip()
    if how == "none":
        return text
    raise ValueError(f"unknown normalisation {how!r}")


def _postcode(text: str) -> str:
    """Remove white space and ``-``, upper-case, drop a leading ``NL`` before a digit: the
    forms python-stdnum's ``nl.postcode`` accepts (``1234 ab``, ``1234-AB``, ``NL-1234 AB``)
    become one (``1234AB``)."""
    compact = "".join(text.split()).replace("-", "").upper()
    if compact.startswith("NL") and compact[2:3].isascii() and compact[2:3].isdigit():
        compact = compact[2:]
    return compact


def normalise_many(values: Sequence[Any], how: str) -> list[str]:
    """:func:`normalise` over a column, with C-level passes when every value is a string."""
    if how not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {how!r}")
    if not set(map(type, values)) <= {str}:
        return [normalise(v, how) for v in values]
    if how == "none":
        return list(values)
    if how == "bsn":
        joined = "".join(values)
        if set(map(len, values)) <= {9} and joined.isascii() and joined.isdigit():
            return list(values)  # nine ASCII digits each: nothing to strip or pad
        return [normalise(v, how) for v in values]
    if how == "email":
        return list(map(str.lower, map(str.strip, values)))
    if how == "postcode":
        return list(map(_postcode, values))
    nfc = functools.partial(unicodedata.normalize, "NFC")
    return list(map(str.strip, map(nfc, values)))


def normalise_texts(values: Sequence[Any], how: str) -> Sequence[Any]:
    """:func:`normalise` applied to the strings of a column; other values (numbers, null,
    absent) are left as they are. Used to check a keyed value in the form that is keyed."""
    if how == "none":
        return values
    if set(map(type, values)) <= {str}:
        return normalise_many(values, how)
    return [normalise(v, how) if type(v) is str else v for v in values]


def default_normalisation(
    property_schema: Mapping[str, Any], treatment: str = "pseudonymise"
) -> str:
    """The normalisation when the contract names none (docs/spec/pseudonyms.md §5).

    ``encrypt`` → ``none``: re-identification gives back exactly the value that was sent
    (surrounding spaces, letter case and the Unicode form included). ``pseudonymise`` → by
    the property's ``format``: ``nl-bsn`` → ``bsn``, ``email`` → ``email``,
    ``nl-postcode`` → ``postcode``; anything else → ``text``."""
    if treatment == "encrypt":
        return "none"
    formats = {"nl-bsn": "bsn", "email": "email", "nl-postcode": "postcode"}
    return formats.get(str(property_schema.get("format", "")), "text")
