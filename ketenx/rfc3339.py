"""RFC 3339 times: the one writer and the one reader of the times ketenx writes and reads.

Written: the predicate's and the metadata's ``created`` (UTC, ``Z``), the ``# created:``
comment of an age identity (local time with its offset, as ``age-keygen`` writes), a YAML
timestamp in canonical JSON. Read: the signed ``created`` of a statement and
``--not-before``. :func:`parse` takes only RFC 3339 text (section 5.6, with its note that
``T`` may be a space and ``T``/``Z`` lower case); Python's ``fromisoformat`` alone would
also take ISO 8601 forms RFC 3339 does not have (``20261127T101112``, week dates, offsets
with seconds). A leap second (``23:59:60``) is refused: Python has no such time.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Final, Literal

Timespec = Literal["auto", "seconds"]

_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def text(when: _dt.datetime, *, utc: bool = True, timespec: Timespec = "auto") -> str:
    """``when`` as RFC 3339 text: converted to UTC first unless ``utc`` is false (then in
    the offset it has); ``Z`` for a zero offset; ``timespec="seconds"`` drops fractions."""
    if utc:
        when = when.astimezone(_dt.UTC)
    return when.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse(value: str, *, date: bool = False) -> _dt.datetime:
    """An RFC 3339 date-time (``date``: or a full-date, read as its midnight, naive) as a
    :class:`datetime.datetime`; naive when the text has no offset (the caller decides what
    that means). ``ValueError`` for any other text, with no part of it in the message."""
    if _TIME.fullmatch(value) is None and not (date and _DATE.fullmatch(value)):
        raise ValueError("not an RFC 3339 time")
    normal = value[:10] + value[10:].upper().replace(" ", "T", 1).replace("Z", "+00:00")
    try:
        return _dt.datetime.fromisoformat(normal)
    except ValueError:
        raise ValueError("not an RFC 3339 time") from None


__all__ = ["parse", "text"]
