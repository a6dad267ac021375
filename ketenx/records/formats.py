"""ketenx's own format registry.

These formats are checked in every contract schema, by ketenx itself, so that which values
are valid never depends on the validation engine. Each check takes one value and returns
``True`` when it is acceptable. As in JSON Schema, a format constrains strings only: any
non-string value passes (the ``type`` keyword decides about those).

The rules are specified in ``docs/formats.md``. Where python-stdnum has the rule (postcode,
IBAN) it is the reference; the BSN rule is stricter than stdnum's (exactly nine digits, no
separators, no zero-padding) and is implemented here with a table-driven 11-proef that is
differential-tested against stdnum.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stdnum import iban as _stdnum_iban
from stdnum.nl import postcode as _stdnum_postcode

FormatCheck = Callable[[Any], bool]

# --- nl-bsn -------------------------------------------------------------------------------
# 11-proef: sum(d_i * w_i) with weights 9,8,7,6,5,4,3,2,-1 must be divisible by 11.
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# Weighted sums of each group of three digits, so that the check is three dictionary look-ups
# instead of nine multiplications in Python (3 × 1,000 entries: cheap to build at import).
_BSN_PARTS: tuple[dict[str, int], ...] = tuple(
    {
        f"{n:03d}": sum(int(c) * w for c, w in zip(f"{n:03d}", weights, strict=True))
        for n in range(1000)
    }
    for weights in (_BSN_WEIGHTS[0:3], _BSN_WEIGHTS[3:6], _BSN_WEIGHTS[6:9])
)
_P0, _P1, _P2 = _BSN_PARTS


def is_bsn(value: Any) -> bool:
    """Exactly nine ASCII digits, passing the 11-proef, and not ``000000000``."""
    if not isinstance(value, str):
        return True
    # isascii() + isdigit() is ``[0-9]+`` and faster than a regular expression.
    if len(value) != 9 or not value.isascii() or not value.isdigit() or value == "000000000":
        return False
    return (_P0[value[:3]] + _P1[value[3:6]] + _P2[value[6:]]) % 11 == 0


# --- nl-postcode --------------------------------------------------------------------------
# The common written form is decided here; anything else is decided by python-stdnum, which
# also accepts lower case, a hyphen, extra spaces and an "NL" prefix.
_POSTCODE_FAST = re.compile(r"[1-9][0-9]{3} ?(?!SA|SD|SS)[A-Z]{2}")


def is_postcode(value: Any) -> bool:
    """A Dutch postcode as python-stdnum's ``nl.postcode`` accepts it."""
    if not isinstance(value, str):
        return True
    if _POSTCODE_FAST.fullmatch(value) is not None:
        return True
    return bool(_stdnum_postcode.is_valid(value))


# --- oin ----------------------------------------------------------------------------------
# 20 positions: an 8-digit prefix 000000NN with NN from the OIN-Stelsel table, a main number of
# 8 or 9 positions (digits or capitals), and the suffix 0000 or 000. With an 8-position main
# number followed by 0000 the 17th position is a 0, so both shapes are one pattern.
OIN_PREFIXES: Mapping[str, str] = {
    "00000001": "RSIN",
    "00000002": "Fi-nummer",
    "00000003": "KvK-nummer",
    "00000004": "SubOIN",
    "00000006": "OIN uitgegeven door Logius",
    "00000007": "BRIN",
    "00000008": "buitenlandse organisatie",
    "00000009": "Dezi",
    "00000010": "TRR",
    "00000011": "Dezi",
    "00000099": "test-OIN",
}
_OIN_RE = re.compile(r"(?P<prefix>[0-9]{8})[0-9A-Z]{9}000")


def oin_problem(value: str) -> str | None:
    """Why ``value`` is not an OIN, or ``None`` when it is one. Never quotes the value."""
    if len(value) != 20:
        return "an OIN has exactly 20 characters"
    match = _OIN_RE.fullmatch(value)
    if match is None:
        return (
            "an OIN is an 8-digit prefix, a main number of 8 or 9 digits or capitals, "
            "and the suffix 000 or 0000"
        )
    if match["prefix"] not in OIN_PREFIXES:
        return "the OIN prefix is not one of the prefixes of the OIN-Stelsel"
    return None


def is_oin(value: Any) -> bool:
    """An organisation identification number (OIN-Stelsel)."""
    if not isinstance(value, str):
        return True
    return oin_problem(value) is None


def is_test_oin(value: str) -> bool:
    """An OIN with the test prefix ``00000099``."""
    return value.startswith("00000099")


# --- iban ---------------------------------------------------------------------------------
def is_iban(value: Any) -> bool:
    """An IBAN as python-stdnum accepts it (country format and the mod-97 check)."""
    if not isinstance(value, str):
        return True
    return bool(_stdnum_iban.is_valid(value))


# --- date and date-time (RFC 3339) --------------------------------------------------------
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))"
)


def _real_date(text: str) -> bool:
    try:
        _dt.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def is_date(value: Any) -> bool:
    """RFC 3339 full-date ``YYYY-MM-DD`` naming a real calendar day."""
    if not isinstance(value, str):
        return True
    return _DATE_RE.fullmatch(value) is not None and _real_date(value)


_LAST_MINUTE_OF_DAY = 23 * 60 + 59


