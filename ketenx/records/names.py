"""Names from the data — CSV header cells, keys of JSON records — and when a report may
quote one (docs/check.md, "Names from the data"): :func:`safe_name` decides, and
:func:`name_token` gives a name or its position (``<column 4>``). Every message that names a
field read from the data goes through here."""

from __future__ import annotations

import re
from collections.abc import Container

from .formats import is_iban

MAX_NAME_LENGTH = 64
_NAME_SHAPE = re.compile(r"[a-z_][A-Za-z0-9_-]*")
_LONG_DIGIT_RUN = re.compile(r"[0-9]{6}|(?:[0-9][^0-9]*){6}")  # six digits, apart or not
_DATE_PARTS = re.compile(r"[0-9]{1,4}[-_][0-9]{1,2}[-_][0-9]{1,4}")
_POSTCODE_PART = re.compile(r"(?<![0-9])[1-9][0-9]{3}[-_]?[A-Za-z]{2}(?![A-Za-z])")


def safe_name(name: str) -> bool:
    """Whether a field name read from the data (a CSV header cell, a key of a JSON record)
    may be quoted in a report: it cannot be personal data (docs/check.md, "Names from the
    data").

    A safe name is 1 to ``MAX_NAME_LENGTH`` ASCII characters, letters, digits, ``_`` and
    ``-``, starting with a lower-case letter or ``_`` (so no space, ``@``, ``+``, dot,
    control or non-ASCII character, and no capitalised word such as a surname), holds fewer
    than six digits in all, together or apart (no BSN, OIN, phone or account number, compact
    date, also when split: ``bsn11122_2333``, ``tel06_1234_5678``), no date
    (``2015-01-31``, ``1_2_2015``) or postcode (``_1234ab``), and is no IBAN. Anything else
    is withheld and reported by its position (:func:`name_token`).
    """
    return (
        len(name) <= MAX_NAME_LENGTH
        and _NAME_SHAPE.fullmatch(name) is not None
        and _LONG_DIGIT_RUN.search(name) is None
        and _DATE_PARTS.search(name) is None
        and _POSTCODE_PART.search(name) is None
        and not is_iban(name.upper())
    )


def name_token(name: str, position: int, *, kind: str = "key", known: Container[str] = ()) -> str:
    """A JSON Pointer token for a name from the data: the name itself when the contract
    names it (``known``) or it is :func:`safe_name`, else its 1-based ``position`` among the
    columns or keys (``<column 4>``, ``<key 2>``). ``<`` never occurs in a safe name, so a
    placeholder cannot be mistaken for a name."""
    if name in known or safe_name(name):
        return name
    return f"<{kind} {position}>"