def is_datetime(value: Any) -> bool:
    """RFC 3339 date-time with a time zone (``Z`` or an offset); a leap second (``:60``) only
    in the last minute of a UTC day (23:59 UTC, whatever the offset it is written in)."""
    if not isinstance(value, str):
        return True
    match = _DATETIME_RE.fullmatch(value)
    if match is None or not _real_date(match["date"]):
        return False
    h, m, s = int(match["h"]), int(match["m"]), int(match["s"])
    if h > 23 or m > 59 or s > 60:
        return False
    offset = 0
    if match["oh"] is not None:
        oh, om = int(match["oh"]), int(match["om"])
        if oh > 23 or om > 59:
            return False
        offset = (oh * 60 + om) * (-1 if value[-6] == "-" else 1)
    return s < 60 or (h * 60 + m - offset) % 1440 == _LAST_MINUTE_OF_DAY


# --- email --------------------------------------------------------------------------------
# Domain: at least two non-empty labels separated by dots, no white space or second "@".
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def is_email(value: Any) -> bool:
    """One ``@``, a non-empty local part without white space, and a domain of at least two
    non-empty labels separated by dots (so at least one dot, none leading or trailing)."""
    if not isinstance(value, str):
        return True
    return _EMAIL_RE.fullmatch(value) is not None


FORMATS: Mapping[str, FormatCheck] = {
    "nl-bsn": is_bsn,
    "nl-postcode": is_postcode,
    "oin": is_oin,
    "iban": is_iban,
    "date": is_date,
    "date-time": is_datetime,
    "email": is_email,
}
"""Every format ketenx checks, by name. Other ``format`` values are annotations only."""


# --- bulk screens ---------------------------------------------------------------------------
# The hot path checks whole columns of strings at once. A screen returns True only when every
# value passes; when it returns False, the per-value check above finds which values fail.
# Each screen must agree exactly with its per-value check (tests/unit/test_formats.py).

ColumnScreen = Callable[[Sequence[str]], bool]

# The 11-proef over a whole column at once: digit p of every value is one byte lane; each lane
# is translated to (weight_p * digit) mod 11 (at most 10), and the nine lanes are added as big
# integers. Nine terms of at most 10 never carry out of a byte, so byte j of the sum is the
# weighted digit sum (mod-11 terms) of value j.
_BSN_LANE_TABLES = [
    bytes.maketrans(b"0123456789", bytes((w * d) % 11 for d in range(10))) for w in _BSN_WEIGHTS
]
_MOD11_NONZERO = bytes(0 if v % 11 == 0 else 1 for v in range(256))


def _bsn_screen(values: Sequence[str]) -> bool:
    n = len(values)
    if n == 0:
        return True
    if set(map(len, values)) != {9} or "000000000" in values:
        return False
    joined = "".join(values)
    if not (joined.isascii() and joined.isdigit()):
        return False
    raw = joined.encode("ascii")
    total = 0
    for p, table in enumerate(_BSN_LANE_TABLES):
        total += int.from_bytes(raw[p::9].translate(table), "little")
    lanes = total.to_bytes(n, "little")
    return b"\x01" not in lanes.translate(_MOD11_NONZERO)


def _lines_screen(line: str) -> ColumnScreen:
    """One regular expression over the whole column joined by newlines: one call instead of
    one per value. ``line`` never matches a newline (its patterns exclude white space), so
    each line must match it in full."""
    one = re.compile(line)
    rx = re.compile(f"(?:(?:{line})\\n)*")

    def screen(values: Sequence[str]) -> bool:
        if not values:
            return True
        joined = "\n".join(values)
        if joined.count("\n") != len(values) - 1:  # a value holds a newline itself
            return all(map(one.fullmatch, values))
        return rx.fullmatch(joined + "\n") is not None

    return screen


_postcode_lines = _lines_screen(_POSTCODE_FAST.pattern)


def _postcode_screen(values: Sequence[str]) -> bool:
    return _postcode_lines(values) or all(map(is_postcode, values))


def _regex_screen(rx: re.Pattern[str]) -> ColumnScreen:
    return lambda values: all(map(rx.fullmatch, values))


def _each(check: FormatCheck) -> ColumnScreen:
    return lambda values: all(map(check, values))


SCREENS: Mapping[str, ColumnScreen] = {
    "nl-bsn": _bsn_screen,
    "nl-postcode": _postcode_screen,
    "oin": _each(is_oin),
    "iban": _each(is_iban),
    "date": _each(is_date),
    "date-time": _each(is_datetime),
    "email": _regex_screen(_EMAIL_RE),
}
"""A bulk check per format over a column of strings (see above)."""


def _bsn_failures(values: Sequence[str]) -> list[int]:
    """Indexes of the values that are not valid BSNs, lane-wise like :func:`_bsn_screen`."""
    n = len(values)
    joined = "".join(values)
    if n == 0 or set(map(len, values)) != {9} or not (joined.isascii() and joined.isdigit()):
        return [i for i, v in enumerate(values) if not is_bsn(v)]
    raw = joined.encode("ascii")
    total = 0
    for p, table in enumerate(_BSN_LANE_TABLES):
        total += int.from_bytes(raw[p::9].translate(table), "little")
    flags = bytearray(total.to_bytes(n, "little").translate(_MOD11_NONZERO))
    if "000000000" in values:
        for i, v in enumerate(values):
            if v == "000000000":
                flags[i] = 1
    return list(itertools.compress(range(n), flags))


FAILURES: Mapping[str, Callable[[Sequence[str]], list[int]]] = {"nl-bsn": _bsn_failures}
"""Formats with a bulk way to find which values of a column of strings fail."""


LOW_CARDINALITY: frozenset[str] = frozenset({"date", "date-time"})
"""Formats whose values repeat a lot: the hot path screens each distinct value once."""
